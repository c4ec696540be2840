use super::*;

#[test]
fn variables_expand_like_claude_code() {
    let env = |n: &str| (n == "HOME").then(|| "/home/me".to_string());
    assert_eq!(expand("${HOME}/x", &env), "/home/me/x");
    assert_eq!(expand("${NOPE:-fallback}-${NOPE}", &env), "fallback-");
    assert_eq!(expand("plain ${unclosed", &env), "plain ${unclosed");
    assert_eq!(tool_name_part("my.server/x"), "my_server_x");
}

#[test]
fn server_files_merge_and_broken_ones_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("user.json");
    let project = dir.path().join(".mcp.json");
    std::fs::write(
        &user,
        r#"{"mcpServers": {"a": {"command": "x"}, "b": {"command": "y"}}}"#,
    )
    .unwrap();
    std::fs::write(
        &project,
        r#"{"mcpServers": {"b": {"type": "stdio", "command": "z", "args": ["1"]}}}"#,
    )
    .unwrap();
    let servers = load_servers(&[&user, &project, &dir.path().join("missing.json")]).unwrap();
    assert_eq!(servers["a"].command.as_deref(), Some("x"));
    assert_eq!(servers["b"].command.as_deref(), Some("z"));
    assert_eq!(servers["b"].args, ["1"]);
    std::fs::write(&project, "{not json").unwrap();
    let e = load_servers(&[&project]).unwrap_err();
    assert!(e.contains(".mcp.json: not a valid MCP server file"), "{e}");
}

#[tokio::test]
async fn a_server_that_cannot_start_is_reported_not_fatal() {
    let mut configs = BTreeMap::new();
    configs.insert(
        "ghost".to_string(),
        McpServerConfig {
            transport: None,
            command: Some("/nonexistent/mcp-server".into()),
            args: vec![],
            env: BTreeMap::new(),
            cwd: None,
        },
    );
    configs.insert(
        "quitter".to_string(),
        McpServerConfig {
            transport: None,
            command: Some("sh".into()),
            args: vec!["-c".into(), "echo 'bad token' >&2; exit 1".into()],
            env: BTreeMap::new(),
            cwd: None,
        },
    );
    configs.insert(
        "web".to_string(),
        McpServerConfig {
            transport: Some("http".into()),
            command: None,
            args: vec![],
            env: BTreeMap::new(),
            cwd: None,
        },
    );
    let hub = McpHub::start(&configs).await;
    let statuses = hub.statuses();
    let status = |n: &str| statuses.iter().find(|s| s.0 == n).unwrap().1.clone();
    assert!(
        matches!(status("ghost"), ServerStatus::Failed(m) if m.contains("could not start")),
        "{statuses:?}"
    );
    assert!(
        matches!(status("quitter"), ServerStatus::Failed(m) if m.contains("did not start")),
        "{statuses:?}"
    );
    assert!(
        matches!(status("web"), ServerStatus::Failed(m) if m.contains("not supported")),
        "{statuses:?}"
    );
    assert!(hub.tools().is_empty());
    let e = hub
        .call("quitter", "x", &Value::Null, 100)
        .await
        .unwrap_err();
    assert!(e.message.contains("not running"), "{e}");
}
