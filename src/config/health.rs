//! `[health]`: when an agent counts as stalled, and what is done about it.

use serde::Deserialize;

use super::{Bad, ConfigError, check_range};
use crate::session::health::{HealthSettings, StallAction};

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct HealthFile {
    /// Seconds without progress before an agent is stalled; 0 turns the watch off.
    stall_after_secs: Option<u64>,
    /// warn, retry or interrupt.
    on_stall: Option<String>,
}

impl HealthFile {
    pub fn settings(&self, bad: Bad<'_>) -> Result<HealthSettings, ConfigError> {
        let defaults = HealthSettings::default();
        let stall_after = match self.stall_after_secs {
            None => defaults.stall_after,
            Some(0) => None,
            Some(secs) => {
                check_range(bad, "health.stall_after_secs", secs, 5, 86_400)?;
                Some(std::time::Duration::from_secs(secs))
            }
        };
        let on_stall = match self.on_stall.as_deref() {
            None => defaults.on_stall,
            Some(word) => StallAction::parse(word).ok_or_else(|| {
                bad(format!(
                    "health.on_stall = \"{word}\" is not an action (warn, retry or interrupt)"
                ))
            })?,
        };
        Ok(HealthSettings {
            stall_after,
            on_stall,
        })
    }
}
