//! `[planner]`: how the model is asked for a plan, and how big one may be.

use serde::Deserialize;

use super::{Bad, ConfigError, check_range};
use crate::engine::planner::PlannerSettings;
use crate::session::plan_validation::MAX_STEPS;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct PlannerFile {
    max_tokens: Option<u32>,
    temperature: Option<f32>,
    min_steps: Option<usize>,
    max_steps: Option<usize>,
}

impl PlannerFile {
    pub fn settings(&self, bad: Bad<'_>) -> Result<PlannerSettings, ConfigError> {
        let defaults = PlannerSettings::default();
        let planner = PlannerSettings {
            max_tokens: self.max_tokens.unwrap_or(defaults.max_tokens),
            temperature: self.temperature.unwrap_or(defaults.temperature),
            // A smaller max_steps alone lowers the default minimum with it.
            min_steps: self
                .min_steps
                .unwrap_or(defaults.min_steps.min(self.max_steps.unwrap_or(usize::MAX))),
            max_steps: self.max_steps.unwrap_or(defaults.max_steps),
        };
        check_range(
            bad,
            "planner.max_steps",
            planner.max_steps as u64,
            1,
            MAX_STEPS as u64,
        )?;
        check_range(
            bad,
            "planner.min_steps",
            planner.min_steps as u64,
            1,
            planner.max_steps as u64,
        )?;
        check_range(
            bad,
            "planner.max_tokens",
            u64::from(planner.max_tokens),
            16,
            1 << 16,
        )?;
        if !(0.0..=2.0).contains(&planner.temperature) {
            return Err(bad(format!(
                "planner.temperature = {} is outside 0 to 2",
                planner.temperature
            )));
        }
        Ok(planner)
    }
}
