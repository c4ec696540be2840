//! The schedules view's actions: the list the server sent, moving in it, pausing, resuming and
//! running a schedule now. Schedules live in `el-jefe serve`; a dashboard running its own
//! engine has none and says so.

use crate::schedule::change::ScheduleChange;
use crate::scheduler::Views;
use crate::tui::app::App;

impl App {
    /// A new list from the server; the selection stays on the same schedule when it can.
    pub fn set_schedules(&mut self, views: Views) {
        let selected = self
            .schedules
            .get(self.selected_schedule)
            .map(|v| v.state.spec.name.clone());
        self.schedules = views;
        self.selected_schedule = selected
            .and_then(|name| {
                self.schedules
                    .iter()
                    .position(|v| v.state.spec.name == name)
            })
            .unwrap_or(0)
            .min(self.schedules.len().saturating_sub(1));
        self.dirty = true;
    }

    pub(super) fn move_schedule(&mut self, delta: i32) {
        let last = self.schedules.len().saturating_sub(1) as i64;
        self.selected_schedule =
            (self.selected_schedule as i64 + i64::from(delta)).clamp(0, last) as usize;
    }

    pub(super) fn toggle_pause_schedule(&mut self) {
        let Some((name, paused)) = self.chosen_schedule("pause") else {
            return;
        };
        let change = if paused {
            ScheduleChange::Resume { name }
        } else {
            ScheduleChange::Pause { name }
        };
        self.ask_schedule(change);
    }

    pub(super) fn run_schedule_now(&mut self) {
        if let Some((name, _)) = self.chosen_schedule("run") {
            self.ask_schedule(ScheduleChange::RunNow {
                name,
                vars: Default::default(),
            });
        }
    }

    /// The selected schedule's name and whether it is paused; None, said why, when this
    /// dashboard has no server or the server no schedule.
    fn chosen_schedule(&mut self, verb: &str) -> Option<(String, bool)> {
        if self.schedule_desk.is_none() {
            self.complain("schedules run in `el-jefe serve`; this dashboard runs its own engine");
            return None;
        }
        let chosen = self
            .schedules
            .get(self.selected_schedule)
            .map(|v| (v.state.spec.name.clone(), v.state.paused));
        if chosen.is_none() {
            self.say(format!("no schedule to {verb}"));
        }
        chosen
    }

    fn ask_schedule(&mut self, change: ScheduleChange) {
        let label = change.label();
        match &self.schedule_desk {
            Some(desk) if desk.ask(change) => self.say(format!("asked the server to {label}")),
            Some(_) | None => self.complain("the connection to the server has stopped"),
        }
    }
}
