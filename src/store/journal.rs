//! The journal file: one JSON envelope per line, append-only.
//!
//! The engine appends a turn's events to an open `Journal` and writes them out with one `write`
//! before any front end hears of them: what the OS holds survives a kill -9 of the process, so
//! nothing a user has seen can be lost. Consecutive text deltas of one step are merged into one
//! line, which keeps journals small without changing what a replay folds to.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use std::sync::mpsc::Sender;

use rustc_hash::FxHashMap;

use super::file_writer::FileOp;
use crate::session::event::{DeltaPart, Envelope, Event};
use crate::session::ids::{SessionId, StepId};

#[derive(Debug, Default)]
pub struct JournalRead {
    pub events: Vec<Envelope>,
    /// Lines that could not be read, each said in one sentence. The rest of the journal stands.
    pub warnings: Vec<String>,
}

pub fn read_journal(path: &Path) -> io::Result<JournalRead> {
    let (events, warnings) = read_json_lines(path, "event")?;
    Ok(JournalRead { events, warnings })
}

/// Every line of a file of JSON lines that reads as a `T`, and a sentence for each that does
/// not (`what` names a line's kind: "event"). The rest of the file stands.
pub fn read_json_lines<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &str,
) -> io::Result<(Vec<T>, Vec<String>)> {
    let file = File::open(path)?;
    let mut items = Vec::new();
    let mut warnings = Vec::new();
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        number += 1;
        let complete = line.ends_with(b"\n");
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<T>(text) {
            Ok(item) => items.push(item),
            Err(_) if !complete => warnings.push(format!(
                "{}: line {number} was cut short (the process stopped while writing it); skipped",
                path.display()
            )),
            Err(e) => warnings.push(format!(
                "{}: line {number} is not a valid {what} ({e}); skipped",
                path.display()
            )),
        }
    }
    Ok((items, warnings))
}

/// The events of a journal after number `after`, one by one as the engine made them (merged
/// text lines given back as their deltas) and in order: what a client that has everything up
/// to `after` is missing. Lines that cannot be read are skipped, as when loading.
pub fn events_after(path: &Path, after: u64) -> io::Result<Vec<Envelope>> {
    let read = read_journal(path)?;
    let mut events: Vec<Envelope> = read
        .events
        .into_iter()
        .filter(|e| e.last_seq() > after)
        .flat_map(Envelope::unmerged)
        .filter(|e| e.seq > after)
        .collect();
    // A turn's merged lines are written in order of their first delta, so their deltas
    // interleave: sorting puts them back in the order they happened.
    events.sort_by_key(|e| e.seq);
    Ok(events)
}

/// Opens a journal for appending. If the last write was torn, a newline is added first so the
/// next event starts on its own line instead of being glued to the broken one.
pub fn open_for_append(path: &Path) -> io::Result<File> {
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)?;
    let len = file.metadata()?.len();
    if len > 0 {
        file.seek(SeekFrom::Start(len - 1))?;
        let mut last = [0u8; 1];
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            file.write_all(b"\n")?;
        }
    }
    Ok(file)
}

#[expect(
    clippy::expect_used,
    reason = "our event types have only string keys and no fallible Serialize impls"
)]
pub fn encode_line(envelope: &Envelope, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, envelope).expect("events serialise");
    out.push(b'\n');
}

struct PendingText {
    seq: u64,
    at_ms: i64,
    text: String,
    chunks: u32,
    /// Every delta merged in, so a replay can give each back.
    parts: Vec<DeltaPart>,
}

/// A session's journal, open and locked by this process (the lock goes with the file).
pub struct Journal {
    session: SessionId,
    file: File,
    buf: Vec<u8>,
    /// Text deltas not yet encoded, per step.
    pending: FxHashMap<StepId, PendingText>,
    /// The session ended: sync to disk, not just to the OS.
    sync: bool,
    /// Where a sync is sent to be done off the engine's thread.
    syncer: Sender<FileOp>,
    path: PathBuf,
}

