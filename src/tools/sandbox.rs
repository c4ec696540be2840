//! The session workspace as a jail for file tools: every path a model gives is checked before
//! anything touches the disk.

use std::io;
use std::path::{Component, Path, PathBuf};

use super::ToolError;

/// Characters that look like path separators or dots to a person but are not to the kernel;
/// a model (or a prompt injection) using them is trying something.
const LOOKALIKES: [char; 7] = [
    '\u{2215}', // division slash
    '\u{2044}', // fraction slash
    '\u{FF0F}', // fullwidth solidus
    '\u{FF3C}', // fullwidth reverse solidus
    '\u{FF0E}', // fullwidth full stop
    '\u{2024}', // one dot leader
    '\u{FE52}', // small full stop
];

#[derive(Debug, Clone)]
pub struct Sandbox {
    /// Canonical (symlinks resolved) workspace directory.
    root: PathBuf,
}

impl Sandbox {
    /// Creates the workspace directory if needed.
    pub fn new(workspace: &Path) -> io::Result<Sandbox> {
        std::fs::create_dir_all(workspace)?;
        Ok(Sandbox {
            root: workspace.canonicalize()?,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The real path for `raw`, a path relative to the workspace, refused when it could reach
    /// anything outside it. The path need not exist.
    pub fn resolve(&self, raw: &str) -> Result<PathBuf, ToolError> {
        let relative = check_spelling(raw)?;
        let joined = self.root.join(&relative);
        // The deepest part that exists is resolved by the kernel (following any symlink); what
        // is below it does not exist yet, so it cannot be a link.
        let mut existing = joined.as_path();
        let mut missing = Vec::new();
        while std::fs::symlink_metadata(existing).is_err() {
            missing.push(existing.file_name().unwrap_or_default().to_os_string());
            existing = existing
                .parent()
                .ok_or_else(|| ToolError::new(format!("`{raw}`: no such path")))?;
        }
        let real = existing.canonicalize().map_err(|e| {
            ToolError::new(format!(
                "`{raw}`: {}",
                if e.kind() == io::ErrorKind::NotFound {
                    "a symbolic link on the way points nowhere".to_string()
                } else {
                    e.to_string()
                }
            ))
        })?;
        if !real.starts_with(&self.root) {
            return Err(ToolError::new(format!(
                "`{raw}` leads outside the workspace (through a symbolic link); refused"
            )));
        }
        Ok(missing.iter().rev().fold(real, |p, name| p.join(name)))
    }

    /// A real path inside the workspace, as the model should see it.
    pub fn display(&self, path: &Path) -> String {
        match path.strip_prefix(&self.root) {
            Ok(p) if p.as_os_str().is_empty() => ".".into(),
            Ok(p) => p.display().to_string(),
            Err(_) => path.display().to_string(),
        }
    }
}

/// Refuses paths that are absolute, climb out, or are spelled to fool a check; returns the
/// plain relative path.
fn check_spelling(raw: &str) -> Result<PathBuf, ToolError> {
    let refuse = |why: &str| Err(ToolError::new(format!("`{raw}`: {why}; refused")));
    if raw.trim().is_empty() {
        return Err(ToolError::new(
            "the path is empty (use `.` for the workspace itself)",
        ));
    }
    if raw.chars().any(char::is_control) {
        return refuse("control characters in a path");
    }
    if raw.contains('\\') {
        return refuse("backslashes are not path separators here; use `/`");
    }
    if raw.chars().any(|c| LOOKALIKES.contains(&c)) {
        return refuse("a character that only looks like `/` or `.`");
    }
    if has_percent_escape(raw) {
        return refuse("percent-encoded characters; give the plain path");
    }
    if raw.starts_with('~') {
        return refuse("`~` is outside the workspace; paths are relative to it");
    }
    let path = Path::new(raw);
    let mut relative = PathBuf::new();
    for part in path.components() {
        match part {
            Component::Normal(name) => relative.push(name),
            Component::CurDir => {}
            Component::ParentDir => {
                return refuse("`..` is not allowed; paths stay inside the workspace");
            }
            Component::RootDir | Component::Prefix(_) => {
                return refuse("absolute paths are not allowed; give a path inside the workspace");
            }
        }
    }
    Ok(relative)
}

fn has_percent_escape(raw: &str) -> bool {
    raw.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox() -> (tempfile::TempDir, Sandbox) {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        let s = Sandbox::new(&ws).unwrap();
        (dir, s)
    }

    fn refused(s: &Sandbox, raw: &str) -> String {
        s.resolve(raw).expect_err(raw).message
    }

    #[test]
    fn plain_paths_resolve_inside_even_when_missing() {
        let (_d, s) = sandbox();
        std::fs::create_dir(s.root().join("notes")).unwrap();
        assert_eq!(
            s.resolve("notes/a.md").unwrap(),
            s.root().join("notes/a.md")
        );
        assert_eq!(
            s.resolve("./new/deep/b.md").unwrap(),
            s.root().join("new/deep/b.md")
        );
        assert_eq!(s.resolve(".").unwrap(), s.root());
        assert_eq!(s.display(&s.root().join("notes/a.md")), "notes/a.md");
    }

    #[test]
    fn escapes_are_refused_with_the_reason() {
        let (_d, s) = sandbox();
        assert!(refused(&s, "../secret").contains("`..` is not allowed"));
        assert!(refused(&s, "a/../../b").contains("`..`"));
        assert!(refused(&s, "/etc/passwd").contains("absolute paths"));
        assert!(refused(&s, "~/.ssh/id_rsa").contains("`~`"));
        assert!(refused(&s, "..\\x").contains("backslashes"));
        assert!(refused(&s, "%2e%2e/x").contains("percent-encoded"));
        assert!(refused(&s, "\u{FF0E}\u{FF0E}/x").contains("looks like"));
        assert!(refused(&s, "a\u{0}b").contains("control characters"));
        assert!(refused(&s, "  ").contains("empty"));
    }

    #[test]
    fn symlinks_pointing_out_are_refused_and_inside_ones_followed() {
        let (d, s) = sandbox();
        let outside = d.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("secret.txt"), "x").unwrap();
        std::os::unix::fs::symlink(&outside, s.root().join("out")).unwrap();
        std::os::unix::fs::symlink(outside.join("secret.txt"), s.root().join("s.txt")).unwrap();
        assert!(refused(&s, "out/secret.txt").contains("outside the workspace"));
        assert!(refused(&s, "out/new.txt").contains("outside the workspace"));
        assert!(refused(&s, "s.txt").contains("outside the workspace"));

        std::fs::create_dir(s.root().join("real")).unwrap();
        std::os::unix::fs::symlink(s.root().join("real"), s.root().join("alias")).unwrap();
        assert_eq!(s.resolve("alias/f").unwrap(), s.root().join("real/f"));

        std::os::unix::fs::symlink(d.path().join("nowhere"), s.root().join("dangling")).unwrap();
        assert!(refused(&s, "dangling").contains("points nowhere"));
    }
}
