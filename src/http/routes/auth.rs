//! `/api/auth/*`: login, register, me, logout, change password.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get, routing::post};
use serde::Deserialize;
use serde_json::json;

use crate::domain::Actor;
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ClientIp, CurrentUser, with_session_cookie};
use crate::http::state::AppState;
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

#[derive(Deserialize)]
struct LoginRequest {
    /// An e-mail or a user name such as `admin`.
    email: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<Response> {
    let signed_in = auth::login(&state, &req.email, &req.password, ip).await?;
    let token = signed_in.token;
    let body = json!({ "message": "Login successful", "token": token, "user": signed_in.user });
    Ok(with_session_cookie(
        &state,
        (StatusCode::OK, Json(body)).into_response(),
        Some(&token),
    ))
}

#[derive(Deserialize)]
struct RegisterRequest {
    first_name: String,
    last_name: String,
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
        last_name: req.last_name,
        email: req.email,
        password: req.password,
        account_type: req.account_type,
    };
    let user = auth::register(&state, registration).await?;
    let body = json!({
        "message": "Registration received; an administrator must approve the account before you can sign in",
        "user": user,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn me(current: CurrentUser) -> Json<User> {
    Json(current.user)
}

async fn logout(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    auth::logout(&state, &current.token_hash).await?;
    let response = Json(json!({ "message": "Logged out" })).into_response();
    Ok(with_session_cookie(&state, response, None))
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
    actor: Actor,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> AppResult<Response> {
    let token = auth::change_password(&state, &actor, &req.old_password, &req.new_password).await?;
    let body =
        json!({ "message": "Password changed; other sessions were signed out", "token": token });
    Ok(with_session_cookie(
        &state,
        Json(body).into_response(),
        Some(&token),
    ))
}
