//! The original system's user-administration and password routes, as its
//! User Management page and sign-in screens call them (COMPAT §2.1–2.2):
//! body-form aliases of Pulse's `/api/users/{id}/…` routes, the counts, the
//! telecaller list, the reset-request list and the reset with a temporary
//! password. The rules are Pulse's (DESIGN §2, [`crate::service::users`]).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{AccountType, Actor};
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath, ClientIp};
use crate::http::routes::Message;
use crate::http::state::AppState;
use crate::service::auth;
use crate::service::calls::display_name;
use crate::service::users::{self, NewAccount, UserStats};
use crate::store::User;

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/users/create", post(create))
        .route("/api/users/approve", post(approve))
        .route("/api/users/reject", post(reject))
        .route(
            "/api/users/{id}/generate-temp-password",
            post(temporary_password),
        )
        .route("/api/users/change-account-type", post(change_account_type))
        .route("/api/users/telecallers", get(telecallers))
        .route("/api/stats", get(stats))
        .route("/api/password-reset/requests", get(reset_requests))
        .route("/api/password-reset/request", post(request_reset))
        .route("/api/password-reset/approve", post(approve_reset))
        .route(
            "/api/auth/reset-with-temp-password",
            post(reset_with_temporary),
        )
}

/// `{message, user}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserMessage {
    message: String,
    user: User,
    #[serde(skip_serializing_if = "Option::is_none")]
    temporary_password: Option<String>,
}

/// The original's create body: `last_name` may be missing or empty.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct CreateBody {
    email: String,
    password: Option<String>,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: Option<String>,
    account_type: String,
}

async fn create(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<CreateBody>,
) -> AppResult<Json<UserMessage>> {
    let new = NewAccount {
        email: b.email,
        password: b.password,
        first_name: b.first_name,
        last_name: b.last_name.unwrap_or_default(),
        account_type: b.account_type,
    };
    let (user, temporary_password) = users::create(&state, &actor, new).await?;
    Ok(Json(UserMessage {
        message: "User created successfully".into(),
        user,
        temporary_password,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct UserIdBody {
    user_id: Uuid,
}

async fn approve(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<UserIdBody>,
) -> AppResult<Json<UserMessage>> {
    let user = users::approve(&state, &actor, b.user_id).await?;
    Ok(Json(UserMessage {
        message: "User approved".into(),
        user,
        temporary_password: None,
    }))
}

async fn reject(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<UserIdBody>,
) -> AppResult<Json<UserMessage>> {
    let user = users::reject(&state, &actor, b.user_id).await?;
    Ok(Json(UserMessage {
        message: "User rejected (the account is disabled)".into(),
        user,
        temporary_password: None,
    }))
}

/// `{message, temporary_password, user_email}` beside Pulse's `user`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TemporaryPassword {
    message: String,
    temporary_password: String,
    user_email: String,
    user: User,
}

async fn temporary_password(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<TemporaryPassword>> {
    let (user, temporary_password) = users::reset_password(&state, &actor, id).await?;
    Ok(Json(TemporaryPassword {
        message: "Temporary password generated; the user's sessions were ended".into(),
        temporary_password,
        user_email: user.email.clone(),
        user,
    }))
}

/// `{user_id, new_account_type}`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ChangeTypeBody {
    user_id: Uuid,
    new_account_type: String,
}

/// `{message, old_type, new_type}` beside Pulse's `user`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TypeChanged {
    message: String,
    old_type: AccountType,
    new_type: AccountType,
    user: User,
}

async fn change_account_type(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<ChangeTypeBody>,
) -> AppResult<Json<TypeChanged>> {
    let (old_type, user) =
        users::change_account_type(&state, &actor, b.user_id, &b.new_account_type).await?;
    Ok(Json(TypeChanged {
        message: "Account type changed".into(),
        old_type,
        new_type: user.account_type,
        user,
    }))
}

/// A telecaller account with its display `name`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Telecaller {
    #[serde(flatten)]
    user: User,
    name: String,
}

async fn telecallers(
    State(state): State<AppState>,
    actor: Actor,
) -> AppResult<Json<Vec<Telecaller>>> {
    let list = users::telecallers(&state, &actor).await?;
    Ok(Json(
        list.into_iter()
            .map(|user| Telecaller {
                name: display_name(&user.first_name, &user.last_name),
                user,
            })
            .collect(),
    ))
}

async fn stats(State(state): State<AppState>, actor: Actor) -> AppResult<Json<UserStats>> {
    Ok(Json(users::stats(&state, &actor).await?))
}

/// One reset request as the users page reads it. The temporary password is
/// never stored, so `temporary_password` is always `null` here: it is
/// answered once, by the approve.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ResetRequestItem {
    id: Uuid,
    user_id: Uuid,
    user_email: String,
    user_name: String,
    status: String,
    created_at: chrono::DateTime<chrono::Utc>,
    temporary_password: Option<String>,
}

async fn reset_requests(
    State(state): State<AppState>,
    actor: Actor,
) -> AppResult<Json<Vec<ResetRequestItem>>> {
    let list = users::reset_requests(&state, &actor).await?;
    Ok(Json(
        list.into_iter()
            .map(|r| ResetRequestItem {
                user_name: display_name(&r.first_name, &r.last_name),
                id: r.id,
                user_id: r.user_id,
                user_email: r.user_email,
                status: r.status,
                created_at: r.created_at,
                temporary_password: None,
            })
            .collect(),
    ))
}

/// Any signed-in user; the original sends an empty body, which is not read.
async fn request_reset(State(state): State<AppState>, actor: Actor) -> AppResult<Json<Message>> {
    users::request_reset(&state, &actor).await?;
    Ok(Json(Message {
        message: "Password reset requested; an administrator will give you a temporary password"
            .into(),
    }))
}

/// `{request_id}`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ApproveResetBody {
    request_id: Uuid,
}

/// `{message, temporary_password, user_email}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ResetApproved {
    message: String,
    temporary_password: String,
    user_email: String,
}

async fn approve_reset(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<ApproveResetBody>,
) -> AppResult<Json<ResetApproved>> {
    let (request, temporary_password) = users::approve_reset(&state, &actor, b.request_id).await?;
    Ok(Json(ResetApproved {
        message: "Password reset approved; give the user the temporary password".into(),
        temporary_password,
        user_email: request.user_email,
    }))
}

/// `{email, temp_password, new_password}`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ResetBody {
    email: String,
    temp_password: String,
    new_password: String,
}

async fn reset_with_temporary(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<ResetBody>,
) -> AppResult<Json<Message>> {
    auth::reset_with_temporary(&state, &b.email, &b.temp_password, &b.new_password, ip).await?;
    Ok(Json(Message::new(
        "Password changed; sign in with the new password",
    )))
}
