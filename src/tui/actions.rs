//! What the user can do, and what each does to the dashboard and asks of the engine. The one
//! place the dashboard talks to the engine: moving around (`navigate.rs`), steering the work
//! (`steer.rs`), and the command bar with its slash commands (`slash.rs`).

mod navigate;
mod replay;
mod schedules;
mod slash;
mod steer;

use super::app::App;
use super::slash_command::SeekTarget;
use crate::engine::EngineClosed;
use crate::session::ids::SessionId;
use crate::session::plan_edit::Dependents;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scroll {
    Up(usize),
    Down(usize),
    PageUp,
    PageDown,
    Top,
    /// Back to the end, following new text.
    Follow,
}

/// What the user asked for: to look elsewhere, to steer the work, or something typed in the
/// command bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Navigate(Navigate),
    Steer(Steer),
    Bar(Bar),
    Replay(Replay),
}

/// Replay mode: the selected session played back from its journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// Into replay of this session (None: the selected one).
    Enter(Option<SessionId>),
    Leave,
    TogglePlay,
    /// This many events forward (or back).
    Step(isize),
    /// This many milliseconds forward (or back).
    Jump(i64),
    /// 1x, 10x, as fast as possible.
    Speed,
    Start,
    /// The last event so far (and with a running session, follow it).
    End,
    Seek(SeekTarget),
    /// A new session with this one's history up to the event on screen.
    ForkHere,
}

/// Moving around the dashboard: nothing here reaches the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Navigate {
    RequestQuit,
    ShowHelp,
    CloseOverlay,
    FocusNext,
    FocusPrevious,
    /// Esc: out of the full-width stream, out of a view, or clear the message.
    Back,
    /// Up or down in the focused list (or between stream panes).
    Move(i32),
    MoveTo(usize),
    /// Enter on the focused pane.
    Open,
    /// The selected step's stream.
    Scroll(Scroll),
    /// A given step's stream (mouse wheel over its pane).
    ScrollStep(usize, Scroll),
    SelectSession(usize),
    SelectStep(usize),
    /// Starts typing a reason for denying the tool call on screen.
    StartDenial,
    /// Typing the denial reason.
    EditReason(ReasonEdit),
    /// Puts the approval prompt aside; the agent keeps waiting.
    SetApprovalAside,
    /// Puts the approval prompt aside with the agent that asked selected, for a key meant for it
    /// (pause, interrupt).
    AsideToAsker,
    /// Brings back the prompts put aside.
    ShowApprovals,
    /// `e`: the command bar, ready to edit the selected step.
    EditSelectedStep,
    /// The analytics view groups by the next of role, provider, model and day.
    AnalyticsGrouping,
    /// The analytics view reads the summaries again.
    AnalyticsUpdate,
    AnalyticsScroll(i32),
    /// `c`: the selected session is A; `c` on another opens the compare view.
    MarkForCompare,
    CompareScroll(i32),
}

/// Steering the work: pause, interrupt, resume, approvals and plan edits, asked of the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Steer {
    Confirm(bool),
    TogglePauseStep,
    TogglePauseSession,
    AskInterruptStep,
    AskInterruptSession,
    ResumeSession,
    /// Answers the approval prompt on screen.
    Decide(ApprovalChoice),
    /// `x`: removes the selected step (asking what is needed).
    RemoveSelectedStep,
    /// Yes or no to the impact preview of a plan edit.
    ConfirmEdit(bool),
    /// What becomes of the steps that need a removed one; None cancels.
    AnswerRemoval(Option<Dependents>),
    /// The selected schedule: paused if it was active, resumed if it was paused.
    TogglePauseSchedule,
    /// The selected schedule fires now, whatever its trigger.
    RunScheduleNow,
}

/// The command bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bar {
    /// Into the bar, with this text to start from ("/" for a command, "" for a goal).
    Focus(String),
    Leave,
    /// A line typed and entered: a goal or a slash command.
    Run(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalChoice {
    AllowOnce,
    AllowForSession,
    /// With the reason typed so far, if any.
    Deny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonEdit {
    Type(char),
    Backspace,
    /// Back to choosing, without denying.
    Cancel,
}

impl App {
    /// Carries out one action; only steering reaches the engine, and only it can fail.
    pub fn perform(&mut self, action: Action) {
        let steered = match action {
            Action::Navigate(navigate) => {
                self.navigate(navigate);
                Ok(())
            }
            Action::Steer(steer) => self.steer(steer),
            Action::Bar(bar) => self.command_bar(bar),
            Action::Replay(replay) => self.replay(replay),
        };
        if let Err(EngineClosed) = steered {
            self.complain("the engine has stopped; restart el-jefe");
        }
    }
}
