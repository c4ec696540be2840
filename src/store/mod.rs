//! Persistence: per-session event journals, the session list, crash recovery and workspace files.
//!
//! Each session's directory holds `journal.jsonl`. The process running a session holds an
//! exclusive lock on its journal; a journal that says "running" but is not locked belongs to a
//! process that died, and is recovered as interrupted.

pub mod journal;
pub mod paths;
mod writer;

use std::fs::{self, File, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::engine::event::{Envelope, Event, InterruptReason};
use crate::engine::ids::SessionId;
use crate::engine::session_fold::SessionState;

pub use journal::{JournalRead, read_journal};
pub use writer::{StoreProblem, StoreWrite};
use writer::{Writer, WriterOp};

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
    ops: std_mpsc::Sender<WriterOp>,
    problems: Mutex<Option<UnboundedReceiver<StoreProblem>>>,
}

impl Store {
    /// Opens (creating if needed) the sessions directory and starts the journal writer.
    pub fn open(sessions_root: &Path) -> Result<Store, StoreError> {
        fs::create_dir_all(sessions_root)
            .map_err(io_err(format!("cannot create {}", sessions_root.display())))?;
        let (ops_tx, ops_rx) = std_mpsc::channel();
        let (problems_tx, problems_rx) = unbounded_channel();
        std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || Writer::new(problems_tx).run(ops_rx))
            .map_err(io_err("cannot start the journal writer"))?;
        Ok(Store {
            inner: Arc::new(Inner {
                root: sessions_root.to_path_buf(),
                ops: ops_tx,
                problems: Mutex::new(Some(problems_rx)),
            }),
        })
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// What the writer could not do, for the engine to show. Can be taken once.
    pub fn take_problems(&self) -> Option<UnboundedReceiver<StoreProblem>> {
        self.inner.problems.lock().ok()?.take()
    }

    fn send(&self, op: WriterOp) {
        // The writer thread only ends with the process.
        let _ = self.inner.ops.send(op);
    }

    fn journal_path(&self, id: &SessionId) -> PathBuf {
        paths::journal_path(&self.inner.root, id)
    }

    /// Creates a new session's directory and journal, locked by this process.
    pub fn create_session(&self, id: &SessionId) -> Result<(), StoreError> {
        let dir = paths::session_dir(&self.inner.root, id);
        fs::create_dir_all(&dir).map_err(io_err(format!("cannot create {}", dir.display())))?;
        let path = self.journal_path(id);
        let file = journal::open_for_append(&path)
            .map_err(io_err(format!("cannot open {}", path.display())))?;
        lock(&file, id)?;
        self.send(WriterOp::Attach {
            session: id.clone(),
            file,
        });
        Ok(())
    }

    /// Takes over an existing session: locks its journal and returns what it holds.
    pub fn reopen_session(&self, id: &SessionId) -> Result<StoredSession, StoreError> {
        let path = self.journal_path(id);
        if !path.exists() {
            return Err(StoreError::NotFound(id.clone()));
        }
        let file = journal::open_for_append(&path)
            .map_err(io_err(format!("cannot open {}", path.display())))?;
        lock(&file, id)?;
        let read =
            read_journal(&path).map_err(io_err(format!("cannot read {}", path.display())))?;
        self.send(WriterOp::Attach {
            session: id.clone(),
            file,
        });
        Ok(StoredSession {
            state: SessionState::replay(id.clone(), &read.events),
            warnings: read.warnings,
            running_elsewhere: false,
        })
    }

    pub fn append(&self, envelope: Arc<Envelope>) {
        self.submit(vec![StoreWrite::Event(envelope)]);
    }

    /// Hands events and files to the writer, to be written in this order.
    pub fn submit(&self, writes: Vec<StoreWrite>) {
        if !writes.is_empty() {
            self.send(WriterOp::Batch(writes));
        }
    }

    /// Finishes writing a session's journal and releases it for other processes.
    pub fn release_session(&self, id: &SessionId) {
        self.send(WriterOp::Detach(id.clone()));
    }

    /// Blocks until everything sent so far has been written.
    pub fn flush(&self) {
        let (tx, rx) = std_mpsc::sync_channel(1);
        self.send(WriterOp::Flush(tx));
        let _ = rx.recv();
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

    /// Marks sessions whose process died mid-run as interrupted, so they can be resumed.
    /// Returns the ids recovered.
    pub fn recover_orphans(&self, now_ms: i64) -> Vec<SessionId> {
        let (sessions, _) = self.list();
        sessions
            .into_iter()
            .filter(|s| s.state.status.is_active() && !s.running_elsewhere)
            .filter_map(|s| match self.mark_interrupted(&s.state, now_ms) {
                Ok(()) => Some(s.state.id),
                Err(e) => {
                    tracing::warn!("could not recover {}: {e}", s.state.id);
                    None
                }
            })
            .collect()
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

fn is_locked_elsewhere(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock))
}
