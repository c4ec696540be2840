//! What started a session when no person did at that moment: a schedule's time, a file that
//! landed in a watched folder, a webhook. Recorded in the session's first event, so `show`, the
//! dashboard and the web page can say "started by schedule digest (cron 0 9 * * 1-5)".

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The schedule's name.
    pub schedule: String,
    /// What fired it, in words: "cron 0 9 * * 1-5 at 09:00", "file inbox/q3.csv", "webhook",
    /// "run now by ana".
    pub cause: String,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "schedule {} ({})", self.schedule, self.cause)
    }
}
