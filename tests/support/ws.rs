//! A protocol client for tests: `el-jefe serve`'s WebSocket, spoken with tokio-tungstenite.

use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use el_jefe::protocol::{ClientMessage, PROTOCOL, Position, ServerMessage, Version};
use el_jefe::session::command::Command;
use el_jefe::session::event::Envelope;

pub struct Client {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    pub async fn connect(addr: std::net::SocketAddr) -> Client {
        let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/v1/ws"))
            .await
            .unwrap();
        Client { socket }
    }

    /// Connects with a receive window of about `bytes`, so that a client that stops reading
    /// soon stops the server's writes to it, as a slow network would.
    pub async fn connect_with_window(addr: std::net::SocketAddr, bytes: u32) -> Client {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(bytes).unwrap();
        let stream = socket.connect(addr).await.unwrap();
        let (socket, _) = tokio_tungstenite::client_async(
            format!("ws://{addr}/api/v1/ws"),
            MaybeTlsStream::Plain(stream),
        )
        .await
        .unwrap();
        Client { socket }
    }

    /// Says hello with `token` on a connected client, which must be welcomed.
    pub async fn say_hello(&mut self, token: &str) {
        self.send(&ClientMessage::Hello {
            protocol: PROTOCOL,
            client: "el-jefe-tests".into(),
            token: Some(token.into()),
        })
        .await;
        let answer = self.next().await;
        assert!(
            matches!(answer, Some(ServerMessage::Welcome { .. })),
            "{answer:?}"
        );
    }

    /// Connects and says hello; returns the client and the server's answer.
    pub async fn hello_with(
        addr: std::net::SocketAddr,
        protocol: Version,
        token: Option<&str>,
    ) -> (Client, ServerMessage) {
        let mut client = Client::connect(addr).await;
        client
            .send(&ClientMessage::Hello {
                protocol,
                client: "el-jefe-tests".into(),
                token: token.map(String::from),
            })
            .await;
        let answer = client.next().await.expect("an answer to hello");
        (client, answer)
    }

    pub async fn login(addr: std::net::SocketAddr, token: &str) -> Client {
        let (client, answer) = Client::hello_with(addr, PROTOCOL, Some(token)).await;
        assert!(
            matches!(answer, ServerMessage::Welcome { .. }),
            "{answer:?}"
        );
        client
    }

    pub async fn send(&mut self, message: &ClientMessage) {
        self.send_text(&serde_json::to_string(message).unwrap())
            .await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::Text(text.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn subscribe(&mut self, from: Vec<Position>) {
        self.send(&ClientMessage::Subscribe {
            sessions: None,
            from,
        })
        .await;
    }

    pub async fn command(&mut self, id: u64, command: Command) {
        self.send(&ClientMessage::Command {
            id,
            command: Box::new(command),
        })
        .await;
    }

    /// The next message; None once the server closed the connection.
    pub async fn next(&mut self) -> Option<ServerMessage> {
        loop {
            match self.socket.next().await? {
                Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).unwrap()),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// Messages until one matches, collecting the events on the way.
    pub async fn until(
        &mut self,
        events: &mut Vec<Envelope>,
        mut wanted: impl FnMut(&ServerMessage) -> bool,
    ) -> ServerMessage {
        loop {
            // A guard against hanging the suite, not a wait for anything: every message of
            // these tests comes within milliseconds.
            let message = tokio::time::timeout(std::time::Duration::from_secs(60), self.next())
                .await
                .unwrap_or_else(|_| panic!("nothing for 60 s after {} events", events.len()))
                .expect("the server closed the connection");
            if let ServerMessage::Events { events: batch } = &message {
                events.extend(batch.iter().map(|e| (**e).clone()));
            }
            if wanted(&message) {
                return message;
            }
        }
    }
}
