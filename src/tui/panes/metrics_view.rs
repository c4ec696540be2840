//! /metrics: agent, workflow and system metrics, with charts.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Paragraph, Sparkline};

use crate::format::{group_thousands, seconds, speedup};
use crate::session::metrics::system_metrics;
use crate::session::metrics_text::{
    failed_attempts_line, inherited_line, planner_line, token_totals,
};
use crate::tui::app::App;
use crate::tui::theme;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let [rates, middle, bottom] = Layout::vertical([
        Constraint::Percentage(40),
        Constraint::Fill(1),
        Constraint::Length(7),
    ])
    .areas(area);
    agent_rates(app, frame, rates);
    let [tokens, status] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Fill(1)]).areas(middle);
    tokens_per_agent(app, frame, tokens);
    status_distribution(app, frame, status);
    let [workflow, system] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Fill(1)]).areas(bottom);
    workflow_panel(app, frame, workflow);
    system_panel(app, frame, system);
}

/// One sparkline per agent: every running agent, or when none runs, the selected session's.
fn agent_rates(app: &App, frame: &mut Frame, area: Rect) {
    let block = Block::bordered()
        .title(" Tokens/s per agent (last 2 min) ")
        .border_style(theme::border(false));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut rows = Vec::new();
    let any_live = app
        .sessions
        .iter()
        .any(|s| s.state.steps.iter().any(|x| x.status.is_live()));
    for (index, session) in app.sessions.iter().enumerate() {
        if !any_live && index != app.selected {
            continue;
        }
        for (i, step) in session.state.steps.iter().enumerate() {
            let Some(history) = session.rates.get(&step.spec.id) else {
                continue;
            };
            if any_live && !step.status.is_live() {
                continue;
            }
            let label = format!(
                "{} · {}/{} · {}",
                step.spec.agent,
                i + 1,
                session.state.steps.len(),
                session.state.goal
            );
            rows.push((label, history, session.rate(&step.spec.id)));
        }
    }
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no agent has streamed yet", theme::dim())),
            inner,
        );
        return;
    }
    let label_width = 36u16.min(inner.width / 2);
    for (row, (label, history, rate)) in rows.iter().enumerate().take(inner.height as usize) {
        let y = inner.y + row as u16;
        let line_area = Rect::new(inner.x, y, inner.width, 1);
        let [name, chart, value] = Layout::horizontal([
            Constraint::Length(label_width),
            Constraint::Fill(1),
            Constraint::Length(11),
        ])
        .areas(line_area);
        frame.render_widget(
            Paragraph::new(theme::clip(label, label_width as usize)),
            name,
        );
        let width = chart.width as usize;
        let data: Vec<u64> = history
            .per_second
            .iter()
            .skip(history.per_second.len().saturating_sub(width))
            .copied()
            .collect();
        frame.render_widget(
            Sparkline::default()
                .data(&data)
                .style(Style::default().fg(Color::Green)),
            chart,
        );
        let rate = rate.map_or("-".to_string(), |r| format!("{r:.0} tok/s"));
        frame.render_widget(Paragraph::new(format!(" {rate:>9}")), value);
    }
    if rows.len() > inner.height as usize {
        let more = rows.len() - inner.height as usize;
        let note = Rect::new(inner.x, inner.bottom().saturating_sub(1), inner.width, 1);
        frame.render_widget(
            Paragraph::new(format!("+{more} more agents")).style(theme::dim()),
            note,
        );
    }
}

fn tokens_per_agent(app: &App, frame: &mut Frame, area: Rect) {
    let block = Block::bordered()
        .title(" Tokens per agent (selected session) ")
        .border_style(theme::border(false));
    let Some(session) = app.session() else {
        frame.render_widget(block, area);
        return;
    };
    let per_agent = session.state.agent_metrics();
    let bars: Vec<Bar> = per_agent
        .iter()
        .map(|(agent, m)| {
            Bar::default()
                .value(m.total_tokens())
                .label(Line::raw(agent.clone()))
                .text_value(group_thousands(m.total_tokens()))
        })
        .collect();
    if bars.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no tokens yet", theme::dim())).block(block),
            area,
        );
        return;
    }
    let inner_width = area.width.saturating_sub(2);
    let bar_width = (inner_width / bars.len().max(1) as u16)
        .saturating_sub(1)
        .clamp(3, 12);
    frame.render_widget(
        BarChart::default()
            .block(block)
            .data(BarGroup::default().bars(&bars))
            .bar_width(bar_width)
            .bar_gap(1)
            .bar_style(Style::default().fg(Color::Cyan)),
        area,
    );
}

