//! An agent task: runs one step, streaming its text to the engine as it comes.

use std::sync::Arc;

use super::event::Event;
use super::ids::StepId;
use super::measured_call::{CallEnd, measured_call};
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
    let end = measured_call(&*provider, request, &control, |text, chunks| {
        reporter.event(Event::TextDelta {
            step: step.clone(),
            text,
            chunks,
        });
    })
    .await;
    match end {
        CallEnd::Finished { text, stats } => {
            reporter.event(Event::CallFinished {
                step: Some(step),
                call: stats,
            });
            StepOutcome::Completed { output: text }
        }
        CallEnd::Failed(error) => {
            reporter.event(Event::CallFailed {
                step: Some(step),
                error: error.clone(),
            });
            StepOutcome::Failed { error }
        }
        CallEnd::Cancelled => StepOutcome::Interrupted { forced: false },
    }
}
