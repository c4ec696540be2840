//! `el-jefe stats` as text: the sessions, a table per group, the days as small charts, and
//! the recommendations.

use std::fmt::Write;

use crate::format::{group_thousands, seconds};
use crate::session::stats::{GroupFigures, Spread, Stats};

const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A value per day as a row of bars, scaled to the largest; a day without one is a space.
pub fn sparkline(values: &[Option<f64>]) -> String {
    let top = values.iter().flatten().copied().fold(0.0_f64, f64::max);
    values
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(_) if top <= 0.0 => SPARKS[0],
            Some(v) => {
                let i = ((v / top) * (SPARKS.len() - 1) as f64).round() as usize;
                SPARKS[i.min(SPARKS.len() - 1)]
            }
        })
        .collect()
}

fn ms(spread: Option<Spread>) -> String {
    spread.map_or_else(
        || "—".into(),
        |s| format!("{} / {}", seconds(s.median as u64), seconds(s.p90 as u64)),
    )
}

fn number(spread: Option<Spread>, decimals: usize) -> String {
    spread.map_or_else(
        || "—".into(),
        |s| format!("{:.*} / {:.*}", decimals, s.median, decimals, s.p90),
    )
}

fn dollars(spread: Option<Spread>) -> String {
    spread.map_or_else(
        || "—".into(),
        |s| format!("${:.4} / ${:.4}", s.median, s.p90),
    )
}

fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

/// One line of the table; the cost column only where some call had a price.
fn row(out: &mut String, g: &GroupFigures, priced: bool) {
    let cost = if priced {
        format!(" {:>19}", dollars(g.cost_per_session))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{:<22} {:>5} {:>6} {:>15} {:>12} {:>12}{cost} {:>7} {:>7} {:>7} {:>4}",
        crate::format::clip_chars(&g.key, 22),
        g.sessions,
        g.calls,
        ms(g.ttft_ms),
        number(g.tokens_per_second, 1),
        number(g.tokens_per_step, 0),
        percent(g.failure_rate),
        percent(g.retry_rate),
        percent(g.failover_rate),
        g.token_cap_hits,
    );
}

/// The period a `since` age covers, as the analytics title says it: "in the last 30 days".
pub fn period_words(since: Option<std::time::Duration>) -> String {
    let Some(age) = since else {
        return "in all".to_string();
    };
    let secs = age.as_secs();
    let (n, unit) = [(86_400, "day"), (3_600, "hour"), (60, "minute")]
        .into_iter()
        .find(|(size, _)| secs >= *size && secs % size == 0)
        .map_or((secs, "second"), |(size, unit)| (secs / size, unit));
    match n {
        1 => format!("in the last {unit}"),
        n => format!("in the last {n} {unit}s"),
    }
}

