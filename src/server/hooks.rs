//! `POST /hooks/NAME`: a webhook schedule's trigger. The request is its own credential: an
//! HMAC-SHA256 signature of the body with the schedule's secret in `X-Hub-Signature-256`, as
//! GitHub sends it. A bad or missing signature gets 401 and starts nothing; repeated failures
//! from one address are slowed down like bad tokens.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Shared;
use crate::schedule::change::Fired;
use crate::schedule::policy::SkipReason;
use crate::scheduler::HookAnswer;

pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

pub async fn call(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(scheduler) = &shared.scheduler else {
        return answer(StatusCode::NOT_FOUND, "this server runs no schedules");
    };
    let peer = peer.ip().to_string();
    shared.door.check(&peer).await;
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    match scheduler.webhook(&name, signature, body).await {
        HookAnswer::Fired(fired) => {
            shared.door.passed(&peer);
            match fired {
                Fired::Started { session } => {
                    (StatusCode::ACCEPTED, Json(json!({"started": session}))).into_response()
                }
                Fired::Queued => (
                    StatusCode::ACCEPTED,
                    Json(json!({"queued": "it runs when the schedule's running session ends"})),
                )
                    .into_response(),
                Fired::Skipped { reason } => {
                    // The caller can fix a missing field; the rest is the schedule's policy.
                    let status = match reason {
                        SkipReason::MissingVariable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                        SkipReason::Paused
                        | SkipReason::StillRunning { .. }
                        | SkipReason::QueueFull { .. }
                        | SkipReason::HourlyLimit { .. }
                        | SkipReason::MissedWhileDown { .. }
                        | SkipReason::Refused { .. } => StatusCode::CONFLICT,
                    };
                    (status, Json(json!({"skipped": reason.to_string()}))).into_response()
                }
            }
        }
        HookAnswer::NotFound => {
            shared.door.failed(&peer);
            answer(StatusCode::NOT_FOUND, &format!("no webhook named {name}"))
        }
        HookAnswer::BadSignature => {
            shared.door.failed(&peer);
            answer(
                StatusCode::UNAUTHORIZED,
                "missing or bad X-Hub-Signature-256 (HMAC-SHA256 of the body with the hook's \
                 secret, as sha256=<hex>)",
            )
        }
        HookAnswer::BadBody(message) => answer(StatusCode::BAD_REQUEST, &message),
        HookAnswer::Unavailable(message) => answer(StatusCode::SERVICE_UNAVAILABLE, &message),
    }
}

fn answer(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}
