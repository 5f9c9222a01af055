//! `/api/users/*`: account administration for master_admin and admin. The
//! rules (who may manage whom, no self-lockout) are in
//! [`crate::service::users`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Json, Router, routing::get, routing::post};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::Actor;
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::state::AppState;
use crate::service::users::{self, AccountEdit, NewAccount};
use crate::store::User;

/// The routes under `/api/users`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/users", get(list).post(create))
        .route("/api/users/{id}", get(show).patch(update).delete(remove))
        .route("/api/users/{id}/approve", post(approve))
        .route("/api/users/{id}/disable", post(disable))
        .route("/api/users/{id}/reset-password", post(reset_password))
}

async fn list(State(state): State<AppState>, actor: Actor) -> AppResult<Json<Vec<User>>> {
    Ok(Json(users::list(&state, &actor).await?))
}

async fn show(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<User>> {
    Ok(Json(users::get(&state, &actor, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct CreateUser {
    email: String,
    password: Option<String>,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    account_type: String,
}

async fn create(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(req): ApiJson<CreateUser>,
) -> AppResult<impl IntoResponse> {
    let new = NewAccount {
        email: req.email,
        password: req.password,
        first_name: req.first_name,
        last_name: req.last_name,
        account_type: req.account_type,
    };
    let (user, temporary) = users::create(&state, &actor, new).await?;
    let body = UserCreated {
        user,
        temporary_password: temporary,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// `{user, temporary_password?}`: the new account, and its generated
/// password when none was given (shown once).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserCreated {
    user: User,
    #[serde(skip_serializing_if = "Option::is_none")]
    temporary_password: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateUser {
    account_type: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

async fn update(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<UpdateUser>,
) -> AppResult<Json<User>> {
    let edit = AccountEdit {
        account_type: req.account_type,
        first_name: req.first_name,
        last_name: req.last_name,
    };
    Ok(Json(users::update(&state, &actor, id, edit).await?))
}

async fn approve(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<User>> {
    Ok(Json(users::approve(&state, &actor, id).await?))
}

async fn disable(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<User>> {
    Ok(Json(users::disable(&state, &actor, id).await?))
}

async fn reset_password(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<PasswordReset>> {
    let (user, temporary) = users::reset_password(&state, &actor, id).await?;
    Ok(Json(PasswordReset {
        message: "Password reset; the user's sessions were ended",
        user,
        temporary_password: temporary,
    }))
}

/// `{message, user, temporary_password}` (shown once).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PasswordReset {
    message: &'static str,
    user: User,
    temporary_password: String,
}

/// `{message, user}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Removed {
    message: &'static str,
    user: User,
}

/// The original's delete: Pulse disables the account instead (its
/// sessions end; its history and audit entries keep their author).
async fn remove(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Removed>> {
    let user = users::disable(&state, &actor, id).await?;
    Ok(Json(Removed {
        message: "User removed (the account is disabled)",
        user,
    }))
}
