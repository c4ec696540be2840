//! Keys, mouse and commands in the dashboard: each produces the right engine command (asserted on
//! the command receiver) or the right change on screen.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use crossterm::event::{KeyCode, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use el_jefe::session::call::CallMode;
use el_jefe::session::command::Command;
use el_jefe::session::event::{ApprovalDecision, Event, InterruptReason};
use el_jefe::tui::app::{Focus, Overlay, View};
use support::dashboard::{Fixture, sid};

/// One session with two running researchers and a waiting writer, selected, list focused.
fn running() -> Fixture {
    let mut f = Fixture::new();
    let id = f.planned(
        1,
        "Research AI trends",
        &[
            ("1", "researcher", &[]),
            ("2", "researcher", &[]),
            ("3", "writer", &["1", "2"]),
        ],
    );
    f.start(&id, "1", 3);
    f.start(&id, "2", 3);
    f.stream(&id, "1", 4, "first agent text");
    f.app.focus = Focus::Sessions;
    f.app.sessions[0].selected_step = 0;
    f
}

fn one(f: &mut Fixture) -> Command {
    let mut sent = f.sent();
    assert_eq!(sent.len(), 1, "expected one command, got {sent:?}");
    sent.remove(0)
}

#[test]
fn p_pauses_the_selected_agent_and_resumes_it_once_paused() {
    let mut f = running();
    f.char('p');
    assert!(
        matches!(one(&mut f), Command::PauseStep { session, step } if session == sid(1) && step.as_str() == "1")
    );
    f.event(&sid(1), 5, Event::StepPaused { step: "1".into() });
    f.char('p');
    assert!(matches!(one(&mut f), Command::ResumeStep { step, .. } if step.as_str() == "1"));
}

#[test]
fn p_on_a_finished_step_says_why_nothing_happens() {
    let mut f = running();
    f.app.sessions[0].selected_step = 2;
    f.char('p');
    assert!(f.sent().is_empty());
    let message = f.app.message.clone().unwrap();
    assert!(
        message.is_error && message.text.contains("is pending"),
        "{message:?}"
    );
}

#[test]
fn shift_p_pauses_and_unpauses_the_session() {
    let mut f = running();
    f.char('P');
    assert!(matches!(one(&mut f), Command::PauseSession { session } if session == sid(1)));
    f.event(&sid(1), 5, Event::SessionPaused);
    f.char('P');
    assert!(matches!(one(&mut f), Command::UnpauseSession { .. }));
}

#[test]
fn i_asks_before_interrupting_the_agent_and_n_or_esc_cancel() {
    let mut f = running();
    f.char('i');
    assert!(matches!(f.app.overlay, Some(Overlay::Confirm { .. })));
    assert!(f.sent().is_empty(), "nothing before the answer");
    f.char('n');
    assert!(f.app.overlay.is_none());
    assert!(f.sent().is_empty());
    f.char('i');
    f.key(KeyCode::Esc);
    assert!(f.sent().is_empty());
    f.char('i');
    f.char('y');
    assert!(matches!(one(&mut f), Command::InterruptStep { step, .. } if step.as_str() == "1"));
}

#[test]
fn shift_i_interrupts_the_session_on_enter() {
    let mut f = running();
    f.char('I');
    f.key(KeyCode::Enter);
    assert!(matches!(one(&mut f), Command::InterruptSession { session } if session == sid(1)));
}

#[test]
fn r_resumes_an_interrupted_session_but_not_a_running_one() {
    let mut f = running();
    f.char('r');
    assert!(f.sent().is_empty());
    assert!(f.app.message.as_ref().unwrap().is_error);
    f.event(
        &sid(1),
        6,
        Event::SessionInterrupted {
            reason: InterruptReason::User,
        },
    );
    f.char('r');
    assert!(matches!(one(&mut f), Command::ResumeSession { session } if session == sid(1)));
}

