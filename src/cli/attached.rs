//! The commands as clients of a server (`--server`, or this data dir's own server when one
//! runs): the same output as in process, from the server's sessions.

use super::Context;
use super::args::StepCmd;
use super::saved::{
    cap_words, print_comparison, print_sessions, print_show, report_ab, report_budget, report_edit,
    step_edit,
};
use el_jefe::client::{ClientError, Remote, Target, requests};
use el_jefe::engine::clock::Clock;
use el_jefe::engine::saved_edit::check_saved_edit;
use el_jefe::headless::ab::run_ab;
use el_jefe::headless::{Approvals, Output, RunEnd, Start, run_headless};
use el_jefe::protocol::{ANALYTICS, PROVIDER_CHOICE};
use el_jefe::session::budget::apply_cap_words;
use el_jefe::session::command::Command;
use el_jefe::session::ids::{SessionId, StepId};
use el_jefe::session::provider_choice::ProviderChoice;
use el_jefe::session::session_fold::SessionState;
use el_jefe::session::stats::GroupBy;
use el_jefe::store::StoredSession;

/// Connects, with what to do when the server refuses.
pub(super) async fn connect(target: Target, client: &str) -> anyhow::Result<Remote> {
    let no_token = target.token.is_none();
    Remote::connect(target, client)
        .await
        .map_err(|e| with_token_hint(e, no_token))
}

/// A refusal of someone who gave no token says how to give one.
fn with_token_hint(e: ClientError, no_token: bool) -> anyhow::Error {
    if no_token && matches!(e, ClientError::Refused { .. }) {
        anyhow::anyhow!("{e}; give your token with --token or EL_JEFE_TOKEN")
    } else {
        e.into()
    }
}

/// A provider choice needs a server that honours it: an older one would run the sessions on
/// its own providers and say nothing.
pub(super) fn check_provider_choice(
    remote: &Remote,
    choice: &ProviderChoice,
) -> anyhow::Result<()> {
    if choice.is_default() || remote.offers(PROVIDER_CHOICE) {
        return Ok(());
    }
    anyhow::bail!(
        "the server at {} cannot run sessions on chosen providers ({}): it is an older \
         el-jefe; leave out --provider, --model and --agent-provider, or upgrade it",
        remote.url(),
        choice.describe()
    )
}

fn stored(states: Vec<SessionState>) -> Vec<StoredSession> {
    states
        .into_iter()
        .map(|state| StoredSession {
            state,
            warnings: Vec::new(),
            running_elsewhere: false,
        })
        .collect()
}

/// One session as the server has it; an unknown id says so.
async fn session(remote: &mut Remote, id: &SessionId) -> anyhow::Result<SessionState> {
    let mut states = remote.snapshot(Some(vec![id.clone()])).await?;
    states
        .pop()
        .ok_or_else(|| anyhow::anyhow!("the server at {} has no session {id}", remote.url()))
}

/// The dashboard on a server; with `replay`, opened in replay of that session.
pub fn dashboard(cx: Context, target: Target, replay: Option<SessionId>) -> anyhow::Result<i32> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "the dashboard needs a terminal; for pipes and scripts use `el-jefe run \"<goal>\"`"
        );
    }
    let roles = cx.config.engine.roles.names();
    cx.runtime.block_on(async {
        let mut remote = connect(target.clone(), "el-jefe-dashboard").await?;
        check_provider_choice(&remote, &cx.session_providers)?;
        let states = remote.snapshot(None).await?;
        if let Some(id) = &replay
            && !states.iter().any(|s| &s.id == id)
        {
            anyhow::bail!("the server at {} has no session {id}", remote.url());
        }
        let welcome = remote.welcome().clone();
        let url = remote.url().to_string();
        let analytics = remote.offers(ANALYTICS);
        let (engine, events, schedules) = remote.attach();
        let engine = engine.with_providers(cx.session_providers.clone());
        el_jefe::tui::run_dashboard(el_jefe::tui::DashboardSetup {
            engine,
            events,
            stored: stored(states),
            mode: welcome.mode,
            model_label: format!("{url} as {} ({})", welcome.user, welcome.role),
            roles,
            attached_to: Some(url),
            schedules: Some(schedules),
            history: Some(server_history(target.clone())),
            replay,
            // The server's sessions are on its machine: it sends their summaries.
            summaries: analytics.then(|| server_summaries(target)),
        })
        .await?;
        Ok(0)
    })
}

