//! Session metrics in words, for every front end.

use crate::format::{group_thousands, seconds, speedup};
use crate::session::metrics::{AgentMetrics, SessionMetrics};
use crate::session::session_fold::SessionState;

/// A session's totals in two lines: what it produced, then how long it took.
pub fn totals_lines(m: &SessionMetrics) -> [String; 2] {
    [
        format!(
            "steps {}/{} · {} · avg response {}",
            m.steps.completed,
            m.steps.total(),
            token_totals(&m.totals),
            m.totals.avg_response_ms().map_or("-".into(), seconds),
        ),
        format!(
            "wall time {} · step time {} · parallel speedup {}",
            seconds(m.wall_ms),
            seconds(m.step_time_ms),
            speedup(m.speedup),
        ),
    ]
}

/// The part of a fork's totals done in its parent, when there is one: "of which inherited
/// (done in the parent, not here): tokens ...".
pub fn inherited_line(m: &SessionMetrics) -> Option<String> {
    (m.inherited.api_calls > 0).then(|| {
        format!(
            "of which inherited (done in the parent, not here): {}",
            token_totals(&m.inherited)
        )
    })
}

/// "tokens 1,024 (in 600 / out 424) · words 700 · API calls 4 (1 retry) · errors 1 (rate
/// limited 1)"; cache figures appear when a provider reported any.
pub fn token_totals(t: &AgentMetrics) -> String {
    let estimated = if t.estimated { " (estimated)" } else { "" };
    let mut cache = String::new();
    if t.cache_read_tokens > 0 || t.cache_creation_tokens > 0 {
        cache = format!(
            " / cache read {} / cache write {}",
            group_thousands(t.cache_read_tokens),
            group_thousands(t.cache_creation_tokens)
        );
    }
    format!(
        "tokens {}{estimated} (in {} / out {}{cache}) · words {} · {}",
        group_thousands(t.total_tokens()),
        group_thousands(t.input_tokens),
        group_thousands(t.output_tokens_live()),
        group_thousands(t.words),
        call_totals(t),
    )
}

/// The planner's share of the totals, when it made calls here: "of which the planner: tokens
/// 575 (in 400 / out 175) · ...".
pub fn planner_line(state: &SessionState) -> Option<String> {
    (state.planner_metrics.api_calls > 0).then(|| {
        format!(
            "of which the planner: {}",
            token_totals(&state.planner_metrics)
        )
    })
}

/// Attempts that failed, apart: their usage is not in the totals because providers do not
/// report it, which the line says, with our estimate of what they had streamed.
pub fn failed_attempts_line(m: &SessionMetrics) -> Option<String> {
    let t = &m.totals;
    (t.errors > 0).then(|| {
        let gave_up = t.errors.saturating_sub(t.retries + t.failovers);
        let streamed = match t.failed_output_estimate {
            0 => "none had streamed text".to_string(),
            n => format!(
                "they had streamed about {} (estimated)",
                plural(n, "output token", "output tokens")
            ),
        };
        format!(
            "failed attempts {} ({} retried, {} failed over, {} gave up): providers report no \
             usage for them, so their tokens are not in the totals; {streamed}",
            t.errors, t.retries, t.failovers, gave_up
        )
    })
}

/// "API calls 4 (1 retry, 1 failover) · errors 2 (rate limited 1, overloaded 1)".
pub fn call_totals(t: &AgentMetrics) -> String {
    let mut calls = format!("API calls {}", t.api_calls);
    let mut extra = Vec::new();
    if t.retries > 0 {
        extra.push(plural(t.retries, "retry", "retries"));
    }
    if t.failovers > 0 {
        extra.push(plural(t.failovers, "failover", "failovers"));
    }
    if !extra.is_empty() {
        calls.push_str(&format!(" ({})", extra.join(", ")));
    }
    let mut errors = format!("errors {}", t.errors);
    if !t.errors_by_kind.is_empty() {
        let kinds: Vec<String> = t
            .errors_by_kind
            .iter()
            .map(|(kind, n)| format!("{} {n}", kind.label()))
            .collect();
        errors.push_str(&format!(" ({})", kinds.join(", ")));
    }
    format!("{calls} · {errors}")
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
