//! Number formats shared by the text front ends.

use crate::engine::metrics::{AgentMetrics, SessionMetrics};

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

/// "1.85x", or "-" before anything ran.
pub fn speedup(value: Option<f64>) -> String {
    value.map_or("-".into(), |s| format!("{s:.2}x"))
}

/// 1234567 -> "1,234,567".
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Milliseconds as "0.4 s", "12.3 s", "4m 05s", "2h 03m".
pub fn seconds(ms: u64) -> String {
    let s = ms / 1000;
    if s < 60 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if s < 3600 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(1234567), "1,234,567");
        assert_eq!(seconds(450), "0.5 s");
        assert_eq!(seconds(12_340), "12.3 s");
        assert_eq!(seconds(245_000), "4m 05s");
        assert_eq!(seconds(7_380_000), "2h 03m");
    }
}
