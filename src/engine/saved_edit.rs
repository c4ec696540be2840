//! Editing the plan of a session on disk, with no engine running: the `el-jefe step` commands.
//! The same rules as a live edit (`plan_edit::apply_edit`), and the same journal event, so a
//! later `resume` runs exactly what the edit left waiting.

use crate::session::budget::Budget;
use crate::session::event::{Envelope, Event};
use crate::session::ids::SessionId;
use crate::session::plan_edit::{EditOutcome, PlanEdit, apply_edit};
use crate::session::session_fold::{SessionState, StepStatus};
use crate::store::{Journal, Store, StoreError, StoredSession};

pub struct SavedEdit {
    pub edit: PlanEdit,
    pub outcome: EditOutcome,
    /// The session before the edit: what stale steps cost when they last ran.
    pub before: SessionState,
}

/// Sets the budget of a session on disk (nobody running it); `resume` then runs under it.
pub fn set_saved_budget(
    store: &Store,
    id: &SessionId,
    make: impl FnOnce(&SessionState) -> Result<Budget, String>,
    now_ms: i64,
) -> Result<Budget, String> {
    let (mut journal, stored) = reopen(store, id, "raise its budget there (/budget)")?;
    let budget = make(&stored.state)?;
    let event = Event::BudgetSet {
        budget: budget.clone(),
    };
    append(&mut journal, &stored.state, event, now_ms)?;
    Ok(budget)
}

/// Checks the edit (made from the session as stored) and, unless `dry_run`, journals it. A
/// session another process is running is refused: edit it from that process's dashboard.
pub fn edit_saved_session(
    store: &Store,
    id: &SessionId,
    make_edit: impl FnOnce(&SessionState) -> PlanEdit,
    known_roles: &[String],
    dry_run: bool,
    now_ms: i64,
) -> Result<SavedEdit, String> {
    let (mut journal, stored) = reopen(store, id, "edit it from that dashboard (/edit-step)")?;
    let saved = check_saved_edit(stored.state, make_edit, known_roles)?;
    if !dry_run {
        let event = Event::PlanEdited {
            edit: saved.edit.clone(),
            stale: saved.outcome.stale.clone(),
        };
        append(&mut journal, &saved.before, event, now_ms)?;
    }
    Ok(saved)
}

/// What an edit of an ended session would do, by the rules a live edit follows; nothing is
/// written. A server's client previews with it, and the server checks again when it applies.
pub fn check_saved_edit(
    state: SessionState,
    make_edit: impl FnOnce(&SessionState) -> PlanEdit,
    known_roles: &[String],
) -> Result<SavedEdit, String> {
    let id = &state.id;
    if !state.has_plan() {
        return Err(format!("{id} has no plan yet (it stopped while planning)"));
    }
    if state.status.is_active() {
        return Err(format!("{id} is {}", state.status.label()));
    }
    let edit = make_edit(&state);
    let status = |step: &_| state.step(step).map_or(StepStatus::Pending, |s| s.status);
    let outcome =
        apply_edit(&state.plan(), status, &edit, known_roles).map_err(|e| e.to_string())?;
    Ok(SavedEdit {
        edit,
        outcome,
        before: state,
    })
}

/// Takes the session over (its journal locked until the journal is dropped); a session another
/// process holds is refused with what to do instead.
fn reopen(
    store: &Store,
    id: &SessionId,
    instead: &str,
) -> Result<(Journal, StoredSession), String> {
    store.reopen_session(id).map_err(|e| match e {
        StoreError::InUse(_) => {
            format!("{id} is running in another el-jefe process; {instead}")
        }
        other @ (StoreError::NotFound(_) | StoreError::Io { .. }) => other.to_string(),
    })
}

/// Writes one event after the session's last, and makes sure it is on disk.
fn append(
    journal: &mut Journal,
    state: &SessionState,
    event: Event,
    now_ms: i64,
) -> Result<(), String> {
    journal.append(&Envelope {
        seq: state.last_seq + 1,
        at_ms: now_ms,
        session: state.id.clone(),
        by: None,
        event,
    });
    journal
        .write_out()
        .map_err(|e| format!("cannot write the journal of {}: {e}", state.id))
}
