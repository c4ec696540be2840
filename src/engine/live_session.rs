//! A session the engine is running: its folded state plus the tasks working on it.

use std::collections::HashMap;

use rustc_hash::FxHashMap;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::task::TaskKey;
use crate::provider::PauseSwitch;
use crate::provider::routes::Routes;
use crate::session::event::ApprovalDecision;
use crate::session::ids::StepId;
use crate::session::session_fold::SessionState;
use crate::store::Journal;
use crate::tools::Sandbox;

pub struct RunningTask {
    pub attempt: u32,
    pub cancel: CancellationToken,
    pub pause: PauseSwitch,
    pub join: JoinHandle<()>,
    /// When the task last reported anything (ms since the epoch), for the health watch.
    pub last_progress_ms: i64,
    /// The current stall was already flagged.
    pub stall_reported: bool,
}

/// A tool call waiting for the user; answering sends the decision to the agent.
pub struct WaitingApproval {
    pub step: StepId,
    pub tool: String,
    pub reply: oneshot::Sender<ApprovalDecision>,
}

pub struct LiveSession {
    pub state: SessionState,
    pub tasks: FxHashMap<TaskKey, RunningTask>,
    /// Parent of every task's token: cancelling it stops the whole session.
    pub cancel: CancellationToken,
    /// An interrupt of the whole session is waiting for its tasks to stop.
    pub interrupting: bool,
    /// Planner runs so far, so a late report from an abandoned run is recognised.
    pub planner_runs: u32,
    /// Open and locked by this process while the session runs; None once it has ended.
    pub journal: Option<Journal>,
    /// Writing the journal failed and the user was told; said once, not every turn.
    pub journal_failed: bool,
    /// By tool call id.
    pub approvals: HashMap<String, WaitingApproval>,
    /// The whole session was paused because its budget ran out (not by the user).
    pub paused_by_budget: bool,
    /// Steps paused because their role's budget ran out.
    pub budget_paused: std::collections::HashSet<StepId>,
    /// Steps stopped by the health watch to be run again once their task has ended.
    pub requeue_after_stop: std::collections::HashSet<StepId>,
    /// The workspace's sandbox, once a step has needed it.
    pub sandbox: Option<Sandbox>,
    /// The engine's routes with the session's own choice of providers laid over them.
    pub routes: Routes,
}

impl LiveSession {
    pub fn new(state: SessionState, journal: Journal, routes: Routes) -> Self {
        LiveSession {
            state,
            tasks: FxHashMap::default(),
            cancel: CancellationToken::new(),
            interrupting: false,
            planner_runs: 0,
            journal: Some(journal),
            journal_failed: false,
            approvals: HashMap::new(),
            requeue_after_stop: std::collections::HashSet::new(),
            paused_by_budget: false,
            budget_paused: std::collections::HashSet::new(),
            sandbox: None,
            routes,
        }
    }

    /// Cancels every task; each reports back once stopped (or aborted after the grace period).
    pub fn cancel_all(&mut self) {
        self.cancel.cancel();
        // Later tasks (after a resume) need a token that is not already cancelled.
        self.cancel = CancellationToken::new();
    }
}

impl Drop for LiveSession {
    fn drop(&mut self) {
        for task in self.tasks.values() {
            task.join.abort();
        }
    }
}
