//! Drives one session to its end from the command line, printing its events.

use std::io::{self, Write};

use tokio::sync::mpsc::UnboundedReceiver;

use super::plain::PlainPrinter;
use crate::engine::{EngineClosed, EngineHandle};
use crate::session::budget::Budget;
use crate::session::event::{ApprovalDecision, EngineEvent, Envelope, Event};
use crate::session::fork::ForkPoint;
use crate::session::ids::SessionId;
use crate::session::plan::Plan;
use crate::session::session_fold::SessionState;

pub enum Start {
    Goal(String),
    /// A plan written by hand: no planning; its budget, if it has one, replaces the configured.
    Plan {
        goal: String,
        plan: Plan,
        budget: Option<Budget>,
    },
    /// With the session as stored, when it could be read, so the story covers all of it.
    Resume(SessionId, Option<Box<SessionState>>),
    /// A new session with a parent's work up to a moment.
    Fork {
        parent: SessionId,
        at: ForkPoint,
    },
}

/// How a run with nobody at the keyboard answers tool calls that ask for approval.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approvals {
    /// `--yes`: allow every tool.
    pub all: bool,
    /// `--allow TOOL`: names or patterns (`mcp__time__*`).
    pub tools: Vec<String>,
}

impl Approvals {
    pub fn decide(&self, tool: &str) -> ApprovalDecision {
        if self.all
            || self
                .tools
                .iter()
                .any(|p| crate::tools::policy::matches(p, tool))
        {
            ApprovalDecision::AllowOnce
        } else {
            ApprovalDecision::Deny {
                reason: Some(format!(
                    "nobody can approve it in a headless run (start it with --allow {tool} or --yes)"
                )),
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Plain,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    Completed,
    Failed,
    Interrupted,
    /// A second Ctrl-C: left without waiting for the interrupt to be recorded.
    StoppedAtOnce,
    /// The engine refused to start or resume; the reason was printed.
    Refused(String),
}

impl RunEnd {
    /// 0 completed, 1 failed or refused, 130 interrupted (as shells report Ctrl-C).
    pub fn exit_code(&self) -> i32 {
        match self {
            RunEnd::Completed => 0,
            RunEnd::Failed | RunEnd::Refused(_) => 1,
            RunEnd::Interrupted | RunEnd::StoppedAtOnce => 130,
        }
    }
}

enum Printer {
    Plain(Box<PlainPrinter<io::Stdout>>),
    Json(io::Stdout),
}

impl Printer {
    fn event(&mut self, env: &Envelope) -> io::Result<()> {
        match self {
            Printer::Plain(p) => p.print(env),
            Printer::Json(out) => {
                serde_json::to_writer(&mut *out, env)?;
                out.write_all(b"\n")?;
                out.flush()
            }
        }
    }

    fn notice(&mut self, kind: &str, message: &str) -> io::Result<()> {
        match self {
            Printer::Plain(p) => {
                p.break_line()?;
                eprintln!("{message}");
                Ok(())
            }
            Printer::Json(out) => {
                let line = serde_json::json!({ "type": kind, "message": message });
                writeln!(out, "{line}")?;
                out.flush()
            }
        }
    }
}

/// Runs until the session ends. The first Ctrl-C (or SIGTERM) interrupts the session gracefully
/// and waits for it to be saved; a second one leaves at once (the journal already has all but the
/// last few events).
pub async fn run_headless(
    engine: &EngineHandle,
    events: &mut UnboundedReceiver<EngineEvent>,
    start: Start,
    output: Output,
    approvals: &Approvals,
) -> anyhow::Result<RunEnd> {
    let mut interrupts = Interrupts::new()?;
    let (id, stored) = begin(engine, start)?;
    let mut printer = match (output, stored) {
        (Output::Plain, Some(state)) => {
            Printer::Plain(Box::new(PlainPrinter::resuming(io::stdout(), *state)))
        }
        (Output::Plain, None) => Printer::Plain(Box::new(PlainPrinter::new(io::stdout()))),
        (Output::Json, _) => Printer::Json(io::stdout()),
    };
    let mut interrupting = false;
    let mut budget_stop: Option<String> = None;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(EngineEvent::Events(batch)) => {
                    for env in batch.iter().filter(|e| e.session == id) {
                        printer.event(env)?;
                        if let Event::ApprovalRequested { call_id, tool, .. } = &env.event {
                            engine.decide_approval(&id, call_id, approvals.decide(tool))?;
                        }
                        // Nobody is here to raise the cap: the session is saved as interrupted,
                        // to be resumed once the budget is raised.
                        if let Event::BudgetReached { reason, .. } = &env.event
                            && !interrupting
                        {
                            interrupting = true;
                            budget_stop = Some(reason.clone());
                            engine.interrupt_session(&id)?;
                        }
                        if env.event.ends_session() {
                            let end = if matches!(env.event, Event::SessionCompleted) {
                                RunEnd::Completed
                            } else if matches!(env.event, Event::SessionFailed { .. }) {
                                RunEnd::Failed
                            } else {
                                RunEnd::Interrupted
                            };
                            if end == RunEnd::Interrupted {
                                printer.notice("hint", &resume_hint(&id, budget_stop.as_deref()))?;
                            }
                            return Ok(end);
                        }
                    }
                }
                Some(EngineEvent::ModeChanged(_)) => {}
                Some(EngineEvent::Link { message, .. }) => {
                    printer.notice("link", &format!("el-jefe: {message}"))?;
                }
                Some(EngineEvent::Problem { message }) => {
                    printer.notice("problem", &format!("el-jefe: warning: {message}"))?;
                }
                Some(EngineEvent::Rejected { command, reason }) => {
                    let message = format!("el-jefe: cannot {command}: {reason}");
                    printer.notice("rejected", &message)?;
                    if !interrupting {
                        return Ok(RunEnd::Refused(reason));
                    }
                }
                Some(EngineEvent::ShutDown) | None => {
                    anyhow::bail!("the engine stopped before the session ended");
                }
            },
            () = interrupts.next() => {
                if interrupting {
                    printer.notice("hint", &format!("Stopped at once. Resume with: el-jefe resume {id}"))?;
                    return Ok(RunEnd::StoppedAtOnce);
                }
                interrupting = true;
                printer.notice("notice", "Interrupting... (press Ctrl-C again to stop at once)")?;
                engine.interrupt_session(&id)?;
            }
        }
    }
}

