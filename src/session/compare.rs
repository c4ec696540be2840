//! Two runs side by side (an A/B pair, a fork and its parent, any two sessions): step by step
//! figures matched by step id, the totals, and a verdict per metric. Pure: front ends render it.

use serde::Serialize;

use super::metrics::AgentMetrics;
use super::session_fold::{SessionState, StepState};

/// One run's figures for a step or for the whole session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub status: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub estimated: bool,
    pub cost_usd: Option<f64>,
    pub ttft_ms: Option<u64>,
    pub tokens_per_s: Option<f64>,
    pub tool_calls: u64,
    pub errors: u64,
    pub retries: u64,
    pub words: u64,
    /// Running time (steps) or wall time (sessions).
    pub time_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepPair {
    pub id: String,
    pub title: String,
    pub agent: String,
    pub a: Option<Figures>,
    pub b: Option<Figures>,
    /// The outputs, for a word diff.
    pub a_output: String,
    pub b_output: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    pub session: String,
    /// Where it ran: "openai (gpt-4o-mini)", with the roles it moved.
    pub ran_on: String,
    /// The steps' work together; time is the wall time while any step ran. The verdicts judge
    /// this, so a side that planned is not charged for the plan both sides share.
    pub totals: Figures,
    /// The planner's own calls, when this side planned.
    pub planner: Option<Figures>,
    /// A fork: its plan came from its parent.
    pub forked: bool,
    /// Still running (or paused): its figures are those so far.
    pub running: bool,
}

/// Which run did better on one metric, in words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub metric: &'static str,
    pub line: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub a: Side,
    pub b: Side,
    pub steps: Vec<StepPair>,
    pub verdicts: Vec<Verdict>,
}

pub fn compare(a: &SessionState, b: &SessionState, now_ms: i64) -> Comparison {
    let mut steps: Vec<StepPair> = a
        .steps
        .iter()
        .map(|sa| {
            let sb = b.step(&sa.spec.id);
            pair(sa, Some(sa), sb, now_ms)
        })
        .collect();
    steps.extend(
        b.steps
            .iter()
            .filter(|sb| a.step(&sb.spec.id).is_none())
            .map(|sb| pair(sb, None, Some(sb), now_ms)),
    );
    let (a, b) = (side(a, now_ms), side(b, now_ms));
    let verdicts = verdicts(&a.totals, &b.totals);
    Comparison {
        a,
        b,
        steps,
        verdicts,
    }
}

fn pair(
    spec_of: &StepState,
    a: Option<&StepState>,
    b: Option<&StepState>,
    now_ms: i64,
) -> StepPair {
    StepPair {
        id: spec_of.spec.id.to_string(),
        title: spec_of.spec.title.clone(),
        agent: spec_of.spec.agent.clone(),
        a: a.map(|s| step_figures(s, now_ms)),
        b: b.map(|s| step_figures(s, now_ms)),
        a_output: a.map(|s| s.output.clone()).unwrap_or_default(),
        b_output: b.map(|s| s.output.clone()).unwrap_or_default(),
    }
}

fn step_figures(step: &StepState, now_ms: i64) -> Figures {
    // A fork's kept steps ran in its parent: their figures are the parent's, their time here
    // none.
    let status = if step.inherited {
        "inherited"
    } else {
        step.status.label()
    };
    figures(
        &step.metrics_with_words(),
        status,
        priced(step.cost),
        step.busy_ms(now_ms),
    )
}

fn side(state: &SessionState, now_ms: i64) -> Side {
    let mut steps = AgentMetrics::default();
    for step in &state.steps {
        steps.add(&step.metrics_with_words());
    }
    let cost = priced(state.steps.iter().map(|s| s.cost).sum::<f64>());
    let planner = (state.planner_metrics.api_calls > 0).then(|| {
        figures(
            &state.planner_metrics,
            "planned",
            priced(state.planner_cost),
            state.planner_metrics.response_ms_total,
        )
    });
    let mut ran_on = format!("{} ({})", state.provider, state.model);
    if !state.choice.roles.is_empty() {
        let roles: Vec<String> = state
            .choice
            .roles
            .iter()
            .map(|(role, pick)| format!("{role}={pick}"))
            .collect();
        ran_on.push_str(&format!(", {}", roles.join(", ")));
    }
    Side {
        session: state.id.to_string(),
        ran_on,
        totals: figures(
            &steps,
            state.status.label(),
            cost,
            state.steps_wall_ms(now_ms),
        ),
        planner,
        forked: state.forked_from.is_some(),
        running: state.status.is_active(),
    }
}

/// Dollars, when some call had a price (unpriced calls add nothing).
fn priced(dollars: f64) -> Option<f64> {
    (dollars > 0.0).then_some(dollars)
}

fn figures(m: &AgentMetrics, status: &str, cost_usd: Option<f64>, time_ms: u64) -> Figures {
    Figures {
        status: status.to_string(),
        input_tokens: m.input_tokens,
        // A call still streaming has reported nothing yet: its chunks stand in, marked as our
        // estimate, rather than a running step showing no output at all.
        output_tokens: m.output_tokens_live(),
        estimated: m.estimated || m.live_chunks > 0,
        cost_usd,
        ttft_ms: m.avg_ttft_ms(),
        tokens_per_s: m.tokens_per_second(),
        tool_calls: m.tool_calls,
        errors: m.errors,
        retries: m.retries,
        words: m.words,
        time_ms,
    }
}

