//! How the server's clients fare, for `/healthz` and `/metrics`: how many are connected, how
//! often one fell behind and was caught up from the journal, and how many were let go as too
//! slow. A server whose watchers keep falling behind is one an operator wants to hear about.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

#[derive(Default)]
pub struct ClientCounts {
    connected: AtomicUsize,
    resyncs: AtomicU64,
    dropped_slow: AtomicU64,
}

/// The counts at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientNumbers {
    pub connected: usize,
    /// Times a client fell behind the live stream and was caught up from the journal.
    pub resyncs: u64,
    /// Clients let go because they fell behind too often or stopped reading.
    pub dropped_slow: u64,
}

impl ClientCounts {
    pub fn now(&self) -> ClientNumbers {
        ClientNumbers {
            connected: self.connected.load(Ordering::Relaxed),
            resyncs: self.resyncs.load(Ordering::Relaxed),
            dropped_slow: self.dropped_slow.load(Ordering::Relaxed),
        }
    }

    pub fn resynced(&self) {
        self.resyncs.fetch_add(1, Ordering::Relaxed);
    }

    pub fn dropped_slow(&self) {
        self.dropped_slow.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts a connection among the connected for as long as it lives.
pub struct Connected(Arc<ClientCounts>);

impl Connected {
    pub fn new(counts: &Arc<ClientCounts>) -> Connected {
        counts.connected.fetch_add(1, Ordering::Relaxed);
        Connected(counts.clone())
    }
}

impl Drop for Connected {
    fn drop(&mut self) {
        self.0.connected.fetch_sub(1, Ordering::Relaxed);
    }
}
