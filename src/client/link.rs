//! One WebSocket to the server, past its hello: messages in and out as protocol values.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{ClientError, Target};
use crate::protocol::{ClientMessage, PROTOCOL, Role, ServerMessage};
use crate::session::call::CallMode;

/// How long the server has to answer the hello.
const WELCOME_TIMEOUT: Duration = Duration::from_secs(15);

pub struct Link {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What the server said of this connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    pub user: String,
    pub role: Role,
    pub server: String,
    pub mode: CallMode,
    /// Optional features of the server (`schedules`).
    pub capabilities: Vec<String>,
}

impl Link {
    /// Connects and says hello with the target's token.
    pub async fn open(target: &Target, client: &str) -> Result<(Link, Welcome), ClientError> {
        let url = target
            .websocket_url()
            .map_err(|why| ClientError::Unreachable {
                url: target.url.clone(),
                why,
            })?;
        let unreachable = |why: String| ClientError::Unreachable {
            url: target.url.clone(),
            why,
        };
        let (socket, _) = tokio_tungstenite::connect_async(&url)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let mut link = Link { socket };
        link.send(&ClientMessage::Hello {
            protocol: PROTOCOL,
            client: client.to_string(),
            token: target.token.clone(),
        })
        .await?;
        let answer = tokio::time::timeout(WELCOME_TIMEOUT, link.next())
            .await
            .map_err(|_| unreachable("no answer to hello within 15 s".into()))?;
        match answer {
            Some(ServerMessage::Welcome {
                user,
                role,
                server,
                mode,
                capabilities,
                ..
            }) => Ok((
                link,
                Welcome {
                    user,
                    role,
                    server,
                    mode,
                    capabilities,
                },
            )),
            Some(ServerMessage::Bye { reason }) => Err(ClientError::Refused {
                url: target.url.clone(),
                reason,
            }),
            Some(other) => Err(ClientError::Broken(format!(
                "the server answered hello with {other:?}"
            ))),
            None => Err(ClientError::Broken("closed before answering hello".into())),
        }
    }

    pub async fn send(&mut self, message: &ClientMessage) -> Result<(), ClientError> {
        let text =
            serde_json::to_string(message).map_err(|e| ClientError::Broken(e.to_string()))?;
        self.socket
            .send(Message::Text(text.into()))
            .await
            .map_err(|e| ClientError::Broken(e.to_string()))
    }

    /// The next message; None once the connection is over. A message this build cannot read
    /// (a newer minor version's) is skipped, as the protocol asks.
    pub async fn next(&mut self) -> Option<ServerMessage> {
        loop {
            match self.socket.next().await? {
                Ok(Message::Text(text)) => match serde_json::from_str(&text) {
                    Ok(message) => return Some(message),
                    Err(e) => {
                        tracing::warn!("skipped a server message this build cannot read: {e}")
                    }
                },
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(
                    Message::Binary(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_),
                ) => {}
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
