//! Slows down whoever keeps presenting bad tokens: each failure from an address doubles the
//! wait before its next attempt is looked at, up to a few seconds; a success forgets them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

const FIRST_WAIT: Duration = Duration::from_millis(100);
const LONGEST_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
pub struct Door {
    failures: Mutex<HashMap<String, u32>>,
}

impl Door {
    /// How long the next attempt from `peer` waits.
    pub fn wait_for(&self, peer: &str) -> Duration {
        let failures = self
            .failures
            .lock()
            .map(|f| f.get(peer).copied().unwrap_or(0))
            .unwrap_or(0);
        if failures == 0 {
            return Duration::ZERO;
        }
        FIRST_WAIT
            .saturating_mul(1 << (failures - 1).min(16))
            .min(LONGEST_WAIT)
    }

    pub async fn check(&self, peer: &str) {
        let wait = self.wait_for(peer);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    pub fn failed(&self, peer: &str) {
        if let Ok(mut f) = self.failures.lock() {
            *f.entry(peer.to_string()).or_insert(0) += 1;
        }
    }

    pub fn passed(&self, peer: &str) {
        if let Ok(mut f) = self.failures.lock() {
            f.remove(peer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_double_the_wait_up_to_a_cap_and_success_forgets_them() {
        let door = Door::default();
        assert_eq!(door.wait_for("a"), Duration::ZERO);
        door.failed("a");
        assert_eq!(door.wait_for("a"), FIRST_WAIT);
        door.failed("a");
        assert_eq!(door.wait_for("a"), FIRST_WAIT * 2);
        for _ in 0..20 {
            door.failed("a");
        }
        assert_eq!(door.wait_for("a"), LONGEST_WAIT);
        assert_eq!(door.wait_for("b"), Duration::ZERO);
        door.passed("a");
        assert_eq!(door.wait_for("a"), Duration::ZERO);
    }
}