/// Replay asks the server for a session's journal, on a connection of its own so the
/// dashboard's stays live.
fn server_history(target: Target) -> el_jefe::tui::history::LoadHistory {
    std::sync::Arc::new(move |id| {
        let target = target.clone();
        Box::pin(async move {
            let mut remote = Remote::connect(target, "el-jefe-replay")
                .await
                .map_err(|e| e.to_string())?;
            remote.history(&id).await.map_err(|e| e.to_string())
        })
    })
}

/// The baselines and the analytics view read the server's summaries.
fn server_summaries(target: Target) -> el_jefe::tui::summaries::LoadSummaries {
    std::sync::Arc::new(move || {
        let target = target.clone();
        Box::pin(async move {
            requests::summaries(&target)
                .await
                .map_err(|e| e.to_string())
        })
    })
}

pub fn run(
    cx: Context,
    target: Target,
    start: Start,
    json: bool,
    approvals: Approvals,
) -> anyhow::Result<i32> {
    cx.runtime.block_on(async {
        let mut remote = connect(target, "el-jefe-run").await?;
        check_provider_choice(&remote, &cx.session_providers)?;
        let start = match start {
            Start::Resume(id, _) => {
                let state = session(&mut remote, &id).await?;
                Start::Resume(id, Some(Box::new(state)))
            }
            fresh @ (Start::Goal(_) | Start::Plan { .. } | Start::Fork { .. }) => fresh,
        };
        eprintln!("el-jefe: running on the server at {}", remote.url());
        let (engine, mut events, _schedules) = remote.attach();
        let engine = engine.with_providers(cx.session_providers.clone());
        let output = if json { Output::Json } else { Output::Plain };
        let end = run_headless(&engine, &mut events, start, output, &approvals).await;
        engine.shutdown().await;
        let end = end?;
        if matches!(end, RunEnd::StoppedAtOnce) {
            eprintln!("el-jefe: the server is interrupting the session");
        }
        Ok(end.exit_code())
    })
}

/// `el-jefe ab` on a server: both sides run there, then the comparison.
pub fn ab(
    cx: Context,
    target: Target,
    start: Start,
    sides: (ProviderChoice, ProviderChoice),
    json: bool,
    approvals: Approvals,
) -> anyhow::Result<i32> {
    cx.runtime.block_on(async {
        let remote = connect(target, "el-jefe-ab").await?;
        check_provider_choice(&remote, &sides.0)?;
        check_provider_choice(&remote, &sides.1)?;
        eprintln!(
            "el-jefe: running both sides on the server at {}",
            remote.url()
        );
        let (engine, mut events, _schedules) = remote.attach();
        let ended = run_ab(
            &engine,
            &mut events,
            start,
            sides,
            &approvals,
            &mut std::io::stderr(),
        )
        .await;
        engine.shutdown().await;
        report_ab(&ended?, json)
    })
}

pub fn list(cx: &Context, target: Target, json: bool) -> anyhow::Result<i32> {
    cx.runtime.block_on(async {
        let mut remote = connect(target, "el-jefe-sessions").await?;
        let sessions = stored(remote.snapshot(None).await?);
        print_sessions(&sessions, Clock::new().now_ms(), json);
        Ok(0)
    })
}

pub fn show(cx: &Context, target: Target, session_id: &str, json: bool) -> anyhow::Result<i32> {
    let id = SessionId::parse(session_id)?;
    cx.runtime.block_on(async {
        let mut remote = connect(target, "el-jefe-show").await?;
        let session = stored(vec![session(&mut remote, &id).await?]);
        print_show(&session[0], Clock::new().now_ms(), json);
        Ok(0)
    })
}

pub fn compare(cx: &Context, target: Target, a: &str, b: &str, json: bool) -> anyhow::Result<i32> {
    let (a, b) = (SessionId::parse(a)?, SessionId::parse(b)?);
    cx.runtime.block_on(async {
        let mut remote = connect(target, "el-jefe-compare").await?;
        let a = session(&mut remote, &a).await?;
        let b = session(&mut remote, &b).await?;
        print_comparison(&a, &b, Clock::new().now_ms(), json)?;
        Ok(0)
    })
}

