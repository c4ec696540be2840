//! The fold's handlers for tool calls: requested, waiting for approval, decided, finished.

use super::{PendingApproval, SessionState};
use crate::session::call::{ChatMessage, ToolCall};
use crate::session::event::{ApprovalDecision, ToolStatus};
use crate::session::ids::StepId;

/// What `ToolCallFinished` carries that the fold keeps.
pub(super) struct ToolResult<'a> {
    pub call_id: &'a str,
    pub status: ToolStatus,
    pub summary: &'a str,
    pub content: &'a str,
    pub duration_ms: u64,
}

impl SessionState {
    pub(super) fn on_tool_call_requested(&mut self, step: &StepId, call: &ToolCall) {
        if let Some(s) = self.step_mut(step) {
            s.clear_stall();
            s.tool_requested(call);
        }
    }

    pub(super) fn on_approval_requested(
        &mut self,
        step: &StepId,
        call_id: &str,
        tool: &str,
        detail: &str,
    ) {
        if let Some(s) = self.step_mut(step) {
            s.waiting_approval = Some(PendingApproval {
                call_id: call_id.to_string(),
                tool: tool.to_string(),
                detail: detail.to_string(),
            });
            s.push_transcript_line("  … waiting for your approval");
        }
    }

    pub(super) fn on_approval_decided(
        &mut self,
        step: &StepId,
        call_id: &str,
        tool: &str,
        decision: &ApprovalDecision,
    ) {
        if let ApprovalDecision::AllowForSession = decision {
            self.allowed_tools.insert(tool.to_string());
        }
        let Some(s) = self.step_mut(step) else {
            return;
        };
        if s.waiting_approval
            .as_ref()
            .is_some_and(|w| w.call_id == call_id)
        {
            s.waiting_approval = None;
        }
        // A denial shows once, with the tool's result line.
        match decision {
            ApprovalDecision::AllowOnce => s.push_transcript_line("  ✓ approved once"),
            ApprovalDecision::AllowForSession => {
                s.push_transcript_line(&format!("  ✓ {tool} approved for this session"))
            }
            ApprovalDecision::Deny { .. } => {}
        }
    }

    pub(super) fn on_tool_call_finished(&mut self, step: &StepId, result: ToolResult<'_>) {
        let Some(s) = self.step_mut(step) else {
            return;
        };
        if s.waiting_approval
            .as_ref()
            .is_some_and(|w| w.call_id == result.call_id)
        {
            s.waiting_approval = None;
        }
        s.turns.push(ChatMessage::tool_result(
            result.call_id,
            result.content,
            result.status.is_error(),
        ));
        s.metrics
            .record_tool_result(result.status, result.duration_ms);
        let mark = match result.status {
            ToolStatus::Ok => "→",
            ToolStatus::Error => "✗",
            ToolStatus::Denied | ToolStatus::Cancelled => "⊘",
        };
        let first = result.summary.lines().next().unwrap_or("");
        let line = match result.status {
            ToolStatus::Ok | ToolStatus::Error => format!("  {mark} {first}"),
            ToolStatus::Denied | ToolStatus::Cancelled => {
                format!("  {mark} {}: {first}", result.status.label())
            }
        };
        s.push_transcript_line(&line);
    }
}
