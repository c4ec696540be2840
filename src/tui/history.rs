//! Where replay gets a session's whole journal: read from disk when the engine runs here,
//! fetched from the server when attached. Reading may take a while, so it runs as a task and
//! the answer comes back through the event loop.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::mpsc::UnboundedReceiver;

use super::background::Background;
use crate::session::event::Envelope;
use crate::session::ids::SessionId;

/// Every event of a session, one by one and in order, or why they cannot be had.
pub type LoadHistory =
    Arc<dyn Fn(SessionId) -> BoxFuture<'static, Result<Vec<Envelope>, String>> + Send + Sync>;

pub type HistoryAnswer = (SessionId, Result<Vec<Envelope>, String>);

pub struct History {
    load: LoadHistory,
    work: Background<HistoryAnswer>,
}

impl History {
    pub fn new(load: LoadHistory) -> Self {
        History {
            load,
            work: Background::new(),
        }
    }

    /// Starts reading; the answer arrives on `take_answers`'s receiver.
    pub fn request(&self, id: SessionId) {
        let read = (self.load)(id.clone());
        self.work.spawn(Box::pin(async move { (id, read.await) }));
    }

    pub fn take_answers(&mut self) -> Option<UnboundedReceiver<HistoryAnswer>> {
        self.work.take_answers()
    }
}
