//! Which server to talk to, and as whom.

use crate::store::paths::AppDirs;
use crate::store::server_file;

#[derive(Clone)]
pub struct Target {
    /// As the user gives it or the server prints it: `http://host:7777`, `https://...`, or a
    /// WebSocket address.
    pub url: String,
    pub token: Option<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token stays out of logs and error messages.
        f.debug_struct("Target")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Target {
    /// The server of this data dir, when one runs, as its owner.
    pub fn own_server(dirs: &AppDirs) -> Option<Target> {
        let file = server_file::running(dirs)?;
        Some(Target {
            url: file.url,
            token: Some(file.token),
        })
    }

    /// The protocol's WebSocket address for the server's URL.
    pub fn websocket_url(&self) -> Result<String, String> {
        let (secure, host) = self.host()?;
        let scheme = if secure { "wss" } else { "ws" };
        Ok(format!("{scheme}://{host}/api/v1/ws"))
    }

    /// The address of one of the server's HTTP requests (`path` from its root).
    pub fn http_url(&self, path: &str) -> Result<String, String> {
        let (secure, host) = self.host()?;
        let scheme = if secure { "https" } else { "http" };
        Ok(format!("{scheme}://{host}{path}"))
    }

    /// Whether the server speaks TLS, and its host and port.
    fn host(&self) -> Result<(bool, &str), String> {
        let url = self.url.trim_end_matches('/');
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("`{url}` is not a server URL (like http://host:7777)"))?;
        let secure = match scheme {
            "http" | "ws" => false,
            "https" | "wss" => true,
            other => {
                return Err(format!(
                    "`{other}` is not a scheme a server speaks (http, https, ws or wss)"
                ));
            }
        };
        let host = rest.split('/').next().unwrap_or(rest);
        if host.is_empty() {
            return Err(format!("`{url}` names no host"));
        }
        Ok((secure, host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(url: &str) -> Result<String, String> {
        Target {
            url: url.into(),
            token: None,
        }
        .websocket_url()
    }

    #[test]
    fn a_servers_requests_go_to_its_http_address() {
        let target = |url: &str| Target {
            url: url.into(),
            token: None,
        };
        assert_eq!(
            target("ws://127.0.0.1:7777/api/v1/ws")
                .http_url("/api/v1/stats")
                .unwrap(),
            "http://127.0.0.1:7777/api/v1/stats"
        );
        assert_eq!(
            target("wss://jefe.example").http_url("/x").unwrap(),
            "https://jefe.example/x"
        );
    }

    #[test]
    fn a_servers_url_becomes_its_websocket_address() {
        assert_eq!(
            ws("http://127.0.0.1:7777").unwrap(),
            "ws://127.0.0.1:7777/api/v1/ws"
        );
        assert_eq!(
            ws("https://jefe.example/").unwrap(),
            "wss://jefe.example/api/v1/ws"
        );
        assert_eq!(
            ws("ws://[::1]:7777/api/v1/ws").unwrap(),
            "ws://[::1]:7777/api/v1/ws"
        );
        assert!(ws("ftp://x").unwrap_err().contains("ftp"));
        assert!(ws("localhost:7777").is_err());
        assert!(ws("http://").is_err());
    }
}
