//! The server the service benchmarks measure, in a child process of its own (so its CPU time
//! and memory are its own): the real engine behind the real server, on a scripted provider.
//! A bench's `main` hands `--serve` to [`child`]; [`ServerChild::start`] runs it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use el_jefe::engine::start_engine;
use el_jefe::protocol::{Role, ServerMessage};
use el_jefe::server::people::People;
use el_jefe::server::web_logins::WebLogins;
use el_jefe::server::{ServerSetup, Transport, serve};
use el_jefe::session::call::CallMode;
use el_jefe::session::ids::{SessionId, StepId};
use el_jefe::session::plan::{Plan, StepSpec};
use el_jefe::store::Store;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::engine_settings::engine_settings;
use crate::scripted::{Script, ScriptedProvider};

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub fn plan(steps: usize) -> Plan {
    Plan {
        steps: (0..steps)
            .map(|i| StepSpec {
                id: StepId::new(i.to_string()),
                title: format!("step {i}"),
                agent: "researcher".into(),
                task: format!("task {i}"),
                depends_on: vec![],
            })
            .collect(),
    }
}

/// The child: an engine on a scripted provider (`delay_ms` between pieces, `chunks` per step)
/// behind the real server. Prints "PORT TOKEN LOGIN_CODE", then serves until its stdin closes.
pub fn child(delay_ms: u64, chunks: usize, one_by_one: bool) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sessions")).unwrap();
        let mut script = Script::chunks(chunks, Duration::from_millis(delay_ms));
        script.yield_between = one_by_one;
        let provider = Arc::new(ScriptedProvider::unrecorded(move |_| script.clone()));
        let settings = engine_settings(dir.path().join("ws"), 50);
        let (engine, events) = start_engine(settings, provider, store.clone());
        let mut people = People::load(&dir.path().join("people.json")).unwrap();
        let token = people.add("bench", Role::Operator).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut web_logins = WebLogins::load(&dir.path().join("web-logins.json"));
        let bench_person = people.who(&token).cloned().unwrap();
        let login_code = web_logins.new_link(&bench_person).unwrap();
        let setup = ServerSetup {
            engine,
            events,
            store,
            people,
            mode: CallMode::Streaming,
            web_logins,
            roles: vec!["researcher".into()],
            stalled_send: el_jefe::server::STALLED_SEND,
            scheduler: None,
            buffered_turns: el_jefe::server::BUFFERED_TURNS,
        };
        let stop = async {
            // The parent closes our stdin when it is done.
            tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                while std::io::stdin().read_line(&mut line).unwrap_or(0) > 0 {}
            })
            .await
            .unwrap();
        };
        println!("{port} {token} {login_code}");
        std::io::stdout().flush().unwrap();
        serve(listener, Transport::Plain, setup, stop)
            .await
            .unwrap();
    });
}

pub struct ServerChild {
    child: Child,
    pub port: u16,
    pub token: String,
    /// The code of a one-time sign-in link to the web dashboard: `/?login=CODE`.
    pub login_code: String,
}

impl ServerChild {
    pub fn start(delay_ms: u64, chunks: usize, one_by_one: bool) -> ServerChild {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--serve",
                &delay_ms.to_string(),
                &chunks.to_string(),
                &one_by_one.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let mut words = line.split_whitespace();
        let port = words.next().unwrap().parse().unwrap();
        let token = words.next().unwrap().to_string();
        let login_code = words.next().unwrap().to_string();
        ServerChild {
            child,
            port,
            token,
            login_code,
        }
    }

    /// User plus system CPU time so far.
    pub fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        // utime and stime, fields 14 and 15 of the whole line, in clock ticks (100 per second).
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        Duration::from_millis(ticks * 10)
    }

    pub fn rss_kib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

pub async fn connect(port: u16, token: &str) -> Socket {
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/api/v1/ws"))
            .await
            .unwrap();
    let hello = serde_json::json!({"type": "hello", "protocol": {"major": 1, "minor": 0},
        "client": "bench", "token": token});
    socket.send(Message::text(hello.to_string())).await.unwrap();
    socket
        .send(Message::text(r#"{"type":"subscribe"}"#))
        .await
        .unwrap();
    // Welcome, then caught_up (a fresh server has no session yet).
    loop {
        if let ServerMessage::CaughtUp { .. } = next(&mut socket).await {
            return socket;
        }
    }
}

pub async fn next(socket: &mut Socket) -> ServerMessage {
    loop {
        match socket.next().await.unwrap().unwrap() {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Close(c) => panic!("closed: {c:?}"),
            _ => {}
        }
    }
}

pub async fn start_session(socket: &mut Socket, steps: usize) -> SessionId {
    let now = chrono::Local::now();
    let id = SessionId::generate(now);
    let command = serde_json::json!({"type": "command", "id": 1, "command": {
        "command": "start_session", "id": id, "goal": "bench", "created_at": now,
        "plan": plan(steps)}});
    socket
        .send(Message::text(command.to_string()))
        .await
        .unwrap();
    id
}
