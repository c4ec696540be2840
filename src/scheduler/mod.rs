//! Schedules and triggers at work inside `el-jefe serve`: one task holds the schedules (folded
//! from their journal), sleeps until the next due time, watches folders, takes webhook calls,
//! and starts sessions through the engine like any other client, each firing, queueing and
//! skip written to the journal first. Front ends see the schedules through a watch channel.

mod actor;
mod clock;
pub mod desk;
mod watch;
pub mod webhook;

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch as latest};

use crate::engine::EngineHandle;
use crate::schedule::book::RunOutcome;
use crate::schedule::change::{ChangeAnswer, Fired, ScheduleChange, ScheduleView};
use crate::session::event::{Envelope, Event};
use crate::session::ids::SessionId;
use crate::session::provider_choice::ProviderChoice;
use crate::store::Store;
use crate::store::schedules::{HookSecrets, ScheduleJournal};
pub use clock::WallClock;

pub struct SchedulerSetup {
    pub journal: PathBuf,
    pub hook_secrets: PathBuf,
    pub engine: EngineHandle,
    pub store: Store,
    pub clock: WallClock,
    /// Whether the engine could start a session on a schedule's providers: a schedule whose
    /// `--provider` or `--agent-provider` every run would fail on is refused when added.
    pub check_providers: ProviderCheck,
}

pub type ProviderCheck = Arc<dyn Fn(&ProviderChoice) -> Result<(), String> + Send + Sync>;

/// Every schedule as front ends show it, newest state.
pub type Views = Arc<Vec<ScheduleView>>;

/// The scheduler's side for the server: changes, webhook calls, session endings, and the views.
#[derive(Clone)]
pub struct Scheduler {
    to_actor: mpsc::UnboundedSender<Request>,
    views: latest::Receiver<Views>,
}

/// What a webhook call came to; the server answers with the matching HTTP status.
#[derive(Debug, Clone, PartialEq)]
pub enum HookAnswer {
    Fired(Fired),
    /// No webhook schedule of that name.
    NotFound,
    /// Missing or wrong `X-Hub-Signature-256`.
    BadSignature,
    /// A body that is not JSON.
    BadBody(String),
    /// The scheduler has stopped, or the journal cannot be written.
    Unavailable(String),
}

pub(crate) enum Request {
    Change {
        change: ScheduleChange,
        by: String,
        reply: oneshot::Sender<Result<ChangeAnswer, String>>,
    },
    Webhook {
        schedule: String,
        signature: Option<String>,
        body: Bytes,
        reply: oneshot::Sender<HookAnswer>,
    },
    FileSeen {
        schedule: String,
        path: PathBuf,
    },
    SessionEnded {
        session: SessionId,
        outcome: RunOutcome,
    },
    /// The engine would not start a session a firing made.
    StartRefused {
        session: SessionId,
        reason: String,
    },
}

impl Scheduler {
    /// Reads the journal (lines that cannot be read are warned about and skipped), settles runs
    /// that ended while the server was down, and starts the task. Must run inside a tokio
    /// runtime, after the engine's start-up recovery.
    pub fn start(setup: SchedulerSetup) -> Result<Scheduler, String> {
        let (journal, read) = ScheduleJournal::open(&setup.journal)
            .map_err(|e| format!("cannot open {}: {e}", setup.journal.display()))?;
        for warning in &read.warnings {
            tracing::warn!("{warning}");
        }
        let secrets = HookSecrets::load(&setup.hook_secrets)
            .map_err(|e| format!("cannot read {}: {e}", setup.hook_secrets.display()))?;
        let (to_actor, requests) = mpsc::unbounded_channel();
        let (views_tx, views) = latest::channel(Arc::new(Vec::new()));
        let actor = actor::Actor::new(actor::Parts {
            records: read.records,
            journal,
            secrets,
            engine: setup.engine,
            store: setup.store,
            clock: setup.clock,
            check_providers: setup.check_providers,
            views: views_tx,
            to_self: to_actor.clone(),
        });
        tokio::spawn(actor.run(requests));
        Ok(Scheduler { to_actor, views })
    }

    /// Carries out a person's change; the answer, or why not.
    pub async fn change(&self, change: ScheduleChange, by: &str) -> Result<ChangeAnswer, String> {
        let (reply, answer) = oneshot::channel();
        self.to_actor
            .send(Request::Change {
                change,
                by: by.to_string(),
                reply,
            })
            .map_err(|_| "the scheduler has stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the scheduler stopped before answering".to_string())?
    }

    /// A call to `/hooks/NAME`.
    pub async fn webhook(
        &self,
        schedule: &str,
        signature: Option<String>,
        body: Bytes,
    ) -> HookAnswer {
        let (reply, answer) = oneshot::channel();
        let sent = self.to_actor.send(Request::Webhook {
            schedule: schedule.to_string(),
            signature,
            body,
            reply,
        });
        if sent.is_err() {
            return HookAnswer::Unavailable("the scheduler has stopped".into());
        }
        answer
            .await
            .unwrap_or_else(|_| HookAnswer::Unavailable("the scheduler stopped".into()))
    }

    /// Passes on the end of a session (the server calls it for every event it fans out).
    pub fn note(&self, envelope: &Envelope) {
        let event = &envelope.event;
        let outcome = if let Event::SessionFailed { error } = event {
            RunOutcome::Failed {
                error: error.clone(),
            }
        } else if matches!(event, Event::SessionCompleted) {
            RunOutcome::Completed
        } else if matches!(event, Event::SessionInterrupted { .. }) {
            RunOutcome::Interrupted
        } else {
            return;
        };
        let _ = self.to_actor.send(Request::SessionEnded {
            session: envelope.session.clone(),
            outcome,
        });
    }

    /// The schedules now, and a way to wait for the next change.
    pub fn views(&self) -> latest::Receiver<Views> {
        self.views.clone()
    }
}
