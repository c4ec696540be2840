use super::*;

fn id(s: &str) -> SessionId {
    SessionId::parse(s).unwrap()
}

#[test]
fn plain_text_is_a_goal() {
    assert_eq!(
        parse("  Research AI trends "),
        Ok(Some(SlashCommand::Start("Research AI trends".into())))
    );
    assert_eq!(parse("   "), Ok(None));
}

#[test]
fn commands_and_their_arguments() {
    assert_eq!(
        parse("/start-streaming podcast ideas"),
        Ok(Some(SlashCommand::Start("podcast ideas".into())))
    );
    assert_eq!(parse("/start x"), Ok(Some(SlashCommand::Start("x".into()))));
    assert_eq!(parse("/interrupt"), Ok(Some(SlashCommand::Interrupt(None))));
    let sid = "session_20260101_000000_0000000a";
    assert_eq!(
        parse(&format!("/resume {sid}")),
        Ok(Some(SlashCommand::Resume(Some(id(sid)))))
    );
    assert_eq!(parse("/mode"), Ok(Some(SlashCommand::Mode(None))));
    assert_eq!(
        parse("/mode legacy"),
        Ok(Some(SlashCommand::Mode(Some(CallMode::Legacy))))
    );
    assert_eq!(parse("/monitor"), Ok(Some(SlashCommand::Monitor)));
    assert_eq!(parse("/quit"), Ok(Some(SlashCommand::Quit)));
}

#[test]
fn a_doubled_slash_is_one() {
    // `/` opens the bar with a slash; typing the command as written adds a second one.
    assert_eq!(
        parse("//start-streaming Research AI trends"),
        Ok(Some(SlashCommand::Start("Research AI trends".into())))
    );
    assert_eq!(parse("//metrics"), Ok(Some(SlashCommand::Metrics)));
    assert_eq!(parse("///help"), Ok(Some(SlashCommand::Help)));
    assert_eq!(completions("//mon", &[]), vec!["/monitor ".to_string()]);
}

#[test]
fn plan_edit_commands() {
    assert_eq!(
        parse("/add-step writer Sum it up after 2, 3"),
        Ok(Some(SlashCommand::AddStep {
            agent: "writer".into(),
            text: "Sum it up after 2, 3".into()
        }))
    );
    assert_eq!(
        parse("/remove-step 2"),
        Ok(Some(SlashCommand::RemoveStep("2".into())))
    );
    assert_eq!(
        parse("/edit-step 2 writer"),
        Ok(Some(SlashCommand::EditStep {
            step: "2".into(),
            text: "writer".into()
        }))
    );
    assert_eq!(
        parse("/set-deps 4 1,2"),
        Ok(Some(SlashCommand::SetDeps {
            step: "4".into(),
            after: vec!["1".into(), "2".into()]
        }))
    );
    assert_eq!(
        parse("/set-deps 4 none"),
        Ok(Some(SlashCommand::SetDeps {
            step: "4".into(),
            after: vec![]
        }))
    );
    assert_eq!(
        parse("/save-plan plans/podcast.toml"),
        Ok(Some(SlashCommand::SavePlan("plans/podcast.toml".into())))
    );
    for (bad, usage) in [
        ("/add-step writer", "usage: /add-step"),
        ("/remove-step", "usage: /remove-step"),
        ("/remove-step 1 2", "usage: /remove-step"),
        ("/edit-step 2", "usage: /edit-step"),
        ("/set-deps", "usage: /set-deps"),
        ("/save-plan", "usage: /save-plan"),
    ] {
        assert!(parse(bad).unwrap_err().starts_with(usage), "{bad}");
    }
}

#[test]
fn mistakes_get_one_line_reasons() {
    assert_eq!(parse("/start"), Err("usage: /start <goal>".into()));
    assert_eq!(
        parse("/frobnicate now"),
        Err("unknown command /frobnicate (type /help for the list)".into())
    );
    assert!(
        parse("/resume nonsense")
            .unwrap_err()
            .contains("is not a session id")
    );
    assert_eq!(
        parse("/status now"),
        Err("/status takes no arguments".into())
    );
    assert!(parse("/mode fast").unwrap_err().contains("unknown mode"));
}

#[test]
fn tab_completes_command_names_then_session_ids() {
    assert_eq!(completions("/mo", &[]), ["/monitor ", "/mode "]);
    assert_eq!(
        completions("/st", &[]),
        ["/start-streaming ", "/start ", "/status ", "/stats "]
    );
    let ids = [
        id("session_20260101_000000_0000000a"),
        id("session_20260102_000000_0000000b"),
    ];
    assert_eq!(
        completions("/resume session_202601", &ids),
        [
            "/resume session_20260101_000000_0000000a",
            "/resume session_20260102_000000_0000000b"
        ]
    );
    assert_eq!(
        completions("/resume session_20260102", &ids),
        ["/resume session_20260102_000000_0000000b"]
    );
    assert!(completions("/status ", &ids).is_empty());
    assert!(completions("a goal", &ids).is_empty());
}

#[test]
fn seek_takes_a_time_an_event_or_a_share() {
    use super::SeekTarget;
    assert_eq!(
        parse("/seek 1m20s"),
        Ok(Some(SlashCommand::Seek(SeekTarget::Time(80_000))))
    );
    assert_eq!(
        parse("/seek #1234"),
        Ok(Some(SlashCommand::Seek(SeekTarget::Event(1234))))
    );
    assert_eq!(
        parse("/seek 50%"),
        Ok(Some(SlashCommand::Seek(SeekTarget::Percent(50))))
    );
    assert!(parse("/seek 150%").unwrap_err().contains("0% to 100%"));
    assert!(
        parse("/seek #x")
            .unwrap_err()
            .contains("not an event number")
    );
    assert!(parse("/seek").unwrap_err().starts_with("usage: /seek"));
    assert_eq!(parse("/replay"), Ok(Some(SlashCommand::Replay(None))));
}
