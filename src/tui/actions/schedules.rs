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
        if !self.has_schedules() {
            return;
        }
        let Some(view) = self.schedules.get(self.selected_schedule) else {
            return self.say("no schedule to pause");
        };
        let name = view.state.spec.name.clone();
        let change = if view.state.paused {
            ScheduleChange::Resume { name }
        } else {
            ScheduleChange::Pause { name }
        };
        self.ask_schedule(change);
    }

    pub(super) fn run_schedule_now(&mut self) {
        if !self.has_schedules() {
            return;
        }
        let Some(view) = self.schedules.get(self.selected_schedule) else {
            return self.say("no schedule to run");
        };
        let name = view.state.spec.name.clone();
        self.ask_schedule(ScheduleChange::RunNow {
            name,
            vars: Default::default(),
        });
    }

    /// Whether this dashboard is attached to a server, which holds schedules; says so if not.
    fn has_schedules(&mut self) -> bool {
        let attached = self.schedule_desk.is_some();
        if !attached {
            self.complain("schedules run in `el-jefe serve`; this dashboard runs its own engine");
        }
        attached
    }

    fn ask_schedule(&mut self, change: ScheduleChange) {
        let label = change.label();
        match &self.schedule_desk {
            Some(desk) if desk.ask(change) => self.say(format!("asked the server to {label}")),
            Some(_) | None => self.complain("the connection to the server has stopped"),
        }
    }
}
