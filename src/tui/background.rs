//! Work the dashboard hands to a task (reading journals, summaries) whose answer comes back
//! through the event loop, so nothing slow runs on the loop itself.

use futures::future::BoxFuture;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

pub struct Background<A> {
    done: UnboundedSender<A>,
    /// Taken by the event loop, which waits on it.
    answers: Option<UnboundedReceiver<A>>,
}

impl<A: Send + 'static> Background<A> {
    pub fn new() -> Self {
        let (done, answers) = unbounded_channel();
        Background {
            done,
            answers: Some(answers),
        }
    }

    /// Runs `work` on a task; its answer arrives on the receiver the event loop took.
    pub fn spawn(&self, work: BoxFuture<'static, A>) {
        let done = self.done.clone();
        tokio::spawn(async move {
            // The dashboard may have left meanwhile; nobody is waiting then.
            let _ = done.send(work.await);
        });
    }

    /// The answers, for the event loop (once).
    pub fn take_answers(&mut self) -> Option<UnboundedReceiver<A>> {
        self.answers.take()
    }
}

impl<A: Send + 'static> Default for Background<A> {
    fn default() -> Self {
        Background::new()
    }
}
