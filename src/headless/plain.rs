//! The plain-text story of a session, for terminals and logs.
//!
//! Parallel agents would interleave mid-sentence if all printed at once, so one step streams live
//! and the others are held back; each is printed whole, in start order, when its turn comes.

use std::collections::HashMap;
use std::io::{self, Write};

use chrono::{Local, TimeZone};

use crate::engine::event::{ApprovalDecision, Envelope, Event, InterruptReason, ToolStatus};
use crate::engine::ids::StepId;
use crate::engine::metrics::count_words;
use crate::engine::plan::PlanSource;
use crate::engine::plan_edit::join_ids;
use crate::engine::session_fold::{SessionState, StepStatus, stall_notice};

use super::format::{group_thousands, seconds, totals_lines};

pub struct PlainPrinter<W: Write> {
    out: W,
    state: Option<SessionState>,
    live: Option<StepId>,
    /// Steps waiting for their turn to print, in start order.
    queue: Vec<StepId>,
    held_text: HashMap<StepId, String>,
    /// Result lines of held steps that already finished.
    held_end: HashMap<StepId, String>,
    at_line_start: bool,
}

impl<W: Write> PlainPrinter<W> {
    pub fn new(out: W) -> Self {
        PlainPrinter {
            out,
            state: None,
            live: None,
            queue: Vec::new(),
            held_text: HashMap::new(),
            held_end: HashMap::new(),
            at_line_start: true,
        }
    }

