use super::*;

fn decode(events: &[(&str, &str)]) -> Result<Vec<Decoded>, ProviderError> {
    let mut d = AnthropicWire.stream_decoder("claude");
    let mut out = Vec::new();
    for (name, data) in events {
        out.extend(d.event(&SseEvent {
            name: name.to_string(),
            data: data.to_string(),
        })?);
    }
    Ok(out)
}

#[test]
fn text_tool_use_thinking_usage_and_stop() {
    let out = decode(&[
        ("message_start", r#"{"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":25,"output_tokens":1,"cache_read_input_tokens":7}}}"#),
        ("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#),
        ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#),
        ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"x"}}"#),
        ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
        ("ping", r#"{"type":"ping"}"#),
        ("content_block_start", r#"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#),
        ("content_block_delta", r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hi"}}"#),
        ("content_block_stop", r#"{"type":"content_block_stop","index":1}"#),
        ("content_block_start", r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"t1","name":"read","input":{}}}"#),
        ("content_block_delta", r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}"#),
        ("content_block_delta", r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"path\": \"a"}}"#),
        ("content_block_delta", r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":".md\"}"}}"#),
        ("content_block_stop", r#"{"type":"content_block_stop","index":2}"#),
        ("something_new", r#"{"type":"something_new"}"#),
        ("message_delta", r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":30}}"#),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ])
    .unwrap();
    assert_eq!(
        out,
        vec![
            Decoded::Text("Hi".into()),
            Decoded::ToolCall(ToolCall {
                id: "t1".into(),
                name: "read".into(),
                arguments: json!({"path": "a.md"})
            }),
            Decoded::Done {
                usage: Some(Usage {
                    input_tokens: 25,
                    output_tokens: 30,
                    cache_read_tokens: 7,
                    cache_creation_tokens: 0,
                    estimated: false
                }),
                finish: FinishReason::ToolCalls
            }
        ]
    );
}

#[test]
fn a_mid_stream_error_event_fails_with_the_providers_message() {
    let e = decode(&[
        (
            "message_start",
            r#"{"type":"message_start","message":{"usage":{"input_tokens":1}}}"#,
        ),
        (
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ),
    ])
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Overloaded);
    assert_eq!(e.message, "claude reported an error: Overloaded");
    assert!(e.retryable());
}

#[test]
fn tool_results_lead_the_next_user_turn_and_none_dangle() {
    let call = |id: &str| ToolCall {
        id: id.into(),
        name: "read".into(),
        arguments: json!({}),
    };
    let messages = vec![
        ChatMessage::system("be brief"),
        ChatMessage::user("q"),
        ChatMessage::assistant_with_tools("let me look", vec![call("a"), call("b")]),
        ChatMessage::tool_result("b", "B", false),
        ChatMessage::tool_result("a", "A", true),
        ChatMessage::user("and now?"),
        ChatMessage::assistant_with_tools("", vec![call("c")]),
    ];
    let conv = conversation(&messages);
    assert_eq!(conv.len(), 5);
    assert_eq!(conv[0], json!({"role":"user","content":"q"}));
    assert_eq!(
        conv[1]["content"][0],
        json!({"type":"text","text":"let me look"})
    );
    assert_eq!(conv[1]["content"][1]["type"], "tool_use");
    assert_eq!(
        conv[2],
        json!({"role":"user","content":[
            {"type":"tool_result","tool_use_id":"a","content":"A","is_error":true},
            {"type":"tool_result","tool_use_id":"b","content":"B","is_error":false},
            {"type":"text","text":"and now?"}
        ]})
    );
    // The last turn was cut before its tool ran: it gets an error result, not a gap.
    assert_eq!(conv[4]["content"][0]["tool_use_id"], "c");
    assert_eq!(conv[4]["content"][0]["is_error"], true);
    let body = request_body(
        &HttpSettings::new("c", "http://x", "m"),
        &ChatRequest::new(messages),
        true,
    );
    assert_eq!(body["system"], "be brief");
}
