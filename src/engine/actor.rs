//! The engine actor: the one task that owns every session's state.
//!
//! Commands come in from front ends, reports come in from agent and planner tasks; every change
//! becomes an event that is folded into the session state, journaled, and sent to the front ends,
//! always in that order and always through `emit`, so the three never disagree.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::oneshot;

use super::clock::Clock;
use super::handle::EngineHandle;
use super::request::{Issued, Request};
use crate::session::budget::{Budget, Price};
use crate::session::call::CallMode;
use crate::session::command::Command;
use crate::session::event::{EngineEvent, Envelope, Event};

mod budget_watch;
mod forks;
mod reports;
mod running;
mod sessions;

use super::live_session::LiveSession;
use super::planner::PlannerSettings;
use super::roles::RoleBook;
use super::task::Report;
use crate::provider::routes::Routes;
use crate::provider::{Provider, ToolSpec};
use crate::session::health::HealthSettings;
use crate::session::ids::SessionId;
use crate::session::redact::Redactor;
use crate::store::{Store, StoreProblem};
use crate::tools::ToolRegistry;
use sessions::Given;

/// How often stalls and wall-time budgets are looked at, at most.
const WATCH_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub max_parallel: usize,
    pub mode: CallMode,
    pub workspace_root: PathBuf,
    pub roles: RoleBook,
    pub planner: PlannerSettings,
    /// How much of each dependency's output a step is given as context.
    pub context_chars_per_dependency: usize,
    /// The tools agents may use, with their policies.
    pub tools: Arc<ToolRegistry>,
    /// Provider calls one step may make (each tool round is one) before it must answer.
    pub max_tool_rounds: u32,
    /// When an agent counts as stalled, and what is done about it.
    pub health: HealthSettings,
    /// Caps every new session starts with (a plan file may bring its own).
    pub budget: Budget,
    /// Price per model, for money caps and cost figures.
    pub prices: BTreeMap<String, Price>,
    /// The API keys in use: hidden from every event before it is kept or shown.
    pub redactor: Redactor,
}

/// Starts the engine on the current tokio runtime. Sessions left running by a process that died
/// are marked interrupted first.
pub fn start_engine(
    settings: EngineSettings,
    provider: Arc<dyn Provider>,
    store: Store,
) -> (EngineHandle, UnboundedReceiver<EngineEvent>) {
    start_engine_routed(settings, Routes::single(provider), store)
}

/// As `start_engine`, with a provider chosen per agent role.
pub fn start_engine_routed(
    settings: EngineSettings,
    routes: Routes,
    store: Store,
) -> (EngineHandle, UnboundedReceiver<EngineEvent>) {
    let clock = Clock::new();
    store.recover_orphans(clock.now_ms());
    let (cmd_tx, cmd_rx) = unbounded_channel();
    let (out_tx, out_rx) = unbounded_channel();
    let (reports_tx, reports_rx) = unbounded_channel();
    let problems = store.take_problems();
    let actor = Actor {
        mode: settings.mode,
        settings,
        routes,
        store,
        out: out_tx,
        reports_tx,
        sessions: FxHashMap::default(),
        clock,
        touched: FxHashSet::default(),
        shutdown: None,
        outbox: Vec::new(),
        spent: FxHashSet::default(),
        offered_tools: HashMap::new(),
        turn_ms: clock.now_ms(),
        issuer: None,
    };
    tokio::spawn(actor.run(cmd_rx, reports_rx, problems));
    (EngineHandle::new(cmd_tx), out_rx)
}

