//! A dashboard app on a test channel: feed it engine events, press keys, render it into a
//! TestBackend, and read the commands it sent. Ids and times are fixed so renders are stable.

use std::collections::HashMap;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use el_jefe::engine::EngineHandle;
use el_jefe::engine::request::Request;
use el_jefe::session::call::{CallMode, CallStats, FinishReason};
use el_jefe::session::command::Command;
use el_jefe::session::event::{EngineEvent, Envelope, Event};
use el_jefe::session::ids::{SessionId, StepId};
use el_jefe::session::plan::{Plan, PlanSource, StepSpec};
use el_jefe::tui::app::App;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// 2026-01-01 00:00:00 UTC: every fixture event happens shortly after it.
pub const T0: i64 = 1_767_225_600_000;

pub fn sid(n: u32) -> SessionId {
    SessionId::parse(&format!("session_20260101_0000{n:02}_0000000{n}")).unwrap()
}

pub struct Fixture {
    pub app: App,
    pub commands: UnboundedReceiver<Request>,
    seq: HashMap<SessionId, u64>,
    /// Every event fed, per session: the journal replay reads.
    journals: HashMap<SessionId, Vec<Envelope>>,
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture::new()
    }
}

impl Fixture {
    pub fn new() -> Self {
        let (tx, rx) = unbounded_channel();
        let app = App::new(
            EngineHandle::new(tx),
            Vec::new(),
            CallMode::Streaming,
            "local SmolLM2-135M-Instruct.Q4_1".into(),
            T0,
        );
        Fixture {
            app,
            commands: rx,
            seq: HashMap::new(),
            journals: HashMap::new(),
        }
    }

    pub fn event(&mut self, session: &SessionId, at_secs: i64, event: Event) {
        let seq = self.seq.entry(session.clone()).or_default();
        *seq += 1;
        let envelope = Envelope {
            seq: *seq,
            at_ms: T0 + at_secs * 1000,
            session: session.clone(),
            by: None,
            event,
        };
        self.journals
            .entry(session.clone())
            .or_default()
            .push(envelope.clone());
        self.app
            .on_engine_event(EngineEvent::Events(vec![Arc::new(envelope)]));
        // As the event loop does after each batch of engine events.
        self.app.refresh_approval_prompt();
    }

    /// The model asks for `tool` with `args`; with `ask`, the engine asks the user first.
    pub fn tool_call(
        &mut self,
        id: &SessionId,
        step: &str,
        at: i64,
        (call_id, tool, args): (&str, &str, serde_json::Value),
        ask: bool,
    ) {
        let detail = el_jefe::session::builtin::call_detail(tool, &args);
        self.event(
            id,
            at,
            Event::ToolCallRequested {
                step: step.into(),
                call: el_jefe::provider::ToolCall {
                    id: call_id.into(),
                    name: tool.into(),
                    arguments: args,
                },
            },
        );
        if ask {
            self.event(
                id,
                at,
                Event::ApprovalRequested {
                    step: step.into(),
                    call_id: call_id.into(),
                    tool: tool.into(),
                    detail,
                },
            );
        }
    }

    pub fn tool_done(
        &mut self,
        id: &SessionId,
        step: &str,
        at: i64,
        (call_id, tool): (&str, &str),
        status: el_jefe::session::event::ToolStatus,
        summary: &str,
    ) {
        self.event(
            id,
            at,
            Event::ToolCallFinished {
                step: step.into(),
                call_id: call_id.into(),
                tool: tool.into(),
                status,
                summary: summary.into(),
                content: summary.into(),
                duration_ms: 40,
            },
        );
    }

    /// The events fed to a session so far, as its journal holds them.
    pub fn journal(&self, session: &SessionId) -> Vec<Envelope> {
        self.journals.get(session).cloned().unwrap_or_default()
    }

    pub fn at(&mut self, secs: i64) {
        self.app.now_ms = T0 + secs * 1000;
    }

