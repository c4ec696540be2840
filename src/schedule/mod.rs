//! Schedules and triggers, pure: what starts a workflow by itself (a cron line, an interval, a
//! moment, a file landing in a folder, a webhook), the policies that decide whether a firing
//! runs, variables in goals and plans, and the schedules journal folded into each schedule's
//! state. No tasks, no I/O: the scheduler (src/scheduler) runs these rules inside
//! `el-jefe serve`.

pub mod book;
pub mod change;
pub mod policy;
pub mod spec;
pub mod trigger;
pub mod vars;
pub mod words;

#[cfg(test)]
mod book_tests;
