//! Driving a real terminal program in tmux and reading its screen, as a person would. Each
//! harness has its own tmux server (socket), so tests never touch anyone's sessions.

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A shell in a `width` x `height` terminal, with `env` set.
    pub fn new(name: &str, width: u16, height: u16, env: &[(&str, String)]) -> Tmux {
        let socket = format!("el-jefe-test-{name}-{}", std::process::id());
        let t = Tmux { socket };
        let mut args = vec![
            "new-session".to_string(),
            "-d".into(),
            "-x".into(),
            width.to_string(),
            "-y".into(),
            height.to_string(),
        ];
        for (k, v) in env {
            args.push("-e".into());
            args.push(format!("{k}={v}"));
        }
        args.push("bash --norc --noprofile".into());
        let status = t.tmux(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(status.status.success(), "tmux failed to start: {status:?}");
        t.wait_for("a shell prompt", Duration::from_secs(10), |s| {
            s.trim_end().ends_with(['$', '#'])
        });
        t
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs (scripts/setup.sh installs it)")
    }

    /// Runs a command line in the shell.
    pub fn run(&self, line: &str) {
        self.tmux(&["send-keys", "-t", "0", "-l", line]);
        self.tmux(&["send-keys", "-t", "0", "Enter"]);
    }

    /// Keys by tmux name: "p", "Enter", "Escape", "Tab", "C-c".
    pub fn key(&self, key: &str) {
        self.tmux(&["send-keys", "-t", "0", key]);
    }

    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "0", "-l", text]);
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "0"]).stdout).into_owned()
    }

    /// Polls the screen until `ready` holds; panics with the screen after `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, ready: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            if start.elapsed() > timeout {
                panic!("timed out after {timeout:?} waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_text(&self, text: &str, timeout: Duration) -> String {
        self.wait_for(&format!("{text:?}"), timeout, |s| s.contains(text))
    }

    /// The pid of the program running in the shell.
    pub fn child_pid(&self) -> Option<u32> {
        let shell = String::from_utf8_lossy(
            &self
                .tmux(&["display-message", "-p", "-t", "0", "#{pane_pid}"])
                .stdout,
        )
        .trim()
        .to_string();
        let out = Command::new("pgrep").args(["-P", &shell]).output().ok()?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}
