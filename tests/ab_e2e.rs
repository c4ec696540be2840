//! `el-jefe ab` and `el-jefe compare` on the real binary: a goal planned once by side A (the
//! embedded model) runs on both A and a real OpenAI-compatible server (llama-cpp-python's) as
//! side B; both complete, B makes no planner call of its own, and `compare` prints both columns.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use el_jefe::session::event::Event;
use el_jefe::session::ids::SessionId;
use el_jefe::store::Store;
use support::cli::{FIXED_THREE_STEPS, Home, stderr, stdout};
use support::model;
use support::openai_server::{MODEL_ALIAS, OpenAiServer};

/// The step of each model call in a saved session (None for the planner), and its provider.
fn calls(home: &Home, session: &str) -> Vec<(Option<String>, String)> {
    let store = Store::open(&home.data().join("sessions")).unwrap();
    store
        .events(&SessionId::parse(session).unwrap())
        .unwrap()
        .into_iter()
        .filter_map(|env| match env.event {
            Event::CallFinished { step, call, .. } => {
                Some((step.map(|s| s.to_string()), call.provider))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn ab_runs_one_plan_on_two_providers_and_compare_shows_both() {
    let _turn = model::exclusive_blocking();
    let srv = OpenAiServer::start();
    let home = Home::new(&format!(
        "{FIXED_THREE_STEPS}\n[providers.srv]\nkind = \"openai\"\nbase_url = \"{}\"\n\
         model = \"{MODEL_ALIAS}\"\nmax_concurrent = 1\n",
        srv.url
    ));

    let ab = home.run(&[
        "ab",
        "A note on tides",
        "--a",
        "local",
        "--b",
        "srv",
        "--json",
    ]);
    assert!(ab.status.success(), "{}", stderr(&ab));
    let progress = stderr(&ab);
    let comparison: serde_json::Value = serde_json::from_str(&stdout(&ab)).unwrap();
    let side = |name: &str| comparison[name]["session"].as_str().unwrap().to_string();
    let (a, b) = (side("a"), side("b"));
    assert_ne!(a, b);
    for name in ["a", "b"] {
        assert_eq!(
            comparison[name]["totals"]["status"], "completed",
            "{comparison}"
        );
    }
    assert!(
        comparison["b"]["ran_on"]
            .as_str()
            .unwrap()
            .starts_with("srv ("),
        "{comparison}"
    );
    let steps = comparison["steps"].as_array().unwrap();
    let planned = format!("A plan: {} steps", steps.len());
    assert!(
        progress.contains(&planned),
        "the same steps on both sides: {progress}"
    );
    for step in steps {
        assert!(step["a"]["output_tokens"].as_u64().unwrap() > 0, "{step}");
        assert!(step["b"]["output_tokens"].as_u64().unwrap() > 0, "{step}");
    }

    // Planned once: A's planner call, and none on B; every step's call on its own side.
    let a_calls = calls(&home, &a);
    let b_calls = calls(&home, &b);
    assert_eq!(a_calls[0], (None, "local".to_string()), "{a_calls:?}");
    assert!(
        b_calls.iter().all(|(step, _)| step.is_some()),
        "{b_calls:?}"
    );
    assert_eq!(b_calls.len(), steps.len(), "{b_calls:?}");
    assert!(b_calls.iter().all(|(_, p)| p == "srv"), "{b_calls:?}");
    assert!(
        a_calls[1..].iter().all(|(_, p)| p == "local"),
        "{a_calls:?}"
    );

    let compared = home.run(&["compare", &a, &b]);
    assert!(compared.status.success(), "{}", stderr(&compared));
    let text = stdout(&compared);
    assert!(text.starts_with(&format!("A  {a}  local (")), "{text}");
    assert!(text.contains(&format!("\nB  {b}  srv (")), "{text}");
    for step in steps {
        let step = step["id"].as_str().unwrap();
        let row_a = text.lines().find(|l| l.starts_with(&format!("{step:<5} ")));
        assert!(row_a.is_some_and(|l| l.contains(" A  ")), "{text}");
    }
    assert_eq!(
        // A word diff, the same text, or both texts when they share too little to diff.
        [
            "diff: ",
            "different: A \"",
            "(same text)",
            "(no output in either)"
        ]
        .iter()
        .map(|kind| text.matches(&format!("\n      {kind}")).count())
        .sum::<usize>(),
        steps.len(),
        "a diff line per step: {text}"
    );
    assert!(text.contains("\nVerdict\n  tokens: "), "{text}");

    let unknown = home.run(&["compare", &a, "session_20260101_000000_0000abcd"]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("session_20260101_000000_0000abcd"),
        "{}",
        stderr(&unknown)
    );
}
