//! What the command bar understands: slash commands, or plain text as a goal.

use std::path::PathBuf;

use crate::session::call::CallMode;
use crate::session::ids::{SessionId, StepId};

/// Where `/seek` moves a replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeekTarget {
    /// Milliseconds after the session's first event.
    Time(u64),
    /// Right after the event with this number.
    Event(u64),
    /// This share of the events, 0 to 100.
    Percent(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlashCommand {
    /// `/start-streaming <goal>`, `/start <goal>`, or text without a slash.
    Start(String),
    /// Session commands default to the selected session.
    Interrupt(Option<SessionId>),
    Pause(Option<SessionId>),
    Resume(Option<SessionId>),
    Status,
    Monitor,
    Metrics,
    /// Figures over every session here, and recommendations.
    Stats,
    /// `/compare <a> [b]`: two sessions side by side (one id: the selected one and it).
    Compare(SessionId, Option<SessionId>),
    /// The server's schedules (attached dashboards).
    Schedules,
    /// `/mode` toggles; `/mode streaming|legacy` sets.
    Mode(Option<CallMode>),
    Sessions,
    /// `/add-step <agent> <task> [after <ids>]`: the text after the agent, split later against
    /// the plan's ids (a task may well contain the word "after").
    AddStep {
        agent: String,
        text: String,
    },
    RemoveStep(StepId),
    /// `/edit-step <id> <new task or agent>`.
    EditStep {
        step: StepId,
        text: String,
    },
    /// `/set-deps <id> <ids>|none`.
    SetDeps {
        step: StepId,
        after: Vec<StepId>,
    },
    SavePlan(PathBuf),
    /// `/replay [session]`: the session as it happened, from its journal.
    Replay(Option<SessionId>),
    /// `/seek 1m20s | #1234 | 50%`: in replay, to a time into the run, an event or a share.
    Seek(SeekTarget),
    /// `/budget` shows the caps and what is spent; `/budget [role] <limit> <value>` sets one.
    Budget(Vec<String>),
    Help,
    Quit,
}

/// Name, argument hint, and what it does: for completion and the help overlay.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    (
        "/start-streaming",
        "<goal>",
        "plan and run a goal (alias /start; or just type the goal)",
    ),
    ("/start", "<goal>", "same as /start-streaming"),
    (
        "/interrupt",
        "[session]",
        "interrupt a session (default: the selected one)",
    ),
    ("/pause", "[session]", "pause or unpause a whole session"),
    (
        "/resume",
        "[session]",
        "resume an interrupted, failed or edited session",
    ),
    (
        "/status",
        "",
        "one-line summary of sessions, mode and model",
    ),
    ("/monitor", "", "full-screen view of every active agent"),
    (
        "/metrics",
        "",
        "agent, workflow and system charts (/stats: all sessions)",
    ),
    (
        "/compare",
        "<session> [session]",
        "two sessions side by side (key c, then c on the other)",
    ),
    (
        "/stats",
        "",
        "figures over every session here, and recommendations",
    ),
    (
        "/schedules",
        "",
        "the server's schedules and runs; p pause, n run now",
    ),
    (
        "/mode",
        "[streaming|legacy]",
        "toggle or set streaming vs whole-reply calls",
    ),
    (
        "/sessions",
        "",
        "back to the dashboard, session list focused",
    ),
    (
        "/add-step",
        "<agent> <task> [after <ids>]",
        "add a step to the selected session (key +)",
    ),
    (
        "/remove-step",
        "<id>",
        "remove a step, asking about those that need it (key x)",
    ),
    (
        "/edit-step",
        "<id> <task or agent>",
        "new task or agent; done work re-runs downstream (key e)",
    ),
    (
        "/set-deps",
        "<id> <ids>|none",
        "set the steps a step runs after",
    ),
    (
        "/budget",
        "[role] [tokens|wall|tools|money <value>]",
        "show the budget and spending, or set a cap",
    ),
    (
        "/save-plan",
        "<file>",
        "write the plan for el-jefe run --plan <file>",
    ),
    (
        "/replay",
        "[session]",
        "play a session back as it happened (key R)",
    ),
    (
        "/seek",
        "<1m20s | #event | 50%>",
        "in replay: go to a time into the run, an event or a share",
    ),
    ("/help", "", "keys and commands"),
    ("/quit", "", "leave (asks first if work is running)"),
];

fn takes_session(name: &str) -> bool {
    matches!(
        name,
        "/interrupt" | "/pause" | "/resume" | "/replay" | "/compare"
    )
}

/// `//start-streaming` as `/start-streaming`: pressing `/` opens the bar with a slash, and the
/// product's own examples write the command with one too.
fn one_leading_slash(input: &str) -> &str {
    let bare = input.trim_start_matches('/');
    if bare.len() + 1 < input.len() {
        &input[input.len() - bare.len() - 1..]
    } else {
        input
    }
}

