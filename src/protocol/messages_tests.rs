use serde_json::json;

use super::*;
use crate::session::event::Event;
use crate::session::ids::StepId;

fn session() -> SessionId {
    SessionId::parse("session_20261130_120000_0a1b2c3d").unwrap()
}

/// The shapes docs/PROTOCOL.md shows are the shapes on the wire.
#[test]
fn client_messages_read_as_documented() {
    let hello: ClientMessage = serde_json::from_value(json!({
        "type": "hello", "protocol": {"major": 1, "minor": 0}, "client": "my-client/0.1",
        "token": "ej_secret"
    }))
    .unwrap();
    assert_eq!(
        hello,
        ClientMessage::Hello {
            protocol: Version { major: 1, minor: 0 },
            client: "my-client/0.1".into(),
            token: Some("ej_secret".into()),
        }
    );
    let subscribe: ClientMessage = serde_json::from_value(json!({
        "type": "subscribe",
        "from": [{"session": "session_20261130_120000_0a1b2c3d", "seq": 41}]
    }))
    .unwrap();
    assert_eq!(
        subscribe,
        ClientMessage::Subscribe {
            sessions: None,
            from: vec![Position {
                session: session(),
                seq: 41
            }],
        }
    );
    let pause: ClientMessage = serde_json::from_value(json!({
        "type": "command", "id": 7,
        "command": {"command": "pause_step", "session": "session_20261130_120000_0a1b2c3d",
                    "step": "2"}
    }))
    .unwrap();
    assert_eq!(
        pause,
        ClientMessage::Command {
            id: 7,
            command: Box::new(Command::PauseStep {
                session: session(),
                step: StepId::new("2"),
            }),
        }
    );
}

#[test]
fn server_messages_write_as_documented() {
    let events = ServerMessage::Events {
        events: vec![Arc::new(Envelope {
            seq: 42,
            at_ms: 1_764_504_000_000,
            session: session(),
            by: Some("ana".into()),
            event: Event::StepPaused {
                step: StepId::new("2"),
            },
        })],
    };
    assert_eq!(
        serde_json::to_value(&events).unwrap(),
        json!({"type": "events", "events": [{
            "seq": 42, "at_ms": 1_764_504_000_000_i64,
            "session": "session_20261130_120000_0a1b2c3d", "by": "ana",
            "event": {"type": "step_paused", "step": "2"}
        }]})
    );
    assert_eq!(
        serde_json::to_value(ServerMessage::Rejected {
            id: 7,
            reason: "no step `9`".into()
        })
        .unwrap(),
        json!({"type": "rejected", "id": 7, "reason": "no step `9`"})
    );
}

#[test]
fn only_the_same_major_version_is_compatible() {
    let v1_0 = Version { major: 1, minor: 0 };
    assert!(v1_0.compatible(Version { major: 1, minor: 3 }));
    assert!(!v1_0.compatible(Version { major: 2, minor: 0 }));
}
