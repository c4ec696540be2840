//! The plain-text story of a session, for terminals and logs.
//!
//! Parallel agents would interleave mid-sentence if all printed at once, so one step streams live
//! and the others are held back; each is printed whole, in start order, when its turn comes.

use std::collections::HashMap;
use std::io::{self, Write};

use chrono::{Local, TimeZone};

use super::story::{Told, tell};
use crate::session::event::Envelope;
use crate::session::ids::StepId;
use crate::session::session_fold::SessionState;

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

    #[cfg(test)]
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
        for told in tell(state, env, &clock(env.at_ms)) {
            self.show(told)?;
        }
        self.out.flush()
    }

    /// One agent streams live; the others' parts are held until their turn, in start order.
    fn show(&mut self, told: Told) -> io::Result<()> {
        match told {
            Told::Line(line) => self.line(&line),
            Told::StepHeader { step, line } => {
                if self.live.is_none() {
                    self.live = Some(step);
                    self.line(&line)
                } else {
                    self.queue.push(step.clone());
                    self.held_text.insert(step, format!("{line}\n"));
                    Ok(())
                }
            }
            Told::Text { step, text } => {
                if self.live.as_ref() == Some(&step) {
                    self.text(&text)
                } else {
                    self.held_text.entry(step).or_default().push_str(&text);
                    Ok(())
                }
            }
            Told::Restart { step } => {
                self.discard_held_reply(&step);
                Ok(())
            }
            Told::StepEnd { step, line } => {
                if self.live.as_ref() == Some(&step) {
                    self.line(&line)?;
                    self.live = None;
                    self.promote_next()
                } else {
                    self.held_end.insert(step, line);
                    Ok(())
                }
            }
            Told::Close => self.flush_held(),
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
    use crate::session::call::CallMode;
    use crate::session::event::Event;
    use crate::session::ids::SessionId;
    use crate::session::plan::PlanSource;
    use crate::session::plan::{Plan, StepSpec};

    fn run(events: Vec<Event>) -> String {
        let id = SessionId::parse("session_20260101_000000_00000000").unwrap();
        let mut p = PlainPrinter::new(Vec::new());
        for (i, event) in events.into_iter().enumerate() {
            p.print(&Envelope {
                seq: i as u64 + 1,
                at_ms: 0,
                session: id.clone(),
                by: None,
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
            parts: Vec::new(),
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
                origin: None,
                choice: Default::default(),
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
