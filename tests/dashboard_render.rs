//! Snapshots of every pane and view in its states (ratatui TestBackend + insta). A visible
//! change to the dashboard comes with its reviewed snapshot.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use crossterm::event::KeyCode;
use el_jefe::session::event::{Event, InterruptReason};
use el_jefe::tui::app::{Focus, View};
use support::dashboard::{Fixture, sid};

const W: u16 = 120;
const H: u16 = 30;

const RESEARCH: &str = "Large language models keep getting smaller and faster.\nOpen weights \
models now run on laptops, and agents that use tools are the trend of the year. ";
const MARKETS: &str = "Chip makers report record demand for inference hardware while \
prices of cloud GPUs fall. ";

/// Two researchers in parallel feeding a writer.
fn two_parallel_agents() -> Fixture {
    let mut f = Fixture::new();
    f.planned(1, "Older finished goal", &[("1", "writer", &[])]);
    f.start(&sid(1), "1", 3);
    f.stream(&sid(1), "1", 4, "An old answer.");
    f.complete(&sid(1), "1", 5);
    f.event(&sid(1), 5, Event::SessionCompleted);
    let id = f.planned(
        2,
        "Research AI trends for my tech podcast",
        &[
            ("1", "researcher", &[]),
            ("2", "researcher", &[]),
            ("3", "writer", &["1", "2"]),
        ],
    );
    f.start(&id, "1", 3);
    f.start(&id, "2", 3);
    f.stream(&id, "1", 5, RESEARCH);
    f.stream(&id, "2", 5, MARKETS);
    // Two one-second samples: 40 then 90 tokens for step 1, 20 then 30 for step 2.
    let view = &mut f.app.sessions[0];
    for (step, samples) in [("1", [0, 40, 90]), ("2", [0, 20, 30])] {
        let rates = view.rates.entry(step.into()).or_default();
        for s in samples {
            rates.sample(s);
        }
    }
    // As after starting it from the command bar: the new session selected, the list focused.
    f.app.selected = 0;
    f.app.focus = Focus::Sessions;
    f.app.sessions[0].select_first_live_step();
    f.at(65);
    f
}

#[test]
fn empty() {
    let mut f = Fixture::new();
    insta::assert_snapshot!(f.render(W, H));
}

#[test]
fn planning() {
    let mut f = Fixture::new();
    f.event(
        &sid(1),
        0,
        Event::SessionCreated {
            goal: "Plan a birthday party".into(),
            workspace: "/work/1".into(),
            mode: el_jefe::session::call::CallMode::Streaming,
            provider: "local".into(),
            model: "m".into(),
            max_parallel: 3,
            origin: None,
            choice: Default::default(),
        },
    );
    f.event(&sid(1), 0, Event::PlanningStarted { attempt: 1 });
    f.at(1);
    insta::assert_snapshot!(f.render(W, H));
}

#[test]
fn running_with_two_parallel_agents() {
    let mut f = two_parallel_agents();
    insta::assert_snapshot!(f.render(W, H));
}

#[test]
fn paused_agent() {
    let mut f = two_parallel_agents();
    f.event(&sid(2), 6, Event::StepPaused { step: "1".into() });
    insta::assert_snapshot!(f.render(W, H));
}

#[test]
fn interrupted_session() {
    let mut f = two_parallel_agents();
    f.event(
        &sid(2),
        6,
        Event::SessionInterrupted {
            reason: InterruptReason::User,
        },
    );
    insta::assert_snapshot!(f.render(W, H));
}

#[test]
fn completed_session_shows_the_selected_steps_output() {
    let mut f = two_parallel_agents();
    let id = sid(2);
    f.complete(&id, "1", 8);
    f.complete(&id, "2", 8);
    f.start(&id, "3", 8);
    f.stream(&id, "3", 9, "Episode 12: small models, big agents.");
    f.complete(&id, "3", 10);
    f.event(&id, 10, Event::SessionCompleted);
    insta::assert_snapshot!(f.render(W, H));
}

#[test]
fn failed_session() {
    let mut f = two_parallel_agents();
    let id = sid(2);
    f.event(
        &id,
        7,
        Event::StepFailed {
            step: "2".into(),
            error: "the provider's stream ended before the reply was complete".into(),
        },
    );
    f.complete(&id, "1", 8);
    f.event(
        &id,
        8,
        Event::SessionFailed {
            error: "step 2 (researcher) failed".into(),
        },
    );
    insta::assert_snapshot!(f.render(W, H));
}

#[test]
fn too_small_terminal() {
    let mut f = two_parallel_agents();
    insta::assert_snapshot!(f.render(50, 12));
}

