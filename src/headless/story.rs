//! What each event of a session says in plain text: a pure function from an event (and the
//! session's state with it folded in) to the lines it adds. Which agent's lines show when is
//! the printer's business (`plain.rs`): parallel agents take turns there.

use crate::format::{group_thousands, seconds};
use crate::session::builtin::call_detail;
use crate::session::call::{FailoverNotice, RetryNotice, ToolCall};
use crate::session::event::{ApprovalDecision, Envelope, Event, InterruptReason, ToolStatus};
use crate::session::ids::{SessionId, StepId};
use crate::session::metrics::count_words;
use crate::session::metrics_text::{failed_attempts_line, inherited_line, totals_lines};
use crate::session::plan::{Plan, PlanSource};
use crate::session::plan_edit::join_ids;
use crate::session::session_fold::{SessionState, StepState, StepStatus, stall_notice};

/// One piece of the story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Told {
    /// A line about the session as a whole, shown at once.
    Line(String),
    /// A step's agent starts: its header opens the step's part of the story.
    StepHeader { step: StepId, line: String },
    /// Text the step's agent wrote.
    Text { step: StepId, text: String },
    /// The step's reply starts over: what it wrote in this call is void.
    Restart { step: StepId },
    /// The step ended: its closing line.
    StepEnd { step: StepId, line: String },
    /// The session ended: every step's part is told before what follows.
    Close,
}

/// The lines `env` adds to the story. `state` already has `env` folded in; `time` is the
/// event's wall-clock time as shown.
pub fn tell(state: &SessionState, env: &Envelope, time: &str) -> Vec<Told> {
    let t = Teller { state, time };
    match &env.event {
        Event::SessionCreated { .. } => t.created(env),
        Event::Inherited { parent, at_seq, .. } => t.inherited(parent, *at_seq),
        Event::PlanningStarted { attempt } => t.planning(*attempt),
        Event::PlanRejected { attempt, error } => {
            t.line(format!("Plan attempt {attempt} rejected: {error}"))
        }
        Event::PlanReady { plan, source } => t.planned(plan, *source),
        Event::Warning { message, step } => t.warning(message, step.as_ref()),
        Event::StepStalled {
            step,
            idle_ms,
            action,
        } => t.line(format!(
            "⚠ {}: {}",
            t.step_label(step),
            stall_notice(*idle_ms, *action)
        )),
        Event::BudgetSet { budget } => t.budget_set(budget),
        Event::BudgetReached { reason, .. } => t.line(format!("⚠ {reason}; its agents are paused")),
        Event::StepRequeued { step, reason } => {
            t.line(format!("↻ {} runs again: {reason}", t.step_label(step)))
        }
        Event::CallQueued {
            step,
            provider,
            limit,
        } => t.line(format!(
            "… {}: waiting for a free slot on {provider} (max {limit} at once)",
            t.call_label(step.as_ref())
        )),
        Event::CallDequeued { .. } | Event::CallFinished { .. } => Vec::new(),
        Event::CallRetry { step, retry } => t.retry(step.as_ref(), retry),
        Event::CallFailover { step, failover } => t.failover(step.as_ref(), failover),
        Event::CallFailed { step, error, .. } => match step {
            Some(step) => t.line(format!("{} call failed: {error}", t.step_label(step))),
            None => t.line(format!("Planner call failed: {error}")),
        },
        Event::ToolCallRequested { step, call } => t.tool_requested(step, call),
        Event::ApprovalRequested {
            step, tool, detail, ..
        } => t.line(format!(
            "[tool] {} asks to run {tool}: {detail}",
            t.step_label(step)
        )),
        Event::ApprovalDecided {
            step,
            tool,
            decision,
            ..
        } => t.approval_decided(step, tool, decision),
        Event::ToolCallFinished {
            step,
            tool,
            status,
            summary,
            duration_ms,
            ..
        } => t.tool_finished(step, tool, *status, summary, *duration_ms),
        Event::StepStarted {
            step,
            agent,
            attempt,
            ..
        } => t.step_started(step, agent, *attempt),
        Event::TextDelta { step, text, .. } => vec![Told::Text {
            step: step.clone(),
            text: text.clone(),
        }],
        Event::StepPaused { step } => t.line(format!("⏸ {} paused", t.step_label(step))),
        Event::StepResumed { step } => t.line(format!("▶ {} resumed", t.step_label(step))),
        Event::StepCompleted { step, .. }
        | Event::StepFailed { step, .. }
        | Event::StepInterrupted { step, .. } => vec![Told::StepEnd {
            step: step.clone(),
            line: t.step_end_line(step),
        }],
        Event::SessionPaused => t.line("⏸ Session paused".into()),
        Event::SessionUnpaused => t.line("▶ Session unpaused".into()),
        Event::SessionResumed => t.resumed(),
        Event::PlanEdited { edit, stale } => {
            let again = if stale.is_empty() {
                String::new()
            } else {
                format!("; runs again: {}", join_ids(stale))
            };
            let mut out = vec![Told::Close];
            out.extend(t.line(format!("Plan edited: {}{again}", edit.describe())));
            out
        }
        Event::SessionInterrupted { reason } => {
            let why = match reason {
                InterruptReason::User => "",
                InterruptReason::Recovered => " (the process running it stopped)",
            };
            t.ended(format!("Workflow Interrupted{why}"))
        }
        Event::SessionCompleted => t.ended("Workflow Completed".into()),
        Event::SessionFailed { error } => t.ended(format!("Workflow Failed: {error}")),
    }
}

