//! Building and running the HTTP server.

use crate::cli::KnobArgs;
use crate::config::{Mode, Settings};
use crate::db::{Backend, Db};
use crate::paytr::{ClientConfig, PaytrClient};
use crate::sandbox::{Sandbox, SandboxConfig, load_or_create_merchant};
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use std::net::TcpListener;
use std::sync::Arc;

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    /// The absolute base URL, with the real port when bound to port 0.
    pub public_url: String,
    /// PayTR, or the embedded sandbox in sandbox mode.
    pub paytr: PaytrClient,
    /// The embedded sandbox, in sandbox mode.
    pub sandbox: Option<Sandbox>,
}

impl AppState {
    pub fn mode(&self) -> Mode {
        self.settings.mode()
    }
}

/// A bound, not yet running, storefront.
pub struct Application {
    port: u16,
    public_url: String,
    server: Server,
}

impl Application {
    /// Migrates the database, opens the pool and binds `settings.bind` (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let backend = Backend::from_url(&settings.database_url)?;
        let db = {
            let backend = backend.clone();
            tokio::task::spawn_blocking(move || {
                backend.run_migrations()?;
                backend.pool(8)
            })
            .await
            .context("database start-up was cancelled")??
        };
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("could not listen on {}", settings.bind))?;
        let addr = listener.local_addr()?;
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let (credentials, base_url, sandbox) = match &settings.paytr.credentials {
            Some(credentials) => (credentials.clone(), settings.paytr.base_url.clone(), None),
            None => {
                let sandbox = embedded_sandbox(&settings, &public_url)?;
                sandbox.resume_deliveries();
                (
                    sandbox.credentials().clone(),
                    format!("{public_url}{SANDBOX_PREFIX}"),
                    Some(sandbox),
                )
            }
        };
        let paytr = PaytrClient::new(ClientConfig {
            base_url,
            credentials,
            connect_timeout: settings.paytr.connect_timeout,
            request_timeout: settings.paytr.request_timeout,
        })?;
        let state = web::Data::new(AppState {
            db,
            settings: Arc::new(settings),
            public_url: public_url.clone(),
            paytr,
            sandbox: sandbox.clone(),
        });
        let server = HttpServer::new(move || {
            App::new().app_data(state.clone()).configure(|cfg| {
                crate::routes::configure(cfg);
                if let Some(sandbox) = &sandbox {
                    sandbox.configure(cfg);
                }
            })
        })
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(10)
        .run();
        Ok(Self {
            port: addr.port(),
            public_url,
            server,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The server future, for callers (tests) that drive it themselves without signal handling.
    pub fn into_server(self) -> Server {
        self.server
    }

    /// Serves until SIGTERM or SIGINT, then stops gracefully: in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        actix_web::rt::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down");
            handle.stop(true).await;
        });
        self.server.await
    }
}

/// Where the embedded sandbox is mounted in sandbox mode.
pub const SANDBOX_PREFIX: &str = "/sandbox";

/// The sandbox `serve` mounts when no PayTR account is configured: its merchant is generated
/// once in `DATA_DIR/sandbox`, and it notifies this storefront.
fn embedded_sandbox(settings: &Settings, public_url: &str) -> anyhow::Result<Sandbox> {
    let data_dir = settings.data_dir.join("sandbox");
    let knobs = KnobArgs::from_env()
        .map_err(|e| anyhow::anyhow!("sandbox knobs: {e}"))?
        .knobs();
    Sandbox::open(SandboxConfig {
        credentials: load_or_create_merchant(&data_dir)?,
        notify_url: Some(format!("{public_url}/paytr/notify")),
        data_dir,
        prefix: SANDBOX_PREFIX.to_owned(),
        knobs,
    })
}

/// Resolves on SIGTERM or SIGINT.
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
