//! A connection to a server, for commands that ask once (`sessions`, `show`, `pause`) and for
//! front ends that stay (`attach`).

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::mpsc::{self, UnboundedReceiver};

use super::bridge::Bridge;
use super::link::{Link, Welcome};
use super::tracker::Tracker;
use super::{ClientError, Target};
use crate::engine::EngineHandle;
use crate::protocol::{ClientMessage, SCHEDULES, ServerMessage};
use crate::schedule::change::{ChangeAnswer, ScheduleChange};
use crate::scheduler::Views;
use crate::scheduler::desk::ScheduleDesk;
use crate::session::command::Command;
use crate::session::event::{EngineEvent, Envelope};
use crate::session::ids::SessionId;
use crate::session::session_fold::SessionState;

pub struct Remote {
    link: Link,
    welcome: Welcome,
    target: Target,
    client: String,
    tracker: Tracker,
    /// Events that arrived while a command waited for its answer, for `attach`.
    backlog: Vec<Arc<Envelope>>,
    next_id: u64,
    /// The schedules, once a snapshot has brought them.
    schedules: Option<Views>,
}

impl Remote {
    /// Connects and says hello; `client` names this program to the server's log.
    pub async fn connect(target: Target, client: &str) -> Result<Remote, ClientError> {
        let (link, welcome) = Link::open(&target, client).await?;
        Ok(Remote {
            link,
            welcome,
            target,
            client: client.to_string(),
            tracker: Tracker::none(),
            backlog: Vec::new(),
            next_id: 1,
            schedules: None,
        })
    }

    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    pub fn url(&self) -> &str {
        &self.target.url
    }

    /// Follows these sessions (None: all of them) and folds everything they hold up to now.
    /// Newest first, as `el-jefe sessions` lists them.
    pub async fn snapshot(
        &mut self,
        sessions: Option<Vec<SessionId>>,
    ) -> Result<Vec<SessionState>, ClientError> {
        let mut states: BTreeMap<SessionId, SessionState> = BTreeMap::new();
        self.catch_up(sessions, |envelope| {
            states
                .entry(envelope.session.clone())
                .or_insert_with(|| SessionState::new(envelope.session.clone()))
                .apply(&envelope);
        })
        .await?;
        Ok(states.into_values().rev().collect())
    }

    /// Every event of one session so far, one by one and in order: what replay plays.
    pub async fn history(&mut self, id: &SessionId) -> Result<Vec<Envelope>, ClientError> {
        let mut events = Vec::new();
        self.catch_up(Some(vec![id.clone()]), |envelope| {
            events.push(Arc::unwrap_or_clone(envelope));
        })
        .await?;
        Ok(events)
    }

    /// Follows these sessions (None: all of them) and hands over each event they hold up to
    /// now, until the server says the client has caught up.
    async fn catch_up(
        &mut self,
        sessions: Option<Vec<SessionId>>,
        mut each: impl FnMut(Arc<Envelope>),
    ) -> Result<(), ClientError> {
        self.tracker.follow(sessions);
        self.link.send(&self.tracker.subscribe()).await?;
        self.tracker.subscribed = true;
        loop {
            match self.next().await? {
                ServerMessage::Events { events } => {
                    for envelope in self.tracker.fresh(events) {
                        each(envelope);
                    }
                }
                ServerMessage::CaughtUp { .. } => break,
                ServerMessage::Schedules { schedules } => self.schedules = Some(schedules),
                ServerMessage::Error { message } => return Err(ClientError::Rejected(message)),
                ServerMessage::Welcome { .. }
                | ServerMessage::Ack { .. }
                | ServerMessage::Rejected { .. }
                | ServerMessage::ScheduleAnswer { .. }
                | ServerMessage::Mode { .. }
                | ServerMessage::Problem { .. }
                | ServerMessage::Bye { .. } => {}
            }
        }
        Ok(())
    }

