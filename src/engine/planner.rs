//! Goal -> validated plan: ask the model (grammar-constrained where the provider can), retry once
//! with the error, else fall back to the default plan with a visible warning.

use std::sync::Arc;

use super::agent::update_event;
use super::measured_call::{CallEnd, measured_call};
use super::prompts::planner_messages;
use super::roles::RoleBook;
use super::task::{PlanOutcome, Reporter};
use crate::provider::{CallControl, ChatRequest, Provider};
use crate::session::call::CallMode;
use crate::session::event::Event;
use crate::session::plan::{Plan, PlanSource};
use crate::session::plan_grammar::plan_grammar;
use crate::session::plan_validation::{parse_plan, validate};

#[derive(Debug, Clone, PartialEq)]
pub struct PlannerSettings {
    pub max_tokens: u32,
    pub temperature: f32,
    /// Fewest and most steps the planner asks for (validation allows 1 to 12 from any source);
    /// a model decoding under the plan grammar cannot give fewer than `min_steps`.
    pub min_steps: usize,
    pub max_steps: usize,
}

impl Default for PlannerSettings {
    fn default() -> Self {
        PlannerSettings {
            max_tokens: 700,
            temperature: 0.3,
            min_steps: 3,
            max_steps: 5,
        }
    }
}

pub struct PlannerRun {
    pub provider: Arc<dyn Provider>,
    /// Instead of the provider's own model (a session's choice).
    pub model: Option<String>,
    pub roles: RoleBook,
    pub goal: String,
    pub settings: PlannerSettings,
    pub mode: CallMode,
    pub control: CallControl,
    pub reporter: Reporter,
}

const ATTEMPTS: u32 = 2;

pub async fn run_planner(run: PlannerRun) -> PlanOutcome {
    let names = run.roles.names();
    let mut previous: Option<(String, String)> = None;
    let mut last_error = String::new();
    for attempt in 1..=ATTEMPTS {
        run.reporter.event(Event::PlanningStarted { attempt });
        let mut request = ChatRequest::new(planner_messages(
            &run.goal,
            &run.roles,
            (run.settings.min_steps, run.settings.max_steps),
            previous.as_ref().map(|(r, e)| (r.as_str(), e.as_str())),
        ));
        request.max_tokens = run.settings.max_tokens;
        request.temperature = run.settings.temperature;
        request.mode = run.mode;
        request.seed = attempt;
        request.model = run.model.clone();
        if run.provider.supports_grammar() {
            request.grammar = Some(plan_grammar(
                &names,
                run.settings.min_steps,
                run.settings.max_steps,
            ));
        }
        let end = measured_call(&*run.provider, request, &run.control, |update| {
            if let Some(event) = update_event(None, update) {
                run.reporter.event(event);
            }
        })
        .await;
        match end {
            CallEnd::Finished { text, stats, .. } => {
                run.reporter.event(Event::CallFinished {
                    step: None,
                    call: stats,
                });
                match parse_plan(&text).and_then(|plan| validate(plan, &names)) {
                    Ok(plan) => {
                        return PlanOutcome::Ready {
                            plan,
                            source: PlanSource::Model,
                        };
                    }
                    Err(e) => {
                        last_error = e.to_string();
                        previous = Some((text, last_error.clone()));
                    }
                }
            }
            CallEnd::Failed(error) => {
                run.reporter.event(Event::CallFailed {
                    step: None,
                    error: error.message.clone(),
                    kind: Some(error.kind),
                });
                last_error = format!("the planner call failed: {}", error.message);
                previous = None;
            }
            CallEnd::Cancelled => return PlanOutcome::Interrupted { forced: false },
        }
        run.reporter.event(Event::PlanRejected {
            attempt,
            error: last_error.clone(),
        });
    }
    run.reporter.event(Event::Warning {
        step: None,
        message: format!(
            "no valid plan after {ATTEMPTS} attempts ({last_error}); using the default \
             research -> analyze -> write plan"
        ),
    });
    PlanOutcome::Ready {
        plan: Plan::default_for(&run.goal),
        source: PlanSource::Default,
    }
}