struct Teller<'a> {
    state: &'a SessionState,
    time: &'a str,
}

/// Continuation lines line up under the text after the time.
const INDENT: &str = "           ";

impl Teller<'_> {
    fn stamp(&self, text: &str) -> String {
        format!("[{}] {text}", self.time)
    }

    fn line(&self, text: String) -> Vec<Told> {
        vec![Told::Line(self.stamp(&text))]
    }

    fn step_label(&self, step: &StepId) -> String {
        match self.state.step_position(step) {
            Some(p) => format!("Step {p}/{}", self.state.steps.len()),
            None => format!("Step {step}"),
        }
    }

    fn call_label(&self, step: Option<&StepId>) -> String {
        match step {
            Some(step) => self.step_label(step),
            None => "Planner".to_string(),
        }
    }

    fn created(&self, env: &Envelope) -> Vec<Told> {
        let s = self.state;
        [
            self.stamp("Workflow Started"),
            format!("{INDENT}Session:   {}", env.session),
            format!("{INDENT}Goal:      {}", s.goal),
            format!("{INDENT}Workspace: {}", s.workspace.display()),
            format!(
                "{INDENT}Provider:  {} ({}) · {} · up to {} agents at once",
                s.provider,
                s.model,
                s.mode.label(),
                s.max_parallel
            ),
        ]
        .into_iter()
        .map(Told::Line)
        .collect()
    }

    fn planning(&self, attempt: u32) -> Vec<Told> {
        let again = if attempt > 1 { " again" } else { "" };
        self.line(format!("Planning{again}..."))
    }

    /// A fork's head: where it came from, what it keeps, and what runs again.
    fn inherited(&self, parent: &SessionId, at_seq: u64) -> Vec<Told> {
        let steps = &self.state.steps;
        let kept: Vec<&StepState> = steps.iter().filter(|s| s.inherited).collect();
        let mut out = self.line(format!(
            "Forked from {parent} after its event {at_seq}: {} of {} steps kept as they were \
             (no model call repeated), {} to run",
            kept.len(),
            steps.len(),
            steps.len() - kept.len()
        ));
        for step in kept {
            out.push(Told::Line(format!(
                "{INDENT}kept {}: {} ({}), {} words",
                self.step_label(&step.spec.id),
                step.spec.title,
                step.spec.agent,
                count_words(&step.output)
            )));
        }
        out
    }

    fn planned(&self, plan: &Plan, source: PlanSource) -> Vec<Told> {
        let origin = match source {
            PlanSource::Model => "",
            PlanSource::Default => " (default plan)",
            PlanSource::Given => " (given plan)",
        };
        let n = plan.steps.len();
        let steps = if n == 1 { "step" } else { "steps" };
        let mut out = self.line(format!("Planned {n} {steps}{origin}:"));
        for (i, step) in plan.steps.iter().enumerate() {
            let after = if step.depends_on.is_empty() {
                String::new()
            } else {
                let ids: Vec<&str> = step.depends_on.iter().map(StepId::as_str).collect();
                format!("  (after {})", ids.join(", "))
            };
            out.push(Told::Line(format!(
                "{INDENT}  {}. {:<11} {}{after}",
                i + 1,
                step.agent,
                step.title
            )));
        }
        out
    }

    fn warning(&self, message: &str, step: Option<&StepId>) -> Vec<Told> {
        match step {
            None => self.line(format!("Warning: {message}")),
            Some(step) => self.line(format!("Warning ({}): {message}", self.step_label(step))),
        }
    }

    fn budget_set(&self, budget: &crate::session::budget::Budget) -> Vec<Told> {
        if budget.is_empty() {
            return Vec::new();
        }
        let mut line = format!("Budget: {}", budget.session.describe());
        for (role, caps) in &budget.agents {
            line.push_str(&format!("; {role}: {}", caps.describe()));
        }
        self.line(line)
    }

    fn retry(&self, step: Option<&StepId>, retry: &RetryNotice) -> Vec<Told> {
        let mut line = format!(
            "↻ {}: {}; retry {} of {} in {:.1} s",
            self.call_label(step),
            retry.error,
            retry.retry,
            retry.max_retries,
            retry.delay_ms as f64 / 1000.0
        );
        let mut out = Vec::new();
        if retry.discarded_text {
            line.push_str(" (the partial reply is discarded)");
            if let Some(step) = step {
                out.push(Told::Restart { step: step.clone() });
            }
        }
        out.extend(self.line(line));
        out
    }

    fn failover(&self, step: Option<&StepId>, failover: &FailoverNotice) -> Vec<Told> {
        let mut line = format!(
            "⇢ {}: {} gave up ({}); continuing on {} ({})",
            self.call_label(step),
            failover.from,
            failover.error,
            failover.to,
            failover.to_model
        );
        if failover.discarded_text {
            line.push_str("; the partial reply is discarded");
        }
        let mut out = Vec::new();
        if let Some(step) = step {
            out.push(Told::Restart { step: step.clone() });
        }
        out.extend(self.line(line));
        out
    }

    fn tool_requested(&self, step: &StepId, call: &ToolCall) -> Vec<Told> {
        self.line(format!(
            "[tool] {} {} {}",
            self.step_label(step),
            call.name,
            call_detail(&call.name, &call.arguments)
        ))
    }

    fn approval_decided(
        &self,
        step: &StepId,
        tool: &str,
        decision: &ApprovalDecision,
    ) -> Vec<Told> {
        // A denial is told once, by the tool's result line.
        let what = match decision {
            ApprovalDecision::AllowOnce => "allowed once",
            ApprovalDecision::AllowForSession => "allowed for this session",
            ApprovalDecision::Deny { .. } => return Vec::new(),
        };
        self.line(format!("[tool] {} {tool} {what}", self.step_label(step)))
    }

    fn tool_finished(
        &self,
        step: &StepId,
        tool: &str,
        status: ToolStatus,
        summary: &str,
        duration_ms: u64,
    ) -> Vec<Told> {
        let mark = match status {
            ToolStatus::Ok => "->".to_string(),
            ToolStatus::Error | ToolStatus::Denied | ToolStatus::Cancelled => {
                format!("{}:", status.label())
            }
        };
        self.line(format!(
            "[tool] {} {tool} {mark} {} ({duration_ms} ms)",
            self.step_label(step),
            summary.lines().next().unwrap_or(""),
        ))
    }

    fn step_started(&self, step: &StepId, agent: &str, attempt: u32) -> Vec<Told> {
        let title = self
            .state
            .step(step)
            .map(|s| s.spec.title.as_str())
            .unwrap_or_default();
        let again = if attempt > 1 {
            format!(" · attempt {attempt}")
        } else {
            String::new()
        };
        vec![Told::StepHeader {
            step: step.clone(),
            line: self.stamp(&format!(
                "▶ {} · {agent} · {title}{again}",
                self.step_label(step)
            )),
        }]
    }

    /// The line for a step that just ended, from its state (the event is already folded in).
    fn step_end_line(&self, step: &StepId) -> String {
        let label = self.step_label(step);
        let Some(s) = self.state.step(step) else {
            return self.stamp(&format!("{label} ended"));
        };
        let text = match s.status {
            StepStatus::Completed => {
                let m = &s.metrics;
                let secs = match (s.started_at_ms, s.ended_at_ms) {
                    (Some(a), Some(b)) => seconds((b - a).max(0) as u64),
                    _ => "-".into(),
                };
                let saved = s
                    .output_file
                    .as_ref()
                    .map(|p| format!("\n{INDENT}saved to {}", p.display()))
                    .unwrap_or_default();
                format!(
                    "✓ {label} · {} done: {} words · {} tokens · {} tools · {secs}{saved}",
                    s.spec.agent,
                    group_thousands(count_words(&s.output)),
                    group_thousands(m.total_tokens()),
                    m.tool_calls,
                )
            }
            StepStatus::Failed => {
                let error = s.error.as_deref().unwrap_or("no reason given");
                format!("✗ {label} · {} failed: {error}", s.spec.agent)
            }
            StepStatus::Interrupted => format!("■ {label} · {} interrupted", s.spec.agent),
            StepStatus::Pending | StepStatus::Running | StepStatus::Paused => {
                format!("{label} ended")
            }
        };
        self.stamp(&text)
    }

    fn resumed(&self) -> Vec<Told> {
        let total = self.state.steps.len();
        if total == 0 {
            return self.line("Workflow Resumed (planning again)".into());
        }
        let done = self
            .state
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Completed)
            .count();
        self.line(format!(
            "Workflow Resumed: {done} of {total} steps already done, running the rest"
        ))
    }

    /// The session's last words: every held step first, then `headline` and the totals.
    fn ended(&self, headline: String) -> Vec<Told> {
        let mut out = vec![Told::Close];
        out.extend(self.line(headline));
        out.extend(self.summary().into_iter().map(Told::Line));
        out
    }

    fn summary(&self) -> Vec<String> {
        let state = self.state;
        let m = state.metrics(state.ended_at_ms.unwrap_or(state.created_at_ms));
        let mut out: Vec<String> = totals_lines(&m)
            .into_iter()
            .chain(failed_attempts_line(&m))
            .chain(inherited_line(&m))
            .map(|line| format!("{INDENT}{line}"))
            .collect();
        for (agent, a) in state.agent_metrics() {
            out.push(format!(
                "{INDENT}{agent:<11} {:>6} words {:>7} tokens {:>3} tools {:>3} calls {:>3} retries {:>3} errors · first token {} · response {}",
                group_thousands(a.words),
                group_thousands(a.total_tokens()),
                a.tool_calls,
                a.api_calls,
                a.retries,
                a.errors,
                a.avg_ttft_ms().map_or("-".into(), seconds),
                a.avg_response_ms().map_or("-".into(), seconds),
            ));
        }
        if !state.workspace.as_os_str().is_empty() {
            out.push(format!("{INDENT}Outputs in {}", state.workspace.display()));
        }
        out
    }
}
