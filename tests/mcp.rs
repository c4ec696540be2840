//! A real MCP server from PyPI (the reference `mcp-server-time`, installed by
//! scripts/test-mcp-server.sh): started from `mcpServers` config, its tools listed by
//! `el-jefe tools`, and called by an agent through the engine. A server that cannot start is
//! reported beside it, and the rest works.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use el_jefe::provider::{ChatRole, ToolCall};
use el_jefe::session::event::{Event, ToolStatus};
use el_jefe::session::ids::StepId;
use el_jefe::session::plan::{Plan, StepSpec};
use el_jefe::tools::mcp::{McpHub, McpServerConfig, ServerStatus};
use el_jefe::tools::{Policy, PolicyBook, ToolLimits, ToolRegistry};
use serde_json::json;
use support::cli::Home;
use support::harness::{Harness, settings};
use support::scripted::{Script, ScriptedProvider};

fn mcp_python() -> PathBuf {
    let python = match std::env::var_os("EL_JEFE_TEST_MCP_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap()).join(".local/share")
            })
            .join("el-jefe/test-mcp-venv/bin/python"),
    };
    assert!(
        python.exists(),
        "the test MCP server is not installed ({} is missing): run scripts/test.sh, which \
         installs it with scripts/test-mcp-server.sh",
        python.display()
    );
    python
}

fn time_server() -> McpServerConfig {
    McpServerConfig {
        transport: None,
        command: Some(mcp_python().display().to_string()),
        args: vec![
            "-m".into(),
            "mcp_server_time".into(),
            "--local-timezone".into(),
            "UTC".into(),
        ],
        env: BTreeMap::new(),
        cwd: None,
    }
}

#[test]
fn el_jefe_tools_lists_built_in_and_mcp_tools_and_a_broken_server() {
    let home = Home::new("[tools.policy]\n\"mcp__time__*\" = \"allow\"\n");
    let python = mcp_python();
    std::fs::write(
        home.dir.path().join("config/mcp.json"),
        json!({"mcpServers": {"time": {
            "command": python, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]
        }}})
        .to_string(),
    )
    .unwrap();
    // The project's own file and agents, found from the current directory.
    let project = home.dir.path().join("project");
    std::fs::create_dir_all(project.join(".el-jefe/agents")).unwrap();
    std::fs::write(
        project.join(".mcp.json"),
        r#"{"mcpServers": {"broken": {"command": "/nonexistent/mcp-server"}}}"#,
    )
    .unwrap();
    std::fs::write(
        project.join(".el-jefe/agents/timekeeper.md"),
        "---\nname: timekeeper\ndescription: Answers questions about dates and times\n\
         tools: mcp__time__*, Read\nmodel: inherit\n---\nYou keep time.\n",
    )
    .unwrap();
    let out = home
        .command(&["tools"])
        .current_dir(&project)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = |tool: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{tool} ")))
            .unwrap_or_else(|| panic!("no {tool} in:\n{text}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        row("mcp__time__get_current_time"),
        "mcp__time__get_current_time mcp: time allow timekeeper"
    );
    assert!(row("mcp__time__convert_time").starts_with("mcp__time__convert_time mcp: time allow"));
    assert_eq!(row("run_command"), "run_command built-in ask analyst");
    assert!(
        row("read_file").ends_with("researcher, analyst, writer, timekeeper"),
        "{text}"
    );
    assert!(text.contains("  time: running, 2 tool(s)"), "{text}");
    assert!(
        text.contains("  broken: FAILED: could not start `/nonexistent/mcp-server`"),
        "{text}"
    );
}

/// A real server process: on the real clock.
#[tokio::test]
async fn an_agent_calls_a_tool_of_a_real_mcp_server() {
    let mut servers = BTreeMap::new();
    servers.insert("time".to_string(), time_server());
    let hub = Arc::new(McpHub::start(&servers).await);
    assert_eq!(
        hub.statuses()[0].1,
        ServerStatus::Running,
        "{:?}",
        hub.statuses()
    );

    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(&dir, 1);
    let mut policies = PolicyBook::default();
    policies.set_for_everyone("mcp__time__*", Policy::Allow);
    s.tools = Arc::new(ToolRegistry::new(policies, ToolLimits::default()).with_mcp(hub.clone()));
    s.roles.get_mut("researcher").unwrap().tools = Some(vec!["mcp__time__*".into()]);
    let provider = Arc::new(ScriptedProvider::new(|req| {
        match req.messages.iter().find(|m| m.role == ChatRole::Tool) {
            None => Script::calls(vec![ToolCall {
                id: "t1".into(),
                name: "mcp__time__get_current_time".into(),
                arguments: json!({"timezone": "Europe/Madrid"}),
            }]),
            Some(result) => Script::text(&format!("It is {}", result.content), 1, Duration::ZERO),
        }
    }));
    let mut h = Harness::start_with(dir, provider.clone(), s);
    let plan = Plan {
        steps: vec![StepSpec {
            id: StepId::new("1"),
            title: "What time is it".into(),
            agent: "researcher".into(),
            task: "Find the time in Madrid".into(),
            depends_on: vec![],
        }],
    };
    let id = h.handle.start_session_with_plan("time", plan).unwrap();
    let end = h.until_ended(&id).await;
    assert_eq!(end.event, Event::SessionCompleted, "{:?}", h.events_brief());

    let offered = &provider.step_requests()[0].tools;
    let spec = offered
        .iter()
        .find(|t| t.name == "mcp__time__get_current_time")
        .expect("the MCP tool is offered");
    assert_eq!(spec.parameters["type"], "object");
    let (status, content) = h
        .log
        .iter()
        .find_map(|e| match &e.event {
            Event::ToolCallFinished {
                status, content, ..
            } => Some((*status, content.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(status, ToolStatus::Ok, "{content}");
    assert!(content.contains("Europe/Madrid"), "{content}");
    assert!(content.contains("datetime"), "{content}");
    // The server's own refusal comes back as a tool error for the model.
    let bad = hub
        .call(
            "time",
            "get_current_time",
            &json!({"timezone": "Mars/Olympus"}),
            4096,
        )
        .await
        .unwrap_err();
    assert!(bad.message.contains("Mars/Olympus"), "{bad}");
    // A server that is gone is an error for the tool call, not for the session.
    hub.shutdown().await;
    let gone = hub
        .call(
            "time",
            "get_current_time",
            &json!({"timezone": "UTC"}),
            4096,
        )
        .await
        .unwrap_err();
    assert!(gone.message.contains("MCP server `time`"), "{gone}");
}
