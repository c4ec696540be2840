//! The words we send: the planner's instructions and each step's context.

use std::fmt::Write;

use super::roles::{Role, RoleBook};
use crate::provider::ChatMessage;
use crate::session::plan::StepSpec;

/// `steps`: the fewest and most steps to ask for.
pub fn planner_messages(
    goal: &str,
    roles: &RoleBook,
    (min_steps, max_steps): (usize, usize),
    previous: Option<(&str, &str)>,
) -> Vec<ChatMessage> {
    let mut system = String::from(
        "You are a project planner. Split the user's goal into a plan of steps, each done by \
         one of these agents:\n",
    );
    for role in roles.iter() {
        let _ = writeln!(system, "- {}: {}", role.name, role.description);
    }
    // Small models copy the example's shape: it shows two research steps side by side (they
    // run at once), then an analysis of both, then the writing, each by its own kind of agent.
    let _ = write!(
        system,
        "Reply with JSON only. An example, for the goal \"Compare tea and coffee for students\":\n\
         {{\"steps\": [\
         {{\"id\": \"1\", \"title\": \"Research tea\", \"agent\": \"researcher\", \
         \"task\": \"Find the main facts about tea for students: caffeine, cost, health\", \
         \"depends_on\": []}}, \
         {{\"id\": \"2\", \"title\": \"Research coffee\", \"agent\": \"researcher\", \
         \"task\": \"Find the main facts about coffee for students: caffeine, cost, health\", \
         \"depends_on\": []}}, \
         {{\"id\": \"3\", \"title\": \"Compare them\", \"agent\": \"analyst\", \
         \"task\": \"Compare tea and coffee point by point and say which suits students\", \
         \"depends_on\": [\"1\", \"2\"]}}, \
         {{\"id\": \"4\", \"title\": \"Write the advice\", \"agent\": \"writer\", \
         \"task\": \"Write short advice for students on choosing tea or coffee\", \
         \"depends_on\": [\"3\"]}}]}}\n\
         Use {min_steps} to {max_steps} steps, about the user's goal, not the example. Give \
         separate parts of the work to separate steps with no dependency between them, so they \
         run at the same time. Ids are \"1\", \"2\", ... in order. depends_on lists the ids of \
         earlier steps whose results a step needs."
    );
    let mut messages = vec![
        ChatMessage::system(system),
        ChatMessage::user(format!("Goal: {goal}")),
    ];
    if let Some((bad_reply, error)) = previous {
        messages.push(ChatMessage::assistant(bad_reply));
        messages.push(ChatMessage::user(format!(
            "That plan is invalid: {error}. Reply with a corrected plan, JSON only."
        )));
    }
    messages
}

/// A dependency's output as a later step sees it.
pub struct DependencyOutput<'a> {
    pub spec: &'a StepSpec,
    pub output: &'a str,
}

pub fn step_messages(
    role: &Role,
    goal: &str,
    step: &StepSpec,
    dependencies: &[DependencyOutput<'_>],
    chars_per_dependency: usize,
) -> Vec<ChatMessage> {
    let mut user = format!(
        "Overall goal: {goal}\n\nYour task ({}): {}\n",
        step.title, step.task
    );
    if !dependencies.is_empty() {
        user.push_str("\nResults of earlier steps:\n");
        for dep in dependencies {
            let _ = write!(
                user,
                "\n## Step {} ({}): {}\n{}\n",
                dep.spec.id,
                dep.spec.agent,
                dep.spec.title,
                clip(dep.output.trim(), chars_per_dependency)
            );
        }
    }
    vec![
        ChatMessage::system(role.system_prompt.clone()),
        ChatMessage::user(user),
    ]
}

/// Keeps the start of a long text, cut at a char boundary, and says that it was cut.
fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_string(),
        Some((cut, _)) => format!(
            "{}\n[... {} more characters omitted]",
            &text[..cut],
            text[cut..].chars().count()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::ids::StepId;

    fn spec(id: &str) -> StepSpec {
        StepSpec {
            id: StepId::new(id),
            title: format!("T{id}"),
            agent: "researcher".into(),
            task: format!("do {id}"),
            depends_on: vec![],
        }
    }

    #[test]
    fn a_dependent_step_sees_its_dependencies_outputs() {
        let roles = RoleBook::built_in();
        let role = roles.get("writer").unwrap();
        let dep = spec("1");
        let msgs = step_messages(
            role,
            "podcast",
            &spec("2"),
            &[DependencyOutput {
                spec: &dep,
                output: "the facts",
            }],
            100,
        );
        assert_eq!(msgs[0].content, role.system_prompt);
        assert!(msgs[1].content.contains("Overall goal: podcast"));
        assert!(
            msgs[1]
                .content
                .contains("## Step 1 (researcher): T1\nthe facts")
        );
    }

    #[test]
    fn long_outputs_are_clipped_and_say_so() {
        assert_eq!(clip("héllo", 10), "héllo");
        assert_eq!(
            clip("héllo world", 5),
            "héllo\n[... 6 more characters omitted]"
        );
    }

    #[test]
    fn a_retry_carries_the_bad_reply_and_the_error() {
        let roles = RoleBook::built_in();
        let msgs = planner_messages("g", &roles, (3, 5), Some(("{bad}", "no steps")));
        assert!(msgs[0].content.contains("Use 3 to 5 steps"));
        assert_eq!(msgs.len(), 4);
        assert!(msgs[0].content.contains("- analyst: "));
        assert!(msgs[3].content.contains("no steps"));
    }
}
