//! The dashboard's state: what is shown and selected, apart from the engine's own state.
//! Engine events update it here; keys and commands are in `input.rs` and `actions.rs`.

use ratatui::layout::Rect;

use super::command_bar::CommandBar;
use super::history::History;
use super::panes::streams::StreamsLayout;
use super::rates::ProcessStats;
use super::replay_deck::ReplayDeck;
use super::session_view::SessionView;
use super::summaries::Summaries;
use crate::engine::EngineHandle;
use crate::scheduler::Views;
use crate::scheduler::desk::ScheduleDesk;
use crate::session::baseline::Baselines;
use crate::session::call::CallMode;
use crate::session::event::{EngineEvent, Envelope};
use crate::session::ids::{SessionId, StepId};
use crate::session::plan_edit::PlanEdit;
use crate::session::session_fold::SessionState;
use crate::session::stats::{GroupBy, Stats, compute};
use crate::session::summary::SessionSummary;
use crate::store::StoredSession;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Sessions,
    Steps,
    Streams,
    CommandBar,
}

impl Focus {
    /// The panes Tab moves between, in order.
    pub const RING: [Focus; 3] = [Focus::Sessions, Focus::Steps, Focus::Streams];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Dashboard,
    /// Every active agent across sessions.
    Monitor,
    /// Charts: agents, the session, the system.
    Metrics,
    /// Figures over every session (of this machine, or of the server), and recommendations
    /// (`el-jefe stats`).
    Analytics,
    /// Two sessions side by side, step by step (`el-jefe compare`).
    Compare,
    /// The server's schedules: next runs, history, pause and run now.
    Schedules,
}

