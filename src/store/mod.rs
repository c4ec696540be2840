//! Persistence: per-session event journals, the session list, crash recovery and workspace files.
//!
//! Each session's directory holds `journal.jsonl`. The process running a session holds an
//! exclusive lock on its journal; a journal that says "running" but is not locked belongs to a
//! process that died, and is recovered as interrupted.

pub(crate) mod cleanup;
mod file_writer;
pub(crate) mod journal;
mod summaries;
pub use summaries::IndexReport;
pub mod paths;
pub mod schedules;
pub mod server_file;

use std::collections::HashSet;
use std::fs::{self, File, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::session::event::{Envelope, Event, InterruptReason};
use crate::session::ids::SessionId;
use crate::session::session_fold::{SessionState, StepStatus};

pub use file_writer::StoreProblem;
use file_writer::{FileOp, write_atomically};
pub use journal::{Journal, JournalRead, events_after, read_journal};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no session {0}")]
    NotFound(SessionId),
    #[error("session {0} is being run by another el-jefe process")]
    InUse(SessionId),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> StoreError {
    let context = context.into();
    move |source| StoreError::Io { context, source }
}

/// A session as found on disk.
#[derive(Debug, Clone)]
pub struct StoredSession {
    pub state: SessionState,
    pub warnings: Vec<String>,
    /// Another process holds the journal: its state is live elsewhere.
    pub running_elsewhere: bool,
}

#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    files: std_mpsc::Sender<FileOp>,
    problems: Mutex<Option<UnboundedReceiver<StoreProblem>>>,
}

impl Store {
    /// Opens (creating if needed) the sessions directory and starts the workspace file writer.
    pub fn open(sessions_root: &Path) -> Result<Store, StoreError> {
        fs::create_dir_all(sessions_root)
            .map_err(io_err(format!("cannot create {}", sessions_root.display())))?;
        let (files_tx, files_rx) = std_mpsc::channel();
        let (problems_tx, problems_rx) = unbounded_channel();
        std::thread::Builder::new()
            .name("file-writer".into())
            .spawn(move || file_writer::run(files_rx, problems_tx))
            .map_err(io_err("cannot start the file writer"))?;
        Ok(Store {
            inner: Arc::new(Inner {
                root: sessions_root.to_path_buf(),
                files: files_tx,
                problems: Mutex::new(Some(problems_rx)),
            }),
        })
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// What the file writer could not do, for the engine to show. Can be taken once.
    pub fn take_problems(&self) -> Option<UnboundedReceiver<StoreProblem>> {
        self.inner.problems.lock().ok()?.take()
    }

    fn journal_path(&self, id: &SessionId) -> PathBuf {
        paths::journal_path(&self.inner.root, id)
    }

    /// Every event of a session's journal, one by one and in order (merged text lines given
    /// back as their deltas).
    pub fn events(&self, id: &SessionId) -> Result<Vec<Envelope>, StoreError> {
        let path = self.journal_path(id);
        if !path.exists() {
            return Err(StoreError::NotFound(id.clone()));
        }
        journal::events_after(&path, 0).map_err(io_err(format!("cannot read {}", path.display())))
    }

    /// Creates a new session's directory and journal, locked by this process while it is open.
    pub fn create_session(&self, id: &SessionId) -> Result<Journal, StoreError> {
        let dir = paths::session_dir(&self.inner.root, id);
        fs::create_dir_all(&dir).map_err(io_err(format!("cannot create {}", dir.display())))?;
        let path = self.journal_path(id);
        let file = journal::open_for_append(&path)
            .map_err(io_err(format!("cannot open {}", path.display())))?;
        lock(&file, id)?;
        Ok(Journal::new(
            id.clone(),
            file,
            path,
            self.inner.files.clone(),
        ))
    }

    /// Takes over an existing session: locks its journal and returns what it holds. Output
    /// files a crash left unwritten are written again from the journal.
    pub fn reopen_session(&self, id: &SessionId) -> Result<(Journal, StoredSession), StoreError> {
        let path = self.journal_path(id);
        if !path.exists() {
            return Err(StoreError::NotFound(id.clone()));
        }
        let file = journal::open_for_append(&path)
            .map_err(io_err(format!("cannot open {}", path.display())))?;
        lock(&file, id)?;
        let read =
            read_journal(&path).map_err(io_err(format!("cannot read {}", path.display())))?;
        let state = SessionState::replay(id.clone(), &read.events);
        let mut warnings = read.warnings;
        warnings.extend(restore_outputs(&state));
        Ok((
            Journal::new(id.clone(), file, path, self.inner.files.clone()),
            StoredSession {
                state,
                warnings,
                running_elsewhere: false,
            },
        ))
    }

    /// Writes a step's output into its workspace, in the background.
    pub fn write_file(&self, path: PathBuf, contents: String) {
        // The writer thread only ends with the process.
        let _ = self.inner.files.send(FileOp::Write { path, contents });
    }

    /// Blocks until every output file sent so far is written.
    pub fn flush(&self) {
        let (tx, rx) = std_mpsc::sync_channel(1);
        if self.inner.files.send(FileOp::Flush(tx)).is_ok() {
            let _ = rx.recv();
        }
    }

    /// Reads one session without taking it over.
    pub fn load(&self, id: &SessionId) -> Result<StoredSession, StoreError> {
        let path = self.journal_path(id);
        if !path.exists() {
            return Err(StoreError::NotFound(id.clone()));
        }
        let read =
            read_journal(&path).map_err(io_err(format!("cannot read {}", path.display())))?;
        Ok(StoredSession {
            state: SessionState::replay(id.clone(), &read.events),
            warnings: read.warnings,
            running_elsewhere: is_locked_elsewhere(&path),
        })
    }

    /// The ids of the sessions on disk, oldest first, without reading them.
    pub fn ids(&self) -> Vec<SessionId> {
        let mut ids: Vec<SessionId> = fs::read_dir(&self.inner.root)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| SessionId::parse(&entry.file_name().to_string_lossy()).ok())
            .collect();
        ids.sort();
        ids
    }

