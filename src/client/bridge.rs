//! An attached front end's engine: the task between its `EngineHandle` and the server. Commands
//! go out with an id and their answers come back to whoever waits; events come in past the
//! tracker; a lost connection is made again with backoff and the subscription resumes from the
//! positions reached, so the front end sees no gap and no duplicate.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::{oneshot, watch};

use super::link::Link;
use super::tracker::Tracker;
use super::{ClientError, Target};
use crate::engine::request::{Issued, Request};
use crate::protocol::{ClientMessage, ServerMessage};
use crate::schedule::change::ScheduleChange;
use crate::scheduler::Views;
use crate::session::command::Command;
use crate::session::event::EngineEvent;

const FIRST_RETRY: Duration = Duration::from_millis(200);
const LONGEST_RETRY: Duration = Duration::from_secs(5);
/// A server gone this long is given up on; the front end is told the engine stopped.
const GIVE_UP_AFTER: Duration = Duration::from_secs(300);

pub struct Bridge {
    pub target: Target,
    pub client: String,
    pub tracker: Tracker,
    pub events: UnboundedSender<EngineEvent>,
    /// The server's latest list of schedules, for the front end's desk.
    pub schedules: watch::Sender<Views>,
    pub pending: HashMap<u64, Pending>,
    pub next_id: u64,
}

/// A command sent and not yet answered.
pub struct Pending {
    label: String,
    reply: Option<oneshot::Sender<Result<(), String>>>,
}

/// What the front end asked of the bridge.
enum Asked {
    Detach,
    Going,
}

impl Bridge {
    /// Runs until the front end leaves. Schedule changes asked while the connection is down
    /// wait for it to come back.
    pub async fn run(
        mut self,
        link: Link,
        mut requests: UnboundedReceiver<Request>,
        asks: UnboundedReceiver<ScheduleChange>,
    ) {
        let mut asks = Some(asks);
        let mut link = Some(link);
        if let Some(current) = link.as_mut()
            && self.tracker.follows_any()
            && !self.tracker.subscribed
            && self.subscribe(current).await.is_err()
        {
            link = None;
        }
        loop {
            let Some(current) = link.as_mut() else {
                self.lost("the connection broke");
                match self.reconnect(&mut requests).await {
                    Some(again) => link = Some(again),
                    None => return,
                }
                continue;
            };
            let went = tokio::select! {
                request = requests.recv() => match self.on_request(current, request).await {
                    Ok(Asked::Going) => false,
                    Ok(Asked::Detach) => {
                        if let Some(l) = link.take() {
                            l.close().await;
                        }
                        return;
                    }
                    Err(_) => true,
                },
                change = next_ask(&mut asks) => match change {
                    Some(change) => self.send_schedule_change(current, change).await.is_err(),
                    // The front end has no use for schedules: stop listening for its asks.
                    None => {
                        asks = None;
                        false
                    }
                },
                message = current.next() => match message {
                    Some(ServerMessage::Bye { reason }) => {
                        tracing::info!("the server said goodbye: {reason}");
                        true
                    }
                    Some(message) => {
                        self.on_message(message);
                        // A hole in the events is filled by subscribing again from before it.
                        self.tracker.must_fill() && self.subscribe(current).await.is_err()
                    }
                    None => true,
                },
            };
            if went {
                link = None;
            }
        }
    }

    async fn on_request(
        &mut self,
        link: &mut Link,
        request: Option<Request>,
    ) -> Result<Asked, ClientError> {
        match request {
            // Every handle is gone: nobody is left to show anything to.
            None => Ok(Asked::Detach),
            Some(Request::Shutdown(done)) => {
                let _ = done.send(());
                Ok(Asked::Detach)
            }
            Some(Request::Command(issued)) => {
                self.send_command(link, issued).await?;
                Ok(Asked::Going)
            }
        }
    }

