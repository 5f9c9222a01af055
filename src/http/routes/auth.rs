//! `/api/auth/*`: login, register, me, logout, change password.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get, routing::post};
use serde::{Deserialize, Serialize};

use crate::domain::Actor;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{
    ApiJson, ClientIp, CurrentUser, Https, cookie, with_device_cookie, with_session_cookie,
};
use crate::http::routes::Message;
use crate::http::state::AppState;
use crate::service::ServiceError;
use crate::service::auth::{self, Registration};
use crate::store::User;

/// The routes under `/api/auth`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/register", post(register))
        .route("/api/auth/me", get(me))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/change-password", post(change_password))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct LoginRequest {
    /// An e-mail or a user name such as `admin`.
    email: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Https(https): Https,
    headers: axum::http::HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<Response> {
    let signed_in = auth::login(&state, &req.email, &req.password, ip, |name| {
        cookie(&headers, name).map(str::to_string)
    })
    .await?;
    let token = &signed_in.token;
    let body = SignedIn {
        message: "Login successful",
        token: token.clone(),
        user: SessionUser::from(signed_in.user),
    };
    let response = (StatusCode::OK, Json(body)).into_response();
    let response = with_session_cookie(&state, https, response, Some(token));
    Ok(with_device_cookie(
        https,
        response,
        &signed_in.device_cookie,
    ))
}

/// A new session: its token (also set as the session cookie) and the user,
/// as the original's login answered it (`{message, token, user}`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignedIn {
    message: &'static str,
    token: String,
    user: SessionUser,
}

/// The signed-in user as the original's login and `me` answered it: the
/// account plus `telecaller_id` (COMPAT §2.1). The original kept a separate
/// telecaller profile; Pulse names a telecaller by their account, so it is
/// the account's id for a telecaller and `null` for every other role.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionUser {
    #[serde(flatten)]
    user: User,
    telecaller_id: Option<uuid::Uuid>,
}

impl From<User> for SessionUser {
    fn from(user: User) -> Self {
        let telecaller_id =
            (user.account_type == crate::domain::AccountType::Telecaller).then_some(user.id);
        Self {
            user,
            telecaller_id,
        }
    }
}

/// The original frontend sends all five fields, `last_name` possibly `""`;
/// a missing one is empty too.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct RegisterRequest {
    first_name: String,
    #[serde(default)]
    last_name: Option<String>,
    email: String,
    password: String,
    account_type: Option<String>,
}

async fn register(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> AppResult<Response> {
    let registration = Registration {
        first_name: req.first_name,
        last_name: req.last_name.unwrap_or_default(),
        email: req.email,
        password: req.password,
        account_type: req.account_type,
    };
    // the original's 400 for a login that exists (Pulse's service says 409)
    let user = auth::register(&state, registration)
        .await
        .map_err(|e| match e {
            ServiceError::Conflict(m) => AppError::BadRequest(m),
            other => other.into(),
        })?;
    Ok(Json(Registered {
        message: "Registration received; an administrator must approve the account before you can sign in",
        status: user.status,
        user,
    })
    .into_response())
}

/// The original's `{message, status: "pending"}` beside Pulse's `user`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Registered {
    message: &'static str,
    status: crate::domain::AccountStatus,
    user: User,
}

async fn me(current: CurrentUser) -> Json<SessionUser> {
    Json(SessionUser::from(current.user))
}

async fn logout(
    State(state): State<AppState>,
    Https(https): Https,
    current: CurrentUser,
) -> AppResult<Response> {
    auth::logout(&state, &current.token_hash).await?;
    let response = Json(Message::new("Logged out")).into_response();
    Ok(with_session_cookie(&state, https, response, None))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ChangePasswordRequest {
    old_password: String,
    new_password: String,
}

/// Changes the caller's password, ends every session (this one too) and
/// starts a fresh one, returned like a login.
async fn change_password(
    State(state): State<AppState>,
    Https(https): Https,
    actor: Actor,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> AppResult<Response> {
    let token = auth::change_password(&state, &actor, &req.old_password, &req.new_password).await?;
    let body = PasswordChanged {
        message: "Password changed; other sessions were signed out",
        token: token.clone(),
    };
    Ok(with_session_cookie(
        &state,
        https,
        Json(body).into_response(),
        Some(&token),
    ))
}

/// `{message, token}`: the fresh session after a password change.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PasswordChanged {
    message: &'static str,
    token: String,
}
