//! `/api/auth/*`: login, register, me, logout, change password.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get, routing::post};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use crate::auth::throttle::AccountKey;
use crate::auth::{device, password, token};
use crate::domain::{AccountStatus, AccountType};
use crate::http::AppState;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{
    ApiJson, ClientIp, CurrentUser, Https, SECURE_SESSION_COOKIE, SESSION_COOKIE, cookie,
};
use crate::store::{NewSession, NewUser, User, UserChange};

/// The routes under `/api/auth`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/register", post(register))
        .route("/api/auth/me", get(me))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/change-password", post(change_password))
}

#[derive(Deserialize)]
struct LoginRequest {
    /// An e-mail or a user name such as `admin`.
    email: String,
    password: String,
}

/// The same answer for an unknown login and a wrong password.
const BAD_CREDENTIALS: &str = "Incorrect email or password";
/// Longer logins cannot name an account (e-mails are at most 254 bytes).
const MAX_LOGIN_BYTES: usize = 320;
/// Longer passwords cannot be right (the policy allows 256 bytes).
const MAX_PASSWORD_BYTES: usize = 1024;

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Https(https): Https,
    headers: axum::http::HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<Response> {
    let login = req.email.trim();
    // Bound the work an attacker can make us do: nothing this long can match, so it is
    // refused before the throttle, the database or the hasher see it.
    if login.is_empty() || login.len() > MAX_LOGIN_BYTES || req.password.len() > MAX_PASSWORD_BYTES
    {
        crate::metrics::login_failure("credentials");
        return Err(AppError::Unauthorized(BAD_CREDENTIALS.into()));
    }
    let found = state.store.find_login(login).await?;
    let (account, device) = match &found {
        Some(f) => (
            AccountKey::user(f.user.id),
            cookie(&headers, &device::cookie_name(f.user.id))
                .and_then(|v| state.throttle.device_keys().verify(f.user.id, v)),
        ),
        None => (AccountKey::login(login), None),
    };
    let attempt = state
        .throttle
        .reserve(account, ip, device)
        .map_err(|wait| {
            crate::metrics::login_failure("throttled");
            AppError::TooManyRequests {
                message: "too many failed sign-in attempts; try again later".into(),
                retry_after: wait,
            }
        })?;
    let ok = state
        .hasher
        .verify(
            &req.password,
            found.as_ref().map(|f| f.password_hash.as_str()),
        )
        .await?;
    let Some(found) = found.filter(|_| ok) else {
        attempt.failed();
        crate::metrics::login_failure("credentials");
        tracing::info!(target: "pulse::auth", event = "login_failed", "sign-in failed");
        return Err(AppError::Unauthorized(BAD_CREDENTIALS.into()));
    };
    attempt.succeeded();
    let user = found.user;
    match user.status {
        AccountStatus::Pending => {
            return Err(AppError::Forbidden(
                "this account is waiting for approval by an administrator".into(),
            ));
        }
        AccountStatus::Disabled => {
            return Err(AppError::Forbidden(
                "this account is disabled; ask an administrator".into(),
            ));
        }
        AccountStatus::Active => {}
    }
    let token = start_session(&state, &user).await?;
    tracing::info!(target: "pulse::auth", event = "login", user_id = %user.id, "signed in");
    let body = json!({ "message": "Login successful", "token": token, "user": user });
    let mut response = with_session_cookie(
        &state,
        https,
        (StatusCode::OK, Json(body)).into_response(),
        Some(&token),
    );
    let device_cookie = format!(
        "{}={}; Path=/api/auth; HttpOnly; SameSite=Strict; Max-Age={}{}",
        device::cookie_name(user.id),
        state.throttle.device_keys().issue(user.id),
        device::DEVICE_COOKIE_MAX_AGE,
        if state.config.cookie_secure {
            "; Secure"
        } else {
            ""
        },
    );
    if let Ok(v) = HeaderValue::from_str(&device_cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// Creates a session for `user` and returns its token.
async fn start_session(state: &AppState, user: &User) -> AppResult<String> {
    let token = token::generate();
    let now = Utc::now();
    let absolute = chrono::Duration::from_std(state.config.session_absolute).unwrap_or_default();
    state
        .store
        .create_session(&NewSession {
            token_hash: token::hash(&token),
            user_id: user.id,
            created_at: now,
            expires_at: now + absolute,
        })
        .await?;
    Ok(token)
}

/// Sets (or, with `None`, clears) the session cookie: `__Host-pulse_session; Secure`
/// behind HTTPS, `pulse_session` over plain HTTP.
fn with_session_cookie(
    state: &AppState,
    https: bool,
    mut response: Response,
    token: Option<&str>,
) -> Response {
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
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize)]
struct RegisterRequest {
    first_name: String,
    last_name: String,
    email: String,
    password: String,
    account_type: Option<String>,
}

/// Checks an e-mail address's shape (the mailbox is not contacted).
pub fn check_email(email: &str) -> AppResult<String> {
    let email = email.trim();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        });
    if valid {
        Ok(email.to_string())
    } else {
        Err(AppError::Unprocessable(format!(
            "invalid e-mail address {email:?}"
        )))
    }
}

