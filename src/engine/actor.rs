//! The engine actor: the one task that owns every session's state.
//!
//! Commands come in from front ends, reports come in from agent and planner tasks; every change
//! becomes an event that is folded into the session state, journaled, and sent to the front ends,
//! always in that order and always through `emit`, so the three never disagree.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::oneshot;

use super::agent::{StepRun, StepTools, run_step};
use super::clock::Clock;
use super::handle::EngineHandle;
use super::request::Request;
use crate::session::budget::{Budget, Price};
use crate::session::call::CallMode;
use crate::session::command::Command;
use crate::session::event::{ApprovalDecision, EngineEvent, Envelope, Event, InterruptReason};

mod budget_watch;
use super::live_session::{LiveSession, RunningTask, WaitingApproval};
use super::planner::{PlannerRun, PlannerSettings, run_planner};
use super::roles::RoleBook;
use super::step_prep::{Preparation, PreparedStep, StepSettings, prepare_step};
use super::task::{
    Interruptible, PlanOutcome, Report, ReportKind, Reporter, StepOutcome, TaskKey,
    spawn_supervised,
};
use crate::provider::routes::Routes;
use crate::provider::{CallControl, PauseSwitch, Provider, ToolSpec};
use crate::session::health::{HealthSettings, StallAction, is_stalled};
use crate::session::ids::{SessionId, StepId};
use crate::session::plan::{Plan, PlanSource};
use crate::session::plan_edit::{PlanEdit, apply_edit};
use crate::session::plan_validation::{MAX_GIVEN_STEPS, validate_with_limit};
use crate::session::redact::Redactor;
use crate::session::scheduling::{Outcome, ready_steps, settled_outcome};
use crate::session::session_fold::{SessionState, StepStatus};
use crate::store::paths::{slug, workspace_path};
use crate::store::{Store, StoreProblem};
use crate::tools::{Sandbox, ToolRegistry};

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
                            Request::Command(command) => self.on_command(command),
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

    fn on_command(&mut self, command: Command) {
        let label = command.label();
        match command {
            Command::StartSession {
                id,
                goal,
                created_at,
                plan,
                budget,
            } => {
                if self.shutdown.is_some() {
                    return self.reject(label, "el-jefe is shutting down");
                }
                if let Err(reason) = self.start_session(&id, &goal, created_at, plan) {
                    return self.reject(label, reason);
                }
                let budget = budget.unwrap_or_else(|| self.settings.budget.clone());
                if !budget.is_empty() {
                    self.emit(&id, Event::BudgetSet { budget });
                }
            }
            Command::SetBudget { session, budget } => {
                if let Err(reason) = self.set_budget(&session, budget) {
                    self.reject(label, reason);
                }
            }
            Command::PauseStep { session, step } => {
                self.set_step_paused(label, &session, &step, true)
            }
            Command::ResumeStep { session, step } => {
                self.set_step_paused(label, &session, &step, false)
            }
            Command::PauseSession { session } => self.set_session_paused(label, &session, true),
            Command::UnpauseSession { session } => self.set_session_paused(label, &session, false),
            Command::InterruptStep { session, step } => {
                match self
                    .sessions
                    .get(&session)
                    .and_then(|live| live.tasks.get(&TaskKey::Step(step.clone())))
                {
                    Some(task) => task.cancel.cancel(),
                    None => self.reject(label, format!("step {step} of {session} is not running")),
                }
            }
            Command::InterruptSession { session } => self.interrupt_session(label, &session),
            Command::ResumeSession { session } => {
                if self.shutdown.is_some() {
                    return self.reject(label, "el-jefe is shutting down");
                }
                if let Err(reason) = self.resume_session(&session) {
                    self.reject(label, reason);
                }
            }
            Command::DecideApproval {
                session,
                call_id,
                decision,
            } => self.decide_approval(label, &session, &call_id, decision),
            Command::EditPlan { session, edit } => {
                if let Err(reason) = self.edit_plan(&session, edit) {
                    self.reject(label, reason);
                }
            }
            Command::SetMode(mode) => {
                self.mode = mode;
                let _ = self.out.send(EngineEvent::ModeChanged(mode));
            }
        }
    }

    fn start_session(
        &mut self,
        id: &SessionId,
        goal: &str,
        created_at: chrono::DateTime<chrono::Local>,
        plan: Option<Plan>,
    ) -> Result<(), String> {
        let goal = goal.trim();
        if goal.is_empty() {
            return Err("the goal is empty".into());
        }
        let plan = match plan {
            Some(plan) => Some(
                validate_with_limit(plan, &self.settings.roles.names(), MAX_GIVEN_STEPS)
                    .map_err(|e| format!("invalid plan: {e}"))?,
            ),
            None => None,
        };
        if self.sessions.contains_key(id) {
            return Err(format!("session {id} already exists"));
        }
        let workspace = workspace_path(&self.settings.workspace_root, goal, created_at);
        std::fs::create_dir_all(&workspace)
            .map_err(|e| format!("cannot create the workspace {}: {e}", workspace.display()))?;
        let journal = self.store.create_session(id).map_err(|e| e.to_string())?;
        tracing::info!(session = %id, goal, given_plan = plan.is_some(), "session started");
        self.sessions.insert(
            id.clone(),
            LiveSession::new(SessionState::new(id.clone()), journal),
        );
        self.emit(
            id,
            Event::SessionCreated {
                goal: goal.to_string(),
                workspace,
                mode: self.mode,
                provider: self.routes.default_provider().name().to_string(),
                model: self.routes.default_provider().model().to_string(),
                max_parallel: self.settings.max_parallel,
            },
        );
        match plan {
            Some(plan) => self.emit(
                id,
                Event::PlanReady {
                    plan,
                    source: PlanSource::Given,
                },
            ),
            None => self.start_planner(id),
        }
        Ok(())
    }

    fn resume_session(&mut self, id: &SessionId) -> Result<(), String> {
        if let Some(live) = self.sessions.get(id)
            && live.journal.is_some()
        {
            if live.interrupting {
                return Err(format!("{id} is being interrupted"));
            }
            if live.state.steps_to_retry().next().is_none() {
                return Err(format!("{id} is already {}", live.state.status.label()));
            }
            // Running, with some steps interrupted on their own: run those again.
            self.emit(id, Event::SessionResumed);
            return Ok(());
        }
        if let Some(live) = self.sessions.get(id)
            && !live.state.status.can_resume()
        {
            let status = live.state.status.label();
            return Err(format!("{id} is {status} and cannot be resumed"));
        }
        let (journal, stored) = self.store.reopen_session(id).map_err(|e| e.to_string())?;
        if !stored.state.status.can_resume() {
            return Err(format!(
                "{id} is {} and cannot be resumed",
                stored.state.status.label()
            ));
        }
        tracing::info!(session = %id, "session resumed");
        self.sessions
            .insert(id.clone(), LiveSession::new(stored.state, journal));
        for message in stored.warnings {
            self.emit(
                id,
                Event::Warning {
                    message,
                    step: None,
                },
            );
        }
        self.emit(id, Event::SessionResumed);
        if !self.sessions[id].state.has_plan() {
            self.start_planner(id);
        }
        Ok(())
    }

    /// Edits a session's plan. A session that is not running here is taken over from disk for
    /// the edit and let go again; `resume` then runs what the edit left waiting.
    fn edit_plan(&mut self, id: &SessionId, edit: PlanEdit) -> Result<(), String> {
        let running_here = self.running_here(id);
        if !running_here {
            self.take_over(id)?;
        }
        let checked = self.check_edit(id, &edit);
        if let Ok(stale) = &checked {
            self.emit(
                id,
                Event::PlanEdited {
                    edit,
                    stale: stale.clone(),
                },
            );
        }
        if !running_here {
            self.close_journal(id);
        }
        checked.map(|_| ())
    }

    /// The session is running in this process, its journal open.
    fn running_here(&self, id: &SessionId) -> bool {
        self.sessions.get(id).is_some_and(|l| l.journal.is_some())
    }

    /// Takes a session that is not running here over from disk, journal locked, so an event can
    /// be written to it; `close_journal` lets it go again.
    fn take_over(&mut self, id: &SessionId) -> Result<(), String> {
        if self.shutdown.is_some() {
            return Err("el-jefe is shutting down".into());
        }
        let (journal, stored) = self.store.reopen_session(id).map_err(|e| e.to_string())?;
        self.sessions
            .insert(id.clone(), LiveSession::new(stored.state, journal));
        Ok(())
    }

    /// The steps the edit makes stale, or why it cannot be made now.
    fn check_edit(&self, id: &SessionId, edit: &PlanEdit) -> Result<Vec<StepId>, String> {
        let live = &self.sessions[id];
        let state = &live.state;
        if live.interrupting {
            return Err(format!("{id} is being interrupted"));
        }
        if !state.has_plan() {
            return Err(format!(
                "{id} has no plan yet; edit it once planning is done"
            ));
        }
        if state.status.is_active() && live.journal.is_none() {
            return Err(format!("{id} is {}", state.status.label()));
        }
        let status = |step: &StepId| state.step(step).map_or(StepStatus::Pending, |s| s.status);
        apply_edit(&state.plan(), status, edit, &self.settings.roles.names())
            .map(|outcome| outcome.stale)
            .map_err(|e| e.to_string())
    }

    fn set_step_paused(&mut self, label: String, id: &SessionId, step: &StepId, paused: bool) {
        let Some(live) = self.sessions.get(id) else {
            return self.reject(label, format!("no running session {id}"));
        };
        let status = live.state.step(step).map(|s| s.status);
        let task = live.tasks.get(&TaskKey::Step(step.clone()));
        let event = match (task, status, paused) {
            (Some(task), Some(StepStatus::Running), true) => {
                task.pause.set(true);
                Event::StepPaused { step: step.clone() }
            }
            (Some(task), Some(StepStatus::Paused), false) => {
                task.pause.set(false);
                Event::StepResumed { step: step.clone() }
            }
            (_, Some(status), _) => {
                return self.reject(label, format!("step {step} is {}", status.label()));
            }
            (_, None, _) => return self.reject(label, format!("{id} has no step {step}")),
        };
        self.emit(id, event);
    }

    fn set_session_paused(&mut self, label: String, id: &SessionId, paused: bool) {
        let Some(live) = self.sessions.get(id) else {
            return self.reject(label, format!("no running session {id}"));
        };
        if !live.state.status.is_active() || live.interrupting {
            return self.reject(label, format!("{id} is {}", live.state.status.label()));
        }
        if live.state.paused == paused {
            let already = if paused { "paused" } else { "not paused" };
            return self.reject(label, format!("{id} is already {already}"));
        }
        let mut changed: Vec<StepId> = live
            .tasks
            .iter()
            .filter(|(_, task)| task.pause.set(paused))
            .filter_map(|(key, _)| match key {
                TaskKey::Step(step) => Some(step.clone()),
                TaskKey::Planner => None,
            })
            .collect();
        changed.sort();
        self.emit(
            id,
            if paused {
                Event::SessionPaused
            } else {
                Event::SessionUnpaused
            },
        );
        for step in changed {
            self.emit(
                id,
                if paused {
                    Event::StepPaused { step }
                } else {
                    Event::StepResumed { step }
                },
            );
        }
    }

    fn interrupt_session(&mut self, label: String, id: &SessionId) {
        let Some(live) = self.sessions.get_mut(id) else {
            return self.reject(label, format!("no running session {id}"));
        };
        if !live.state.status.is_active() {
            let status = live.state.status.label();
            return self.reject(label, format!("{id} is already {status}"));
        }
        live.interrupting = true;
        live.cancel_all();
        self.touched.insert(id.clone());
    }

    fn begin_shutdown(&mut self, done: Option<oneshot::Sender<()>>) {
        let waiting = self.shutdown.get_or_insert_with(Vec::new);
        waiting.extend(done);
        let active: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.state.status.is_active() && !s.interrupting)
            .map(|(id, _)| id.clone())
            .collect();
        for id in active {
            self.interrupt_session("shutdown".into(), &id);
        }
    }

    fn on_report(&mut self, report: Report) {
        let Some(live) = self.sessions.get_mut(&report.session) else {
            return;
        };
        // A task that was replaced or already finished may still have something queued.
        match live.tasks.get_mut(&report.task) {
            Some(task) if task.attempt == report.attempt => {
                // Anything an agent reports is a sign of life for the health watch.
                task.last_progress_ms = self.turn_ms;
                task.stall_reported = false;
            }
            _ => return,
        }
        if report.kind.ends_task() {
            live.tasks.remove(&report.task);
        }
        let id = report.session;
        match report.kind {
            ReportKind::Event(Event::CallFinished { step, mut call }) => {
                call.cost_usd = self
                    .settings
                    .prices
                    .get(&call.model)
                    .map(|p| p.cost(call.input_tokens, call.output_tokens));
                self.emit(&id, Event::CallFinished { step, call });
            }
            ReportKind::Event(event) => self.emit(&id, event),
            ReportKind::ApprovalNeeded {
                call_id,
                tool,
                detail,
                reply,
            } => {
                let TaskKey::Step(step) = report.task else {
                    return;
                };
                if live.state.allowed_tools.contains(&tool) {
                    let _ = reply.send(ApprovalDecision::AllowForSession);
                    return;
                }
                live.approvals.insert(
                    call_id.clone(),
                    WaitingApproval {
                        step: step.clone(),
                        tool: tool.clone(),
                        reply,
                    },
                );
                self.emit(
                    &id,
                    Event::ApprovalRequested {
                        step,
                        call_id,
                        tool,
                        detail,
                    },
                );
            }
            ReportKind::StepDone(outcome) => {
                if let TaskKey::Step(step) = report.task {
                    self.finish_step(&id, step, outcome);
                }
            }
            ReportKind::PlanDone(outcome) => {
                self.touched.insert(id.clone());
                match outcome {
                    PlanOutcome::Ready { plan, source } => {
                        self.emit(&id, Event::PlanReady { plan, source })
                    }
                    PlanOutcome::Interrupted { .. } => {}
                }
            }
        }
    }

    /// Answers a waiting tool call; allowing a tool for the session also answers every other
    /// call of that tool waiting in the session.
    fn decide_approval(
        &mut self,
        label: String,
        id: &SessionId,
        call_id: &str,
        decision: ApprovalDecision,
    ) {
        let Some(live) = self.sessions.get_mut(id) else {
            return self.reject(label, format!("no running session {id}"));
        };
        let Some(waiting) = live.approvals.remove(call_id) else {
            return self.reject(
                label,
                format!("no tool call {call_id} of {id} is waiting for approval"),
            );
        };
        let mut answered = vec![(call_id.to_string(), waiting, decision.clone())];
        if decision == ApprovalDecision::AllowForSession {
            let tool = answered[0].1.tool.clone();
            let same: Vec<String> = live
                .approvals
                .iter()
                .filter(|(_, w)| w.tool == tool)
                .map(|(c, _)| c.clone())
                .collect();
            for other in same {
                if let Some(w) = live.approvals.remove(&other) {
                    answered.push((other, w, ApprovalDecision::AllowForSession));
                }
            }
        }
        for (call_id, waiting, decision) in answered {
            self.emit(
                id,
                Event::ApprovalDecided {
                    step: waiting.step,
                    call_id,
                    tool: waiting.tool,
                    decision: decision.clone(),
                },
            );
            let _ = waiting.reply.send(decision);
        }
    }

    fn finish_step(&mut self, id: &SessionId, step: StepId, outcome: StepOutcome) {
        if let Some(live) = self.sessions.get_mut(id) {
            live.approvals.retain(|_, w| w.step != step);
        }
        let event = match outcome {
            StepOutcome::Completed { mut output } => {
                // The workspace file is written before `emit` would scrub the event.
                self.settings.redactor.scrub(&mut output);
                let output_file = self.sessions.get(id).and_then(|live| {
                    let spec = &live.state.step(&step)?.spec;
                    let name = format!(
                        "step-{}-{}.md",
                        slug(step.as_str(), 20),
                        slug(&spec.agent, 30)
                    );
                    Some(live.state.workspace.join(name))
                });
                if let Some(path) = &output_file {
                    self.store.write_file(path.clone(), output.clone());
                }
                Event::StepCompleted {
                    step,
                    output,
                    output_file,
                }
            }
            StepOutcome::Failed { error } => Event::StepFailed { step, error },
            StepOutcome::Interrupted { forced } => Event::StepInterrupted { step, forced },
        };
        let interrupted = if let Event::StepInterrupted { step, .. } = &event {
            Some(step.clone())
        } else {
            None
        };
        let requeue = match (&interrupted, self.sessions.get_mut(id)) {
            (Some(step), Some(live)) => live.requeue_after_stop.remove(step) && !live.interrupting,
            (None, _) | (_, None) => false,
        };
        let step = interrupted;
        self.emit(id, event);
        if let (true, Some(step)) = (requeue, step) {
            self.emit(
                id,
                Event::StepRequeued {
                    step,
                    reason: "started again after a stall".into(),
                },
            );
        }
    }

    /// Flags running agents that have reported nothing for too long, once per stall, and acts.
    fn check_health(&mut self) {
        let now = self.clock.now_ms();
        let health = self.settings.health;
        let mut stalled = Vec::new();
        for (id, live) in &mut self.sessions {
            for (key, task) in &mut live.tasks {
                let TaskKey::Step(step) = key else {
                    continue;
                };
                let Some(state) = live.state.step(step) else {
                    continue;
                };
                // Paused or waiting for the user: no progress is expected, and the clock
                // starts afresh when it goes on.
                if state.status != StepStatus::Running
                    || state.waiting_approval.is_some()
                    || state.queued_on.is_some()
                {
                    task.last_progress_ms = now;
                    continue;
                }
                if !task.stall_reported && is_stalled(&health, task.last_progress_ms, now) {
                    task.stall_reported = true;
                    let idle_ms = (now - task.last_progress_ms).max(0) as u64;
                    match health.on_stall {
                        StallAction::Warn => {}
                        StallAction::Interrupt => task.cancel.cancel(),
                        StallAction::Retry => {
                            live.requeue_after_stop.insert(step.clone());
                            task.cancel.cancel();
                        }
                    }
                    stalled.push((id.clone(), step.clone(), idle_ms));
                }
            }
        }
        for (id, step, idle_ms) in stalled {
            tracing::warn!(session = %id, %step, idle_ms, action = health.on_stall.label(), "agent stalled");
            self.emit(
                &id,
                Event::StepStalled {
                    step,
                    idle_ms,
                    action: health.on_stall,
                },
            );
        }
    }

    fn advance_touched(&mut self) {
        let touched: Vec<SessionId> = self.touched.drain().collect();
        for id in touched {
            self.advance(&id);
        }
    }

    /// Starts what can start and ends the session when nothing more can happen.
    fn advance(&mut self, id: &SessionId) {
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
    fn close_journal(&mut self, id: &SessionId) {
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
    fn launch<F, O>(
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

    fn start_planner(&mut self, id: &SessionId) {
        let Some(live) = self.sessions.get_mut(id) else {
            return;
        };
        live.planner_runs += 1;
        let attempt = live.planner_runs;
        let goal = live.state.goal.clone();
        let provider = self.routes.default_provider().clone();
        let roles = self.settings.roles.clone();
        let settings = self.settings.planner.clone();
        let mode = self.mode;
        self.launch(id, TaskKey::Planner, attempt, |control, reporter| {
            run_planner(PlannerRun {
                provider,
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
    fn sandbox(&mut self, id: &SessionId, workspace: &std::path::Path) -> std::io::Result<Sandbox> {
        if let Some(sandbox) = self.sessions.get(id).and_then(|l| l.sandbox.clone()) {
            return Ok(sandbox);
        }
        let sandbox = Sandbox::new(workspace)?;
        if let Some(live) = self.sessions.get_mut(id) {
            live.sandbox = Some(sandbox.clone());
        }
        Ok(sandbox)
    }

    fn start_step(&mut self, id: &SessionId, step: &StepId) {
        let Some(live) = self.sessions.get(id) else {
            return;
        };
        let routes = &self.routes;
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
        let PreparedStep {
            agent,
            attempt,
            mut request,
            continues,
            earlier_turns,
            workspace,
        } = prepared;
        let route = self.routes.for_role(&agent);
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

async fn next_problem(
    problems: &mut Option<UnboundedReceiver<StoreProblem>>,
) -> Option<StoreProblem> {
    match problems {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