#[test]
fn help_overlay() {
    let mut f = two_parallel_agents();
    f.char('?');
    insta::assert_snapshot!(f.render(W, 40));
}

#[test]
fn interrupt_confirmation() {
    let mut f = two_parallel_agents();
    f.char('I');
    insta::assert_snapshot!(f.render(W, H));
}

#[test]
fn command_bar_with_an_error_message() {
    let mut f = two_parallel_agents();
    f.char('/');
    f.type_text("frobnicate");
    f.key(KeyCode::Enter);
    f.char(':');
    f.type_text("Next goal");
    insta::assert_snapshot!(f.render(W, H));
}

#[test]
fn full_width_stream_scrolled_up() {
    let mut f = two_parallel_agents();
    f.key(KeyCode::Tab);
    f.key(KeyCode::Enter);
    f.render(W, H);
    f.key(KeyCode::PageUp);
    insta::assert_snapshot!(f.render(W, H));
}

#[test]
fn monitor_view() {
    let mut f = two_parallel_agents();
    let other = f.planned(3, "Compare note-taking apps", &[("1", "analyst", &[])]);
    f.start(&other, "1", 4);
    f.stream(
        &other,
        "1",
        5,
        "Obsidian keeps notes as plain files.\nNotion is better for teams.",
    );
    f.app.view = View::Monitor;
    insta::assert_snapshot!(f.render(W, H));
}

#[test]
fn metrics_view() {
    let mut f = two_parallel_agents();
    f.app.process.cpu.extend([3, 12, 35, 20, 8]);
    f.app.process.rss_bytes = 180 * 1024 * 1024;
    f.app.view = View::Metrics;
    insta::assert_snapshot!(f.render(W, 36));
}

#[test]
fn resizing_rewraps_the_stream() {
    let mut f = two_parallel_agents();
    let wide = f.render(W, H);
    assert!(wide.contains(
        "Open weights models now run on laptops, and agents that use tools are the trend"
    ));
    let narrow = f.render(80, H);
    assert!(
        narrow.contains("││Open weights models now run on laptops, and     │"),
        "{narrow}"
    );
    assert!(
        narrow.contains("││agents that use tools are the trend of the      │"),
        "{narrow}"
    );
    // And back: nothing cached at the narrow width survives into the wide layout.
    assert_eq!(f.render(W, H), wide);
}

/// The running session's first researcher read two files, one missing, and now wants to run a
/// command: the prompt is up.
fn waiting_for_approval() -> Fixture {
    use el_jefe::session::event::ToolStatus;
    let mut f = two_parallel_agents();
    let id = sid(2);
    f.tool_call(
        &id,
        "1",
        6,
        ("c1", "read_file", serde_json::json!({"path": "notes.md"})),
        false,
    );
    f.tool_done(
        &id,
        "1",
        6,
        ("c1", "read_file"),
        ToolStatus::Ok,
        "notes.md, 1.2 KB",
    );
    f.tool_call(
        &id,
        "1",
        7,
        ("c2", "read_file", serde_json::json!({"path": "gone.md"})),
        false,
    );
    f.tool_done(
        &id,
        "1",
        7,
        ("c2", "read_file"),
        ToolStatus::Error,
        "`gone.md` does not exist",
    );
    f.stream(&id, "1", 8, "Now the benchmarks. ");
    f.tool_call(
        &id,
        "1",
        9,
        (
            "c3",
            "run_command",
            serde_json::json!({"command": "cargo bench --bench local_model"}),
        ),
        true,
    );
    f
}

#[test]
fn approval_prompt() {
    let mut f = waiting_for_approval();
    insta::assert_snapshot!(f.render(W, H));
}

#[test]
fn approval_prompt_typing_a_reason_to_deny() {
    let mut f = waiting_for_approval();
    f.char('n');
    for c in "benchmarks take too long".chars() {
        f.char(c);
    }
    insta::assert_snapshot!(f.render(W, H));
}

#[test]
fn approval_set_aside_shows_tool_lines_and_the_waiting_note() {
    let mut f = waiting_for_approval();
    f.key(KeyCode::Esc);
    insta::assert_snapshot!(f.render(W, H));
}

/// A finished session whose analysis (step 2 of 1 -> 2 -> 3, plus 4 on its own) is edited.
fn finished_four_steps() -> Fixture {
    let mut f = Fixture::new();
    let id = f.planned(
        1,
        "A short guide to composting at home",
        &[
            ("1", "researcher", &[]),
            ("2", "analyst", &["1"]),
            ("3", "writer", &["2"]),
            ("4", "researcher", &[]),
        ],
    );
    for (step, text) in [
        ("1", "Greens, browns, no meat."),
        ("4", "Too wet, too dry."),
        ("2", "Balance carbon and nitrogen about thirty to one."),
        ("3", "Start with a bin, add layers, keep it moist."),
    ] {
        f.start(&id, step, 3);
        f.stream(&id, step, 4, text);
        f.complete(&id, step, 5);
    }
    f.event(&id, 5, Event::SessionCompleted);
    f.app.focus = Focus::Steps;
    f.at(10);
    f
}

