//! `el-jefe stats` over a store of 200 generated sessions: the figures per role and provider,
//! the recommendations with their numbers, the period, and the summary index that makes the
//! second run cheap (and is made again for a journal that changed).

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use serde_json::Value;
use support::cli::{Home, stderr, stdout};
use support::histories::{session_id, write_store};

const SESSIONS: usize = 200;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn group<'a>(stats: &'a Value, key: &str) -> &'a Value {
    stats["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == key)
        .unwrap_or_else(|| panic!("no group {key} in {stats:#}"))
}

fn stats_json(home: &Home, args: &[&str]) -> (Value, String) {
    let mut all = vec!["stats", "--json"];
    all.extend_from_slice(args);
    let out = home.run(&all);
    assert!(out.status.success(), "{}", stderr(&out));
    (serde_json::from_str(&stdout(&out)).unwrap(), stderr(&out))
}

#[test]
fn stats_over_two_hundred_sessions() {
    let home = Home::new("");
    write_store(&home.data().join("sessions"), SESSIONS, now_ms(), 5);

    let (stats, err) = stats_json(&home, &["--by", "role"]);
    assert!(
        err.contains("summarized 200 of 200 sessions"),
        "the first run reads every journal: {err}"
    );
    assert_eq!(stats["sessions"]["sessions"], 200);
    assert_eq!(stats["sessions"]["budget_hits"], 4);
    // Four answered calls each, 20 analyst retries and 10 writer failovers.
    assert_eq!(stats["overall"]["calls"], 830);
    assert_eq!(stats["overall"]["answered_calls"], 800);
    let writer = group(&stats, "writer");
    assert_eq!(writer["calls"], 210);
    assert_eq!(writer["token_cap_hits"], 140);
    assert_eq!(writer["tokens_per_step"]["median"], 400.0);
    let f = writer["failover_rate"].as_f64().unwrap();
    assert!((f - 10.0 / 210.0).abs() < 1e-9, "{f}");
    let analyst = group(&stats, "analyst");
    assert_eq!(analyst["ttft_ms"]["median"], 1000.0);
    // 100 tokens in the 2 s after the first.
    assert_eq!(analyst["tokens_per_second"]["median"], 50.0);
    assert_eq!(group(&stats, "planner")["calls"], 200);

    let advice: Vec<(String, String)> = stats["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rule"].as_str().unwrap().to_string(),
                r["advice"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let said = |rule: &str| {
        advice
            .iter()
            .find(|(r, _)| r == rule)
            .map(|(_, a)| a.clone())
            .unwrap_or_else(|| panic!("no {rule} recommendation in {advice:?}"))
    };
    assert!(said("token_cap").contains("the writer hit its token cap in 140 of 200 sessions"));
    // 400 waits of 3 s against 390 answered calls of 3 s on srv.
    assert!(
        said("slot_wait")
            .contains("srv waited for a free slot 51 % of their time (400 waits, 1200 s")
    );
    assert!(said("speedup").contains("median of 200 sessions"));
    // 2.4 % failovers, 4.8 % retries, 2 % budget hits: under the thresholds, nothing said.
    for quiet in ["failover", "retries", "budget"] {
        assert!(!advice.iter().any(|(r, _)| r == quiet), "{advice:?}");
    }

    // By provider: the failed attempts count against the provider that failed.
    let (by_provider, err) = stats_json(&home, &["--by", "provider"]);
    assert!(
        !err.contains("summarized"),
        "the second run reads the index: {err}"
    );
    let srv = group(&by_provider, "srv");
    assert_eq!(srv["calls"], 420);
    assert!((srv["retry_rate"].as_f64().unwrap() - 20.0 / 420.0).abs() < 1e-9);
    assert_eq!(group(&by_provider, "local")["calls"], 410);

    // The last two days: sessions 0 to 47.
    let (recent, _) = stats_json(&home, &["--since", "2d"]);
    assert_eq!(recent["sessions"]["sessions"], 48);

    // A journal that grew has its summary made again; the others are read from the index.
    let journal = home
        .data()
        .join("sessions")
        .join(session_id(7).as_str())
        .join("journal.jsonl");
    let mut text = std::fs::read_to_string(&journal).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    text.push_str(&format!(
        "{{\"seq\":{},\"at_ms\":{},\"session\":\"{}\",\"event\":{{\"type\":\"warning\",\"message\":\"late\"}}}}\n",
        last["seq"].as_u64().unwrap() + 1,
        last["at_ms"].as_i64().unwrap(),
        session_id(7)
    ));
    std::fs::write(&journal, text).unwrap();
    let (_, err) = stats_json(&home, &[]);
    assert!(err.contains("summarized 1 of 200 sessions"), "{err}");
}

#[test]
fn stats_as_text_and_with_nothing_to_say() {
    let home = Home::new("");
    let out = home.run(&["stats"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out).trim(), "No sessions in all.");

    let sessions = home.data().join("sessions");
    write_store(&sessions, 31, now_ms(), 0);
    // Session 30's process died while its researcher ran: the journal stops there.
    let journal = sessions.join(session_id(30).as_str()).join("journal.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    let cut: Vec<&str> = text.lines().take(6).collect();
    std::fs::write(&journal, cut.join("\n") + "\n").unwrap();
    let out = home.run(&["stats", "--by", "day"]);
    let text = stdout(&out);
    assert!(
        text.starts_with("31 sessions in all (30 completed, 1 interrupted)"),
        "the dead session is recovered as interrupted: {text}"
    );
    assert!(text.contains("by day"), "{text}");
    assert!(
        text.contains("calls          "),
        "the days as a chart: {text}"
    );
    assert!(
        text.contains("the writer hit its token cap in 21 of 30 sessions"),
        "{text}"
    );

    let out = home.run(&["stats", "--by", "week"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("cannot group by `week`: role, provider, model or day"));
}
