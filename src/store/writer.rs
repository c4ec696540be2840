//! The journal writer: a thread that owns the open journals, so the engine never waits on disk.
//!
//! It takes everything queued, writes it, and hands it to the OS before sleeping again: under load
//! the batches grow, when quiet every event is written at once. What the OS holds survives a
//! kill -9 of this process; events that end a session are also synced to the disk itself.
//! Consecutive text deltas of one step are merged into one line, which keeps journals small
//! without changing what a replay folds to.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender};

use tokio::sync::mpsc::UnboundedSender;

use crate::engine::event::{Envelope, Event};
use crate::engine::ids::{SessionId, StepId};

use super::journal::encode_line;

pub enum StoreWrite {
    Event(Arc<Envelope>),
    /// A step's output in the workspace (via a temporary file, so it is never half there).
    File {
        path: PathBuf,
        contents: String,
    },
}

pub enum WriterOp {
    /// Start writing a session's journal; the file is already locked by us.
    Attach { session: SessionId, file: File },
    /// Events and files in order; one message per engine turn, so one wake-up of this thread.
    Batch(Vec<StoreWrite>),
    /// Stop writing a session's journal and release its lock.
    Detach(SessionId),
    /// Answered once everything sent before it is in the OS.
    Flush(SyncSender<()>),
}

/// Something the writer could not do; the engine turns it into a visible warning.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreProblem {
    pub session: Option<SessionId>,
    pub message: String,
}

struct PendingText {
    first: Arc<Envelope>,
    text: String,
    chunks: u32,
}

struct OpenJournal {
    file: File,
    buf: Vec<u8>,
    /// Text deltas not yet written, per step.
    pending: HashMap<StepId, PendingText>,
    sync: bool,
    failed: bool,
}

impl OpenJournal {
    fn stash_delta(&mut self, env: &Arc<Envelope>, step: &StepId, text: &str, chunks: u32) {
        match self.pending.get_mut(step) {
            Some(p) => {
                p.text.push_str(text);
                p.chunks += chunks;
            }
            None => {
                self.pending.insert(
                    step.clone(),
                    PendingText {
                        first: env.clone(),
                        text: text.to_string(),
                        chunks,
                    },
                );
            }
        }
    }

    fn drain_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        // In order of their first piece, so the journal reads in time order.
        let mut merged: Vec<(StepId, PendingText)> = self.pending.drain().collect();
        merged.sort_by_key(|(_, p)| p.first.seq);
        for (step, p) in merged {
            let merged = Envelope {
                seq: p.first.seq,
                at_ms: p.first.at_ms,
                session: p.first.session.clone(),
                event: Event::TextDelta {
                    step,
                    text: p.text,
                    chunks: p.chunks,
                },
            };
            encode_line(&merged, &mut self.buf);
        }
    }
}

pub struct Writer {
    journals: HashMap<SessionId, OpenJournal>,
    problems: UnboundedSender<StoreProblem>,
    /// Workspace directories already created: saves two syscalls per output file.
    made_dirs: HashSet<PathBuf>,
}

impl Writer {
    pub fn new(problems: UnboundedSender<StoreProblem>) -> Self {
        Writer {
            journals: HashMap::new(),
            problems,
            made_dirs: HashSet::new(),
        }
    }

    pub fn run(mut self, ops: Receiver<WriterOp>) {
        let mut acks = Vec::new();
        while let Ok(first) = ops.recv() {
            self.handle(first, &mut acks);
            // Take whatever else is queued before touching the disk.
            for op in ops.try_iter().take(16_384) {
                self.handle(op, &mut acks);
            }
            self.write_out();
            for ack in acks.drain(..) {
                let _ = ack.send(());
            }
        }
        self.write_out();
    }

    fn handle(&mut self, op: WriterOp, acks: &mut Vec<SyncSender<()>>) {
        match op {
            WriterOp::Attach { session, file } => {
                self.journals.insert(
                    session,
                    OpenJournal {
                        file,
                        buf: Vec::with_capacity(8192),
                        pending: HashMap::new(),
                        sync: false,
                        failed: false,
                    },
                );
            }
            WriterOp::Batch(writes) => {
                for write in writes {
                    match write {
                        StoreWrite::Event(env) => self.append(env),
                        StoreWrite::File { path, contents } => {
                            if let Err(e) = self.write_atomically(&path, &contents) {
                                self.report(
                                    None,
                                    format!("could not write {}: {e}", path.display()),
                                );
                            }
                        }
                    }
                }
            }
            WriterOp::Detach(session) => {
                self.write_out();
                // Dropping the file releases its lock.
                self.journals.remove(&session);
            }
            WriterOp::Flush(ack) => acks.push(ack),
        }
    }

    fn append(&mut self, env: Arc<Envelope>) {
        let Some(j) = self.journals.get_mut(&env.session) else {
            self.report(
                Some(env.session.clone()),
                "an event arrived for a session whose journal is not open".into(),
            );
            return;
        };
        if let Event::TextDelta { step, text, chunks } = &env.event {
            j.stash_delta(&env, step, text, *chunks);
        } else {
            j.drain_pending();
            encode_line(&env, &mut j.buf);
            j.sync |= env.event.ends_session();
        }
    }

    fn write_out(&mut self) {
        let mut problems = Vec::new();
        for (session, j) in &mut self.journals {
            j.drain_pending();
            if j.buf.is_empty() {
                continue;
            }
            let mut result = j.file.write_all(&j.buf);
            if result.is_ok() && j.sync {
                result = j.file.sync_data();
            }
            j.buf.clear();
            j.sync = false;
            match result {
                Ok(()) => j.failed = false,
                Err(e) if !j.failed => {
                    j.failed = true;
                    problems.push((session.clone(), format!("could not write the journal: {e}")));
                }
                Err(_) => {}
            }
        }
        for (session, message) in problems {
            self.report(Some(session), message);
        }
    }

    fn write_atomically(&mut self, path: &Path, contents: &str) -> std::io::Result<()> {
        if let Some(parent) = path.parent()
            && !self.made_dirs.contains(parent)
        {
            fs::create_dir_all(parent)?;
            self.made_dirs.insert(parent.to_path_buf());
        }
        let tmp = path.with_extension("partial");
        fs::write(&tmp, contents)?;
        fs::rename(&tmp, path)
    }

    fn report(&self, session: Option<SessionId>, message: String) {
        tracing::error!(session = ?session, "{message}");
        let _ = self.problems.send(StoreProblem { session, message });
    }
}
