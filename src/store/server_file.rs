//! Where this data dir's server listens, for clients of the same user on this machine: the
//! server holds a lock while it runs and keeps its address and its owner's token in a file only
//! that user can read. The file stays when the server stops; whether one runs is told by the
//! lock being held.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::paths::AppDirs;

#[derive(Clone, Serialize, Deserialize)]
pub struct ServerFile {
    /// Where clients connect, e.g. `http://127.0.0.1:7777`.
    pub url: String,
    pub pid: u32,
    /// The owner's name and token (an admin).
    pub user: String,
    pub token: String,
}

impl std::fmt::Debug for ServerFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token stays out of logs and error messages.
        f.debug_struct("ServerFile")
            .field("url", &self.url)
            .field("pid", &self.pid)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Held while this process is the data dir's server; released when dropped or at exit.
#[derive(Debug)]
pub struct ServerLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another server has the data dir; what its file says, if it could be read.
    #[error("{}", held_message(.0.as_ref()))]
    Held(Option<ServerFile>),
    #[error("cannot lock {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

fn held_message(other: Option<&ServerFile>) -> String {
    match other {
        Some(s) => format!(
            "a server already runs for this data dir: {} (pid {}); its clients attach to it by \
             themselves",
            s.url, s.pid
        ),
        None => "a server already runs for this data dir (it is starting up)".into(),
    }
}

impl ServerLock {
    pub fn take(dirs: &AppDirs) -> Result<ServerLock, LockError> {
        let path = dirs.server_lock();
        let io = |source| LockError::Io {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(&dirs.data).map_err(io)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => Ok(ServerLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(LockError::Held(read(&dirs.server_file()))),
            Err(TryLockError::Error(e)) => Err(io(e)),
        }
    }
}

/// Writes the file for this user's clients (readable by them only).
pub fn write(dirs: &AppDirs, server: &ServerFile) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(server).map_err(std::io::Error::other)?;
    super::write_private(&dirs.server_file(), &text)
}

/// What the last server of this data dir wrote, running or not.
pub fn last(dirs: &AppDirs) -> Option<ServerFile> {
    read(&dirs.server_file())
}

/// The server running for this data dir now, if any.
pub fn running(dirs: &AppDirs) -> Option<ServerFile> {
    let lock = File::open(dirs.server_lock()).ok()?;
    let held = matches!(lock.try_lock_shared(), Err(TryLockError::WouldBlock));
    if !held {
        return None;
    }
    read(&dirs.server_file())
}

fn read(path: &Path) -> Option<ServerFile> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}