    /// Every session on disk, newest first. Unreadable ones are skipped with a warning.
    pub fn list(&self) -> (Vec<StoredSession>, Vec<String>) {
        let mut sessions = Vec::new();
        let mut warnings = Vec::new();
        let entries = match fs::read_dir(&self.inner.root) {
            Ok(e) => e,
            Err(e) => {
                warnings.push(format!("cannot read {}: {e}", self.inner.root.display()));
                return (sessions, warnings);
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Ok(id) = SessionId::parse(&name.to_string_lossy()) else {
                continue;
            };
            match self.load(&id) {
                Ok(s) => sessions.push(s),
                Err(StoreError::NotFound(_)) => {}
                Err(e) => warnings.push(e.to_string()),
            }
        }
        sessions.sort_by(|a, b| b.state.id.cmp(&a.state.id));
        (sessions, warnings)
    }

    /// Marks sessions whose process died mid-run as interrupted, so they can be resumed, and
    /// writes output files such a process had no time to write. Returns the ids recovered.
    pub fn recover_orphans(&self, now_ms: i64) -> Vec<SessionId> {
        let (sessions, _) = self.list();
        let mut recovered = Vec::new();
        for s in sessions.into_iter().filter(|s| !s.running_elsewhere) {
            for problem in restore_outputs(&s.state) {
                tracing::warn!("{problem}");
            }
            if !s.state.status.is_active() {
                continue;
            }
            match self.mark_interrupted(&s.state, now_ms) {
                Ok(()) => recovered.push(s.state.id),
                Err(e) => tracing::warn!("could not recover {}: {e}", s.state.id),
            }
        }
        recovered
    }

    /// `recover_orphans` for one session: true when it had died mid-run and is now marked
    /// interrupted.
    pub fn recover_if_orphaned(&self, id: &SessionId, now_ms: i64) -> bool {
        let Ok(s) = self.load(id) else {
            return false;
        };
        if s.running_elsewhere || !s.state.status.is_active() {
            return false;
        }
        match self.mark_interrupted(&s.state, now_ms) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!("could not recover {id}: {e}");
                false
            }
        }
    }

    fn mark_interrupted(&self, state: &SessionState, now_ms: i64) -> Result<(), StoreError> {
        let path = self.journal_path(&state.id);
        let mut file = journal::open_for_append(&path)
            .map_err(io_err(format!("cannot open {}", path.display())))?;
        lock(&file, &state.id)?;
        // Re-read under the lock: the session may have been finished or taken over meanwhile.
        let read =
            read_journal(&path).map_err(io_err(format!("cannot read {}", path.display())))?;
        let current = SessionState::replay(state.id.clone(), &read.events);
        if !current.status.is_active() {
            return Ok(());
        }
        let envelope = Envelope {
            seq: current.last_seq + 1,
            at_ms: now_ms,
            session: state.id.clone(),
            by: None,
            event: Event::SessionInterrupted {
                reason: InterruptReason::Recovered,
            },
        };
        let mut line = Vec::new();
        journal::encode_line(&envelope, &mut line);
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(io_err(format!("cannot write {}", path.display())))
    }
}

fn lock(file: &File, id: &SessionId) -> Result<(), StoreError> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(TryLockError::WouldBlock) => Err(StoreError::InUse(id.clone())),
        Err(TryLockError::Error(e)) => Err(StoreError::Io {
            context: format!("cannot lock the journal of {id}"),
            source: e,
        }),
    }
}

/// Writes the workspace copy of each completed step's output that is missing; returns problems.
fn restore_outputs(state: &SessionState) -> Vec<String> {
    let mut made_dirs = HashSet::new();
    state
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Completed)
        .filter_map(|s| s.output_file.as_ref().map(|f| (f, &s.output)))
        .filter(|(file, _)| !file.exists())
        .filter_map(|(file, output)| {
            write_atomically(file, output, &mut made_dirs)
                .err()
                .map(|e| format!("could not restore {}: {e}", file.display()))
        })
        .collect()
}

fn is_locked_elsewhere(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock))
}

/// Writes a file only its owner can read (tokens and their hashes), whole or not at all.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let temp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temp, path)
}
