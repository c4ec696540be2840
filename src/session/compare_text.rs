//! `el-jefe compare` and `el-jefe ab` as text: two runs side by side, step by step, with a
//! word diff of their outputs and a verdict per metric.

use std::fmt::Write;

use serde::Serialize;
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
    let running: Vec<&str> = [("A", &c.a), ("B", &c.b)]
        .into_iter()
        .filter(|(_, side)| side.running)
        .map(|(name, _)| name)
        .collect();
    match running.as_slice() {
        [] => {
            let _ = writeln!(out, "\nVerdict");
        }
        [one] => {
            let _ = writeln!(out, "\nVerdict so far ({one} is still running)");
        }
        [..] => {
            let _ = writeln!(out, "\nVerdict so far (both are still running)");
        }
    }
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

/// How two outputs differ, word by word, for a front end to render.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WordDiff {
    /// Neither side wrote anything.
    NoOutput,
    Same,
    /// Too little in common for a word diff to help: a preview of each side.
    Different {
        a: String,
        b: String,
    },
    /// The text in order, each part shared or only on one side.
    Changes {
        parts: Vec<DiffPart>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffPart {
    pub side: DiffSide,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffSide {
    Both,
    OnlyA,
    OnlyB,
}

/// The outputs' differences word by word; a change spans every word up to the next word both
/// share.
pub fn diff_words(a: &str, b: &str) -> WordDiff {
    if a == b {
        return if a.is_empty() {
            WordDiff::NoOutput
        } else {
            WordDiff::Same
        };
    }
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .diff_words(a, b);
    if diff.ratio() < DIFF_MIN_SIMILARITY {
        return WordDiff::Different {
            a: preview(a),
            b: preview(b),
        };
    }
    let mut parts = Parts::default();
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
                parts.flush_change(&mut only_a, &mut only_b);
                parts.push(DiffSide::Both, &text);
            }
            ChangeTag::Delete => only_a.push_str(&text),
            ChangeTag::Insert => only_b.push_str(&text),
        }
    }
    parts.flush_change(&mut only_a, &mut only_b);
    WordDiff::Changes { parts: parts.0 }
}

#[derive(Default)]
struct Parts(Vec<DiffPart>);

impl Parts {
    /// Adds text, joined to the last part when it is on the same side.
    fn push(&mut self, side: DiffSide, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.0.last_mut() {
            Some(last) if last.side == side => last.text.push_str(text),
            Some(_) | None => self.0.push(DiffPart {
                side,
                text: text.to_string(),
            }),
        }
    }

    fn flush_change(&mut self, only_a: &mut String, only_b: &mut String) {
        // Trailing spaces were shared, not changed.
        let trailing = |s: &str| s.len() - s.trim_end().len();
        let shared = trailing(only_a).min(trailing(only_b));
        for (text, side) in [(&*only_a, DiffSide::OnlyA), (&*only_b, DiffSide::OnlyB)] {
            let text = &text[..text.len() - shared];
            if !text.trim().is_empty() {
                self.push(side, text);
            }
        }
        self.push(DiffSide::Both, &only_a[only_a.len() - shared..]);
        only_a.clear();
        only_b.clear();
    }
}

/// The word diff in one line: `[-only in A-]{+only in B+}`.
pub fn word_diff(a: &str, b: &str) -> String {
    match diff_words(a, b) {
        WordDiff::NoOutput => "(no output in either)".into(),
        WordDiff::Same => "(same text)".into(),
        WordDiff::Different { a, b } => format!("different: A \"{a}\" · B \"{b}\""),
        WordDiff::Changes { parts } => {
            let mut out = String::from("diff: ");
            for part in parts {
                let (open, close) = match part.side {
                    DiffSide::Both => ("", ""),
                    DiffSide::OnlyA => ("[-", "-]"),
                    DiffSide::OnlyB => ("{+", "+}"),
                };
                let _ = write!(out, "{open}{}{close}", part.text);
            }
            out
        }
    }
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
    fn the_diff_parts_say_which_side_has_each_word() {
        let part = |side, text: &str| DiffPart {
            side,
            text: text.into(),
        };
        assert_eq!(
            diff_words("the moon pulls water", "the moon lifts water"),
            WordDiff::Changes {
                parts: vec![
                    part(DiffSide::Both, "the moon "),
                    part(DiffSide::OnlyA, "pulls"),
                    part(DiffSide::OnlyB, "lifts"),
                    part(DiffSide::Both, " water"),
                ]
            }
        );
        assert_eq!(diff_words("", ""), WordDiff::NoOutput);
    }

    #[test]
    fn a_verdict_while_a_side_runs_says_it_is_so_far() {
        let figures = Figures {
            status: "running".into(),
            input_tokens: 10,
            output_tokens: 10,
            estimated: false,
            cost_usd: None,
            ttft_ms: None,
            tokens_per_s: None,
            tool_calls: 0,
            errors: 0,
            retries: 0,
            words: 0,
            time_ms: 1_000,
        };
        let side = |running| crate::session::compare::Side {
            session: "s".into(),
            ran_on: "local (m)".into(),
            totals: figures.clone(),
            planner: None,
            forked: false,
            running,
        };
        let text = |a, b| {
            comparison_text(&Comparison {
                a: side(a),
                b: side(b),
                steps: Vec::new(),
                verdicts: Vec::new(),
            })
        };
        assert!(text(true, false).contains("\nVerdict so far (A is still running)\n"));
        assert!(text(true, true).contains("\nVerdict so far (both are still running)\n"));
        assert!(text(false, false).contains("\nVerdict\n"));
    }

    #[test]
    fn outputs_with_little_in_common_are_shown_whole() {
        assert_eq!(
            word_diff("the moon pulls the sea", "salt makes water heavy"),
            "different: A \"the moon pulls the sea\" · B \"salt makes water heavy\""
        );
    }
}
