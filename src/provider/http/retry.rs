//! When to try a failed call again, and how long to wait first.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `max_retries + 1` attempts in all).
    pub max_retries: u32,
    /// Wait before the first retry; doubled for each one after.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// What the official Anthropic and OpenAI SDKs do.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
        }
    }
}

/// The longest wait a server may ask for; longer requests are ignored in favour of our own
/// backoff, so a bad header cannot park an agent for an hour.
const MAX_SERVER_DELAY: Duration = Duration::from_secs(60);

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first). A server's own wait wins when
    /// it asks for one within bounds; otherwise exponential backoff with up to 25 % jitter
    /// taken off (`jitter` in 0..1), so many clients do not retry in step.
    pub fn delay(&self, retry: u32, server_asked: Option<Duration>, jitter: f64) -> Duration {
        if let Some(asked) = server_asked.filter(|d| *d <= MAX_SERVER_DELAY) {
            return asked;
        }
        let doublings = retry.saturating_sub(1).min(16);
        let backoff = self
            .base_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay);
        backoff.mul_f64(1.0 - 0.25 * jitter.clamp(0.0, 1.0))
    }
}

/// `retry-after-ms` first (milliseconds), then `retry-after` (seconds or an HTTP date).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::from(at);
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The server's own verdict (`x-should-retry: true|false`), which overrides the status code.
pub fn should_retry(headers: &HeaderMap) -> Option<bool> {
    match headers.get("x-should-retry")?.to_str().ok()?.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_taken_off() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, None, 0.0), Duration::from_millis(500));
        assert_eq!(p.delay(2, None, 0.0), Duration::from_secs(1));
        assert_eq!(p.delay(3, None, 0.0), Duration::from_secs(2));
        assert_eq!(p.delay(10, None, 0.0), Duration::from_secs(8));
        assert_eq!(p.delay(1, None, 1.0), Duration::from_millis(375));
        assert_eq!(p.delay(40, None, 0.5), Duration::from_secs(7));
    }

    #[test]
    fn a_servers_wait_wins_within_bounds() {
        let p = RetryPolicy::default();
        let asked = Some(Duration::from_secs(3));
        assert_eq!(p.delay(1, asked, 0.9), Duration::from_secs(3));
        let absurd = Some(Duration::from_secs(3600));
        assert_eq!(p.delay(1, absurd, 0.0), Duration::from_millis(500));
    }

    #[test]
    fn retry_after_headers_in_every_form() {
        let ms = headers(&[("retry-after-ms", "250"), ("retry-after", "9")]);
        assert_eq!(retry_after(&ms), Some(Duration::from_millis(250)));
        assert_eq!(
            retry_after(&headers(&[("retry-after", "2")])),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "1.5")])),
            Some(Duration::from_millis(1500))
        );
        let past = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(retry_after(&past), Some(Duration::ZERO));
        let future = chrono::Utc::now() + chrono::Duration::seconds(30);
        let date = future.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let wait = retry_after(&headers(&[("retry-after", &date)])).unwrap();
        assert!(
            wait > Duration::from_secs(27) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "-4")])), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn should_retry_header() {
        assert_eq!(
            should_retry(&headers(&[("x-should-retry", "false")])),
            Some(false)
        );
        assert_eq!(
            should_retry(&headers(&[("x-should-retry", "true")])),
            Some(true)
        );
        assert_eq!(should_retry(&headers(&[("x-should-retry", "maybe")])), None);
    }
}
