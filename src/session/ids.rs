//! Identifiers of sessions and steps.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use chrono::{DateTime, Local};
use serde::{Deserialize, Serialize};

/// `session_YYYYMMDD_HHMMSS_<8 hex>`: sortable by creation time, unique across processes.
/// Shared, not copied: it travels with every event.
#[derive(Debug, Clone, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(Arc<str>);

// Looked up on every event: the same id is usually the same allocation, and its random tail
// alone is as good a hash as the whole text (equal ids have equal tails).
impl PartialEq for SessionId {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Eq for SessionId {}

impl Hash for SessionId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let bytes = self.0.as_bytes();
        state.write(&bytes[bytes.len().saturating_sub(8)..]);
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a session id (expected session_YYYYMMDD_HHMMSS_xxxxxxxx)")]
pub struct BadSessionId(pub String);

impl SessionId {
    pub fn generate(now: DateTime<Local>) -> Self {
        let suffix: u32 = fastrand::u32(..);
        SessionId(format!("session_{}_{suffix:08x}", now.format("%Y%m%d_%H%M%S")).into())
    }

    pub fn parse(text: &str) -> Result<Self, BadSessionId> {
        let bad = || BadSessionId(text.to_string());
        let rest = text.strip_prefix("session_").ok_or_else(bad)?;
        let parts: Vec<&str> = rest.split('_').collect();
        let [date, time, hex] = parts.as_slice() else {
            return Err(bad());
        };
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let hex_ok = hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        if digits(date, 8) && digits(time, 6) && hex_ok {
            Ok(SessionId(text.into()))
        } else {
            Err(bad())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// A step's id inside its plan ("1", "2", or a name from a hand-written plan).
#[derive(Debug, Clone, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StepId(Arc<str>);

// Events carry clones of the plan's own ids: comparing pointers settles most comparisons.
impl PartialEq for StepId {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Eq for StepId {}

impl Hash for StepId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl StepId {
    pub fn new(id: impl Into<String>) -> Self {
        StepId(id.into().into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl From<&str> for StepId {
    fn from(s: &str) -> Self {
        StepId(s.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn generated_ids_have_the_documented_shape() {
        let at = Local.with_ymd_and_hms(2026, 3, 7, 9, 5, 1).unwrap();
        let id = SessionId::generate(at);
        assert!(id.as_str().starts_with("session_20260307_090501_"));
        assert_eq!(id.as_str().len(), "session_20260307_090501_".len() + 8);
        assert_eq!(SessionId::parse(id.as_str()), Ok(id));
    }

    #[test]
    fn parse_rejects_near_misses() {
        for bad in [
            "",
            "session_",
            "session_20260307_090501",
            "session_2026030_090501_deadbeef",
            "session_20260307_090501_deadbeeg",
            "session_20260307_090501_deadbeef_x",
            "sess_20260307_090501_deadbeef",
        ] {
            assert!(SessionId::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
