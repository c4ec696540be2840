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
use support::histories::{HOUR_MS, session_events, session_id, write_store};
use support::server_process::free_port;
use support::serving::{owner, serve};

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

/// Sessions in the store of the server test.
const SERVED: usize = 30;

/// GET or POST on the server as its owner: (status, JSON body).
async fn ask(request: reqwest::RequestBuilder, token: &str) -> (u16, Value) {
    let response = request.bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[test]
fn stats_compare_and_flags_from_a_server() {
    let home = Home::new("");
    write_store(&home.data().join("sessions"), SERVED, now_ms(), 2);
    // A researcher running for ten minutes where its usual step takes two seconds, in a
    // session whose process (this test) holds its journal: nobody recovers it as dead.
    let running = session_id(SERVED);
    let started = now_ms() - 10 * 60_000;
    let events = session_events(SERVED, started + SERVED as i64 * HOUR_MS + HOUR_MS / 2, 0);
    let dir = home.data().join("sessions").join(running.as_str());
    std::fs::create_dir_all(&dir).unwrap();
    let lines: Vec<String> = events[..5]
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    let journal = dir.join("journal.jsonl");
    std::fs::write(&journal, lines.join("\n") + "\n").unwrap();
    let held = std::fs::File::open(&journal).unwrap();
    held.lock().unwrap();

    let (local, _) = stats_json(&home, &["--by", "provider"]);
    let compared = home.run(&[
        "compare",
        "--json",
        session_id(3).as_str(),
        session_id(4).as_str(),
    ]);
    assert!(compared.status.success(), "{}", stderr(&compared));
    let local_comparison: Value = serde_json::from_str(&stdout(&compared)).unwrap();

    let _server = serve(&home, free_port());
    // With this home's server running, the command asks it: the same figures.
    let (remote, _) = stats_json(&home, &["--by", "provider"]);
    assert_eq!(remote, local);
    // Sessions k began k and a half hours ago; the running one ten minutes ago.
    let text = stdout(&home.run(&["stats", "--since", "12h"]));
    assert!(
        text.starts_with("13 sessions in the last 12 hours (12 completed, 1 running)"),
        "{text}"
    );

    let target = owner(&home);
    let token = target.token.clone().unwrap();
    let url = |path: &str| target.http_url(path).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();
    runtime.block_on(async {
        let (status, answer) = ask(http.get(url("/api/v1/stats?by=role&since=5h")), &token).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["stats"]["sessions"]["sessions"], 6);
        assert_eq!(answer["period"], "in the last 5 hours");
        assert!(answer["text"].as_str().unwrap().contains("by role"));

        let (status, answer) = ask(http.get(url("/api/v1/stats?by=week")), &token).await;
        assert_eq!(status, 400);
        assert!(
            answer["error"]
                .as_str()
                .unwrap()
                .contains("cannot group by `week`")
        );

        let (a, b) = (session_id(3), session_id(4));
        let (status, answer) = ask(
            http.get(url(&format!("/api/v1/compare?a={a}&b={b}"))),
            &token,
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        // Everything but the wall time of nothing running: `compare --json`.
        assert_eq!(answer["comparison"]["steps"], local_comparison["steps"]);
        assert_eq!(
            answer["comparison"]["verdicts"],
            local_comparison["verdicts"]
        );
        let steps = answer["comparison"]["steps"].as_array().unwrap();
        let diffs = answer["diffs"].as_array().unwrap();
        assert_eq!(diffs.len(), steps.len());
        assert!(
            diffs.iter().all(|d| d["kind"].is_string()),
            "each step's outputs word by word: {diffs:?}"
        );
        assert!(answer["text"].as_str().unwrap().contains("Verdict"));

        let (status, answer) = ask(
            http.get(url(&format!("/api/v1/compare?a={a}&b={a}"))),
            &token,
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(answer["error"], "compare needs two different sessions");
        let (status, _) = ask(
            http.get(url(&format!(
                "/api/v1/compare?a={a}&b=session_20990101_000000_00000000"
            ))),
            &token,
        )
        .await;
        assert_eq!(status, 404);

        // A finished session has no running agent to flag.
        let (status, answer) = ask(
            http.post(url("/api/v1/flags"))
                .json(&serde_json::json!({ "session": a.as_str() })),
            &token,
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["steps"], serde_json::json!([]));

        let (status, answer) = ask(
            http.post(url("/api/v1/flags"))
                .json(&serde_json::json!({ "session": running.as_str(), "rates": { "1": 2.0 } })),
            &token,
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["steps"][0]["step"], "1", "{answer}");
        let flags: Vec<&str> = answer["steps"][0]["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        assert!(
            flags.iter().any(|f| {
                let times = f
                    .strip_prefix("running ")
                    .and_then(|rest| rest.split_once("x its usual time ("))
                    .and_then(|(times, _)| times.parse::<f64>().ok());
                times.is_some_and(|t| (290.0..310.0).contains(&t))
            }),
            "{flags:?}"
        );
        assert!(
            flags.contains(&"slow: 2 tokens/s vs 50 usually"),
            "{flags:?}"
        );

        let (status, answer) = ask(http.get(url("/api/v1/stats")), "ej_not_a_token").await;
        assert_eq!(status, 401);
        assert_eq!(answer["error"], "sign in first");
    });

    drop(held);

    // A wrong token is refused, and says so.
    let out = home.run(&["stats", "--server", &target.url, "--token", "ej_wrong"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("refused: sign in first"),
        "{}",
        stderr(&out)
    );
}
