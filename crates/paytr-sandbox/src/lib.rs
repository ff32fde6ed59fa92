//! A local PayTR: the Direct API (`/odeme`) with a simulated bank 3-D page, card storage
//! (CAPI LIST and DELETE), recurring charges and signed notifications with re-delivery.
//!
//! It behaves as the `paytr` crate's PROTOCOL.md describes PayTR, strictly: wrong tokens, missing fields, reused
//! order ids and missing permissions are refused the way PayTR refuses them. It knows nothing
//! of the storefront; the storefront mounts it under `/sandbox` when no PayTR account is
//! configured, and `paytr-checkout sandbox` serves it alone.

mod capi;
pub mod cards;
mod checks;
pub mod files;
mod installments;
pub mod knobs;
mod merchant;
mod notify;
mod pages;
mod payment;
mod rules;
pub mod state;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use knobs::Knobs;
use paytr::MerchantCredentials;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use state::State;
use std::collections::HashSet;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// How a sandbox is set up.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub credentials: MerchantCredentials,
    /// The merchant's notification URL ("Bildirim URL"); without one nothing is delivered.
    pub notify_url: Option<String>,
    /// Where `state.json` lives.
    pub data_dir: PathBuf,
    /// Path prefix the routes are mounted under: `""` alone, `"/sandbox"` inside the storefront.
    pub prefix: String,
    pub knobs: Knobs,
}

/// The running sandbox, cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    config: SandboxConfig,
    state: Mutex<State>,
    knobs: Mutex<Knobs>,
    /// ctokens with a recurring charge being processed right now.
    in_flight: Mutex<HashSet<String>>,
    http: reqwest::Client,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep serving it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Sandbox {
    /// Loads the saved state from `config.data_dir` (creating the folder).
    pub fn open(config: SandboxConfig) -> anyhow::Result<Self> {
        crate::files::create_private_dir(&config.data_dir).with_context(|| {
            format!(
                "could not create the sandbox folder {}",
                config.data_dir.display()
            )
        })?;
        let state = State::load(&state_path(&config.data_dir))
            .context("could not read the sandbox state")?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .context("could not build the notification client")?;
        Ok(Self {
            inner: Arc::new(Inner {
                knobs: Mutex::new(config.knobs.clone()),
                config,
                state: Mutex::new(state),
                in_flight: Mutex::new(HashSet::new()),
                http,
            }),
        })
    }

    pub fn credentials(&self) -> &MerchantCredentials {
        &self.inner.config.credentials
    }

    pub fn prefix(&self) -> &str {
        &self.inner.config.prefix
    }

    pub fn knobs(&self) -> Knobs {
        lock(&self.inner.knobs).clone()
    }

    pub fn set_knobs(&self, knobs: Knobs) {
        *lock(&self.inner.knobs) = knobs;
    }

    /// Reads the state under the lock.
    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&lock(&self.inner.state))
    }

    /// Changes the state under the lock and saves it before the lock is released.
    fn write<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = lock(&self.inner.state);
        let result = f(&mut state);
        if let Err(e) = state.save(&state_path(&self.inner.config.data_dir)) {
            tracing::error!(error = %e, "could not save the sandbox state");
        }
        result
    }

    /// Restarts the deliveries a previous run left unfinished. Call inside a Tokio runtime.
    pub fn resume_deliveries(&self) {
        let unfinished: Vec<u64> = self.read(|s| {
            s.notifications
                .iter()
                .filter(|j| !j.delivered && !j.gave_up)
                .map(|j| j.id)
                .collect()
        });
        for id in unfinished {
            self.spawn_delivery(id);
        }
    }

    /// Registers the sandbox's routes under its prefix.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        let p = self.prefix().to_owned();
        cfg.app_data(web::Data::new(self.clone()))
            .route(&format!("{p}/odeme"), web::post().to(payment::post_payment))
            .service(
                web::resource(format!("{p}/odeme/3d/{{id}}"))
                    .route(web::post().to(payment::post_three_d))
                    .route(web::get().to(payment::get_three_d)),
            )
            .route(&format!("{p}/odeme/capi/list"), web::post().to(capi::list))
            .route(
                &format!("{p}/odeme/capi/delete"),
                web::post().to(capi::delete),
            )
            .route(&format!("{p}/odeme/iade"), web::post().to(merchant::refund))
            .route(
                &format!("{p}/odeme/api/bin-detail"),
                web::post().to(installments::bin_detail),
            )
            .route(
                &format!("{p}/odeme/taksit-oranlari"),
                web::post().to(installments::rates),
            )
            .route(
                &format!("{p}/odeme/durum-sorgu"),
                web::post().to(merchant::status),
            )
            .route(
                &format!("{p}/notifications/{{id}}/resend"),
                web::post().to(pages::resend),
            )
            .route(&format!("{p}/knobs"), web::post().to(pages::update_knobs))
            .route(
                &format!("{p}/static/sandbox.js"),
                web::get().to(pages::script),
            )
            .route(
                &format!("{p}/static/sandbox.css"),
                web::get().to(pages::stylesheet),
            )
            .route(&format!("{p}/"), web::get().to(pages::dashboard));
        if !p.is_empty() {
            cfg.route(&p, web::get().to(pages::dashboard));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.prefix())
    }
}

fn state_path(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

/// Sandbox merchant credentials, generated once and kept in `dir/merchant.json`.
#[derive(Serialize, Deserialize)]
struct MerchantFile {
    merchant_id: String,
    merchant_key: String,
    merchant_salt: String,
}

/// Loads the sandbox merchant from `dir`, or creates one with random key and salt.
pub fn load_or_create_merchant(dir: &Path) -> anyhow::Result<MerchantCredentials> {
    let path = dir.join("merchant.json");
    if let Ok(bytes) = std::fs::read(&path) {
        let m: MerchantFile = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is damaged", path.display()))?;
        return Ok(MerchantCredentials::new(
            &m.merchant_id,
            &m.merchant_key,
            &m.merchant_salt,
        ));
    }
    crate::files::create_private_dir(dir)
        .with_context(|| format!("could not create {}", dir.display()))?;
    let creds = MerchantCredentials::new(
        &format!("{}", 100_000 + rand::random::<u32>() % 900_000),
        &state::random_token()[..16],
        &state::random_token()[..16],
    );
    let file = MerchantFile {
        merchant_id: creds.merchant_id.clone(),
        merchant_key: creds.merchant_key.expose_secret().to_owned(),
        merchant_salt: creds.merchant_salt.expose_secret().to_owned(),
    };
    write_private(&path, &serde_json::to_vec_pretty(&file)?)?;
    Ok(creds)
}

pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("could not create {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

/// The sandbox alone on its own port.
pub struct SandboxServer {
    pub url: String,
    pub sandbox: Sandbox,
    server: Server,
}

impl SandboxServer {
    /// Binds `bind` (port 0 picks a free port) and resumes unfinished deliveries.
    pub fn build(config: SandboxConfig, bind: SocketAddr) -> anyhow::Result<Self> {
        let sandbox = Sandbox::open(config)?;
        let listener =
            TcpListener::bind(bind).with_context(|| format!("could not listen on {bind}"))?;
        let url = format!("http://{}", listener.local_addr()?);
        let routes = sandbox.clone();
        let server = HttpServer::new(move || App::new().configure(|cfg| routes.configure(cfg)))
            .listen(listener)?
            .disable_signals()
            .run();
        Ok(Self {
            url,
            sandbox,
            server,
        })
    }

    pub fn into_server(self) -> Server {
        self.server
    }
}

/// Seconds since the Unix epoch (the sandbox's clock).
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
