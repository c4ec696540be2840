//! The service's wire protocol: what front ends and `el-jefe serve` say to each other over one
//! WebSocket. The messages carry the session layer's own `Envelope`s and `Command`s; this folder
//! adds only the conversation around them (hello, subscribe, acknowledgements) and who may do
//! what. docs/PROTOCOL.md is the reference a third party writes a client from.

pub mod messages;
pub mod roles;

pub use messages::{ClientMessage, Position, ServerMessage, Version};
pub use roles::Role;

/// The capability of a server that runs schedules (`schedule` and `schedules` messages).
pub const SCHEDULES: &str = "schedules";

/// The capability of a server whose `start_session` honours `providers` (1.2); an older
/// server would ignore the field and run the session on its own routing.
pub const PROVIDER_CHOICE: &str = "provider_choice";

/// The capability of a server that answers the analytics requests over HTTP (1.3):
/// `/api/v1/stats`, `/api/v1/compare`, `/api/v1/summaries` and `/api/v1/flags`.
pub const ANALYTICS: &str = "analytics";

/// The protocol this build speaks. A client of another major version is refused at hello.
pub const PROTOCOL: Version = Version { major: 1, minor: 3 };
