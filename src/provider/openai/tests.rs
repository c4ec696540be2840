use super::*;

fn decode(events: &[&str]) -> Result<Vec<Decoded>, ProviderError> {
    let mut d = OpenAiWire.stream_decoder("srv");
    let mut out = Vec::new();
    for data in events {
        out.extend(d.event(&SseEvent {
            name: String::new(),
            data: data.to_string(),
        })?);
    }
    Ok(out)
}

#[test]
fn tool_call_fragments_merge_by_index() {
    let out = decode(&[
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"read","arguments":""}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"b","function":{"name":"list","arguments":"{}"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"a.md\"}"}}]},"finish_reason":"tool_calls"}]}"#,
        "[DONE]",
    ])
    .unwrap();
    assert_eq!(
        out,
        vec![
            Decoded::ToolCall(ToolCall {
                id: "a".into(),
                name: "read".into(),
                arguments: json!({"path": "a.md"})
            }),
            Decoded::ToolCall(ToolCall {
                id: "b".into(),
                name: "list".into(),
                arguments: json!({})
            }),
            Decoded::Done {
                usage: None,
                finish: FinishReason::ToolCalls
            },
        ]
    );
}

#[test]
fn whole_calls_without_index_or_id_and_finish_with_content() {
    // Ollama: whole calls, no index; vLLM: no id, finish_reason beside content.
    let out = decode(&[
        r#"{"choices":[{"index":0,"delta":{"content":"x","tool_calls":[{"function":{"name":"a","arguments":"{\"k\":1}"}},{"function":{"name":"b","arguments":"not json"}}]},"finish_reason":"tool_calls"}]}"#,
        "[DONE]",
    ])
    .unwrap();
    assert_eq!(out[0], Decoded::Text("x".into()));
    assert_eq!(
        out[1],
        Decoded::ToolCall(ToolCall {
            id: "call_0".into(),
            name: "a".into(),
            arguments: json!({"k": 1})
        })
    );
    assert_eq!(
        out[2],
        Decoded::ToolCall(ToolCall {
            id: "call_1".into(),
            name: "b".into(),
            arguments: json!("not json")
        })
    );
}

#[test]
fn usage_chunk_and_cached_tokens() {
    let out = decode(&[
        r#"{"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}"#,
        r#"{"choices":[],"usage":{"prompt_tokens":30,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":10}}}"#,
        "[DONE]",
    ])
    .unwrap();
    assert_eq!(
        out.last().unwrap(),
        &Decoded::Done {
            usage: Some(Usage {
                input_tokens: 20,
                output_tokens: 2,
                cache_read_tokens: 10,
                cache_creation_tokens: 0,
                estimated: false
            }),
            finish: FinishReason::Stop
        }
    );
}

#[test]
fn a_mid_stream_error_and_bad_json_fail_the_call() {
    let e =
        decode(&[r#"{"error":{"message":"The server is overloaded","type":"overloaded_error"}}"#])
            .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Overloaded);
    assert_eq!(e.message, "srv reported an error: The server is overloaded");
    let e = decode(&[r#"{"choices":[{"delta":{"content":"a"#]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Malformed);
}

#[test]
fn assistant_tool_calls_and_results_go_back_in_openai_shape() {
    let mut req = ChatRequest::new(vec![
        ChatMessage::user("q"),
        ChatMessage::assistant_with_tools(
            "",
            vec![ToolCall {
                id: "c1".into(),
                name: "read".into(),
                arguments: json!({"p": 1}),
            }],
        ),
        ChatMessage::tool_result("c1", "contents", false),
    ]);
    req.stop = vec!["END".into()];
    let mut settings = HttpSettings::new("srv", "http://x/v1", "m");
    settings.max_tokens = Some(100);
    let body = request_body(&settings, &req, true);
    assert_eq!(body["max_tokens"], 100);
    assert_eq!(body["stop"], json!(["END"]));
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    assert_eq!(
        body["messages"][1],
        json!({"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"read","arguments":"{\"p\":1}"}}]})
    );
    assert_eq!(
        body["messages"][2],
        json!({"role":"tool","tool_call_id":"c1","content":"contents"})
    );
    settings.stream_usage = false;
    assert!(
        request_body(&settings, &req, true)
            .get("stream_options")
            .is_none()
    );
    assert!(
        request_body(&settings, &req, false)
            .get("stream_options")
            .is_none()
    );
}
