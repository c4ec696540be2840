use super::*;
use serde_json::json;

fn ws() -> (tempfile::TempDir, Sandbox) {
    let dir = tempfile::tempdir().unwrap();
    let s = Sandbox::new(&dir.path().join("ws")).unwrap();
    (dir, s)
}

fn args(v: &serde_json::Value) -> Args<'_> {
    Args::new(v).unwrap()
}

/// SIGKILL is delivered asynchronously: give the process a moment to be gone.
fn dies_soon(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// A killed process may linger as a zombie until someone reaps it: that counts as dead.
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z')
        })
        .unwrap_or(false)
}

#[tokio::test]
async fn runs_in_the_workspace_and_reports_exit_and_output() {
    let (_d, s) = ws();
    let out = run_command(
        &s,
        &args(&json!({"command": "pwd; echo oops >&2; exit 3"})),
        &ToolLimits::default(),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        out.content,
        format!("exit 3\nstdout:\n{}\nstderr:\noops\n", s.root().display())
    );
    assert!(out.summary.starts_with("exit 3, "), "{}", out.summary);
}

#[tokio::test]
async fn secrets_are_not_in_the_environment() {
    let (_d, s) = ws();
    // SAFETY: set before the command starts; tests that read this variable are only here.
    unsafe { std::env::set_var("EL_JEFE_TEST_API_KEY", "sk-should-not-leak") };
    let out = run_command(
        &s,
        &args(&json!({"command": "env"})),
        &ToolLimits::default(),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(!out.content.contains("sk-should-not-leak"));
    assert!(is_secret_variable("ANTHROPIC_API_KEY"));
    assert!(!is_secret_variable("PATH"));
}

#[tokio::test]
async fn big_output_is_capped_but_drained() {
    let (_d, s) = ws();
    let limits = ToolLimits {
        max_result_bytes: 1000,
        ..ToolLimits::default()
    };
    let out = run_command(
        &s,
        &args(&json!({"command": "head -c 300000 /dev/zero | tr '\\0' a"})),
        &limits,
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(out.content.len() < 1100, "{}", out.content.len());
    assert!(out.content.contains("more bytes not shown"));
    assert!(
        out.summary.contains("293.0 KB of output"),
        "{}",
        out.summary
    );
}

#[tokio::test]
async fn a_timeout_kills_the_whole_process_tree() {
    let (_d, s) = ws();
    let started = Instant::now();
    let e = run_command(
        &s,
        &args(&json!({"command": "sleep 300 & echo $! > bg.pid; wait", "timeout_secs": 1})),
        &ToolLimits::default(),
        &CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(e.message.starts_with("timed out after 1 s"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(30));
    let pid: i32 = std::fs::read_to_string(s.root().join("bg.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(dies_soon(pid), "the background sleep survived");
}

#[tokio::test]
async fn an_interrupt_kills_the_whole_process_tree() {
    let (_d, s) = ws();
    let cancel = CancellationToken::new();
    let root = s.root().to_path_buf();
    let canceller = cancel.clone();
    // Interrupt once the grandchild has written its pid: the command is surely running.
    tokio::spawn(async move {
        while !root.join("bg.pid").exists() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        canceller.cancel();
    });
    let e = run_command(
        &s,
        &args(&json!({"command": "sh -c 'sleep 300 & echo $! > bg.tmp; mv bg.tmp bg.pid; wait'"})),
        &ToolLimits::default(),
        &cancel,
    )
    .await
    .unwrap_err();
    assert_eq!(e.message, "interrupted by the user");
    let pid: i32 = std::fs::read_to_string(s.root().join("bg.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(dies_soon(pid), "the grandchild survived the interrupt");
}
