//! What a step's next attempt will send, decided from the session's state alone: the prompt
//! with its dependencies' outputs, the tools offered, and whether it goes on from an earlier
//! attempt's tool calls. Starting the agent is the actor's business.

use std::path::PathBuf;
use std::sync::Arc;

use super::prompts::{DependencyOutput, step_messages};
use super::roles::{Role, RoleBook};
use super::tool_need::task_needs_tools;
use crate::provider::{ChatRequest, ToolChoice, ToolSpec};
use crate::session::call::{CallMode, ChatMessage};
use crate::session::ids::StepId;
use crate::session::session_fold::SessionState;

/// A step ready to run.
pub(crate) struct PreparedStep {
    pub agent: String,
    pub attempt: u32,
    pub request: ChatRequest,
    /// The attempt goes on from the earlier one's saved turns.
    pub continues: bool,
    pub earlier_turns: Vec<ChatMessage>,
    pub workspace: PathBuf,
}

pub(crate) enum Preparation {
    Ready(Box<PreparedStep>),
    /// The plan names a role nobody defined: the step fails.
    UnknownRole {
        agent: String,
        attempt: u32,
    },
}

/// What the preparation needs beyond the session's state.
pub(crate) struct StepSettings<'a> {
    pub roles: &'a RoleBook,
    pub mode: CallMode,
    pub context_chars_per_dependency: usize,
    pub seed: u32,
    /// Whether the role's provider offers tools only to tasks that ask for what they do.
    pub tools_only_when_asked: &'a dyn Fn(&Role) -> bool,
    /// The tools the role may use.
    pub offered: &'a mut dyn FnMut(&Role) -> Arc<[ToolSpec]>,
}

/// None when the step is not in the session.
pub(crate) fn prepare_step(
    state: &SessionState,
    step: &StepId,
    settings: StepSettings<'_>,
) -> Option<Preparation> {
    let step_state = state.step(step)?;
    let spec = &step_state.spec;
    let attempt = step_state.attempt + 1;
    let Some(role) = settings.roles.get(&spec.agent) else {
        return Some(Preparation::UnknownRole {
            agent: spec.agent.clone(),
            attempt,
        });
    };
    // An earlier attempt that already used tools is gone on from where it stopped: commands it
    // ran and files it wrote are not done twice.
    let continues =
        step_state.attempt > 0 && step_state.turns.iter().any(|t| !t.tool_calls.is_empty());
    let dependencies: Vec<DependencyOutput<'_>> = spec
        .depends_on
        .iter()
        .filter_map(|d| state.step(d))
        .map(|d| DependencyOutput {
            spec: &d.spec,
            output: &d.output,
        })
        .collect();
    // A role that asks for a tool call up front gets its tools whatever the task.
    let asks_for_tools = role.first_tool_choice != ToolChoice::Auto;
    let offered = if (settings.tools_only_when_asked)(role)
        && !asks_for_tools
        && !task_needs_tools(&spec.task)
    {
        Arc::default()
    } else {
        (settings.offered)(role)
    };
    let mut request = ChatRequest::new(step_messages(
        role,
        &state.goal,
        spec,
        &dependencies,
        settings.context_chars_per_dependency,
    ));
    request.max_tokens = role.max_tokens;
    request.min_tokens = role.min_tokens;
    request.temperature = role.temperature;
    request.mode = settings.mode;
    request.seed = settings.seed;
    request.tools = offered;
    request.tool_choice = role.first_tool_choice.clone();
    request.model = role.model.clone();
    Some(Preparation::Ready(Box::new(PreparedStep {
        agent: spec.agent.clone(),
        attempt,
        request,
        continues,
        earlier_turns: if continues {
            step_state.turns.clone()
        } else {
            Vec::new()
        },
        workspace: state.workspace.clone(),
    })))
}