#[test]
fn plan_edit_impact_preview() {
    let mut f = finished_four_steps();
    f.char('/');
    f.type_text("edit-step 2 Explain why carbon and nitrogen must be balanced");
    f.key(KeyCode::Enter);
    insta::assert_snapshot!(f.render(W, H));
}

#[test]
fn removing_a_needed_step_asks_about_its_dependents() {
    let mut f = finished_four_steps();
    f.app.sessions[0].selected_step = 0;
    f.char('x');
    insta::assert_snapshot!(f.render(W, H));
}

#[test]
fn stalled_agent() {
    let mut f = two_parallel_agents();
    f.event(
        &sid(2),
        65,
        Event::StepStalled {
            step: "2".into(),
            idle_ms: 125_000,
            action: el_jefe::session::health::StallAction::Warn,
        },
    );
    insta::assert_snapshot!(f.render(W, H));
}

#[test]
fn agent_waiting_for_a_free_slot_on_its_provider() {
    let mut f = two_parallel_agents();
    f.event(
        &sid(2),
        65,
        Event::CallQueued {
            step: Some("2".into()),
            provider: "llama-server".into(),
            limit: 1,
        },
    );
    insta::assert_snapshot!(f.render(W, H));
}

#[test]
fn agent_held_by_a_spent_budget_needs_attention() {
    use el_jefe::session::budget::{Budget, Caps, Limit, Scope};
    let mut f = two_parallel_agents();
    let mut budget = Budget::default();
    budget.agents.insert(
        "researcher".into(),
        Caps {
            tokens: Some(100),
            ..Caps::default()
        },
    );
    f.event(&sid(2), 60, Event::BudgetSet { budget });
    f.event(
        &sid(2),
        64,
        Event::BudgetReached {
            scope: Scope::Role("researcher".into()),
            limit: Limit::Tokens,
            reason: "researcher budget reached: 130 of 100 tokens".into(),
        },
    );
    f.event(&sid(2), 64, Event::StepPaused { step: "1".into() });
    f.event(&sid(2), 64, Event::StepPaused { step: "2".into() });
    insta::assert_snapshot!(f.render(W, H));
}

/// The finished four-step session in replay, paused with two steps done and the third on
/// its way: the panes show that moment, the replay bar where it is in the run.
#[test]
fn replay_paused_mid_run() {
    let mut f = finished_four_steps();
    let id = sid(1);
    let journal = f.journal(&id);
    f.app.enter_replay(id, journal);
    // Event 20 is the third word of step 2: steps 1 and 4 are done, 2 streams, 3 waits.
    f.char('t');
    f.type_text("#20");
    f.key(KeyCode::Enter);
    insta::assert_snapshot!(f.render(W, H));
}

/// `/stats`: the figures over the sessions here (one, the finished four-step run), by role.
#[test]
fn analytics_view() {
    let mut f = finished_four_steps();
    let id = sid(1);
    let summary = el_jefe::session::summary::summarize(&id, &f.journal(&id));
    f.app.on_summaries(Ok(vec![summary]));
    f.app.view = View::Analytics;
    insta::assert_snapshot!(f.render(W, H));
}

/// Two runs of the same plan side by side (`c` on one, `c` on the other, or `/compare`).
#[test]
fn compare_view() {
    let mut f = finished_four_steps();
    let b = f.planned(
        2,
        "A short guide to composting at home",
        &[
            ("1", "researcher", &[]),
            ("2", "analyst", &["1"]),
            ("3", "writer", &["2"]),
            ("4", "researcher", &[]),
        ],
    );
    for (step, text) in [
        ("1", "Greens, browns, no meat or dairy."),
        ("4", "Too wet, too dry."),
        ("2", "Balance carbon and nitrogen."),
        ("3", "Start with a bin and keep it moist."),
    ] {
        f.start(&b, step, 3);
        f.stream(&b, step, 5, text);
        f.complete(&b, step, 7);
    }
    f.event(&b, 7, Event::SessionCompleted);
    f.char('/');
    f.type_text(&format!("compare {} {}", sid(1), b));
    f.key(KeyCode::Enter);
    assert_eq!(f.app.view, View::Compare);
    insta::assert_snapshot!(f.render(W, H));
}