pub fn stats_text(stats: &Stats, period: &str) -> String {
    let mut out = String::new();
    let s = &stats.sessions;
    if s.sessions == 0 {
        let _ = writeln!(out, "No sessions {period}.");
        return out;
    }
    let statuses: Vec<String> = s
        .by_status
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let _ = writeln!(
        out,
        "{} {} {period} ({}); {} forks; {} stopped at a budget cap",
        s.sessions,
        if s.sessions == 1 {
            "session"
        } else {
            "sessions"
        },
        statuses.join(", "),
        s.forks,
        s.budget_hits
    );
    if let Some(speedup) = s.speedup {
        let _ = writeln!(
            out,
            "parallel speedup (sessions with max_parallel > 1): median {:.2}x, p90 {:.2}x over {}",
            speedup.median, speedup.p90, speedup.samples
        );
    }
    if let Some(wall) = s.wall_ms {
        let _ = writeln!(
            out,
            "time per session (steps): median / p90 {}",
            ms(Some(wall))
        );
    }
    let o = &stats.overall;
    let _ = writeln!(
        out,
        "tokens: {} in, {} out, {} read from cache; {} of {} answered calls estimated (the \
         provider reported no usage)",
        group_thousands(o.input_tokens),
        group_thousands(o.output_tokens),
        group_thousands(o.cache_read_tokens),
        o.estimated_calls,
        o.answered_calls,
    );
    out.push('\n');
    let priced = stats.groups.iter().any(|g| g.cost_per_session.is_some());
    let (cost_head, cost_sub) = if priced {
        (
            format!(" {:>19}", "cost/session"),
            format!(" {:>19}", "median / p90"),
        )
    } else {
        (String::new(), String::new())
    };
    let _ = writeln!(
        out,
        "{:<22} {:>5} {:>6} {:>15} {:>12} {:>12}{cost_head} {:>7} {:>7} {:>7} {:>4}",
        format!("by {}", stats.by.label()),
        "sess",
        "calls",
        "first token",
        "tokens/s",
        "tokens/step",
        "failed",
        "retry",
        "failov",
        "cap",
    );
    let _ = writeln!(
        out,
        "{:<22} {:>5} {:>6} {:>15} {:>12} {:>12}{cost_sub}",
        "", "", "", "median / p90", "median / p90", "median / p90"
    );
    for g in &stats.groups {
        row(&mut out, g, priced);
    }
    row(&mut out, o, priced);
    if stats.days.len() > 1 {
        out.push('\n');
        let first = stats.days.first().map_or("", |d| d.day.as_str());
        let last = stats.days.last().map_or("", |d| d.day.as_str());
        let _ = writeln!(
            out,
            "by day, {first} to {last} (UTC; each bar a day with calls):"
        );
        let calls: Vec<Option<f64>> = stats.days.iter().map(|d| Some(d.calls as f64)).collect();
        let speed: Vec<Option<f64>> = stats.days.iter().map(|d| d.tokens_per_second).collect();
        let ttft: Vec<Option<f64>> = stats.days.iter().map(|d| d.ttft_ms).collect();
        let failed: Vec<Option<f64>> = stats.days.iter().map(|d| Some(d.failure_rate)).collect();
        let top = |v: &[Option<f64>]| v.iter().flatten().copied().fold(0.0_f64, f64::max);
        let _ = writeln!(
            out,
            "  calls          {}  max {}",
            sparkline(&calls),
            top(&calls)
        );
        let _ = writeln!(
            out,
            "  tokens/s       {}  max {:.1} (median of the day)",
            sparkline(&speed),
            top(&speed)
        );
        let _ = writeln!(
            out,
            "  first token    {}  max {} (median of the day)",
            sparkline(&ttft),
            seconds(top(&ttft) as u64)
        );
        let _ = writeln!(
            out,
            "  failed         {}  max {}",
            sparkline(&failed),
            percent(top(&failed))
        );
    }
    out.push('\n');
    if stats.recommendations.is_empty() {
        let _ = writeln!(
            out,
            "No recommendations: nothing stands out in these sessions."
        );
    } else {
        let _ = writeln!(out, "Recommendations:");
        for r in &stats.recommendations {
            let _ = writeln!(out, "  - {}", r.advice);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_said_in_its_largest_whole_unit() {
        let words = |secs| period_words(Some(std::time::Duration::from_secs(secs)));
        assert_eq!(words(30 * 86_400), "in the last 30 days");
        assert_eq!(words(86_400), "in the last day");
        assert_eq!(words(36 * 3_600), "in the last 36 hours");
        assert_eq!(words(90), "in the last 90 seconds");
        assert_eq!(period_words(None), "in all");
    }

    #[test]
    fn a_sparkline_scales_to_its_largest_value_and_leaves_gaps_blank() {
        assert_eq!(sparkline(&[Some(1.0), None, Some(8.0), Some(4.0)]), "▂ █▅");
        assert_eq!(sparkline(&[Some(0.0), Some(0.0)]), "▁▁");
    }
}
