//! Where a session and each of its steps stand, and what that allows.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// Created, planning.
    Starting,
    Running,
    Paused,
    Completed,
    Failed,
    Interrupted,
    /// Ended, then its plan was edited: steps wait to run (`resume` runs them).
    Edited,
}

impl SessionStatus {
    /// Every status, for reports that list even those no session has.
    pub const ALL: [SessionStatus; 7] = [
        SessionStatus::Starting,
        SessionStatus::Running,
        SessionStatus::Paused,
        SessionStatus::Completed,
        SessionStatus::Failed,
        SessionStatus::Interrupted,
        SessionStatus::Edited,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SessionStatus::Starting => "starting",
            SessionStatus::Running => "running",
            SessionStatus::Paused => "paused",
            SessionStatus::Completed => "completed",
            SessionStatus::Failed => "failed",
            SessionStatus::Interrupted => "interrupted",
            SessionStatus::Edited => "edited",
        }
    }

    /// A process is (or was, before a crash) working on the session.
    pub fn is_active(self) -> bool {
        match self {
            SessionStatus::Starting | SessionStatus::Running | SessionStatus::Paused => true,
            SessionStatus::Completed
            | SessionStatus::Failed
            | SessionStatus::Interrupted
            | SessionStatus::Edited => false,
        }
    }

    pub fn can_resume(self) -> bool {
        matches!(
            self,
            SessionStatus::Interrupted | SessionStatus::Failed | SessionStatus::Edited
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    Pending,
    Running,
    Paused,
    Completed,
    Failed,
    Interrupted,
}

impl StepStatus {
    pub fn label(self) -> &'static str {
        match self {
            StepStatus::Pending => "pending",
            StepStatus::Running => "running",
            StepStatus::Paused => "paused",
            StepStatus::Completed => "completed",
            StepStatus::Failed => "failed",
            StepStatus::Interrupted => "interrupted",
        }
    }

    /// An agent task exists for the step.
    pub fn is_live(self) -> bool {
        matches!(self, StepStatus::Running | StepStatus::Paused)
    }
}
