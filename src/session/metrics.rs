//! Measurements derived from events: per agent, per session and for the whole system.

use std::collections::BTreeMap;

use super::call::CallStats;
use super::call::ErrorKind;
use super::event::ToolStatus;
use super::session_fold::{SessionState, StepState, StepStatus};

/// Counters for one step, or summed over the steps of one agent role.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentMetrics {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Some figure came from our own count because a provider reported none.
    pub estimated: bool,
    pub api_calls: u64,
    /// Attempts the provider made again after a failure.
    pub retries: u64,
    /// Calls moved to a fallback provider.
    pub failovers: u64,
    pub tool_calls: u64,
    /// Tool calls that failed, were denied or cancelled.
    pub tool_failures: u64,
    /// Time spent running tools.
    pub tool_ms_total: u64,
    /// Failed attempts, retried or not.
    pub errors: u64,
    pub errors_by_kind: BTreeMap<ErrorKind, u64>,
    pub cache_read_tokens: u64,
    pub cache_creation_tokens: u64,
    pub words: u64,
    ttft_ms_total: u64,
    ttft_samples: u64,
    pub response_ms_total: u64,
    /// Time calls spent waiting for a free slot on a limited endpoint (`max_concurrent`).
    pub slot_wait_ms_total: u64,
    /// Text chunks streamed since the last finished call: a live stand-in for its output tokens.
    pub live_chunks: u64,
    /// Text chunks that attempts which then failed had streamed, about a token each: output
    /// the provider made (and may bill) but never reported. An estimate, kept out of the
    /// reported totals.
    pub failed_output_estimate: u64,
}

impl AgentMetrics {
    pub fn record_call(&mut self, call: &CallStats) {
        self.api_calls += 1;
        self.input_tokens += call.input_tokens;
        self.output_tokens += call.output_tokens;
        self.cache_read_tokens += call.cache_read_tokens;
        self.cache_creation_tokens += call.cache_creation_tokens;
        self.estimated |= call.estimated;
        if let Some(ttft) = call.ttft_ms {
            self.ttft_ms_total += ttft;
            self.ttft_samples += 1;
        }
        self.response_ms_total += call.duration_ms;
        self.live_chunks = 0;
    }

    /// A failed attempt; `kind` is None in journals written before kinds were recorded.
    pub fn record_failed_call(&mut self, kind: Option<ErrorKind>) {
        self.api_calls += 1;
        self.errors += 1;
        if let Some(kind) = kind {
            *self.errors_by_kind.entry(kind).or_default() += 1;
        }
        self.failed_output_estimate += self.live_chunks;
        self.live_chunks = 0;
    }

    pub fn record_slot_wait(&mut self, waited_ms: u64) {
        self.slot_wait_ms_total += waited_ms;
    }

    pub fn record_tool_result(&mut self, status: ToolStatus, duration_ms: u64) {
        self.tool_ms_total += duration_ms;
        if status.is_error() {
            self.tool_failures += 1;
        }
    }

    pub fn record_retry(&mut self, kind: ErrorKind) {
        self.record_failed_call(Some(kind));
        self.retries += 1;
    }

    pub fn record_failover(&mut self, kind: ErrorKind) {
        self.record_failed_call(Some(kind));
        self.failovers += 1;
    }

    pub fn add(&mut self, other: &AgentMetrics) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.estimated |= other.estimated;
        self.api_calls += other.api_calls;
        self.retries += other.retries;
        self.failovers += other.failovers;
        self.tool_calls += other.tool_calls;
        self.tool_failures += other.tool_failures;
        self.tool_ms_total += other.tool_ms_total;
        self.errors += other.errors;
        for (kind, n) in &other.errors_by_kind {
            *self.errors_by_kind.entry(*kind).or_default() += n;
        }
        self.cache_read_tokens += other.cache_read_tokens;
        self.cache_creation_tokens += other.cache_creation_tokens;
        self.words += other.words;
        self.ttft_ms_total += other.ttft_ms_total;
        self.ttft_samples += other.ttft_samples;
        self.response_ms_total += other.response_ms_total;
        self.live_chunks += other.live_chunks;
        self.failed_output_estimate += other.failed_output_estimate;
    }

    /// Output tokens including the call still streaming.
    pub fn output_tokens_live(&self) -> u64 {
        self.output_tokens + self.live_chunks
    }

    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens_live()
    }

    pub fn avg_ttft_ms(&self) -> Option<u64> {
        (self.ttft_samples > 0).then(|| self.ttft_ms_total / self.ttft_samples)
    }

    pub fn avg_response_ms(&self) -> Option<u64> {
        (self.api_calls > self.errors)
            .then(|| self.response_ms_total / (self.api_calls - self.errors))
    }

    /// Output tokens per second over finished calls.
    pub fn tokens_per_second(&self) -> Option<f64> {
        (self.response_ms_total > 0)
            .then(|| self.output_tokens as f64 * 1000.0 / self.response_ms_total as f64)
    }
}

