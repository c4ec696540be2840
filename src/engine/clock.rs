//! Wall-clock timestamps that follow tokio's clock, so tests with a paused clock get consistent
//! times and the real product gets real ones.

use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base_ms: i64,
    base: Instant,
}

impl Clock {
    pub fn new() -> Self {
        Clock {
            base_ms: chrono::Utc::now().timestamp_millis(),
            base: Instant::now(),
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.base_ms + self.base.elapsed().as_millis() as i64
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}
