//! What every page shares: the signed-in user as a page sees it (a missing
//! or expired session sends the browser to the sign-in page, also from an
//! htmx request), the layout's data, HTML responses and HTML errors.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::assets;
use crate::domain::{AccountType, Capability};
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::extract::CurrentUser;
use crate::store::StoreError;

/// The signed-in user of a page request.
pub struct PageUser(pub CurrentUser);

impl PageUser {
    /// Whether the user's role has `cap` (controls a role lacks are not shown).
    pub fn can(&self, cap: Capability) -> bool {
        self.0.role().can(cap)
    }

    /// Who acts, for the service layer.
    pub fn actor(&self) -> crate::domain::Actor {
        self.0.actor()
    }
}

/// True for a request htmx sent (a boosted link or form).
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// Where to come back to after signing in: the page asked for (for htmx
/// requests, the page the browser shows).
fn return_path(parts: &Parts) -> String {
    if is_htmx(&parts.headers)
        && let Some(current) = parts
            .headers
            .get("hx-current-url")
            .and_then(|v| v.to_str().ok())
    {
        // an absolute URL of our own origin: keep path and query
        let rest = current.split_once("://").map_or(current, |(_, r)| r);
        if let Some(i) = rest.find('/') {
            return safe_next(&rest[i..]).to_string();
        }
    }
    if parts.method == axum::http::Method::GET {
        let pq = parts
            .uri
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_string();
        return safe_next(&pq).to_string();
    }
    "/leads".into()
}

/// `next` when it is a path of this site (`/…`, not `//host` or `/\host`,
/// no control characters), else the leads page.
pub fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && next.len() <= 2000;
    if ok { next } else { "/leads" }
}

/// Sends the browser to sign in, then back to `next`. htmx requests get
/// `HX-Redirect`, so the whole page goes, not a fragment swapped into it.
pub fn to_signin(headers: &HeaderMap, next: &str) -> Response {
    let target = format!("/login?next={}", encode(next));
    if is_htmx(headers) {
        let mut r = StatusCode::OK.into_response();
        if let Ok(v) = HeaderValue::from_str(&target) {
            r.headers_mut().insert("hx-redirect", v);
        }
        r
    } else {
        Redirect::to(&target).into_response()
    }
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match CurrentUser::from_request_parts(parts, state).await {
            Ok(user) => Ok(PageUser(user)),
            Err(AppError::Unauthorized(_)) => Err(to_signin(&parts.headers, &return_path(parts))),
            Err(AppError::Forbidden(m)) => Err(PageError::Forbidden(m).into_response()),
            Err(e) => Err(PageError::from(e).into_response()),
        }
    }
}

/// The header of every signed-in page.
pub struct HeaderUser {
    /// First and last name, or the login.
    pub name: String,
    /// Role as people say it.
    pub role: &'static str,
    /// The Exports page is theirs to open.
    pub exports: bool,
    /// The administration pages this role may open (after Leads), as
    /// (path, label): a page the role lacks has no link.
    pub admin_links: Vec<(&'static str, &'static str)>,
    /// The role may open a telecaller desk (the nav's Desk entry).
    pub desk: bool,
    /// The role may import (the nav's Import entry: the wizard and history).
    pub imports: bool,
}

/// The administration pages' links a role gets (DESIGN §2 and §8).
pub fn admin_links(role: AccountType) -> Vec<(&'static str, &'static str)> {
    [
        (Capability::Dashboard, "/dashboard", "Dashboard"),
        (Capability::ManageUsers, "/users", "Users"),
        (Capability::Dashboard, "/sources", "Sources"),
        (Capability::Backups, "/backups", "Backups"),
        (Capability::ReadAudit, "/audit", "Audit log"),
    ]
    .into_iter()
    .filter(|(cap, _, _)| role.can(*cap))
    .map(|(_, path, label)| (path, label))
    .collect()
}

