use std::path::Path;

use super::*;
use crate::provider::model_file::MODEL_FILE_NAME;
use std::collections::HashMap;

fn dirs(root: &Path) -> AppDirs {
    AppDirs {
        data: root.join("data"),
        config: root.join("config"),
    }
}

fn load(
    root: &Path,
    file: Option<&str>,
    env: &[(&str, &str)],
    flags: &Overrides,
) -> Result<Config, ConfigError> {
    let d = dirs(root);
    if let Some(text) = file {
        std::fs::create_dir_all(&d.config).unwrap();
        std::fs::write(d.config_file(), text).unwrap();
    }
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::load_with(&d, |k| env.get(k).cloned(), flags)
}

#[test]
fn defaults_without_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let c = load(dir.path(), None, &[], &Overrides::default()).unwrap();
    assert_eq!(c.engine.max_parallel, 3);
    assert_eq!(c.engine.mode, CallMode::Streaming);
    assert!(c.local.pinned);
    assert_eq!(
        c.local.model_path,
        dir.path().join("data/models").join(MODEL_FILE_NAME)
    );
    assert_eq!(c.engine.workspace_root, dir.path().join("data/workspaces"));
    assert!(c.file.is_none());
}

#[test]
fn file_then_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = "max_parallel = 2\nmode = \"legacy\"\n[agents.writer]\nmax_tokens = 50\n[local]\nthreads = 1\n";
    let c = load(dir.path(), Some(file), &[], &Overrides::default()).unwrap();
    assert_eq!(c.engine.max_parallel, 2);
    assert_eq!(c.engine.mode, CallMode::Legacy);
    assert_eq!(c.engine.roles.get("writer").unwrap().max_tokens, 50);
    assert_eq!(c.local.threads, 1);
    let c = load(
        dir.path(),
        Some(file),
        &[(ENV_MAX_PARALLEL, "5"), (ENV_MODE, "streaming")],
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(c.engine.max_parallel, 5);
    assert_eq!(c.engine.mode, CallMode::Streaming);
    let flags = Overrides {
        max_parallel: Some(7),
        model_file: Some("/m/other.gguf".into()),
        ..Default::default()
    };
    let c = load(dir.path(), Some(file), &[(ENV_MAX_PARALLEL, "5")], &flags).unwrap();
    assert_eq!(c.engine.max_parallel, 7);
    assert!(
        !c.local.pinned,
        "a custom model is not checked against the pinned hash"
    );
}

#[test]
fn a_bad_file_names_the_file_the_line_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let err = load(
        dir.path(),
        Some("max_parallel = 2\nmax_paralel = 3\n"),
        &[],
        &Overrides::default(),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("config.toml"), "{text}");
    assert!(text.contains("line 2"), "{text}");
    assert!(text.contains("max_paralel"), "{text}");

    let err = load(
        dir.path(),
        Some("max_parallel = \"many\"\n"),
        &[],
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("line 1"), "{err}");
    let err = load(
        dir.path(),
        Some("max_parallel = 0\n"),
        &[],
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(
        err.message.contains("max_parallel = 0 is outside 1 to 32"),
        "{err}"
    );
    let err = load(
        dir.path(),
        Some("[agents.poet]\nmax_tokens = 3\n"),
        &[],
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(err.message.contains("no such agent"), "{err}");
    let err = load(
        dir.path(),
        Some("[agents.writer]\nmax_tokens = 30\nmin_tokens = 40\n"),
        &[],
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(
        err.message
            .contains("agents.writer.min_tokens = 40 is more than agents.writer.max_tokens = 30"),
        "{err}"
    );
}

#[test]
fn bad_environment_values_name_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let err = load(
        dir.path(),
        None,
        &[(ENV_MAX_PARALLEL, "lots")],
        &Overrides::default(),
    )
    .unwrap_err();
    assert_eq!(err.origin, "environment variable EL_JEFE_MAX_PARALLEL");
    let err = load(
        dir.path(),
        None,
        &[(ENV_MODE, "fast")],
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(err.message.contains("streaming or legacy"));
    let err = load(
        dir.path(),
        None,
        &[(ENV_CONFIG_FILE, "/nope/x.toml")],
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("/nope/x.toml"));
}
