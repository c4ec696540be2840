//! The words we send: the planner's instructions and each step's context.

use std::fmt::Write;

use super::plan::StepSpec;
use super::roles::{Role, RoleBook};
use crate::provider::ChatMessage;

pub fn planner_messages(
    goal: &str,
    roles: &RoleBook,
    max_steps: usize,
    previous: Option<(&str, &str)>,
) -> Vec<ChatMessage> {
    let mut system = String::from(
        "You are a project planner. Split the user's goal into a short plan of steps, each done \
         by one of these agents:\n",
    );
    for role in roles.iter() {
        let _ = writeln!(system, "- {}: {}", role.name, role.description);
    }
    let _ = write!(
        system,
        "Reply with JSON only, in this form:\n\
         {{\"steps\": [{{\"id\": \"1\", \"title\": \"Research the topic\", \"agent\": \"researcher\", \
         \"task\": \"Find the main facts about ...\", \"depends_on\": []}}, \
         {{\"id\": \"2\", \"title\": \"Write the summary\", \"agent\": \"writer\", \
         \"task\": \"Write a summary of ...\", \"depends_on\": [\"1\"]}}]}}\n\
         Use 1 to {max_steps} steps. Ids are \"1\", \"2\", ... in order. depends_on lists the ids \
         of earlier steps whose results a step needs; steps without shared dependencies run in \
         parallel."
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
    use crate::engine::ids::StepId;

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
        let msgs = planner_messages("g", &roles, 5, Some(("{bad}", "no steps")));
        assert_eq!(msgs.len(), 4);
        assert!(msgs[0].content.contains("- analyst: "));
        assert!(msgs[3].content.contains("no steps"));
    }
}
