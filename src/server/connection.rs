//! One client's connection: hello, then its subscription and its commands, for as long as it
//! stays. Events go out in the order of each session's journal, from the client's position on,
//! with no gap and no duplicate (see docs/PROTOCOL.md).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc, oneshot, watch as latest};

use super::Shared;
use super::client_counts::Connected;
use super::cursor::{Admit, Cursor};
use super::hub::{News, Turn};
use super::people::Person;
use crate::engine::request::Issued;
use crate::protocol::{
    ANALYTICS, ClientMessage, PROTOCOL, PROVIDER_CHOICE, Position, SCHEDULES, ServerMessage,
};
use crate::schedule::change::ScheduleChange;
use crate::scheduler::Views;
use crate::session::event::Envelope;
use crate::session::ids::SessionId;
use crate::store::{events_after, paths};

/// Events per message when catching up from a journal.
const CATCH_UP_BATCH: usize = 2000;
/// How long a client has to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// A client that falls this many times behind within `LAG_WINDOW` is let go.
const MAX_LAGS: usize = 5;
const LAG_WINDOW: Duration = Duration::from_secs(60);
/// How often an open connection checks that its person's token still stands.
const REVOCATION_CHECK: Duration = Duration::from_secs(2);

type Sink = SplitSink<WebSocket, Message>;

/// The connection is over: the socket closed or broke, or the client stopped reading.
enum Gone {
    Broke,
    Stalled,
}

/// `browser`: the person a signed-in browser's cookie stands for, who may say hello with no
/// token.
pub async fn serve(socket: WebSocket, shared: Arc<Shared>, peer: String, browser: Option<Person>) {
    let (mut sink, mut stream) = socket.split();
    let person = match hello(&mut stream, &shared, &peer, browser).await {
        Ok(person) => person,
        Err(reason) => {
            let _ = send(
                &mut sink,
                &ServerMessage::Bye { reason },
                shared.stalled_send,
            )
            .await;
            let _ = sink.close().await;
            return;
        }
    };
    tracing::info!(user = %person.name, %peer, "client connected");
    let _connected = Connected::new(&shared.clients);
    let welcome = ServerMessage::Welcome {
        protocol: PROTOCOL,
        server: format!("el-jefe {}", env!("CARGO_PKG_VERSION")),
        user: person.name.clone(),
        role: person.role,
        capabilities: capabilities(&shared),
        mode: shared.hub.mode(),
    };
    if send(&mut sink, &welcome, shared.stalled_send)
        .await
        .is_err()
    {
        return;
    }
    let mut connection = Connection {
        shared,
        person,
        sink,
        subscription: None,
        schedules: None,
        lags: Vec::new(),
    };
    let end = connection.run(&mut stream).await;
    tracing::info!(user = %connection.person.name, %peer, "client left: {end}");
}

/// What this server offers beyond the protocol's core, for the welcome.
fn capabilities(shared: &Shared) -> Vec<String> {
    let mut offered = vec![PROVIDER_CHOICE.to_string(), ANALYTICS.to_string()];
    if shared.scheduler.is_some() {
        offered.push(SCHEDULES.to_string());
    }
    offered
}

/// Reads the first message, which must be an acceptable hello.
async fn hello(
    stream: &mut SplitStream<WebSocket>,
    shared: &Shared,
    peer: &str,
    browser: Option<Person>,
) -> Result<Person, String> {
    let first = tokio::time::timeout(HELLO_TIMEOUT, next_text(stream))
        .await
        .map_err(|_| "no hello within 10 s".to_string())?
        .ok_or_else(|| "the connection closed before its hello".to_string())?;
    let message: ClientMessage = serde_json::from_str(&first)
        .map_err(|e| format!("the first message must be a hello: {e}"))?;
    let ClientMessage::Hello {
        protocol, token, ..
    } = message
    else {
        return Err("the first message must be a hello".into());
    };
    if !PROTOCOL.compatible(protocol) {
        return Err(format!(
            "protocol {protocol} is not spoken here (this server speaks {PROTOCOL})"
        ));
    }
    shared.door.check(peer).await;
    let person = match token {
        Some(t) => shared.people.write().ok().and_then(|mut people| {
            people.refresh();
            people.who(&t).cloned()
        }),
        None => browser,
    };
    match person {
        Some(person) => {
            shared.door.passed(peer);
            Ok(person)
        }
        None => {
            shared.door.failed(peer);
            tracing::warn!(%peer, "refused a connection: unknown or revoked token");
            Err("unknown or revoked token".into())
        }
    }
}

