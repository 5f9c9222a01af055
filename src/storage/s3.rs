//! A [`FileStore`] in S3-compatible object storage, for several instances
//! on several machines (`PULSE_STORAGE_URL=s3://bucket/prefix`).
//!
//! - Writing is a multipart upload fed while the export streams: parts of
//!   8 MiB (S3's minimum is 5 MiB but for the last), so memory stays at one
//!   part per writer. Nothing is visible until `publish` completes the
//!   upload; a writer dropped unpublished aborts it, so no partial object is
//!   ever published. A file smaller than one part is one PUT at publish.
//! - Reads are ranged GETs, streamed.
//! - Requests are signed with AWS Signature V4 here (HMAC-SHA256 over
//!   `sha2`, ~80 lines) and sent with reqwest, which the tests already
//!   build: no AWS SDK or `object_store` (hundreds of crates on a 2-core box
//!   for five calls). Payloads are sent `UNSIGNED-PAYLOAD` (the transport
//!   protects them; hashing every part twice would cost CPU for nothing).
//! - TLS (rustls, with the public web roots built in, plus a private CA from
//!   `PULSE_S3_CA_FILE`) for `https://` endpoints; plain `http://` too.
//! - Path-style addressing (`endpoint/bucket/key`), which every
//!   S3-compatible server accepts.
//!
//! The writer side of [`FileStore`] is blocking (the export engine runs on
//! its own thread); it drives the async client with the runtime handle
//! captured at construction.

use std::io::{self, Write};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::files::{ByteStream, FileStore, PendingFile, StoredFile};
use crate::config::S3Config;

/// Part size of multipart uploads.
const PART: usize = 8 * 1024 * 1024;

/// Files under `prefix` in one bucket.
#[derive(Clone)]
pub struct S3Files {
    cfg: S3Config,
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // RFC 2104 with SHA-256 (block size 64).
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(data);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// RFC 3986 percent-encoding as SigV4 wants it (`/` kept in paths only).
fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("object storage: {e}"))
}

impl S3Files {
    /// A store for `cfg`; call inside the tokio runtime (its handle drives
    /// the blocking writers).
    pub fn new(cfg: S3Config) -> Self {
        let mut builder = reqwest::Client::builder().connect_timeout(Duration::from_secs(10));
        if let Some(pem) = &cfg.ca_pem {
            // Checked when the configuration was read (`config::storage_from`).
            match reqwest::Certificate::from_pem_bundle(pem) {
                Ok(certs) => {
                    for cert in certs {
                        builder = builder.add_root_certificate(cert);
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "PULSE_S3_CA_FILE holds no usable certificate")
                }
            }
        }
        let client = builder.build().expect("HTTP client");
        Self {
            cfg,
            client,
            runtime: tokio::runtime::Handle::current(),
        }
    }

