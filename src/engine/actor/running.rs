//! The actor starting work: ready steps and planners become tasks; a session that can do no
//! more ends and lets its journal go.

use std::future::Future;

use super::Actor;
use crate::engine::agent::{StepRun, StepTools, run_step};
use crate::engine::live_session::RunningTask;
use crate::engine::planner::{PlannerRun, run_planner};
use crate::engine::step_prep::{Preparation, PreparedStep, StepSettings, prepare_step};
use crate::engine::task::{Interruptible, ReportKind, Reporter, TaskKey, spawn_supervised};
use crate::provider::{CallControl, PauseSwitch};
use crate::session::event::{EngineEvent, Event, InterruptReason};
use crate::session::ids::{SessionId, StepId};
use crate::session::scheduling::{Outcome, ready_steps, settled_outcome};
use crate::tools::Sandbox;

impl Actor {
    pub(super) fn advance_touched(&mut self) {
        let touched: Vec<SessionId> = self.touched.drain().collect();
        for id in touched {
            self.advance(&id);
        }
    }

    /// Starts what can start and ends the session when nothing more can happen.
    pub(super) fn advance(&mut self, id: &SessionId) {
        let Some(live) = self.sessions.get_mut(id) else {
            return;
        };
        if live.interrupting {
            if live.tasks.is_empty() {
                live.interrupting = false;
                self.emit(
                    id,
                    Event::SessionInterrupted {
                        reason: InterruptReason::User,
                    },
                );
                self.close_journal(id);
            }
            return;
        }
        let max_parallel = self.settings.max_parallel;
        for step in ready_steps(&live.state, max_parallel) {
            self.start_step(id, &step);
        }
        let Some(live) = self.sessions.get(id) else {
            return;
        };
        let ending = match settled_outcome(&live.state, max_parallel) {
            None => return,
            Some(Outcome::Completed) => Event::SessionCompleted,
            Some(Outcome::Failed { error }) => Event::SessionFailed { error },
            Some(Outcome::Interrupted) => Event::SessionInterrupted {
                reason: InterruptReason::User,
            },
        };
        self.emit(id, ending);
        self.close_journal(id);
    }

    /// The session ended: its journal is written out (and synced) and its lock released, so
    /// another process may take it over.
    pub(super) fn close_journal(&mut self, id: &SessionId) {
        if let Some(live) = self.sessions.get(id) {
            let m = live.state.metrics(self.clock.now_ms());
            tracing::info!(
                session = %id,
                status = live.state.status.label(),
                steps_completed = m.steps.completed,
                steps = m.steps.total(),
                tokens = m.totals.total_tokens(),
                wall_ms = m.wall_ms,
                "session ended"
            );
        }
        if let Some(mut journal) = self.sessions.get_mut(id).and_then(|l| l.journal.take())
            && let Err(e) = journal.write_out()
        {
            tracing::error!("journal of {id}: {e}");
            let _ = self.out.send(EngineEvent::Problem {
                message: format!("could not write the end of {id}'s journal: {e}"),
            });
        }
    }

    /// Spawns a task under the session's cancellation token and registers it.
    pub(super) fn launch<F, O>(
        &mut self,
        id: &SessionId,
        key: TaskKey,
        attempt: u32,
        make: impl FnOnce(CallControl, Reporter) -> F,
    ) where
        F: Future<Output = O> + Send + 'static,
        O: Interruptible + Into<ReportKind> + Send + 'static,
    {
        let Some(live) = self.sessions.get_mut(id) else {
            return;
        };
        let cancel = live.cancel.child_token();
        let (pause, signal) = PauseSwitch::new();
        pause.set(live.state.paused);
        let control = CallControl {
            cancel: cancel.clone(),
            pause: signal,
        };
        let reporter = Reporter {
            session: id.clone(),
            task: key.clone(),
            attempt,
            tx: self.reports_tx.clone(),
        };
        let join = spawn_supervised(make(control, reporter.clone()), cancel.clone(), reporter);
        live.tasks.insert(
            key,
            RunningTask {
                attempt,
                cancel,
                pause,
                join,
                last_progress_ms: self.clock.now_ms(),
                stall_reported: false,
            },
        );
    }

