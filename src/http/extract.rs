//! Extractors: JSON bodies with `{"detail"}` errors, the signed-in user,
//! and the client's address behind trusted proxies.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};

use super::error::AppError;
use super::state::AppState;
use crate::auth::token;
use crate::config::IpNet;
use crate::domain::{AccountType, Actor};
use crate::store::User;

/// Name of the session cookie over plain HTTP (tests, `scripts/run`).
pub const SESSION_COOKIE: &str = "pulse_session";
/// Its name behind HTTPS: the `__Host-` prefix makes browsers insist on `Secure`,
/// `Path=/` and no `Domain`, so a sibling subdomain cannot set or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-pulse_session";

/// `axum::Json` whose rejections answer `{"detail"}` with 400/413/415/422.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => {
                AppError::Unprocessable(format!("invalid JSON body: {}", e.body_text()))
            }
            JsonRejection::JsonSyntaxError(e) => {
                AppError::BadRequest(format!("malformed JSON: {}", e.body_text()))
            }
            JsonRejection::MissingJsonContentType(_) => {
                AppError::BadRequest("expected Content-Type: application/json".into())
            }
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                AppError::PayloadTooLarge("request body too large".into())
            }
            other => AppError::BadRequest(other.body_text()),
        }
    }
}

/// `axum::extract::Path` with `{"detail"}` errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

impl From<PathRejection> for AppError {
    fn from(r: PathRejection) -> Self {
        AppError::NotFound(format!("not found: {}", r.body_text()))
    }
}

/// `axum::extract::Query` with `{"detail"}` errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        AppError::Unprocessable(format!("invalid query: {}", r.body_text()))
    }
}

/// The client's address: the peer, or — when the peer is a trusted proxy —
/// the right-most address in `X-Forwarded-For` that is not a trusted proxy.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    for value in headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(text) = value.to_str() else {
            return client;
        };
        for part in text.rsplit(',') {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) if is_trusted(ip) => client = ip,
                Ok(ip) => return ip,
                Err(_) => return client,
            }
        }
    }
    client
}

/// The client's address as seen through trusted proxies.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        warn_untrusted_forwarding(peer, &parts.headers, &state.config.trusted_proxies);
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

/// Logs once per process when a loopback peer (a local reverse proxy) sends forwarded
/// headers that are ignored because it is not trusted: every client then looks like that
/// proxy to the login throttle and the logs.
fn warn_untrusted_forwarding(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if peer.is_loopback()
        && !trusted.iter().any(|n| n.contains(peer))
        && (headers.contains_key("x-forwarded-for") || headers.contains_key("x-forwarded-proto"))
        && !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        tracing::warn!(
            peer = %peer,
            "X-Forwarded-For from a loopback peer that is not trusted is ignored: set \
             PULSE_TRUSTED_PROXIES (e.g. 127.0.0.1/32,::1/128) when Pulse runs behind a local proxy"
        );
    }
}

/// The signed-in user of this request.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    /// The user.
    pub user: User,
    /// Hash of the token that authenticated the request (logout deletes it).
    pub token_hash: String,
}

impl CurrentUser {
    /// The user's role.
    pub fn role(&self) -> AccountType {
        self.user.account_type
    }

    /// The user as the use-cases see them.
    pub fn actor(&self) -> Actor {
        Actor {
            id: self.user.id,
            login: self.user.email.clone(),
            role: self.user.account_type,
        }
    }
}

/// The signed-in account, for handlers that need no more than who acts.
impl FromRequestParts<AppState> for Actor {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Ok(CurrentUser::from_request_parts(parts, state).await?.actor())
    }
}

