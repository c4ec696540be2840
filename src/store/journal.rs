//! The journal file: one JSON envelope per line, append-only.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::engine::event::Envelope;

#[derive(Debug, Default)]
pub struct JournalRead {
    pub events: Vec<Envelope>,
    /// Lines that could not be read, each said in one sentence. The rest of the journal stands.
    pub warnings: Vec<String>,
}

pub fn read_journal(path: &Path) -> io::Result<JournalRead> {
    let file = File::open(path)?;
    let mut out = JournalRead::default();
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
        match serde_json::from_slice::<Envelope>(text) {
            Ok(envelope) => out.events.push(envelope),
            Err(_) if !complete => out.warnings.push(format!(
                "{}: line {number} was cut short (the process stopped while writing it); skipped",
                path.display()
            )),
            Err(e) => out.warnings.push(format!(
                "{}: line {number} is not a valid event ({e}); skipped",
                path.display()
            )),
        }
    }
    Ok(out)
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

pub fn encode_line(envelope: &Envelope, out: &mut Vec<u8>) {
    // Serialising our own types into a Vec cannot fail.
    serde_json::to_writer(&mut *out, envelope).expect("events serialise");
    out.push(b'\n');
}
