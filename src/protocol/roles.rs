//! People's roles and what each may ask of the engine.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::schedule::change::ScheduleChange;
use crate::session::command::Command;

/// Viewers watch; operators also start, steer and approve; admins also manage people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may issue `command`. Every command steers work, so it takes an
    /// operator; the match is here so a new command has to be placed deliberately.
    pub fn may(self, command: &Command) -> bool {
        let needs = match command {
            Command::StartSession { .. }
            | Command::ForkSession { .. }
            | Command::SetBudget { .. }
            | Command::PauseStep { .. }
            | Command::ResumeStep { .. }
            | Command::PauseSession { .. }
            | Command::UnpauseSession { .. }
            | Command::InterruptStep { .. }
            | Command::InterruptSession { .. }
            | Command::ResumeSession { .. }
            | Command::DecideApproval { .. }
            | Command::EditPlan { .. }
            | Command::SetMode { .. } => Role::Operator,
        };
        self >= needs
    }

    /// Whether this role may add, pause, resume, remove or run a schedule: they start work, as
    /// an operator does.
    pub fn may_change_schedules(self, change: &ScheduleChange) -> bool {
        let needs = match change {
            ScheduleChange::Add { .. }
            | ScheduleChange::Pause { .. }
            | ScheduleChange::Resume { .. }
            | ScheduleChange::Remove { .. }
            | ScheduleChange::RunNow { .. } => Role::Operator,
        };
        self >= needs
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_cannot_steer_and_operators_and_admins_can() {
        let pause = Command::PauseSession {
            session: crate::session::ids::SessionId::parse("session_20260101_000000_00000000")
                .unwrap(),
        };
        assert!(!Role::Viewer.may(&pause));
        assert!(Role::Operator.may(&pause));
        assert!(Role::Admin.may(&pause));
        for role in [Role::Viewer, Role::Operator, Role::Admin] {
            assert_eq!(Role::parse(role.label()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