#[test]
fn q_asks_first_while_work_runs_and_ctrl_c_twice_leaves() {
    let mut f = running();
    f.char('q');
    assert!(!f.app.quit_requested);
    assert!(matches!(f.app.overlay, Some(Overlay::Confirm { .. })));
    f.char('n');
    assert!(!f.app.quit_requested);
    f.ctrl('c');
    f.ctrl('c');
    assert!(f.app.quit_requested);

    let mut idle = Fixture::new();
    // An empty dashboard starts in the command bar, where q is just a letter.
    idle.char('q');
    assert!(!idle.app.quit_requested);
    idle.key(KeyCode::Esc);
    idle.char('q');
    assert!(idle.app.quit_requested, "nothing running: no question");
}

#[test]
fn typing_a_goal_starts_it_and_selects_it_when_it_appears() {
    let mut f = running();
    f.char(':');
    assert_eq!(f.app.focus, Focus::CommandBar);
    f.type_text("Plan a trip to Rome");
    f.key(KeyCode::Enter);
    let Command::StartSession { id, goal, plan, .. } = one(&mut f) else {
        panic!("expected a start");
    };
    assert_eq!(goal, "Plan a trip to Rome");
    assert!(plan.is_none());
    assert_eq!(f.app.focus, Focus::Sessions, "focus goes back where it was");
    f.event(
        &id,
        10,
        Event::SessionCreated {
            goal,
            workspace: "/w".into(),
            mode: CallMode::Streaming,
            provider: "local".into(),
            model: "m".into(),
            max_parallel: 3,
            origin: None,
            choice: Default::default(),
        },
    );
    assert_eq!(f.app.session().unwrap().state.id, id);
}

#[test]
fn slash_commands_send_the_right_engine_commands() {
    let mut f = running();
    let run = |f: &mut Fixture, line: &str| {
        f.char('/');
        // The bar starts with "/": type the rest.
        f.type_text(line.strip_prefix('/').unwrap());
        f.key(KeyCode::Enter);
    };
    run(&mut f, "/start-streaming Write a haiku");
    assert!(matches!(one(&mut f), Command::StartSession { goal, .. } if goal == "Write a haiku"));
    run(&mut f, "/start Another");
    assert!(matches!(one(&mut f), Command::StartSession { goal, .. } if goal == "Another"));
    run(&mut f, "/interrupt");
    assert!(matches!(one(&mut f), Command::InterruptSession { session } if session == sid(1)));
    let other = sid(7);
    run(&mut f, &format!("/interrupt {other}"));
    assert!(matches!(one(&mut f), Command::InterruptSession { session } if session == other));
    run(&mut f, "/pause");
    assert!(matches!(one(&mut f), Command::PauseSession { session } if session == sid(1)));
    run(&mut f, &format!("/resume {other}"));
    assert!(matches!(one(&mut f), Command::ResumeSession { session } if session == other));
    run(&mut f, "/mode");
    assert!(matches!(
        one(&mut f),
        Command::SetMode {
            mode: CallMode::Legacy
        }
    ));
    run(&mut f, "/mode streaming");
    assert!(matches!(
        one(&mut f),
        Command::SetMode {
            mode: CallMode::Streaming
        }
    ));
}

#[test]
fn view_and_help_commands_change_the_screen() {
    let mut f = running();
    let run = |f: &mut Fixture, name: &str| {
        f.char('/');
        f.type_text(name);
        f.key(KeyCode::Enter);
    };
    run(&mut f, "monitor");
    assert_eq!(f.app.view, View::Monitor);
    f.key(KeyCode::Esc);
    assert_eq!(f.app.view, View::Dashboard);
    run(&mut f, "metrics");
    assert_eq!(f.app.view, View::Metrics);
    run(&mut f, "sessions");
    assert_eq!(
        (f.app.view, f.app.focus),
        (View::Dashboard, Focus::Sessions)
    );
    run(&mut f, "status");
    let status = f.app.message.clone().unwrap().text;
    assert!(
        status.contains("1 sessions (1 running)") && status.contains("mode streaming"),
        "{status}"
    );
    run(&mut f, "help");
    assert_eq!(f.app.overlay, Some(Overlay::Help));
    f.key(KeyCode::Esc);
    assert_eq!(f.app.overlay, None);
    run(&mut f, "quit");
    assert!(matches!(f.app.overlay, Some(Overlay::Confirm { .. })));
    assert!(f.sent().is_empty());
}

