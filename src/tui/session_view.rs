//! A session as the dashboard sees it: its folded state plus what is only about showing it.

use std::collections::HashMap;

use super::rates::RateHistory;
use super::stream_view::StreamView;
use crate::session::ids::StepId;
use crate::session::session_fold::{SessionState, StepState};

pub struct SessionView {
    pub state: SessionState,
    /// Another process runs it; this one only shows what its journal said at start-up.
    pub running_elsewhere: bool,
    pub streams: HashMap<StepId, StreamView>,
    pub rates: HashMap<StepId, RateHistory>,
    /// Index into `state.steps` of the selected step.
    pub selected_step: usize,
}

impl SessionView {
    pub fn new(state: SessionState, running_elsewhere: bool) -> Self {
        let mut view = SessionView {
            state,
            running_elsewhere,
            streams: HashMap::new(),
            rates: HashMap::new(),
            selected_step: 0,
        };
        view.select_first_live_step();
        view
    }

    pub fn selected(&self) -> Option<&StepState> {
        self.state.steps.get(self.selected_step)
    }

    /// Keeps the selection on a step that is doing something, when one is.
    pub fn select_first_live_step(&mut self) {
        if let Some(i) = self.state.steps.iter().position(|s| s.status.is_live()) {
            self.selected_step = i;
        }
    }

    /// The steps to show as stream panes: every running or paused agent, or when none is, the
    /// selected step if it has anything to show.
    pub fn stream_steps(&self) -> Vec<usize> {
        let live: Vec<usize> = (0..self.state.steps.len())
            .filter(|&i| self.state.steps[i].status.is_live())
            .collect();
        if !live.is_empty() {
            return live;
        }
        match self.selected() {
            Some(s) if !s.transcript.is_empty() || s.attempt > 0 => vec![self.selected_step],
            _ => Vec::new(),
        }
    }

    /// The stream view of a step, created on first use and caught up with the step's text.
    pub fn stream(&mut self, index: usize) -> Option<(&mut StreamView, &str)> {
        let step = self.state.steps.get(index)?;
        let view = self.streams.entry(step.spec.id.clone()).or_default();
        view.sync(&step.transcript, step.text_generation());
        Some((view, &step.transcript))
    }

    pub fn rate(&self, step: &StepId) -> Option<f64> {
        self.rates.get(step).and_then(RateHistory::current)
    }
}
