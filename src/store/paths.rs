//! Where things live on disk: the app's directories, session directories and workspaces.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Local};

use crate::session::ids::SessionId;

/// The user's data and config directories (from `directories`), each overridable by an
/// environment variable so tests and several installs stay apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppDirs {
    pub data: PathBuf,
    pub config: PathBuf,
}

pub const DATA_DIR_ENV: &str = "EL_JEFE_DATA_DIR";
pub const CONFIG_DIR_ENV: &str = "EL_JEFE_CONFIG_DIR";

impl AppDirs {
    pub fn from_env() -> anyhow::Result<AppDirs> {
        let project = directories::ProjectDirs::from("", "", "el-jefe");
        let pick = |var: &str, fallback: Option<&Path>| -> anyhow::Result<PathBuf> {
            match std::env::var_os(var) {
                Some(v) if !v.is_empty() => Ok(PathBuf::from(v)),
                _ => fallback.map(Path::to_path_buf).ok_or_else(|| {
                    anyhow::anyhow!("cannot find a home directory; set {var} to choose a directory")
                }),
            }
        };
        Ok(AppDirs {
            data: pick(DATA_DIR_ENV, project.as_ref().map(|p| p.data_dir()))?,
            config: pick(CONFIG_DIR_ENV, project.as_ref().map(|p| p.config_dir()))?,
        })
    }

    pub fn sessions(&self) -> PathBuf {
        self.data.join("sessions")
    }

    pub fn default_workspace_root(&self) -> PathBuf {
        self.data.join("workspaces")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.data.join("logs")
    }

    /// The people who may connect to this data dir's server, with their tokens' hashes.
    pub fn people_file(&self) -> PathBuf {
        self.data.join("people.json")
    }

    /// Browsers signed in to the server's web dashboard (hashes only).
    pub fn web_logins_file(&self) -> PathBuf {
        self.data.join("web-logins.json")
    }

    /// Every change to a schedule and every firing and skip, one JSON record per line.
    pub fn schedules_journal(&self) -> PathBuf {
        self.data.join("schedules.jsonl")
    }

    /// The secrets webhooks are signed with (readable by the owner only).
    pub fn hook_secrets_file(&self) -> PathBuf {
        self.data.join("webhook-secrets.json")
    }

    /// Held by the data dir's server while it runs.
    pub fn server_lock(&self) -> PathBuf {
        self.data.join("server.lock")
    }

    /// Where the data dir's server listens, and its owner's token.
    pub fn server_file(&self) -> PathBuf {
        self.data.join("server.json")
    }

    pub fn config_file(&self) -> PathBuf {
        self.config.join("config.toml")
    }
}

pub fn session_dir(sessions_root: &Path, id: &SessionId) -> PathBuf {
    sessions_root.join(id.as_str())
}

pub fn journal_path(sessions_root: &Path, id: &SessionId) -> PathBuf {
    session_dir(sessions_root, id).join("journal.jsonl")
}

/// `<root>/week-WW/YYYY-MM-DD/<goal-slug>-HHMMSS/`, WW being the ISO week.
pub fn workspace_path(root: &Path, goal: &str, at: DateTime<Local>) -> PathBuf {
    root.join(format!("week-{:02}", at.iso_week().week()))
        .join(at.format("%Y-%m-%d").to_string())
        .join(format!("{}-{}", slug(goal, 40), at.format("%H%M%S")))
}

/// Lowercase ASCII words joined by dashes, cut at a word boundary; "session" when nothing is left.
pub fn slug(text: &str, max_len: usize) -> String {
    let mut out = String::new();
    for word in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word = word.to_ascii_lowercase();
        let extra = if out.is_empty() { 0 } else { 1 } + word.len();
        if out.len() + extra > max_len {
            if out.is_empty() {
                out.push_str(&word[..max_len]);
            }
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word);
    }
    if out.is_empty() {
        "session".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn workspace_follows_the_documented_layout() {
        let at = Local.with_ymd_and_hms(2026, 1, 2, 14, 3, 9).unwrap();
        let p = workspace_path(
            Path::new("/r"),
            "Research AI trends, for my tech podcast!",
            at,
        );
        // 2026-01-02 is a Friday in ISO week 1.
        assert_eq!(
            p,
            PathBuf::from("/r/week-01/2026-01-02/research-ai-trends-for-my-tech-podcast-140309")
        );
    }

    #[test]
    fn slugs_are_short_safe_and_never_empty() {
        assert_eq!(slug("../../etc/passwd", 40), "etc-passwd");
        assert_eq!(slug("¿¡!", 40), "session");
        assert_eq!(slug("a b c", 3), "a-b");
        assert_eq!(slug("supercalifragilistic", 5), "super");
    }
}
