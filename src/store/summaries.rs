//! The analytics index: each session's summary in `summary.json` beside its journal, with the
//! journal's length and time when it was made. A summary whose journal changed since, of an
//! older version, missing or unreadable is made again from the journal: the journal is the
//! truth, the index only a cache of it.

use std::fs;
use std::path::Path;
use std::time::Duration;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::{Store, StoreError, paths};
use crate::session::ids::SessionId;
use crate::session::stats::{GroupBy, Stats, compute};
use crate::session::status::SessionStatus;
use crate::session::summary::{SUMMARY_VERSION, SessionSummary, summarize};

const FILE: &str = "summary.json";

/// The journal as it was when the summary was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct JournalMark {
    len: u64,
    modified_ns: u128,
}

#[derive(Serialize, Deserialize)]
struct IndexEntry {
    journal: JournalMark,
    summary: SessionSummary,
}

/// What reading the index did, for the user who waits on a first run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IndexReport {
    pub read: usize,
    /// Summaries made again from their journals.
    pub rebuilt: usize,
    pub warnings: Vec<String>,
}

fn looks_active(label: &str) -> bool {
    SessionStatus::ALL
        .iter()
        .any(|s| s.label() == label && s.is_active())
}

fn mark(journal: &Path) -> std::io::Result<JournalMark> {
    let meta = fs::metadata(journal)?;
    let modified_ns = meta
        .modified()?
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Ok(JournalMark {
        len: meta.len(),
        modified_ns,
    })
}

impl Store {
    /// Every session's summary, from the index where it is current, else from the journal
    /// (and the index updated). `keep` picks sessions by id before anything is read.
    pub fn summaries(
        &self,
        keep: impl Fn(&SessionId) -> bool,
    ) -> (Vec<SessionSummary>, IndexReport) {
        let mut report = IndexReport::default();
        let mut out = Vec::new();
        let now_ms = chrono::Utc::now().timestamp_millis();
        for id in self.ids().into_iter().filter(|id| keep(id)) {
            let mut summary = self.summary(&id);
            // A session that looks active but whose process died is interrupted, as every
            // command that reads the store says; only these few journals are read in full.
            if let Ok((s, _)) = &summary
                && looks_active(&s.status)
                && self.recover_if_orphaned(&id, now_ms)
            {
                summary = self.summary(&id);
            }
            match summary {
                Ok((summary, rebuilt)) => {
                    report.read += 1;
                    report.rebuilt += usize::from(rebuilt);
                    out.push(summary);
                }
                Err(StoreError::NotFound(_)) => {}
                Err(e) => report.warnings.push(e.to_string()),
            }
        }
        (out, report)
    }

    /// Every figure over the sessions created within `since` before `now_ms` (all when
    /// `None`).
    pub fn stats(&self, since: Option<Duration>, now_ms: i64, by: GroupBy) -> (Stats, IndexReport) {
        let (mut summaries, report) = self.summaries(|_| true);
        if let Some(age) = since {
            let from = now_ms.saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX));
            summaries.retain(|s| s.created_at_ms >= from);
        }
        (compute(&summaries, by), report)
    }

    /// One session's summary; true when it had to be made from the journal.
    pub fn summary(&self, id: &SessionId) -> Result<(SessionSummary, bool), StoreError> {
        let journal = self.journal_path(id);
        let now = mark(&journal).map_err(|_| StoreError::NotFound(id.clone()))?;
        let index = paths::session_dir(self.root(), id).join(FILE);
        if let Ok(text) = fs::read(&index)
            && let Ok(entry) = serde_json::from_slice::<IndexEntry>(&text)
            && entry.journal == now
            && entry.summary.version == SUMMARY_VERSION
        {
            return Ok((entry.summary, false));
        }
        let events = self.events(id)?;
        let summary = summarize(id, &events);
        let entry = IndexEntry {
            journal: now,
            summary,
        };
        // A cache: written whole or not at all, without waiting for the disk. If it cannot be
        // written the next run makes it again.
        if let Ok(text) = serde_json::to_vec(&entry) {
            let temp = index.with_extension("json.tmp");
            if fs::write(&temp, text).is_ok() {
                let _ = fs::rename(&temp, &index);
            }
        }
        Ok((entry.summary, true))
    }
}
