//! A limit of calls at once on one endpoint (`max_concurrent`): a single-slot server such as
//! llama-cpp-python's cuts a running reply short when a second request arrives, so several
//! agents sharing it must take turns.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug, Clone)]
pub struct EndpointSlots {
    semaphore: Arc<Semaphore>,
    limit: u32,
}

/// A slot, given back when dropped.
pub type SlotPermit = OwnedSemaphorePermit;

impl EndpointSlots {
    pub fn new(limit: u32) -> Self {
        let limit = limit.max(1);
        EndpointSlots {
            semaphore: Arc::new(Semaphore::new(limit as usize)),
            limit,
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    pub fn try_take(&self) -> Option<SlotPermit> {
        self.semaphore.clone().try_acquire_owned().ok()
    }

    /// Waits for a slot; tokio's semaphore is fair, so calls get theirs in the order they asked.
    pub async fn take(&self) -> SlotPermit {
        match self.semaphore.clone().acquire_owned().await {
            Ok(permit) => permit,
            Err(_) => unreachable!("the semaphore is never closed"),
        }
    }
}
