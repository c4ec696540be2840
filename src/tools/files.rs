//! File tools: read, write, edit, list and search inside the workspace. Blocking code: the
//! registry runs it on tokio's blocking pool.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use regex::RegexBuilder;

use super::builtin::Args;
use super::{Sandbox, ToolError, ToolOutput, clip_result};
use crate::format::human_size;

/// Bigger files are read only up to the result cap anyway; this bounds the read itself.
const READ_CAP: u64 = 8 * 1024 * 1024;
/// Files larger than this are skipped by search.
const SEARCH_FILE_CAP: u64 = 2 * 1024 * 1024;
const MAX_LIST_ENTRIES: usize = 500;
const MAX_MATCHES: usize = 200;

fn io_error(sandbox: &Sandbox, path: &Path, e: std::io::Error) -> ToolError {
    let shown = sandbox.display(path);
    if e.kind() == std::io::ErrorKind::NotFound {
        ToolError::new(format!("`{shown}` does not exist"))
    } else if e.kind() == std::io::ErrorKind::IsADirectory {
        ToolError::new(format!(
            "`{shown}` is a directory; list_files shows what is in it"
        ))
    } else {
        ToolError::new(format!("`{shown}`: {e}"))
    }
}

fn looks_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(8192).any(|&b| b == 0)
}

fn read_text(sandbox: &Sandbox, path: &Path) -> Result<String, ToolError> {
    if path.is_dir() {
        return Err(io_error(
            sandbox,
            path,
            std::io::Error::from(std::io::ErrorKind::IsADirectory),
        ));
    }
    let file = fs::File::open(path).map_err(|e| io_error(sandbox, path, e))?;
    let mut bytes = Vec::new();
    file.take(READ_CAP)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(sandbox, path, e))?;
    if looks_binary(&bytes) {
        return Err(ToolError::new(format!(
            "`{}` is a binary file; only text files can be read",
            sandbox.display(path)
        )));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub fn read_file(
    sandbox: &Sandbox,
    args: &Args<'_>,
    max_bytes: usize,
) -> Result<ToolOutput, ToolError> {
    let path = sandbox.resolve(args.str("path")?)?;
    let text = read_text(sandbox, &path)?;
    let size = fs::metadata(&path)
        .map(|m| m.len())
        .unwrap_or(text.len() as u64);
    Ok(ToolOutput {
        summary: format!("{}, {}", sandbox.display(&path), human_size(size)),
        content: clip_result(&text, max_bytes),
    })
}

pub fn write_file(sandbox: &Sandbox, args: &Args) -> Result<ToolOutput, ToolError> {
    let shown_path = args.str("path")?;
    let content = args.str("content")?;
    let path = sandbox.resolve(shown_path)?;
    if path.is_dir() {
        return Err(ToolError::new(format!("`{shown_path}` is a directory")));
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| io_error(sandbox, parent, e))?;
    }
    let existed = path.exists();
    fs::write(&path, content).map_err(|e| io_error(sandbox, &path, e))?;
    let shown = sandbox.display(&path);
    let size = human_size(content.len() as u64);
    Ok(ToolOutput {
        content: format!(
            "{} {shown} ({size})",
            if existed { "Replaced" } else { "Created" }
        ),
        summary: format!("{shown}, {size}"),
    })
}

pub fn edit_file(sandbox: &Sandbox, args: &Args) -> Result<ToolOutput, ToolError> {
    let path = sandbox.resolve(args.str("path")?)?;
    let old = args.str("old_text")?;
    let new = args.str("new_text")?;
    if old.is_empty() {
        return Err(ToolError::new(
            "old_text is empty; give the exact text to replace (write_file makes new files)",
        ));
    }
    let text = read_text(sandbox, &path)?;
    let shown = sandbox.display(&path);
    let count = text.matches(old).count();
    match count {
        0 => Err(ToolError::new(format!(
            "old_text does not occur in `{shown}`; read the file and copy the text exactly"
        ))),
        1 => {
            let edited = text.replacen(old, new, 1);
            fs::write(&path, &edited).map_err(|e| io_error(sandbox, &path, e))?;
            let (removed, added) = (old.lines().count(), new.lines().count());
            Ok(ToolOutput {
                content: format!("Edited {shown}: replaced {removed} line(s) with {added}"),
                summary: format!("{shown}, -{removed} +{added} lines"),
            })
        }
        n => Err(ToolError::new(format!(
            "old_text occurs {n} times in `{shown}`; include more surrounding text so it is unique"
        ))),
    }
}

