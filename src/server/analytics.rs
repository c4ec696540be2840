//! The analytics of `el-jefe stats` and `el-jefe compare` for clients that do not hold the
//! journals (the web page, `stats --server`), and the baseline flags of a session's running
//! agents. Each answers what the command would print where the journals are, and changes
//! nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::Shared;
use super::api::{SignedIn, problem};
use crate::engine::clock::Clock;
use crate::format::parse_age;
use crate::session::baseline::Baselines;
use crate::session::compare::{Comparison, compare};
use crate::session::compare_text::{WordDiff, comparison_text, diff_words};
use crate::session::ids::SessionId;
use crate::session::session_fold::SessionState;
use crate::session::stats::{GroupBy, Stats};
use crate::session::stats_text::{period_words, stats_text};
use crate::store::Store;

/// Baselines move slowly (medians of the last fifty steps); reading every summary for each
/// page's poll would not.
const BASELINES_FRESH_FOR: Duration = Duration::from_secs(60);

/// The baselines last made, and when; one request makes them while the others wait.
#[derive(Default)]
pub struct BaselineCache(Mutex<Option<(Instant, Arc<Baselines>)>>);

impl BaselineCache {
    async fn get(&self, store: &Store) -> Result<Arc<Baselines>, String> {
        let mut cached = self.0.lock().await;
        if let Some((made, baselines)) = cached.as_ref()
            && made.elapsed() < BASELINES_FRESH_FOR
        {
            return Ok(baselines.clone());
        }
        let store = store.clone();
        let summaries = tokio::task::spawn_blocking(move || store.summaries(|_| true).0)
            .await
            .map_err(|e| e.to_string())?;
        let baselines = Arc::new(Baselines::from_summaries(&summaries));
        *cached = Some((Instant::now(), baselines.clone()));
        Ok(baselines)
    }
}

#[derive(Deserialize)]
pub struct StatsQuery {
    since: Option<String>,
    by: Option<String>,
}

#[derive(Serialize)]
struct StatsAnswer {
    /// "in the last 30 days", "in all".
    period: String,
    stats: Stats,
    /// As `el-jefe stats` prints it.
    text: String,
    /// Summaries made again from journals for this answer (slow the first time).
    rebuilt: usize,
    warnings: Vec<String>,
}

/// `GET /api/v1/stats?since=30d&by=role`: `el-jefe stats`, from this server's journals.
pub async fn stats(
    State(shared): State<Arc<Shared>>,
    _asker: SignedIn,
    Query(query): Query<StatsQuery>,
) -> Response {
    let since = match query.since.as_deref().filter(|s| !s.is_empty()) {
        Some(text) => match parse_age(text) {
            Ok(age) => Some(age),
            Err(e) => return problem(StatusCode::BAD_REQUEST, format!("since: {e}")),
        },
        None => None,
    };
    let by = match query.by.as_deref().map(GroupBy::parse).transpose() {
        Ok(by) => by.unwrap_or(GroupBy::Role),
        Err(e) => return problem(StatusCode::BAD_REQUEST, format!("by: {e}")),
    };
    let now = Clock::new().now_ms();
    let store = shared.store.clone();
    let (stats, report) =
        match tokio::task::spawn_blocking(move || store.stats(since, now, by)).await {
            Ok(answer) => answer,
            Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        };
    let period = period_words(since);
    Json(StatsAnswer {
        text: stats_text(&stats, &period),
        period,
        stats,
        rebuilt: report.rebuilt,
        warnings: report.warnings,
    })
    .into_response()
}

/// `GET /api/v1/summaries`: every session's summary, for a dashboard attached from another
/// machine to make its baselines and analytics view from.
pub async fn summaries(State(shared): State<Arc<Shared>>, _asker: SignedIn) -> Response {
    let store = shared.store.clone();
    match tokio::task::spawn_blocking(move || store.summaries(|_| true)).await {
        Ok((summaries, _)) => Json(summaries).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Deserialize)]
pub struct CompareQuery {
    a: String,
    b: String,
}

#[derive(Serialize)]
struct CompareAnswer {
    comparison: Comparison,
    /// Each step's outputs word by word, in the order of `comparison.steps`.
    diffs: Vec<WordDiff>,
    /// As `el-jefe compare` prints it.
    text: String,
}

/// `GET /api/v1/compare?a=ID&b=ID`: `el-jefe compare`, as figures and as text.
pub async fn compare_sessions(
    State(shared): State<Arc<Shared>>,
    _asker: SignedIn,
    Query(query): Query<CompareQuery>,
) -> Response {
    let now = Clock::new().now_ms();
    let [a, b] = [&query.a, &query.b].map(|id| known(&shared, id, |state| state.clone()));
    let (a, b) = match (a, b) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(unknown), _) | (_, Err(unknown)) => return unknown.into_response(),
    };
    if a.id == b.id {
        return problem(
            StatusCode::BAD_REQUEST,
            "compare needs two different sessions".into(),
        );
    }
    let comparison = compare(&a, &b, now);
    Json(CompareAnswer {
        diffs: comparison
            .steps
            .iter()
            .map(|s| diff_words(&s.a_output, &s.b_output))
            .collect(),
        text: comparison_text(&comparison),
        comparison,
    })
    .into_response()
}

#[derive(Deserialize)]
pub struct FlagsRequest {
    session: SessionId,
    /// Tokens a second each running step makes now, as the client measures it.
    #[serde(default)]
    rates: HashMap<String, f64>,
}

#[derive(Serialize)]
struct StepFlags {
    step: String,
    flags: Vec<String>,
}

#[derive(Serialize)]
struct FlagsAnswer {
    /// The running steps far off their baseline; the others are left out.
    steps: Vec<StepFlags>,
}

/// `POST /api/v1/flags`: why a session's running agents are far off their baselines, as the
/// terminal dashboard's metrics bar says it.
pub async fn running_flags(
    State(shared): State<Arc<Shared>>,
    _asker: SignedIn,
    Json(request): Json<FlagsRequest>,
) -> Response {
    let baselines = match shared.baselines.get(&shared.store).await {
        Ok(baselines) => baselines,
        Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let now = Clock::new().now_ms();
    let judged = known(&shared, request.session.as_str(), |state| {
        state
            .steps
            .iter()
            .filter_map(|step| {
                let rate = request.rates.get(step.spec.id.as_str()).copied();
                let flags = baselines.flags_for(step, now, rate);
                (!flags.is_empty()).then(|| StepFlags {
                    step: step.spec.id.to_string(),
                    flags,
                })
            })
            .collect()
    });
    let steps = match judged {
        Ok(steps) => steps,
        Err(unknown) => return unknown.into_response(),
    };
    Json(FlagsAnswer { steps }).into_response()
}

/// What `read` makes of a session's state as the server knows it now (its events folded as
/// they come, no journal read), or the answer saying why not.
fn known<R>(
    shared: &Shared,
    id: &str,
    read: impl FnOnce(&SessionState) -> R,
) -> Result<R, Unknown> {
    let id = SessionId::parse(id).map_err(|e| Unknown(StatusCode::BAD_REQUEST, e.to_string()))?;
    shared
        .board
        .read(&id, read)
        .ok_or_else(|| Unknown(StatusCode::NOT_FOUND, format!("no session {id} here")))
}

/// A session asked for that is not one (a bad id), or that the server does not know.
struct Unknown(StatusCode, String);

impl IntoResponse for Unknown {
    fn into_response(self) -> Response {
        problem(self.0, self.1)
    }
}
