//! The layers of the crate, checked: every `crate::` path (and every `super::` that climbs to
//! the crate root) in a folder under src/ must point to a folder lower in the table below.
//! Anything else is an arrow up, or a sideways one between siblings, and with it the start of
//! a circle. docs/ARCHITECTURE.md explains what each layer is for.

// Test helpers panic to fail the test, with their message.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// From the ground up. A folder may use only folders of a lower rank.
const LAYERS: &[(&str, u32)] = &[
    ("format", 0),
    ("session", 1),
    ("schedule", 2),
    ("protocol", 3),
    ("provider", 4),
    ("tools", 5),
    ("store", 6),
    ("engine", 7),
    ("config", 8),
    ("scheduler", 8),
    ("server", 9),
    ("client", 9),
    ("headless", 9),
    ("tui", 9),
    ("logging", 10),
    ("cli", 10),
];

fn rank(folder: &str) -> Option<u32> {
    LAYERS.iter().find(|(f, _)| *f == folder).map(|(_, r)| *r)
}

/// One reference from a file to another top-level folder.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Arrow {
    from: String,
    to: String,
    file: String,
    line: usize,
}

#[test]
fn every_folder_uses_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut wrong = BTreeSet::new();
    let mut files = 0;
    for file in rust_files(&src) {
        let relative = file.strip_prefix(&src).unwrap();
        let Some(folder) = folder_of(relative) else {
            continue;
        };
        files += 1;
        let from_rank = rank(&folder)
            .unwrap_or_else(|| panic!("src/{folder} is in no layer: add it to LAYERS"));
        let text = fs::read_to_string(&file).unwrap();
        for (line, target) in references(&text) {
            if target == folder {
                continue;
            }
            let to_rank = rank(&target)
                .unwrap_or_else(|| panic!("src/{target} is in no layer: add it to LAYERS"));
            if to_rank >= from_rank {
                wrong.insert(Arrow {
                    from: folder.clone(),
                    to: target,
                    file: relative.display().to_string(),
                    line,
                });
            }
        }
    }
    assert!(
        files > 50,
        "only {files} files found under {}",
        src.display()
    );
    let report: Vec<String> = wrong
        .iter()
        .map(|a| format!("{} -> {} ({}:{})", a.from, a.to, a.file, a.line))
        .collect();
    assert!(
        report.is_empty(),
        "arrows up or sideways between layers:\n{}",
        report.join("\n")
    );
}

#[test]
fn the_checker_sees_every_form_of_path() {
    let text = "use crate::engine::event::Event;\n\
                use crate::{provider::Provider, tools::{self, Sandbox}};\n\
                use crate::{\n    store::Journal,\n    redact::Redactor,\n};\n\
                // crate::store in a comment does not count\n\
                let x = my_crate::config::load();\n\
                fn f() -> crate::headless::Output {}\n";
    let found = references(text);
    let targets: Vec<&str> = found.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        targets,
        ["engine", "provider", "tools", "store", "redact", "headless"]
    );
    let lines: Vec<usize> = found.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [1, 2, 2, 4, 5, 9]);
}

/// `super::super` could climb out of a folder unseen by the check above, so paths that leave
/// a file's own module and its parent start at `crate::`.
#[test]
fn no_path_climbs_two_modules_up() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let climbing: Vec<String> = rust_files(&src)
        .into_iter()
        .filter(|f| fs::read_to_string(f).unwrap().contains("super::super"))
        .map(|f| f.display().to_string())
        .collect();
    assert!(climbing.is_empty(), "use crate:: paths in {climbing:?}");
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The top-level folder a file belongs to.
fn folder_of(relative: &Path) -> Option<String> {
    let first = relative.iter().next()?.to_string_lossy();
    match first.trim_end_matches(".rs") {
        // The library's root only declares the folders; main.rs is the CLI's root.
        "lib" => None,
        "main" => Some("cli".into()),
        folder => Some(folder.to_string()),
    }
}

/// (line, top-level folder) for every `crate::` path, grouped ones included (rustfmt spreads
/// long groups over several lines).
fn references(text: &str) -> Vec<(usize, String)> {
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let line_of = |offset: usize| code[..offset].matches('\n').count() + 1;
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("crate::").map(|a| a + from) {
        let whole_word = !code[..at].chars().next_back().is_some_and(is_ident_char);
        let tail = at + "crate::".len();
        if whole_word {
            match code[tail..].strip_prefix('{') {
                Some(group) => found.extend(
                    group_heads(group)
                        .into_iter()
                        .map(|(offset, t)| (line_of(tail + 1 + offset), t)),
                ),
                None => found.push((line_of(at), ident(&code[tail..]).to_string())),
            }
        }
        from = tail;
    }
    found
}

/// The first identifier of each path in a `{a::b, c, d::{e}}` group, up to its closing brace,
/// with its offset in `group`.
fn group_heads(group: &str) -> Vec<(usize, String)> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut expecting = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => expecting = true,
            c if expecting && depth == 0 && is_ident_char(c) => {
                let head = ident(&group[i..]);
                if head != "self" {
                    heads.push((i, head.to_string()));
                }
                expecting = false;
            }
            _ => {}
        }
    }
    heads
}

fn ident(text: &str) -> &str {
    let end = text.find(|c| !is_ident_char(c)).unwrap_or(text.len());
    &text[..end]
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}
