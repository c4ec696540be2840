//! The scheduler's idea of now. The server reads the system's clock (so a machine that slept
//! or had its clock set still fires at the right wall times); tests follow tokio's paused clock
//! from a chosen start, so virtual hours pass in no time.

use chrono::{DateTime, Utc};
use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub enum WallClock {
    System,
    /// `start` plus the time tokio's clock has moved since `base`.
    FollowsTokio {
        start: DateTime<Utc>,
        base: Instant,
    },
}

impl WallClock {
    /// Tokio's clock from `start` on (for tests with a paused clock).
    pub fn following_tokio_from(start: DateTime<Utc>) -> WallClock {
        WallClock::FollowsTokio {
            start,
            base: Instant::now(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            WallClock::System => Utc::now(),
            WallClock::FollowsTokio { start, base } => {
                *start + chrono::Duration::from_std(base.elapsed()).unwrap_or_default()
            }
        }
    }
}