    /// Starts from a session's stored state, for resuming it: step numbers, titles and totals
    /// then cover the whole session, not just this run.
    pub fn resuming(out: W, state: SessionState) -> Self {
        let mut p = PlainPrinter::new(out);
        p.state = Some(state);
        p
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    /// Ends a line of streamed text so a message printed elsewhere starts on its own line.
    pub fn break_line(&mut self) -> io::Result<()> {
        if !self.at_line_start {
            self.out.write_all(b"\n")?;
            self.out.flush()?;
            self.at_line_start = true;
        }
        Ok(())
    }

    pub fn print(&mut self, env: &Envelope) -> io::Result<()> {
        let state = self
            .state
            .get_or_insert_with(|| SessionState::new(env.session.clone()));
        state.apply(env);
        let time = clock(env.at_ms);
        match &env.event {
            Event::SessionCreated {
                goal,
                workspace,
                mode,
                provider,
                model,
                max_parallel,
            } => {
                self.line(&format!("[{time}] Workflow Started"))?;
                self.line(&format!("           Session:   {}", env.session))?;
                self.line(&format!("           Goal:      {goal}"))?;
                self.line(&format!("           Workspace: {}", workspace.display()))?;
                self.line(&format!(
                    "           Provider:  {provider} ({model}) · {} · up to {max_parallel} agents at once",
                    mode.label()
                ))?;
            }
            Event::PlanningStarted { attempt } => {
                let again = if *attempt > 1 { " again" } else { "" };
                self.line(&format!("[{time}] Planning{again}..."))?;
            }
            Event::PlanRejected { attempt, error } => {
                self.line(&format!(
                    "[{time}] Plan attempt {attempt} rejected: {error}"
                ))?;
            }
            Event::PlanReady { plan, source } => {
                let origin = match source {
                    PlanSource::Model => "",
                    PlanSource::Default => " (default plan)",
                    PlanSource::Given => " (given plan)",
                };
                let n = plan.steps.len();
                let steps = if n == 1 { "step" } else { "steps" };
                self.line(&format!("[{time}] Planned {n} {steps}{origin}:"))?;
                for (i, step) in plan.steps.iter().enumerate() {
                    let after = if step.depends_on.is_empty() {
                        String::new()
                    } else {
                        let ids: Vec<&str> = step.depends_on.iter().map(StepId::as_str).collect();
                        format!("  (after {})", ids.join(", "))
                    };
                    self.line(&format!(
                        "             {}. {:<11} {}{after}",
                        i + 1,
                        step.agent,
                        step.title
                    ))?;
                }
            }
            Event::Warning {
                message,
                step: None,
            } => self.line(&format!("[{time}] Warning: {message}"))?,
            Event::Warning {
                message,
                step: Some(step),
            } => {
                let line = format!("[{time}] Warning ({}): {message}", self.step_label(step));
                self.line(&line)?;
            }
            Event::StepStalled {
                step,
                idle_ms,
                action,
            } => {
                let line = format!(
                    "[{time}] ⚠ {}: {}",
                    self.step_label(step),
                    stall_notice(*idle_ms, *action)
                );
                self.line(&line)?;
            }
            Event::BudgetSet { budget } => {
                if !budget.is_empty() {
                    let mut line = format!("[{time}] Budget: {}", budget.session.describe());
                    for (role, caps) in &budget.agents {
                        line.push_str(&format!("; {role}: {}", caps.describe()));
                    }
                    self.line(&line)?;
                }
            }
            Event::BudgetReached { reason, .. } => {
                self.line(&format!("[{time}] ⚠ {reason}; its agents are paused"))?;
            }
            Event::StepRequeued { step, reason } => {
                let line = format!("[{time}] ↻ {} runs again: {reason}", self.step_label(step));
                self.line(&line)?;
            }
            Event::CallQueued {
                step,
                provider,
                limit,
            } => {
                let who = self.call_label(step.as_ref());
                self.line(&format!(
                    "[{time}] … {who}: waiting for a free slot on {provider} (max {limit} at once)"
                ))?;
            }
            Event::CallDequeued { .. } => {}
            Event::CallRetry { step, retry } => {
                let who = self.call_label(step.as_ref());
                let mut line = format!(
                    "[{time}] ↻ {who}: {}; retry {} of {} in {:.1} s",
                    retry.error,
                    retry.retry,
                    retry.max_retries,
                    retry.delay_ms as f64 / 1000.0
                );
                if retry.discarded_text {
                    line.push_str(" (the partial reply is discarded)");
                    if let Some(step) = step {
                        self.discard_held_reply(step);
                    }
                }
                self.line(&line)?;
            }
            Event::CallFailover { step, failover } => {
                let who = self.call_label(step.as_ref());
                let mut line = format!(
                    "[{time}] ⇢ {who}: {} gave up ({}); continuing on {} ({})",
                    failover.from, failover.error, failover.to, failover.to_model
                );
                if failover.discarded_text {
                    line.push_str("; the partial reply is discarded");
                }
                if let Some(step) = step {
                    self.discard_held_reply(step);
                }
                self.line(&line)?;
            }
            Event::ToolCallRequested { step, call } => {
                let line = format!(
                    "[{time}] [tool] {} {} {}",
                    self.step_label(step),
                    call.name,
                    crate::tools::call_detail(&call.name, &call.arguments)
                );
                self.line(&line)?;
            }
            Event::ApprovalRequested {
                step, tool, detail, ..
            } => {
                let line = format!(
                    "[{time}] [tool] {} asks to run {tool}: {detail}",
                    self.step_label(step)
                );
                self.line(&line)?;
            }
            Event::ApprovalDecided {
                step,
                tool,
                decision,
                ..
            } => {
                // A denial is told once, by the tool's result line.
                let what = match decision {
                    ApprovalDecision::AllowOnce => Some("allowed once"),
                    ApprovalDecision::AllowForSession => Some("allowed for this session"),
                    ApprovalDecision::Deny { .. } => None,
                };
                if let Some(what) = what {
                    let line = format!("[{time}] [tool] {} {tool} {what}", self.step_label(step));
                    self.line(&line)?;
                }
            }
            Event::ToolCallFinished {
                step,
                tool,
                status,
                summary,
                duration_ms,
                ..
            } => {
                let mark = match status {
                    ToolStatus::Ok => "->".to_string(),
                    ToolStatus::Error | ToolStatus::Denied | ToolStatus::Cancelled => {
                        format!("{}:", status.label())
                    }
                };
                let line = format!(
                    "[{time}] [tool] {} {tool} {mark} {} ({} ms)",
                    self.step_label(step),
                    summary.lines().next().unwrap_or(""),
                    duration_ms
                );
                self.line(&line)?;
            }
            Event::StepStarted {
                step,
                agent,
                attempt,
                ..
            } => {
                let title = self
                    .state
                    .as_ref()
                    .and_then(|s| s.step(step))
                    .map(|s| s.spec.title.clone())
                    .unwrap_or_default();
                let header = format!(
                    "[{time}] ▶ {} · {agent} · {title}{}",
                    self.step_label(step),
                    if *attempt > 1 {
                        format!(" · attempt {attempt}")
                    } else {
                        String::new()
                    }
                );
                if self.live.is_none() {
                    self.live = Some(step.clone());
                    self.line(&header)?;
                } else {
                    self.queue.push(step.clone());
                    self.held_text.insert(step.clone(), format!("{header}\n"));
                }
            }
            Event::TextDelta { step, text, .. } => {
                if self.live.as_ref() == Some(step) {
                    self.text(text)?;
                } else {
                    self.held_text
                        .entry(step.clone())
                        .or_default()
                        .push_str(text);
                }
            }
            Event::CallFailed {
                step: Some(step),
                error,
                ..
            } => {
                let line = format!("[{time}] {} call failed: {error}", self.step_label(step));
                self.line(&line)?;
            }
            Event::CallFailed {
                step: None, error, ..
            } => {
                self.line(&format!("[{time}] Planner call failed: {error}"))?;
            }
            Event::CallFinished { .. } => {}
            Event::StepPaused { step } => {
                let line = format!("[{time}] ⏸ {} paused", self.step_label(step));
                self.line(&line)?;
            }
            Event::StepResumed { step } => {
                let line = format!("[{time}] ▶ {} resumed", self.step_label(step));
                self.line(&line)?;
            }
            Event::StepCompleted { step, .. }
            | Event::StepFailed { step, .. }
            | Event::StepInterrupted { step, .. } => {
                let end = self.step_end_line(&time, step);
                if self.live.as_ref() == Some(step) {
                    self.line(&end)?;
                    self.live = None;
                    self.promote_next()?;
                } else {
                    self.held_end.insert(step.clone(), end);
                }
            }
            Event::SessionPaused => self.line(&format!("[{time}] ⏸ Session paused"))?,
            Event::SessionUnpaused => self.line(&format!("[{time}] ▶ Session unpaused"))?,
            Event::SessionResumed => {
                let (done, total) = self.state.as_ref().map_or((0, 0), |s| {
                    let done = s
                        .steps
                        .iter()
                        .filter(|x| x.status.label() == "completed")
                        .count();
                    (done, s.steps.len())
                });
                let line = if total == 0 {
                    format!("[{time}] Workflow Resumed (planning again)")
                } else {
                    format!(
                        "[{time}] Workflow Resumed: {done} of {total} steps already done, running the rest"
                    )
                };
                self.line(&line)?;
            }
            Event::PlanEdited { edit, stale } => {
                self.flush_held()?;
                let again = if stale.is_empty() {
                    String::new()
                } else {
                    format!("; runs again: {}", join_ids(stale))
                };
                self.line(&format!("[{time}] Plan edited: {}{again}", edit.describe()))?;
            }
            Event::SessionInterrupted { reason } => {
                self.flush_held()?;
                let why = match reason {
                    InterruptReason::User => "",
                    InterruptReason::Recovered => " (the process running it stopped)",
                };
                self.line(&format!("[{time}] Workflow Interrupted{why}"))?;
                self.summary()?;
            }
            Event::SessionCompleted => {
                self.flush_held()?;
                self.line(&format!("[{time}] Workflow Completed"))?;
                self.summary()?;
            }
            Event::SessionFailed { error } => {
                self.flush_held()?;
                self.line(&format!("[{time}] Workflow Failed: {error}"))?;
                self.summary()?;
            }
        }
        self.out.flush()
    }

    fn step_label(&self, step: &StepId) -> String {
        let (pos, total) = self
            .state
            .as_ref()
            .map_or((None, 0), |s| (s.step_position(step), s.steps.len()));
        match pos {
            Some(p) => format!("Step {p}/{total}"),
            None => format!("Step {step}"),
        }
    }

    fn call_label(&self, step: Option<&StepId>) -> String {
        match step {
            Some(step) => self.step_label(step),
            None => "Planner".to_string(),
        }
    }

    /// A held (not yet shown) step's reply restarts: keep only its header line.
    fn discard_held_reply(&mut self, step: &StepId) {
        if let Some(held) = self.held_text.get_mut(step)
            && let Some(end) = held.find('\n')
        {
            held.truncate(end + 1);
        }
    }

    /// The line for a step that just ended, from its state (the event is already folded in).
    fn step_end_line(&self, time: &str, step: &StepId) -> String {
        let label = self.step_label(step);
        let Some(s) = self.state.as_ref().and_then(|s| s.step(step)) else {
            return format!("[{time}] {label} ended");
        };
        match s.status {
            StepStatus::Completed => {
                let output_file = &s.output_file;
                let m = &s.metrics;
                let secs = match (s.started_at_ms, s.ended_at_ms) {
                    (Some(a), Some(b)) => seconds((b - a).max(0) as u64),
                    _ => "-".into(),
                };
                let saved = output_file
                    .as_ref()
                    .map(|p| format!("\n           saved to {}", p.display()))
                    .unwrap_or_default();
                format!(
                    "[{time}] ✓ {label} · {} done: {} words · {} tokens · {} tools · {secs}{saved}",
                    s.spec.agent,
                    group_thousands(count_words(&s.output)),
                    group_thousands(m.total_tokens()),
                    m.tool_calls,
                )
            }
            StepStatus::Failed => {
                let error = s.error.as_deref().unwrap_or("no reason given");
                format!("[{time}] ✗ {label} · {} failed: {error}", s.spec.agent)
            }
            StepStatus::Interrupted => format!("[{time}] ■ {label} · {} interrupted", s.spec.agent),
            StepStatus::Pending | StepStatus::Running | StepStatus::Paused => {
                format!("[{time}] {label} ended")
            }
        }
    }

    /// The live step ended: the next held step (in start order) prints what it has so far.
    fn promote_next(&mut self) -> io::Result<()> {
        while !self.queue.is_empty() {
            let next = self.queue.remove(0);
            let text = self.held_text.remove(&next).unwrap_or_default();
            self.text(&text)?;
            match self.held_end.remove(&next) {
                Some(end) => self.line(&end)?,
                None => {
                    self.live = Some(next);
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// The session ended: everything still held is printed, in start order.
    fn flush_held(&mut self) -> io::Result<()> {
        self.live = None;
        for step in std::mem::take(&mut self.queue) {
            let text = self.held_text.remove(&step).unwrap_or_default();
            self.text(&text)?;
            if let Some(end) = self.held_end.remove(&step) {
                self.line(&end)?;
            }
        }
        Ok(())
    }

    fn summary(&mut self) -> io::Result<()> {
        let Some(state) = self.state.clone() else {
            return Ok(());
        };
        let m = state.metrics(state.ended_at_ms.unwrap_or(state.created_at_ms));
        for line in totals_lines(&m) {
            self.line(&format!("           {line}"))?;
        }
        for (agent, a) in state.agent_metrics() {
            self.line(&format!(
                "           {agent:<11} {:>6} words {:>7} tokens {:>3} tools {:>3} calls {:>3} retries {:>3} errors · first token {} · response {}",
                group_thousands(a.words),
                group_thousands(a.total_tokens()),
                a.tool_calls,
                a.api_calls,
                a.retries,
                a.errors,
                a.avg_ttft_ms().map_or("-".into(), seconds),
                a.avg_response_ms().map_or("-".into(), seconds),
            ))?;
        }
        if let Some(dir) = Some(&state.workspace).filter(|w| !w.as_os_str().is_empty()) {
            self.line(&format!("           Outputs in {}", dir.display()))?;
        }
        Ok(())
    }

    fn text(&mut self, text: &str) -> io::Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        self.out.write_all(text.as_bytes())?;
        self.at_line_start = text.ends_with('\n');
        Ok(())
    }

    fn line(&mut self, line: &str) -> io::Result<()> {
        if !self.at_line_start {
            self.out.write_all(b"\n")?;
        }
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.at_line_start = true;
        Ok(())
    }
}

fn clock(at_ms: i64) -> String {
    Local
        .timestamp_millis_opt(at_ms)
        .single()
        .map_or_else(|| "--:--:--".into(), |t| t.format("%H:%M:%S").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::event::CallMode;
    use crate::engine::ids::SessionId;
    use crate::engine::plan::{Plan, StepSpec};

    fn run(events: Vec<Event>) -> String {
        let id = SessionId::parse("session_20260101_000000_00000000").unwrap();
        let mut p = PlainPrinter::new(Vec::new());
        for (i, event) in events.into_iter().enumerate() {
            p.print(&Envelope {
                seq: i as u64 + 1,
                at_ms: 0,
                session: id.clone(),
                event,
            })
            .unwrap();
        }
        String::from_utf8(p.into_inner()).unwrap()
    }

    fn delta(step: &str, text: &str) -> Event {
        Event::TextDelta {
            step: step.into(),
            text: text.into(),
            chunks: 1,
        }
    }

    fn done(step: &str, output: &str) -> Event {
        Event::StepCompleted {
            step: step.into(),
            output: output.into(),
            output_file: None,
        }
    }

    fn started(step: &str) -> Event {
        Event::StepStarted {
            step: step.into(),
            agent: "researcher".into(),
            attempt: 1,
            max_tokens: 10,
            continues: false,
        }
    }

    #[test]
    fn parallel_agents_print_one_after_the_other_never_interleaved() {
        let step = |id: &str| StepSpec {
            id: id.into(),
            title: format!("T{id}"),
            agent: "researcher".into(),
            task: "t".into(),
            depends_on: vec![],
        };
        let out = run(vec![
            Event::SessionCreated {
                goal: "g".into(),
                workspace: "/w".into(),
                mode: CallMode::Streaming,
                provider: "p".into(),
                model: "m".into(),
                max_parallel: 2,
            },
            Event::PlanReady {
                plan: Plan {
                    steps: vec![step("a"), step("b")],
                },
                source: PlanSource::Model,
            },
            started("a"),
            started("b"),
            delta("a", "alpha "),
            delta("b", "BETA "),
            delta("a", "one"),
            delta("b", "TWO"),
            done("b", "BETA TWO"),
            delta("a", " end"),
            done("a", "alpha one end"),
            Event::SessionCompleted,
        ]);
        let a_text = out.find("alpha one end").expect("a's text whole");
        let b_text = out.find("BETA TWO").expect("b's text whole");
        let a_done = out.find("✓ Step 1/2").unwrap();
        let b_header = out.find("▶ Step 2/2").unwrap();
        assert!(
            a_text < a_done && a_done < b_header && b_header < b_text,
            "{out}"
        );
        assert!(out.find("✓ Step 2/2").unwrap() < out.find("Workflow Completed").unwrap());
    }
}
