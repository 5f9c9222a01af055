//! Start-up: open the store, migrate, make sure a master_admin exists, bind,
//! serve until SIGTERM/SIGINT, then drain for at most the grace period.
//! `Application::build` binds first so tests can ask for port 0.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::auth::device::DeviceKeys;
use crate::auth::password::{self, Hasher};
use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use crate::domain::{AccountStatus, AccountType};
use crate::http::state::AppState;
use crate::jobs::{self, JobContext};
use crate::router::router;
use crate::service::Services;
use crate::store::{self, NewUser, Store};

/// The device-cookie key kept in the data directory (a per-process one if it cannot be).
fn device_keys(config: &Config) -> DeviceKeys {
    let path = config.data_dir.join("device-key");
    DeviceKeys::load_or_create(&path).unwrap_or_else(|e| {
        tracing::warn!(error = %e, path = %path.display(),
            "cannot keep the device-cookie key; known devices are forgotten at restart");
        DeviceKeys::random()
    })
}

/// Limits of the HTTP server (review M12).
#[derive(Clone, Copy, Debug)]
pub struct ServeLimits {
    /// A request's head must arrive within this; it also bounds an idle keep-alive
    /// connection's wait for its next request (hyper starts the timer whenever it waits
    /// for a head). A client sending half a request line is dropped after it.
    pub header_timeout: Duration,
    /// Connections served at once; further ones wait in the kernel's accept queue.
    pub max_connections: usize,
}

/// Serves `app` on `listener` until `shutdown` resolves, then waits for open
/// connections to finish (the caller bounds that wait). HTTP/1.1 with a timer, so
/// hyper enforces the header-read timeout, which `axum::serve` (no timer) never did.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: ServeLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::extract::ConnectInfo;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;

    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s.expect("the connection semaphore never closes"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app.clone().map_request(
            move |mut req: axum::extract::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            },
        );
        let conn = builder.serve_connection(
            TokioIo::new(stream),
            hyper_util::service::TowerToHyperService::new(service),
        );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    /// `PULSE_METRICS_LISTEN`, when set: `/metrics` only, no token.
    metrics_listener: Option<TcpListener>,
    state: AppState,
    /// Wraps the router before it serves (see [`Application::wrap_router`]).
    wrap: Option<RouterWrap>,
}

/// What [`Application::wrap_router`] is given.
type RouterWrap = Box<dyn FnOnce(axum::Router) -> axum::Router + Send>;

impl Application {
    /// Opens and migrates the database, creates the first master_admin if
    /// needed, and binds `config.listen`.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = open_store(&config).await?;
        ensure_master_admin(store.as_ref(), &config).await?;
        crate::storage::ensure_storage(&config).await?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let metrics_listener = match config.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} (PULSE_METRICS_LISTEN)"))?,
            ),
            None => None,
        };
        let state = AppState::new(services(store, config));
        Ok(Self {
            listener,
            metrics_listener,
            state,
            wrap: None,
        })
    }

    /// The address actually bound (port 0 becomes a real port).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// The address of the metrics listener, when there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// Serves the router as `wrap` changes it: the integration suite adds a
    /// layer that checks every JSON answer against the API document.
    pub fn wrap_router(
        mut self,
        wrap: impl FnOnce(axum::Router) -> axum::Router + Send + 'static,
    ) -> Self {
        self.wrap = Some(Box::new(wrap));
        self
    }

    /// Shared state (tests read the hasher's peak concurrency).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves (and runs `PULSE_WORKERS` export workers and the job
    /// clean-up) until `shutdown` resolves, then gives in-flight requests
    /// and running export jobs the configured grace period.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let grace = self.state.config.shutdown_grace;
        let (stop_jobs, jobs_stop) = tokio::sync::watch::channel(false);
        let workers = jobs::start(
            job_context(&self.state),
            self.state.config.workers,
            jobs_stop,
        );
        if let Some(every) = self.state.config.backup_schedule {
            tokio::spawn(crate::backup::schedule::run(
                self.state.store.clone(),
                self.state.backups.clone(),
                every,
                self.state.config.backup_keep,
                stop_jobs.subscribe(),
            ));
        }
        if let Some(listener) = self.metrics_listener {
            let metrics = crate::http::routes::metrics::listener_router(self.state.clone());
            let mut stop = stop_jobs.subscribe();
            // Ends with the process; stops accepting at shutdown like the API.
            tokio::spawn(async move {
                let done = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                if let Err(e) = axum::serve(listener, metrics)
                    .with_graceful_shutdown(done)
                    .await
                {
                    tracing::error!(error = %e, "metrics listener failed");
                }
            });
        }
        let app = router(self.state.clone());
        let app = match self.wrap {
            Some(wrap) => wrap(app),
            None => app,
        };
        let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
        let limits = ServeLimits {
            header_timeout: self.state.config.header_timeout,
            max_connections: self.state.config.max_connections,
        };
        let server = serve(self.listener, app, limits, async move {
            shutdown.await;
            tracing::info!(
                grace_s = grace.as_secs(),
                "shutting down: draining requests"
            );
            let _ = stop_jobs.send(true);
            let _ = signalled_tx.send(());
        });
        let deadline = async move {
            if signalled_rx.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            result = server => result.context("server failed")?,
            () = deadline => tracing::warn!("drain deadline passed; closing remaining connections"),
        }
        // Workers hand back what did not finish within the grace period;
        // that takes a moment past it (one database update per job).
        if tokio::time::timeout(grace + Duration::from_secs(5), workers)
            .await
            .is_err()
        {
            tracing::warn!(
                "export workers did not stop in time; their jobs are rescued when their leases end"
            );
        }
        Ok(())
    }

    /// Serves until SIGTERM or SIGINT.
    pub async fn run(self) -> anyhow::Result<()> {
        tracing::info!(listen = %self.local_addr(), metrics_listen = ?self.metrics_addr(), database = self.state.store.backend_name(), "pulse listening");
        self.run_until(shutdown_signal()).await
    }
}

