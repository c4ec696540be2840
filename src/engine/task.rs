//! How agent and planner tasks talk back to the engine, and how they are stopped.

use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::event::Event;
use super::ids::{SessionId, StepId};
use super::plan::{Plan, PlanSource};

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
    StepDone(StepOutcome),
    PlanDone(PlanOutcome),
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
    tokio::spawn(async move {
        tokio::pin!(work);
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