/// Filled by [`CurrentUser`] so the request log line can name the user.
#[derive(Clone, Debug, Default)]
pub struct LoggedUser(pub std::sync::Arc<std::sync::OnceLock<uuid::Uuid>>);

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Sets (or, with `None`, clears) the session cookie on `response` (a
/// sign-in or sign-out, from the API or a page). Behind HTTPS (`https`) it is
/// `__Host-pulse_session; Secure`, over plain HTTP `pulse_session`.
pub fn with_session_cookie(
    state: &AppState,
    https: bool,
    mut response: axum::response::Response,
    token: Option<&str>,
) -> axum::response::Response {
    let (name, secure) = if https {
        (SECURE_SESSION_COOKIE, "; Secure")
    } else {
        (SESSION_COOKIE, "")
    };
    let cookie = match token {
        Some(t) => format!(
            "{name}={t}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            state.config.session_absolute.as_secs()
        ),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    };
    if let Ok(v) = axum::http::HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// Sets the device cookie of a sign-in (`name`, `value`): sent back on later
/// sign-ins so this browser gets in past the account-wide failure ceiling.
pub fn with_device_cookie(
    https: bool,
    mut response: axum::response::Response,
    (name, value): &(String, String),
) -> axum::response::Response {
    let secure = if https { "; Secure" } else { "" };
    let cookie = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        crate::auth::device::DEVICE_COOKIE_MAX_AGE
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// The value of the cookie `name`, if sent.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// The session cookie's value, if sent (under either name).
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SECURE_SESSION_COOKIE).or_else(|| cookie(headers, SESSION_COOKIE))
}

/// Whether the client reached us over HTTPS: `PULSE_COOKIE_SECURE`, or
/// `X-Forwarded-Proto: https` from a trusted proxy (Caddy terminates TLS).
#[derive(Clone, Copy, Debug)]
pub struct Https(pub bool);

impl FromRequestParts<AppState> for Https {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if state.config.cookie_secure {
            return Ok(Https(true));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let trusted = state
            .config
            .trusted_proxies
            .iter()
            .any(|n| n.contains(peer));
        let forwarded = parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
        Ok(Https(trusted && forwarded))
    }
}

/// Cookie-authenticated requests that change state must come from our own
/// pages: their `Origin` must name the host they were sent to — or, where
/// the browser sends it, `Sec-Fetch-Site` must say `same-origin`: under our
/// `Referrer-Policy: no-referrer` a plain form post (a navigation, no htmx)
/// carries `Origin: null`, so without this every page form would need
/// script. Scripts cannot set `Sec-Fetch-*` (forbidden header names).
fn origin_matches(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site.eq_ignore_ascii_case("same-origin");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok());
    host.is_some_and(|h| h.eq_ignore_ascii_case(origin_host))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let unauthorized = || AppError::Unauthorized("not authenticated".into());
        let (token, via_cookie) = match bearer(&parts.headers) {
            Some(t) => (t, false),
            None => (
                session_cookie(&parts.headers).ok_or_else(unauthorized)?,
                true,
            ),
        };
        if via_cookie
            && !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS)
            && !origin_matches(&parts.headers)
        {
            return Err(AppError::Forbidden(
                "cross-origin request refused: cookie-authenticated changes need a matching Origin header"
                    .into(),
            ));
        }
        let token_hash = token::hash(token);
        let user = crate::service::auth::authenticate(state, &token_hash).await?;
        if let Some(slot) = parts.extensions.get::<LoggedUser>() {
            let _ = slot.0.set(user.id);
        }
        Ok(CurrentUser { user, token_hash })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_only_from_trusted_peers() {
        let trusted = vec![IpNet::parse("10.0.0.0/8").unwrap()];
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9, 10.0.0.7".parse().unwrap());
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let stranger: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(
            client_ip(proxy, &h, &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(stranger, &h, &trusted), stranger);
        h.insert("x-forwarded-for", "1.2.3.4, 203.0.113.9".parse().unwrap());
        // A client cannot spoof by prepending: the right-most untrusted address wins.
        assert_eq!(
            client_ip(proxy, &h, &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn origin_check() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "pulse.example:8080".parse().unwrap());
        assert!(!origin_matches(&h));
        h.insert(header::ORIGIN, "http://pulse.example:8080".parse().unwrap());
        assert!(origin_matches(&h));
        h.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(!origin_matches(&h));
        // a plain form post under no-referrer: `Origin: null`, and the
        // browser's own word that it is same-origin
        h.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(!origin_matches(&h));
        h.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(origin_matches(&h));
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        h.insert(header::ORIGIN, "http://pulse.example:8080".parse().unwrap());
        assert!(!origin_matches(&h), "the browser's word wins");
    }
}