/// What the layout (`base.html`) needs.
pub struct Layout {
    /// The page's `<title>` (before " · Pulse").
    pub title: String,
    /// Hashed asset URLs.
    pub css: String,
    /// Our script.
    pub js: String,
    /// htmx.
    pub htmx: String,
    /// Signed in as; `None` on the sign-in and error pages.
    pub user: Option<HeaderUser>,
}

/// One `<option>` of a select.
pub struct Opt {
    /// The value sent.
    pub value: String,
    /// Chosen now.
    pub selected: bool,
}

/// A labelled `<optgroup>`.
pub struct OptGroup {
    /// The group's label.
    pub label: String,
    /// Its options.
    pub options: Vec<Opt>,
}

/// Every status, grouped by stage, `selected` chosen.
pub fn status_groups(selected: &str) -> Vec<OptGroup> {
    crate::domain::Stage::all()
        .into_iter()
        .map(|s| OptGroup {
            label: format!("{} {}", s.code(), s.label()),
            options: s
                .statuses()
                .iter()
                .map(|n| Opt {
                    value: (*n).to_string(),
                    selected: *n == selected,
                })
                .collect(),
        })
        .collect()
}

/// A role's name for people.
pub fn role_label(role: AccountType) -> &'static str {
    match role {
        AccountType::MasterAdmin => "Master admin",
        AccountType::Admin => "Admin",
        AccountType::OpsTeam => "Ops team",
        AccountType::Telecaller => "Telecaller",
        AccountType::Standard => "Standard",
    }
}

impl Layout {
    /// The layout of a page titled `title`, for `user` when signed in.
    pub fn new(title: impl Into<String>, user: Option<&PageUser>) -> Layout {
        Layout {
            title: title.into(),
            css: assets::url("app.css"),
            js: assets::url("app.js"),
            htmx: assets::url("htmx.js"),
            user: user.map(|u| {
                let u = &u.0.user;
                let full = format!("{} {}", u.first_name.trim(), u.last_name.trim());
                let full = full.trim();
                HeaderUser {
                    name: if full.is_empty() {
                        u.username.clone().unwrap_or_else(|| u.email.clone())
                    } else {
                        full.to_string()
                    },
                    role: role_label(u.account_type),
                    exports: u.account_type.can(Capability::Export),
                    admin_links: admin_links(u.account_type),
                    desk: u.account_type.can(Capability::TelecallerDesk),
                    imports: u.account_type.can(Capability::Import),
                }
            }),
        }
    }
}

/// Renders a template as a page: `text/html; charset=utf-8`, and
/// `Cache-Control: no-store` (pages show lead data; a shared office PC must
/// not keep it). The strict CSP and the other security headers come from
/// `http::headers`, the router's layer for every answer.
pub fn render(status: StatusCode, template: &impl askama::Template) -> Response {
    match template.render() {
        Ok(body) => {
            let mut r = (status, Html(body)).into_response();
            let h = r.headers_mut();
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => PageError::Internal(anyhow::anyhow!("template: {e}")).into_response(),
    }
}

/// A page that could not be shown.
#[derive(Debug)]
pub enum PageError {
    /// 404: no such page, or a lead the user may not open.
    NotFound,
    /// 403: the role may not do this (or a cross-site form).
    Forbidden(String),
    /// Another answer a person can act on (410 for a used download link,
    /// 503 busy, 422 a bad value): status, heading, message.
    Refused(StatusCode, &'static str, String),
    /// 400 (or the service's 409/422 as 400): the request itself is wrong;
    /// the message says how.
    BadRequest(String),
    /// 500: logged once with the request id; the page names only the id.
    Internal(anyhow::Error),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Internal(e.into())
    }
}

impl From<crate::service::ServiceError> for PageError {
    fn from(e: crate::service::ServiceError) -> Self {
        use crate::service::ServiceError as E;
        match e {
            E::NotFound(_) => PageError::NotFound,
            E::Forbidden(m) => PageError::Forbidden(capitalise(&m)),
            E::Invalid(m) | E::Malformed(m) | E::Conflict(m) => {
                PageError::BadRequest(capitalise(&m))
            }
            E::Domain(e) => PageError::BadRequest(capitalise(&e.to_string())),
            E::Internal(e) => PageError::Internal(e),
            other => PageError::Internal(anyhow::anyhow!("{other}")),
        }
    }
}

/// `text` with its first letter in capitals (service messages are
/// sentence fragments).
pub fn capitalise(text: &str) -> String {
    let mut c = text.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound(_) => PageError::NotFound,
            AppError::Forbidden(m) => PageError::Forbidden(m),
            AppError::Internal(e) => PageError::Internal(e),
            other => PageError::Internal(anyhow::anyhow!("{other}")),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage {
    l: Layout,
    status: u16,
    heading: &'static str,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, heading, message) = match self {
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is no such page, or it is not one you may open.".to_string(),
            ),
            PageError::Forbidden(m) => (StatusCode::FORBIDDEN, "Not allowed", m),
            PageError::Refused(status, heading, m) => (status, heading, m),
            PageError::BadRequest(m) => (StatusCode::BAD_REQUEST, "That did not work", m),
            PageError::Internal(e) => {
                let rid = crate::http::request_id::current();
                tracing::error!(request_id = %rid, error = %format!("{e:#}"), "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    format!("The server could not show this page (request id {rid})."),
                )
            }
        };
        let page = ErrorPage {
            l: Layout::new(heading, None),
            status: status.as_u16(),
            heading,
            message,
        };
        render(status, &page)
    }
}

