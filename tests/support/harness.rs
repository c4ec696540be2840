//! An engine on a scripted provider in a temporary directory, with helpers to wait for events.

use std::collections::VecDeque;
use std::sync::Arc;

use el_jefe::engine::planner::PlannerSettings;
use el_jefe::engine::roles::RoleBook;
use el_jefe::engine::{EngineHandle, EngineSettings, start_engine_routed};
use el_jefe::provider::Provider;
use el_jefe::provider::routes::Routes;
use el_jefe::session::call::CallMode;
use el_jefe::session::event::{EngineEvent, Envelope, Event};
use el_jefe::session::ids::SessionId;
use el_jefe::session::session_fold::SessionState;
use el_jefe::store::Store;
use tempfile::TempDir;
use tokio::sync::mpsc::UnboundedReceiver;

pub struct Harness {
    pub handle: EngineHandle,
    pub events: UnboundedReceiver<EngineEvent>,
    /// Every session event seen so far, in order.
    pub log: Vec<Arc<Envelope>>,
    /// Events received in a turn's batch and not yet looked at.
    pending: VecDeque<Arc<Envelope>>,
    pub rejections: Vec<String>,
    pub store: Store,
    pub dir: TempDir,
}

pub fn settings(dir: &TempDir, max_parallel: usize) -> EngineSettings {
    EngineSettings {
        max_parallel,
        mode: CallMode::Streaming,
        workspace_root: dir.path().join("workspaces"),
        roles: RoleBook::built_in(),
        planner: PlannerSettings::default(),
        context_chars_per_dependency: 2000,
        tools: Arc::new(el_jefe::tools::ToolRegistry::builtin()),
        max_tool_rounds: 8,
        // Tests that want the health watch turn it on themselves.
        health: el_jefe::session::health::HealthSettings::off(),
        budget: Default::default(),
        prices: Default::default(),
        redactor: Default::default(),
    }
}

impl Harness {
    pub fn start(provider: Arc<dyn Provider>, max_parallel: usize) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir, provider, max_parallel)
    }

    pub fn start_in(dir: TempDir, provider: Arc<dyn Provider>, max_parallel: usize) -> Harness {
        let settings = settings(&dir, max_parallel);
        Self::start_with(dir, provider, settings)
    }

    pub fn start_with(
        dir: TempDir,
        provider: Arc<dyn Provider>,
        settings: EngineSettings,
    ) -> Harness {
        Self::start_routed(dir, Routes::single(provider), settings)
    }

    /// On several providers: `routes` says which serves what, and which a session may choose.
    pub fn start_routed(dir: TempDir, routes: Routes, settings: EngineSettings) -> Harness {
        let store = Store::open(&dir.path().join("sessions")).unwrap();
        let (handle, events) = start_engine_routed(settings, routes, store.clone());
        Harness {
            handle,
            events,
            log: Vec::new(),
            pending: VecDeque::new(),
            rejections: Vec::new(),
            store,
            dir,
        }
    }

    /// Receives events until one matches; panics if the engine stops first, or if two hours
    /// of (paused, so instant) time pass without it: a hung test fails with the events so far
    /// instead of spinning.
    pub async fn until(&mut self, mut matches: impl FnMut(&Envelope) -> bool) -> Arc<Envelope> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(7200);
        loop {
            if let Some(env) = self.pending.pop_front() {
                self.log.push(env.clone());
                if matches(&env) {
                    return env;
                }
                continue;
            }
            let next = tokio::time::timeout_at(deadline, self.events.recv()).await;
            let Ok(next) = next else {
                panic!(
                    "nothing matched in two hours; log: {:#?}; rejected: {:#?}",
                    self.events_brief(),
                    self.rejections
                );
            };
            match next {
                Some(EngineEvent::Events(batch)) => self.pending.extend(batch),
                Some(EngineEvent::Rejected { command, reason }) => {
                    self.rejections.push(format!("{command}: {reason}"))
                }
                Some(EngineEvent::ModeChanged(_) | EngineEvent::Link { .. }) => {}
                Some(EngineEvent::Problem { message }) => panic!("store problem: {message}"),
                Some(EngineEvent::ShutDown) | None => {
                    panic!("engine stopped; log: {:#?}", self.events_brief())
                }
            }
        }
    }

    /// Logs every event that has already arrived, without waiting; returns them.
    pub fn take_ready(&mut self) -> Vec<Arc<Envelope>> {
        let mut ready: Vec<Arc<Envelope>> = self.pending.drain(..).collect();
        while let Ok(event) = self.events.try_recv() {
            if let EngineEvent::Events(batch) = event {
                ready.extend(batch);
            }
        }
        self.log.extend(ready.iter().cloned());
        ready
    }

    pub async fn until_event(&mut self, wanted: impl Fn(&Event) -> bool) -> Arc<Envelope> {
        self.until(|e| wanted(&e.event)).await
    }

    /// Waits for the next rejection message.
    pub async fn next_rejection(&mut self) -> String {
        let before = self.rejections.len();
        loop {
            match self.events.recv().await {
                Some(EngineEvent::Events(batch)) => self.log.extend(batch),
                Some(EngineEvent::Rejected { command, reason }) => {
                    self.rejections.push(format!("{command}: {reason}"))
                }
                Some(EngineEvent::ModeChanged(_) | EngineEvent::Link { .. }) => {}
                Some(EngineEvent::Problem { message }) => panic!("store problem: {message}"),
                Some(EngineEvent::ShutDown) | None => panic!("engine stopped"),
            }
            if self.rejections.len() > before {
                return self.rejections.last().unwrap().clone();
            }
        }
    }

    pub async fn until_ended(&mut self, id: &SessionId) -> Arc<Envelope> {
        let id = id.clone();
        self.until(move |e| e.session == id && e.event.ends_session())
            .await
    }

    pub fn state(&self, id: &SessionId) -> SessionState {
        SessionState::replay(
            id.clone(),
            self.log
                .iter()
                .map(|e| e.as_ref())
                .filter(|e| &e.session == id),
        )
    }

    /// Short names of the events seen, for assertion messages.
    pub fn events_brief(&self) -> Vec<String> {
        self.log.iter().map(|e| brief(&e.event)).collect()
    }

    /// (event index, event) pairs matching a predicate.
    pub fn positions(&self, wanted: impl Fn(&Event) -> bool) -> Vec<usize> {
        self.log
            .iter()
            .enumerate()
            .filter(|(_, e)| wanted(&e.event))
            .map(|(i, _)| i)
            .collect()
    }
}

pub fn brief(e: &Event) -> String {
    match e {
        Event::StepStarted { step, attempt, .. } => format!("started {step}#{attempt}"),
        Event::TextDelta { step, .. } => format!("delta {step}"),
        Event::StepCompleted { step, .. } => format!("completed {step}"),
        Event::StepFailed { step, .. } => format!("failed {step}"),
        Event::StepInterrupted { step, .. } => format!("interrupted {step}"),
        Event::StepPaused { step } => format!("paused {step}"),
        Event::StepResumed { step } => format!("resumed {step}"),
        other => {
            let json = serde_json::to_value(other).unwrap();
            json["type"].as_str().unwrap_or("?").to_string()
        }
    }
}