/// Which is better, A or B, when lower (or higher) is better: a line per metric.
fn verdicts(a: &Figures, b: &Figures) -> Vec<Verdict> {
    let tokens = |f: &Figures| (f.input_tokens + f.output_tokens) as f64;
    let mut out = vec![
        lower_wins("tokens", tokens(a), tokens(b), |v| format!("{v:.0} tokens")),
        lower_wins("time", a.time_ms as f64, b.time_ms as f64, |v| {
            format!("{:.1} s", v / 1000.0)
        }),
    ];
    if let (Some(ca), Some(cb)) = (a.cost_usd, b.cost_usd) {
        out.push(lower_wins("cost", ca, cb, |v| format!("${v:.4}")));
    }
    if let (Some(ta), Some(tb)) = (a.ttft_ms, b.ttft_ms) {
        out.push(lower_wins("first token", ta as f64, tb as f64, |v| {
            format!("{:.2} s", v / 1000.0)
        }));
    }
    if let (Some(ra), Some(rb)) = (a.tokens_per_s, b.tokens_per_s) {
        out.push(higher_wins("tokens/s", ra, rb, |v| {
            format!("{v:.1} tokens/s")
        }));
    }
    out.push(lower_wins(
        "errors",
        a.errors as f64,
        b.errors as f64,
        |v| format!("{v:.0}"),
    ));
    out.push(lower_wins(
        "retries",
        a.retries as f64,
        b.retries as f64,
        |v| format!("{v:.0}"),
    ));
    out
}

fn lower_wins(metric: &'static str, a: f64, b: f64, show: impl Fn(f64) -> String) -> Verdict {
    judge(metric, a, b, false, show)
}

fn higher_wins(metric: &'static str, a: f64, b: f64, show: impl Fn(f64) -> String) -> Verdict {
    judge(metric, a, b, true, show)
}

fn judge(
    metric: &'static str,
    a: f64,
    b: f64,
    higher_is_better: bool,
    show: impl Fn(f64) -> String,
) -> Verdict {
    let figures = format!("A {} · B {}", show(a), show(b));
    // Within 5 %, the machine's noise says more than the providers do.
    let close = (a - b).abs() <= 0.05 * a.abs().max(b.abs());
    let line = if close {
        format!("{metric}: even ({figures})")
    } else {
        let a_wins = (a > b) == higher_is_better;
        let (winner, best, worst) = if a_wins { ("A", a, b) } else { ("B", b, a) };
        let by = if higher_is_better {
            format!("{:.0} % more", (best / worst - 1.0) * 100.0)
        } else {
            format!("{:.0} % less", (1.0 - best / worst) * 100.0)
        };
        format!("{metric}: {winner} better, {by} ({figures})")
    };
    Verdict { metric, line }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(tokens: u64, time_ms: u64, errors: u64) -> Figures {
        Figures {
            status: "completed".into(),
            input_tokens: tokens / 2,
            output_tokens: tokens / 2,
            estimated: false,
            cost_usd: None,
            ttft_ms: Some(400),
            tokens_per_s: Some(20.0),
            tool_calls: 0,
            errors,
            retries: 0,
            words: 10,
            time_ms,
        }
    }

    #[test]
    fn each_metric_names_the_better_run_and_by_how_much() {
        let lines: Vec<String> = verdicts(&totals(1000, 2000, 1), &totals(800, 4000, 1))
            .into_iter()
            .map(|v| v.line)
            .collect();
        assert_eq!(
            lines[0],
            "tokens: B better, 20 % less (A 1000 tokens · B 800 tokens)"
        );
        assert_eq!(lines[1], "time: A better, 50 % less (A 2.0 s · B 4.0 s)");
        assert_eq!(
            lines[2], "first token: even (A 0.40 s · B 0.40 s)",
            "no cost line without prices"
        );
        assert_eq!(
            lines[3],
            "tokens/s: even (A 20.0 tokens/s · B 20.0 tokens/s)"
        );
        assert_eq!(lines[4], "errors: even (A 1 · B 1)");
    }

    #[test]
    fn a_step_still_streaming_counts_its_chunks_as_estimated_output() {
        let mut m = AgentMetrics::default();
        m.output_tokens = 40;
        m.live_chunks = 25;
        let f = figures(&m, "running", None, 1_000);
        assert_eq!(f.output_tokens, 65);
        assert!(f.estimated);
        m.live_chunks = 0;
        let f = figures(&m, "completed", None, 1_000);
        assert_eq!(f.output_tokens, 40);
        assert!(!f.estimated);
    }

    #[test]
    fn higher_is_better_for_speed() {
        let v = higher_wins("tokens/s", 10.0, 30.0, |v| format!("{v:.0}"));
        assert_eq!(v.line, "tokens/s: B better, 200 % more (A 10 · B 30)");
    }
}
