//! `el-jefe clean`: sessions past a retention period go, journal and workspace. A session that
//! is running or paused, here or in another process, is never touched.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use super::{Store, StoreError, journal, lock, paths};
use crate::session::ids::SessionId;
use crate::session::session_fold::SessionState;

/// A session that would be cleaned, and what of it is on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Expired {
    pub id: SessionId,
    pub goal: String,
    pub status: &'static str,
    /// Since the session last did anything.
    pub idle_ms: i64,
    pub session_dir: PathBuf,
    /// None when it is gone already.
    pub workspace: Option<PathBuf>,
    pub bytes: u64,
}

/// When a session last did anything: its end, or its creation if it never ended.
fn last_activity_ms(state: &SessionState) -> i64 {
    state.ended_at_ms.unwrap_or(state.created_at_ms)
}

impl Store {
    /// Sessions idle for longer than `older_than`, oldest first. Active sessions and sessions
    /// another process holds are left out.
    pub fn expired_sessions(&self, older_than: Duration, now_ms: i64) -> Vec<Expired> {
        let (sessions, _) = self.list();
        let limit = older_than.as_millis() as i64;
        let mut out: Vec<Expired> = sessions
            .into_iter()
            .filter(|s| !s.running_elsewhere && !s.state.status.is_active())
            .filter(|s| now_ms - last_activity_ms(&s.state) > limit)
            .map(|s| {
                let session_dir = paths::session_dir(self.root(), &s.state.id);
                let workspace = Some(s.state.workspace.clone())
                    .filter(|w| !w.as_os_str().is_empty() && w.is_dir());
                let bytes = dir_size(&session_dir) + workspace.as_deref().map_or(0, dir_size);
                Expired {
                    id: s.state.id.clone(),
                    goal: s.state.goal.clone(),
                    status: s.state.status.label(),
                    idle_ms: now_ms - last_activity_ms(&s.state),
                    session_dir,
                    workspace,
                    bytes,
                }
            })
            .collect();
        out.sort_by_key(|e| std::cmp::Reverse(e.idle_ms));
        out
    }

    /// Deletes an expired session: its journal under its lock (so no process can take it over
    /// meanwhile), then its workspace unless told to keep it.
    pub fn remove_session(
        &self,
        expired: &Expired,
        keep_workspace: bool,
    ) -> Result<(), StoreError> {
        let path = self.journal_path(&expired.id);
        let file = journal::open_for_append(&path).map_err(|source| StoreError::Io {
            context: format!("cannot open {}", path.display()),
            source,
        })?;
        lock(&file, &expired.id)?;
        // Re-checked under the lock: it may have been resumed since it was listed.
        if let Ok(now) = self.load(&expired.id)
            && now.state.status.is_active()
        {
            return Err(StoreError::InUse(expired.id.clone()));
        }
        fs::remove_dir_all(&expired.session_dir).map_err(|source| StoreError::Io {
            context: format!("cannot remove {}", expired.session_dir.display()),
            source,
        })?;
        drop(file);
        if let (false, Some(workspace)) = (keep_workspace, &expired.workspace) {
            fs::remove_dir_all(workspace).map_err(|source| StoreError::Io {
                context: format!("cannot remove {}", workspace.display()),
                source,
            })?;
        }
        Ok(())
    }
}

fn dir_size(dir: &std::path::Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}