    /// Issues one command and waits for its answer.
    pub async fn command(&mut self, command: Command) -> Result<(), ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        self.ask(
            id,
            &ClientMessage::Command {
                id,
                command: Box::new(command),
            },
        )
        .await
        .map(|_| ())
    }

    /// Whether the server's welcome offered this capability.
    pub fn offers(&self, capability: &str) -> bool {
        self.welcome.capabilities.iter().any(|c| c == capability)
    }

    /// Asks for a change to the schedules and waits for what came of it.
    pub async fn change_schedule(
        &mut self,
        change: ScheduleChange,
    ) -> Result<ChangeAnswer, ClientError> {
        if !self.offers(SCHEDULES) {
            return Err(ClientError::Rejected(format!(
                "the server at {} runs no schedules (it is an older el-jefe)",
                self.target.url
            )));
        }
        let id = self.next_id;
        self.next_id += 1;
        self.ask(id, &ClientMessage::Schedule { id, change })
            .await?
            .ok_or_else(|| {
                ClientError::Broken("the server answered a schedule change with a bare ack".into())
            })
    }

    /// Sends a request numbered `id` and waits for its answer: `ack` (None) or
    /// `schedule_answer`; a rejection is an error. Events that come meanwhile wait in the
    /// backlog for `attach`; schedules are kept.
    async fn ask(
        &mut self,
        id: u64,
        request: &ClientMessage,
    ) -> Result<Option<ChangeAnswer>, ClientError> {
        self.link.send(request).await?;
        loop {
            match self.next().await? {
                ServerMessage::Ack { id: answered } if answered == id => return Ok(None),
                ServerMessage::ScheduleAnswer {
                    id: answered,
                    answer,
                } if answered == id => return Ok(Some(answer)),
                ServerMessage::Rejected {
                    id: answered,
                    reason,
                } if answered == id => return Err(ClientError::Rejected(reason)),
                ServerMessage::Events { events } => {
                    let fresh = self.tracker.fresh(events);
                    self.backlog.extend(fresh);
                }
                ServerMessage::Schedules { schedules } => self.schedules = Some(schedules),
                ServerMessage::Error { message } => return Err(ClientError::Rejected(message)),
                ServerMessage::Welcome { .. }
                | ServerMessage::CaughtUp { .. }
                | ServerMessage::Ack { .. }
                | ServerMessage::Rejected { .. }
                | ServerMessage::ScheduleAnswer { .. }
                | ServerMessage::Mode { .. }
                | ServerMessage::Problem { .. }
                | ServerMessage::Bye { .. } => {}
            }
        }
    }

    /// The schedules, as of the last snapshot (None from a server that runs none).
    pub fn schedules(&self) -> Option<&Views> {
        self.schedules.as_ref()
    }

    /// The next message; a closed connection or a goodbye is an error.
    async fn next(&mut self) -> Result<ServerMessage, ClientError> {
        match self.link.next().await {
            Some(ServerMessage::Bye { reason }) => Err(ClientError::Broken(reason)),
            Some(message) => Ok(message),
            None => Err(ClientError::Broken(
                "the server closed the connection".into(),
            )),
        }
    }

    /// Becomes a front end's engine: commands go to the server, its events come back, and a
    /// lost connection is made again by itself, resuming from where it was. Dropping the
    /// handle or asking it to shut down only detaches: the server's sessions go on.
    pub fn attach(self) -> (EngineHandle, UnboundedReceiver<EngineEvent>, ScheduleDesk) {
        let (requests_tx, requests) = mpsc::unbounded_channel();
        let (events_tx, events) = mpsc::unbounded_channel();
        if !self.backlog.is_empty() {
            let _ = events_tx.send(EngineEvent::Events(self.backlog));
        }
        let (desk, line) = ScheduleDesk::new();
        if let Some(schedules) = self.schedules {
            line.views.send_replace(schedules);
        }
        let bridge = Bridge {
            target: self.target,
            client: self.client,
            tracker: self.tracker,
            events: events_tx,
            schedules: line.views,
            pending: Default::default(),
            next_id: self.next_id,
        };
        tokio::spawn(bridge.run(self.link, requests, line.asks));
        (EngineHandle::new(requests_tx), events, desk)
    }
}