struct Subscription {
    cursor: Cursor,
    news: broadcast::Receiver<News>,
}

struct Connection {
    shared: Arc<Shared>,
    person: Person,
    sink: Sink,
    subscription: Option<Subscription>,
    /// The schedules as they change, once subscribed (on a server that runs them).
    schedules: Option<latest::Receiver<Views>>,
    /// When the client last fell behind the broadcast.
    lags: Vec<Instant>,
}

impl Connection {
    async fn run(&mut self, stream: &mut SplitStream<WebSocket>) -> String {
        let (answers_tx, mut answers) = mpsc::unbounded_channel::<ServerMessage>();
        let mut revocation = tokio::time::interval(REVOCATION_CHECK);
        revocation.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let step = tokio::select! {
                _ = revocation.tick() => Ok((!self.still_allowed())
                    .then(|| format!("the token of {} was revoked", self.person.name))),
                text = next_text(stream) => match text {
                    Some(text) => self.on_message(&text, &answers_tx).await,
                    None => return "closed by the client".into(),
                },
                news = next_news(&mut self.subscription) => self.on_news(news).await,
                Some(schedules) = next_views(&mut self.schedules) => self
                    .send(&ServerMessage::Schedules { schedules })
                    .await
                    .map(|()| None),
                Some(answer) = answers.recv() => self.send(&answer).await.map(|()| None),
            };
            match step {
                Ok(Some(reason)) => {
                    let _ = self
                        .send(&ServerMessage::Bye {
                            reason: reason.clone(),
                        })
                        .await;
                    let _ = self.sink.close().await;
                    return reason;
                }
                Ok(None) => {}
                Err(Gone::Broke) => return "the connection broke".into(),
                Err(Gone::Stalled) => {
                    self.shared.clients.dropped_slow();
                    return format!(
                        "not reading: a message waited {:?} to be sent",
                        self.shared.stalled_send
                    );
                }
            }
        }
    }

    /// One message from the client. Ok(Some(reason)) ends the connection.
    async fn on_message(
        &mut self,
        text: &str,
        answers: &mpsc::UnboundedSender<ServerMessage>,
    ) -> Result<Option<String>, Gone> {
        let message = match serde_json::from_str::<ClientMessage>(text) {
            Ok(message) => message,
            Err(e) => {
                self.send(&ServerMessage::Error {
                    message: format!("not a message of protocol {PROTOCOL}: {e}"),
                })
                .await?;
                return Ok(None);
            }
        };
        match message {
            ClientMessage::Hello { .. } => {
                self.send(&ServerMessage::Error {
                    message: "hello was already said".into(),
                })
                .await?;
            }
            ClientMessage::Subscribe { sessions, from } => self.subscribe(sessions, &from).await?,
            ClientMessage::Schedule { id, change } => {
                return self.on_schedule_change(id, change, answers).await;
            }
            ClientMessage::Command { id, command } => {
                if !self.still_allowed() {
                    return Ok(Some(format!(
                        "the token of {} was revoked",
                        self.person.name
                    )));
                }
                if !self.person.role.may(&command) {
                    self.send(&ServerMessage::Rejected {
                        id,
                        reason: format!(
                            "{} is a {}: {} needs an operator",
                            self.person.name,
                            self.person.role,
                            command.label()
                        ),
                    })
                    .await?;
                    return Ok(None);
                }
                let (reply, answer) = oneshot::channel();
                let issued = Issued {
                    command: *command,
                    by: Some(self.person.name.clone()),
                    reply: Some(reply),
                };
                if self.shared.engine.issue(issued).is_err() {
                    return Ok(Some("the engine has stopped".into()));
                }
                let answers = answers.clone();
                tokio::spawn(async move {
                    let message = match answer.await {
                        Ok(Ok(())) => ServerMessage::Ack { id },
                        Ok(Err(reason)) => ServerMessage::Rejected { id, reason },
                        Err(_) => ServerMessage::Rejected {
                            id,
                            reason: "the engine stopped before answering".into(),
                        },
                    };
                    let _ = answers.send(message);
                });
            }
        }
        Ok(None)
    }

    /// A change to the schedules, answered on `answers` when the scheduler has carried it out.
    async fn on_schedule_change(
        &mut self,
        id: u64,
        change: ScheduleChange,
        answers: &mpsc::UnboundedSender<ServerMessage>,
    ) -> Result<Option<String>, Gone> {
        if !self.still_allowed() {
            return Ok(Some(format!(
                "the token of {} was revoked",
                self.person.name
            )));
        }
        let refusal = match &self.shared.scheduler {
            None => Some("this server runs no schedules".to_string()),
            Some(_) if !self.person.role.may_change_schedules(&change) => Some(format!(
                "{} is a {}: to {} needs an operator",
                self.person.name,
                self.person.role,
                change.label()
            )),
            Some(_) => None,
        };
        if let Some(reason) = refusal {
            self.send(&ServerMessage::Rejected { id, reason }).await?;
            return Ok(None);
        }
        let Some(scheduler) = self.shared.scheduler.clone() else {
            return Ok(None);
        };
        let by = self.person.name.clone();
        let answers = answers.clone();
        tokio::spawn(async move {
            let message = match scheduler.change(change, &by).await {
                Ok(answer) => ServerMessage::ScheduleAnswer { id, answer },
                Err(reason) => ServerMessage::Rejected { id, reason },
            };
            let _ = answers.send(message);
        });
        Ok(None)
    }

    /// Whether the person's token still stands (it may have been revoked since the hello).
    fn still_allowed(&self) -> bool {
        let Ok(mut people) = self.shared.people.write() else {
            return false;
        };
        people.refresh();
        people.current(&self.person).is_some()
    }

    /// Everything after the client's positions from the journals, then live.
    async fn subscribe(
        &mut self,
        sessions: Option<Vec<SessionId>>,
        from: &[Position],
    ) -> Result<(), Gone> {
        // Listening starts before reading the journals, so nothing falls between the two; what
        // comes twice is recognised by its number.
        let news = self.shared.hub.subscribe();
        let cursor = Cursor::new(sessions, from);
        self.subscription = Some(Subscription { cursor, news });
        self.catch_up_all().await?;
        if let Some(scheduler) = &self.shared.scheduler {
            let mut views = scheduler.views();
            let schedules = views.borrow_and_update().clone();
            self.schedules = Some(views);
            self.send(&ServerMessage::Schedules { schedules }).await?;
        }
        let positions = self.cursor().map(Cursor::positions).unwrap_or_default();
        self.send(&ServerMessage::CaughtUp { positions }).await
    }

    fn cursor(&self) -> Option<&Cursor> {
        self.subscription.as_ref().map(|s| &s.cursor)
    }

    /// Every chosen session, from the journals, after where the client is.
    async fn catch_up_all(&mut self) -> Result<(), Gone> {
        let Some(cursor) = self.cursor() else {
            return Ok(());
        };
        let mut sessions: Vec<SessionId> = self
            .shared
            .store
            .ids()
            .into_iter()
            .filter(|id| cursor.wants(id))
            .collect();
        for known in cursor.positions() {
            if !sessions.contains(&known.session) {
                sessions.push(known.session);
            }
        }
        for session in sessions {
            self.catch_up(&session).await?;
        }
        Ok(())
    }

    /// One session's events after the client's position, read from its journal.
    async fn catch_up(&mut self, session: &SessionId) -> Result<(), Gone> {
        let Some(after) = self.cursor().map(|c| c.position(session)) else {
            return Ok(());
        };
        let path = paths::journal_path(self.shared.store.root(), session);
        let read = tokio::task::spawn_blocking(move || events_after(&path, after)).await;
        let events = match read {
            Ok(Ok(events)) => events,
            // A session with no journal yet has nothing to catch up.
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Ok(Err(e)) => {
                return self
                    .send(&ServerMessage::Problem {
                        message: format!("cannot read the journal of {session}: {e}"),
                    })
                    .await;
            }
            Err(e) => {
                tracing::error!("reading the journal of {session}: {e}");
                return Ok(());
            }
        };
        for batch in events.chunks(CATCH_UP_BATCH) {
            if let Some(s) = &mut self.subscription {
                for e in batch {
                    s.cursor.sent(e);
                }
            }
            let batch: Vec<Arc<Envelope>> = batch.iter().cloned().map(Arc::new).collect();
            self.send_events(batch).await?;
        }
        Ok(())
    }

    async fn on_news(&mut self, news: Result<News, RecvError>) -> Result<Option<String>, Gone> {
        match news {
            Ok(News::Events(turn)) => self.on_turn(&turn).await.map(|()| None),
            Ok(News::Mode(mode)) => self
                .send(&ServerMessage::Mode { mode })
                .await
                .map(|()| None),
            Ok(News::Problem(message)) => self
                .send(&ServerMessage::Problem { message })
                .await
                .map(|()| None),
            Ok(News::ShutDown) | Err(RecvError::Closed) => {
                Ok(Some("the server is shutting down".into()))
            }
            Err(RecvError::Lagged(missed)) => {
                let now = Instant::now();
                self.lags.retain(|at| now.duration_since(*at) < LAG_WINDOW);
                self.lags.push(now);
                if self.lags.len() > MAX_LAGS {
                    self.shared.clients.dropped_slow();
                    return Ok(Some(format!(
                        "too slow: fell behind {} times in a minute; subscribe again from your \
                         last position",
                        self.lags.len()
                    )));
                }
                tracing::debug!(user = %self.person.name, missed, "client behind; catching up");
                self.shared.clients.resynced();
                self.catch_up_all().await.map(|()| None)
            }
        }
    }

    /// A turn the client takes whole (the usual case) goes out as the message every such
    /// client shares, made once; otherwise event by event.
    async fn on_turn(&mut self, turn: &Turn) -> Result<(), Gone> {
        let Some(s) = &mut self.subscription else {
            return Ok(());
        };
        // Each event must be the next of its session; a turn touches few sessions.
        let mut next: Vec<(&SessionId, u64)> = Vec::new();
        let whole = turn.events.iter().all(|e| {
            if !s.cursor.wants(&e.session) {
                return false;
            }
            let at = match next.iter().position(|(id, _)| *id == &e.session) {
                Some(i) => i,
                None => {
                    next.push((&e.session, s.cursor.position(&e.session)));
                    next.len() - 1
                }
            };
            let Some((_, last)) = next.get_mut(at) else {
                return false;
            };
            let follows = e.seq == *last + 1;
            *last = e.seq;
            follows
        });
        if !whole {
            return self.on_events(&turn.events).await;
        }
        for e in &turn.events {
            s.cursor.sent(e);
        }
        send_text(&mut self.sink, turn.message(), self.shared.stalled_send).await
    }

    /// A turn's events: those the client lacks go out, a gap is filled from the journal first.
    async fn on_events(&mut self, batch: &[Arc<Envelope>]) -> Result<(), Gone> {
        let mut out = Vec::with_capacity(batch.len());
        for envelope in batch {
            let Some(cursor) = self.cursor() else {
                return Ok(());
            };
            match cursor.admit(envelope) {
                Admit::Send => {
                    if let Some(s) = &mut self.subscription {
                        s.cursor.sent(envelope);
                    }
                    out.push(envelope.clone());
                }
                Admit::Skip => {}
                Admit::Gap { .. } => {
                    self.send_events(std::mem::take(&mut out)).await?;
                    // The journal has this event too: it is written before it is broadcast.
                    self.catch_up(&envelope.session).await?;
                }
            }
        }
        self.send_events(out).await
    }

    /// Sends events the cursor has already recorded as sent.
    async fn send_events(&mut self, events: Vec<Arc<Envelope>>) -> Result<(), Gone> {
        if events.is_empty() {
            return Ok(());
        }
        self.send(&ServerMessage::Events { events }).await
    }

    async fn send(&mut self, message: &ServerMessage) -> Result<(), Gone> {
        send(&mut self.sink, message, self.shared.stalled_send).await
    }
}