    fn object_path(&self, key: &str) -> String {
        let full = if self.cfg.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.cfg.prefix)
        };
        format!("/{}/{}", self.cfg.bucket, full)
    }

    /// A signed request: `path` is the canonical path (bucket included),
    /// `query` pairs unencoded.
    fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, String)],
    ) -> reqwest::RequestBuilder {
        let now = Utc::now();
        let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
        let date = now.format("%Y%m%d").to_string();
        let host = self
            .cfg
            .endpoint
            .split_once("://")
            .map_or(self.cfg.endpoint.as_str(), |(_, h)| h)
            .to_string();
        let mut q: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (encode(k, false), encode(v, false)))
            .collect();
        q.sort();
        let query_string = q
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let canonical_path = encode(path, true);
        let mut signed: Vec<(String, String)> = vec![
            ("host".into(), host),
            ("x-amz-content-sha256".into(), "UNSIGNED-PAYLOAD".into()),
            ("x-amz-date".into(), amz_date.clone()),
        ];
        for (k, v) in headers {
            signed.push((k.to_ascii_lowercase(), v.trim().to_string()));
        }
        signed.sort();
        let canonical_headers: String = signed.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let signed_names = signed
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let canonical = format!(
            "{method}\n{canonical_path}\n{query_string}\n{canonical_headers}\n{signed_names}\nUNSIGNED-PAYLOAD"
        );
        let scope = format!("{date}/{}/s3/aws4_request", self.cfg.region);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let k = hmac(
            format!("AWS4{}", self.cfg.secret_key).as_bytes(),
            date.as_bytes(),
        );
        let k = hmac(&k, self.cfg.region.as_bytes());
        let k = hmac(&k, b"s3");
        let k = hmac(&k, b"aws4_request");
        let signature = hex::encode(hmac(&k, to_sign.as_bytes()));
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_names}, Signature={signature}",
            self.cfg.access_key
        );
        let url = if query_string.is_empty() {
            format!("{}{canonical_path}", self.cfg.endpoint)
        } else {
            format!("{}{canonical_path}?{query_string}", self.cfg.endpoint)
        };
        let mut rb = self
            .client
            .request(method, url)
            .header("authorization", auth)
            .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
            .header("x-amz-date", amz_date);
        for (k, v) in headers {
            rb = rb.header(*k, v.as_str());
        }
        rb
    }

    /// Sends one request and counts it by operation and outcome
    /// (`pulse_s3_requests_total`).
    async fn send(
        rb: reqwest::RequestBuilder,
        op: &'static str,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let r = rb.send().await;
        let outcome = match &r {
            Err(_) => "transport_error",
            Ok(r) if r.status().is_success() => "ok",
            // HEAD of a missing object or bucket: an answer, not a fault.
            Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => "not_found",
            Ok(r) if r.status().is_client_error() => "client_error",
            Ok(_) => "server_error",
        };
        crate::metrics::s3_request(op, outcome);
        r
    }

    async fn send_ok(
        rb: reqwest::RequestBuilder,
        what: &str,
        op: &'static str,
    ) -> io::Result<reqwest::Response> {
        let r = Self::send(rb, op)
            .await
            .map_err(|e| err(format!("{what}: {}", causes(&e))))?;
        if r.status().is_success() {
            return Ok(r);
        }
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        Err(err(format!(
            "{what}: HTTP {status}: {}",
            first_tag(&body, "Message").unwrap_or(&body)
        )))
    }

    /// Creates the bucket if it is missing; called at start-up by every
    /// process that uses object storage. Several instances starting at once
    /// may all try: "already owned by you" is success.
    pub async fn ensure_bucket(&self) -> io::Result<()> {
        let path = format!("/{}", self.cfg.bucket);
        let r = Self::send(
            self.request(reqwest::Method::HEAD, &path, &[], &[]),
            "head_bucket",
        )
        .await
        .map_err(|e| err(format!("checking the bucket: {}", causes(&e))))?;
        if r.status().is_success() {
            return Ok(());
        }
        // us-east-1 takes no location; every other region needs its name.
        let body = if self.cfg.region.is_empty() || self.cfg.region == "us-east-1" {
            String::new()
        } else {
            format!(
                "<CreateBucketConfiguration><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                self.cfg.region
            )
        };
        let r = Self::send(
            self.request(reqwest::Method::PUT, &path, &[], &[])
                .body(body),
            "create_bucket",
        )
        .await
        .map_err(|e| err(format!("creating the bucket: {}", causes(&e))))?;
        let status = r.status();
        if status.is_success() {
            tracing::info!(bucket = %self.cfg.bucket, "object storage bucket created");
            return Ok(());
        }
        let text = r.text().await.unwrap_or_default();
        if first_tag(&text, "Code") == Some("BucketAlreadyOwnedByYou") {
            return Ok(());
        }
        Err(err(format!(
            "creating the bucket {}: HTTP {status}: {} {}",
            self.cfg.bucket,
            first_tag(&text, "Code").unwrap_or(""),
            first_tag(&text, "Message").unwrap_or(&text)
        )))
    }
}

/// An error and its causes, `: `-joined: reqwest's own text ("error
/// sending request") leaves out why (refused, a certificate, a timeout).
fn causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

/// The text of the first `<tag>…</tag>` in `xml`.
fn first_tag<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(&xml[start..end])
}