impl Journal {
    pub fn new(session: SessionId, file: File, path: PathBuf, syncer: Sender<FileOp>) -> Self {
        Journal {
            session,
            file,
            buf: Vec::with_capacity(8192),
            pending: FxHashMap::default(),
            sync: false,
            syncer,
            path,
        }
    }

    pub fn append(&mut self, env: &Envelope) {
        if let Event::TextDelta {
            step, text, chunks, ..
        } = &env.event
        {
            let part = DeltaPart {
                seq: env.seq,
                len: text.len() as u32,
                chunks: *chunks,
            };
            match self.pending.get_mut(step) {
                Some(p) => {
                    p.text.push_str(text);
                    p.chunks += chunks;
                    p.parts.push(part);
                }
                None => {
                    self.pending.insert(
                        step.clone(),
                        PendingText {
                            seq: env.seq,
                            at_ms: env.at_ms,
                            text: text.clone(),
                            chunks: *chunks,
                            parts: vec![part],
                        },
                    );
                }
            }
        } else {
            self.encode_pending();
            encode_line(env, &mut self.buf);
            self.sync |= env.event.ends_session();
        }
    }

    /// Merged deltas go first, in order of their first piece, so the journal reads in time order.
    fn encode_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut merged: Vec<(StepId, PendingText)> = self.pending.drain().collect();
        merged.sort_by_key(|(_, p)| p.seq);
        for (step, p) in merged {
            let env = Envelope {
                seq: p.seq,
                at_ms: p.at_ms,
                session: self.session.clone(),
                by: None,
                event: Event::TextDelta {
                    step,
                    text: p.text,
                    chunks: p.chunks,
                    // One delta needs no list: the line is the delta.
                    parts: if p.parts.len() > 1 {
                        p.parts
                    } else {
                        Vec::new()
                    },
                },
            };
            encode_line(&env, &mut self.buf);
        }
    }

    /// Hands everything appended so far to the OS, which is all a kill -9 needs. Once the
    /// session ended, a sync to the disk (against power loss, tens of milliseconds on some
    /// disks) is asked of the store's writer thread, so no session waits for it.
    pub fn write_out(&mut self) -> io::Result<()> {
        self.encode_pending();
        if self.buf.is_empty() {
            return Ok(());
        }
        let result = self.file.write_all(&self.buf);
        self.buf.clear();
        result?;
        if std::mem::take(&mut self.sync) {
            // By path, not with a copy of this handle: a copy would keep the journal's lock
            // (it belongs to the open file) after the session lets it go.
            // The writer only ends with the process; then there is nobody left to sync for.
            let _ = self.syncer.send(FileOp::Sync(self.path.clone()));
        }
        Ok(())
    }
}

impl Drop for Journal {
    /// The lock belongs to the open file, and a child process forked at the wrong moment (a
    /// tool's shell, an MCP server) holds a copy of it until its exec: closing our handle alone
    /// would leave the session locked for that while, and its resume refused as "in use".
    /// Unlocking releases it for every copy at once.
    fn drop(&mut self) {
        if let Err(e) = self.file.unlock() {
            tracing::warn!("could not unlock the journal of {}: {e}", self.session);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_journal_is_unlocked_even_while_a_copy_of_its_file_lives_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let file = open_for_append(&path).unwrap();
        file.try_lock().unwrap();
        // What a child forked between open and exec holds: the same open file.
        let inherited = file.try_clone().unwrap();
        let (syncer, _ops) = std::sync::mpsc::channel();
        drop(Journal::new(
            SessionId::generate(chrono::Local::now()),
            file,
            path.clone(),
            syncer,
        ));
        let again = open_for_append(&path).unwrap();
        assert!(again.try_lock().is_ok(), "the session stayed locked");
        drop(inherited);
    }
}
