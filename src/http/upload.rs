//! Receiving an uploaded file (the API's import and the import wizard's
//! page): the multipart field streamed to a temporary file under the
//! import work directory, hashed on the way, refused past
//! `PULSE_IMPORT_MAX_BYTES`; the file is deleted when its [`TempFile`] drops.

use std::path::{Path, PathBuf};

use axum::extract::multipart::{Field, MultipartError};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use crate::http::error::{AppError, AppResult};
use crate::service::imports;

/// The import wizard's upload form (a page; `refuse_oversized` leaves its
/// declared length to the page, which answers with the form and a message).
pub const WIZARD_UPLOAD_PATH: &str = "/imports/new";

/// A multipart error as the client's fault, or 413.
pub fn multipart_error(e: MultipartError) -> AppError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge("the upload is larger than PULSE_IMPORT_MAX_BYTES".into())
    } else {
        AppError::BadRequest(format!("multipart body: {}", e.body_text()))
    }
}

/// Deletes the uploaded file when the request ends, however it ends.
pub struct TempFile(pub PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Streams `field` into a new file in `dir` (at most `limit` bytes).
pub async fn receive_file(
    mut field: Field<'_>,
    dir: &Path,
    limit: u64,
) -> AppResult<(imports::Upload, TempFile)> {
    let name = field.file_name().unwrap_or("upload").to_owned();
    let path = dir.join(format!("upload-{}.tmp", Uuid::new_v4()));
    let guard = TempFile(path.clone());
    let file = tokio::fs::File::create(&path)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let mut out = tokio::io::BufWriter::with_capacity(256 << 10, file);
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        bytes += chunk.len() as u64;
        if bytes > limit {
            return Err(AppError::PayloadTooLarge(format!(
                "the file is larger than {limit} bytes (PULSE_IMPORT_MAX_BYTES)"
            )));
        }
        hasher.update(&chunk);
        out.write_all(&chunk)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    out.flush()
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let upload = imports::Upload {
        path,
        name,
        bytes,
        sha256: hex::encode(hasher.finalize()),
    };
    Ok((upload, guard))
}
