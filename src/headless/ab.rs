//! `el-jefe ab`: the same plan on two providers at once. A goal is planned once, by side A;
//! side B starts with A's plan as soon as it is ready, so both run the very same steps.

use std::collections::HashMap;
use std::io::Write;

use tokio::sync::mpsc::UnboundedReceiver;

use super::run::{Approvals, Start};
use crate::engine::EngineHandle;
use crate::session::event::{EngineEvent, Event};
use crate::session::ids::SessionId;
use crate::session::provider_choice::ProviderChoice;
use crate::session::session_fold::{SessionState, SessionStatus};

/// The two sides, as they ended.
pub struct AbEnd {
    pub a: SessionState,
    pub b: SessionState,
}

impl AbEnd {
    /// 0 when both completed, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        let done = |s: &SessionState| s.status == SessionStatus::Completed;
        if done(&self.a) && done(&self.b) { 0 } else { 1 }
    }
}

/// Runs both sides to their end, telling their progress on `progress` (a line per step end).
/// Ctrl-C interrupts both and waits for them to be saved.
pub async fn run_ab(
    engine: &EngineHandle,
    events: &mut UnboundedReceiver<EngineEvent>,
    start: Start,
    sides: (ProviderChoice, ProviderChoice),
    approvals: &Approvals,
    progress: &mut impl Write,
) -> anyhow::Result<AbEnd> {
    let (engine_a, engine_b) = (
        engine.clone().with_providers(sides.0),
        engine.clone().with_providers(sides.1),
    );
    let (id_a, mut id_b, goal) = match start {
        Start::Plan { goal, plan, budget } => {
            let (a, b) = match budget {
                Some(budget) => (
                    engine_a.start_session_with_budget(
                        &goal,
                        Some(plan.clone()),
                        budget.clone(),
                    )?,
                    engine_b.start_session_with_budget(&goal, Some(plan), budget)?,
                ),
                None => (
                    engine_a.start_session_with_plan(&goal, plan.clone())?,
                    engine_b.start_session_with_plan(&goal, plan)?,
                ),
            };
            (a, Some(b), goal)
        }
        Start::Goal(goal) => (engine_a.start_session(&goal)?, None, goal),
        Start::Resume(..) | Start::Fork { .. } => {
            anyhow::bail!("an A/B run starts from a goal or a plan file")
        }
    };
    let mut states: HashMap<SessionId, SessionState> = HashMap::new();
    let mut interrupted = false;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        let ended = |id: Option<&SessionId>| {
            id.and_then(|id| states.get(id))
                .is_some_and(|s| s.ended_at_ms.is_some() && !s.status.is_active())
        };
        let a_ended = ended(Some(&id_a));
        if a_ended && ended(id_b.as_ref()) {
            break;
        }
        if a_ended && id_b.is_none() {
            let a = &states[&id_a];
            anyhow::bail!(
                "side A ({id_a}) ended before it had a plan ({}); B did not start",
                a.error.as_deref().unwrap_or(a.status.label())
            );
        }
        let event = tokio::select! {
            event = events.recv() => event,
            _ = &mut ctrl_c, if !interrupted => {
                interrupted = true;
                writeln!(progress, "Interrupting both sides...")?;
                engine.interrupt_session(&id_a)?;
                if let Some(b) = &id_b {
                    engine.interrupt_session(b)?;
                }
                continue;
            }
        };
        match event {
            Some(EngineEvent::Events(batch)) => {
                for env in batch.iter() {
                    let side = if env.session == id_a {
                        "A"
                    } else if Some(&env.session) == id_b.as_ref() {
                        "B"
                    } else {
                        continue;
                    };
                    let state = states
                        .entry(env.session.clone())
                        .or_insert_with(|| SessionState::new(env.session.clone()));
                    state.apply(env);
                    if let Event::ApprovalRequested { call_id, tool, .. } = &env.event {
                        engine.decide_approval(&env.session, call_id, approvals.decide(tool))?;
                    }
                    if let Some(line) = progress_line(side, state, &env.event) {
                        writeln!(progress, "{line}")?;
                    }
                    // B runs A's plan, planned once.
                    if side == "A"
                        && id_b.is_none()
                        && let Event::PlanReady { plan, .. } = &env.event
                    {
                        id_b = Some(engine_b.start_session_with_plan(&goal, plan.clone())?);
                    }
                }
            }
            Some(EngineEvent::Rejected { command, reason }) => {
                anyhow::bail!("cannot {command}: {reason}");
            }
            Some(EngineEvent::Link { message, .. }) => writeln!(progress, "el-jefe: {message}")?,
            Some(EngineEvent::Problem { message }) => {
                writeln!(progress, "el-jefe: warning: {message}")?;
            }
            Some(EngineEvent::ModeChanged(_)) => {}
            Some(EngineEvent::ShutDown) | None => {
                anyhow::bail!("the engine stopped before both sides ended")
            }
        }
    }
    let take = |id: &SessionId, states: &mut HashMap<SessionId, SessionState>| {
        states
            .remove(id)
            .unwrap_or_else(|| SessionState::new(id.clone()))
    };
    let b = id_b.unwrap_or_else(|| id_a.clone());
    Ok(AbEnd {
        a: take(&id_a, &mut states),
        b: take(&b, &mut states),
    })
}

fn progress_line(side: &str, state: &SessionState, event: &Event) -> Option<String> {
    let step_words = |step: &crate::session::ids::StepId| {
        state.step(step).map_or_else(
            || format!("step {step}"),
            |s| format!("step {step} ({})", s.spec.agent),
        )
    };
    if let Event::SessionCreated {
        provider, model, ..
    } = event
    {
        return Some(format!(
            "{side} {} started on {provider} ({model})",
            state.id
        ));
    }
    if let Event::PlanReady { plan, .. } = event {
        return Some(format!("{side} plan: {} steps", plan.steps.len()));
    }
    if let Event::StepCompleted { step, .. } = event {
        return Some(format!("{side} ✓ {}", step_words(step)));
    }
    if let Event::StepFailed { step, error } = event {
        return Some(format!("{side} ✗ {}: {error}", step_words(step)));
    }
    event
        .ends_session()
        .then(|| format!("{side} {}", state.status.label()))
}