/// Something that needs a yes before it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmable {
    InterruptStep(SessionId, StepId),
    InterruptSession(SessionId),
    Quit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Help,
    Confirm {
        question: String,
        action: Confirmable,
    },
    /// A tool call waits for the user.
    Approval(ApprovalPrompt),
    /// An edit that re-runs finished work (or wakes a finished session): what it would do.
    EditPreview(EditPreview),
    /// A step to remove is needed by others: remove them too, or rewire them?
    RemoveDependents(RemovalQuestion),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditPreview {
    pub session: SessionId,
    pub edit: PlanEdit,
    /// The edit in words: "changed the task of step 2".
    pub title: String,
    /// Steps that run again: id, agent, tokens their last run took.
    pub stale: Vec<(StepId, String, u64)>,
    pub new_steps: Vec<StepId>,
    pub removed: Vec<StepId>,
    /// The session has ended: confirming resumes it so the steps run now.
    pub resume_after: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovalQuestion {
    pub session: SessionId,
    pub step: StepId,
    pub dependents: Vec<StepId>,
}

/// How the note about a prompt put aside ends, so it can be cleared once answered.
pub const APPROVAL_NOTE_END: &str = "still waits for approval; press a to answer";

/// Why a dashboard has no analytics: attached to a server too old to answer them.
pub const NO_ANALYTICS: &str = "this server is an el-jefe older than protocol 1.3, without \
     analytics: run `el-jefe stats` where it runs, or upgrade it";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalPrompt {
    pub session: SessionId,
    pub call_id: String,
    pub tool: String,
    pub detail: String,
    /// "researcher · step 2/3 · <goal>"
    pub asker: String,
    /// Typing the reason for a denial; None while choosing.
    pub deny_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub is_error: bool,
}

/// Where the last frame put things: laid out before drawing, read by the drawing, the mouse and
/// page-sized scrolling.
#[derive(Debug, Clone, Default)]
pub struct Areas {
    pub sessions: Rect,
    /// First session index shown in the sessions pane (it scrolls with the selection).
    pub sessions_offset: usize,
    pub steps: Rect,
    pub streams: StreamsLayout,
}

pub struct App {
    pub engine: EngineHandle,
    /// Newest first.
    pub sessions: Vec<SessionView>,
    pub selected: usize,
    pub focus: Focus,
    /// Where focus returns when the command bar is left.
    pub focus_before_bar: Focus,
    pub view: View,
    pub overlay: Option<Overlay>,
    /// The selected step's stream fills the stream area.
    pub expanded: bool,
    pub bar: CommandBar,
    pub message: Option<Message>,
    pub mode: CallMode,
    /// The model in use, for the header and /status.
    pub model_label: String,
    /// The server this dashboard is a client of; None when the engine runs in this process.
    pub attached_to: Option<String>,
    pub now_ms: i64,
    pub process: ProcessStats,
    pub areas: Areas,
    /// A session this dashboard started, to select when it appears.
    pub select_when_seen: Option<SessionId>,
    /// The user confirmed quitting: the loop shuts the engine down and leaves.
    pub quit_requested: bool,
    /// Something changed since the last frame.
    pub dirty: bool,
    /// Approval prompts put aside with esc; `a` brings them back.
    pub approvals_set_aside: std::collections::HashSet<String>,
    /// Agent roles a plan edit may use.
    pub roles: Vec<String>,
    /// The server's schedules, when attached to one.
    pub schedule_desk: Option<ScheduleDesk>,
    /// The schedules as the server last sent them.
    pub schedules: Views,
    pub selected_schedule: usize,
    /// Replay mode: the session on screen as it stood at a moment of its journal.
    pub replay_deck: Option<ReplayDeck>,
    /// Where replay reads journals; None where none can be read.
    pub history: Option<History>,
    /// What each role's steps usually take, from past sessions: running agents far off it are
    /// flagged. Empty until loaded, and where no history can be read.
    pub baselines: Baselines,
    /// Where the sessions' summaries come from (None: this dashboard cannot read them).
    pub summary_source: Option<Summaries>,
    /// The analytics view's figures, over the summaries last read.
    pub analytics: Option<Stats>,
    pub analytics_by: GroupBy,
    pub analytics_scroll: u16,
    /// The summaries last read, to group them another way without reading again.
    pub summaries: Vec<SessionSummary>,
    /// Why the summaries last asked for could not be read.
    pub analytics_problem: Option<String>,
    /// The compare view's sessions, A and B.
    pub compared: Option<(SessionId, SessionId)>,
    pub compare_scroll: u16,
    /// The session `c` marked as A, waiting for B.
    pub compare_mark: Option<SessionId>,
}

impl App {
    pub fn new(
        engine: EngineHandle,
        stored: Vec<StoredSession>,
        mode: CallMode,
        model_label: String,
        now_ms: i64,
    ) -> Self {
        let sessions: Vec<SessionView> = stored
            .into_iter()
            .map(|s| SessionView::new(s.state, s.running_elsewhere))
            .collect();
        // With nothing to look at yet, the first thing to do is type a goal.
        let focus = if sessions.is_empty() {
            Focus::CommandBar
        } else {
            Focus::Sessions
        };
        App {
            engine,
            sessions,
            selected: 0,
            focus,
            focus_before_bar: Focus::Sessions,
            view: View::Dashboard,
            overlay: None,
            expanded: false,
            bar: CommandBar::default(),
            message: None,
            mode,
            model_label,
            attached_to: None,
            now_ms,
            process: ProcessStats::default(),
            areas: Areas::default(),
            select_when_seen: None,
            quit_requested: false,
            dirty: true,
            approvals_set_aside: std::collections::HashSet::new(),
            roles: crate::engine::roles::RoleBook::built_in().names(),
            schedule_desk: None,
            schedules: Views::default(),
            selected_schedule: 0,
            replay_deck: None,
            history: None,
            baselines: Baselines::default(),
            summary_source: None,
            analytics: None,
            analytics_by: GroupBy::Role,
            analytics_scroll: 0,
            summaries: Vec::new(),
            analytics_problem: None,
            compared: None,
            compare_scroll: 0,
            compare_mark: None,
        }
    }

    pub fn session(&self) -> Option<&SessionView> {
        self.sessions.get(self.selected)
    }

    pub fn session_mut(&mut self) -> Option<&mut SessionView> {
        self.sessions.get_mut(self.selected)
    }

    pub fn session_ids(&self) -> Vec<SessionId> {
        self.sessions.iter().map(|s| s.state.id.clone()).collect()
    }

    pub fn find(&self, id: &SessionId) -> Option<usize> {
        self.sessions.iter().position(|s| &s.state.id == id)
    }

    /// Any session this process is running (quitting interrupts them). Attached to a server,
    /// none: its sessions go on when the dashboard leaves.
    pub fn work_running_here(&self) -> bool {
        self.attached_to.is_none()
            && self
                .sessions
                .iter()
                .any(|s| s.state.status.is_active() && !s.running_elsewhere)
    }

    /// Tool calls waiting for approval: the selected session's first, then the others'.
    pub fn pending_approvals(&self) -> Vec<ApprovalPrompt> {
        let order = std::iter::once(self.selected)
            .chain((0..self.sessions.len()).filter(|&i| i != self.selected));
        let mut out = Vec::new();
        for i in order {
            let Some(view) = self.sessions.get(i) else {
                continue;
            };
            let total = view.state.steps.len();
            for (n, step) in view.state.steps.iter().enumerate() {
                if let Some(wait) = &step.waiting_approval {
                    out.push(ApprovalPrompt {
                        session: view.state.id.clone(),
                        call_id: wait.call_id.clone(),
                        tool: wait.tool.clone(),
                        detail: wait.detail.clone(),
                        asker: format!(
                            "{} · step {}/{} · {}",
                            step.spec.agent,
                            n + 1,
                            total,
                            super::theme::clip(&view.state.goal, 40)
                        ),
                        deny_reason: None,
                    });
                }
            }
        }
        out
    }

    /// Selects the session and step whose agent asks, so keys act on it.
    pub fn select_asker(&mut self, prompt: &ApprovalPrompt) {
        let Some(i) = self.find(&prompt.session) else {
            return;
        };
        self.selected = i;
        let view = &mut self.sessions[i];
        if let Some(step) = view.state.steps.iter().position(|s| {
            s.waiting_approval
                .as_ref()
                .is_some_and(|w| w.call_id == prompt.call_id)
        }) {
            view.selected_step = step;
        }
    }

    /// Shows the next approval prompt when none is up, and closes one that was answered
    /// elsewhere (or whose agent stopped).
    pub fn refresh_approval_prompt(&mut self) {
        let pending = self.pending_approvals();
        match &self.overlay {
            Some(Overlay::Approval(shown)) => {
                if !pending.iter().any(|p| p.call_id == shown.call_id) {
                    self.overlay = None;
                    self.dirty = true;
                } else {
                    return;
                }
            }
            Some(
                Overlay::Help
                | Overlay::Confirm { .. }
                | Overlay::EditPreview(_)
                | Overlay::RemoveDependents(_),
            ) => return,
            None => {}
        }
        self.approvals_set_aside
            .retain(|id| pending.iter().any(|p| &p.call_id == id));
        // "... still waits for approval" is stale once nothing waits.
        if pending.is_empty()
            && self
                .message
                .as_ref()
                .is_some_and(|m| m.text.ends_with(APPROVAL_NOTE_END))
        {
            self.message = None;
            self.dirty = true;
        }
        if let Some(next) = pending
            .into_iter()
            .find(|p| !self.approvals_set_aside.contains(&p.call_id))
        {
            self.overlay = Some(Overlay::Approval(next));
            self.dirty = true;
        }
    }

    pub fn say(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            is_error: false,
        });
        self.dirty = true;
    }

    pub fn complain(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            is_error: true,
        });
        self.dirty = true;
    }

    /// One event of a session: folded into its view, and the selection kept sensible.
    fn on_envelope(&mut self, env: &Envelope) {
        let index = match self.find(&env.session) {
            Some(i) => i,
            None => {
                self.sessions.insert(
                    0,
                    SessionView::new(SessionState::new(env.session.clone()), false),
                );
                // Keep the same session selected as the list shifts down.
                if self.sessions.len() > 1 {
                    self.selected += 1;
                }
                0
            }
        };
        let view = &mut self.sessions[index];
        if let Some(deck) = self
            .replay_deck
            .as_mut()
            .filter(|d| d.session() == &env.session)
        {
            // The replay follows a running session only when it is at the end.
            deck.on_live(env, &mut view.state);
            view.running_elsewhere = false;
            return;
        }
        let was_live = view.selected().is_some_and(|s| s.status.is_live());
        view.state.apply(env);
        // A failure is what the user needs to read next.
        if let crate::session::event::Event::StepFailed { step, .. } = &env.event
            && !was_live
            && let Some(i) = view.state.step_position(step)
        {
            view.selected_step = i - 1;
        }
        // A session resumed or run here is no longer only a picture from disk.
        view.running_elsewhere = false;
        if !was_live {
            view.select_first_live_step();
        }
        if self.select_when_seen.as_ref() == Some(&env.session) {
            self.select_when_seen = None;
            self.selected = index;
        }
    }

    pub fn on_engine_event(&mut self, event: EngineEvent) {
        self.dirty = true;
        match event {
            EngineEvent::Events(batch) => {
                for env in batch {
                    self.on_envelope(&env);
                }
            }
            EngineEvent::ModeChanged(mode) => {
                self.mode = mode;
                self.say(format!("mode: {} calls", mode.label()));
            }
            EngineEvent::Rejected { command, reason } => {
                self.complain(format!("cannot {command}: {reason}"));
            }
            EngineEvent::Problem { message } => self.complain(message),
            EngineEvent::ShutDown => {}
            EngineEvent::Link { connected, message } => {
                if connected {
                    self.say(message);
                } else {
                    self.complain(message);
                }
            }
        }
    }

    /// Why a running step is far off its baseline (slower, longer, retrying), in words.
    pub fn baseline_flags(&self, view: &SessionView, index: usize) -> Vec<String> {
        let Some(step) = view.state.steps.get(index) else {
            return Vec::new();
        };
        self.baselines
            .flags_for(step, self.now_for(&view.state.id), view.rate(&step.spec.id))
    }

    /// Opens the compare view on A and B.
    pub fn open_compare(&mut self, a: SessionId, b: SessionId) {
        if a == b {
            self.complain("compare needs two different sessions");
            return;
        }
        for id in [&a, &b] {
            if self.find(id).is_none() {
                self.complain(format!("no session {id} here"));
                return;
            }
        }
        self.compared = Some((a, b));
        self.compare_mark = None;
        self.compare_scroll = 0;
        self.view = View::Compare;
    }

    /// `c`: marks the selected session as A, or compares it with the one marked.
    pub fn mark_for_compare(&mut self) {
        let Some(selected) = self.session().map(|s| s.state.id.clone()) else {
            return;
        };
        match self.compare_mark.take() {
            Some(a) if a != selected => self.open_compare(a, selected),
            Some(_) | None => {
                self.compare_mark = Some(selected);
                self.say("compare: this session is A; select another and press c");
            }
        }
    }

    /// Fresh summaries, or why there are none: the baselines and the analytics view are made from them.
    /// When they cannot be read, the figures last read stay and the person is told why.
    pub fn on_summaries(&mut self, summaries: Result<Vec<SessionSummary>, String>) {
        let summaries = match summaries {
            Ok(summaries) => summaries,
            Err(problem) => {
                self.complain(format!("analytics: {problem}"));
                self.analytics_problem = Some(problem);
                return;
            }
        };
        self.analytics_problem = None;
        self.baselines = Baselines::from_summaries(&summaries);
        self.analytics = Some(compute(&summaries, self.analytics_by));
        self.summaries = summaries;
        self.dirty = true;
    }

    /// Reads the summaries again (sessions finished since show up); says so when it cannot.
    pub fn update_analytics(&mut self) {
        match &self.summary_source {
            Some(source) => {
                source.request();
                self.say("reading the sessions' summaries...");
            }
            None => self.complain(NO_ANALYTICS),
        }
    }

    /// The analytics view groups by the next of role, provider, model and day.
    pub fn next_grouping(&mut self) {
        self.analytics_by = match self.analytics_by {
            GroupBy::Role => GroupBy::Provider,
            GroupBy::Provider => GroupBy::Model,
            GroupBy::Model => GroupBy::Day,
            GroupBy::Day => GroupBy::Role,
        };
        self.analytics = Some(compute(&self.summaries, self.analytics_by));
        self.analytics_scroll = 0;
    }

    /// The time a session's elapsed times run to: its replay's moment when it is replayed.
    pub fn now_for(&self, session: &SessionId) -> i64 {
        match &self.replay_deck {
            Some(deck) if deck.session() == session => deck.now_ms(),
            Some(_) | None => self.now_ms,
        }
    }

    /// Once a second: token rates of running agents, this process's CPU and memory.
    pub fn tick(&mut self, now_ms: i64, elapsed_secs: f64) {
        self.now_ms = now_ms;
        let replayed = self.replay_deck.as_ref().map(|d| d.session().clone());
        for view in &mut self.sessions {
            // A replay's rates would be of its playback speed, not of the agents.
            if replayed.as_ref() == Some(&view.state.id) {
                continue;
            }
            for step in view.state.steps.iter().filter(|s| s.status.is_live()) {
                view.rates
                    .entry(step.spec.id.clone())
                    .or_default()
                    .sample(step.metrics.output_tokens_live());
            }
        }
        self.process.sample(elapsed_secs);
        // Elapsed times and rates on screen change every second while work runs, and the
        // metrics view charts this process every second.
        if self.sessions.iter().any(|s| s.state.status.is_active()) || self.view == View::Metrics {
            self.dirty = true;
        }
    }
}
