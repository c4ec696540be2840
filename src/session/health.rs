//! The health watch: an agent that makes no progress for too long is flagged as stalled, and the
//! configured action is taken. Progress is anything the agent reports: text, a tool call, a
//! retry. A paused agent, or one waiting for the user's approval, is not expected to progress
//! and is never flagged.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What happens to a stalled agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StallAction {
    /// Flag it and tell the user; it keeps running.
    #[default]
    Warn,
    /// Stop the attempt and start the step again (a provider call that hangs gets a new one).
    Retry,
    /// Stop it: the step is interrupted, as if the user had pressed `i`.
    Interrupt,
}

impl StallAction {
    pub fn parse(text: &str) -> Option<StallAction> {
        match text {
            "warn" => Some(StallAction::Warn),
            "retry" => Some(StallAction::Retry),
            "interrupt" => Some(StallAction::Interrupt),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StallAction::Warn => "warn",
            StallAction::Retry => "retry",
            StallAction::Interrupt => "interrupt",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthSettings {
    /// No progress for this long is a stall; None turns the watch off.
    pub stall_after: Option<Duration>,
    pub on_stall: StallAction,
}

impl Default for HealthSettings {
    fn default() -> Self {
        HealthSettings {
            stall_after: Some(Duration::from_secs(120)),
            on_stall: StallAction::Warn,
        }
    }
}

impl HealthSettings {
    pub fn off() -> Self {
        HealthSettings {
            stall_after: None,
            on_stall: StallAction::Warn,
        }
    }

    /// How often the watch looks: often enough to flag a stall within a quarter of the limit,
    /// rarely enough to cost nothing.
    pub fn check_every(&self) -> Option<Duration> {
        self.stall_after
            .map(|after| (after / 4).clamp(Duration::from_millis(250), Duration::from_secs(5)))
    }
}

/// Whether an agent last heard from at `last_progress_ms` has stalled by `now_ms`.
pub fn is_stalled(settings: &HealthSettings, last_progress_ms: i64, now_ms: i64) -> bool {
    settings
        .stall_after
        .is_some_and(|after| now_ms - last_progress_ms >= after.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stall_is_measured_from_the_last_progress() {
        let s = HealthSettings {
            stall_after: Some(Duration::from_secs(60)),
            on_stall: StallAction::Retry,
        };
        assert!(!is_stalled(&s, 1_000, 60_999));
        assert!(is_stalled(&s, 1_000, 61_000));
        assert!(!is_stalled(&HealthSettings::off(), 0, i64::MAX));
        assert_eq!(s.check_every(), Some(Duration::from_secs(5)));
        let quick = HealthSettings {
            stall_after: Some(Duration::from_millis(400)),
            ..s
        };
        assert_eq!(quick.check_every(), Some(Duration::from_millis(250)));
    }

    #[test]
    fn actions_read_from_config_words() {
        for a in [
            StallAction::Warn,
            StallAction::Retry,
            StallAction::Interrupt,
        ] {
            assert_eq!(StallAction::parse(a.label()), Some(a));
        }
        assert_eq!(StallAction::parse("explode"), None);
    }
}
