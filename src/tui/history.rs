//! Where replay gets a session's whole journal: read from disk when the engine runs here,
//! fetched from the server when attached. Reading may take a while, so it runs as a task and
//! the answer comes back through the event loop.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::session::event::Envelope;
use crate::session::ids::SessionId;

/// Every event of a session, one by one and in order, or why they cannot be had.
pub type LoadHistory =
    Arc<dyn Fn(SessionId) -> BoxFuture<'static, Result<Vec<Envelope>, String>> + Send + Sync>;

pub type HistoryAnswer = (SessionId, Result<Vec<Envelope>, String>);

pub struct History {
    load: LoadHistory,
    done: UnboundedSender<HistoryAnswer>,
    /// Taken by the event loop, which waits on it.
    pub(crate) answers: Option<UnboundedReceiver<HistoryAnswer>>,
}

impl History {
    pub fn new(load: LoadHistory) -> Self {
        let (done, answers) = unbounded_channel();
        History {
            load,
            done,
            answers: Some(answers),
        }
    }

    /// Starts reading; the answer arrives on `answers`.
    pub fn request(&self, id: SessionId) {
        let load = Arc::clone(&self.load);
        let done = self.done.clone();
        tokio::spawn(async move {
            let answer = load(id.clone()).await;
            // The dashboard may have left meanwhile; nobody is waiting then.
            let _ = done.send((id, answer));
        });
    }
}
