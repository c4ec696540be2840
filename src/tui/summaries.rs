//! The sessions' summaries for the analytics view and the baselines: read from the summary
//! index (made from journals where missing) on a task, the answer coming back through the
//! event loop. Where the journals are on this machine, or from the server that holds them.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::mpsc::UnboundedReceiver;

use super::background::Background;
use crate::session::summary::SessionSummary;

/// Reads every summary; the error says why it could not, in words for the person.
pub type LoadSummaries =
    Arc<dyn Fn() -> BoxFuture<'static, Result<Vec<SessionSummary>, String>> + Send + Sync>;

pub struct Summaries {
    load: LoadSummaries,
    work: Background<Result<Vec<SessionSummary>, String>>,
}

impl Summaries {
    pub fn new(load: LoadSummaries) -> Self {
        Summaries {
            load,
            work: Background::new(),
        }
    }

    /// Starts reading; the summaries arrive on `take_answers`'s receiver.
    pub fn request(&self) {
        self.work.spawn((self.load)());
    }

    pub fn take_answers(
        &mut self,
    ) -> Option<UnboundedReceiver<Result<Vec<SessionSummary>, String>>> {
        self.work.take_answers()
    }
}
