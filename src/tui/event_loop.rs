//! The dashboard's one loop: terminal input, engine events and timers in a single select.
//! Events only mark the screen dirty; frames are drawn at most every 16 ms, and an idle
//! dashboard wakes once a second.

use std::time::Duration;

use crossterm::event::{Event, EventStream};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::{Instant, MissedTickBehavior};

use super::actions::{Action, Replay};
use super::app::App;
use super::history::{History, LoadHistory};
use super::summaries::{LoadSummaries, Summaries};
use super::terminal;
use super::ui;
use crate::engine::EngineHandle;
use crate::engine::clock::Clock;
use crate::scheduler::desk::ScheduleDesk;
use crate::session::call::CallMode;
use crate::session::event::EngineEvent;
use crate::session::ids::SessionId;
use crate::store::StoredSession;

/// About 60 frames a second at most.
const FRAME: Duration = Duration::from_millis(16);
/// A replay moves on about 30 times a second while it plays.
const PLAY_FRAME: Duration = Duration::from_millis(33);

pub struct DashboardSetup {
    pub engine: EngineHandle,
    pub events: UnboundedReceiver<EngineEvent>,
    pub stored: Vec<StoredSession>,
    pub mode: CallMode,
    pub model_label: String,
    /// Agent roles plan edits may use.
    pub roles: Vec<String>,
    /// The server the engine runs in, when attached to one: leaving then interrupts nothing.
    pub attached_to: Option<String>,
    /// The server's schedules, when attached (schedules run only in `el-jefe serve`).
    pub schedules: Option<ScheduleDesk>,
    /// Reads a session's journal for replay.
    pub history: Option<LoadHistory>,
    /// Opens in replay of this session (`el-jefe replay`).
    pub replay: Option<SessionId>,
    /// Reads the sessions' summaries: for the baselines running agents are compared with,
    /// and the analytics view.
    pub summaries: Option<LoadSummaries>,
}

pub async fn run_dashboard(setup: DashboardSetup) -> anyhow::Result<()> {
    let DashboardSetup {
        engine,
        mut events,
        stored,
        mode,
        model_label,
        roles,
        attached_to,
        schedules,
        history,
        replay,
        summaries,
    } = setup;
    let (mut tui, _guard) = terminal::setup()?;
    let clock = Clock::new();
    let mut app = App::new(engine.clone(), stored, mode, model_label, clock.now_ms());
    app.roles = roles;
    app.attached_to = attached_to;
    app.schedule_desk = schedules;
    app.history = history.map(History::new);
    app.summary_source = summaries.map(Summaries::new);
    if let Some(source) = &app.summary_source {
        source.request();
    }
    if let Some(id) = replay {
        app.perform(Action::Replay(Replay::Enter(Some(id))));
    }
    let signals = Signals::new()?;
    let result = main_loop(
        &mut app,
        &mut tui,
        EventStream::new(),
        &mut events,
        &clock,
        signals,
    )
    .await;
    // Leaving: interrupt running agents and write everything, showing that this is happening.
    if app.work_running_here() {
        app.say("interrupting running agents and saving the sessions...");
        app.now_ms = clock.now_ms();
        let _ = tui.draw(|f| ui::render(&mut app, f));
    }
    // In process this stops the engine; attached, it only closes the connection.
    engine.shutdown().await;
    result
}

/// The loop itself, over any backend and input stream, so benchmarks can drive it headless.
pub async fn main_loop<B, I>(
    app: &mut App,
    tui: &mut Terminal<B>,
    mut input: I,
    events: &mut UnboundedReceiver<EngineEvent>,
    clock: &Clock,
    mut signals: Signals,
) -> anyhow::Result<()>
where
    B: Backend,
    I: Stream<Item = std::io::Result<Event>> + Unpin,
{
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_tick = Instant::now();
    let mut last_frame = Instant::now() - FRAME;
    let mut next_frame: Option<Instant> = None;
    let mut batch = Vec::with_capacity(1024);
    // A clone to wait on: the app's own stays free for the keys that ask for changes.
    let mut schedules = app.schedule_desk.clone();
    let mut histories = app.history.as_mut().and_then(History::take_answers);
    let mut play = tokio::time::interval(PLAY_FRAME);
    play.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_play = Instant::now();
    let mut summaries = app
        .summary_source
        .as_mut()
        .and_then(Summaries::take_answers);
    if let Some(desk) = schedules.as_mut() {
        app.schedules = desk.current();
    }
    loop {
        if app.quit_requested {
            return Ok(());
        }
        if !app.replay_is_playing() {
            // The first played frame measures from when playing started, not from long ago.
            last_play = Instant::now();
        }
        if app.dirty && next_frame.is_none() {
            next_frame = Some((last_frame + FRAME).max(Instant::now()));
        }
        tokio::select! {
            event = input.next() => match event {
                Some(Ok(Event::Key(key))) => app.on_key(key),
                Some(Ok(Event::Mouse(mouse))) => app.on_mouse(mouse),
                Some(Ok(Event::Resize(..))) => app.dirty = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            received = events.recv_many(&mut batch, 4096) => {
                if received == 0 {
                    anyhow::bail!("the engine stopped");
                }
                for event in batch.drain(..) {
                    app.on_engine_event(event);
                }
                app.refresh_approval_prompt();
            }
            _ = tick.tick() => {
                let elapsed = last_tick.elapsed().as_secs_f64();
                last_tick = Instant::now();
                app.tick(clock.now_ms(), elapsed);
            }
            () = sleep_until(next_frame) => {
                app.now_ms = clock.now_ms();
                tui.draw(|f| ui::render(app, f))?;
                app.dirty = false;
                last_frame = Instant::now();
                next_frame = None;
            }
            () = schedules_changed(&mut schedules) => {
                if let Some(desk) = schedules.as_mut() {
                    app.set_schedules(desk.current());
                }
            }
            Some((id, answer)) = next_answer(&mut histories) => match answer {
                Ok(events) => app.enter_replay(id, events),
                Err(e) => app.complain(format!("cannot replay {id}: {e}")),
            },
            Some(list) = next_answer(&mut summaries) => app.on_summaries(list),
            _ = play.tick(), if app.replay_is_playing() => {
                app.replay_frame(last_play.elapsed().as_secs_f64() * 1000.0);
                last_play = Instant::now();
            }
            () = signals.next() => app.quit_requested = true,
        }
    }
}

async fn next_answer<T>(answers: &mut Option<UnboundedReceiver<T>>) -> Option<T> {
    match answers {
        Some(answers) => answers.recv().await,
        None => std::future::pending().await,
    }
}

async fn schedules_changed(desk: &mut Option<ScheduleDesk>) {
    match desk {
        Some(desk) => desk.changed().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// SIGTERM, SIGHUP and SIGINT (sent from outside: in raw mode Ctrl-C is a key) mean "quit now".
pub struct Signals {
    #[cfg(unix)]
    streams: Vec<tokio::signal::unix::Signal>,
}

impl Signals {
    pub fn new() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                streams: vec![
                    signal(SignalKind::terminate())?,
                    signal(SignalKind::hangup())?,
                    signal(SignalKind::interrupt())?,
                ],
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        {
            let waits = self.streams.iter_mut().map(|s| Box::pin(s.recv()));
            futures::future::select_all(waits).await;
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await;
    }
}