/// Every `<tag>…</tag>` block's inner text.
fn blocks<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(s) = rest.find(&open) {
        let after = &rest[s + open.len()..];
        let Some(e) = after.find(&close) else { break };
        out.push(&after[..e]);
        rest = &after[e + close.len()..];
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn age_of(ts: Option<&str>) -> Duration {
    ts.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .and_then(|t| (Utc::now() - t.with_timezone(&Utc)).to_std().ok())
        .unwrap_or_default()
}

struct S3Pending {
    store: S3Files,
    path: String,
    buf: Vec<u8>,
    upload_id: Option<String>,
    etags: Vec<String>,
    done: bool,
}

impl S3Pending {
    fn flush_part(&mut self) -> io::Result<()> {
        let s = self.store.clone();
        let path = self.path.clone();
        if self.upload_id.is_none() {
            let r = s.runtime.block_on(S3Files::send_ok(
                s.request(reqwest::Method::POST, &path, &[("uploads", "")], &[]),
                "starting a multipart upload",
                "create_multipart_upload",
            ))?;
            let body = s.runtime.block_on(r.text()).map_err(err)?;
            let id =
                first_tag(&body, "UploadId").ok_or_else(|| err("no UploadId in the answer"))?;
            self.upload_id = Some(id.to_string());
        }
        let id = self.upload_id.clone().unwrap_or_default();
        let number = (self.etags.len() + 1).to_string();
        let body = Bytes::from(std::mem::take(&mut self.buf));
        let len = body.len().to_string();
        let r = s.runtime.block_on(S3Files::send_ok(
            s.request(
                reqwest::Method::PUT,
                &path,
                &[("partNumber", &number), ("uploadId", &id)],
                &[("content-length", len)],
            )
            .body(body),
            "uploading a part",
            "upload_part",
        ))?;
        let etag = r
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| err("no ETag for an uploaded part"))?
            .to_string();
        self.etags.push(etag);
        self.buf = Vec::with_capacity(PART);
        Ok(())
    }
}

impl Write for S3Pending {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.done {
            return Err(io::Error::other("file already published"));
        }
        let room = PART - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == PART {
            self.flush_part()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl PendingFile for S3Pending {
    fn publish(mut self: Box<Self>) -> io::Result<()> {
        let s = self.store.clone();
        let path = self.path.clone();
        if self.upload_id.is_none() {
            // Smaller than a part: one PUT, atomic like a completion.
            let body = Bytes::from(std::mem::take(&mut self.buf));
            let len = body.len().to_string();
            s.runtime.block_on(S3Files::send_ok(
                s.request(reqwest::Method::PUT, &path, &[], &[("content-length", len)])
                    .body(body),
                "uploading the file",
                "put_object",
            ))?;
            self.done = true;
            return Ok(());
        }
        if !self.buf.is_empty() {
            self.flush_part()?;
        }
        let id = self.upload_id.clone().unwrap_or_default();
        let mut xml = String::from("<CompleteMultipartUpload>");
        for (i, etag) in self.etags.iter().enumerate() {
            xml.push_str(&format!(
                "<Part><PartNumber>{}</PartNumber><ETag>{etag}</ETag></Part>",
                i + 1
            ));
        }
        xml.push_str("</CompleteMultipartUpload>");
        let r = s.runtime.block_on(S3Files::send_ok(
            s.request(reqwest::Method::POST, &path, &[("uploadId", &id)], &[])
                .body(xml),
            "completing the multipart upload",
            "complete_multipart_upload",
        ))?;
        // S3 may answer 200 with an error document after a long completion.
        let body = s.runtime.block_on(r.text()).map_err(err)?;
        if body.contains("<Error>") {
            return Err(err(format!(
                "completing the multipart upload: {}",
                first_tag(&body, "Message").unwrap_or(&body)
            )));
        }
        self.done = true;
        Ok(())
    }
}

impl Drop for S3Pending {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(id) = self.upload_id.take() {
            // Nothing partial is ever published: abort the upload's parts.
            // Spawned, not awaited: a drop may happen on an async thread.
            let s = self.store.clone();
            let rb = s.request(
                reqwest::Method::DELETE,
                &self.path,
                &[("uploadId", &id)],
                &[],
            );
            s.runtime.spawn(async move {
                if let Err(e) = S3Files::send_ok(rb, "aborting the upload", "abort_multipart_upload").await {
                    tracing::warn!(error = %e, "aborting a multipart upload failed; the clean-up retries");
                }
            });
        }
    }
}

#[async_trait]
impl FileStore for S3Files {
    fn create(&self, key: &str) -> io::Result<Box<dyn PendingFile>> {
        super::files::check_key(key)?;
        Ok(Box::new(S3Pending {
            store: self.clone(),
            path: self.object_path(key),
            buf: Vec::with_capacity(PART),
            upload_id: None,
            etags: Vec::new(),
            done: false,
        }))
    }

    async fn size(&self, key: &str) -> io::Result<Option<u64>> {
        super::files::check_key(key)?;
        let r = Self::send(
            self.request(reqwest::Method::HEAD, &self.object_path(key), &[], &[]),
            "head_object",
        )
        .await
        .map_err(err)?;
        if r.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !r.status().is_success() {
            return Err(err(format!("HEAD {key}: HTTP {}", r.status())));
        }
        Ok(r.headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok()))
    }