    pub(super) fn start_planner(&mut self, id: &SessionId) {
        let Some(live) = self.sessions.get_mut(id) else {
            return;
        };
        live.planner_runs += 1;
        let attempt = live.planner_runs;
        let goal = live.state.goal.clone();
        let route = live.routes.default_route().clone();
        let roles = self.settings.roles.clone();
        let settings = self.settings.planner.clone();
        let mode = self.mode;
        self.launch(id, TaskKey::Planner, attempt, |control, reporter| {
            run_planner(PlannerRun {
                provider: route.provider,
                model: route.model,
                roles,
                goal,
                settings,
                mode,
                control,
                reporter,
            })
        });
    }

    /// The session's workspace sandbox, made (the directory created, its path resolved) once
    /// per session rather than on every step.
    pub(super) fn sandbox(
        &mut self,
        id: &SessionId,
        workspace: &std::path::Path,
    ) -> std::io::Result<Sandbox> {
        if let Some(sandbox) = self.sessions.get(id).and_then(|l| l.sandbox.clone()) {
            return Ok(sandbox);
        }
        let sandbox = Sandbox::new(workspace)?;
        if let Some(live) = self.sessions.get_mut(id) {
            live.sandbox = Some(sandbox.clone());
        }
        Ok(sandbox)
    }

    pub(super) fn start_step(&mut self, id: &SessionId, step: &StepId) {
        let Some(live) = self.sessions.get(id) else {
            return;
        };
        let routes = &live.routes;
        let registry = &self.settings.tools;
        let cache = &mut self.offered_tools;
        let prepared = prepare_step(
            &live.state,
            step,
            StepSettings {
                roles: &self.settings.roles,
                mode: self.mode,
                context_chars_per_dependency: self.settings.context_chars_per_dependency,
                seed: fastrand::u32(..),
                tools_only_when_asked: &|role| {
                    routes.for_role(&role.name).provider.tools_only_when_asked()
                },
                offered: &mut |role| {
                    cache
                        .entry(role.name.clone())
                        .or_insert_with(|| {
                            registry.offered(&role.name, role.tools.as_deref()).into()
                        })
                        .clone()
                },
            },
        );
        let prepared = match prepared {
            None => return,
            Some(Preparation::Ready(p)) => *p,
            Some(Preparation::UnknownRole { agent, attempt }) => {
                let error = format!("unknown agent role `{agent}`");
                self.emit(
                    id,
                    Event::StepStarted {
                        step: step.clone(),
                        agent,
                        attempt,
                        max_tokens: 0,
                        continues: false,
                    },
                );
                return self.emit(
                    id,
                    Event::StepFailed {
                        step: step.clone(),
                        error,
                    },
                );
            }
        };
        self.run_prepared(id, step, prepared);
    }

    /// Records the start of a prepared attempt and launches its agent task.
    fn run_prepared(&mut self, id: &SessionId, step: &StepId, prepared: PreparedStep) {
        let PreparedStep {
            agent,
            attempt,
            mut request,
            continues,
            earlier_turns,
            workspace,
        } = prepared;
        let Some(route) = self.sessions.get(id).map(|l| l.routes.for_role(&agent)) else {
            return;
        };
        self.emit(
            id,
            Event::StepStarted {
                step: step.clone(),
                agent: agent.clone(),
                attempt,
                max_tokens: request.max_tokens,
                continues,
            },
        );
        let tools = if request.tools.is_empty() {
            None
        } else {
            match self.sandbox(id, &workspace) {
                Ok(sandbox) => Some(StepTools {
                    registry: self.settings.tools.clone(),
                    sandbox,
                    role: agent,
                    max_rounds: self.settings.max_tool_rounds,
                }),
                Err(e) => {
                    return self.emit(
                        id,
                        Event::StepFailed {
                            step: step.clone(),
                            error: format!(
                                "the workspace {} is not usable: {e}",
                                workspace.display()
                            ),
                        },
                    );
                }
            }
        };
        // The config's per-role model beats the one in the agent's file.
        if route.model.is_some() {
            request.model = route.model;
        }
        let provider = route.provider;
        let step_id = step.clone();
        self.launch(
            id,
            TaskKey::Step(step.clone()),
            attempt,
            |control, reporter| {
                run_step(StepRun {
                    provider,
                    step: step_id,
                    request,
                    control,
                    reporter,
                    tools,
                    earlier_turns,
                })
            },
        );
    }
}
