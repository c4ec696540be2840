//! Front ends as clients of `el-jefe serve`. A `Remote` speaks the protocol over one WebSocket;
//! attached, it becomes the same `EngineHandle` and stream of `EngineEvent`s an in-process
//! engine gives, so the dashboard and the headless printers do not know where the engine is.

mod bridge;
mod link;
mod remote;
pub mod requests;
mod target;
mod tracker;

pub use remote::Remote;
pub use target::Target;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the server at {url}: {why}")]
    Unreachable { url: String, why: String },
    #[error("the server at {url} refused: {reason}")]
    Refused { url: String, reason: String },
    #[error("the connection to the server broke: {0}")]
    Broken(String),
    #[error("{0}")]
    Rejected(String),
}
