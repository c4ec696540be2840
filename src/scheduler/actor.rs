//! The scheduler's task: the schedules' state, their due times, and every firing.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Local, Utc};
use tokio::sync::{mpsc, oneshot, watch as latest};

use super::watch::{FolderWatch, watch_folder};
use super::{HookAnswer, ProviderCheck, Request, Views, WallClock, webhook};
use crate::engine::EngineHandle;
use crate::engine::request::Issued;
use crate::schedule::book::{
    DueAction, RunOutcome, ScheduleBook, ScheduleEvent, ScheduleRecord, ScheduleState, due_actions,
};
use crate::schedule::change::{ChangeAnswer, Fired, HookCreated, ScheduleChange, ScheduleView};
use crate::schedule::policy::{Decision, Situation, SkipReason, decide};
use crate::schedule::spec::{RunError, ScheduleSpec};
use crate::schedule::trigger::Trigger;
use crate::schedule::vars::{self, Vars};
use crate::session::command::Command;
use crate::session::ids::SessionId;
use crate::session::origin::Origin;
use crate::session::status::SessionStatus;
use crate::store::Store;
use crate::store::schedules::{HookSecrets, ScheduleJournal};

/// A due time is on time when the scheduler wakes within this of it; older ones were missed.
const LATE_OK: Duration = Duration::from_secs(60);
/// The longest sleep: the clock is read again at least this often, so a machine that slept or
/// a clock that was set is noticed.
const RECHECK: Duration = Duration::from_secs(30);

pub(super) struct Parts {
    pub records: Vec<ScheduleRecord>,
    pub journal: ScheduleJournal,
    pub secrets: HookSecrets,
    pub engine: EngineHandle,
    pub store: Store,
    pub clock: WallClock,
    pub check_providers: ProviderCheck,
    pub views: latest::Sender<Views>,
    pub to_self: mpsc::UnboundedSender<Request>,
}

pub(super) struct Actor {
    book: ScheduleBook,
    journal: ScheduleJournal,
    /// The last write to the journal failed: nothing fires until one succeeds.
    journal_broken: bool,
    secrets: HookSecrets,
    engine: EngineHandle,
    store: Store,
    clock: WallClock,
    check_providers: ProviderCheck,
    views: latest::Sender<Views>,
    to_self: mpsc::UnboundedSender<Request>,
    watches: HashMap<String, FolderWatch>,
}

/// One firing to decide.
struct Firing {
    cause: String,
    due_ms: Option<i64>,
    vars: Vars,
    /// The person who asked (run now), if one did.
    by: Option<String>,
    /// A person asked: it runs whatever the policies say.
    forced: bool,
    /// It waited in the queue.
    waited: bool,
}

impl Firing {
    fn new(cause: String) -> Firing {
        Firing {
            cause,
            due_ms: None,
            vars: Vars::new(),
            by: None,
            forced: false,
            waited: false,
        }
    }
}

impl Actor {
    pub(super) fn new(parts: Parts) -> Actor {
        let mut book = ScheduleBook::default();
        for record in &parts.records {
            book.apply(record);
        }
        Actor {
            book,
            journal: parts.journal,
            journal_broken: false,
            secrets: parts.secrets,
            engine: parts.engine,
            store: parts.store,
            clock: parts.clock,
            check_providers: parts.check_providers,
            views: parts.views,
            to_self: parts.to_self,
            watches: HashMap::new(),
        }
    }

    pub(super) async fn run(mut self, mut requests: mpsc::UnboundedReceiver<Request>) {
        self.settle_runs();
        let watched: Vec<(String, PathBuf)> = self
            .book
            .all()
            .filter_map(|s| match &s.spec.trigger {
                Trigger::Watch { dir, .. } => Some((s.spec.name.clone(), dir.clone())),
                Trigger::Cron { .. }
                | Trigger::Every { .. }
                | Trigger::At { .. }
                | Trigger::Webhook => None,
            })
            .collect();
        for (name, dir) in watched {
            match watch_folder(&name, &dir, self.to_self.clone()) {
                Ok(watch) => {
                    self.watches.insert(name, watch);
                }
                Err(e) => tracing::error!(schedule = %name, "{e}"),
            }
        }
        self.publish();
        loop {
            if !self.journal_broken {
                self.fire_due();
            }
            let nap = self.nap();
            tokio::select! {
                () = tokio::time::sleep(nap) => self.journal_broken = false,
                request = requests.recv() => match request {
                    Some(request) => self.on_request(request),
                    None => return,
                },
            }
        }
    }

