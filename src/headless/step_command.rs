//! `el-jefe step ...`: plan edits on a saved session, told in plain words.

use std::fmt::Write as _;

use crate::engine::saved_edit::SavedEdit;
use crate::session::edit_impact::impact_text;
use crate::session::ids::SessionId;

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
