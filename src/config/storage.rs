//! Object storage settings: `PULSE_STORAGE_URL` and the `PULSE_S3_*` settings.

use super::Layer;

/// Where and how to reach the bucket of `PULSE_STORAGE_URL=s3://…`
/// (read by `storage::s3::S3Files`).
#[derive(Clone)]
pub struct S3Config {
    /// `http(s)://host:port`, no trailing slash.
    pub endpoint: String,
    /// The region signed for (`us-east-1` for most non-AWS servers).
    pub region: String,
    /// The bucket.
    pub bucket: String,
    /// Key prefix (no leading or trailing `/`; may be empty).
    pub prefix: String,
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret_key: String,
    /// PEM certificate(s) of a private CA to trust for an `https://` endpoint
    /// (`PULSE_S3_CA_FILE`), besides the public roots built in.
    pub ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// `PULSE_STORAGE_URL` and the `PULSE_S3_*` settings.
pub(super) fn storage_from(l: &Layer) -> Result<Option<S3Config>, String> {
    let Some(url) = l
        .storage_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    else {
        return Ok(None);
    };
    if url == "local" {
        return Ok(None);
    }
    let rest = url.strip_prefix("s3://").ok_or_else(|| {
        format!("PULSE_STORAGE_URL={url:?}: expected s3://bucket/prefix or local")
    })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(format!("PULSE_STORAGE_URL={url:?} names no bucket"));
    }
    let need = |v: &Option<String>, name: &str| {
        v.clone()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| format!("{name} is required with PULSE_STORAGE_URL=s3://…"))
    };
    let region = l.s3_region.clone().unwrap_or_else(|| "us-east-1".into());
    let endpoint = l
        .s3_endpoint
        .clone()
        .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        return Err(format!(
            "PULSE_S3_ENDPOINT={endpoint:?} must start with http:// or https://"
        ));
    }
    // Read and checked now, so a wrong path or file fails at start, not at
    // the first upload.
    let ca_pem = match &l.s3_ca_file {
        None => None,
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| format!("PULSE_S3_CA_FILE={}: {e}", path.display()))?;
            match reqwest::Certificate::from_pem_bundle(&pem) {
                Ok(certs) if !certs.is_empty() => Some(pem),
                _ => {
                    return Err(format!(
                        "PULSE_S3_CA_FILE={}: no PEM certificate in it",
                        path.display()
                    ));
                }
            }
        }
    };
    Ok(Some(S3Config {
        endpoint: endpoint.trim_end_matches('/').to_string(),
        region,
        bucket: bucket.to_string(),
        prefix: prefix.trim_matches('/').to_string(),
        access_key: need(&l.s3_access_key_id, "PULSE_S3_ACCESS_KEY_ID")?,
        secret_key: need(&l.s3_secret_access_key, "PULSE_S3_SECRET_ACCESS_KEY")?,
        ca_pem,
    }))
}
