//! The real dashboard on the real model, in a real terminal (tmux), driven by keys as a person
//! would: start a goal, watch it stream, pause and resume an agent, interrupt the session,
//! quit, relaunch, find it interrupted, resume it to the end. And the terminal always comes
//! back sane: after quitting, on SIGTERM, and after a panic.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use std::time::Duration;

use support::cli::Home;
use support::model;
use support::tmux::Tmux;

const SECS: fn(u64) -> Duration = Duration::from_secs;

/// The default three-step plan (the planner budget is too small for the model's own), with a
/// researcher long enough to be paused and interrupted (it may not stop early: a fast machine
/// once finished a short answer before the test could look; no tools, whose action format would
/// let it end early), and short later steps.
const CONFIG: &str = r#"
# One agent at a time: the test watches one agent's text stop and go on, and the default plan's
# second researcher would otherwise stream beside it.
max_parallel = 1
[planner]
max_tokens = 16
[agents.researcher]
max_tokens = 1000
min_tokens = 1000
temperature = 0.8
tools = []
[agents.analyst]
max_tokens = 40
[agents.writer]
max_tokens = 40
"#;

fn shell(home: &Home, name: &str) -> Tmux {
    Tmux::new(
        name,
        120,
        36,
        &[
            ("EL_JEFE_DATA_DIR", home.data().display().to_string()),
            (
                "EL_JEFE_CONFIG_DIR",
                home.dir.path().join("config").display().to_string(),
            ),
            ("EL_JEFE_MODEL", model::model_path().display().to_string()),
            ("TERM", "xterm-256color".into()),
        ],
    )
}

fn launch(t: &Tmux) {
    t.run(&format!(
        "{}; echo EXIT=$?; stty -a | tr '\\n' ' ' | grep -o -- '-*isig -*icanon'",
        env!("CARGO_BIN_EXE_el-jefe")
    ));
}

/// The right-hand pane's text rows (no titles, no clock): what must hold still while paused.
fn stream_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .skip(2)
        .take(20)
        .map(|l| l.chars().skip(38).collect())
        .collect()
}

/// Waits for the shell to print how the program exited and then the terminal's line flags
/// (the typed command also contains "EXIT=", so only a line that starts with it counts; the
/// flags come a moment later, so wait for them too rather than judge a half-printed screen).
fn wait_exit(t: &Tmux) -> String {
    t.wait_for("the program to exit and stty to report", SECS(30), |s| {
        s.lines()
            .skip_while(|l| {
                !(l.starts_with("EXIT=") && l[5..].starts_with(|c: char| c.is_ascii_digit()))
            })
            .skip(1)
            .any(|l| l.contains("icanon"))
    })
}

fn exit_code(screen: &str) -> Option<i32> {
    screen
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("EXIT=")?.trim().parse().ok())
}

fn assert_terminal_restored(screen: &str) {
    // The shell prints `stty -a`'s line-discipline flags after the program exits.
    assert!(
        screen.contains("isig icanon"),
        "raw mode left on:\n{screen}"
    );
    assert!(!screen.contains("-icanon"), "raw mode left on:\n{screen}");
    assert!(
        !screen.contains("Sessions ("),
        "still on the alternate screen:\n{screen}"
    );
}

#[test]
fn a_person_runs_pauses_interrupts_quits_relaunches_and_resumes() {
    let _turn = model::exclusive_blocking();
    let home = Home::new(CONFIG);
    let t = shell(&home, "flow");
    launch(&t);
    t.wait_text("No sessions yet", SECS(30));

    // An empty dashboard starts in the command bar: just type the goal.
    t.type_text("Explain how volcanoes erupt");
    t.key("Enter");
    let screen = t.wait_for("text streaming into a running pane", SECS(60), |s| {
        s.contains("researcher · step 1/4 · running")
            && stream_rows(s)
                .first()
                .is_some_and(|r| r.chars().any(char::is_alphabetic))
    });
    assert!(screen.contains("1 researcher run"), "{screen}");

    t.key("p");
    let paused = t.wait_text("PAUSED", SECS(10));
    assert!(paused.contains("1 researcher pause"), "{paused}");
    // Held: a moment later the text has not moved.
    let before = stream_rows(&t.screen());
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        stream_rows(&t.screen()),
        before,
        "text kept streaming while paused"
    );

    t.key("p");
    t.wait_text("researcher · step 1/4 · running", SECS(10));
    t.wait_for("more text after resuming", SECS(20), |s| {
        stream_rows(s) != before
    });

    t.key("I");
    t.wait_text("Interrupt the whole session", SECS(10));
    t.key("y");
    let interrupted = t.wait_text("interrupted: r resumes it", SECS(20));
    assert!(interrupted.contains(" int "), "{interrupted}");

    t.key("q");
    let after = wait_exit(&t);
    assert_eq!(exit_code(&after), Some(0), "{after}");
    assert_terminal_restored(&after);
    t.run("clear");

    // Relaunch: the session is there, interrupted, and r resumes it to the end.
    launch(&t);
    let relaunched = t.wait_text("Sessions (1)", SECS(30));
    assert!(relaunched.contains("Explain how volcanoes"), "{relaunched}");
    assert!(relaunched.contains(" int "), "{relaunched}");
    t.key("r");
    let done = t.wait_text("completed in", SECS(120));
    assert!(done.contains(" done "), "{done}");
    assert!(done.contains("4/4 steps"), "{done}");
    t.key("q");
    let after = wait_exit(&t);
    assert_eq!(exit_code(&after), Some(0), "{after}");
    assert_terminal_restored(&after);
}

#[test]
fn sigterm_restores_the_terminal() {
    let _turn = model::exclusive_blocking();
    let home = Home::new(CONFIG);
    let t = shell(&home, "term");
    launch(&t);
    t.wait_text("No sessions yet", SECS(30));
    let pid = t.child_pid().expect("el-jefe runs in the shell");
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert_terminal_restored(&wait_exit(&t));
}

#[test]
fn a_panic_restores_the_terminal_before_the_message() {
    // The helper below, run in the terminal: it takes the terminal over, then panics.
    let home = Home::new("");
    let t = shell(&home, "panic");
    t.run(&format!(
        "EL_JEFE_PANIC_HELPER=1 RUST_BACKTRACE=0 {} --exact panic_helper --nocapture --test-threads 1; echo EXIT=$?; stty -a | tr '\\n' ' ' | grep -o -- '-*isig -*icanon'",
        std::env::current_exe().unwrap().display()
    ));
    let screen = wait_exit(&t);
    assert!(screen.contains("deliberate panic for the test"), "{screen}");
    assert_eq!(exit_code(&screen), Some(101), "{screen}");
    assert_terminal_restored(&screen);
}

/// Not a test on its own: what the panic test runs inside tmux.
#[test]
fn panic_helper() {
    if std::env::var_os("EL_JEFE_PANIC_HELPER").is_none() {
        return;
    }
    let (_terminal, _guard) = el_jefe::tui::terminal::setup().unwrap();
    panic!("deliberate panic for the test");
}

#[test]
fn ctrl_c_leaves_with_the_shell_intact() {
    let _turn = model::exclusive_blocking();
    let home = Home::new(CONFIG);
    let t = shell(&home, "ctrlc");
    launch(&t);
    t.wait_text("No sessions yet", SECS(30));
    t.key("C-c");
    let after = wait_exit(&t);
    assert_eq!(exit_code(&after), Some(0), "{after}");
    assert_terminal_restored(&after);
}
