//! `el-jefe step ...`: plan edits on a saved session, told in plain words.

use std::fmt::Write as _;

use crate::engine::saved_edit::SavedEdit;
use crate::session::ids::SessionId;
use crate::session::plan_edit::EditOutcome;
use crate::session::session_fold::SessionState;

use crate::format::group_thousands;

/// What the edit did (or would do), which steps run again and what they cost when they last ran.
pub fn describe_saved_edit(id: &SessionId, saved: &SavedEdit, dry_run: bool) -> String {
    let mut out = String::new();
    let verb = if dry_run { "Would be" } else { "Done" };
    let _ = writeln!(out, "{verb}: {} in {id}", saved.edit.describe());
    out.push_str(&impact_text(&saved.before, &saved.outcome));
    if dry_run {
        out.push_str("Nothing was changed (--dry-run).\n");
    } else if saved
        .outcome
        .leaves_work(|id| saved.before.step(id).map(|s| s.status))
    {
        let _ = writeln!(out, "Run what is waiting with: el-jefe resume {id}");
    }
    out
}

/// The lines of an impact preview: removed steps, and each stale step with its last cost.
pub fn impact_text(before: &SessionState, outcome: &EditOutcome) -> String {
    let mut out = String::new();
    if outcome.removed.len() > 1 {
        let ids: Vec<&str> = outcome.removed.iter().map(|s| s.as_str()).collect();
        let _ = writeln!(out, "Steps removed: {}", ids.join(", "));
    }
    if outcome.stale.is_empty() {
        out.push_str("No completed step has to run again.\n");
        return out;
    }
    let _ = writeln!(out, "Steps that run again ({}):", outcome.stale.len());
    let mut total = 0;
    for id in &outcome.stale {
        let (agent, tokens) = before.step(id).map_or(("?".to_string(), 0), |s| {
            (s.spec.agent.clone(), s.run_tokens)
        });
        total += tokens;
        let _ = writeln!(
            out,
            "  {id:<6} {agent:<12} {} tokens last run",
            group_thousands(tokens)
        );
    }
    let _ = writeln!(
        out,
        "About {} tokens to run them again; every other completed step keeps its output.",
        group_thousands(total)
    );
    out
}
