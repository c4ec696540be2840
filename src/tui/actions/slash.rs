//! The command bar: a goal typed to start, or a slash command to run.

use super::{Bar, Replay};
use crate::engine::EngineClosed;
use crate::tui::app::{App, Focus, Overlay, View};
use crate::tui::slash_command::{SlashCommand, parse};

impl App {
    pub(super) fn command_bar(&mut self, bar: Bar) -> Result<(), EngineClosed> {
        match bar {
            Bar::Focus(start) => {
                self.focus_bar(start);
                Ok(())
            }
            Bar::Leave => {
                self.focus = self.focus_before_bar;
                Ok(())
            }
            Bar::Run(line) => {
                self.focus = self.focus_before_bar;
                match parse(&line) {
                    Ok(Some(command)) => self.run_command(command),
                    Ok(None) => Ok(()),
                    Err(reason) => {
                        self.complain(reason);
                        Ok(())
                    }
                }
            }
        }
    }

    pub(super) fn focus_bar(&mut self, start: String) {
        if self.focus != Focus::CommandBar {
            self.focus_before_bar = self.focus;
        }
        self.focus = Focus::CommandBar;
        self.bar.set_text(start);
    }

    pub(super) fn run_command(&mut self, command: SlashCommand) -> Result<(), EngineClosed> {
        match command {
            SlashCommand::Start(goal) => {
                let id = self.engine.start_session(&goal)?;
                self.select_when_seen = Some(id);
                self.view = View::Dashboard;
                self.say(format!("starting: {goal}"));
                Ok(())
            }
            SlashCommand::Interrupt(id) => {
                let Some(id) = self.target(id) else {
                    return Ok(());
                };
                self.engine.interrupt_session(&id)
            }
            SlashCommand::Pause(id) => self.toggle_pause_session(id),
            SlashCommand::Resume(id) => self.resume(id),
            SlashCommand::Status => {
                let line = self.status_line();
                self.say(line);
                Ok(())
            }
            SlashCommand::Monitor => {
                self.view = if self.view == View::Monitor {
                    View::Dashboard
                } else {
                    View::Monitor
                };
                Ok(())
            }
            SlashCommand::Metrics => {
                self.view = if self.view == View::Metrics {
                    View::Dashboard
                } else {
                    View::Metrics
                };
                Ok(())
            }
            SlashCommand::Compare(a, b) => {
                // One id: the selected session is A, the one named B.
                let pair = match (b, self.session().map(|s| s.state.id.clone())) {
                    (Some(b), _) => Some((a, b)),
                    (None, Some(selected)) => Some((selected, a)),
                    (None, None) => None,
                };
                if let Some((a, b)) = pair {
                    self.open_compare(a, b);
                }
                Ok(())
            }
            SlashCommand::Stats => {
                if self.view == View::Analytics {
                    self.view = View::Dashboard;
                } else {
                    self.view = View::Analytics;
                    self.update_analytics();
                }
                Ok(())
            }
            SlashCommand::Schedules => {
                self.view = if self.view == View::Schedules {
                    View::Dashboard
                } else {
                    View::Schedules
                };
                Ok(())
            }
            SlashCommand::Mode(mode) => self.engine.set_mode(mode.unwrap_or(self.mode.toggled())),
            SlashCommand::Sessions => {
                self.view = View::Dashboard;
                self.focus = Focus::Sessions;
                Ok(())
            }
            SlashCommand::AddStep { agent, text } => self.add_step(agent, text),
            SlashCommand::RemoveStep(step) => self.remove_step(step, None),
            SlashCommand::EditStep { step, text } => self.edit_step(step, text),
            SlashCommand::SetDeps { step, after } => self.set_deps(step, after),
            SlashCommand::Budget(words) => self.budget_command(&words),
            SlashCommand::SavePlan(file) => {
                self.save_plan(file);
                Ok(())
            }
            SlashCommand::Replay(id) => self.replay(Replay::Enter(id)),
            SlashCommand::Seek(target) => self.replay(Replay::Seek(target)),
            SlashCommand::Help => {
                self.overlay = Some(Overlay::Help);
                Ok(())
            }
            SlashCommand::Quit => {
                self.request_quit();
                Ok(())
            }
        }
    }

    pub(super) fn status_line(&self) -> String {
        let m = crate::session::metrics::system_metrics(self.sessions.iter().map(|s| &s.state));
        let by_status: Vec<String> = m
            .by_status
            .iter()
            .map(|(status, n)| format!("{n} {status}"))
            .collect();
        format!(
            "{} sessions ({}) · {} active · mode {} · model {}",
            m.sessions,
            if by_status.is_empty() {
                "none".into()
            } else {
                by_status.join(", ")
            },
            m.active_sessions,
            self.mode.label(),
            self.model_label
        )
    }
}
