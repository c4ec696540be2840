//! Workspace output files are copies of what the journal already holds, so they are written by a
//! background thread, off the engine's path: creating files is the slowest thing we do to disk.
//! If the process dies before a copy is written, recovery writes it from the journal. The same
//! thread syncs ended sessions' journals to the disk.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender};

use tokio::sync::mpsc::UnboundedSender;

pub enum FileOp {
    Write {
        path: PathBuf,
        contents: String,
    },
    /// A journal to sync to the disk (its session ended).
    Sync(PathBuf),
    /// Answered once every file sent before it is written.
    Flush(SyncSender<()>),
}

/// Something the writer could not do; the engine turns it into a visible warning.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreProblem {
    pub message: String,
}

pub fn run(ops: Receiver<FileOp>, problems: UnboundedSender<StoreProblem>) {
    // Directories already created: saves two syscalls per file.
    let mut made_dirs = HashSet::new();
    for op in ops {
        match op {
            FileOp::Write { path, contents } => {
                if let Err(e) = write_atomically(&path, &contents, &mut made_dirs) {
                    let message = format!("could not write {}: {e}", path.display());
                    tracing::error!("{message}");
                    let _ = problems.send(StoreProblem { message });
                }
            }
            FileOp::Sync(path) => {
                // Any handle on the file syncs its data; this one holds no lock.
                if let Err(e) = fs::File::open(&path).and_then(|f| f.sync_data()) {
                    let message = format!("could not sync {} to the disk: {e}", path.display());
                    tracing::error!("{message}");
                    let _ = problems.send(StoreProblem { message });
                }
            }
            FileOp::Flush(ack) => {
                let _ = ack.send(());
            }
        }
    }
}

/// Via a temporary file and a rename, so a reader never sees half a file.
pub fn write_atomically(
    path: &Path,
    contents: &str,
    made_dirs: &mut HashSet<PathBuf>,
) -> std::io::Result<()> {
    if let Some(parent) = path.parent()
        && !made_dirs.contains(parent)
    {
        fs::create_dir_all(parent)?;
        made_dirs.insert(parent.to_path_buf());
    }
    let tmp = path.with_extension("partial");
    fs::write(&tmp, contents)?;
    fs::rename(&tmp, path)
}
