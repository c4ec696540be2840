//! Plans written by hand: `el-jefe run --plan plan.toml` runs one without asking a model, and
//! `/save-plan` writes a session's plan in the same format so a good workflow can be reused.
//!
//! ```toml
//! goal = "Research AI trends for my tech podcast"
//!
//! [[steps]]
//! id = "1"
//! agent = "researcher"
//! task = "Gather this year's main AI developments"
//!
//! [[steps]]
//! id = "2"
//! agent = "writer"
//! task = "Write a ten-minute podcast script from the research"
//! depends_on = ["1"]
//! ```

use serde::{Deserialize, Serialize};

use super::budget::Budget;
use super::ids::StepId;
use super::plan::{Plan, StepSpec};
use super::plan_edit::title_from_task;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileStep {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    agent: String,
    task: String,
    #[serde(default)]
    depends_on: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileContents {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    goal: Option<String>,
    steps: Vec<FileStep>,
    /// Caps for the session and its roles, instead of the configured ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    budget: Option<Budget>,
}

/// A plan file as read: the goal it names, if any, and its steps (not yet validated against the
/// roles; the engine does that when the session starts).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanFile {
    pub goal: Option<String>,
    pub plan: Plan,
    pub budget: Option<Budget>,
}

pub fn parse_plan_file(text: &str) -> Result<PlanFile, String> {
    let contents: FileContents = toml::from_str(text).map_err(|e| {
        // toml's message spans several lines with a caret diagram; the first line says what.
        let message = e.message().trim().to_string();
        match e.span() {
            Some(span) => {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}: {message}")
            }
            None => message,
        }
    })?;
    let steps = contents
        .steps
        .into_iter()
        .map(|s| StepSpec {
            title: s
                .title
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| title_from_task(&s.task)),
            id: StepId::new(s.id),
            agent: s.agent,
            task: s.task,
            depends_on: s.depends_on.into_iter().map(StepId::new).collect(),
        })
        .collect();
    Ok(PlanFile {
        goal: contents.goal.filter(|g| !g.trim().is_empty()),
        plan: Plan { steps },
        budget: contents.budget,
    })
}

/// The plan (and its budget, if any) as a file `parse_plan_file` reads back the same.
pub fn render_plan_file(goal: &str, plan: &Plan, budget: &Budget) -> String {
    let contents = FileContents {
        goal: Some(goal.to_string()),
        budget: Some(budget.clone()).filter(|b| !b.is_empty()),
        steps: plan
            .steps
            .iter()
            .map(|s| FileStep {
                id: s.id.as_str().to_string(),
                title: Some(s.title.clone()),
                agent: s.agent.clone(),
                task: s.task.clone(),
                depends_on: s
                    .depends_on
                    .iter()
                    .map(|d| d.as_str().to_string())
                    .collect(),
            })
            .collect(),
    };
    let body = toml::to_string(&contents).unwrap_or_default();
    format!("# An El Jefe plan. Run it with: el-jefe run --plan <this file>\n\n{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_plan_reads_back_the_same() {
        let plan = Plan {
            steps: vec![
                StepSpec {
                    id: "1".into(),
                    title: "Research".into(),
                    agent: "researcher".into(),
                    task: "Find \"quoted\" things\nover two lines".into(),
                    depends_on: vec![],
                },
                StepSpec {
                    id: "2".into(),
                    title: "Write".into(),
                    agent: "writer".into(),
                    task: "Write it up".into(),
                    depends_on: vec!["1".into()],
                },
            ],
        };
        let mut budget = Budget::default();
        budget.session.tokens = Some(50_000);
        budget.agents.insert(
            "writer".into(),
            crate::session::budget::Caps {
                tool_calls: Some(4),
                ..Default::default()
            },
        );
        let text = render_plan_file("A goal", &plan, &budget);
        assert!(text.starts_with("# An El Jefe plan."), "{text}");
        let back = parse_plan_file(&text).unwrap();
        assert_eq!(back.goal.as_deref(), Some("A goal"));
        assert_eq!(back.plan, plan);
        assert_eq!(back.budget, Some(budget));
        let bare = parse_plan_file(&render_plan_file("g", &plan, &Budget::default())).unwrap();
        assert_eq!(bare.budget, None);
    }

    #[test]
    fn titles_default_from_the_task_and_the_goal_is_optional() {
        let file = parse_plan_file(
            "[[steps]]\nid = \"a\"\nagent = \"writer\"\ntask = \"Write a haiku about rain\"\n",
        )
        .unwrap();
        assert_eq!(file.goal, None);
        assert_eq!(file.plan.steps[0].title, "Write a haiku about rain");
        assert!(file.plan.steps[0].depends_on.is_empty());
    }

    #[test]
    fn mistakes_name_the_line_and_the_problem() {
        let err = parse_plan_file("goal = \"g\"\n\n[[steps]]\nid = \"1\"\nagnet = \"writer\"\n")
            .unwrap_err();
        assert!(err.starts_with("line 5: unknown field `agnet`"), "{err}");
        let err = parse_plan_file("goal = \"g\"\n").unwrap_err();
        assert!(err.contains("missing field `steps`"), "{err}");
        let err = parse_plan_file("goal = \n").unwrap_err();
        assert!(err.starts_with("line 1:"), "{err}");
    }
}
