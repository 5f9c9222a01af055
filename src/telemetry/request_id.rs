//! The id of the request (or job) being handled, as a task-local: every log
//! line, audit entry and 500 body can name it without passing it down.

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled, or `-` outside one.
pub fn current() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".into())
}

/// Runs `f` with `id` as the current request id.
pub async fn scope<F: std::future::Future>(id: String, f: F) -> F::Output {
    REQUEST_ID.scope(id, f).await
}
