//! A GBNF grammar for plans, used to constrain the local model's decoding.
//!
//! Steps are unrolled one rule per position: step N has id "N" and may only depend on earlier
//! ids, listed in ascending order. Any text the grammar accepts is therefore a plan with unique
//! ids, known roles and no cycles; the model only chooses titles, roles, tasks and dependencies.

use std::fmt::Write;

pub fn plan_grammar(roles: &[String], min_steps: usize, max_steps: usize) -> String {
    let max_steps = max_steps.max(1);
    let min_steps = min_steps.clamp(1, max_steps);
    let mut g = String::new();
    // root: steps 1 to min_steps, then optionally ", " the next one, and so on, nested so the
    // order is fixed.
    let mut tail = String::new();
    for n in (min_steps + 1..=max_steps).rev() {
        tail = format!("(\", \" s{n} {tail})?");
    }
    let required: Vec<String> = (1..=min_steps).map(|n| format!("s{n}")).collect();
    let _ = writeln!(
        g,
        r#"root ::= "{{\"steps\": [" {} {tail} "]}}""#,
        required.join(r#" ", " "#)
    );
    for n in 1..=max_steps {
        let _ = writeln!(
            g,
            r#"s{n} ::= "{{\"id\": \"{n}\", \"title\": " title ", \"agent\": " agent ", \"task\": " task ", \"depends_on\": [" deps{n} "]}}""#
        );
        // deps{n}: an ascending list drawn from 1..n-1, possibly empty.
        if n == 1 {
            let _ = writeln!(g, r#"deps1 ::= """#);
        } else {
            let starts: Vec<String> = (1..n).map(|k| format!("d{n}x{k}")).collect();
            let _ = writeln!(g, "deps{n} ::= ({})?", starts.join(" | "));
            for k in 1..n {
                let later: Vec<String> = (k + 1..n).map(|j| format!("d{n}x{j}")).collect();
                if later.is_empty() {
                    let _ = writeln!(g, r#"d{n}x{k} ::= "\"{k}\"""#);
                } else {
                    let _ = writeln!(
                        g,
                        r#"d{n}x{k} ::= "\"{k}\"" (", " ({}))?"#,
                        later.join(" | ")
                    );
                }
            }
        }
    }
    let agents: Vec<String> = roles
        .iter()
        .map(|r| format!(r#""\"{}\"""#, escape(r)))
        .collect();
    let _ = writeln!(g, "agent ::= {}", agents.join(" | "));
    let _ = writeln!(g, r#"title ::= "\"" char{{3,60}} "\"""#);
    let _ = writeln!(g, r#"task ::= "\"" char{{10,240}} "\"""#);
    let _ = writeln!(g, r#"char ::= [^"\\\n\r\t]"#);
    g
}

/// Escapes a role name for use inside a GBNF string literal that itself spells a JSON string.
fn escape(name: &str) -> String {
    name.chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '\\', '\\', '"'],
            '\\' => vec!['\\', '\\', '\\', '\\'],
            c => vec![c],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_only_point_backwards_in_ascending_order() {
        let g = plan_grammar(&["writer".into()], 1, 3);
        assert!(g.contains(r#"deps1 ::= """#));
        assert!(g.contains(r#"deps3 ::= (d3x1 | d3x2)?"#));
        assert!(g.contains(r#"d3x1 ::= "\"1\"" (", " (d3x2))?"#));
        assert!(g.contains(r#"d3x2 ::= "\"2\"""#));
        assert!(g.contains(r#"root ::= "{\"steps\": [" s1 (", " s2 (", " s3 )?)? "]}""#));
        assert!(g.contains(r#"agent ::= "\"writer\"""#));
    }

    #[test]
    fn the_first_min_steps_are_required() {
        let g = plan_grammar(&["writer".into()], 3, 4);
        assert!(
            g.contains(r#"root ::= "{\"steps\": [" s1 ", " s2 ", " s3 (", " s4 )? "]}""#),
            "{g}"
        );
    }
}
