//! Bookkeeping that keeps scheduling cheap in big plans: for each step, how many of its
//! dependencies are not completed yet, and the set of pending steps with none left.
//!
//! Derived entirely from the session's events by the fold, so a replay rebuilds it exactly.

use std::collections::BTreeSet;

use super::session_fold::StepStatus;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DagIndex {
    /// For each step (by plan position), the steps that depend on it.
    dependents: Vec<Vec<usize>>,
    /// For each step, dependencies not completed yet.
    unmet: Vec<u32>,
    /// Pending steps whose dependencies are all completed, in plan order.
    ready: BTreeSet<usize>,
    /// Steps with an agent at work (running or paused).
    pub live: usize,
    pub completed: usize,
}

impl DagIndex {
    /// A fresh plan: `deps[i]` holds the positions step i depends on; every step is pending.
    pub fn new(deps: &[Vec<usize>]) -> Self {
        let mut dependents = vec![Vec::new(); deps.len()];
        for (i, ds) in deps.iter().enumerate() {
            for &d in ds {
                dependents[d].push(i);
            }
        }
        DagIndex {
            dependents,
            unmet: deps.iter().map(|d| d.len() as u32).collect(),
            ready: (0..deps.len()).filter(|&i| deps[i].is_empty()).collect(),
            live: 0,
            completed: 0,
        }
    }

    /// The index of a plan part way through: completed steps release their dependents, pending
    /// steps with nothing left to wait for are ready, live ones hold a slot.
    pub fn rebuild(deps: &[Vec<usize>], statuses: &[StepStatus]) -> Self {
        let mut dag = DagIndex::new(deps);
        dag.ready.clear();
        for (i, ds) in deps.iter().enumerate() {
            dag.unmet[i] = ds
                .iter()
                .filter(|&&d| statuses[d] != StepStatus::Completed)
                .count() as u32;
        }
        for (i, status) in statuses.iter().enumerate() {
            match status {
                StepStatus::Completed => dag.completed += 1,
                StepStatus::Running | StepStatus::Paused => dag.live += 1,
                StepStatus::Pending if dag.unmet[i] == 0 => {
                    dag.ready.insert(i);
                }
                StepStatus::Pending | StepStatus::Failed | StepStatus::Interrupted => {}
            }
        }
        dag
    }

    pub fn ready(&self) -> impl Iterator<Item = usize> + '_ {
        self.ready.iter().copied()
    }

    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    pub fn started(&mut self, step: usize, was_live: bool) {
        self.ready.remove(&step);
        if !was_live {
            self.live += 1;
        }
    }

    /// An attempt ended (completed, failed or interrupted).
    pub fn ended(&mut self, step: usize, was_live: bool, completed: bool) {
        if was_live {
            self.live -= 1;
        }
        if completed {
            self.completed += 1;
            for &d in &self.dependents[step] {
                self.unmet[d] -= 1;
            }
        }
    }

    /// A step is pending again (a resumed session re-queues interrupted and failed steps).
    pub fn pending_again(&mut self, step: usize) {
        if self.unmet[step] == 0 {
            self.ready.insert(step);
        }
    }

    /// A completed dependency lets waiting steps become ready; `is_pending` says which wait.
    pub fn release_dependents(&mut self, step: usize, is_pending: impl Fn(usize) -> bool) {
        for &d in &self.dependents[step] {
            if self.unmet[d] == 0 && is_pending(d) {
                self.ready.insert(d);
            }
        }
    }
}
