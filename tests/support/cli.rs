//! Running the real `el-jefe` binary in an isolated home, as a person would.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use tempfile::TempDir;

use super::model;

/// Short answers keep the runs quick. A tiny planner budget makes the model's plan unfinishable,
/// so the session falls back to the fixed research -> analyze -> write plan: three steps in a
/// row, which is what the kill test needs. Each answer is exactly 48 tokens, so a run always
/// lasts long enough to be killed or interrupted before it ends (without tools: the action
/// format's grammar decides where a reply ends, and the minimum does not apply to it).
pub const FIXED_THREE_STEPS: &str = r#"
[planner]
max_tokens = 16
[agents.researcher]
max_tokens = 48
min_tokens = 48
tools = []
[agents.analyst]
max_tokens = 48
min_tokens = 48
tools = []
[agents.writer]
max_tokens = 48
min_tokens = 48
tools = []
"#;

pub struct Home {
    pub dir: TempDir,
}

impl Home {
    /// A fresh data and config directory; `config` is written as config.toml.
    pub fn new(config: &str) -> Home {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        std::fs::write(dir.path().join("config/config.toml"), config).unwrap();
        Home { dir }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_el-jefe"));
        cmd.args(args)
            .env("EL_JEFE_DATA_DIR", self.data())
            .env("EL_JEFE_CONFIG_DIR", self.dir.path().join("config"))
            .env("EL_JEFE_MODEL", model::model_path())
            .env_remove("EL_JEFE_CONFIG")
            .env_remove("EL_JEFE_MAX_PARALLEL")
            .env_remove("EL_JEFE_MODE");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("el-jefe runs")
    }

    pub fn spawn_json(&self, args: &[&str]) -> JsonChild {
        let child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("el-jefe starts");
        JsonChild::new(child)
    }
}

/// A running `el-jefe ... --json`, read one event at a time.
pub struct JsonChild {
    pub child: Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
    pub seen: Vec<serde_json::Value>,
}

impl JsonChild {
    fn new(mut child: Child) -> Self {
        let stdout = child.stdout.take().unwrap();
        JsonChild {
            child,
            lines: BufReader::new(stdout).lines(),
            seen: Vec::new(),
        }
    }

    /// Reads events until one matches; None if the output ends first.
    pub fn until(
        &mut self,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> Option<serde_json::Value> {
        for line in self.lines.by_ref() {
            let line = line.ok()?;
            let value: serde_json::Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            self.seen.push(value.clone());
            if wanted(&value) {
                return Some(value);
            }
        }
        None
    }

    pub fn finish(mut self) -> (std::process::ExitStatus, Vec<serde_json::Value>, String) {
        self.until(|_| false);
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut stderr);
        }
        let status = self.child.wait().unwrap();
        (status, self.seen, stderr)
    }
}

pub fn event_type(v: &serde_json::Value) -> &str {
    v["event"]["type"]
        .as_str()
        .unwrap_or_else(|| v["type"].as_str().unwrap_or(""))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn read_json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}