#[test]
fn unknown_commands_and_bad_arguments_get_a_one_line_message() {
    let mut f = running();
    for (line, expected) in [
        ("whatever", "unknown command /whatever"),
        ("resume not-an-id", "is not a session id"),
        ("start", "usage: /start <goal>"),
        ("mode fast", "unknown mode"),
    ] {
        f.char('/');
        f.type_text(line);
        f.key(KeyCode::Enter);
        let message = f.app.message.clone().unwrap();
        assert!(
            message.is_error && message.text.contains(expected),
            "{line}: {message:?}"
        );
        assert!(!message.text.contains('\n'));
    }
    assert!(f.sent().is_empty());
}

#[test]
fn focus_and_selection_keys() {
    let mut f = running();
    f.planned(2, "Second", &[("1", "writer", &[])]);
    f.app.selected = 0;
    f.key(KeyCode::Tab);
    assert_eq!(f.app.focus, Focus::Steps);
    f.key(KeyCode::Tab);
    assert_eq!(f.app.focus, Focus::Streams);
    f.key(KeyCode::Tab);
    assert_eq!(f.app.focus, Focus::Sessions);
    f.app.on_key(crossterm::event::KeyEvent::new(
        KeyCode::BackTab,
        KeyModifiers::SHIFT,
    ));
    assert_eq!(f.app.focus, Focus::Streams);
    f.app.focus = Focus::Sessions;
    f.char('j');
    assert_eq!(f.app.selected, 1);
    f.key(KeyCode::Down);
    assert_eq!(f.app.selected, 1, "stays on the last");
    f.char('k');
    assert_eq!(f.app.selected, 0);
    f.char('j');
    // The three-step session: enter opens its steps.
    f.key(KeyCode::Enter);
    assert_eq!(f.app.focus, Focus::Steps);
    f.char('j');
    assert_eq!(f.app.sessions[f.app.selected].selected_step, 1);
    f.key(KeyCode::Enter);
    assert!(f.app.expanded);
    assert_eq!(f.app.focus, Focus::Streams);
    f.key(KeyCode::Esc);
    assert!(!f.app.expanded);
}