    /// A session created with `goal`, planned with `steps` as (id, agent, deps).
    pub fn planned(&mut self, n: u32, goal: &str, steps: &[(&str, &str, &[&str])]) -> SessionId {
        let id = sid(n);
        self.event(
            &id,
            0,
            Event::SessionCreated {
                goal: goal.into(),
                workspace: format!("/work/{n}").into(),
                mode: CallMode::Streaming,
                provider: "local".into(),
                model: "SmolLM2-135M-Instruct.Q4_1".into(),
                max_parallel: 3,
                origin: None,
                choice: Default::default(),
            },
        );
        let plan = Plan {
            steps: steps
                .iter()
                .map(|(sid, agent, deps)| StepSpec {
                    id: StepId::new(*sid),
                    title: format!("{agent} work"),
                    agent: agent.to_string(),
                    task: format!("do the {agent} part of step {sid}"),
                    depends_on: deps.iter().map(|d| StepId::new(*d)).collect(),
                })
                .collect(),
        };
        self.event(
            &id,
            2,
            Event::PlanReady {
                plan,
                source: PlanSource::Model,
            },
        );
        id
    }

    pub fn start(&mut self, id: &SessionId, step: &str, at: i64) {
        self.event(
            id,
            at,
            Event::StepStarted {
                step: step.into(),
                agent: String::new(),
                attempt: 1,
                max_tokens: 100,
                continues: false,
            },
        );
    }

    /// Streams `text` word by word.
    pub fn stream(&mut self, id: &SessionId, step: &str, at: i64, text: &str) {
        for piece in text.split_inclusive(' ') {
            self.event(
                id,
                at,
                Event::TextDelta {
                    step: step.into(),
                    text: piece.into(),
                    chunks: 1,
                    parts: Vec::new(),
                },
            );
        }
    }

    pub fn complete(&mut self, id: &SessionId, step: &str, at: i64) {
        let output = self
            .app
            .sessions
            .iter()
            .find(|s| &s.state.id == id)
            .and_then(|s| s.state.step(&step.into()))
            .map(|s| s.output.clone())
            .unwrap_or_default();
        self.event(
            id,
            at,
            Event::CallFinished {
                step: Some(step.into()),
                call: CallStats {
                    provider: "local".into(),
                    model: "m".into(),
                    mode: CallMode::Streaming,
                    input_tokens: 120,
                    output_tokens: output.split_whitespace().count() as u64,
                    cache_read_tokens: 0,
                    cache_creation_tokens: 0,
                    estimated: false,
                    ttft_ms: Some(300),
                    duration_ms: 2_000,
                    finish: FinishReason::Stop,
                    cost_usd: None,
                },
            },
        );
        self.event(
            id,
            at,
            Event::StepCompleted {
                step: step.into(),
                output,
                output_file: None,
            },
        );
    }

    pub fn key(&mut self, code: KeyCode) {
        self.app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
    }

    pub fn char(&mut self, c: char) {
        let modifiers = if c.is_ascii_uppercase() {
            KeyModifiers::SHIFT
        } else {
            KeyModifiers::NONE
        };
        self.app.on_key(KeyEvent::new(KeyCode::Char(c), modifiers));
    }

    pub fn ctrl(&mut self, c: char) {
        self.app
            .on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.app
                .on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }

    /// Every command sent to the engine since the last call.
    pub fn sent(&mut self) -> Vec<Command> {
        let mut out = Vec::new();
        while let Ok(request) = self.commands.try_recv() {
            match request {
                Request::Command(issued) => out.push(issued.command),
                Request::Shutdown(_) => panic!("the dashboard asked the engine to shut down"),
            }
        }
        out
    }

    pub fn render(&mut self, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|f| el_jefe::tui::ui::render(&mut self.app, f))
            .unwrap();
        terminal.backend().to_string()
    }
}
