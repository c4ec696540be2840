//! The session's vocabulary and rules, pure: ids, events and commands, plans and their rules,
//! the fold of events into a session's state, metrics, budgets and health rules. No tasks, no
//! I/O, and no use of any other folder of ours: everything else stands on this.

pub mod baseline;
pub mod budget;
pub mod builtin;
pub mod call;
pub mod command;
pub mod compare;
pub mod compare_text;
pub(crate) mod dag_index;
pub mod edit_impact;
pub mod event;
#[cfg(test)]
mod fixtures;
pub mod fork;
pub mod health;
pub mod ids;
pub(crate) mod metrics;
pub(crate) mod metrics_text;
pub mod origin;
pub mod plan;
pub mod plan_edit;
pub mod plan_file;
pub(crate) mod plan_grammar;
pub mod plan_validation;
pub mod provider_choice;
pub mod redact;
pub mod replay;
pub(crate) mod scheduling;
pub mod session_fold;
pub mod stats;
pub mod stats_text;
pub(crate) mod status;
pub mod summary;