/// Checks a person's name field.
pub fn check_name(field: &str, value: &str) -> AppResult<String> {
    let value = value.trim();
    if value.chars().count() > 100 || value.chars().any(char::is_control) {
        return Err(AppError::Unprocessable(format!(
            "{field} must be at most 100 characters without control characters"
        )));
    }
    Ok(value.to_string())
}

/// Parses an account type named in a request.
pub fn parse_account_type(text: &str) -> AppResult<AccountType> {
    text.parse()
        .map_err(|e: crate::domain::role::AccountTypeError| AppError::Unprocessable(e.to_string()))
}

async fn register(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> AppResult<Response> {
    let email = check_email(&req.email)?;
    let first_name = check_name("first_name", &req.first_name)?;
    let last_name = check_name("last_name", &req.last_name)?;
    let account_type = match req.account_type.as_deref() {
        None | Some("") => AccountType::Standard,
        Some(t) => parse_account_type(t)?,
    };
    if matches!(account_type, AccountType::MasterAdmin | AccountType::Admin) {
        return Err(AppError::Forbidden(
            "admin accounts cannot be self-registered; ask an administrator".into(),
        ));
    }
    password::check_policy(&req.password).map_err(AppError::Unprocessable)?;
    let password_hash = state.hasher.hash(&req.password).await?;
    let user = state
        .store
        .create_user(&NewUser {
            email,
            username: None,
            first_name,
            last_name,
            account_type,
            status: AccountStatus::Pending,
            password_hash,
        })
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict(_) => {
                AppError::Conflict("an account with this e-mail already exists".into())
            }
            other => other.into(),
        })?;
    let body = json!({
        "message": "Registration received; an administrator must approve the account before you can sign in",
        "user": user,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn me(current: CurrentUser) -> Json<User> {
    Json(current.user)
}

async fn logout(
    State(state): State<AppState>,
    Https(https): Https,
    current: CurrentUser,
) -> AppResult<Response> {
    state.store.delete_session(&current.token_hash).await?;
    let response = Json(json!({ "message": "Logged out" })).into_response();
    Ok(with_session_cookie(&state, https, response, None))
}

#[derive(Deserialize)]
struct ChangePasswordRequest {
    old_password: String,
    new_password: String,
}

/// Changes the caller's password, ends every session (this one too) and
/// starts a fresh one, returned like a login.
async fn change_password(
    State(state): State<AppState>,
    Https(https): Https,
    current: CurrentUser,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> AppResult<Response> {
    let found = state.store.find_login(&current.user.email).await?;
    let ok = state
        .hasher
        .verify(
            &req.old_password,
            found.as_ref().map(|f| f.password_hash.as_str()),
        )
        .await?;
    if !ok {
        return Err(AppError::Unprocessable(
            "old_password is not correct".into(),
        ));
    }
    password::check_policy(&req.new_password).map_err(AppError::Unprocessable)?;
    let hash = state.hasher.hash(&req.new_password).await?;
    let change = UserChange {
        password_hash: Some(hash),
        ..Default::default()
    };
    let user = state
        .store
        .update_user(current.user.id, &change)
        .await?
        .ok_or_else(|| AppError::Unauthorized("not authenticated".into()))?;
    let token = start_session(&state, &user).await?;
    let body =
        json!({ "message": "Password changed; other sessions were signed out", "token": token });
    Ok(with_session_cookie(
        &state,
        https,
        Json(body).into_response(),
        Some(&token),
    ))
}
