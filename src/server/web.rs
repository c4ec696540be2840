//! The web dashboard: its page, script and style (built into the binary, nothing fetched from
//! elsewhere), and signing a browser in. A browser signs in once, with the one-time link
//! `serve` prints or with a person's token pasted in a form; from then on an HttpOnly cookie
//! stands for it, so no token sits in a URL, the page, or the script's reach.

use std::sync::Arc;

use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;
use std::net::SocketAddr;

use super::Shared;
use super::people::Person;

const INDEX: &str = include_str!("../../assets/web/index.html");
const LOGIN: &str = include_str!("../../assets/web/login.html");
const SCRIPT: &str = include_str!("../../assets/web/app.js");
const STYLE: &str = include_str!("../../assets/web/app.css");

/// The cookie that stands for a signed-in browser.
pub const COOKIE: &str = "el_jefe_login";
/// How long a browser stays signed in without signing in again.
const COOKIE_DAYS: i64 = 30;

/// Nothing from elsewhere: scripts, styles, images and connections come from this server only.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' \
                      data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
                      frame-ancestors 'none'";

#[derive(Debug, Deserialize)]
pub struct IndexQuery {
    login: Option<String>,
}

/// The dashboard for a signed-in browser; the sign-in page otherwise. `?login=CODE` (the
/// one-time link) signs the browser in and sends it on to `/`, so the code leaves the address
/// bar at once.
pub async fn index(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Query(query): Query<IndexQuery>,
) -> Response {
    if let Some(code) = query.login {
        let peer = peer.ip().to_string();
        shared.door.check(&peer).await;
        let person = shared.web_logins.lock().ok().and_then(|mut logins| {
            let mut people = shared.people.write().ok()?;
            people.refresh();
            logins.use_link(&code, &people)
        });
        return match person {
            Some(person) => {
                shared.door.passed(&peer);
                sign_in(&shared, jar, &person)
            }
            None => {
                shared.door.failed(&peer);
                login_page(
                    StatusCode::UNAUTHORIZED,
                    "That sign-in link was used already, or belongs to another start of the \
                     server. Paste your token instead.",
                )
            }
        };
    }
    if signed_in(&shared, &jar).is_some() {
        page(
            StatusCode::OK,
            "text/html; charset=utf-8",
            INDEX.to_string(),
        )
    } else {
        login_page(StatusCode::OK, "")
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

/// The sign-in form: a person's token, as `users add` printed it.
pub async fn login(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let peer = peer.ip().to_string();
    shared.door.check(&peer).await;
    let person = shared.people.write().ok().and_then(|mut people| {
        people.refresh();
        people.who(form.token.trim()).cloned()
    });
    match person {
        Some(person) => {
            shared.door.passed(&peer);
            tracing::info!(user = %person.name, %peer, "browser signed in");
            sign_in(&shared, jar, &person)
        }
        None => {
            shared.door.failed(&peer);
            tracing::warn!(%peer, "refused a browser sign-in: unknown or revoked token");
            login_page(StatusCode::UNAUTHORIZED, "Unknown or revoked token.")
        }
    }
}

pub async fn logout(State(shared): State<Arc<Shared>>, jar: CookieJar) -> Response {
    if let Some(cookie) = jar.get(COOKIE)
        && let Ok(mut logins) = shared.web_logins.lock()
        && let Err(e) = logins.sign_out(cookie.value())
    {
        tracing::warn!("signing a browser out: {e}");
    }
    let jar = jar.remove(Cookie::build(COOKIE).path("/"));
    (jar, Redirect::to("/")).into_response()
}

pub async fn script() -> Response {
    page(
        StatusCode::OK,
        "text/javascript; charset=utf-8",
        SCRIPT.to_string(),
    )
}

pub async fn style() -> Response {
    page(StatusCode::OK, "text/css; charset=utf-8", STYLE.to_string())
}

/// The person a browser's cookie stands for, if it stands for anyone still allowed in.
pub fn signed_in(shared: &Shared, jar: &CookieJar) -> Option<Person> {
    let cookie = jar.get(COOKIE)?;
    let logins = shared.web_logins.lock().ok()?;
    let mut people = shared.people.write().ok()?;
    people.refresh();
    logins.who(cookie.value(), &people)
}

/// A WebSocket opened from a page of another site carries this site's cookie too; only a page
/// of this server may use it. Clients that are not browsers send no Origin.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
}

fn sign_in(shared: &Shared, jar: CookieJar, person: &Person) -> Response {
    let cookie = shared
        .web_logins
        .lock()
        .map_err(|_| "the sign-ins are unavailable".to_string())
        .and_then(|mut logins| logins.sign_in(person).map_err(|e| e.to_string()));
    match cookie {
        Ok(value) => {
            let cookie = Cookie::build((COOKIE, value))
                .path("/")
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(shared.secure_cookies)
                .max_age(cookie::time::Duration::days(COOKIE_DAYS));
            (jar.add(cookie), Redirect::to("/")).into_response()
        }
        Err(e) => {
            tracing::error!("signing a browser in: {e}");
            login_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server could not keep the sign-in; see its log.",
            )
        }
    }
}

fn login_page(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "text/html; charset=utf-8",
        LOGIN.replace("{{message}}", &escape_html(message)),
    )
}

fn page(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The one-time link's address never reaches another site as a referrer.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn only_pages_of_this_server_may_open_its_websocket() {
        assert!(same_origin(&headers(None, "127.0.0.1:7777")));
        assert!(same_origin(&headers(
            Some("http://127.0.0.1:7777"),
            "127.0.0.1:7777"
        )));
        assert!(!same_origin(&headers(
            Some("https://evil.example"),
            "127.0.0.1:7777"
        )));
    }
}