    async fn send_schedule_change(
        &mut self,
        link: &mut Link,
        change: ScheduleChange,
    ) -> Result<(), ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        self.pending.insert(
            id,
            Pending {
                label: change.label(),
                reply: None,
            },
        );
        link.send(&ClientMessage::Schedule { id, change }).await
    }

    async fn send_command(&mut self, link: &mut Link, issued: Issued) -> Result<(), ClientError> {
        // A session this front end starts or resumes is one it wants to watch.
        let watch = match &issued.command {
            Command::StartSession { id, .. } | Command::ForkSession { id, .. } => Some(id.clone()),
            Command::ResumeSession { session } => Some(session.clone()),
            Command::SetBudget { .. }
            | Command::PauseStep { .. }
            | Command::ResumeStep { .. }
            | Command::PauseSession { .. }
            | Command::UnpauseSession { .. }
            | Command::InterruptStep { .. }
            | Command::InterruptSession { .. }
            | Command::DecideApproval { .. }
            | Command::EditPlan { .. }
            | Command::SetMode { .. } => None,
        };
        if let Some(session) = watch
            && self.tracker.add(&session)
        {
            self.subscribe(link).await?;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.pending.insert(
            id,
            Pending {
                label: issued.command.label(),
                reply: issued.reply,
            },
        );
        link.send(&ClientMessage::Command {
            id,
            command: Box::new(issued.command),
        })
        .await
    }

    async fn subscribe(&mut self, link: &mut Link) -> Result<(), ClientError> {
        link.send(&self.tracker.subscribe()).await?;
        self.tracker.subscribed = true;
        Ok(())
    }

    fn on_message(&mut self, message: ServerMessage) {
        let event = match message {
            ServerMessage::Events { events } => {
                let fresh = self.tracker.fresh(events);
                if fresh.is_empty() {
                    return;
                }
                EngineEvent::Events(fresh)
            }
            ServerMessage::Ack { id } => {
                if let Some(Pending {
                    reply: Some(reply), ..
                }) = self.pending.remove(&id)
                {
                    let _ = reply.send(Ok(()));
                }
                return;
            }
            ServerMessage::Rejected { id, reason } => match self.pending.remove(&id) {
                Some(Pending {
                    reply: Some(reply), ..
                }) => {
                    let _ = reply.send(Err(reason));
                    return;
                }
                Some(Pending { label, reply: None }) => EngineEvent::Rejected {
                    command: label,
                    reason,
                },
                None => return,
            },
            ServerMessage::Mode { mode } => EngineEvent::ModeChanged(mode),
            ServerMessage::Problem { message } => EngineEvent::Problem { message },
            ServerMessage::Error { message } => EngineEvent::Problem {
                message: format!("the server could not use a message: {message}"),
            },
            ServerMessage::CaughtUp { .. } => {
                self.tracker.caught_up();
                return;
            }
            ServerMessage::Schedules { schedules } => {
                self.schedules.send_replace(schedules);
                return;
            }
            // Done: the list that follows shows it.
            ServerMessage::ScheduleAnswer { id, .. } => {
                self.pending.remove(&id);
                return;
            }
            ServerMessage::Welcome { .. } | ServerMessage::Bye { .. } => return,
        };
        let _ = self.events.send(event);
    }

    /// Commands in flight will not be answered: whoever sent them is told so.
    fn lost(&mut self, why: &str) {
        let pending: Vec<Pending> = self.pending.drain().map(|(_, p)| p).collect();
        for p in pending {
            let reason = format!(
                "the connection to the server broke before it answered ({why}); check before \
                 trying again"
            );
            self.refuse(p.label, p.reply, reason);
        }
        self.tracker.subscribed = false;
        // The subscription made on reconnecting starts from the positions, hole or not.
        self.tracker.caught_up();
        let _ = self.events.send(EngineEvent::Link {
            connected: false,
            message: format!("lost the server at {}; reconnecting...", self.target.url),
        });
    }

    /// Connects again, waiting longer after each failure; None when the front end left or the
    /// server is given up on (the front end is told why).
    async fn reconnect(&mut self, requests: &mut UnboundedReceiver<Request>) -> Option<Link> {
        let started = Instant::now();
        let mut wait = FIRST_RETRY;
        loop {
            let slept = tokio::time::sleep(wait);
            tokio::pin!(slept);
            loop {
                tokio::select! {
                    () = &mut slept => break,
                    request = requests.recv() => match request {
                        None => return None,
                        Some(Request::Shutdown(done)) => {
                            let _ = done.send(());
                            return None;
                        }
                        Some(Request::Command(issued)) => self.refuse_offline(issued),
                    },
                }
            }
            match Link::open(&self.target, &self.client).await {
                Ok((mut link, welcome)) => {
                    if self.tracker.follows_any() && self.subscribe(&mut link).await.is_err() {
                        continue;
                    }
                    let _ = self.events.send(EngineEvent::ModeChanged(welcome.mode));
                    let _ = self.events.send(EngineEvent::Link {
                        connected: true,
                        message: format!("reconnected to {}", self.target.url),
                    });
                    return Some(link);
                }
                Err(refused @ ClientError::Refused { .. }) => {
                    self.give_up(refused.to_string(), requests).await;
                    return None;
                }
                Err(e) if started.elapsed() > GIVE_UP_AFTER => {
                    let why = format!("gave up reconnecting after 5 minutes: {e}");
                    self.give_up(why, requests).await;
                    return None;
                }
                Err(e) => tracing::debug!("reconnecting: {e}"),
            }
            wait = (wait * 2).min(LONGEST_RETRY);
        }
    }

    fn refuse_offline(&mut self, issued: Issued) {
        let reason = format!(
            "not connected to the server at {} (reconnecting)",
            self.target.url
        );
        self.refuse(issued.command.label(), issued.reply, reason);
    }

    /// Tells whoever sent a command that it was not carried out: its waiting sender, or the
    /// front end when nobody waits.
    fn refuse(
        &mut self,
        label: String,
        reply: Option<oneshot::Sender<Result<(), String>>>,
        reason: String,
    ) {
        match reply {
            Some(reply) => {
                let _ = reply.send(Err(reason));
            }
            None => {
                let _ = self.events.send(EngineEvent::Rejected {
                    command: label,
                    reason,
                });
            }
        }
    }

    /// Tells the front end the engine is out of reach for good, then stays until it leaves, so
    /// a dashboard keeps showing why rather than vanishing.
    async fn give_up(&mut self, why: String, requests: &mut UnboundedReceiver<Request>) {
        let _ = self.events.send(EngineEvent::Problem {
            message: why.clone(),
        });
        let _ = self.events.send(EngineEvent::ShutDown);
        while let Some(request) = requests.recv().await {
            match request {
                Request::Shutdown(done) => {
                    let _ = done.send(());
                    return;
                }
                Request::Command(issued) => {
                    self.refuse(issued.command.label(), issued.reply, why.clone());
                }
            }
        }
    }
}

/// The next schedule change asked for; None once the front end dropped its desk.
async fn next_ask(asks: &mut Option<UnboundedReceiver<ScheduleChange>>) -> Option<ScheduleChange> {
    match asks {
        Some(asks) => asks.recv().await,
        None => std::future::pending().await,
    }
}