/// Files and directories under `dir`, depth first in name order, never following symlinks.
fn walk(dir: &Path, recursive: bool, visit: &mut dyn FnMut(&Path, &fs::Metadata) -> bool) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !visit(&path, &meta) {
            return;
        }
        if recursive && meta.is_dir() {
            walk(&path, recursive, visit);
        }
    }
}

pub fn list_files(
    sandbox: &Sandbox,
    args: &Args<'_>,
    max_bytes: usize,
) -> Result<ToolOutput, ToolError> {
    let path = sandbox.resolve(args.opt_str("path")?.unwrap_or("."))?;
    let recursive = args.opt_bool("recursive")?.unwrap_or(true);
    if !path.is_dir() {
        return Err(ToolError::new(format!(
            "`{}` is not a directory",
            sandbox.display(&path)
        )));
    }
    let mut lines = Vec::new();
    let mut more = false;
    walk(&path, recursive, &mut |p, meta| {
        if lines.len() == MAX_LIST_ENTRIES {
            more = true;
            return false;
        }
        let shown = sandbox.display(p);
        lines.push(if meta.is_dir() {
            format!("{shown}/")
        } else if meta.file_type().is_symlink() {
            format!("{shown} (link)")
        } else {
            format!("{shown}  {}", human_size(meta.len()))
        });
        true
    });
    let count = lines.len();
    let mut content = if lines.is_empty() {
        "(empty)".to_string()
    } else {
        lines.join("\n")
    };
    if more {
        content.push_str(&format!("\n[stopped at {MAX_LIST_ENTRIES} entries]"));
    }
    Ok(ToolOutput {
        summary: format!(
            "{}, {count}{} entries",
            sandbox.display(&path),
            if more { "+" } else { "" }
        ),
        content: clip_result(&content, max_bytes),
    })
}

pub fn search_files(
    sandbox: &Sandbox,
    args: &Args<'_>,
    max_bytes: usize,
) -> Result<ToolOutput, ToolError> {
    let pattern = args.str("pattern")?;
    let regex = RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| ToolError::new(format!("pattern is not a valid regular expression: {e}")))?;
    let base = sandbox.resolve(args.opt_str("path")?.unwrap_or("."))?;
    let mut matches = Vec::new();
    let mut files = 0usize;
    let mut search_one = |p: &Path, meta: &fs::Metadata| {
        if !meta.is_file() || meta.len() > SEARCH_FILE_CAP {
            return true;
        }
        let Ok(bytes) = fs::read(p) else {
            return true;
        };
        if looks_binary(&bytes) {
            return true;
        }
        files += 1;
        let text = String::from_utf8_lossy(&bytes);
        for (n, line) in text.lines().enumerate() {
            if regex.is_match(line) {
                matches.push(format!(
                    "{}:{}: {}",
                    sandbox.display(p),
                    n + 1,
                    line.trim_end()
                ));
                if matches.len() == MAX_MATCHES {
                    return false;
                }
            }
        }
        true
    };
    if base.is_file() {
        let meta = fs::metadata(&base).map_err(|e| io_error(sandbox, &base, e))?;
        search_one(&base, &meta);
    } else if base.is_dir() {
        walk(&base, true, &mut search_one);
    } else {
        return Err(ToolError::new(format!(
            "`{}` does not exist",
            sandbox.display(&base)
        )));
    }
    let found = matches.len();
    let mut content = if matches.is_empty() {
        format!("no line matches `{pattern}` in {files} file(s)")
    } else {
        matches.join("\n")
    };
    if found == MAX_MATCHES {
        content.push_str(&format!("\n[stopped at {MAX_MATCHES} matches]"));
    }
    Ok(ToolOutput {
        summary: format!("`{pattern}`: {found} match(es) in {files} file(s)"),
        content: clip_result(&content, max_bytes),
    })
}

#[cfg(test)]
mod tests;
