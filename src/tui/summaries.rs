//! The sessions' summaries for the analytics view and the baselines: read from the summary
//! index (made from journals where missing) on a task, the answer coming back through the
//! event loop. Only where the journals are on this machine.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::session::summary::SessionSummary;

pub type LoadSummaries = Arc<dyn Fn() -> BoxFuture<'static, Vec<SessionSummary>> + Send + Sync>;

pub struct Summaries {
    load: LoadSummaries,
    done: UnboundedSender<Vec<SessionSummary>>,
    /// Taken by the event loop, which waits on it.
    pub(crate) answers: Option<UnboundedReceiver<Vec<SessionSummary>>>,
}

impl Summaries {
    pub fn new(load: LoadSummaries) -> Self {
        let (done, answers) = unbounded_channel();
        Summaries {
            load,
            done,
            answers: Some(answers),
        }
    }

    /// Starts reading; the summaries arrive on `answers`.
    pub fn request(&self) {
        let load = Arc::clone(&self.load);
        let done = self.done.clone();
        tokio::spawn(async move {
            let list = load().await;
            // The dashboard may have left meanwhile; nobody is waiting then.
            let _ = done.send(list);
        });
    }
}
