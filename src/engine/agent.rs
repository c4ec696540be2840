//! An agent task: runs one step, streaming its text to the engine as it comes.

use std::sync::Arc;

use super::event::Event;
use super::ids::StepId;
use super::measured_call::{CallEnd, CallUpdate, measured_call};
use super::task::{Reporter, StepOutcome};
use crate::provider::{CallControl, ChatRequest, Provider};

pub struct StepRun {
    pub provider: Arc<dyn Provider>,
    pub step: StepId,
    pub request: ChatRequest,
    pub control: CallControl,
    pub reporter: Reporter,
}

pub async fn run_step(run: StepRun) -> StepOutcome {
    let StepRun {
        provider,
        step,
        request,
        control,
        reporter,
    } = run;
    let end = measured_call(&*provider, request, &control, |update| {
        reporter.event(update_event(Some(&step), update));
    })
    .await;
    match end {
        CallEnd::Finished { text, stats, .. } => {
            reporter.event(Event::CallFinished {
                step: Some(step),
                call: stats,
            });
            StepOutcome::Completed { output: text }
        }
        CallEnd::Failed(error) => {
            reporter.event(Event::CallFailed {
                step: Some(step),
                error: error.message.clone(),
                kind: Some(error.kind),
            });
            StepOutcome::Failed {
                error: error.message,
            }
        }
        CallEnd::Cancelled => StepOutcome::Interrupted { forced: false },
    }
}

/// The event that records what a running call reported; `step` is None for the planner.
pub fn update_event(step: Option<&StepId>, update: CallUpdate) -> Event {
    let step = step.cloned();
    match update {
        CallUpdate::Text(text, chunks) => Event::TextDelta {
            step: step.expect("only steps stream text to the journal"),
            text,
            chunks,
        },
        CallUpdate::ToolCall(call) => Event::ToolCallRequested {
            step: step.expect("only steps call tools"),
            call,
        },
        CallUpdate::Retry(retry) => Event::CallRetry { step, retry },
        CallUpdate::Failover(failover) => Event::CallFailover { step, failover },
        CallUpdate::Warning(message) => Event::Warning { message, step },
    }
}
