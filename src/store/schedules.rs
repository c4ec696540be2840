//! The schedules journal on disk (`schedules.jsonl` in the data dir): one record per line,
//! appended and synced before the scheduler acts on it, so a firing the journal does not hold
//! never happened and a kill -9 loses no schedule. And the webhooks' secrets, in a file only the
//! owner can read (HMAC needs the secret itself, so it cannot be kept as a hash).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::journal::{open_for_append, read_json_lines};
use super::write_private;
use crate::schedule::book::ScheduleRecord;

pub struct ScheduleJournal {
    file: File,
    path: PathBuf,
}

/// The records on disk, and a sentence for each line that could not be read.
pub struct ScheduleJournalRead {
    pub records: Vec<ScheduleRecord>,
    pub warnings: Vec<String>,
}

impl ScheduleJournal {
    /// Opens (creating it if needed) and reads the journal.
    pub fn open(path: &Path) -> io::Result<(ScheduleJournal, ScheduleJournalRead)> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = open_for_append(path)?;
        let (records, warnings) = read_json_lines(path, "schedule record")?;
        let journal = ScheduleJournal {
            file,
            path: path.to_path_buf(),
        };
        Ok((journal, ScheduleJournalRead { records, warnings }))
    }

    /// Appends one record and waits until it is on disk.
    pub fn append(&mut self, record: &ScheduleRecord) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Each webhook schedule's secret, by schedule name.
pub struct HookSecrets {
    path: PathBuf,
    secrets: BTreeMap<String, String>,
}

impl HookSecrets {
    /// Reads the file; a missing one is empty.
    pub fn load(path: &Path) -> io::Result<HookSecrets> {
        let secrets = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e),
        };
        Ok(HookSecrets {
            path: path.to_path_buf(),
            secrets,
        })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.secrets.get(name).map(String::as_str)
    }

    pub fn set(&mut self, name: &str, secret: String) -> io::Result<()> {
        self.secrets.insert(name.to_string(), secret);
        self.save()
    }

    pub fn remove(&mut self, name: &str) -> io::Result<()> {
        if self.secrets.remove(name).is_some() {
            self.save()?;
        }
        Ok(())
    }

    fn save(&self) -> io::Result<()> {
        let text = serde_json::to_string_pretty(&self.secrets).map_err(io::Error::other)?;
        write_private(&self.path, &text)
    }
}
