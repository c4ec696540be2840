//! Two helpers for front ends that cannot run the engine's own rules: reading a plan file, and
//! previewing a plan edit's impact. They change nothing (the commands over the WebSocket do);
//! each answers the same as `el-jefe run --plan` and `el-jefe step --dry-run` would.

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::{Deserialize, Serialize};

use super::Shared;
use super::web::signed_in;
use crate::session::budget::Budget;
use crate::session::edit_impact::impact_text;
use crate::session::ids::{SessionId, StepId};
use crate::session::plan::Plan;
use crate::session::plan_edit::{PlanEdit, apply_edit};
use crate::session::plan_file::parse_plan_file;
use crate::session::session_fold::SessionState;
use crate::session::session_fold::StepStatus;
use crate::store::{Store, StoreError};

#[derive(Serialize)]
pub struct PlanFileAnswer {
    goal: Option<String>,
    plan: Plan,
    #[serde(skip_serializing_if = "Option::is_none")]
    budget: Option<Budget>,
}

/// `POST /api/v1/plan-file` with a plan file's text: its goal, plan and budget as the
/// protocol's `start_session` takes them.
pub async fn plan_file(_asker: SignedIn, text: String) -> Response {
    match parse_plan_file(&text) {
        Ok(file) => Json(PlanFileAnswer {
            goal: file.goal,
            plan: file.plan,
            budget: file.budget,
        })
        .into_response(),
        Err(e) => problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("not a plan file: {e}"),
        ),
    }
}

#[derive(Deserialize)]
pub struct PreviewRequest {
    session: SessionId,
    edit: PlanEdit,
}

#[derive(Serialize)]
pub struct PreviewAnswer {
    /// The plan the edit would leave.
    plan: Plan,
    /// Completed steps that would run again.
    stale: Vec<StepId>,
    removed: Vec<StepId>,
    /// The preview in words, as `el-jefe step --dry-run` prints it.
    impact: String,
}

/// `POST /api/v1/preview-edit`: what an edit would do to a session now, by the rules the
/// engine applies; the engine checks again when the edit is sent.
pub async fn preview_edit(
    State(shared): State<Arc<Shared>>,
    _asker: SignedIn,
    Json(request): Json<PreviewRequest>,
) -> Response {
    let state = match load(&shared.store, request.session.clone()).await {
        Ok(state) => state,
        Err(refused) => return refused,
    };
    if !state.has_plan() {
        return problem(
            StatusCode::CONFLICT,
            format!("{} has no plan yet", request.session),
        );
    }
    let status = |step: &StepId| state.step(step).map_or(StepStatus::Pending, |s| s.status);
    match apply_edit(&state.plan(), status, &request.edit, &shared.roles) {
        Ok(outcome) => Json(PreviewAnswer {
            impact: impact_text(&state, &outcome),
            plan: outcome.plan,
            stale: outcome.stale,
            removed: outcome.removed,
        })
        .into_response(),
        Err(e) => problem(StatusCode::CONFLICT, e.to_string()),
    }
}

/// A session's state as its journal has it, or the answer saying why not.
async fn load(store: &Store, id: SessionId) -> Result<SessionState, Response> {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || store.load(&id)).await {
        Ok(Ok(stored)) => Ok(stored.state),
        Ok(Err(e @ StoreError::NotFound(_))) => Err(problem(StatusCode::NOT_FOUND, e.to_string())),
        Ok(Err(e)) => Err(problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
        Err(e) => Err(problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

/// Someone is asking, as a request's extractor: a signed-in browser, or `Authorization:
/// Bearer TOKEN`. A request from nobody is answered 401 before its handler runs.
pub(super) struct SignedIn;

impl FromRequestParts<Arc<Shared>> for SignedIn {
    type Rejection = Unsigned;

    async fn from_request_parts(parts: &mut Parts, shared: &Arc<Shared>) -> Result<Self, Unsigned> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let person = match bearer {
            Some(token) => shared.people.write().ok().and_then(|mut people| {
                people.refresh();
                people.who(token.trim()).cloned()
            }),
            None => signed_in(shared, &CookieJar::from_headers(&parts.headers)),
        };
        person.map(|_| SignedIn).ok_or(Unsigned)
    }
}

/// Nobody signed in asked: answered 401.
pub(super) struct Unsigned;

impl IntoResponse for Unsigned {
    fn into_response(self) -> Response {
        problem(StatusCode::UNAUTHORIZED, "sign in first".into())
    }
}

#[derive(Serialize)]
struct Problem {
    error: String,
}

pub(super) fn problem(status: StatusCode, error: String) -> Response {
    (status, Json(Problem { error })).into_response()
}
