//! The real binary on the real model, end to end: a full run, kill -9 then resume, Ctrl-C, and
//! bad input.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use support::cli::{FIXED_THREE_STEPS, Home, event_type, read_json_lines, stderr, stdout};
use support::model;

#[test]
fn a_run_prints_the_whole_story_and_exits_0() {
    let _turn = model::exclusive_blocking();
    let home = Home::new(
        "[agents.researcher]\nmax_tokens = 40\n[agents.analyst]\nmax_tokens = 40\n[agents.writer]\nmax_tokens = 40\n",
    );
    let out = home.run(&["run", "Write a haiku about the sea"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    for needle in [
        "Workflow Started",
        "Session:   session_",
        "Workspace: ",
        "Planned ",
        "▶ Step 1/",
        " done: ",
        "Workflow Completed",
        "avg response",
        "Outputs in ",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn kill_9_mid_run_keeps_completed_steps_and_resume_finishes_without_redoing_them() {
    let _turn = model::exclusive_blocking();
    let home = Home::new(FIXED_THREE_STEPS);
    let mut run = home.spawn_json(&["run", "--json", "Explain how tides work"]);
    let first_done = run
        .until(|v| event_type(v) == "step_completed")
        .expect("a step completes");
    let session = first_done["session"].as_str().unwrap().to_string();
    let done_step = first_done["event"]["step"].as_str().unwrap().to_string();
    run.child.kill().unwrap(); // SIGKILL: no chance to clean up.
    let (status, _, _) = run.finish();
    assert!(!status.success());

    let listed = read_json_lines(&stdout(&home.run(&["sessions", "--json"])));
    let entry = listed
        .iter()
        .find(|s| s["id"] == session)
        .expect("session listed");
    assert_eq!(entry["status"], "interrupted", "{entry}");

    let shown: serde_json::Value =
        serde_json::from_str(&stdout(&home.run(&["show", &session, "--json"]))).unwrap();
    let kept = shown["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == done_step.as_str())
        .unwrap()
        .clone();
    assert_eq!(kept["status"], "completed");
    let output = kept["output"].as_str().unwrap();
    assert!(!output.is_empty());
    let file = kept["output_file"].as_str().expect("output file recorded");
    assert_eq!(std::fs::read_to_string(file).unwrap(), output);

    let resumed = home.run(&["resume", &session, "--json"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let events = read_json_lines(&stdout(&resumed));
    let restarted: Vec<&str> = events
        .iter()
        .filter(|e| event_type(e) == "step_started")
        .map(|e| e["event"]["step"].as_str().unwrap())
        .collect();
    assert!(
        !restarted.contains(&done_step.as_str()),
        "{done_step} ran again: {restarted:?}"
    );
    assert!(!restarted.is_empty());
    assert_eq!(event_type(events.last().unwrap()), "session_completed");

    let shown: serde_json::Value =
        serde_json::from_str(&stdout(&home.run(&["show", &session, "--json"]))).unwrap();
    assert_eq!(shown["status"], "completed");
    let still = shown["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == done_step.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        still["output"], kept["output"],
        "the completed step kept its output"
    );
    assert_eq!(still["attempt"], 1);
}

#[test]
fn ctrl_c_interrupts_gracefully_says_how_to_resume_and_exits_130() {
    let _turn = model::exclusive_blocking();
    let home = Home::new(FIXED_THREE_STEPS);
    let mut run = home.spawn_json(&["run", "--json", "Describe the water cycle"]);
    run.until(|v| event_type(v) == "text_delta")
        .expect("text streams");
    let pid = run.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let (status, events, _) = run.finish();
    assert_eq!(status.code(), Some(130));
    let types: Vec<&str> = events.iter().map(event_type).collect();
    assert!(types.contains(&"session_interrupted"), "{types:?}");
    let hint = events
        .iter()
        .find(|e| e["type"] == "hint")
        .expect("resume hint");
    assert!(
        hint["message"]
            .as_str()
            .unwrap()
            .contains("el-jefe resume session_")
    );
}

#[test]
fn bad_input_gets_clear_messages_and_no_panic() {
    let home = Home::new("max_parallel = 3\nmax_paralel = 4\n");
    let out = home.run(&["sessions"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("config.toml") && err.contains("line 2") && err.contains("max_paralel"),
        "{err}"
    );

    let home = Home::new("");
    let out = home.run(&["show", "not-a-session"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a session id"));
    let out = home.run(&["show", "session_20200101_000000_deadbeef"]);
    assert!(stderr(&out).contains("no session session_20200101_000000_deadbeef"));
    let out = home.run(&["resume", "session_20200101_000000_deadbeef"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no session"), "{}", stderr(&out));

    let out = home
        .command(&["run", "goal"])
        .env(
            "EL_JEFE_MODEL",
            home.dir.path().join("SmolLM2-135M-Instruct.Q4_1.gguf"),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("missing") && err.contains("scripts/setup.sh"),
        "{err}"
    );
    assert!(!err.contains("panicked"));

    let out = home.run(&["sessions"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("No sessions yet"));
}