    fn on_request(&mut self, request: Request) {
        match request {
            Request::Change { change, by, reply } => {
                let _ = reply.send(self.change(change, &by));
            }
            Request::Webhook {
                schedule,
                signature,
                body,
                reply,
            } => {
                let _ = reply.send(self.webhook(&schedule, signature.as_deref(), &body));
            }
            Request::FileSeen { schedule, path } => self.file_seen(&schedule, path),
            Request::SessionEnded { session, outcome } => self.run_ended(&session, outcome),
            Request::StartRefused { session, reason } => self.run_ended(
                &session,
                RunOutcome::Failed {
                    error: format!("the engine would not start it: {reason}"),
                },
            ),
        }
    }

    /// Runs that were going when the server last stopped have ended since (start-up recovery
    /// marks them interrupted), or never started.
    fn settle_runs(&mut self) {
        let running: Vec<SessionId> = self
            .book
            .all()
            .flat_map(|s| s.running.iter().cloned())
            .collect();
        for session in running {
            let outcome = match self.store.load(&session) {
                Ok(stored) if stored.state.status.is_active() => continue,
                Ok(stored) => outcome_of_status(stored.state.status, stored.state.error.as_deref()),
                Err(_) => RunOutcome::Lost,
            };
            self.run_ended(&session, outcome);
        }
    }

    /// Fires what is due now, and records what was missed.
    fn fire_due(&mut self) {
        let now = self.clock.now();
        let late_ok = chrono::Duration::from_std(LATE_OK).unwrap_or_default();
        let due: Vec<(String, Vec<DueAction>, String)> = self
            .book
            .all()
            .filter(|s| !s.paused && s.spec.trigger.is_timed())
            .map(|s| {
                let actions = due_actions(s.dues(now, late_ok), s.spec.policies.missed);
                (s.spec.name.clone(), actions, s.spec.trigger.describe())
            })
            .filter(|(_, actions, _)| !actions.is_empty())
            .collect();
        for (name, actions, when) in due {
            for action in actions {
                let done = match action {
                    DueAction::RecordMissed { count, last } => self.record(
                        &name,
                        None,
                        ScheduleEvent::Skipped {
                            cause: when.clone(),
                            due_ms: Some(last.timestamp_millis()),
                            reason: SkipReason::MissedWhileDown { count },
                            waited: false,
                        },
                    ),
                    DueAction::Fire { due, late } => {
                        let cause = if late {
                            format!(
                                "{when}, due {} (missed while the server was down)",
                                due.with_timezone(&Local).format("%Y-%m-%d %H:%M")
                            )
                        } else {
                            when.clone()
                        };
                        let mut firing = Firing::new(cause);
                        firing.due_ms = Some(due.timestamp_millis());
                        self.fire(&name, firing).map(|_| ())
                    }
                };
                if let Err(e) = done {
                    tracing::error!(schedule = %name, "{e}");
                    return;
                }
            }
        }
    }

    /// Until the next due time, at most `RECHECK`.
    fn nap(&self) -> Duration {
        if self.journal_broken {
            return RECHECK;
        }
        let now = self.clock.now();
        self.book
            .all()
            .filter(|s| !s.paused)
            .filter_map(ScheduleState::next_due)
            .map(|due| (due - now).to_std().unwrap_or(Duration::ZERO))
            .min()
            .unwrap_or(RECHECK)
            .min(RECHECK)
    }

