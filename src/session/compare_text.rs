//! `el-jefe compare` and `el-jefe ab` as text: two runs side by side, step by step, with a
//! word diff of their outputs and a verdict per metric.

use std::fmt::Write;

use similar::{Algorithm, ChangeTag, TextDiff};

use crate::format::{group_thousands, seconds};
use crate::session::compare::{Comparison, Figures};

pub fn comparison_text(c: &Comparison) -> String {
    let mut out = String::new();
    for (name, side) in [("A", &c.a), ("B", &c.b)] {
        let _ = writeln!(
            out,
            "{name}  {}  {} · {}",
            side.session, side.ran_on, side.totals.status
        );
    }
    let _ = writeln!(
        out,
        "\n{:<5} {:<11} {:>2}  {:>15}  {:>8}  {:>9}  {:>5}  {:>10}  {:>7}",
        "STEP", "AGENT", "", "TOKENS IN/OUT", "1ST TOK", "TOKENS/S", "TOOLS", "ERR/RETRY", "TIME"
    );
    for step in &c.steps {
        for (name, figures) in [("A", &step.a), ("B", &step.b)] {
            let (id, agent) = if name == "A" {
                (step.id.as_str(), step.agent.as_str())
            } else {
                ("", "")
            };
            let _ = writeln!(out, "{}", row(id, agent, name, figures.as_ref()));
        }
        let _ = writeln!(out, "      {}", word_diff(&step.a_output, &step.b_output));
    }
    for (name, side) in [("A", &c.a), ("B", &c.b)] {
        let label = if name == "A" { "STEPS" } else { "" };
        let _ = writeln!(out, "{}", row(label, "", name, Some(&side.totals)));
    }
    // Apart: with a goal, only one side plans, and the verdicts leave that out.
    if c.a.planner.is_some() || c.b.planner.is_some() {
        for (name, side) in [("A", &c.a), ("B", &c.b)] {
            let label = if name == "A" { "PLAN" } else { "" };
            let line = match &side.planner {
                Some(planner) => row(label, "planner", name, Some(planner)),
                None if side.forked => format!(
                    "{label:<5} {:<11} {name:>2}  (a fork: its plan came from its parent)",
                    ""
                ),
                // `ab` with a goal, or a plan file: the plan was given, not made here.
                None => format!(
                    "{label:<5} {:<11} {name:>2}  (did not plan: ran a given plan)",
                    ""
                ),
            };
            let _ = writeln!(out, "{line}");
        }
    }
    let _ = writeln!(out, "\nVerdict");
    for v in &c.verdicts {
        let _ = writeln!(out, "  {}", v.line);
    }
    out
}

fn row(id: &str, agent: &str, side: &str, f: Option<&Figures>) -> String {
    let Some(f) = f else {
        return format!("{id:<5} {agent:<11} {side:>2}  (no such step in this run)");
    };
    let tokens = format!(
        "{}/{}{}",
        group_thousands(f.input_tokens),
        group_thousands(f.output_tokens),
        if f.estimated { "~" } else { "" }
    );
    format!(
        "{id:<5} {agent:<11} {side:>2}  {tokens:>15}  {:>8}  {:>9}  {:>5}  {:>10}  {:>7}{}",
        f.ttft_ms.map_or("-".into(), seconds),
        f.tokens_per_s.map_or("-".into(), |r| format!("{r:.1}")),
        f.tool_calls,
        format!("{}/{}", f.errors, f.retries),
        seconds(f.time_ms),
        f.cost_usd
            .map_or_else(String::new, |c| format!("  ${c:.4}")),
    )
}

/// Below this share of common words a word diff is mostly brackets; both texts read better.
const DIFF_MIN_SIMILARITY: f32 = 0.4;

/// Each side's text, when the outputs differ too much for a word diff to help.
const OUTPUT_PREVIEW_CHARS: usize = 160;

/// The outputs' differences word by word: `[-only in A-]{+only in B+}`, a change spanning
/// every word up to the next word both share.
pub fn word_diff(a: &str, b: &str) -> String {
    if a == b {
        return if a.is_empty() {
            "(no output in either)".into()
        } else {
            "(same text)".into()
        };
    }
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .diff_words(a, b);
    if diff.ratio() < DIFF_MIN_SIMILARITY {
        return format!("different: A \"{}\" · B \"{}\"", preview(a), preview(b));
    }
    let mut out = String::from("diff: ");
    let (mut only_a, mut only_b) = (String::new(), String::new());
    for change in diff.iter_all_changes() {
        let text = change.value().replace('\n', " ");
        match change.tag() {
            // Spaces between two changed words belong to the change.
            ChangeTag::Equal
                if text.trim().is_empty() && !(only_a.is_empty() && only_b.is_empty()) =>
            {
                only_a.push_str(&text);
                only_b.push_str(&text);
            }
            ChangeTag::Equal => {
                flush_change(&mut out, &mut only_a, &mut only_b);
                out.push_str(&text);
            }
            ChangeTag::Delete => only_a.push_str(&text),
            ChangeTag::Insert => only_b.push_str(&text),
        }
    }
    flush_change(&mut out, &mut only_a, &mut only_b);
    out
}

fn flush_change(out: &mut String, only_a: &mut String, only_b: &mut String) {
    // Trailing spaces were shared, not changed.
    let trailing = |s: &str| s.len() - s.trim_end().len();
    let shared = trailing(only_a).min(trailing(only_b));
    let tail = only_a[only_a.len() - shared..].to_string();
    for (text, open, close) in [(&*only_a, "[-", "-]"), (&*only_b, "{+", "+}")] {
        let text = &text[..text.len() - shared];
        if !text.trim().is_empty() {
            let _ = write!(out, "{open}{text}{close}");
        }
    }
    out.push_str(&tail);
    only_a.clear();
    only_b.clear();
}

fn preview(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(OUTPUT_PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_diff_marks_what_each_side_alone_has() {
        assert_eq!(
            word_diff("the moon pulls water", "the moon lifts water"),
            "diff: the moon [-pulls-]{+lifts+} water"
        );
        assert_eq!(
            word_diff(
                "the tide rises twice a day",
                "the tide falls twice each day"
            ),
            "diff: the tide [-rises-]{+falls+} twice [-a-]{+each+} day"
        );
        assert_eq!(
            word_diff(
                "one two three four five six",
                "one seven eight four five six"
            ),
            "diff: one [-two three-]{+seven eight+} four five six",
            "neighbouring changed words make one change"
        );
        assert_eq!(word_diff("same", "same"), "(same text)");
    }

    #[test]
    fn outputs_with_little_in_common_are_shown_whole() {
        assert_eq!(
            word_diff("the moon pulls the sea", "salt makes water heavy"),
            "different: A \"the moon pulls the sea\" · B \"salt makes water heavy\""
        );
    }
}
