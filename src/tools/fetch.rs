//! fetch_url: one GET, bounded in time and size; HTML comes back as readable text.

use futures::StreamExt;

use super::builtin::Args;
use super::{ToolError, ToolLimits, ToolOutput, clip_result};
use crate::format::human_size;

pub async fn fetch_url(
    client: &reqwest::Client,
    args: &Args<'_>,
    limits: &ToolLimits,
) -> Result<ToolOutput, ToolError> {
    let raw = args.str("url")?;
    let url = reqwest::Url::parse(raw)
        .map_err(|e| ToolError::new(format!("`{raw}` is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ToolError::new(format!(
            "only http and https URLs can be fetched, not {}:",
            url.scheme()
        )));
    }
    let timeout = limits.fetch_timeout;
    let response = client
        .get(url.clone())
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| ToolError::new(describe(&url, &e, timeout.as_secs())))?;
    let status = response.status();
    let html = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("html"));
    let mut body = Vec::new();
    let mut cut = false;
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ToolError::new(describe(&url, &e, timeout.as_secs())))?;
        let room = limits.fetch_max_bytes.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if chunk.len() > room {
            cut = true;
            break;
        }
    }
    let text = String::from_utf8_lossy(&body);
    let text = if html {
        html_to_text(&text)
    } else {
        text.into_owned()
    };
    if !status.is_success() {
        return Err(ToolError::new(clip_result(
            &format!("{url} answered HTTP {status}\n{text}"),
            limits.max_result_bytes,
        )));
    }
    let mut summary = format!("{url}, {}", human_size(body.len() as u64));
    if cut {
        summary.push_str(" (cut)");
    }
    Ok(ToolOutput {
        content: clip_result(&text, limits.max_result_bytes),
        summary,
    })
}

fn describe(url: &reqwest::Url, e: &reqwest::Error, timeout_secs: u64) -> String {
    let host = url.host_str().unwrap_or("the host");
    if e.is_timeout() {
        format!("{host} did not answer within {timeout_secs} s")
    } else if e.is_connect() {
        format!("could not reach {host} (offline, or the host is down): {e}")
    } else {
        format!("fetching {url} failed: {e}")
    }
}

/// The text a person would read: no tags, scripts or styles, entities decoded, blank runs
/// squeezed. Not a parser; good enough to hand a page to a model.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    while i < html.len() {
        let rest = &lower[i..];
        if rest.starts_with("<script") || rest.starts_with("<style") {
            let close = if rest.starts_with("<script") {
                "</script>"
            } else {
                "</style>"
            };
            i = match rest.find(close) {
                Some(end) => i + end + close.len(),
                None => html.len(),
            };
            continue;
        }
        if rest.starts_with('<') {
            let end = rest.find('>').map_or(html.len(), |e| i + e + 1);
            let tag = &rest[1..(end - i).saturating_sub(1).max(1)];
            let name = tag
                .trim_start_matches('/')
                .split([' ', '>', '/'])
                .next()
                .unwrap_or("");
            if matches!(
                name,
                "p" | "br" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4" | "title"
            ) {
                out.push('\n');
            }
            i = end;
            continue;
        }
        let Some(ch) = html[i..].chars().next() else {
            break;
        };
        out.push(ch);
        i += ch.len_utf8();
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let mut text = String::new();
    let mut blank = 0;
    for line in decoded.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !text.is_empty() {
            text.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        text.push_str(&line);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn html_becomes_readable_text() {
        let html = "<html><head><title>Tides</title><style>p{color:red}</style>\
            <script>alert('x')</script></head><body><h1>Why  tides</h1>\
            <p>The moon &amp; the sun.</p><p>Two&nbsp;bulges</p></body></html>";
        assert_eq!(
            html_to_text(html),
            "Tides\n\nWhy tides\n\nThe moon & the sun.\n\nTwo bulges"
        );
    }

    /// A one-shot HTTP server on loopback answering with `response`.
    async fn serve_once(response: Vec<u8>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/page", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(&response).await;
        });
        url
    }

    #[tokio::test]
    async fn pages_come_back_as_text_and_big_bodies_are_cut() {
        let client = reqwest::Client::new();
        let html = "<html><body><h1>Hi</h1><p>there</p></body></html>";
        let url = serve_once(
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\r\n{html}",
                html.len()
            )
            .into_bytes(),
        )
        .await;
        let out = fetch_url(
            &client,
            &Args::new(&json!({"url": url})).unwrap(),
            &ToolLimits::default(),
        )
        .await
        .unwrap();
        assert_eq!(out.content, "Hi\n\nthere");

        let body = "x".repeat(10_000);
        let url = serve_once(
            format!("HTTP/1.1 200 OK\r\ncontent-length: 10000\r\n\r\n{body}").into_bytes(),
        )
        .await;
        let limits = ToolLimits {
            fetch_max_bytes: 4000,
            max_result_bytes: 100,
            ..ToolLimits::default()
        };
        let out = fetch_url(&client, &Args::new(&json!({"url": url})).unwrap(), &limits)
            .await
            .unwrap();
        assert!(out.summary.ends_with("3.9 KB (cut)"), "{}", out.summary);
        assert!(
            out.content.ends_with("[... 3900 more bytes not shown]"),
            "{}",
            out.content
        );

        let url =
            serve_once(b"HTTP/1.1 404 Not Found\r\ncontent-length: 4\r\n\r\nnope".to_vec()).await;
        let e = fetch_url(
            &client,
            &Args::new(&json!({"url": url})).unwrap(),
            &ToolLimits::default(),
        )
        .await
        .unwrap_err();
        assert!(e.message.contains("answered HTTP 404"), "{e}");
    }

    #[tokio::test]
    async fn unreachable_hosts_and_bad_urls_are_clear_tool_errors() {
        let client = reqwest::Client::new();
        let limits = ToolLimits::default();
        // Nothing listens on port 9 of this machine: the connection is refused at once.
        let e = fetch_url(
            &client,
            &Args::new(&json!({"url": "http://127.0.0.1:9/"})).unwrap(),
            &limits,
        )
        .await
        .unwrap_err();
        assert!(e.message.starts_with("could not reach 127.0.0.1"), "{e}");
        let e = fetch_url(
            &client,
            &Args::new(&json!({"url": "file:///etc/passwd"})).unwrap(),
            &limits,
        )
        .await
        .unwrap_err();
        assert!(e.message.contains("only http and https"), "{e}");
        let e = fetch_url(
            &client,
            &Args::new(&json!({"url": "not a url"})).unwrap(),
            &limits,
        )
        .await
        .unwrap_err();
        assert!(e.message.contains("is not a URL"), "{e}");
    }
}
