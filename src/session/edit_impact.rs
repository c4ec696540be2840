//! An edit's impact in words: the steps it removes, and each completed step that runs again
//! with what it cost when it last ran. The same text for the CLI's dry run and the web page.

use std::fmt::Write as _;

use crate::format::group_thousands;
use crate::session::plan_edit::EditOutcome;
use crate::session::session_fold::SessionState;

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
