//! What front ends ask the engine to do.

use chrono::{DateTime, Local};
use serde::{Deserialize, Serialize};

use super::budget::Budget;
use super::call::CallMode;
use super::event::ApprovalDecision;
use super::fork::ForkPoint;
use super::ids::{SessionId, StepId};
use super::origin::Origin;
use super::plan::Plan;
use super::plan_edit::PlanEdit;
use super::provider_choice::ProviderChoice;

/// On the wire (the service's protocol) a command is an object tagged by `command`, in
/// snake_case: `{"command": "pause_step", "session": "...", "step": "2"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    StartSession {
        id: SessionId,
        goal: String,
        created_at: DateTime<Local>,
        /// Run this plan instead of asking the model for one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plan: Option<Plan>,
        /// Instead of the configured budget (a plan file's).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        budget: Option<Budget>,
        /// The schedule or trigger that starts it, when no person does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<Origin>,
        /// Providers over the configured routing, for this session only.
        #[serde(default, skip_serializing_if = "ProviderChoice::is_default")]
        providers: ProviderChoice,
    },
    /// A new session `id` that inherits `parent`'s work up to `at` and runs on from there.
    ForkSession {
        id: SessionId,
        parent: SessionId,
        at: ForkPoint,
        created_at: DateTime<Local>,
        #[serde(default, skip_serializing_if = "ProviderChoice::is_default")]
        providers: ProviderChoice,
    },
    /// Replaces a session's budget (raising a cap lets the agents it held go on).
    SetBudget {
        session: SessionId,
        budget: Budget,
    },
    PauseStep {
        session: SessionId,
        step: StepId,
    },
    ResumeStep {
        session: SessionId,
        step: StepId,
    },
    /// Pauses every running agent of the session and starts no new step.
    PauseSession {
        session: SessionId,
    },
    UnpauseSession {
        session: SessionId,
    },
    InterruptStep {
        session: SessionId,
        step: StepId,
    },
    InterruptSession {
        session: SessionId,
    },
    /// Picks up an interrupted or failed session (from this run or from disk): completed steps
    /// are kept, the others run again.
    ResumeSession {
        session: SessionId,
    },
    /// Answers a tool call that waits for approval.
    DecideApproval {
        session: SessionId,
        call_id: String,
        decision: ApprovalDecision,
    },
    /// Changes the plan of a session, running or saved (see `plan_edit` for the rules).
    EditPlan {
        session: SessionId,
        edit: PlanEdit,
    },
    SetMode {
        mode: CallMode,
    },
}

impl Command {
    /// How the command is named in messages to the user.
    pub fn label(&self) -> String {
        match self {
            Command::StartSession { .. } => "start".into(),
            Command::ForkSession { parent, at, .. } => {
                format!("fork {parent} at {}", at.describe())
            }
            Command::PauseStep { session, step } => format!("pause step {step} of {session}"),
            Command::ResumeStep { session, step } => format!("resume step {step} of {session}"),
            Command::PauseSession { session } => format!("pause {session}"),
            Command::UnpauseSession { session } => format!("unpause {session}"),
            Command::InterruptStep { session, step } => {
                format!("interrupt step {step} of {session}")
            }
            Command::InterruptSession { session } => format!("interrupt {session}"),
            Command::ResumeSession { session } => format!("resume {session}"),
            Command::DecideApproval {
                session, call_id, ..
            } => {
                format!("approve tool call {call_id} of {session}")
            }
            Command::SetBudget { session, .. } => format!("set the budget of {session}"),
            Command::EditPlan { session, edit } => {
                format!("edit the plan of {session} ({})", edit.describe())
            }
            Command::SetMode { mode } => format!("mode {}", mode.label()),
        }
    }
}
