//! Drives one session to its end from the command line, printing its events.

use std::io::{self, Write};

use tokio::sync::mpsc::UnboundedReceiver;

use super::plain::PlainPrinter;
use crate::engine::EngineHandle;
use crate::engine::event::{EngineEvent, Envelope, Event};
use crate::engine::ids::SessionId;

pub enum Start {
    Goal(String),
    Resume(SessionId),
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
    /// The engine refused to start or resume; the reason was printed.
    Refused(String),
}

impl RunEnd {
    /// 0 completed, 1 failed or refused, 130 interrupted (as shells report Ctrl-C).
    pub fn exit_code(&self) -> i32 {
        match self {
            RunEnd::Completed => 0,
            RunEnd::Failed | RunEnd::Refused(_) => 1,
            RunEnd::Interrupted => 130,
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
            Printer::Plain(_) => {
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
) -> anyhow::Result<RunEnd> {
    let mut printer = match output {
        Output::Plain => Printer::Plain(Box::new(PlainPrinter::new(io::stdout()))),
        Output::Json => Printer::Json(io::stdout()),
    };
    let id = match start {
        Start::Goal(goal) => engine.start_session(&goal)?,
        Start::Resume(id) => {
            engine.resume_session(&id)?;
            id
        }
    };
    let mut interrupts = Interrupts::new()?;
    let mut interrupting = false;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(EngineEvent::Session(env)) if env.session == id => {
                    printer.event(&env)?;
                    if env.event.ends_session() {
                        let end = match env.event {
                            Event::SessionCompleted => RunEnd::Completed,
                            Event::SessionFailed { .. } => RunEnd::Failed,
                            _ => RunEnd::Interrupted,
                        };
                        if end == RunEnd::Interrupted {
                            printer.notice("hint", &format!("Resume with: el-jefe resume {id}"))?;
                        }
                        return Ok(end);
                    }
                }
                Some(EngineEvent::Session(_)) | Some(EngineEvent::ModeChanged(_)) => {}
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
                    return Ok(RunEnd::Interrupted);
                }
                interrupting = true;
                printer.notice("notice", "Interrupting... (press Ctrl-C again to stop at once)")?;
                engine.interrupt_session(&id)?;
            }
        }
    }
}

/// Ctrl-C and SIGTERM, as one stream of "please stop".
struct Interrupts {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Interrupts {
    fn new() -> io::Result<Self> {
        Ok(Interrupts {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?,
        })
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
