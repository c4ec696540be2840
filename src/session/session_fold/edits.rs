//! The fold's side of plan edits: the plan reshaped, stale steps made pending again, and the
//! scheduling index rebuilt from the steps' statuses.

use std::collections::HashMap;

use super::{SessionState, SessionStatus, StepState, StepStatus};
use crate::session::dag_index::DagIndex;
use crate::session::ids::StepId;
use crate::session::plan::Plan;
use crate::session::plan_edit::{PlanEdit, join_ids, reshape};

impl SessionState {
    /// The plan as it stands now, edits included.
    pub fn plan(&self) -> Plan {
        Plan {
            steps: self.steps.iter().map(|s| s.spec.clone()).collect(),
        }
    }

    pub(super) fn edit_plan(&mut self, edit: &PlanEdit, stale: &[StepId]) {
        let again = if stale.is_empty() {
            String::new()
        } else {
            format!(" (runs again: {})", join_ids(stale))
        };
        self.plan_edits.push(format!("{}{again}", edit.describe()));
        let plan = reshape(&self.plan(), edit);
        let mut kept: HashMap<StepId, StepState> = self
            .steps
            .drain(..)
            .map(|s| (s.spec.id.clone(), s))
            .collect();
        self.steps = plan
            .steps
            .into_iter()
            .map(|spec| match kept.remove(&spec.id) {
                Some(mut step) => {
                    step.spec = spec;
                    step
                }
                None => StepState::new(spec),
            })
            .collect();
        self.reindex();
        // A step given new work starts its conversation over rather than continuing the old one.
        if let Some(step) = self.step_mut(edit.step()) {
            step.turns.clear();
        }
        for id in stale {
            if let Some(step) = self.step_mut(id) {
                step.make_stale();
            }
        }
        // Stale steps are pending again: the scheduling index follows the new statuses.
        self.reindex();
        let unfinished = self.dag.completed < self.steps.len();
        if self.status == SessionStatus::Completed && unfinished {
            self.status = SessionStatus::Edited;
        }
    }

    /// Rebuilds the id lookup and the scheduling index after the steps changed.
    pub(super) fn reindex(&mut self) {
        self.step_index = self
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.spec.id.clone(), i))
            .collect();
        let deps: Vec<Vec<usize>> = self
            .steps
            .iter()
            .map(|s| {
                s.spec
                    .depends_on
                    .iter()
                    .filter_map(|d| self.step_index.get(d).copied())
                    .collect()
            })
            .collect();
        let statuses: Vec<StepStatus> = self.steps.iter().map(|s| s.status).collect();
        self.dag = DagIndex::rebuild(&deps, &statuses);
    }
}

impl StepState {
    /// The step's output no longer fits the plan: it waits to run again.
    fn make_stale(&mut self) {
        self.status = StepStatus::Pending;
        self.output.clear();
        self.output_file = None;
        self.error = None;
        self.turns.clear();
        self.notice = Some("plan edited: runs again".into());
    }
}