    fn change(&mut self, change: ScheduleChange, by: &str) -> Result<ChangeAnswer, String> {
        let by = Some(by.to_string());
        let name = change.name().to_string();
        if !matches!(change, ScheduleChange::Add { .. }) && self.book.get(&name).is_none() {
            return Err(format!("there is no schedule {name}"));
        }
        match change {
            ScheduleChange::Add { spec } => self.add(*spec, by),
            ScheduleChange::Pause { .. } => self
                .record(&name, by, ScheduleEvent::Paused)
                .map(|()| ChangeAnswer::Done),
            ScheduleChange::Resume { .. } => self
                .record(&name, by, ScheduleEvent::Resumed)
                .map(|()| ChangeAnswer::Done),
            ScheduleChange::Remove { .. } => {
                self.record(&name, by, ScheduleEvent::Removed)?;
                self.watches.remove(&name);
                if let Err(e) = self.secrets.remove(&name) {
                    tracing::warn!(schedule = %name, "cannot forget its webhook secret: {e}");
                }
                Ok(ChangeAnswer::Done)
            }
            ScheduleChange::RunNow { vars, .. } => {
                let mut firing = Firing::new(format!(
                    "run now by {}",
                    by.as_deref().unwrap_or("the owner")
                ));
                firing.vars = vars;
                firing.by = by;
                firing.forced = true;
                self.fire(&name, firing).map(ChangeAnswer::Fired)
            }
        }
    }

    fn add(&mut self, spec: ScheduleSpec, by: Option<String>) -> Result<ChangeAnswer, String> {
        let name = spec.name.clone();
        if self.book.get(&name).is_some() {
            return Err(format!(
                "a schedule named {name} exists already (remove it first, or pick another name)"
            ));
        }
        spec.check()?;
        (self.check_providers)(&spec.providers)?;
        let now = self.clock.now();
        let mut hook = None;
        let mut watch = None;
        match &spec.trigger {
            Trigger::At { at } if *at <= now => {
                return Err(format!(
                    "--at {} is in the past",
                    at.with_timezone(&Local).format("%Y-%m-%d %H:%M")
                ));
            }
            Trigger::Watch { dir, .. } => {
                if !dir.is_absolute() {
                    return Err(format!(
                        "--watch {}: give the folder's full path (the server's working folder \
                         is not yours)",
                        dir.display()
                    ));
                }
                watch = Some(watch_folder(&name, dir, self.to_self.clone())?);
            }
            Trigger::Webhook => {
                let secret = webhook::new_secret()?;
                self.secrets
                    .set(&name, secret.clone())
                    .map_err(|e| format!("cannot keep the webhook's secret: {e}"))?;
                hook = Some(HookCreated {
                    path: format!("/hooks/{name}"),
                    secret,
                });
            }
            Trigger::Cron { .. } | Trigger::Every { .. } | Trigger::At { .. } => {}
        }
        if let Err(e) = self.record(
            &name,
            by,
            ScheduleEvent::Added {
                spec: Box::new(spec),
            },
        ) {
            let _ = self.secrets.remove(&name);
            return Err(e);
        }
        if let Some(watch) = watch {
            self.watches.insert(name.clone(), watch);
        }
        let next_due_ms = self
            .book
            .get(&name)
            .and_then(ScheduleState::next_due)
            .map(|t| t.timestamp_millis());
        Ok(ChangeAnswer::Added { next_due_ms, hook })
    }

    fn webhook(&mut self, name: &str, signature: Option<&str>, body: &Bytes) -> HookAnswer {
        let is_hook = self
            .book
            .get(name)
            .is_some_and(|s| matches!(s.spec.trigger, Trigger::Webhook));
        let Some(secret) = self.secrets.get(name).filter(|_| is_hook) else {
            return HookAnswer::NotFound;
        };
        if !webhook::verify(secret, body, signature) {
            tracing::warn!(schedule = %name, "refused a webhook call: bad or missing signature");
            return HookAnswer::BadSignature;
        }
        let vars = if body.iter().all(u8::is_ascii_whitespace) {
            Vars::new()
        } else {
            match serde_json::from_slice::<serde_json::Value>(body) {
                Ok(value) => vars::from_json(&value),
                Err(e) => return HookAnswer::BadBody(format!("the body is not JSON: {e}")),
            }
        };
        let mut firing = Firing::new("webhook".into());
        firing.vars = vars;
        match self.fire(name, firing) {
            Ok(fired) => HookAnswer::Fired(fired),
            Err(e) => HookAnswer::Unavailable(e),
        }
    }

