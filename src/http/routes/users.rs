//! `/api/users/*`: account administration for master_admin and admin.
//!
//! An admin can neither create, change nor reset a master_admin; nobody
//! disables or demotes themselves, so the last master_admin cannot vanish.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Json, Router, routing::get, routing::post};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::auth::{check_email, check_name, parse_account_type};
use crate::auth::password;
use crate::domain::{AccountStatus, AccountType, Capability};
use crate::http::AppState;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiPath, CurrentUser};
use crate::http::permissions::require;
use crate::store::{NewUser, StoreError, User, UserChange};

/// The routes under `/api/users`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/users", get(list).post(create))
        .route("/api/users/{id}", get(show).patch(update))
        .route("/api/users/{id}/approve", post(approve))
        .route("/api/users/{id}/disable", post(disable))
        .route("/api/users/{id}/reset-password", post(reset_password))
}

async fn list(State(state): State<AppState>, current: CurrentUser) -> AppResult<Json<Vec<User>>> {
    require(&current, Capability::ManageUsers)?;
    Ok(Json(state.store.list_users().await?))
}

async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<User>> {
    require(&current, Capability::ManageUsers)?;
    Ok(Json(load(&state, id).await?))
}

async fn load(state: &AppState, id: Uuid) -> AppResult<User> {
    state
        .store
        .get_user(id)
        .await?
        .ok_or_else(|| AppError::NotFound("user not found".into()))
}

/// Refuses an admin touching a master_admin account, or granting that role.
fn guard_master(current: &CurrentUser, target: AccountType) -> AppResult<()> {
    if target == AccountType::MasterAdmin && current.role() != AccountType::MasterAdmin {
        return Err(AppError::Forbidden(
            "only a master_admin can manage master_admin accounts".into(),
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
struct CreateUser {
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
    current: CurrentUser,
    ApiJson(req): ApiJson<CreateUser>,
) -> AppResult<impl IntoResponse> {
    require(&current, Capability::ManageUsers)?;
    let account_type = parse_account_type(&req.account_type)?;
    guard_master(&current, account_type)?;
    let email = check_email(&req.email)?;
    let (password, generated) = match req.password {
        Some(p) => {
            password::check_policy(&p).map_err(AppError::Unprocessable)?;
            (p, false)
        }
        None => (password::generate(), true),
    };
    let user = state
        .store
        .create_user(&NewUser {
            email,
            username: None,
            first_name: check_name("first_name", &req.first_name)?,
            last_name: check_name("last_name", &req.last_name)?,
            account_type,
            status: AccountStatus::Active,
            password_hash: state.hasher.hash(&password).await,
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                AppError::Conflict("an account with this e-mail already exists".into())
            }
            other => other.into(),
        })?;
    audit(
        &state,
        &current,
        "user.create",
        json!({ "user_id": user.id, "account_type": account_type }),
    )
    .await;
    let mut body = json!({ "user": user });
    if generated {
        body["temporary_password"] = json!(password);
    }
    Ok((StatusCode::CREATED, Json(body)))
}

/// Applies `change` to the user `id` after the checks every change shares.
async fn change_user(
    state: &AppState,
    current: &CurrentUser,
    id: Uuid,
    change: UserChange,
    action: &str,
) -> AppResult<User> {
    require(current, Capability::ManageUsers)?;
    let target = load(state, id).await?;
    guard_master(current, target.account_type)?;
    if let Some(new_type) = change.account_type {
        guard_master(current, new_type)?;
    }
    let self_lockout = change.status == Some(AccountStatus::Disabled)
        || change
            .account_type
            .is_some_and(|t| t != target.account_type);
    if target.id == current.user.id && self_lockout {
        return Err(AppError::Unprocessable(
            "you cannot disable your own account or change your own role".into(),
        ));
    }
    let user = state
        .store
        .update_user(id, &change)
        .await?
        .ok_or_else(|| AppError::NotFound("user not found".into()))?;
    audit(
        state,
        current,
        action,
        json!({ "user_id": id, "account_type": change.account_type, "status": change.status }),
    )
    .await;
    Ok(user)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateUser {
    account_type: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

async fn update(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<UpdateUser>,
) -> AppResult<Json<User>> {
    let change = UserChange {
        account_type: req
            .account_type
            .as_deref()
            .map(parse_account_type)
            .transpose()?,
        first_name: req
            .first_name
            .as_deref()
            .map(|v| check_name("first_name", v))
            .transpose()?,
        last_name: req
            .last_name
            .as_deref()
            .map(|v| check_name("last_name", v))
            .transpose()?,
        ..Default::default()
    };
    Ok(Json(
        change_user(&state, &current, id, change, "user.update").await?,
    ))
}

async fn approve(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<User>> {
    let change = UserChange {
        status: Some(AccountStatus::Active),
        ..Default::default()
    };
    Ok(Json(
        change_user(&state, &current, id, change, "user.approve").await?,
    ))
}

async fn disable(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<User>> {
    let change = UserChange {
        status: Some(AccountStatus::Disabled),
        ..Default::default()
    };
    Ok(Json(
        change_user(&state, &current, id, change, "user.disable").await?,
    ))
}

async fn reset_password(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<serde_json::Value>> {
    require(&current, Capability::ManageUsers)?;
    let temporary = password::generate();
    let change = UserChange {
        password_hash: Some(state.hasher.hash(&temporary).await),
        ..Default::default()
    };
    let user = change_user(&state, &current, id, change, "user.reset_password").await?;
    Ok(Json(json!({
        "message": "Password reset; the user's sessions were ended",
        "user": user,
        "temporary_password": temporary,
    })))
}

/// Audits through the service (until this file's use-cases move there).
async fn audit(state: &AppState, current: &CurrentUser, action: &str, details: serde_json::Value) {
    crate::service::audit::record(state, &current.actor(), action, details).await
}
