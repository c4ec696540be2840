use super::*;

/// Two tools shaped like the built-in ones: one required argument, and none.
fn read_file() -> ToolSpec {
    ToolSpec {
        name: "read_file".into(),
        description: "Read a text file from the workspace.".into(),
        parameters: serde_json::json!({
            "type": "object",
            "properties": {"path": {"type": "string", "description": "a path"}},
            "required": ["path"],
        }),
    }
}

fn list_files() -> ToolSpec {
    ToolSpec {
        name: "list_files".into(),
        description: "List files and directories in the workspace.".into(),
        parameters: serde_json::json!({
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "a directory"},
                "recursive": {"type": "boolean", "description": "deeper"},
            },
            "required": [],
        }),
    }
}

fn decode(pieces: &[&str]) -> (String, Result<ToolCall, String>) {
    let mut d = ActionDecoder::new();
    let mut buffer = String::new();
    let mut text = String::new();
    for p in pieces {
        if let Some(t) = d.push(&mut buffer, p) {
            text.push_str(&t);
        }
    }
    (text, d.finish(&mut buffer))
}

#[test]
fn answers_stream_without_their_marker() {
    let (text, rest) = decode(&["ANS", "WER:", " Tides", " come", " twice."]);
    assert_eq!(text, "Tides come twice.");
    assert_eq!(rest, Err(String::new()));
}

#[test]
fn calls_become_tool_calls() {
    let (text, call) = decode(&[
        "CALL {\"tool\": \"read_file\", ",
        "\"arguments\": {\"path\": \"notes.md\"}}",
    ]);
    assert_eq!(text, "");
    let call = call.unwrap();
    assert_eq!(call.name, "read_file");
    assert_eq!(call.arguments, serde_json::json!({"path": "notes.md"}));
}

#[test]
fn a_cut_call_or_plain_text_stays_text() {
    let (_, rest) = decode(&["CALL {\"tool\": \"read_fi"]);
    assert_eq!(rest.unwrap_err(), "CALL {\"tool\": \"read_fi");
    let (text, _) = decode(&["Hello", " there"]);
    assert_eq!(text, "Hello there");
}

#[test]
fn the_grammar_spells_each_tool_with_its_required_arguments() {
    let tools = vec![read_file(), list_files()];
    let g = action_grammar(&tools, &ToolChoice::Auto);
    assert!(g.contains(r#"root ::= call | answer"#), "{g}");
    assert!(
        g.contains(r#"tool0 ::= "\"read_file\", \"arguments\": " "{" "\"path\": " string "}""#),
        "{g}"
    );
    assert!(
        g.contains(r#"tool1 ::= "\"list_files\", \"arguments\": " "{}""#),
        "{g}"
    );
}

#[test]
fn a_required_or_named_tool_leaves_no_answer_in_the_grammar() {
    let tools = vec![read_file(), list_files()];
    let g = action_grammar(&tools, &ToolChoice::Required);
    assert!(g.contains("root ::= call\n"), "{g}");
    assert!(g.contains("(tool0 | tool1)"), "{g}");
    let g = action_grammar(&tools, &ToolChoice::Tool("list_files".into()));
    assert!(g.contains("root ::= call\n"), "{g}");
    assert!(g.contains("(tool1)"), "{g}");
    // A name it is not offered: the model chooses, as with auto.
    let g = action_grammar(&tools, &ToolChoice::Tool("rm_rf".into()));
    assert!(g.contains("root ::= call | answer"), "{g}");
    assert!(g.contains("(tool0 | tool1)"), "{g}");
}

#[test]
fn history_is_written_in_the_action_format() {
    let call = ToolCall {
        id: "c1".into(),
        name: "read_file".into(),
        arguments: serde_json::json!({"path": "a.md"}),
    };
    let mut req = ChatRequest::new(vec![
        ChatMessage::system("You research."),
        ChatMessage::user("Task"),
        ChatMessage::assistant_with_tools("", vec![call]),
        ChatMessage::tool_result("c1", "file text", false),
    ]);
    req.tools = vec![read_file()].into();
    let out = action_request(req);
    assert!(out.tools.is_empty());
    assert!(out.grammar.is_some());
    assert!(
        out.messages[0]
            .content
            .contains("- read_file {\"path\": string}")
    );
    assert_eq!(
        out.messages[2].content,
        "CALL {\"tool\": \"read_file\", \"arguments\": {\"path\":\"a.md\"}}"
    );
    assert_eq!(out.messages[3].role, ChatRole::User);
    assert_eq!(out.messages[3].content, "Result of read_file:\nfile text");
}
