//! Sign in and sign out.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use super::page::{Layout, PageResult, capitalise, render, safe_next, see_other};
use crate::auth::token;
use crate::http::AppState;
use crate::http::extract::{
    ClientIp, Https, cookie, session_cookie, with_device_cookie, with_session_cookie,
};
use crate::service::ServiceError;

#[derive(askama::Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    next: String,
    login: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct LoginQuery {
    next: Option<String>,
    signed_out: Option<String>,
}

/// `GET /login`.
pub(super) async fn form(Query(q): Query<LoginQuery>) -> Response {
    let page = LoginPage {
        l: Layout::new("Sign in", None),
        // "/" sends each role to its start page (a telecaller: the desk)
        next: safe_next(q.next.as_deref().unwrap_or("/")).to_string(),
        login: String::new(),
        error: None,
        notice: q.signed_out.is_some().then_some("You are signed out."),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// How long to wait, as people say it ("3 minutes", "40 seconds").
fn wait_text(wait: std::time::Duration) -> String {
    let secs = wait.as_secs().max(1);
    if secs >= 90 {
        let mins = secs.div_ceil(60);
        format!("{mins} minutes")
    } else if secs == 1 {
        "1 second".into()
    } else {
        format!("{secs} seconds")
    }
}

/// `POST /login`: on success the session cookie and a 303 to `next`.
pub(super) async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Https(https): Https,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> PageResult {
    let next = safe_next(&f.next).to_string();
    let failed = |status: StatusCode, message: String| {
        let page = LoginPage {
            l: Layout::new("Sign in", None),
            next: next.clone(),
            login: f.login.clone(),
            error: Some(message),
            notice: None,
        };
        Ok(render(status, &page))
    };
    let read_cookie = |name: &str| cookie(&headers, name).map(str::to_string);
    match crate::service::auth::login(&state, &f.login, &f.password, ip, read_cookie).await {
        Ok(signed_in) => {
            let r = see_other(&next);
            let r = with_session_cookie(&state, https, r, Some(&signed_in.token));
            Ok(with_device_cookie(https, r, &signed_in.device_cookie))
        }
        Err(ServiceError::Unauthenticated(_)) => failed(
            StatusCode::UNAUTHORIZED,
            "The e-mail, user name or password is not right. Check them and try again.".into(),
        ),
        // pending or disabled, told only to someone who knows the password
        Err(ServiceError::Forbidden(m)) => {
            failed(StatusCode::FORBIDDEN, format!("{}.", capitalise(&m)))
        }
        Err(ServiceError::Throttled { retry_after, .. }) => {
            let mut r = failed(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many failed sign-in attempts. Try again in {}.",
                    wait_text(retry_after)
                ),
            )?;
            if let Ok(v) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /logout`: ends this session (if any is left) and clears the cookie.
pub(super) async fn sign_out(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
) -> PageResult {
    if let Some(t) = session_cookie(&headers) {
        crate::service::auth::logout(&state, &token::hash(t)).await?;
    }
    Ok(with_session_cookie(
        &state,
        https,
        see_other("/login?signed_out=1"),
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::wait_text;
    use std::time::Duration;

    #[test]
    fn waits_read_naturally() {
        assert_eq!(wait_text(Duration::from_secs(40)), "40 seconds");
        assert_eq!(wait_text(Duration::from_secs(0)), "1 second");
        assert_eq!(wait_text(Duration::from_secs(14 * 60 + 5)), "15 minutes");
    }
}
