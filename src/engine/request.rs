//! What reaches the engine's actor: a front end's command, or the process asking it to stop.

use tokio::sync::oneshot;

use crate::session::command::Command;

#[derive(Debug)]
pub enum Request {
    Command(Command),
    /// Interrupts everything still running, writes it all down, then answers and stops.
    Shutdown(oneshot::Sender<()>),
}
