//! `el-jefe serve` as a real process in a test home, and watchers attached to it through the
//! library's own client.

use el_jefe::scheduler::desk::ScheduleDesk;
use std::sync::Arc;
use std::time::Duration;

use el_jefe::client::{Remote, Target};
use el_jefe::engine::EngineHandle;
use el_jefe::session::event::{EngineEvent, Envelope, Event};
use el_jefe::session::ids::SessionId;
use tokio::sync::mpsc::UnboundedReceiver;

use super::cli::Home;
use super::server_process::ServerProcess;

/// Starts `el-jefe serve` on `port` and waits until it answers `/healthz`.
pub fn serve(home: &Home, port: u16) -> ServerProcess {
    let listen = format!("127.0.0.1:{port}");
    let command = home.command(&["serve", "--listen", &listen]);
    let mut server = ServerProcess::spawn("el-jefe serve", command, tempfile::tempdir().unwrap());
    server.wait_for_ok(port, "/healthz", Duration::from_secs(120));
    server
}

/// The server's owner, as written in the home's server file.
pub fn owner(home: &Home) -> Target {
    let text = std::fs::read_to_string(home.data().join("server.json")).unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    Target {
        url: file["url"].as_str().unwrap().to_string(),
        token: Some(file["token"].as_str().unwrap().to_string()),
    }
}

/// A front end attached to the server, following every session.
pub struct Watcher {
    pub engine: EngineHandle,
    events: UnboundedReceiver<EngineEvent>,
    /// The server's schedules, as the dashboard sees them.
    pub schedules: ScheduleDesk,
    /// Every event received, in order.
    pub log: Vec<Arc<Envelope>>,
    /// Connection changes seen: false when lost, true when back.
    pub links: Vec<bool>,
    /// Received and not read yet.
    pending: std::collections::VecDeque<Arc<Envelope>>,
}

impl Watcher {
    pub async fn attach(target: Target) -> Watcher {
        let mut remote = Remote::connect(target, "el-jefe-tests").await.unwrap();
        let states = remote.snapshot(None).await.unwrap();
        assert!(states.is_empty(), "a fresh server has no sessions");
        let (engine, events, schedules) = remote.attach();
        Watcher {
            engine,
            events,
            schedules,
            log: Vec::new(),
            links: Vec::new(),
            pending: std::collections::VecDeque::new(),
        }
    }

    /// Reads until an event of `session` matches; fails after ten minutes of nothing.
    pub async fn until(
        &mut self,
        session: &SessionId,
        wanted: impl Fn(&Event) -> bool,
    ) -> Arc<Envelope> {
        self.until_any(
            |e| &e.session == session && wanted(&e.event),
            Duration::from_secs(600),
        )
        .await
    }

    /// Reads until an event of any session matches; fails after `quiet` of nothing.
    pub async fn until_any(
        &mut self,
        wanted: impl Fn(&Envelope) -> bool,
        quiet: Duration,
    ) -> Arc<Envelope> {
        loop {
            // What came after the last match, in the same batch, is read first.
            while let Some(envelope) = self.pending.pop_front() {
                self.log.push(envelope.clone());
                if wanted(&envelope) {
                    return envelope;
                }
            }
            let next = tokio::time::timeout(quiet, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("nothing for {quiet:?}; log: {:?}", self.types()));
            match next {
                // Read one by one above: the events after a match stay for the next call
                // (under load batches grow, and dropping their tail read as a gap).
                Some(EngineEvent::Events(batch)) => self.pending.extend(batch),
                Some(EngineEvent::Link { connected, .. }) => self.links.push(connected),
                Some(EngineEvent::Rejected { command, reason }) => {
                    panic!("{command} rejected: {reason}")
                }
                Some(EngineEvent::ModeChanged(_) | EngineEvent::Problem { .. }) => {}
                Some(EngineEvent::ShutDown) | None => panic!("the link ended: {:?}", self.types()),
            }
        }
    }

    fn types(&self) -> Vec<String> {
        self.log
            .iter()
            .map(|e| {
                format!(
                    "{}:{}",
                    e.seq,
                    serde_json::to_value(&e.event).unwrap()["type"]
                )
            })
            .collect()
    }

    /// The sequence numbers received for `session`, each delta of a merged line on its own.
    pub fn seqs(&self, session: &SessionId) -> Vec<u64> {
        self.log
            .iter()
            .filter(|e| &e.session == session)
            .flat_map(|e| (**e).clone().unmerged())
            .map(|e| e.seq)
            .collect()
    }
}
