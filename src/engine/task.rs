//! How agent and planner tasks talk back to the engine, and how they are stopped.

use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::session::event::{ApprovalDecision, Event};
use crate::session::ids::{SessionId, StepId};
use crate::session::plan::{Plan, PlanSource};

/// After an interrupt, how long a task gets to stop by itself before it is aborted.
pub const INTERRUPT_GRACE: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaskKey {
    Planner,
    Step(StepId),
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    Completed { output: String },
    Failed { error: String },
    Interrupted { forced: bool },
}

#[derive(Debug, Clone, PartialEq)]
pub enum PlanOutcome {
    Ready { plan: Plan, source: PlanSource },
    Interrupted { forced: bool },
}

/// Outcomes that can stand for "stopped by an interrupt".
pub trait Interruptible {
    fn interrupted(forced: bool) -> Self;
}

impl Interruptible for StepOutcome {
    fn interrupted(forced: bool) -> Self {
        StepOutcome::Interrupted { forced }
    }
}

impl Interruptible for PlanOutcome {
    fn interrupted(forced: bool) -> Self {
        PlanOutcome::Interrupted { forced }
    }
}

#[derive(Debug)]
pub enum ReportKind {
    Event(Event),
    /// A tool call needs the user's approval; the agent waits for `reply`.
    ApprovalNeeded {
        call_id: String,
        tool: String,
        detail: String,
        reply: oneshot::Sender<ApprovalDecision>,
    },
    StepDone(StepOutcome),
    PlanDone(PlanOutcome),
}

impl ReportKind {
    /// The task has finished with this report.
    pub fn ends_task(&self) -> bool {
        match self {
            ReportKind::Event(_) | ReportKind::ApprovalNeeded { .. } => false,
            ReportKind::StepDone(_) | ReportKind::PlanDone(_) => true,
        }
    }
}

impl From<StepOutcome> for ReportKind {
    fn from(o: StepOutcome) -> Self {
        ReportKind::StepDone(o)
    }
}

impl From<PlanOutcome> for ReportKind {
    fn from(o: PlanOutcome) -> Self {
        ReportKind::PlanDone(o)
    }
}

#[derive(Debug)]
pub struct Report {
    pub session: SessionId,
    pub task: TaskKey,
    /// Lets the engine ignore a late report from an attempt it already gave up on.
    pub attempt: u32,
    pub kind: ReportKind,
}

#[derive(Clone)]
pub struct Reporter {
    pub session: SessionId,
    pub task: TaskKey,
    pub attempt: u32,
    pub tx: UnboundedSender<Report>,
}

impl Reporter {
    pub fn event(&self, event: Event) {
        self.send(ReportKind::Event(event));
    }

    pub fn ask_approval(
        &self,
        call_id: String,
        tool: String,
        detail: String,
        reply: oneshot::Sender<ApprovalDecision>,
    ) {
        self.send(ReportKind::ApprovalNeeded {
            call_id,
            tool,
            detail,
            reply,
        });
    }

    fn send(&self, kind: ReportKind) {
        // The engine only drops its receiver when it shuts down; nothing is left to tell then.
        let _ = self.tx.send(Report {
            session: self.session.clone(),
            task: self.task.clone(),
            attempt: self.attempt,
            kind,
        });
    }
}

/// Runs a task so that it always reports exactly one outcome: its own, or after an interrupt,
/// whatever it returns within the grace period, else "interrupted (forced)" once it is dropped.
pub fn spawn_supervised<F, O>(
    work: F,
    cancel: CancellationToken,
    reporter: Reporter,
) -> JoinHandle<()>
where
    F: Future<Output = O> + Send + 'static,
    O: Interruptible + Into<ReportKind> + Send + 'static,
{
    // On the heap from the start: an agent's future is several kilobytes, and spawning moves
    // the future it is given more than once.
    let mut work = Box::pin(work);
    tokio::spawn(async move {
        let outcome = tokio::select! {
            biased;
            out = &mut work => out,
            _ = cancel.cancelled() => {
                match tokio::time::timeout(INTERRUPT_GRACE, &mut work).await {
                    Ok(out) => out,
                    Err(_) => O::interrupted(true),
                }
            }
        };
        reporter.send(outcome.into());
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc::unbounded_channel;

    #[tokio::test(start_paused = true)]
    async fn a_task_that_ignores_cancellation_is_aborted_after_the_grace_period() {
        let (tx, mut rx) = unbounded_channel();
        let cancel = CancellationToken::new();
        let reporter = Reporter {
            session: SessionId::parse("session_20260101_000000_00000000").unwrap(),
            task: TaskKey::Step("1".into()),
            attempt: 1,
            tx,
        };
        let stubborn = async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StepOutcome::Completed {
                output: String::new(),
            }
        };
        let join = spawn_supervised(stubborn, cancel.clone(), reporter);
        let started = tokio::time::Instant::now();
        cancel.cancel();
        let report = rx.recv().await.unwrap();
        assert!(matches!(
            report.kind,
            ReportKind::StepDone(StepOutcome::Interrupted { forced: true })
        ));
        assert_eq!(started.elapsed(), INTERRUPT_GRACE);
        join.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_that_stops_in_time_reports_its_own_outcome() {
        let (tx, mut rx) = unbounded_channel();
        let cancel = CancellationToken::new();
        let reporter = Reporter {
            session: SessionId::parse("session_20260101_000000_00000000").unwrap(),
            task: TaskKey::Step("1".into()),
            attempt: 1,
            tx,
        };
        let token = cancel.clone();
        let polite = async move {
            token.cancelled().await;
            StepOutcome::Interrupted { forced: false }
        };
        spawn_supervised(polite, cancel.clone(), reporter);
        cancel.cancel();
        let report = rx.recv().await.unwrap();
        assert!(matches!(
            report.kind,
            ReportKind::StepDone(StepOutcome::Interrupted { forced: false })
        ));
    }
}
