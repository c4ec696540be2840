//! `el-jefe fork` on the real binary and the embedded model: a finished three-step session
//! forked at step 2 runs steps 2 and 3 again and nothing before them (no model call for the
//! inherited step), and `show` and `sessions` show the family.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use support::cli::{FIXED_THREE_STEPS, Home, event_type, read_json_lines, stderr, stdout};
use support::model;

const THREE_STEPS: &str = r#"
goal = "A note on tides"

[[steps]]
id = "1"
agent = "researcher"
task = "Name one fact about tides."

[[steps]]
id = "2"
agent = "analyst"
task = "Say why that fact matters."
depends_on = ["1"]

[[steps]]
id = "3"
agent = "writer"
task = "Write one sentence from it."
depends_on = ["2"]
"#;

/// The steps each call of a `--json` run was for (None for the planner).
fn calls(events: &[serde_json::Value]) -> Vec<Option<String>> {
    events
        .iter()
        .filter(|v| event_type(v) == "call_finished")
        .map(|v| v["event"]["step"].as_str().map(String::from))
        .collect()
}

#[test]
fn a_fork_at_step_2_runs_only_what_follows_and_the_family_shows() {
    let _turn = model::exclusive_blocking();
    let home = Home::new(FIXED_THREE_STEPS);
    let plan = home.dir.path().join("three.toml");
    std::fs::write(&plan, THREE_STEPS).unwrap();

    let parent_run = home.run(&["run", "--json", "--plan", plan.to_str().unwrap()]);
    assert!(parent_run.status.success(), "{}", stderr(&parent_run));
    let parent_events = read_json_lines(&stdout(&parent_run));
    let parent = parent_events[0]["session"].as_str().unwrap().to_string();
    assert_eq!(calls(&parent_events).len(), 3);

    let fork_run = home.run(&["fork", &parent, "--at-step", "2", "--json"]);
    assert!(fork_run.status.success(), "{}", stderr(&fork_run));
    let fork_events = read_json_lines(&stdout(&fork_run));
    let fork = fork_events[0]["session"].as_str().unwrap().to_string();
    assert_ne!(fork, parent);
    assert_eq!(
        calls(&fork_events),
        [Some("2".to_string()), Some("3".to_string())],
        "step 1 is inherited, not called again"
    );
    let inherited = fork_events
        .iter()
        .find(|v| event_type(v) == "inherited")
        .expect("the fork's head");
    assert_eq!(inherited["event"]["parent"], parent.as_str());
    let copied = inherited["event"]["events"].as_array().unwrap();
    assert!(
        copied
            .iter()
            .any(|e| e["event"]["type"] == "step_completed" && e["event"]["step"] == "1")
    );
    assert!(
        !copied
            .iter()
            .any(|e| e["event"]["step"] == "2" || e["event"]["step"] == "3"),
        "nothing of the steps that run again"
    );
    assert!(
        fork_events
            .iter()
            .any(|v| event_type(v) == "session_completed")
    );

    let shown = stdout(&home.run(&["show", &fork]));
    assert!(
        shown.contains(&format!("Forked    from {parent} after its event")),
        "{shown}"
    );
    assert!(
        shown.contains("[completed, inherited] researcher"),
        "{shown}"
    );
    assert!(
        shown.contains("of which inherited (done in the parent, not here)"),
        "{shown}"
    );
    let listed = stdout(&home.run(&["sessions"]));
    assert!(listed.contains(&format!("(fork of {parent})")), "{listed}");
}
