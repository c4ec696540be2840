//! Things drawn over the dashboard, with the keys they answer to: the help, a yes/no question,
//! the too-small notice.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::tui::actions::{Action, Navigate, Steer};
use crate::tui::slash_command::COMMANDS;
use crate::tui::theme;

const KEYS: &[(&str, &str)] = &[
    (
        "tab / shift-tab",
        "move focus between sessions, steps and streams",
    ),
    (
        "j k, up down, g",
        "move the selection (between agents in the stream pane); g: first",
    ),
    (
        "enter",
        "open: session -> steps -> the step's stream at full width",
    ),
    (
        "p / P",
        "pause or resume the selected agent / pause or unpause the whole session",
    ),
    (
        "i / I",
        "interrupt the selected agent / the whole session (asks first)",
    ),
    ("r", "resume an interrupted, failed or edited session"),
    (
        "e / x / +",
        "edit / remove the selected step, add a step (re-runs are previewed first)",
    ),
    (
        "a",
        "answer tool calls waiting for approval (prompt: y once, a session, n deny)",
    ),
    (
        "PgUp PgDn, wheel",
        "scroll the stream (up stops following); Home top, End or G follow",
    ),
    (
        ": or /",
        "the command bar, to type a goal (:) or a command (/); esc leaves it",
    ),
    (
        "R / c",
        "replay the session (space play, ←/→ step, f fork here); c, c on another: compare",
    ),
    (
        "esc",
        "back: out of full width, out of a view or replay, clear the message",
    ),
    (
        "q, ctrl-c",
        "quit (asks first if work is running; sessions are saved)",
    ),
];

pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    h
}

pub fn help(frame: &mut Frame, area: Rect) {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut lines = vec![Line::styled("Keys", bold)];
    lines.extend(KEYS.iter().map(|(k, what)| {
        Line::from(vec![
            Span::styled(format!("  {k:<18}"), bold),
            Span::raw(*what),
        ])
    }));
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Commands (type in the bar; text without / starts a goal)",
        bold,
    ));
    let width = COMMANDS
        .iter()
        .map(|(name, args, _)| name.len() + args.len() + 2)
        .max()
        .unwrap_or(0);
    lines.extend(
        COMMANDS
            .iter()
            // The alias is named in /start-streaming's line, /seek in R's.
            .filter(|(name, _, _)| !matches!(*name, "/start" | "/seek" | "/stats" | "/compare"))
            .map(|(name, args, what)| {
                Line::from(vec![
                    Span::styled(format!("  {:<width$}", format!("{name} {args}")), bold),
                    Span::raw(*what),
                ])
            }),
    );
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Status: plan run pause done fail int; * = run by another el-jefe process",
        theme::dim(),
    ));
    let rect = centered(area, 110, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Help (?): esc closes ")),
        rect,
    );
}

/// The help closes with esc, ? or q; other keys do nothing while it is open.
pub fn help_key(key: KeyEvent) -> Option<Action> {
    matches!(key.code, KeyCode::Esc | KeyCode::Char('?' | 'q'))
        .then_some(Action::Navigate(Navigate::CloseOverlay))
}

#[expect(
    clippy::wildcard_enum_match_arm,
    reason = "a key map names the keys it handles; every other key does nothing"
)]
pub fn confirm_key(key: KeyEvent) -> Option<Action> {
    match key.code {
        KeyCode::Char('y' | 'Y') | KeyCode::Enter => Some(Action::Steer(Steer::Confirm(true))),
        KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(Action::Steer(Steer::Confirm(false))),
        _ => None,
    }
}

pub fn confirm(frame: &mut Frame, area: Rect, question: &str) {
    let rect = centered(area, 64, 6);
    frame.render_widget(Clear, rect);
    let text = vec![
        Line::raw(question.to_string()),
        Line::raw(""),
        Line::styled("y / enter: yes     n / esc: no", theme::dim()),
    ];
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: true }).block(
            Block::bordered()
                .title(" Confirm ")
                .border_style(theme::border(true)),
        ),
        rect,
    );
}

pub fn too_small(frame: &mut Frame, area: Rect, need: (u16, u16)) {
    let text = format!(
        "Terminal too small: {}x{}, el-jefe needs at least {}x{}. Enlarge it, or press q to quit.",
        area.width, area.height, need.0, need.1
    );
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
}
