//! Folder triggers: files created or changed in a watched folder, debounced (a file written in
//! several pieces is one event), each a firing of its schedule with the file's path as
//! `{{file}}`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::event::{ModifyKind, RenameMode};
use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{
    DebounceEventResult, Debouncer, RecommendedCache, new_debouncer, notify::RecommendedWatcher,
};
use tokio::sync::mpsc::UnboundedSender;

use super::Request;

/// Quiet time after a file's last change before it counts.
const SETTLE: Duration = Duration::from_millis(1500);

/// Watches while it lives.
pub struct FolderWatch {
    _debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
}

pub fn watch_folder(
    schedule: &str,
    dir: &Path,
    to_scheduler: UnboundedSender<Request>,
) -> Result<FolderWatch, String> {
    if !dir.is_dir() {
        return Err(format!("{} is not a folder", dir.display()));
    }
    let name = schedule.to_string();
    let mut debouncer = new_debouncer(SETTLE, None, move |result: DebounceEventResult| {
        match result {
            Ok(events) => {
                // One firing per file per batch, however many events it had.
                let files: BTreeSet<PathBuf> = events
                    .iter()
                    .filter(|e| counts(&e.event.kind))
                    .flat_map(|e| e.event.paths.iter().cloned())
                    .filter(|p| p.is_file())
                    .collect();
                for path in files {
                    let _ = to_scheduler.send(Request::FileSeen {
                        schedule: name.clone(),
                        path,
                    });
                }
            }
            Err(errors) => {
                for e in errors {
                    tracing::warn!(schedule = %name, "watching a folder: {e}");
                }
            }
        }
    })
    .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
    debouncer
        .watch(dir, RecursiveMode::NonRecursive)
        .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
    Ok(FolderWatch {
        _debouncer: debouncer,
    })
}

/// A file created, written, or moved into the folder.
fn counts(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) => true,
        EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Any) => true,
        EventKind::Modify(ModifyKind::Name(mode)) => {
            matches!(mode, RenameMode::To | RenameMode::Both | RenameMode::Any)
        }
        EventKind::Modify(ModifyKind::Metadata(_) | ModifyKind::Other)
        | EventKind::Access(_)
        | EventKind::Remove(_)
        | EventKind::Any
        | EventKind::Other => false,
    }
}
