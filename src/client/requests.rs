//! The server's HTTP requests beside the protocol (docs/PROTOCOL.md, "Analytics over HTTP"),
//! for commands that need the figures of the journals the server holds.

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{ClientError, Target};
use crate::session::stats::GroupBy;
use crate::session::summary::SessionSummary;

/// `el-jefe stats` as the server answers it.
#[derive(Debug, Deserialize)]
pub struct StatsReply {
    /// The figures, as `el-jefe stats --json` prints them.
    pub stats: serde_json::Value,
    /// The figures as a table.
    pub text: String,
    /// Summaries the server made again from journals for this answer.
    pub rebuilt: usize,
    pub warnings: Vec<String>,
}

#[derive(Deserialize)]
struct Problem {
    error: String,
}

/// The figures over the server's sessions created within `since` (all when `None`).
pub async fn stats(
    target: &Target,
    since: Option<Duration>,
    by: GroupBy,
) -> Result<StatsReply, ClientError> {
    let mut query = vec![("by", by.label().to_string())];
    if let Some(age) = since {
        query.push(("since", format!("{}s", age.as_secs())));
    }
    get(target, "/api/v1/stats", &query).await
}

/// Every session's summary, as the server's index has them: what the dashboard's baselines
/// and analytics view are made from.
pub async fn summaries(target: &Target) -> Result<Vec<SessionSummary>, ClientError> {
    get(target, "/api/v1/summaries", &[]).await
}

async fn get<T: DeserializeOwned>(
    target: &Target,
    path: &str,
    query: &[(&str, String)],
) -> Result<T, ClientError> {
    let url = target
        .http_url(path)
        .map_err(|why| ClientError::Unreachable {
            url: target.url.clone(),
            why,
        })?;
    let mut request = reqwest::Client::new().get(&url).query(query);
    if let Some(token) = &target.token {
        request = request.bearer_auth(token);
    }
    let unreachable = |e: reqwest::Error| ClientError::Unreachable {
        url: target.url.clone(),
        // Without the URL: reqwest's text would repeat it.
        why: e.without_url().to_string(),
    };
    let response = request.send().await.map_err(unreachable)?;
    let status = response.status();
    if status.is_success() {
        return response.json().await.map_err(unreachable);
    }
    let reason = match response.json::<Problem>().await {
        Ok(problem) => problem.error,
        Err(_) => status.to_string(),
    };
    Err(match status {
        reqwest::StatusCode::UNAUTHORIZED => ClientError::Refused {
            url: target.url.clone(),
            reason,
        },
        // Only a server without these requests answers them 404.
        reqwest::StatusCode::NOT_FOUND => ClientError::Rejected(format!(
            "the server at {} has no analytics (an el-jefe older than protocol 1.3)",
            target.url
        )),
        _ => ClientError::Rejected(reason),
    })
}
