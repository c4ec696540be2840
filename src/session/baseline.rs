//! Baselines: what a step of a role on a provider and model usually takes, as the median of
//! the latest comparable finished steps; and the flags a running agent gets when it is far off
//! its baseline (much slower, much longer, or retrying much more).

use std::collections::HashMap;

use super::session_fold::StepState;
use super::stats::Spread;
use super::summary::{CallOutcome, SessionSummary, finished_steps};

/// The latest finished steps a baseline is the median of.
pub const WINDOW: usize = 50;
/// Fewer comparable steps than this make no baseline: one odd run is not "usual".
pub const MIN_SAMPLES: usize = 5;

/// How far off counts as "far": these multiples of the usual, past these floors.
const SLOWER: f64 = 3.0;
const SLOWER_FLOOR_MS: u64 = 30_000;
const LONGER: f64 = 2.0;
const LONGER_FLOOR_TOKENS: u64 = 200;
const RATE_BELOW: f64 = 0.5;
const EXTRA_RETRIES: u64 = 2;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    pub samples: usize,
    pub step_ms: f64,
    pub step_tokens: f64,
    /// Output tokens a second of the step's answered calls.
    pub tokens_per_second: Option<f64>,
    pub retries: f64,
}

/// One finished step, as a baseline sample.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    at_ms: i64,
    busy_ms: u64,
    tokens: u64,
    tokens_per_second: Option<f64>,
    retries: u64,
}

/// (role, provider, model), and the role alone for agents whose provider is not known yet.
type Key = (String, Option<(String, String)>);

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baselines {
    by_key: HashMap<Key, Baseline>,
}

impl Baselines {
    pub fn from_summaries(summaries: &[SessionSummary]) -> Baselines {
        let mut samples: HashMap<Key, Vec<Sample>> = HashMap::new();
        for s in summaries {
            for step in finished_steps(s) {
                let calls: Vec<_> = s
                    .calls
                    .iter()
                    .filter(|c| c.step.as_ref() == Some(&step.id))
                    .collect();
                let Some(last) = calls.iter().rev().find(|c| c.outcome == CallOutcome::Ok) else {
                    continue;
                };
                let rates: Vec<f64> = calls.iter().filter_map(|c| c.tokens_per_second()).collect();
                let sample = Sample {
                    at_ms: last.at_ms,
                    busy_ms: step.busy_ms,
                    tokens: step.output_tokens,
                    tokens_per_second: Spread::of(rates).map(|r| r.median),
                    retries: calls
                        .iter()
                        .filter(|c| c.outcome != CallOutcome::Ok)
                        .count() as u64,
                };
                let exact = (
                    step.role.clone(),
                    Some((last.provider.clone(), last.model.clone())),
                );
                samples.entry(exact).or_default().push(sample.clone());
                samples
                    .entry((step.role.clone(), None))
                    .or_default()
                    .push(sample);
            }
        }
        let by_key = samples
            .into_iter()
            .filter_map(|(key, mut list)| {
                list.sort_by_key(|s| s.at_ms);
                let latest = &list[list.len().saturating_sub(WINDOW)..];
                baseline(latest).map(|b| (key, b))
            })
            .collect();
        Baselines { by_key }
    }

    /// The baseline for a step of `role`, on the provider and model it runs on when known.
    pub fn get(&self, role: &str, runs_on: Option<&(String, String)>) -> Option<&Baseline> {
        runs_on
            .and_then(|on| self.by_key.get(&(role.to_string(), Some(on.clone()))))
            .or_else(|| self.by_key.get(&(role.to_string(), None)))
    }

