//! Analytics over many sessions, from their summaries: figures per role, provider, model or
//! day, the days as a series, and recommendations that each carry the numbers behind them.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::ids::{SessionId, StepId};
use super::summary::{CallOutcome, CallRecord, SessionSummary};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Role,
    Provider,
    Model,
    Day,
}

impl GroupBy {
    pub fn parse(text: &str) -> Result<GroupBy, String> {
        match text {
            "role" => Ok(GroupBy::Role),
            "provider" => Ok(GroupBy::Provider),
            "model" => Ok(GroupBy::Model),
            "day" => Ok(GroupBy::Day),
            other => Err(format!(
                "cannot group by `{other}`: role, provider, model or day"
            )),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            GroupBy::Role => "role",
            GroupBy::Provider => "provider",
            GroupBy::Model => "model",
            GroupBy::Day => "day",
        }
    }

    fn key(self, call: &CallRecord) -> String {
        match self {
            GroupBy::Role => call.role.clone(),
            GroupBy::Provider => call.provider.clone(),
            GroupBy::Model if call.model.is_empty() => format!("{} (model unknown)", call.provider),
            GroupBy::Model => format!("{}:{}", call.provider, call.model),
            GroupBy::Day => day(call.at_ms),
        }
    }
}

/// The UTC date of a time, `2026-12-01`.
pub fn day(at_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at_ms)
        .map_or_else(|| "?".into(), |t| t.format("%Y-%m-%d").to_string())
}

/// The median and the 90th percentile of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub median: f64,
    pub p90: f64,
    pub samples: usize,
}

impl Spread {
    pub fn of(mut values: Vec<f64>) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let at = |p: f64| values[((values.len() - 1) as f64 * p).round() as usize];
        Some(Spread {
            median: at(0.5),
            p90: at(0.9),
            samples: values.len(),
        })
    }
}