pub fn count_words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub pending: usize,
    pub running: usize,
    pub paused: usize,
    pub completed: usize,
    pub failed: usize,
    pub interrupted: usize,
}

impl StatusCounts {
    pub fn total(&self) -> usize {
        self.pending + self.running + self.paused + self.completed + self.failed + self.interrupted
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionMetrics {
    /// Time the session spent running (planning included), summed over its runs.
    pub wall_ms: u64,
    /// Sum of every step attempt's running time.
    pub step_time_ms: u64,
    /// Wall time during which at least one step was running (planning and pauses between runs
    /// left out).
    pub steps_wall_ms: u64,
    /// step time / steps' wall time: how much running steps in parallel saved. 1.0 for a plan
    /// that ran one step at a time.
    pub speedup: Option<f64>,
    pub steps: StatusCounts,
    /// All agents and the planner together, inherited work included.
    pub totals: AgentMetrics,
    /// The part of `totals` a fork inherited from its parent (work done there, not here).
    pub inherited: AgentMetrics,
}

impl StepState {
    /// The step's metrics with the words of its output counted (the fold counts them only
    /// when asked: they change with every chunk).
    pub fn metrics_with_words(&self) -> AgentMetrics {
        let mut m = self.metrics.clone();
        m.words = count_words(&self.output);
        m
    }
}

impl SessionState {
    /// Metrics per agent role, in role name order; the planner appears as "planner".
    pub fn agent_metrics(&self) -> BTreeMap<String, AgentMetrics> {
        let mut by_role: BTreeMap<String, AgentMetrics> = BTreeMap::new();
        for step in &self.steps {
            let entry = by_role.entry(step.spec.agent.clone()).or_default();
            entry.add(&step.metrics_with_words());
        }
        let mut planner = self.planner_metrics.clone();
        planner.add(&self.inherited_planner_metrics);
        if planner.api_calls > 0 {
            by_role.insert("planner".into(), planner);
        }
        by_role
    }

    pub fn metrics(&self, now_ms: i64) -> SessionMetrics {
        let mut steps = StatusCounts::default();
        let mut totals = self.planner_metrics.clone();
        totals.add(&self.inherited_planner_metrics);
        let mut inherited = self.inherited_planner_metrics.clone();
        let mut step_time_ms = 0;
        for step in &self.steps {
            match step.status {
                StepStatus::Pending => steps.pending += 1,
                StepStatus::Running => steps.running += 1,
                StepStatus::Paused => steps.paused += 1,
                StepStatus::Completed => steps.completed += 1,
                StepStatus::Failed => steps.failed += 1,
                StepStatus::Interrupted => steps.interrupted += 1,
            }
            let m = step.metrics_with_words();
            totals.add(&m);
            if step.inherited {
                inherited.add(&m);
            }
            step_time_ms += step.busy_ms(now_ms);
        }
        let wall_ms = self.active_ms(now_ms);
        let steps_wall_ms = self.steps_wall_ms(now_ms);
        let speedup = (steps_wall_ms > 0 && step_time_ms > 0)
            .then(|| step_time_ms as f64 / steps_wall_ms as f64);
        SessionMetrics {
            wall_ms,
            step_time_ms,
            steps_wall_ms,
            speedup,
            steps,
            totals,
            inherited,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemMetrics {
    pub sessions: usize,
    pub active_sessions: usize,
    pub by_status: BTreeMap<&'static str, usize>,
}

pub fn system_metrics<'a>(sessions: impl IntoIterator<Item = &'a SessionState>) -> SystemMetrics {
    let mut out = SystemMetrics::default();
    for s in sessions {
        out.sessions += 1;
        if s.status.is_active() {
            out.active_sessions += 1;
        }
        *out.by_status.entry(s.status.label()).or_default() += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_on_any_whitespace() {
        assert_eq!(count_words(""), 0);
        assert_eq!(count_words("  one\ttwo\nthree  "), 3);
    }

    #[test]
    fn averages_skip_failed_calls_and_missing_ttft() {
        let mut m = AgentMetrics::default();
        assert_eq!(m.avg_response_ms(), None);
        m.record_call(&CallStats {
            provider: "p".into(),
            model: "m".into(),
            mode: crate::session::call::CallMode::Streaming,
            input_tokens: 10,
            output_tokens: 50,
            cache_read_tokens: 0,
            cache_creation_tokens: 0,
            estimated: false,
            ttft_ms: Some(100),
            duration_ms: 1000,
            finish: crate::session::call::FinishReason::Stop,
            cost_usd: None,
        });
        m.record_failed_call(None);
        assert_eq!(m.api_calls, 2);
        assert_eq!(m.errors, 1);
        assert_eq!(m.avg_response_ms(), Some(1000));
        assert_eq!(m.avg_ttft_ms(), Some(100));
        assert_eq!(m.tokens_per_second(), Some(50.0));
    }
}