    /// Why `step` is far off its baseline, when it is running (or paused mid-run) and has one;
    /// empty otherwise. `rate` is its tokens a second now, when measured.
    pub fn flags_for(&self, step: &StepState, now_ms: i64, rate: Option<f64>) -> Vec<String> {
        if !step.status.is_live() {
            return Vec::new();
        }
        self.get(&step.spec.agent, step.runs_on.as_ref())
            .map(|baseline| flags(step, now_ms, rate, baseline))
            .unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

fn baseline(samples: &[Sample]) -> Option<Baseline> {
    if samples.len() < MIN_SAMPLES {
        return None;
    }
    let median = |values: Vec<f64>| Spread::of(values).map(|s| s.median);
    Some(Baseline {
        samples: samples.len(),
        step_ms: median(samples.iter().map(|s| s.busy_ms as f64).collect())?,
        step_tokens: median(samples.iter().map(|s| s.tokens as f64).collect())?,
        tokens_per_second: median(samples.iter().filter_map(|s| s.tokens_per_second).collect()),
        retries: median(samples.iter().map(|s| s.retries as f64).collect())?,
    })
}

/// Why a running agent is far off its baseline, in words with the numbers; empty when it is
/// not (or has no baseline). `rate` is its current tokens a second, when measured.
pub fn flags(step: &StepState, now_ms: i64, rate: Option<f64>, baseline: &Baseline) -> Vec<String> {
    let mut out = Vec::new();
    let busy = step.busy_ms(now_ms);
    if busy >= SLOWER_FLOOR_MS && busy as f64 > SLOWER * baseline.step_ms {
        out.push(format!(
            "running {:.1}x its usual time ({} vs {})",
            busy as f64 / baseline.step_ms.max(1.0),
            crate::format::whole_seconds(busy),
            crate::format::whole_seconds(baseline.step_ms as u64)
        ));
    }
    let tokens = step.metrics.output_tokens_live();
    if tokens >= LONGER_FLOOR_TOKENS && tokens as f64 > LONGER * baseline.step_tokens {
        out.push(format!(
            "{:.1}x its usual length ({tokens} tokens vs {:.0})",
            tokens as f64 / baseline.step_tokens.max(1.0),
            baseline.step_tokens
        ));
    }
    if let (Some(rate), Some(usual)) = (rate, baseline.tokens_per_second)
        && rate > 0.0
        && rate < RATE_BELOW * usual
    {
        out.push(format!("slow: {rate:.0} tokens/s vs {usual:.0} usually"));
    }
    let retries = step.metrics.retries + step.metrics.failovers;
    if retries as f64 >= baseline.retries + EXTRA_RETRIES as f64 {
        out.push(format!(
            "{retries} retries (usually {:.0})",
            baseline.retries
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::fixtures::writer_session as session;
    use crate::session::ids::{SessionId, StepId};

    /// A writer that started at 0 ms and has streamed `tokens` tokens.
    fn running_writer(tokens: u64, retries: u64) -> StepState {
        let mut state = crate::session::session_fold::SessionState::new(
            SessionId::parse("session_20261201_000000_000000ff").unwrap(),
        );
        let plan = crate::session::plan::Plan {
            steps: vec![crate::session::fixtures::step("1", "writer", &[])],
        };
        let at = |seq: u64, at_ms: i64, event| crate::session::event::Envelope {
            seq,
            at_ms,
            session: state.id.clone(),
            by: None,
            event,
        };
        let events = vec![
            at(
                1,
                0,
                crate::session::event::Event::PlanReady {
                    plan,
                    source: crate::session::plan::PlanSource::Given,
                },
            ),
            at(
                2,
                0,
                crate::session::event::Event::StepStarted {
                    step: StepId::new("1"),
                    agent: "writer".into(),
                    attempt: 1,
                    max_tokens: 4096,
                    continues: false,
                },
            ),
            at(
                3,
                0,
                crate::session::event::Event::TextDelta {
                    step: StepId::new("1"),
                    text: "x".repeat(tokens as usize),
                    chunks: tokens as u32,
                    parts: vec![],
                },
            ),
        ];
        for e in &events {
            state.apply(e);
        }
        let mut step = state.steps[0].clone();
        step.metrics.retries = retries;
        step
    }

    #[test]
    fn a_baseline_is_the_median_of_the_latest_comparable_steps() {
        // 60 older slow steps on srv, then 50 recent ones: only the latest 50 count.
        let mut history: Vec<SessionSummary> =
            (0..60).map(|k| session(k, "srv", 90_000, 900, 0)).collect();
        history.extend((60..110).map(|k| session(k, "srv", 10_000 + u64::from(k), 200, 0)));
        history.extend((110..114).map(|k| session(k, "other", 1_000, 10, 0)));
        let b = Baselines::from_summaries(&history);
        let on_srv = b.get("writer", Some(&("srv".into(), "m".into()))).unwrap();
        assert_eq!(on_srv.samples, WINDOW);
        assert_eq!(on_srv.step_tokens, 200.0);
        assert_eq!(on_srv.step_ms, 10_085.0);
        assert_eq!(on_srv.tokens_per_second, Some(50.0));
        // Four steps on `other` are too few for a baseline of their own: the role's stands in.
        let other = b
            .get("writer", Some(&("other".into(), "m".into())))
            .unwrap();
        assert_eq!(other.samples, WINDOW);
        assert!(b.get("analyst", None).is_none());
    }

    #[test]
    fn an_agent_far_off_its_baseline_is_flagged_with_the_numbers() {
        let b = Baseline {
            samples: 50,
            step_ms: 10_000.0,
            step_tokens: 200.0,
            tokens_per_second: Some(40.0),
            retries: 0.0,
        };
        let usual = running_writer(150, 0);
        assert!(flags(&usual, 5_000, Some(35.0), &b).is_empty());

        let long = running_writer(500, 0);
        assert_eq!(
            flags(&long, 5_000, None, &b),
            ["2.5x its usual length (500 tokens vs 200)"]
        );
        let slow_and_retrying = running_writer(10, 3);
        assert_eq!(
            flags(&slow_and_retrying, 40_000, Some(5.0), &b),
            [
                "running 4.0x its usual time (40s vs 10s)",
                "slow: 5 tokens/s vs 40 usually",
                "3 retries (usually 0)"
            ]
        );
        // Under the floors nothing is said, whatever the multiple.
        let quick_baseline = Baseline {
            step_ms: 1_000.0,
            step_tokens: 20.0,
            ..b
        };
        assert!(flags(&usual, 5_000, None, &quick_baseline).is_empty());
    }
}
