//! Backups (master_admin only, DESIGN §2 and §6): create, list, download,
//! delete, restore. The work is in [`crate::backup`]; each change is audited.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::backup::{self, BackupInfo, Kind, RestoreError};
use crate::domain::Capability;
use crate::http::AppState;
use crate::http::audit::audit;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{ApiPath, CurrentUser};
use crate::http::permissions::require;

const BASE: &str = "/api/driver-onboarding/backups";

/// The backup routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/driver-onboarding/backups", post(create).get(list))
        .route("/api/driver-onboarding/backups/{id}", delete(remove))
        .route(
            "/api/driver-onboarding/backups/{id}/download",
            get(download),
        )
        .route("/api/driver-onboarding/backups/{id}/restore", post(restore))
}

fn view(b: &BackupInfo) -> Value {
    json!({
        "id": b.id,
        "created_at": b.created_at,
        "kind": b.kind,
        "leads": b.leads,
        "bytes": b.bytes,
        "download_url": format!("{BASE}/{}/download", b.id),
    })
}

/// One backup or restore at a time per process: a restore must not
/// interleave with the backup it takes first, nor two restores.
fn busy() -> AppError {
    AppError::Conflict("a backup or restore is already running; try again when it ends".into())
}

async fn create(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    require(&current, Capability::Backups)?;
    let _guard = state
        .backup_lock
        .clone()
        .try_lock_owned()
        .map_err(|_| busy())?;
    let (store, files) = (state.store.clone(), state.backups.clone());
    // On a task of its own: a client that hangs up does not cut it short.
    let made =
        tokio::spawn(async move { backup::create(store.as_ref(), &files, Kind::Manual).await })
            .await
            .map_err(anyhow::Error::from)??;
    audit(
        &state,
        &current,
        "backup.create",
        json!({ "backup_id": made.id, "leads": made.leads, "bytes": made.bytes }),
    )
    .await;
    Ok((StatusCode::CREATED, Json(view(&made))).into_response())
}

async fn list(State(state): State<AppState>, current: CurrentUser) -> AppResult<Json<Value>> {
    require(&current, Capability::Backups)?;
    let all = backup::list(&state.backups)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(Json(
        json!({ "backups": all.iter().map(view).collect::<Vec<_>>() }),
    ))
}

async fn found(state: &AppState, id: Uuid) -> AppResult<BackupInfo> {
    backup::find(&state.backups, id)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or_else(|| AppError::NotFound("no such backup".into()))
}

async fn download(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    require(&current, Capability::Backups)?;
    let b = found(&state, id).await?;
    let stream = state
        .backups
        .read(&b.key, 0, b.bytes)
        .await
        .map_err(anyhow::Error::from)?;
    let mut response = Body::from_stream(stream).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gzip"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(b.bytes));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"pulse-backup-{}.jsonl.gz\"",
        b.created_at.format("%Y%m%dT%H%M%SZ")
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    audit(
        &state,
        &current,
        "backup.download",
        json!({ "backup_id": b.id }),
    )
    .await;
    Ok(response)
}

async fn remove(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::Backups)?;
    let b = found(&state, id).await?;
    state
        .backups
        .delete(&b.key)
        .await
        .map_err(anyhow::Error::from)?;
    audit(
        &state,
        &current,
        "backup.delete",
        json!({ "backup_id": b.id, "leads": b.leads }),
    )
    .await;
    Ok(Json(json!({ "message": "backup deleted", "id": b.id })))
}

async fn restore(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::Backups)?;
    let b = found(&state, id).await?;
    let _guard = state
        .backup_lock
        .clone()
        .try_lock_owned()
        .map_err(|_| busy())?;
    let bytes = backup::read_bytes(&state.backups, &b)
        .await
        .map_err(anyhow::Error::from)?;
    let (store, files) = (state.store.clone(), state.backups.clone());
    let done =
        tokio::spawn(async move { backup::restore_bytes(store.as_ref(), &files, id, bytes).await })
            .await
            .map_err(anyhow::Error::from)?;
    let done = match done {
        Ok(d) => d,
        Err(RestoreError::Invalid(e)) => {
            return Err(AppError::Unprocessable(format!(
                "backup {id} cannot be restored: {e}"
            )));
        }
        Err(RestoreError::Failed(e)) => return Err(AppError::Internal(e)),
    };
    audit(
        &state,
        &current,
        "backup.restore",
        json!({ "backup_id": id, "restored": done.restored, "replaced": done.replaced,
                "pre_restore_backup": done.pre_restore_backup.id }),
    )
    .await;
    Ok(Json(json!({
        "backup_id": id,
        "restored": done.restored,
        "replaced": done.replaced,
        "pre_restore_backup": view(&done.pre_restore_backup),
    })))
}