/// The figures of one group (or of everything).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupFigures {
    pub key: String,
    pub sessions: usize,
    /// Attempts, failed ones included.
    pub calls: usize,
    /// Attempts that brought an answer.
    pub answered_calls: usize,
    pub ttft_ms: Option<Spread>,
    pub tokens_per_second: Option<Spread>,
    /// Output tokens of each step (its calls in this group summed).
    pub tokens_per_step: Option<Spread>,
    /// US dollars per session, over the sessions with priced calls.
    pub cost_per_session: Option<Spread>,
    pub cost_usd: f64,
    /// Shares of attempts, 0 to 1.
    pub failure_rate: f64,
    pub retry_rate: f64,
    pub failover_rate: f64,
    /// Calls that stopped at the token limit.
    pub token_cap_hits: usize,
    /// Calls whose usage is our estimate (the provider reported none).
    pub estimated_calls: usize,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionFigures {
    pub sessions: usize,
    pub by_status: BTreeMap<String, usize>,
    pub forks: usize,
    /// Sessions stopped at least once by a budget cap.
    pub budget_hits: usize,
    pub speedup: Option<Spread>,
    pub wall_ms: Option<Spread>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayPoint {
    pub day: String,
    pub sessions: usize,
    pub calls: usize,
    pub tokens_per_second: Option<f64>,
    pub ttft_ms: Option<f64>,
    pub failure_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// Which rule: `slot_wait`, `token_cap`, `failover`, `retries`, `budget`, `speedup`.
    pub rule: &'static str,
    /// What to do, with the numbers that say why.
    pub advice: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub by: GroupBy,
    pub sessions: SessionFigures,
    pub overall: GroupFigures,
    pub groups: Vec<GroupFigures>,
    pub days: Vec<DayPoint>,
    pub recommendations: Vec<Recommendation>,
}

/// Every figure, over the given summaries (already cut to the period wanted).
pub fn compute(summaries: &[SessionSummary], by: GroupBy) -> Stats {
    let all: Vec<(&SessionSummary, &CallRecord)> = summaries
        .iter()
        .flat_map(|s| s.calls.iter().map(move |c| (s, c)))
        .collect();
    let mut grouped: BTreeMap<String, Vec<(&SessionSummary, &CallRecord)>> = BTreeMap::new();
    for &(s, c) in &all {
        grouped.entry(by.key(c)).or_default().push((s, c));
    }
    let groups = grouped
        .iter()
        .map(|(key, calls)| figures(key.clone(), calls))
        .collect();
    let mut by_day: BTreeMap<String, Vec<(&SessionSummary, &CallRecord)>> = BTreeMap::new();
    for &(s, c) in &all {
        by_day.entry(day(c.at_ms)).or_default().push((s, c));
    }
    let days = by_day
        .into_iter()
        .map(|(day, calls)| {
            let f = figures(day.clone(), &calls);
            DayPoint {
                day,
                sessions: f.sessions,
                calls: f.calls,
                tokens_per_second: f.tokens_per_second.map(|s| s.median),
                ttft_ms: f.ttft_ms.map(|s| s.median),
                failure_rate: f.failure_rate,
            }
        })
        .collect();
    Stats {
        by,
        sessions: session_figures(summaries),
        overall: figures("all".into(), &all),
        groups,
        days,
        recommendations: recommend(summaries),
    }
}

fn rate(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn figures(key: String, calls: &[(&SessionSummary, &CallRecord)]) -> GroupFigures {
    let ok: Vec<&CallRecord> = calls
        .iter()
        .map(|(_, c)| *c)
        .filter(|c| c.outcome == CallOutcome::Ok)
        .collect();
    let count = |outcome: CallOutcome| calls.iter().filter(|(_, c)| c.outcome == outcome).count();
    let failed = calls.len() - ok.len();
    let mut per_step: BTreeMap<(&SessionId, &StepId), u64> = BTreeMap::new();
    let mut per_session_cost: BTreeMap<&SessionId, f64> = BTreeMap::new();
    let mut sessions: BTreeSet<&SessionId> = BTreeSet::new();
    for (s, c) in calls {
        sessions.insert(&s.id);
        if let (Some(step), CallOutcome::Ok) = (&c.step, c.outcome) {
            *per_step.entry((&s.id, step)).or_default() += c.output_tokens;
        }
        if let Some(cost) = c.cost_usd {
            *per_session_cost.entry(&s.id).or_default() += cost;
        }
    }
    GroupFigures {
        key,
        sessions: sessions.len(),
        calls: calls.len(),
        answered_calls: ok.len(),
        ttft_ms: Spread::of(
            ok.iter()
                .filter_map(|c| c.ttft_ms)
                .map(|t| t as f64)
                .collect(),
        ),
        tokens_per_second: Spread::of(ok.iter().filter_map(|c| c.tokens_per_second()).collect()),
        tokens_per_step: Spread::of(per_step.values().map(|&t| t as f64).collect()),
        cost_per_session: Spread::of(per_session_cost.values().copied().collect()),
        cost_usd: per_session_cost.values().sum(),
        failure_rate: rate(failed, calls.len()),
        retry_rate: rate(count(CallOutcome::Retried), calls.len()),
        failover_rate: rate(count(CallOutcome::FailedOver), calls.len()),
        token_cap_hits: ok.iter().filter(|c| c.hit_token_cap).count(),
        estimated_calls: ok.iter().filter(|c| c.estimated).count(),
        input_tokens: ok.iter().map(|c| c.input_tokens).sum(),
        output_tokens: ok.iter().map(|c| c.output_tokens).sum(),
        cache_read_tokens: ok.iter().map(|c| c.cache_read_tokens).sum(),
    }
}

fn session_figures(summaries: &[SessionSummary]) -> SessionFigures {
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for s in summaries {
        *by_status.entry(s.status.clone()).or_default() += 1;
    }
    SessionFigures {
        sessions: summaries.len(),
        by_status,
        forks: summaries.iter().filter(|s| s.forked).count(),
        budget_hits: summaries.iter().filter(|s| s.budget_hits > 0).count(),
        speedup: Spread::of(
            summaries
                .iter()
                .filter(|s| s.max_parallel > 1)
                .filter_map(|s| s.speedup)
                .collect(),
        ),
        wall_ms: Spread::of(
            summaries
                .iter()
                .filter(|s| s.steps_wall_ms > 0)
                .map(|s| s.steps_wall_ms as f64)
                .collect(),
        ),
    }
}

/// Thresholds below which a pattern is not worth a word, and the least evidence for one.
const SLOT_WAIT_SHARE: f64 = 0.2;
const TOKEN_CAP_SHARE: f64 = 0.3;
const FAILOVER_SHARE: f64 = 0.05;
const RETRY_SHARE: f64 = 0.1;
const BUDGET_SHARE: f64 = 0.2;
const LOW_SPEEDUP: f64 = 1.2;
const MIN_SESSIONS: usize = 3;
const MIN_CALLS: usize = 20;

fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

/// What the data suggests changing, each with its numbers; nothing when the data is thin.
pub fn recommend(summaries: &[SessionSummary]) -> Vec<Recommendation> {
    let mut out = Vec::new();
    let calls: Vec<&CallRecord> = summaries.iter().flat_map(|s| &s.calls).collect();

    // Waiting for a free slot, against the time the calls then took.
    let mut waits: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for s in summaries {
        for w in &s.slot_waits {
            let e = waits.entry(&w.provider).or_default();
            e.0 += w.waited_ms;
            e.1 += w.calls;
        }
    }
    for (provider, (waited, n)) in waits {
        let busy: u64 = calls
            .iter()
            .filter(|c| c.provider == provider)
            .map(|c| c.duration_ms)
            .sum();
        let share = rate(waited as usize, (waited + busy) as usize);
        if share >= SLOT_WAIT_SHARE && n as usize >= MIN_SESSIONS {
            out.push(Recommendation {
                rule: "slot_wait",
                advice: format!(
                    "calls to {provider} waited for a free slot {} of their time ({n} waits, \
                     {:.0} s in all): raise its max_concurrent if the server can serve more at \
                     once, or lower max_parallel",
                    percent(share),
                    waited as f64 / 1000.0
                ),
            });
        }
    }

    // A role whose answers keep stopping at the token limit.
    let mut roles: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for s in summaries {
        let mut seen: BTreeMap<&str, bool> = BTreeMap::new();
        for c in s.calls.iter().filter(|c| c.outcome == CallOutcome::Ok) {
            *seen.entry(&c.role).or_default() |= c.hit_token_cap;
        }
        for (role, hit) in seen {
            let e = roles.entry(role).or_default();
            e.0 += usize::from(hit);
            e.1 += 1;
        }
    }
    for (role, (hit, of)) in roles {
        if of >= MIN_SESSIONS && rate(hit, of) >= TOKEN_CAP_SHARE {
            out.push(Recommendation {
                rule: "token_cap",
                advice: format!(
                    "the {role} hit its token cap in {hit} of {of} sessions: raise its \
                     max_tokens, or ask it for shorter answers"
                ),
            });
        }
    }

    // Providers that fail over or retry often.
    let mut providers: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for c in &calls {
        let e = providers.entry(&c.provider).or_default();
        e.0 += 1;
        e.1 += usize::from(c.outcome == CallOutcome::FailedOver);
        e.2 += usize::from(c.outcome == CallOutcome::Retried);
    }
    for (provider, (n, failovers, retries)) in providers {
        if n < MIN_CALLS {
            continue;
        }
        if rate(failovers, n) >= FAILOVER_SHARE {
            out.push(Recommendation {
                rule: "failover",
                advice: format!(
                    "{provider} failed over in {} of its calls ({failovers} of {n}): check its \
                     health, or put its fallback first",
                    percent(rate(failovers, n))
                ),
            });
        }
        if rate(retries, n) >= RETRY_SHARE {
            out.push(Recommendation {
                rule: "retries",
                advice: format!(
                    "{provider} needed a retry in {} of its calls ({retries} of {n}): it is \
                     overloaded or rate-limited; lower max_concurrent or spread the load",
                    percent(rate(retries, n))
                ),
            });
        }
    }

    let hits = summaries.iter().filter(|s| s.budget_hits > 0).count();
    if summaries.len() >= MIN_SESSIONS && rate(hits, summaries.len()) >= BUDGET_SHARE {
        out.push(Recommendation {
            rule: "budget",
            advice: format!(
                "{hits} of {} sessions stopped at a budget cap: raise the cap that stops them \
                 (el-jefe show names it), or narrow the goals",
                summaries.len()
            ),
        });
    }

    let parallel: Vec<f64> = summaries
        .iter()
        .filter(|s| s.max_parallel > 1 && s.steps.len() > 1)
        .filter_map(|s| s.speedup)
        .collect();
    if let Some(speedup) = Spread::of(parallel)
        && speedup.samples >= MIN_SESSIONS
        && speedup.median < LOW_SPEEDUP
    {
        out.push(Recommendation {
            rule: "speedup",
            advice: format!(
                "running steps side by side gained only {:.2}x (median of {} sessions): the \
                 plans chain their steps, or the provider serves one call at a time",
                speedup.median, speedup.samples
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::fixtures::writer_session;
    use crate::session::summary::CallOutcome;

    fn rules(summaries: &[SessionSummary]) -> Vec<&'static str> {
        recommend(summaries).iter().map(|r| r.rule).collect()
    }

    #[test]
    fn a_provider_that_fails_over_or_retries_often_is_named_with_its_share() {
        // 20 sessions of 2 attempts on flaky: 5 fail over, 4 retry... as crafted below.
        let mut history: Vec<SessionSummary> = (0..20)
            .map(|k| writer_session(k, "flaky", 1_000, 100, 0))
            .collect();
        for s in history.iter_mut().take(3) {
            s.calls[0].outcome = CallOutcome::FailedOver;
            s.calls.push(s.calls[0].clone());
            s.calls[1].outcome = CallOutcome::Ok;
        }
        let advice = recommend(&history);
        let failover = advice.iter().find(|r| r.rule == "failover").unwrap();
        assert_eq!(
            failover.advice,
            "flaky failed over in 13 % of its calls (3 of 23): check its health, or put its \
             fallback first"
        );
        assert!(!rules(&history).contains(&"retries"));

        let retried: Vec<SessionSummary> = (0..20)
            .map(|k| writer_session(k, "busy", 1_000, 100, usize::from(k % 4 == 0)))
            .collect();
        let advice = recommend(&retried);
        assert!(
            advice.iter().any(|r| r
                .advice
                .starts_with("busy needed a retry in 20 % of its calls (5 of 25)")),
            "{advice:?}"
        );
    }

    #[test]
    fn thin_data_and_quiet_data_say_nothing() {
        // Two sessions both at their budget cap: too few to call it a pattern.
        let mut two: Vec<SessionSummary> = (0..2)
            .map(|k| writer_session(k, "p", 1_000, 100, 0))
            .collect();
        for s in &mut two {
            s.budget_hits = 1;
        }
        assert!(recommend(&two).is_empty());
        // Five sessions, one at a cap: 20 % is the threshold, and it is said.
        let mut five: Vec<SessionSummary> = (0..5)
            .map(|k| writer_session(k, "p", 1_000, 100, 0))
            .collect();
        five[0].budget_hits = 2;
        assert_eq!(
            recommend(&five)[0].advice,
            "1 of 5 sessions stopped at a budget cap: raise the cap that stops them (el-jefe \
             show names it), or narrow the goals"
        );
        five[0].budget_hits = 0;
        assert!(recommend(&five).is_empty());
    }

    #[test]
    fn figures_per_group_count_failed_attempts_against_their_provider() {
        let history: Vec<SessionSummary> = (0..4)
            .map(|k| writer_session(k, if k < 2 { "a" } else { "b" }, 1_000, 100, 1))
            .collect();
        let stats = compute(&history, GroupBy::Provider);
        let a = stats.groups.iter().find(|g| g.key == "a").unwrap();
        assert_eq!((a.calls, a.answered_calls), (4, 2));
        assert_eq!(a.retry_rate, 0.5);
        assert_eq!(a.tokens_per_step.unwrap().median, 100.0);
        assert_eq!(stats.overall.calls, 8);
    }
}