/// Result of a page handler.
pub type PageResult = Result<Response, PageError>;

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The cookie that carries what a form post did to the page it redirects
/// to (one answer, read once).
const NOTICE_COOKIE: &str = "pulse_notice";

/// What the last action did, shown once on the next page.
pub struct Notice {
    /// An error rather than a result.
    pub error: bool,
    /// The text.
    pub text: String,
}

/// `303 See Other` to `to`, carrying `notice` for the page there.
pub fn see_other_with(to: &str, error: bool, notice: &str) -> Response {
    let mut r = see_other(to);
    let value = format!(
        "{NOTICE_COOKIE}={}{}; Path=/; Max-Age=60; HttpOnly; SameSite=Strict",
        if error { "e" } else { "o" },
        encode(notice)
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// The notice a redirect left for this page, if any.
pub fn take_notice(headers: &HeaderMap) -> Option<Notice> {
    let raw = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix(&format!("{NOTICE_COOKIE}="))
                .map(str::to_string)
        })?;
    let (kind, text) = raw.split_at_checked(1)?;
    let text = decode(text)?;
    (!text.is_empty()).then(|| Notice {
        error: kind == "e",
        text,
    })
}

/// Clears the notice cookie on a page that showed it.
pub fn clear_notice(r: &mut Response) {
    let value = format!("{NOTICE_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    if let Ok(v) = HeaderValue::from_str(&value) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The inverse of [`encode`] (`None` for broken escapes or UTF-8).
fn decode(value: &str) -> Option<String> {
    let b = value.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = value.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `303 See Other` to `to`: after a form post, the browser GETs the result.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/leads?stage=S2"), "/leads?stage=S2");
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "leads",
            "/a\nb",
            "",
        ] {
            assert_eq!(safe_next(bad), "/leads", "{bad:?}");
        }
    }

    #[test]
    fn a_notice_survives_its_cookie() {
        let r = see_other_with("/leads", false, "412 assigned, 3 not allowed; ü");
        let set = r
            .headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            format!("a=b; {}", set.split(';').next().unwrap())
                .parse()
                .unwrap(),
        );
        let n = take_notice(&h).unwrap();
        assert!(!n.error);
        assert_eq!(n.text, "412 assigned, 3 not allowed; ü");
        h.insert(header::COOKIE, "pulse_notice=o%zz".parse().unwrap());
        assert!(take_notice(&h).is_none());
    }

    #[test]
    fn encodes_query_values() {
        assert_eq!(encode("/leads?a=b c&d"), "/leads%3Fa%3Db%20c%26d");
        assert_eq!(encode("अ"), "%E0%A4%85");
    }
}
