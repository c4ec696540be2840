//! Plan files and plan edits with the real binary on the real model: run a hand-written plan,
//! edit a completed step from the command line, resume, and read in the journal that only the
//! stale steps ran again.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use el_jefe::session::ids::SessionId;
use el_jefe::session::plan_file::parse_plan_file;
use el_jefe::store::paths::journal_path;
use support::cli::{Home, read_json_lines, stderr, stdout};
use support::model;

const SHORT_ANSWERS: &str = r#"
[agents.researcher]
max_tokens = 24
tools = []
[agents.analyst]
max_tokens = 24
tools = []
[agents.writer]
max_tokens = 24
tools = []
"#;

const PLAN: &str = r#"
goal = "A short guide to composting at home"

[[steps]]
id = "1"
agent = "researcher"
task = "List what can and cannot go into a home compost bin"

[[steps]]
id = "2"
agent = "analyst"
task = "Explain the balance of green and brown materials"
depends_on = ["1"]

[[steps]]
id = "3"
agent = "writer"
task = "Write a one-paragraph guide for beginners"
depends_on = ["2"]

[[steps]]
id = "4"
agent = "researcher"
task = "Name common composting mistakes"
"#;

/// Steps started in the journal after its first `plan_edited` event, as "id#attempt".
fn started_after_the_edit(journal: &str) -> Vec<String> {
    let events = read_json_lines(journal);
    let edit = events
        .iter()
        .position(|e| e["event"]["type"] == "plan_edited")
        .expect("the edit is in the journal");
    events[edit..]
        .iter()
        .filter(|e| e["event"]["type"] == "step_started")
        .map(|e| {
            format!(
                "{}#{}",
                e["event"]["step"].as_str().unwrap(),
                e["event"]["attempt"]
            )
        })
        .collect()
}

#[test]
fn a_plan_file_runs_an_edited_step_reruns_with_only_its_downstream() {
    let _turn = model::exclusive_blocking();
    let home = Home::new(SHORT_ANSWERS);
    let plan_file = home.dir.path().join("plan.toml");
    std::fs::write(&plan_file, PLAN).unwrap();

    let out = home.run(&["run", "--json", "--plan", plan_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let events = read_json_lines(&stdout(&out));
    assert!(
        events
            .iter()
            .all(|e| e["event"]["type"] != "planning_started"),
        "a plan file is run without planning"
    );
    let id = events[0]["session"].as_str().unwrap().to_string();
    let journal = journal_path(
        &home.data().join("sessions"),
        &SessionId::parse(&id).unwrap(),
    );

    // A dry run tells what would run again and changes nothing.
    let new_task = "Explain why carbon and nitrogen must be balanced";
    let out = home.run(&["step", "edit", &id, "2", new_task, "--dry-run"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("Steps that run again (2):"), "{text}");
    assert!(text.contains("Nothing was changed"), "{text}");
    assert!(
        !std::fs::read_to_string(&journal)
            .unwrap()
            .contains("plan_edited")
    );

    // Removing a step others need is refused until told what becomes of them.
    let out = home.run(&["step", "remove", &id, "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("steps 2 depend on step 1"),
        "{}",
        stderr(&out)
    );

    let out = home.run(&["step", "edit", &id, "2", new_task]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("el-jefe resume "), "{text}");
    let sessions = stdout(&home.run(&["sessions"]));
    assert!(sessions.contains("edited"), "{sessions}");

    let out = home.run(&["resume", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let journal_text = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(
        started_after_the_edit(&journal_text),
        ["2#2", "3#2"],
        "only the edited step and its downstream ran again"
    );

    // The edited plan saves to a file that reads back as the same plan.
    let saved = home.dir.path().join("saved.toml");
    let out = home.run(&["save-plan", &id, saved.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let file = parse_plan_file(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(
        file.goal.as_deref(),
        Some("A short guide to composting at home")
    );
    assert_eq!(file.plan.steps[1].task, new_task);
    assert_eq!(file.plan.steps.len(), 4);
}

#[test]
fn bad_plan_files_and_bad_edits_get_clear_messages() {
    let home = Home::new(SHORT_ANSWERS);
    let bad = home.dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "goal = \"g\"\n[[steps]]\nid = \"1\"\nrole = \"writer\"\n",
    )
    .unwrap();
    let out = home.run(&["run", "--plan", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad.toml: line 4: unknown field `role`"),
        "{}",
        stderr(&out)
    );

    let out = home.run(&["run", "--plan", "/nonexistent/plan.toml"]);
    assert!(
        stderr(&out).contains("cannot read the plan file /nonexistent/plan.toml"),
        "{}",
        stderr(&out)
    );

    let out = home.run(&[
        "step",
        "edit",
        "session_20260101_000000_00000000",
        "1",
        "poet",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`poet` is not an agent role"),
        "{}",
        stderr(&out)
    );
    let out = home.run(&[
        "step",
        "edit",
        "session_20260101_000000_00000000",
        "1",
        "a new task",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no session session_20260101_000000_00000000"),
        "{}",
        stderr(&out)
    );
}
