//! A schedule as its owner wrote it: a name, what fires it, the work (a goal, or a plan file's
//! text), and its policies; and the work of one firing, with its variables filled in.

use serde::{Deserialize, Serialize};

use super::policy::Policies;
use super::trigger::Trigger;
use super::vars::{self, MissingVariable, Vars};
use crate::session::budget::Budget;
use crate::session::plan::Plan;
use crate::session::plan_file::parse_plan_file;
use crate::session::provider_choice::ProviderChoice;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleSpec {
    pub name: String,
    pub trigger: Trigger,
    pub work: Work,
    pub policies: Policies,
    /// Providers for its runs over the server's routing (`--provider`, `--agent-provider`).
    #[serde(default, skip_serializing_if = "ProviderChoice::is_default")]
    pub providers: ProviderChoice,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Work {
    /// A goal the planner turns into a plan at each run.
    Goal { goal: String },
    /// A plan file's text, kept as it was when the schedule was added (the file may live on
    /// the machine of the client that added it, not the server's).
    Plan { file: String, text: String },
}

/// What one firing runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub goal: String,
    pub plan: Option<Plan>,
    pub budget: Option<Budget>,
    pub providers: ProviderChoice,
}

/// The variables every run has, besides those of its trigger.
pub const ALWAYS: &[&str] = &["schedule", "date", "time"];

impl ScheduleSpec {
    /// Checks a new schedule: its name, trigger and work, and that each placeholder in its work
    /// can have a value (`{{file}}` only with --watch; any name with --webhook, from the body).
    pub fn check(&self) -> Result<(), String> {
        check_name(&self.name)?;
        self.trigger.check()?;
        let texts = match &self.work {
            Work::Goal { goal } if goal.trim().is_empty() => {
                return Err("the goal is empty".into());
            }
            Work::Goal { goal } => vec![goal.clone()],
            Work::Plan { file, text } => {
                let parsed = parse_plan_file(text).map_err(|e| format!("{file}: {e}"))?;
                let mut texts: Vec<String> = parsed.goal.into_iter().collect();
                for step in parsed.plan.steps {
                    texts.push(step.title);
                    texts.push(step.task);
                }
                texts
            }
        };
        for name in texts.iter().flat_map(|t| vars::placeholders(t)) {
            let known = ALWAYS.contains(&name.as_str())
                || matches!(self.trigger, Trigger::Webhook)
                || (name == "file" && matches!(self.trigger, Trigger::Watch { .. }));
            if !known {
                return Err(format!(
                    "{{{{{name}}}}} would have no value: a schedule has {} always, `file` with \
                     --watch, and the JSON body's fields with --webhook",
                    ALWAYS.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// The work of one firing, with `vars` filled in.
    pub fn run(&self, vars: &Vars) -> Result<Run, RunError> {
        match &self.work {
            Work::Goal { goal } => Ok(Run {
                goal: vars::fill(goal, vars)?,
                plan: None,
                budget: self.policies.budget.clone(),
                providers: self.providers.clone(),
            }),
            Work::Plan { file, text } => {
                let parsed =
                    parse_plan_file(text).map_err(|e| RunError::Plan(format!("{file}: {e}")))?;
                let goal = match &parsed.goal {
                    Some(goal) => vars::fill(goal, vars)?,
                    None => format!("{} (plan {file})", self.name),
                };
                let mut plan = parsed.plan;
                for step in &mut plan.steps {
                    step.title = vars::fill(&step.title, vars)?;
                    step.task = vars::fill(&step.task, vars)?;
                }
                Ok(Run {
                    goal,
                    plan: Some(plan),
                    // The schedule's budget, then the plan file's.
                    budget: self.policies.budget.clone().or(parsed.budget),
                    providers: self.providers.clone(),
                })
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    Missing(MissingVariable),
    Plan(String),
}

impl From<MissingVariable> for RunError {
    fn from(missing: MissingVariable) -> Self {
        RunError::Missing(missing)
    }
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Missing(missing) => missing.fmt(f),
            RunError::Plan(message) => f.write_str(message),
        }
    }
}

/// Names go in URLs (`/hooks/NAME`) and on command lines: letters, digits, `-` and `_`.
pub fn check_name(name: &str) -> Result<(), String> {
    let fine = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if fine {
        Ok(())
    } else {
        Err(format!(
            "schedule name {name:?}: use 1 to 64 letters, digits, '-' or '_'"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"
goal = "Digest of {{file}}"

[[steps]]
id = "1"
agent = "researcher"
task = "Read {{file}} and list what changed on {{date}}"

[[steps]]
id = "2"
agent = "writer"
task = "Write the digest"
depends_on = ["1"]
"#;

    fn spec(trigger: Trigger, work: Work) -> ScheduleSpec {
        let timed = trigger.is_timed();
        ScheduleSpec {
            name: "digest".into(),
            trigger,
            work,
            policies: Policies::default_for(timed),
            providers: Default::default(),
        }
    }

    fn plan_work() -> Work {
        Work::Plan {
            file: "digest.toml".into(),
            text: PLAN.into(),
        }
    }

    fn watch() -> Trigger {
        Trigger::Watch {
            dir: "inbox".into(),
            glob: Some("*.csv".into()),
        }
    }

    #[test]
    fn a_plan_runs_with_its_variables_filled_in() {
        let vars: Vars = [("file", "inbox/q3.csv"), ("date", "2026-12-01")]
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let run = spec(watch(), plan_work()).run(&vars).unwrap();
        assert_eq!(run.goal, "Digest of inbox/q3.csv");
        let plan = run.plan.unwrap();
        assert_eq!(
            plan.steps[0].task,
            "Read inbox/q3.csv and list what changed on 2026-12-01"
        );
        assert_eq!(plan.steps[1].task, "Write the digest");
    }

    #[test]
    fn a_missing_variable_is_an_error_at_adding_or_at_firing() {
        // {{file}} has no value on a timer: refused when the schedule is added.
        let every = spec(Trigger::Every { every_secs: 60 }, plan_work());
        let refused = every.check().unwrap_err();
        assert!(refused.contains("{{file}}"), "{refused}");
        assert!(spec(watch(), plan_work()).check().is_ok());
        // A webhook's fields are known only when it is called.
        let hook = spec(
            Trigger::Webhook,
            Work::Goal {
                goal: "Triage issue {{issue.number}}".into(),
            },
        );
        assert!(hook.check().is_ok());
        assert_eq!(
            hook.run(&Vars::new()),
            Err(RunError::Missing(MissingVariable("issue.number".into())))
        );
    }

    #[test]
    fn names_bad_plans_and_empty_goals_are_refused() {
        let mut s = spec(
            Trigger::Every { every_secs: 60 },
            Work::Goal { goal: " ".into() },
        );
        assert!(s.check().unwrap_err().contains("empty"));
        s.work = Work::Goal { goal: "ok".into() };
        for bad in ["", "a b", "../x", "é"] {
            s.name = bad.into();
            assert!(s.check().is_err(), "{bad:?}");
        }
        s.name = "nightly-report_2".into();
        assert!(s.check().is_ok());
        s.work = Work::Plan {
            file: "broken.toml".into(),
            text: "steps = 3".into(),
        };
        assert!(s.check().unwrap_err().starts_with("broken.toml"));
    }
}