    fn file_seen(&mut self, name: &str, path: PathBuf) {
        let Some(state) = self.book.get(name) else {
            return;
        };
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if !file_name.is_some_and(|n| state.spec.trigger.watches_name(&n)) {
            return;
        }
        let mut firing = Firing::new(format!("file {}", path.display()));
        firing
            .vars
            .insert("file".into(), path.to_string_lossy().into_owned());
        if let Err(e) = self.fire(name, firing) {
            tracing::error!(schedule = %name, "{e}");
        }
    }

    /// Decides a firing and carries it out: a session started, a place in the queue, or a
    /// skip with its reason, each recorded first.
    fn fire(&mut self, name: &str, firing: Firing) -> Result<Fired, String> {
        let now = self.clock.now();
        let state = self
            .book
            .get(name)
            .ok_or_else(|| format!("there is no schedule {name}"))?;
        let decision = if firing.forced {
            Decision::Run
        } else {
            decide(
                &state.spec.policies,
                Situation {
                    paused: state.paused,
                    running: &state.running,
                    queued: if firing.waited {
                        0
                    } else {
                        state.waiting.len()
                    },
                    runs_last_hour: state.runs_in_hour_before(now.timestamp_millis()),
                },
            )
        };
        let run = match decision {
            Decision::Run => state.spec.run(&with_builtins(state, &firing.vars, now)),
            Decision::Queue => {
                let event = ScheduleEvent::Queued {
                    cause: firing.cause,
                    due_ms: firing.due_ms,
                    vars: firing.vars,
                };
                self.record(name, firing.by, event)?;
                return Ok(Fired::Queued);
            }
            Decision::Skip(reason) => return self.skip(name, firing, reason),
        };
        let run = match run {
            Ok(run) => run,
            Err(RunError::Missing(missing)) => {
                return self.skip(
                    name,
                    firing,
                    SkipReason::MissingVariable { name: missing.0 },
                );
            }
            Err(RunError::Plan(message)) => {
                return self.skip(name, firing, SkipReason::Refused { message });
            }
        };
        let created_at = now.with_timezone(&Local);
        let session = SessionId::generate(created_at);
        let origin = Origin {
            schedule: name.to_string(),
            cause: firing.cause.clone(),
        };
        self.record(
            name,
            firing.by.clone(),
            ScheduleEvent::Fired {
                cause: firing.cause,
                due_ms: firing.due_ms,
                session: session.clone(),
                waited: firing.waited,
            },
        )?;
        let (reply, answer) = oneshot::channel();
        let issued = Issued {
            command: Command::StartSession {
                id: session.clone(),
                goal: run.goal,
                created_at,
                plan: run.plan,
                budget: run.budget,
                origin: Some(origin),
                providers: run.providers,
            },
            by: firing.by,
            reply: Some(reply),
        };
        if self.engine.issue(issued).is_err() {
            self.run_ended(
                &session,
                RunOutcome::Failed {
                    error: "the engine has stopped".into(),
                },
            );
            return Err("the engine has stopped".into());
        }
        let to_self = self.to_self.clone();
        let started = session.clone();
        tokio::spawn(async move {
            let reason = match answer.await {
                Ok(Ok(())) => return,
                Ok(Err(reason)) => reason,
                Err(_) => "the engine stopped before answering".into(),
            };
            let _ = to_self.send(Request::StartRefused {
                session: started,
                reason,
            });
        });
        Ok(Fired::Started { session })
    }