#[test]
fn scrolling_keys_and_wheel_stop_and_restart_following() {
    let mut f = running();
    let long: String = (0..60).map(|i| format!("line {i}\n")).collect();
    f.stream(&sid(1), "1", 5, &long);
    f.render(100, 30);
    let following = |f: &mut Fixture| {
        let s = &mut f.app.sessions[0];
        s.stream(0).unwrap().0.is_following()
    };
    assert!(following(&mut f));
    f.key(KeyCode::PageUp);
    assert!(!following(&mut f));
    f.key(KeyCode::End);
    assert!(following(&mut f));
    let pane = f.app.areas.streams.panes[0].inner;
    f.app.on_mouse(MouseEvent {
        kind: MouseEventKind::ScrollUp,
        column: pane.x + 2,
        row: pane.y + 2,
        modifiers: KeyModifiers::NONE,
    });
    assert!(!following(&mut f));
    f.key(KeyCode::Home);
    let rows = {
        let s = &mut f.app.sessions[0];
        let (view, text) = s.stream(0).unwrap();
        view.visible_rows(text, pane.width as usize, 2)
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(rows, ["first agent textline 0", "line 1"]);
}

#[test]
fn clicking_a_session_selects_it() {
    let mut f = running();
    f.planned(2, "Second", &[("1", "writer", &[])]);
    f.app.selected = 0;
    f.render(100, 30);
    let list = f.app.areas.sessions;
    f.app.on_mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: list.x + 3,
        row: list.y + 2,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(f.app.selected, 1);
}

/// Step 1 of the running session asks to run a command.
fn asking() -> Fixture {
    let mut f = running();
    f.tool_call(
        &sid(1),
        "1",
        5,
        (
            "c1",
            "run_command",
            serde_json::json!({"command": "make test"}),
        ),
        true,
    );
    f
}

fn decision(f: &mut Fixture) -> (String, ApprovalDecision) {
    match one(f) {
        Command::DecideApproval {
            session,
            call_id,
            decision,
        } => {
            assert_eq!(session, sid(1));
            (call_id, decision)
        }
        other => panic!("expected an approval decision, got {other:?}"),
    }
}

#[test]
fn an_approval_request_opens_the_prompt_and_y_allows_once() {
    let mut f = asking();
    assert!(matches!(&f.app.overlay, Some(Overlay::Approval(p)) if p.call_id == "c1"));
    f.char('y');
    assert_eq!(decision(&mut f), ("c1".into(), ApprovalDecision::AllowOnce));
    assert_eq!(f.app.overlay, None);
}

#[test]
fn a_allows_for_the_session_and_d_denies_without_a_reason() {
    let mut f = asking();
    f.char('a');
    assert_eq!(decision(&mut f).1, ApprovalDecision::AllowForSession);
    let mut f = asking();
    f.char('d');
    assert_eq!(decision(&mut f).1, ApprovalDecision::Deny { reason: None });
}

#[test]
fn n_takes_a_reason_that_enter_sends_and_esc_goes_back_from() {
    let mut f = asking();
    f.char('n');
    for c in "not now".chars() {
        f.char(c);
    }
    f.key(KeyCode::Backspace);
    f.char('w');
    f.key(KeyCode::Enter);
    assert_eq!(
        decision(&mut f).1,
        ApprovalDecision::Deny {
            reason: Some("not now".into())
        }
    );

    let mut f = asking();
    f.char('n');
    f.char('x');
    f.key(KeyCode::Esc);
    assert!(matches!(&f.app.overlay, Some(Overlay::Approval(p)) if p.deny_reason.is_none()));
    assert!(f.sent().is_empty());
}

#[test]
fn esc_sets_the_prompt_aside_and_a_brings_it_back() {
    let mut f = asking();
    f.key(KeyCode::Esc);
    assert_eq!(f.app.overlay, None);
    assert!(
        f.sent().is_empty(),
        "nothing is decided by setting it aside"
    );
    // Other events do not bring it back by themselves...
    f.stream(&sid(1), "2", 6, "more text");
    assert_eq!(f.app.overlay, None);
    // ...a does.
    f.app.focus = Focus::Sessions;
    f.char('a');
    assert!(matches!(&f.app.overlay, Some(Overlay::Approval(p)) if p.call_id == "c1"));
}

#[test]
fn pause_and_interrupt_still_reach_the_waiting_agent() {
    let mut f = asking();
    f.app.focus = Focus::Steps;
    // Even with another step selected, the keys act on the agent that asks.
    f.app.sessions[0].selected_step = 1;
    f.char('p');
    assert!(matches!(one(&mut f), Command::PauseStep { step, .. } if step.as_str() == "1"));
    let mut f = asking();
    f.app.focus = Focus::Steps;
    f.char('i');
    assert!(matches!(&f.app.overlay, Some(Overlay::Confirm { .. })));
    f.char('y');
    assert!(matches!(one(&mut f), Command::InterruptStep { step, .. } if step.as_str() == "1"));
}

#[test]
fn an_answer_recorded_by_the_engine_closes_the_prompt_and_shows_the_next() {
    let mut f = asking();
    f.tool_call(
        &sid(1),
        "2",
        6,
        (
            "c2",
            "fetch_url",
            serde_json::json!({"url": "https://example.com"}),
        ),
        true,
    );
    assert!(matches!(&f.app.overlay, Some(Overlay::Approval(p)) if p.call_id == "c1"));
    f.char('y');
    decision(&mut f);
    f.event(
        &sid(1),
        7,
        Event::ApprovalDecided {
            step: "1".into(),
            call_id: "c1".into(),
            tool: "run_command".into(),
            decision: ApprovalDecision::AllowOnce,
        },
    );
    assert!(
        matches!(&f.app.overlay, Some(Overlay::Approval(p)) if p.call_id == "c2" && p.detail == "https://example.com"),
        "{:?}",
        f.app.overlay
    );
}

mod plan_edits {
    use super::*;
    use el_jefe::session::plan_edit::PlanEdit;

    /// 1 -> 2 finished, 4 waits on 2; 3 (on its own) is running. The session still runs.
    fn running_session() -> Fixture {
        let mut f = Fixture::new();
        let id = f.planned(
            1,
            "goal",
            &[
                ("1", "researcher", &[]),
                ("2", "analyst", &["1"]),
                ("3", "writer", &[]),
                ("4", "writer", &["2"]),
            ],
        );
        for step in ["1", "2"] {
            f.start(&id, step, 1);
            f.stream(&id, step, 2, "some words here");
            f.complete(&id, step, 3);
        }
        f.start(&id, "3", 3);
        f.app.focus = Focus::Steps;
        f
    }

    fn select_step(f: &mut Fixture, index: usize) {
        f.app.sessions[0].selected_step = index;
    }

    #[test]
    fn pending_edits_apply_at_once_and_say_so() {
        let mut f = running_session();
        f.char('/');
        f.type_text("edit-step 4 Write a short summary instead");
        f.key(KeyCode::Enter);
        assert_eq!(f.app.overlay, None);
        match f.sent().as_slice() {
            [Command::EditPlan { edit, .. }] => assert_eq!(
                edit,
                &PlanEdit::ChangeTask {
                    step: "4".into(),
                    task: "Write a short summary instead".into()
                }
            ),
            other => panic!("{other:?}"),
        }
        assert!(
            f.app
                .message
                .as_ref()
                .unwrap()
                .text
                .starts_with("plan edited")
        );
    }

    #[test]
    fn add_step_takes_after_ids_only_when_they_are_steps() {
        let mut f = running_session();
        f.char('+');
        f.type_text("writer Plan what happens after dinner");
        f.key(KeyCode::Enter);
        f.char('/');
        f.type_text("add-step analyst Compare both after 1, 2");
        f.key(KeyCode::Enter);
        let added: Vec<(String, Vec<String>)> = f
            .sent()
            .into_iter()
            .filter_map(|c| match c {
                Command::EditPlan {
                    edit: PlanEdit::AddStep { step },
                    ..
                } => Some((
                    step.task,
                    step.depends_on.iter().map(|d| d.to_string()).collect(),
                )),
                _ => None,
            })
            .collect();
        assert_eq!(
            added,
            [
                ("Plan what happens after dinner".to_string(), vec![]),
                (
                    "Compare both".to_string(),
                    vec!["1".to_string(), "2".to_string()]
                ),
            ]
        );
    }

    #[test]
    fn editing_a_finished_step_previews_then_applies_on_yes_only() {
        let mut f = running_session();
        // The running step cannot change under its agent.
        select_step(&mut f, 2);
        f.char('e');
        assert_eq!(f.app.bar.text(), "/edit-step 3 ");
        f.type_text("Look deeper");
        f.key(KeyCode::Enter);
        assert!(f.sent().is_empty());
        assert!(
            f.app
                .message
                .as_ref()
                .unwrap()
                .text
                .contains("interrupt it first"),
            "{:?}",
            f.app.message
        );
        // Step 1 is done, and so is 2 after it: the preview lists both as re-running.
        select_step(&mut f, 0);
        f.char('e');
        f.type_text("Look deeper");
        f.key(KeyCode::Enter);
        let Some(Overlay::EditPreview(preview)) = &f.app.overlay else {
            panic!("{:?}", f.app.overlay);
        };
        let stale: Vec<&str> = preview.stale.iter().map(|(id, _, _)| id.as_str()).collect();
        assert_eq!(stale, ["1", "2"]);
        assert!(preview.stale.iter().all(|(_, _, tokens)| *tokens > 0));
        assert!(!preview.resume_after, "the session is still running");
        f.key(KeyCode::Esc);
        assert!(f.sent().is_empty(), "esc leaves the plan alone");
        f.char('e');
        f.type_text("Look deeper");
        f.key(KeyCode::Enter);
        f.char('y');
        assert!(matches!(
            f.sent().as_slice(),
            [Command::EditPlan {
                edit: PlanEdit::ChangeTask { .. },
                ..
            }]
        ));
    }

    #[test]
    fn removing_a_needed_step_asks_and_sends_the_choice() {
        let mut f = running_session();
        // Nothing needs step 4: it goes at once.
        select_step(&mut f, 3);
        f.char('x');
        assert!(matches!(
            f.sent().as_slice(),
            [Command::EditPlan {
                edit: PlanEdit::RemoveStep {
                    dependents: None,
                    ..
                },
                ..
            }]
        ));
        // Step 3 is running: removing it is refused with the reason.
        select_step(&mut f, 2);
        f.char('x');
        assert!(f.app.message.as_ref().unwrap().text.contains("running"));
        // Step 1 is needed by 2: asked; esc cancels.
        select_step(&mut f, 0);
        f.char('x');
        assert!(matches!(f.app.overlay, Some(Overlay::RemoveDependents(_))));
        f.key(KeyCode::Esc);
        assert_eq!(f.app.overlay, None);
        assert_eq!(f.app.message.as_ref().unwrap().text, "nothing removed");
        // k keeps 2 (rewired): 2 is done, so it would re-run: previewed, then sent on y.
        f.char('x');
        f.char('k');
        assert!(matches!(f.app.overlay, Some(Overlay::EditPreview(_))));
        f.char('y');
        assert!(matches!(
            f.sent().as_slice(),
            [Command::EditPlan {
                edit: PlanEdit::RemoveStep {
                    dependents: Some(el_jefe::session::plan_edit::Dependents::Rewire),
                    ..
                },
                ..
            }]
        ));
    }

    #[test]
    fn save_plan_writes_a_file_run_plan_reads() {
        let mut f = running_session();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plan.toml");
        f.char('/');
        f.type_text(&format!("save-plan {}", file.display()));
        f.key(KeyCode::Enter);
        let text = std::fs::read_to_string(&file).unwrap();
        let plan = el_jefe::session::plan_file::parse_plan_file(&text).unwrap();
        assert_eq!(plan.plan.steps.len(), 4);
        assert_eq!(plan.goal.as_deref(), Some("goal"));
        assert!(
            f.app
                .message
                .as_ref()
                .unwrap()
                .text
                .starts_with("saved the plan (4 steps)")
        );
    }
}

#[test]
fn replay_steps_event_by_event_and_forks_at_the_moment_on_screen() {
    let mut f = running();
    let id = sid(1);
    let journal = f.journal(&id);
    // created, plan, two starts, three words: 7 events; replay opens after the first.
    assert_eq!(journal.len(), 7);
    f.app.enter_replay(id.clone(), journal.clone());
    let shown = |f: &Fixture| f.app.sessions[0].state.clone();
    let fold =
        |n: usize| el_jefe::session::session_fold::SessionState::replay(id.clone(), &journal[..n]);
    assert_eq!(shown(&f), fold(1));
    f.key(KeyCode::Right);
    f.key(KeyCode::Right);
    assert_eq!(shown(&f), fold(3), "two steps forward");
    f.key(KeyCode::Left);
    assert_eq!(shown(&f), fold(2), "one back");
    f.char('$');
    assert_eq!(shown(&f), fold(7), "to the end");
    f.char('0');
    assert_eq!(shown(&f), fold(0), "to the start");

    // Steering keys would act on the present, not on the moment shown.
    f.char('p');
    assert!(f.sent().is_empty());
    assert!(
        f.app
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("esc leaves replay")
    );

    // A live event while looking at the past leaves the screen where it was.
    f.stream(&id, "1", 5, "more ");
    assert_eq!(shown(&f), fold(0));

    f.char('l');
    f.char('l');
    f.char('l');
    f.char('f');
    let Command::ForkSession { parent, at, .. } = one(&mut f) else {
        panic!("f forks");
    };
    assert_eq!(parent, id);
    assert_eq!(at, el_jefe::session::fork::ForkPoint::Event { seq: 3 });
    assert!(f.app.replay_deck.is_none(), "forking leaves replay");
    // The whole session is back on screen, with the live event replay held back.
    assert_eq!(
        f.app.sessions[0].state,
        el_jefe::session::session_fold::SessionState::replay(id.clone(), &f.journal(&id))
    );
}

#[test]
fn esc_leaves_replay_and_space_plays_it() {
    let mut f = running();
    let id = sid(1);
    let journal = f.journal(&id);
    f.app.enter_replay(id, journal);
    f.key(KeyCode::Char(' '));
    assert!(f.app.replay_is_playing());
    f.key(KeyCode::Char(' '));
    assert!(!f.app.replay_is_playing());
    f.key(KeyCode::Esc);
    assert!(f.app.replay_deck.is_none());
    f.char('p');
    assert!(
        matches!(one(&mut f), Command::PauseStep { .. }),
        "steering works again"
    );
}

#[test]
fn the_analytics_view_groups_another_way_with_b() {
    let mut f = running();
    // This fixture has no journals to read: the view says so instead of showing nothing.
    f.char('/');
    f.type_text("stats");
    f.key(KeyCode::Enter);
    assert_eq!(f.app.view, View::Analytics);
    assert!(f.app.message.as_ref().unwrap().is_error);
    let id = sid(1);
    let summary = el_jefe::session::summary::summarize(&id, &f.journal(&id));
    f.app.on_summaries(Ok(vec![summary]));
    let by = |f: &Fixture| f.app.analytics.as_ref().unwrap().by;
    assert_eq!(by(&f), el_jefe::session::stats::GroupBy::Role);
    f.char('b');
    assert_eq!(by(&f), el_jefe::session::stats::GroupBy::Provider);
    f.key(KeyCode::Esc);
    assert_eq!(f.app.view, View::Dashboard);
}

#[test]
fn c_on_one_session_then_c_on_another_compares_them() {
    let mut f = running();
    let other = f.planned(2, "Another goal", &[("1", "writer", &[])]);
    f.app.focus = Focus::Sessions;
    f.app.selected = f.app.find(&sid(1)).unwrap();
    f.char('c');
    assert_eq!(f.app.view, View::Dashboard);
    assert!(
        f.app
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("select another and press c")
    );
    f.app.selected = f.app.find(&other).unwrap();
    f.char('c');
    assert_eq!(f.app.view, View::Compare);
    assert_eq!(f.app.compared, Some((sid(1), other)));
    f.key(KeyCode::Esc);
    assert_eq!(f.app.view, View::Dashboard);
    // The same session twice is not a comparison.
    f.app.selected = f.app.find(&sid(1)).unwrap();
    f.char('/');
    f.type_text(&format!("compare {}", sid(1)));
    f.key(KeyCode::Enter);
    assert_eq!(f.app.view, View::Dashboard);
    assert!(
        f.app
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("two different sessions")
    );
}
