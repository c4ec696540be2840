//! What reaches the engine's actor: a front end's command, or the process asking it to stop.

use tokio::sync::oneshot;

use crate::session::command::Command;

#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "nearly every request is a command; boxing each would cost an allocation for the \
              one shutdown request's sake"
)]
pub enum Request {
    Command(Issued),
    /// Interrupts everything still running, writes it all down, then answers and stops.
    Shutdown(oneshot::Sender<()>),
}

/// A command and who issued it.
#[derive(Debug)]
pub struct Issued {
    pub command: Command,
    /// The person, on a server; None for the user of this process. Recorded with every event
    /// the command causes.
    pub by: Option<String>,
    /// Where to answer: Ok when it was carried out, else the reason. Without it, a rejection is
    /// told to every front end (`EngineEvent::Rejected`), as the dashboard in this process wants.
    pub reply: Option<oneshot::Sender<Result<(), String>>>,
}

impl Issued {
    /// A command of this process's own user, answered only when it is rejected.
    pub fn local(command: Command) -> Self {
        Issued {
            command,
            by: None,
            reply: None,
        }
    }
}