    async fn read(&self, key: &str, start: u64, end: u64) -> io::Result<ByteStream> {
        super::files::check_key(key)?;
        if end <= start {
            return Ok(Box::pin(futures_util::stream::empty()));
        }
        let range = format!("bytes={start}-{}", end - 1);
        let r = Self::send_ok(
            self.request(
                reqwest::Method::GET,
                &self.object_path(key),
                &[],
                &[("range", range)],
            ),
            "reading the file",
            "get_object",
        )
        .await?;
        Ok(Box::pin(r.bytes_stream().map(|c| c.map_err(err))))
    }

    async fn delete(&self, key: &str) -> io::Result<()> {
        super::files::check_key(key)?;
        let path = self.object_path(key);
        let r = Self::send(
            self.request(reqwest::Method::DELETE, &path, &[], &[]),
            "delete_object",
        )
        .await
        .map_err(err)?;
        if !(r.status().is_success() || r.status() == reqwest::StatusCode::NOT_FOUND) {
            return Err(err(format!("DELETE {key}: HTTP {}", r.status())));
        }
        // And any upload of that key a dead writer left behind.
        for (k, id, _) in self.uploads().await? {
            if k == key {
                let rb = self.request(reqwest::Method::DELETE, &path, &[("uploadId", &id)], &[]);
                Self::send_ok(rb, "aborting a left-over upload", "abort_multipart_upload").await?;
            }
        }
        Ok(())
    }

    async fn list(&self) -> io::Result<Vec<StoredFile>> {
        let mut out = Vec::new();
        let prefix = self.key_prefix();
        let mut token: Option<String> = None;
        loop {
            let mut q: Vec<(&str, &str)> = vec![("list-type", "2"), ("prefix", &prefix)];
            if let Some(t) = &token {
                q.push(("continuation-token", t));
            }
            let r = Self::send_ok(
                self.request(
                    reqwest::Method::GET,
                    &format!("/{}", self.cfg.bucket),
                    &q,
                    &[],
                ),
                "listing files",
                "list_objects",
            )
            .await?;
            let body = r.text().await.map_err(err)?;
            for item in blocks(&body, "Contents") {
                let Some(key) = first_tag(item, "Key") else {
                    continue;
                };
                let key = unescape(key);
                let Some(name) = key.strip_prefix(&prefix) else {
                    continue;
                };
                if name.contains('/') {
                    continue;
                }
                out.push(StoredFile {
                    key: name.to_string(),
                    partial: false,
                    age: age_of(first_tag(item, "LastModified")),
                });
            }
            token = (first_tag(&body, "IsTruncated") == Some("true"))
                .then(|| first_tag(&body, "NextContinuationToken").map(unescape))
                .flatten();
            if token.is_none() {
                break;
            }
        }
        for (key, _, age) in self.uploads().await? {
            out.push(StoredFile {
                key,
                partial: true,
                age,
            });
        }
        Ok(out)
    }
}

impl S3Files {
    /// `prefix/` (or nothing).
    fn key_prefix(&self) -> String {
        if self.cfg.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.cfg.prefix)
        }
    }

    /// Multipart uploads in progress under the prefix: (key, upload id, age).
    async fn uploads(&self) -> io::Result<Vec<(String, String, Duration)>> {
        let prefix = self.key_prefix();
        let r = Self::send_ok(
            self.request(
                reqwest::Method::GET,
                &format!("/{}", self.cfg.bucket),
                &[("uploads", ""), ("prefix", &prefix)],
                &[],
            ),
            "listing uploads",
            "list_multipart_uploads",
        )
        .await?;
        let body = r.text().await.map_err(err)?;
        Ok(blocks(&body, "Upload")
            .into_iter()
            .filter_map(|u| {
                let key = unescape(first_tag(u, "Key")?);
                let name = key.strip_prefix(&prefix)?.to_string();
                let id = unescape(first_tag(u, "UploadId")?);
                Some((name, id, age_of(first_tag(u, "Initiated"))))
            })
            .filter(|(name, _, _)| !name.contains('/'))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2.
        assert_eq!(
            hex::encode(hmac(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn encoding_is_sigv4s() {
        assert_eq!(encode("a b/c~d", true), "a%20b/c~d");
        assert_eq!(encode("a/b", false), "a%2Fb");
    }

    #[test]
    fn xml_blocks() {
        let xml =
            "<L><Contents><Key>p/a&amp;b</Key></Contents><Contents><Key>p/c</Key></Contents></L>";
        let keys: Vec<String> = blocks(xml, "Contents")
            .iter()
            .map(|b| unescape(first_tag(b, "Key").unwrap()))
            .collect();
        assert_eq!(keys, ["p/a&b", "p/c"]);
    }
}