fn status_distribution(app: &App, frame: &mut Frame, area: Rect) {
    let block = Block::bordered()
        .title(" Status ")
        .border_style(theme::border(false));
    let system = system_metrics(app.sessions.iter().map(|s| &s.state));
    let mut lines = vec![Line::raw(format!("sessions ({})", system.sessions))];
    let widest = system.by_status.values().copied().max().unwrap_or(1).max(1);
    for (status, n) in &system.by_status {
        let bar = "█".repeat((n * 20).div_ceil(widest));
        lines.push(Line::from(vec![
            Span::raw(format!("  {status:<12}")),
            Span::styled(bar, Style::default().fg(Color::Cyan)),
            Span::raw(format!(" {n}")),
        ]));
    }
    if let Some(session) = app.session() {
        let c = session.state.metrics(app.now_for(&session.state.id)).steps;
        lines.push(Line::raw(""));
        lines.push(Line::raw("steps of the selected session"));
        for (label, n) in [
            ("pending", c.pending),
            ("running", c.running),
            ("paused", c.paused),
            ("completed", c.completed),
            ("failed", c.failed),
            ("interrupted", c.interrupted),
        ] {
            if n > 0 {
                lines.push(Line::raw(format!("  {label:<12}{n}")));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn workflow_panel(app: &App, frame: &mut Frame, area: Rect) {
    let block = Block::bordered()
        .title(" Workflow (selected session) ")
        .border_style(theme::border(false));
    let Some(session) = app.session() else {
        frame.render_widget(block, area);
        return;
    };
    let m = session.state.metrics(app.now_for(&session.state.id));
    let t = &m.totals;
    let mut lines = vec![
        Line::raw(format!(
            "steps {}/{} · parallel speedup {}",
            m.steps.completed,
            m.steps.total(),
            speedup(m.speedup),
        )),
        Line::raw(format!(
            "wall {} · step time {} (sum over agents)",
            seconds(m.wall_ms),
            seconds(m.step_time_ms),
        )),
        Line::raw(token_totals(t)),
        Line::raw(format!(
            "time to first token {} · avg response {}",
            t.avg_ttft_ms().map_or("-".into(), seconds),
            t.avg_response_ms().map_or("-".into(), seconds),
        )),
    ];
    // Where the totals came from, each part apart.
    lines.extend(
        planner_line(&session.state)
            .into_iter()
            .chain(failed_attempts_line(&m))
            .chain(inherited_line(&m))
            .map(|line| Line::styled(line, theme::dim())),
    );
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(block),
        area,
    );
}

fn system_panel(app: &App, frame: &mut Frame, area: Rect) {
    let block = Block::bordered()
        .title(" System ")
        .border_style(theme::border(false));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let system = system_metrics(app.sessions.iter().map(|s| &s.state));
    let cpu = app
        .process
        .current_cpu()
        .map_or("-".into(), |c| format!("{c}%"));
    let rss = app.process.rss_bytes as f64 / (1024.0 * 1024.0);
    let [text, chart] = Layout::vertical([Constraint::Length(2), Constraint::Fill(1)]).areas(inner);
    frame.render_widget(
        Paragraph::new(vec![
            Line::raw(format!(
                "active sessions {} of {}",
                system.active_sessions, system.sessions
            )),
            Line::raw(format!(
                "el-jefe process: CPU {cpu} of a core · memory {rss:.1} MiB"
            )),
        ]),
        text,
    );
    let data: Vec<u64> = app
        .process
        .cpu
        .iter()
        .skip(app.process.cpu.len().saturating_sub(chart.width as usize))
        .copied()
        .collect();
    frame.render_widget(
        Sparkline::default()
            .data(&data)
            .max(100)
            .style(Style::default().fg(Color::Yellow)),
        chart,
    );
}