async fn send(sink: &mut Sink, message: &ServerMessage, stalled: Duration) -> Result<(), Gone> {
    let text = serde_json::to_string(message).map_err(|_| Gone::Broke)?;
    send_text(sink, text.into(), stalled).await
}

/// A message that cannot be sent within `stalled` means the client stopped reading.
async fn send_text(sink: &mut Sink, text: Utf8Bytes, stalled: Duration) -> Result<(), Gone> {
    match tokio::time::timeout(stalled, sink.send(Message::Text(text))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Gone::Broke),
        Err(_) => Err(Gone::Stalled),
    }
}

/// The next text frame; None when the connection is over. Pings are answered by axum; binary
/// frames are ignored.
async fn next_text(stream: &mut SplitStream<WebSocket>) -> Option<String> {
    loop {
        match stream.next().await? {
            Ok(Message::Text(text)) => return Some(text.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(Message::Binary(_) | Message::Ping(_) | Message::Pong(_)) => {}
        }
    }
}

/// The schedules after their next change; never ready before subscribing.
async fn next_views(views: &mut Option<latest::Receiver<Views>>) -> Option<Views> {
    let Some(views) = views else {
        return std::future::pending().await;
    };
    if views.changed().await.is_err() {
        // The scheduler is gone: nothing more will change.
        return std::future::pending().await;
    }
    Some(views.borrow_and_update().clone())
}

/// News for a subscribed connection; never ready for one that has not subscribed.
async fn next_news(subscription: &mut Option<Subscription>) -> Result<News, RecvError> {
    match subscription {
        Some(s) => s.news.recv().await,
        None => std::future::pending().await,
    }
}
