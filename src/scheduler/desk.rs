//! A front end's hold on the schedules of the server it is attached to: the list as it is now
//! (a new one each time the server sends it) and a way to ask for a change. The answer to a
//! change shows in the next list; a refusal comes back as the engine's `Rejected` event, as
//! a refused command does.

use tokio::sync::{mpsc, watch};

use super::Views;
use crate::schedule::change::ScheduleChange;

#[derive(Clone)]
pub struct ScheduleDesk {
    views: watch::Receiver<Views>,
    asks: mpsc::UnboundedSender<ScheduleChange>,
}

/// The client's end: where lists go, and the changes asked for.
pub struct DeskLine {
    pub views: watch::Sender<Views>,
    pub asks: mpsc::UnboundedReceiver<ScheduleChange>,
}

impl ScheduleDesk {
    pub fn new() -> (ScheduleDesk, DeskLine) {
        let (views_tx, views) = watch::channel(Views::default());
        let (asks_tx, asks) = mpsc::unbounded_channel();
        (
            ScheduleDesk {
                views,
                asks: asks_tx,
            },
            DeskLine {
                views: views_tx,
                asks,
            },
        )
    }

    /// The list now, marking it seen.
    pub fn current(&mut self) -> Views {
        self.views.borrow_and_update().clone()
    }

    /// Waits for a list newer than the last one seen; never returns once the client is gone.
    pub async fn changed(&mut self) {
        if self.views.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// False when the connection's task has stopped.
    pub fn ask(&self, change: ScheduleChange) -> bool {
        self.asks.send(change).is_ok()
    }
}