/// `el-jefe stats` over the server's journals.
pub fn stats(
    cx: &Context,
    target: Target,
    since: Option<std::time::Duration>,
    by: GroupBy,
    json: bool,
) -> anyhow::Result<i32> {
    let reply = cx
        .runtime
        .block_on(requests::stats(&target, since, by))
        .map_err(|e| with_token_hint(e, target.token.is_none()))?;
    for w in &reply.warnings {
        eprintln!("warning: {w}");
    }
    if reply.rebuilt > 0 {
        eprintln!(
            "el-jefe: the server summarized {} sessions from their journals (kept for next time)",
            reply.rebuilt
        );
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reply.stats)?);
    } else {
        print!("{}", reply.text);
    }
    Ok(0)
}

/// `pause` and `interrupt`: what to hold or stop.
pub enum Steer {
    Pause,
    Interrupt,
}

pub fn steer(
    cx: &Context,
    target: Target,
    steer: Steer,
    session_id: &str,
    step: Option<String>,
) -> anyhow::Result<i32> {
    let session = SessionId::parse(session_id)?;
    let step = step.map(StepId::new);
    let command = match (&steer, step) {
        (Steer::Pause, None) => Command::PauseSession { session },
        (Steer::Pause, Some(step)) => Command::PauseStep { session, step },
        (Steer::Interrupt, None) => Command::InterruptSession { session },
        (Steer::Interrupt, Some(step)) => Command::InterruptStep { session, step },
    };
    let label = command.label();
    cx.runtime.block_on(async {
        let mut remote = connect(target, "el-jefe-steer").await?;
        match remote.command(command).await {
            Ok(()) => {
                println!("done: {label}");
                Ok(0)
            }
            Err(ClientError::Rejected(reason)) => {
                eprintln!("el-jefe: cannot {label}: {reason}");
                Ok(1)
            }
            Err(e) => Err(e.into()),
        }
    })
}

pub fn budget(
    cx: &Context,
    target: Target,
    session_id: &str,
    agent: Option<String>,
    limit: &str,
    value: &str,
) -> anyhow::Result<i32> {
    let id = SessionId::parse(session_id)?;
    let roles = cx.config.engine.roles.names();
    let words = cap_words(&roles, agent.as_deref(), limit, value)?;
    cx.runtime.block_on(async {
        let mut remote = connect(target, "el-jefe-budget").await?;
        let state = session(&mut remote, &id).await?;
        let set = match apply_cap_words(&state.budget, &words, &roles) {
            Ok(budget) => {
                let command = Command::SetBudget {
                    session: id.clone(),
                    budget: budget.clone(),
                };
                answered(remote.command(command).await).map(|()| budget)
            }
            Err(reason) => Err(reason),
        };
        report_budget(&id, set)
    })
}

pub fn step(cx: &Context, target: Target, action: StepCmd, dry_run: bool) -> anyhow::Result<i32> {
    let roles = cx.config.engine.roles.names();
    let (id, make_edit) = step_edit(action, &roles)?;
    cx.runtime.block_on(async {
        let mut remote = connect(target, "el-jefe-step").await?;
        let state = session(&mut remote, &id).await?;
        // Previewed here by the same rules; the server checks again as it applies the edit.
        let edited = match check_saved_edit(state, make_edit, &roles) {
            Ok(saved) if !dry_run => {
                let command = Command::EditPlan {
                    session: id.clone(),
                    edit: saved.edit.clone(),
                };
                answered(remote.command(command).await).map(|()| saved)
            }
            other => other,
        };
        report_edit(&id, edited, dry_run)
    })
}

/// A command's answer as the reports want it: the reason of a refusal, or of a broken link.
fn answered(result: Result<(), ClientError>) -> Result<(), String> {
    result.map_err(|e| match e {
        ClientError::Rejected(reason) => reason,
        other @ (ClientError::Unreachable { .. }
        | ClientError::Refused { .. }
        | ClientError::Broken(_)) => other.to_string(),
    })
}