/// The use-cases' shared state over `store` (the server's, and a `pulse
/// worker`'s: its bulk jobs go through the service layer).
pub fn services(store: Arc<dyn Store>, config: Config) -> Services {
    let export_permits = Arc::new(tokio::sync::Semaphore::new(config.export_concurrency));
    Services {
        store,
        hasher: Hasher::new(config.hash_concurrency),
        throttle: Arc::new(LoginThrottle::new(device_keys(&config))),
        export_permits: export_permits.clone(),
        export_admission: Arc::new(crate::export::admission::ExportAdmission::new(
            export_permits,
            config.export_per_user,
        )),
        files: crate::storage::local_files(&config),
        job_wake: Arc::new(tokio::sync::Notify::new()),
        backups: crate::backup::files(&config),
        uploads: crate::storage::uploads(&config),
        backup_lock: Arc::new(tokio::sync::Mutex::new(())),
        export_tickets: Arc::default(),
        dashboard: Arc::default(),
        workspace: Arc::default(),
        config: Arc::new(config),
    }
}

/// What the export workers of this process share with its HTTP side.
pub fn job_context(state: &Services) -> JobContext {
    JobContext {
        bulk: Arc::new(crate::service::leads_selection::JobBatches(state.clone())),
        store: state.store.clone(),
        files: state.files.clone(),
        backups: state.backups.clone(),
        uploads: state.uploads.clone(),
        config: state.config.clone(),
        wake: state.job_wake.clone(),
    }
}

/// Opens the configured store and applies pending migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store = store::connect(config.database_url.expose())
        .await
        .with_context(|| format!("cannot open database {}", config.database_url_redacted()))?;
    let applied = store.migrate().await.context("migrating the database")?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied migrations");
    }
    Ok(store)
}

/// Creates the first master_admin (user name `admin`) when there is none,
/// with the configured password or a generated one printed once.
pub async fn ensure_master_admin(store: &dyn Store, config: &Config) -> anyhow::Result<()> {
    if store.count_master_admins().await? > 0 {
        return Ok(());
    }
    let (password, generated) = match &config.admin_password {
        Some(p) => {
            password::check_policy(p.expose())
                .map_err(|e| anyhow::anyhow!("PULSE_ADMIN_PASSWORD: {e}"))?;
            (p.expose().to_string(), false)
        }
        None => (password::generate(), true),
    };
    let username = store
        .find_login("admin")
        .await?
        .is_none()
        .then(|| "admin".to_string());
    let to_hash = password.clone();
    let password_hash = tokio::task::spawn_blocking(move || password::hash_now(&to_hash)).await?;
    store
        .create_user(&NewUser {
            email: config.admin_email.clone(),
            username,
            first_name: "Master".into(),
            last_name: "Admin".into(),
            account_type: AccountType::MasterAdmin,
            status: AccountStatus::Active,
            password_hash,
            temp_password: false,
        })
        .await
        .context("creating the first master_admin")?;
    if generated {
        // Printed once, to the terminal, never to the JSON log.
        eprintln!(
            "\n================ Pulse: first master_admin created ================\n  \
             login:    {} (or the user name \"admin\")\n  \
             password: {password}\n  \
             This password is shown only once. Change it after signing in.\n\
             =====================================================================\n",
            config.admin_email
        );
    } else {
        tracing::info!(
            "created the first master_admin from PULSE_ADMIN_EMAIL/PULSE_ADMIN_PASSWORD"
        );
    }
    Ok(())
}

/// Resolves at SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