struct Actor {
    settings: EngineSettings,
    routes: Routes,
    store: Store,
    out: UnboundedSender<EngineEvent>,
    reports_tx: UnboundedSender<Report>,
    sessions: FxHashMap<SessionId, LiveSession>,
    mode: CallMode,
    clock: Clock,
    /// Sessions changed in this turn: scheduling looks at them once the turn's messages are in.
    touched: FxHashSet<SessionId>,
    /// Set once shutting down: who to tell when done.
    shutdown: Option<Vec<oneshot::Sender<()>>>,
    /// Events of this turn: sent to front ends at the end of the turn, once journaled.
    outbox: Vec<Arc<Envelope>>,
    /// Sessions that spent something this turn: their budgets are checked at its end.
    spent: FxHashSet<SessionId>,
    /// When this turn began (ms since the epoch): every event of a turn carries it, read once
    /// instead of at each of thousands of events.
    turn_ms: i64,
    /// Who issued the command being carried out: the events it causes record it.
    issuer: Option<String>,
    /// The tools each role is offered: the registry is fixed for the engine's life, so the
    /// list is built once per role, not once per step.
    offered_tools: HashMap<String, Arc<[ToolSpec]>>,
}

impl Actor {
    async fn run(
        mut self,
        mut commands: UnboundedReceiver<Request>,
        mut reports: UnboundedReceiver<Report>,
        mut problems: Option<UnboundedReceiver<StoreProblem>>,
    ) {
        let mut command_buf = Vec::with_capacity(64);
        let mut report_buf = Vec::with_capacity(1024);
        let mut commands_open = true;
        // Stalls and wall-time budgets are watched on a timer; budgets may be set at any time,
        // so it always runs, at least once a second.
        let every = self
            .settings
            .health
            .check_every()
            .map_or(WATCH_PERIOD, |e| e.min(WATCH_PERIOD));
        let mut watch = tokio::time::interval(every);
        watch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                n = commands.recv_many(&mut command_buf, 64), if commands_open => {
                    self.turn_ms = self.clock.now_ms();
                    if n == 0 {
                        // Every handle is gone: nobody can steer the sessions any more.
                        commands_open = false;
                        self.begin_shutdown(None);
                    }
                    for request in command_buf.drain(..) {
                        match request {
                            Request::Command(issued) => self.on_command(issued),
                            Request::Shutdown(done) => self.begin_shutdown(Some(done)),
                        }
                    }
                }
                _ = reports.recv_many(&mut report_buf, 1024) => {
                    self.turn_ms = self.clock.now_ms();
                    for report in report_buf.drain(..) {
                        self.on_report(report);
                    }
                }
                Some(problem) = next_problem(&mut problems) => {
                    self.turn_ms = self.clock.now_ms();
                    self.on_store_problem(problem);
                }
                _ = watch.tick() => {
                    self.turn_ms = self.clock.now_ms();
                    self.check_health();
                    let budgeted: Vec<SessionId> = self
                        .sessions
                        .iter()
                        .filter(|(_, l)| !l.state.budget.is_empty())
                        .map(|(id, _)| id.clone())
                        .collect();
                    self.spent.extend(budgeted);
                }
            }
            for id in std::mem::take(&mut self.spent) {
                self.check_budget(&id);
            }
            self.advance_touched();
            self.end_turn();
            if self.shutdown.is_some() && self.sessions.values().all(|s| s.tasks.is_empty()) {
                break;
            }
        }
        let store = self.store.clone();
        let _ = tokio::task::spawn_blocking(move || store.flush()).await;
        let _ = self.out.send(EngineEvent::ShutDown);
        for done in self.shutdown.take().into_iter().flatten() {
            let _ = done.send(());
        }
    }

    fn emit(&mut self, id: &SessionId, mut event: Event) {
        let Some(live) = self.sessions.get_mut(id) else {
            return;
        };
        event.redact(&self.settings.redactor);
        let envelope = Arc::new(Envelope {
            seq: live.state.last_seq + 1,
            at_ms: self.turn_ms,
            session: id.clone(),
            by: self.issuer.clone(),
            event,
        });
        // Text and call reports change nothing the scheduler looks at; skipping them keeps the
        // per-delta path short.
        let reschedule = !matches!(
            envelope.event,
            Event::TextDelta { .. }
                | Event::CallFinished { .. }
                | Event::CallFailed { .. }
                | Event::CallQueued { .. }
                | Event::CallDequeued { .. }
        );
        if matches!(
            envelope.event,
            Event::CallFinished { .. } | Event::ToolCallRequested { .. }
        ) && !live.state.budget.is_empty()
        {
            self.spent.insert(id.clone());
        }
        live.state.apply(&envelope);
        if let Some(journal) = &mut live.journal {
            journal.append(&envelope);
        }
        self.outbox.push(envelope);
        if reschedule {
            self.touched.insert(id.clone());
        }
    }

    /// Writes the turn's events to the journals, then tells the front ends: a front end never
    /// shows anything a kill -9 could still take back.
    fn end_turn(&mut self) {
        let mut failures = Vec::new();
        for (id, live) in &mut self.sessions {
            if let Some(journal) = &mut live.journal {
                match journal.write_out() {
                    Ok(()) => live.journal_failed = false,
                    Err(e) if !live.journal_failed => {
                        live.journal_failed = true;
                        failures.push((id.clone(), e));
                    }
                    Err(_) => {}
                }
            }
        }
        if !self.outbox.is_empty() {
            let _ = self
                .out
                .send(EngineEvent::Events(std::mem::take(&mut self.outbox)));
        }
        for (id, e) in failures {
            tracing::error!("journal of {id}: {e}");
            self.emit(
                &id,
                Event::Warning {
                    message: format!("could not write the journal: {e}; progress may not be saved"),
                    step: None,
                },
            );
        }
    }

    fn reject(&self, command: String, reason: impl Into<String>) {
        let reason = reason.into();
        tracing::warn!(%command, %reason, "command rejected");
        let _ = self.out.send(EngineEvent::Rejected { command, reason });
    }

    fn on_store_problem(&mut self, problem: StoreProblem) {
        let _ = self.out.send(EngineEvent::Problem {
            message: problem.message,
        });
    }

    /// One call per command; what cannot be done is rejected with the reason. The events the
    /// command causes record who issued it.
    fn on_command(&mut self, issued: Issued) {
        let Issued { command, by, reply } = issued;
        let label = command.label();
        self.issuer = by;
        let done = self.carry_out(command);
        self.issuer = None;
        match (done, reply) {
            (Ok(()), Some(reply)) => {
                let _ = reply.send(Ok(()));
            }
            (Ok(()), None) => {}
            (Err(reason), Some(reply)) => {
                tracing::warn!(command = %label, %reason, "command rejected");
                let _ = reply.send(Err(reason));
            }
            (Err(reason), None) => self.reject(label, reason),
        }
    }

    fn carry_out(&mut self, command: Command) -> Result<(), String> {
        match command {
            Command::StartSession {
                id,
                goal,
                created_at,
                plan,
                budget,
                origin,
                providers,
            } => self.start_with_budget(
                &id,
                &goal,
                created_at,
                Given {
                    plan,
                    budget,
                    origin,
                    providers,
                },
            ),
            Command::ForkSession {
                id,
                parent,
                at,
                created_at,
                providers,
            } => self.fork_session(
                &id,
                forks::ForkOrder {
                    parent,
                    at,
                    created_at,
                    providers,
                },
            ),
            Command::SetBudget { session, budget } => self.set_budget(&session, budget),
            Command::PauseStep { session, step } => self.set_step_paused(&session, &step, true),
            Command::ResumeStep { session, step } => self.set_step_paused(&session, &step, false),
            Command::PauseSession { session } => self.set_session_paused(&session, true),
            Command::UnpauseSession { session } => self.set_session_paused(&session, false),
            Command::InterruptStep { session, step } => self.interrupt_step(&session, &step),
            Command::InterruptSession { session } => self.interrupt_session(&session),
            Command::ResumeSession { session } => self.resume_session(&session),
            Command::DecideApproval {
                session,
                call_id,
                decision,
            } => self.decide_approval(&session, &call_id, decision),
            Command::EditPlan { session, edit } => self.edit_plan(&session, edit),
            Command::SetMode { mode } => {
                self.set_mode(mode);
                Ok(())
            }
        }
    }
}

async fn next_problem(
    problems: &mut Option<UnboundedReceiver<StoreProblem>>,
) -> Option<StoreProblem> {
    match problems {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