    fn skip(&mut self, name: &str, firing: Firing, reason: SkipReason) -> Result<Fired, String> {
        tracing::info!(schedule = %name, cause = %firing.cause, "skipped: {reason}");
        self.record(
            name,
            firing.by,
            ScheduleEvent::Skipped {
                cause: firing.cause,
                due_ms: firing.due_ms,
                reason: reason.clone(),
                waited: firing.waited,
            },
        )?;
        Ok(Fired::Skipped { reason })
    }

    /// A run of one of the schedules ended: recorded, and the next firing waiting behind it
    /// goes.
    fn run_ended(&mut self, session: &SessionId, outcome: RunOutcome) {
        let Some(name) = self
            .book
            .running_session(session)
            .map(|s| s.spec.name.clone())
        else {
            return;
        };
        let ended = ScheduleEvent::RunEnded {
            session: session.clone(),
            outcome,
        };
        if let Err(e) = self.record(&name, None, ended) {
            tracing::error!(schedule = %name, "{e}");
            return;
        }
        while let Some(waiting) = self
            .book
            .get(&name)
            .filter(|s| s.running.is_empty())
            .and_then(|s| s.waiting.front().cloned())
        {
            let firing = Firing {
                cause: waiting.cause,
                due_ms: waiting.due_ms,
                vars: waiting.vars,
                by: None,
                forced: false,
                waited: true,
            };
            if let Err(e) = self.fire(&name, firing) {
                tracing::error!(schedule = %name, "{e}");
                return;
            }
        }
    }

    /// Writes a record, then folds it in and shows it: what the journal does not hold did not
    /// happen.
    fn record(
        &mut self,
        name: &str,
        by: Option<String>,
        event: ScheduleEvent,
    ) -> Result<(), String> {
        let record = ScheduleRecord {
            seq: self.book.next_seq(),
            at_ms: self.clock.now().timestamp_millis(),
            schedule: name.to_string(),
            by,
            event,
        };
        if let Err(e) = self.journal.append(&record) {
            self.journal_broken = true;
            return Err(format!(
                "cannot write the schedules journal {}: {e}",
                self.journal.path().display()
            ));
        }
        self.book.apply(&record);
        self.publish();
        Ok(())
    }

    fn publish(&self) {
        let views: Vec<ScheduleView> = self.book.all().map(ScheduleView::of).collect();
        self.views.send_replace(Arc::new(views));
    }
}

/// The variables of a firing: the trigger's, and `schedule`, `date` and `time` (in the
/// schedule's time zone, or the server's).
fn with_builtins(state: &ScheduleState, given: &Vars, now: DateTime<Utc>) -> Vars {
    let (date, time) = match &state.spec.trigger {
        Trigger::Cron { tz: Some(tz), .. } => match tz.parse::<chrono_tz::Tz>() {
            Ok(zone) => {
                let t = now.with_timezone(&zone);
                (
                    t.format("%Y-%m-%d").to_string(),
                    t.format("%H:%M").to_string(),
                )
            }
            Err(_) => local_date_time(now),
        },
        Trigger::Cron { tz: None, .. }
        | Trigger::Every { .. }
        | Trigger::At { .. }
        | Trigger::Watch { .. }
        | Trigger::Webhook => local_date_time(now),
    };
    let mut vars = Vars::new();
    vars.insert("schedule".into(), state.spec.name.clone());
    vars.insert("date".into(), date);
    vars.insert("time".into(), time);
    vars.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
    vars
}

fn local_date_time(now: DateTime<Utc>) -> (String, String) {
    let t = now.with_timezone(&Local);
    (
        t.format("%Y-%m-%d").to_string(),
        t.format("%H:%M").to_string(),
    )
}

fn outcome_of_status(status: SessionStatus, error: Option<&str>) -> RunOutcome {
    match status {
        SessionStatus::Completed => RunOutcome::Completed,
        SessionStatus::Failed => RunOutcome::Failed {
            error: error.unwrap_or("failed").to_string(),
        },
        SessionStatus::Interrupted
        | SessionStatus::Edited
        | SessionStatus::Starting
        | SessionStatus::Running
        | SessionStatus::Paused => RunOutcome::Interrupted,
    }
}
