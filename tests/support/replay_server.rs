//! An HTTP server on loopback that answers each connection with the next scripted reply:
//! recorded captures or hand-made protocol data, delivered in pieces, with pauses, stalls or a
//! cut connection. It records every request, and notices when a client hangs up.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub enum Part {
    Bytes(Vec<u8>),
    /// Wait before the next part (real time: the client is on the other end of a socket).
    Pause(Duration),
    /// Send nothing more and keep the connection open until the client leaves.
    Stall,
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub parts: Vec<Part>,
}

impl Reply {
    pub fn new(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            parts: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, bytes: impl AsRef<[u8]>) -> Self {
        self.parts.push(Part::Bytes(bytes.as_ref().to_vec()));
        self
    }

    pub fn then(mut self, part: Part) -> Self {
        self.parts.push(part);
        self
    }

    pub fn json(status: u16, body: &str) -> Self {
        Reply::new(status)
            .header("content-type", "application/json")
            .body(body)
    }

    /// Server-sent events, one write per event, each `(event name, data)`; an empty name
    /// leaves the `event:` line out.
    pub fn sse(events: &[(&str, &str)]) -> Self {
        let mut reply = Reply::new(200).header("content-type", "text/event-stream");
        for (name, data) in events {
            let mut text = String::new();
            if !name.is_empty() {
                text.push_str(&format!("event: {name}\n"));
            }
            text.push_str(&format!("data: {data}\n\n"));
            reply = reply.body(text);
        }
        reply
    }

    /// A recorded capture (tests/captures): `###` comment lines, the status line, headers,
    /// a blank line, the body. Framing headers are dropped: this server frames by closing.
    /// An event-stream body goes out one event per write, as a server streams it.
    pub fn capture(path: &Path) -> Self {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut lines = text.lines().filter(|l| !l.starts_with("###"));
        let status_line = lines.next().expect("a status line");
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let mut reply = Reply::new(status);
        for line in lines.by_ref() {
            if line.trim().is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            let name = name.trim().to_ascii_lowercase();
            if !matches!(
                name.as_str(),
                "content-length" | "transfer-encoding" | "connection"
            ) {
                reply = reply.header(&name, value.trim());
            }
        }
        let body: Vec<&str> = lines.collect();
        let body = body.join("\n");
        let streamed = reply
            .headers
            .iter()
            .any(|(n, v)| n == "content-type" && v.starts_with("text/event-stream"));
        if streamed {
            // Captures are stored trimmed: the blank line that ends the last event goes back.
            let body = format!("{}\n\n", body.trim_end_matches('\n'));
            for event in body.split_inclusive("\n\n") {
                reply = reply.body(event);
            }
        } else {
            reply = reply.body(body.trim_end());
        }
        reply
    }
}

pub fn capture_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/captures")
        .join(name)
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct ReplayServer {
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    hung_up: Arc<Notify>,
    served: Arc<Mutex<Vec<Served>>>,
}

/// When a request was read in full, and when the last write of its reply began: the client
/// cannot have the whole reply before then.
#[derive(Debug, Clone, Copy)]
pub struct Served {
    pub request_at: std::time::Instant,
    pub last_write_at: std::time::Instant,
}

impl ReplayServer {
    pub async fn start(replies: Vec<Reply>) -> ReplayServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let hung_up = Arc::new(Notify::new());
        let queue = Arc::new(Mutex::new(replies.into_iter()));
        let (recorded, notify) = (requests.clone(), hung_up.clone());
        let served = Arc::new(Mutex::new(Vec::new()));
        let timeline = served.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let next = queue.lock().unwrap().next();
                let reply = next.unwrap_or_else(|| {
                    Reply::json(
                        500,
                        r#"{"error":{"message":"the test server has no more replies"}}"#,
                    )
                });
                let (recorded, notify, timeline) =
                    (recorded.clone(), notify.clone(), timeline.clone());
                tokio::spawn(async move {
                    if let Some(served) = serve(socket, reply, recorded, notify).await {
                        timeline.lock().unwrap().push(served);
                    }
                });
            }
        });
        ReplayServer {
            url,
            requests,
            hung_up,
            served,
        }
    }

    /// Every reply served so far, by the time its request arrived.
    pub fn timeline(&self) -> Vec<Served> {
        let mut served = self.served.lock().unwrap().clone();
        served.sort_by_key(|s| s.request_at);
        served
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// Resolves once a client has closed a connection the server was holding open.
    pub async fn client_hung_up(&self) {
        self.hung_up.notified().await
    }
}

/// Answers one connection; None if no request arrived.
async fn serve(
    mut socket: TcpStream,
    reply: Reply,
    requests: Arc<Mutex<Vec<Recorded>>>,
    hung_up: Arc<Notify>,
) -> Option<Served> {
    let request = read_request(&mut socket).await?;
    let mut served = Served {
        request_at: std::time::Instant::now(),
        last_write_at: std::time::Instant::now(),
    };
    requests.lock().unwrap().push(request);
    let mut head = format!("HTTP/1.1 {} Test\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("connection: close\r\n\r\n");
    if socket.write_all(head.as_bytes()).await.is_err() {
        return Some(served);
    }
    for part in reply.parts {
        match part {
            Part::Bytes(bytes) => {
                served.last_write_at = std::time::Instant::now();
                if socket.write_all(&bytes).await.is_err() {
                    hung_up.notify_one();
                    return Some(served);
                }
                let _ = socket.flush().await;
            }
            Part::Pause(d) => tokio::time::sleep(d).await,
            Part::Stall => {
                let mut buf = [0u8; 64];
                // The client sends nothing more; a read returns when it closes the connection.
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
                hung_up.notify_one();
                return Some(served);
            }
        }
    }
    let _ = socket.shutdown().await;
    Some(served)
}

async fn read_request(socket: &mut TcpStream) -> Option<Recorded> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let mut lines = head.lines();
    let first = lines.next()?;
    let mut words = first.split_whitespace();
    let method = words.next()?.to_string();
    let path = words.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    let body = serde_json::from_slice(&data[head_end..]).unwrap_or(serde_json::Value::Null);
    Some(Recorded {
        method,
        path,
        headers,
        body,
    })
}