pub fn parse(input: &str) -> Result<Option<SlashCommand>, String> {
    let input = one_leading_slash(input.trim());
    if input.is_empty() {
        return Ok(None);
    }
    if !input.starts_with('/') {
        return Ok(Some(SlashCommand::Start(input.to_string())));
    }
    let (name, rest) = match input.split_once(char::is_whitespace) {
        Some((n, r)) => (n, r.trim()),
        None => (input, ""),
    };
    let session = |rest: &str| -> Result<Option<SessionId>, String> {
        if rest.is_empty() {
            Ok(None)
        } else {
            SessionId::parse(rest).map(Some).map_err(|e| e.to_string())
        }
    };
    let no_args = |cmd: SlashCommand| -> Result<Option<SlashCommand>, String> {
        if rest.is_empty() {
            Ok(Some(cmd))
        } else {
            Err(format!("{name} takes no arguments"))
        }
    };
    match name {
        "/start-streaming" | "/start" => {
            if rest.is_empty() {
                Err(format!("usage: {name} <goal>"))
            } else {
                Ok(Some(SlashCommand::Start(rest.to_string())))
            }
        }
        "/interrupt" => Ok(Some(SlashCommand::Interrupt(session(rest)?))),
        "/pause" => Ok(Some(SlashCommand::Pause(session(rest)?))),
        "/resume" => Ok(Some(SlashCommand::Resume(session(rest)?))),
        "/replay" => Ok(Some(SlashCommand::Replay(session(rest)?))),
        "/seek" => parse_seek(rest).map(|at| Some(SlashCommand::Seek(at))),
        "/status" => no_args(SlashCommand::Status),
        "/monitor" => no_args(SlashCommand::Monitor),
        "/metrics" => no_args(SlashCommand::Metrics),
        "/stats" => no_args(SlashCommand::Stats),
        "/compare" => {
            let ids: Vec<&str> = rest.split_whitespace().collect();
            match ids.as_slice() {
                [a] => Ok(Some(SlashCommand::Compare(
                    SessionId::parse(a).map_err(|e| e.to_string())?,
                    None,
                ))),
                [a, b] => Ok(Some(SlashCommand::Compare(
                    SessionId::parse(a).map_err(|e| e.to_string())?,
                    Some(SessionId::parse(b).map_err(|e| e.to_string())?),
                ))),
                _ => Err("usage: /compare <session> [session]".into()),
            }
        }
        "/schedules" => no_args(SlashCommand::Schedules),
        "/sessions" => no_args(SlashCommand::Sessions),
        "/help" => no_args(SlashCommand::Help),
        "/quit" | "/q" | "/exit" => no_args(SlashCommand::Quit),
        "/add-step" => match rest.split_once(char::is_whitespace) {
            Some((agent, text)) if !text.trim().is_empty() => Ok(Some(SlashCommand::AddStep {
                agent: agent.to_string(),
                text: text.trim().to_string(),
            })),
            _ => Err("usage: /add-step <agent> <task> [after <ids>]".into()),
        },
        "/remove-step" => match step_ids(rest).as_slice() {
            [step] => Ok(Some(SlashCommand::RemoveStep(step.clone()))),
            _ => Err("usage: /remove-step <id>".into()),
        },
        "/edit-step" => match rest.split_once(char::is_whitespace) {
            Some((step, text)) if !text.trim().is_empty() => Ok(Some(SlashCommand::EditStep {
                step: StepId::new(step),
                text: text.trim().to_string(),
            })),
            _ => Err("usage: /edit-step <id> <new task or agent>".into()),
        },
        "/set-deps" | "/deps" => {
            let mut ids = step_ids(rest);
            if ids.is_empty() {
                return Err("usage: /set-deps <id> <ids>|none".into());
            }
            let step = ids.remove(0);
            ids.retain(|d| d.as_str() != "none");
            Ok(Some(SlashCommand::SetDeps { step, after: ids }))
        }
        "/budget" => Ok(Some(SlashCommand::Budget(
            rest.split_whitespace().map(String::from).collect(),
        ))),
        "/save-plan" => {
            if rest.is_empty() {
                Err("usage: /save-plan <file>".into())
            } else {
                Ok(Some(SlashCommand::SavePlan(PathBuf::from(rest))))
            }
        }
        "/mode" => match rest {
            "" => Ok(Some(SlashCommand::Mode(None))),
            other => CallMode::parse(other)
                .map(|m| Some(SlashCommand::Mode(Some(m))))
                .ok_or_else(|| format!("unknown mode `{other}` (streaming or legacy)")),
        },
        other => Err(format!("unknown command {other} (type /help for the list)")),
    }
}

fn parse_seek(text: &str) -> Result<SeekTarget, String> {
    const USAGE: &str = "usage: /seek <time into the run, like 1m20s> | #<event> | <percent>%";
    if let Some(seq) = text.strip_prefix('#') {
        return seq
            .parse()
            .map(SeekTarget::Event)
            .map_err(|_| format!("`{text}` is not an event number; {USAGE}"));
    }
    if let Some(share) = text.strip_suffix('%') {
        return match share.trim().parse::<u8>() {
            Ok(p) if p <= 100 => Ok(SeekTarget::Percent(p)),
            _ => Err(format!("`{text}` is not a share from 0% to 100%; {USAGE}")),
        };
    }
    if text.is_empty() {
        return Err(USAGE.into());
    }
    humantime::parse_duration(text)
        .map(|d| SeekTarget::Time(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
        .map_err(|e| format!("`{text}`: {e}; {USAGE}"))
}

/// Step ids separated by spaces or commas.
pub fn step_ids(text: &str) -> Vec<StepId> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(StepId::new)
        .collect()
}

/// Candidates for Tab at the end of `input`: command names while typing the first word, then
/// session ids for commands that take one. Each candidate is the whole new input.
pub fn completions(input: &str, session_ids: &[SessionId]) -> Vec<String> {
    let input = one_leading_slash(input);
    if !input.starts_with('/') {
        return Vec::new();
    }
    match input.split_once(' ') {
        None => COMMANDS
            .iter()
            .map(|(name, _, _)| *name)
            .filter(|name| name.starts_with(input) && *name != input)
            .map(|name| format!("{name} "))
            .collect(),
        Some((name, partial)) if takes_session(name) && !partial.contains(' ') => session_ids
            .iter()
            .filter(|id| id.as_str().starts_with(partial) && id.as_str() != partial)
            .map(|id| format!("{name} {id}"))
            .collect(),
        Some(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
