//! The engine's news, fanned out to every connection. One task reads the engine's channel and
//! broadcasts; a connection that falls behind the broadcast's buffer loses its place in it and
//! catches up from the journals, so the engine never waits for anyone.

use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::ws::Utf8Bytes;

use tokio::sync::broadcast;
use tokio::sync::mpsc::UnboundedReceiver;

use super::board::Board;
use crate::protocol::ServerMessage;
use crate::scheduler::Scheduler;
use crate::session::call::CallMode;
use crate::session::event::{EngineEvent, Envelope};

/// One engine turn's events, already journaled.
#[derive(Debug)]
pub struct Turn {
    pub events: Vec<Arc<Envelope>>,
    /// The `events` message of the whole turn, made once for every client that takes it whole.
    message: OnceLock<Utf8Bytes>,
}

impl Turn {
    /// The turn as one `events` message.
    pub fn message(&self) -> Utf8Bytes {
        self.message
            .get_or_init(|| {
                let message = ServerMessage::Events {
                    events: self.events.clone(),
                };
                serde_json::to_string(&message).unwrap_or_default().into()
            })
            .clone()
    }
}

#[derive(Debug, Clone)]
pub enum News {
    Events(Arc<Turn>),
    Mode(CallMode),
    Problem(String),
    /// The engine stopped.
    ShutDown,
}

#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<News>,
    /// The engine's call mode now, for the welcome.
    mode: Arc<Mutex<CallMode>>,
}

impl Hub {
    /// Starts the task that reads the engine's channel; it ends with the engine.
    pub fn start(
        mut events: UnboundedReceiver<EngineEvent>,
        mode: CallMode,
        board: Arc<Board>,
        scheduler: Option<Scheduler>,
        buffered_turns: usize,
    ) -> Hub {
        let (tx, _) = broadcast::channel(buffered_turns.max(1));
        let mode = Arc::new(Mutex::new(mode));
        let hub = Hub {
            tx: tx.clone(),
            mode: mode.clone(),
        };
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                let news = match event {
                    EngineEvent::Events(batch) => {
                        board.apply(&batch);
                        if let Some(scheduler) = &scheduler {
                            batch.iter().for_each(|e| scheduler.note(e));
                        }
                        News::Events(Arc::new(Turn {
                            events: batch,
                            message: OnceLock::new(),
                        }))
                    }
                    EngineEvent::ModeChanged(now) => {
                        if let Ok(mut m) = mode.lock() {
                            *m = now;
                        }
                        News::Mode(now)
                    }
                    // Commands from connections are answered on their own channel; a rejection
                    // here came from elsewhere and is news for everyone.
                    EngineEvent::Rejected { command, reason } => {
                        News::Problem(format!("{command}: {reason}"))
                    }
                    EngineEvent::Problem { message } => News::Problem(message),
                    EngineEvent::ShutDown => News::ShutDown,
                    // Only a client's bridge says this; the engine here never does.
                    EngineEvent::Link { message, .. } => News::Problem(message),
                };
                // No receiver is fine: nobody is connected.
                let _ = tx.send(news);
            }
        });
        hub
    }

    pub fn subscribe(&self) -> broadcast::Receiver<News> {
        self.tx.subscribe()
    }

    pub fn mode(&self) -> CallMode {
        self.mode.lock().map(|m| *m).unwrap_or_default()
    }
}
