//! run_command: a shell command in the workspace, in its own process group so that a timeout or
//! an interrupt kills everything it started, not only the shell.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::builtin::Args;
use super::{Sandbox, ToolError, ToolLimits, ToolOutput, clip_result};
use crate::format::human_size;

/// The longest a model may ask a command to run.
const MAX_TIMEOUT: Duration = Duration::from_secs(600);

/// Environment variables a command never sees: an `env` or `printenv` would otherwise put API
/// keys into the tool result, and from there into the journal and onto the screen.
pub fn is_secret_variable(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"]
        .iter()
        .any(|word| upper.contains(word))
}

/// Kills the whole process group when dropped: also when the agent task is aborted mid-command.
struct GroupKiller {
    pgid: Option<i32>,
}

impl GroupKiller {
    fn kill(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            // SAFETY: killpg only sends a signal; a group that is already gone gives ESRCH.
            unsafe {
                libc::killpg(pgid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for GroupKiller {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads a pipe to its end, keeping at most `cap` bytes but draining the rest so the command
/// never blocks on a full pipe.
async fn drain(mut pipe: impl AsyncRead + Unpin, cap: usize) -> (Vec<u8>, usize) {
    let mut kept = Vec::new();
    let mut total = 0;
    let mut buf = [0u8; 8192];
    while let Ok(n) = pipe.read(&mut buf).await {
        if n == 0 {
            break;
        }
        total += n;
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
    (kept, total)
}

enum Ending {
    Exited(std::process::ExitStatus),
    TimedOut,
    Interrupted,
}

pub async fn run_command(
    sandbox: &Sandbox,
    args: &Args<'_>,
    limits: &ToolLimits,
    cancel: &CancellationToken,
) -> Result<ToolOutput, ToolError> {
    let command = args.str("command")?;
    let timeout = match args.opt_u64("timeout_secs")? {
        Some(0) => return Err(ToolError::new("timeout_secs must be at least 1")),
        Some(s) => Duration::from_secs(s).min(MAX_TIMEOUT),
        None => limits.command_timeout,
    };
    let mut child = spawn_shell(command, sandbox)?;
    let mut killer = GroupKiller {
        pgid: child.id().map(|id| id as i32),
    };
    let cap = limits.max_result_bytes;
    let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(ToolError::new("the command's output could not be read"));
    };
    let stdout = tokio::spawn(drain(out, cap));
    let stderr = tokio::spawn(drain(err, cap));
    let started = Instant::now();
    let ending = tokio::select! {
        status = child.wait() => match status {
            Ok(status) => Ending::Exited(status),
            Err(e) => return Err(ToolError::new(format!("waiting for the command failed: {e}"))),
        },
        _ = tokio::time::sleep(timeout) => Ending::TimedOut,
        _ = cancel.cancelled() => Ending::Interrupted,
    };
    // Whatever the shell left running in the background goes too: it would hold the pipes open.
    killer.kill();
    let _ = child.wait().await;
    let out = stdout.await.unwrap_or_default();
    let err = stderr.await.unwrap_or_default();
    let elapsed = started.elapsed().as_secs_f64();
    let content = captured_output(&out, &err);
    let output_size = human_size((out.1 + err.1) as u64);
    match ending {
        Ending::Exited(status) => {
            let code = status
                .code()
                .map_or_else(|| "killed by a signal".to_string(), |c| format!("exit {c}"));
            let shown = if content.is_empty() {
                "(no output)\n"
            } else {
                &content
            };
            Ok(ToolOutput {
                content: clip_result(&format!("{code}\n{shown}"), cap),
                summary: format!("{code}, {output_size} of output, {elapsed:.1} s"),
            })
        }
        Ending::TimedOut => Err(ToolError::new(clip_result(
            &format!(
                "timed out after {} s; the command and everything it started were killed\n{content}",
                timeout.as_secs()
            ),
            cap,
        ))),
        Ending::Interrupted => Err(ToolError::new("interrupted by the user")),
    }
}

/// `sh -c command` in the sandbox, in a process group of its own, without our secrets.
fn spawn_shell(command: &str, sandbox: &Sandbox) -> Result<tokio::process::Child, ToolError> {
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg(command)
        .current_dir(sandbox.root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    for (name, _) in std::env::vars_os() {
        if is_secret_variable(&name.to_string_lossy()) {
            shell.env_remove(&name);
        }
    }
    shell
        .spawn()
        .map_err(|e| ToolError::new(format!("could not start a shell: {e}")))
}

/// Standard output and error as the model reads them, each named, with what was cut said so.
/// Each stream is (the bytes kept, how many there were).
fn captured_output(out: &(Vec<u8>, usize), err: &(Vec<u8>, usize)) -> String {
    let mut content = String::new();
    for (name, (bytes, total)) in [("stdout", out), ("stderr", err)] {
        if *total == 0 {
            continue;
        }
        content.push_str(&format!("{name}:\n{}", String::from_utf8_lossy(bytes)));
        if *total > bytes.len() {
            content.push_str(&format!(
                "\n[... {} more bytes not shown]",
                total - bytes.len()
            ));
        }
        if !content.ends_with('\n') {
            content.push('\n');
        }
    }
    content
}

#[cfg(test)]
mod tests;