/// Starts the session, or resumes it; a resumed one comes with its stored state.
fn begin(
    engine: &EngineHandle,
    start: Start,
) -> Result<(SessionId, Option<Box<SessionState>>), EngineClosed> {
    Ok(match start {
        Start::Goal(goal) => (engine.start_session(&goal)?, None),
        Start::Plan {
            goal,
            plan,
            budget: None,
        } => (engine.start_session_with_plan(&goal, plan)?, None),
        Start::Plan {
            goal,
            plan,
            budget: Some(budget),
        } => (
            engine.start_session_with_budget(&goal, Some(plan), budget)?,
            None,
        ),
        Start::Resume(id, stored) => {
            engine.resume_session(&id)?;
            (id, stored)
        }
        Start::Fork { parent, at } => (engine.fork_session(&parent, at)?, None),
    })
}

/// How to go on after an interrupted run: raise the cap that stopped it, if one did, then resume.
fn resume_hint(id: &SessionId, budget_stop: Option<&str>) -> String {
    match budget_stop {
        Some(reason) => format!(
            "Stopped: {reason}. Raise it with `el-jefe budget {id} <tokens|wall|tools|money> <value>` \
             (--agent ROLE for a role's cap), then: el-jefe resume {id}"
        ),
        None => format!("Resume with: el-jefe resume {id}"),
    }
}

/// Ctrl-C and SIGTERM, as one stream of "please stop". The signal streams are made once and
/// kept: they remember a signal that arrives while nobody is waiting, where a fresh
/// `ctrl_c()` per wait would lose it (and the default action is already replaced by then).
struct Interrupts {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Interrupts {
    fn new() -> io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Interrupts {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Interrupts {})
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headless_approvals_allow_what_the_flags_name_and_deny_the_rest_with_a_hint() {
        let flags = Approvals {
            all: false,
            tools: vec!["run_command".into(), "mcp__time__*".into()],
        };
        assert_eq!(flags.decide("run_command"), ApprovalDecision::AllowOnce);
        assert_eq!(flags.decide("mcp__time__now"), ApprovalDecision::AllowOnce);
        let ApprovalDecision::Deny { reason: Some(r) } = flags.decide("fetch_url") else {
            panic!("fetch_url is not allowed by these flags");
        };
        assert!(r.contains("--allow fetch_url or --yes"), "{r}");
        let yes = Approvals {
            all: true,
            tools: vec![],
        };
        assert_eq!(yes.decide("fetch_url"), ApprovalDecision::AllowOnce);
    }
}
