//! Building and running the HTTP server.

use crate::accounts::{LoginThrottle, RateLimiter, random_string};
use crate::app_state::AppState;
use crate::billing::{Billing, RetryPolicy};
use crate::cards::CardCache;
use crate::catalog::Catalog;
use crate::cli::KnobArgs;
use crate::seal::Sealer;
use crate::sessions::{DbSessionStore, SessionCookies, SessionMiddleware};
use actix_web::HttpResponse;
use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use secrecy::ExposeSecret;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;
use crate::config::Settings;
use crate::db::{Backend, Db};
use crate::paytr::{ClientConfig, PaytrClient};
use crate::sandbox::{Sandbox, SandboxConfig, load_or_create_merchant};
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use std::net::TcpListener;
use std::sync::Arc;

/// A bound, not yet running, storefront.
pub struct Application {
    port: u16,
    public_url: String,
    server: Server,
    sandbox: Option<Sandbox>,
    /// Where `/metrics` listens (METRICS_BIND), once bound.
    metrics_addr: Option<std::net::SocketAddr>,
    db: Db,
}

/// Database connections per instance.
const POOL_SIZE: u32 = 8;

impl Application {
    /// Migrates the database, opens the pool and binds `settings.bind` (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let backend = Backend::from_url(&settings.database_url)?;
        let db = {
            let backend = backend.clone();
            tokio::task::spawn_blocking(move || {
                backend.run_migrations()?;
                backend.pool(POOL_SIZE)
            })
            .await
            .context("database start-up was cancelled")??
        };
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("could not listen on {}", settings.bind))?;
        let addr = listener.local_addr()?;
        let metrics_addr = match settings.metrics_bind {
            Some(bind) => {
                let handle = crate::metrics::install()?;
                let (bound, server) = crate::metrics::serve(bind, handle, db.clone())?;
                tokio::spawn(server);
                tracing::info!(address = %bound, "metrics served at /metrics");
                Some(bound)
            }
            None => None,
        };
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
        let (paytr, capi) = paytr_clients(&settings, base_url, credentials)?;
        let catalog = Catalog::load(&settings.catalog_path)?;
        let legal = Arc::new(crate::legal::Legal::load(settings.legal_dir.as_deref())?);
        if legal.example_seller && sandbox.is_none() {
            tracing::warn!(
                "LEGAL_DIR has no seller.json: pages and contracts show the example seller; put your company's details there"
            );
        }
        let mail = Arc::new(crate::mail::MailCtx {
            base_url: public_url.clone(),
            shop: legal.seller.name.clone(),
            catalog: catalog.clone(),
        });
        let state_sandbox = sandbox.clone();
        let secrets = Secrets::load_or_create(&settings)?;
        check_data_key(&db, &secrets.data_key).await?;
        let secure = settings.secure_cookies(&public_url);
        let headers = std::sync::Arc::new(security_headers(
            &content_security_policy(&paytr.url("")),
            public_url.starts_with("https://"),
        ));
        let minutes = |m: u64| Duration::from_secs(m * 60);
        // On PostgreSQL several instances may share the database: limits are counted there.
        let limiter = |name: &'static str, limit: u32, window: Duration| {
            let limiter = RateLimiter::new(limit, window);
            match backend {
                Backend::Postgres(_) => limiter.shared(name, db.clone()),
                Backend::Sqlite(_) => limiter,
            }
        };
        let card_cache = Arc::new(CardCache::new(Duration::from_secs(60)));
        let billing = make_billing(
            &settings,
            BillingParts {
                db: db.clone(),
                paytr: paytr.clone(),
                capi: capi.clone(),
                cards: card_cache.clone(),
                data_key: &secrets.data_key,
                catalog: catalog.clone(),
                public_url: &public_url,
                sandbox: sandbox.is_some(),
                mail: mail.clone(),
            },
        );
        if let Some(every) = settings.billing.interval {
            spawn_billing_loop(billing.clone(), every);
        }
        if settings.installments.enabled {
            crate::installments::spawn_refresher(
                db.clone(),
                paytr.clone(),
                Duration::from_secs(86_400),
            );
        }
        match mail_transport(&settings)? {
            Some(transport) => crate::mail::spawn_delivery(
                db.clone(),
                transport,
                settings.mail_interval,
                settings.mail_retry_base_secs,
            ),
            None if sandbox.is_none() => tracing::warn!(
                "SMTP_URL is not set: e-mails (sign-up confirmations, receipts) wait in the outbox table and shoppers can't finish signing up"
            ),
            None => {}
        }
        crate::api::webhooks::spawn_delivery(
            db.clone(),
            Sealer::new(&secrets.data_key),
            settings.webhook_interval,
            settings.webhook_retry_base_secs,
            !(settings.paytr.test_mode || sandbox.is_some()),
        );
        let payment_csp = actix_web::http::header::HeaderValue::from_str(&payment_page_csp(
            &paytr.url(""),
            sandbox.is_some(),
        ))
        .ok();
        let state = web::Data::new(AppState {
            payment_csp,
            db: db.clone(),
            test_mode: settings.paytr.test_mode || sandbox.is_some(),
            settings: Arc::new(settings),
            public_url: public_url.clone(),
            public_base: crate::domain::AbsoluteUrl::parse("PUBLIC_URL", &public_url)
                .map_err(|e| anyhow::anyhow!("PUBLIC_URL {e}"))?,
            paytr,
            catalog,
            legal,
            mail,
            sealer: Sealer::new(&secrets.data_key),
            login_limiter: limiter("login", 100, minutes(15)),
            login_throttle: LoginThrottle::new(5, minutes(15)),
            register_limiter: limiter("register", 10, minutes(60)),
            reset_limiter: limiter("reset", 5, minutes(60)),
            bin_limiter: limiter("bin", 60, minutes(15)),
            payment_limiter: limiter("payment", 30, minutes(15)),
            delete_limiter: limiter("delete", 10, minutes(15)),
            api_limiter: limiter("api", 600, minutes(1)),
            refused_notifications: crate::notifications::RefusalBudget::new(60),
            private_ip_warned: std::sync::atomic::AtomicBool::new(false),
            capi,
            card_cache,
            billing,
        });
        let session_key = secrets.session_key.clone();
        let store = DbSessionStore::new(db.clone());
        store.spawn_pruning();
        let server = HttpServer::new(move || {
            let sessions =
                SessionMiddleware::new(store.clone(), SessionCookies::new(secure, &session_key))
                    .prefetch(crate::routes::checkout::prefetch_pay_page(state.clone()));
            App::new()
                .app_data(state.clone())
                // HEAD is answered as GET would be (RFC 9110 9.3.2): the request is routed as a
                // GET; the connection still knows it was HEAD and sends no body.
                .wrap_fn(|mut req, srv| {
                    if req.method() == actix_web::http::Method::HEAD {
                        req.head_mut().method = actix_web::http::Method::GET;
                    }
                    srv.call(req)
                })
                // Inside the session middleware, so a failure's page is in the shopper's words.
                .wrap_fn(|req, srv| {
                    let answer = srv.call(req);
                    async move { Ok(crate::routes::errors::render_failures(answer.await?).await) }
                })
                .wrap(sessions)
                // Outside the session middleware: the session's read and the page's first read
                // share one SQLite read transaction (`db::RequestReads`).
                .wrap_fn(|req, srv| crate::db::RequestReads::around(srv.call(req)))
                .wrap_fn(refuse_card_data_in_urls)
                .wrap_fn({
                    // Outermost, so every answer carries them: 4xx and 5xx, refusals of the
                    // middlewares inside, and errors that never became a page.
                    let headers = headers.clone();
                    move |req, srv| with_security_headers(srv.call(req), headers.clone())
                })
                .wrap_fn(|req, srv| {
                    let span = request_span(&req);
                    within_span(srv.call(req), span)
                })
                .configure(|cfg| {
                    crate::routes::configure(cfg);
                    if let Some(sandbox) = &sandbox {
                        sandbox.configure(cfg);
                    }
                })
        })
        // Blocking work is database work (8 pooled connections) and password hashing: more
        // threads than connections only wait for one. Tokio's default (512 per worker) let a
        // burst of back-office reads start ~80 threads, each with its own stack and malloc
        // arena, and the resident set went from 30 to 74 MB (bench/README.md).
        .worker_max_blocking_threads(POOL_SIZE as usize)
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(10)
        .run();
        Ok(Self {
            port: addr.port(),
            public_url,
            server,
            sandbox: state_sandbox,
            metrics_addr,
            db,
        })
    }

    /// Where `/metrics` is served, when METRICS_BIND is set.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics_addr
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database pool the server uses.
    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The embedded sandbox, in sandbox mode.
    pub fn sandbox(&self) -> Option<&Sandbox> {
        self.sandbox.as_ref()
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

/// The secrets behind session cookies and sealed tokens: from the environment, or generated
/// once and kept in `DATA_DIR/secrets.json` (fine for one instance; set both when several
/// instances share a database).
struct Secrets {
    session_key: String,
    data_key: String,
}

impl Secrets {
    fn load_or_create(settings: &Settings) -> anyhow::Result<Self> {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct File {
            session_key: String,
            data_key: String,
        }
        let path = settings.data_dir.join("secrets.json");
        let file = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is damaged", path.display()))?,
            Err(_) => {
                let file = File {
                    session_key: random_string(64),
                    data_key: random_string(64),
                };
                crate::files::create_private_dir(&settings.data_dir)?;
                crate::sandbox::write_private(&path, &serde_json::to_vec_pretty(&file)?)?;
                file
            }
        };
        Ok(Self {
            session_key: settings
                .session_key
                .as_ref()
                .map_or(file.session_key, |k| k.expose_secret().to_owned()),
            data_key: settings
                .data_key
                .as_ref()
                .map_or(file.data_key, |k| k.expose_secret().to_owned()),
        })
    }
}

/// Stops start-up when `DATA_KEY` is not the key the database's tokens were sealed with.
async fn check_data_key(db: &Db, data_key: &str) -> anyhow::Result<()> {
    let sealer = Sealer::new(data_key);
    db.write(move |conn| Ok(crate::accounts::verify_data_key(conn, &sealer)))
        .await??;
    Ok(())
}

/// CSP with no inline script; forms may post to us and to PayTR only.
fn content_security_policy(paytr_base: &str) -> String {
    let paytr_origin = url::Url::parse(paytr_base)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         form-action 'self' {paytr_origin}; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
    )
}

/// The payment pages' CSP: their forms post to PayTR, and PayTR may answer that post with a
/// redirect to the card's bank for 3-D Secure, whose origin nobody knows in advance (Chrome
/// checks `form-action` on redirects too). So `form-action` there allows any https origin;
/// in sandbox mode any http origin as well (the sandbox's bank may live on a second loopback
/// address). Every other page keeps the strict policy.
pub fn payment_page_csp(paytr_base: &str, sandbox: bool) -> String {
    let banks = if sandbox { "https: http:" } else { "https:" };
    content_security_policy(paytr_base).replace(
        "form-action 'self' ",
        &format!("form-action 'self' {banks} "),
    )
}

/// What a request is known by in logs and metrics.
struct RequestLabels {
    span: tracing::Span,
    id: HeaderValue,
    method: actix_web::http::Method,
}

/// A span per request: its id and method, then its route pattern (never the path's values, the
/// query string or a body), status and latency. Events logged while handling it carry the id
/// and method; the route is known once the router has matched the path and is recorded with
/// the status (asking for it before would match the path's patterns a second time: 2% of a
/// payment page). The id is the caller's `X-Request-Id` when it is a plausible one (1–64 of
/// `A-Z a-z 0-9 - _ . :`), else a new random one; the answer carries it back.
fn request_span(req: &ServiceRequest) -> RequestLabels {
    let id = req
        .headers()
        .get("x-request-id")
        .filter(|v| plausible_request_id(v.as_bytes()))
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&format!("{:016x}", rand::random::<u64>()))
                .unwrap_or(HeaderValue::from_static("-"))
        });
    let span = tracing::info_span!(
        "request",
        request_id = %String::from_utf8_lossy(id.as_bytes()),
        method = %req.method(),
        route = tracing::field::Empty,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    RequestLabels {
        span,
        id,
        method: req.method().clone(),
    }
}

fn plausible_request_id(id: &[u8]) -> bool {
    (1..=64).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
}

async fn within_span<F, B>(
    answer: F,
    labels: RequestLabels,
) -> Result<ServiceResponse<B>, actix_web::Error>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
{
    use tracing::Instrument;
    let RequestLabels { span, id, method } = labels;
    let started = std::time::Instant::now();
    let mut result = answer.instrument(span.clone()).await;
    let (status, route) = match &mut result {
        Ok(response) => {
            response
                .headers_mut()
                .insert(HeaderName::from_static("x-request-id"), id);
            // After routing this reads the matched resource's pattern, no path matching.
            (
                response.status().as_u16(),
                response.request().match_pattern(),
            )
        }
        Err(e) => (e.as_response_error().status_code().as_u16(), None),
    };
    let route = route.unwrap_or_else(|| "(no route)".to_owned());
    span.record("route", route.as_str());
    let elapsed = started.elapsed();
    let latency_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    span.record("status", status);
    span.record("latency_ms", latency_ms);
    tracing::debug!(parent: &span, status, latency_ms, "request finished");
    let labels = [
        ("route", route),
        ("method", method.as_str().to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
    result
}

type HeaderList = Vec<(HeaderName, HeaderValue)>;

/// The headers every answer carries; HSTS when the shop is served over https.
fn security_headers(csp: &str, https: bool) -> HeaderList {
    let mut list = vec![
        ("content-security-policy", csp.to_owned()),
        ("referrer-policy", "same-origin".to_owned()),
        ("x-content-type-options", "nosniff".to_owned()),
        ("x-frame-options", "DENY".to_owned()),
    ];
    if https {
        list.push((
            "strict-transport-security",
            "max-age=31536000; includeSubDomains".to_owned(),
        ));
    }
    list.into_iter()
        .filter_map(|(name, value)| {
            Some((
                HeaderName::from_static(name),
                HeaderValue::from_str(&value).ok()?,
            ))
        })
        .collect()
}

/// Adds the security headers a response lacks; an error's response gets them too (the
/// request can't be kept aside for it: routing needs to own it).
async fn with_security_headers<F, B>(
    answer: F,
    headers: std::sync::Arc<HeaderList>,
) -> Result<ServiceResponse<B>, actix_web::Error>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
{
    let add = |map: &mut actix_web::http::header::HeaderMap| {
        for (name, value) in headers.iter() {
            if !map.contains_key(name) {
                map.insert(name.clone(), value.clone());
            }
        }
    };
    match answer.await {
        Ok(mut response) => {
            add(response.headers_mut());
            Ok(response)
        }
        Err(e) => {
            let mut response = e.error_response();
            add(response.headers_mut());
            Err(actix_web::error::InternalError::from_response(e.to_string(), response).into())
        }
    }
}

/// Card data never travels to us, not even in a URL: such a request is refused unlogged.
fn refuse_card_data_in_urls<S>(
    req: ServiceRequest,
    srv: &S,
) -> LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, actix_web::Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>,
    S::Future: 'static,
{
    let carries_card = url::form_urlencoded::parse(req.query_string().as_bytes())
        .any(|(k, _)| crate::routes::ctx::CARD_FIELDS.contains(&k.as_ref()));
    if carries_card {
        let response = HttpResponse::BadRequest()
            .content_type("text/plain; charset=utf-8")
            .body("Kart bilgileri yalnızca PayTR'a gönderilir. / Card details are sent to PayTR only.");
        return Box::pin(std::future::ready(Ok(req.into_response(response))));
    }
    Box::pin(srv.call(req))
}

/// PayTR's client for payments and recurring charges, and one with the short CAPI timeout for
/// card lists on pages.
fn paytr_clients(
    settings: &Settings,
    base_url: String,
    credentials: crate::paytr::MerchantCredentials,
) -> Result<(PaytrClient, PaytrClient), crate::paytr::PaytrError> {
    let config = ClientConfig {
        base_url,
        credentials,
        connect_timeout: settings.paytr.connect_timeout,
        request_timeout: settings.paytr.request_timeout,
    };
    let capi = PaytrClient::new(ClientConfig {
        request_timeout: settings.paytr.capi_timeout,
        connect_timeout: settings
            .paytr
            .connect_timeout
            .min(settings.paytr.capi_timeout),
        ..config.clone()
    })?;
    Ok((PaytrClient::new(config)?, capi))
}

/// The pieces a [`Billing`] engine is made of.
struct BillingParts<'a> {
    db: Db,
    paytr: PaytrClient,
    capi: PaytrClient,
    cards: Arc<CardCache>,
    data_key: &'a str,
    catalog: Catalog,
    public_url: &'a str,
    sandbox: bool,
    mail: Arc<crate::mail::MailCtx>,
}

fn make_billing(settings: &Settings, parts: BillingParts<'_>) -> Billing {
    Billing {
        db: parts.db,
        paytr: parts.paytr,
        capi: parts.capi,
        cards: parts.cards,
        sealer: Sealer::new(parts.data_key),
        catalog: parts.catalog,
        public_url: parts.public_url.to_owned(),
        mail: parts.mail,
        test_mode: settings.paytr.test_mode || parts.sandbox,
        debug_on: settings.paytr.debug_on,
        policy: RetryPolicy {
            gaps_days: settings.billing.retry_gaps_days.clone(),
            max_attempts: settings.billing.max_attempts,
            window_days: settings.billing.retry_window_days,
            ..RetryPolicy::default()
        },
        unknown_after: settings.billing.unknown_after,
        reconcile_after: settings.billing.reconcile_after,
        abandon_after: settings.billing.abandon_after,
    }
}

/// PayTR clients for a command run beside the storefront (`billing`, `refund`, `doctor`): the
/// configured PayTR, or in sandbox mode the running storefront's sandbox at
/// `PUBLIC_URL/sandbox`. Also answers the public URL.
pub fn command_clients(settings: &Settings) -> anyhow::Result<(PaytrClient, PaytrClient, String)> {
    let public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", settings.bind));
    let (credentials, base_url) = match &settings.paytr.credentials {
        Some(credentials) => (credentials.clone(), settings.paytr.base_url.clone()),
        None => (
            load_or_create_merchant(&settings.data_dir.join("sandbox"))?,
            format!("{public_url}{SANDBOX_PREFIX}"),
        ),
    };
    let (paytr, capi) = paytr_clients(settings, base_url, credentials)?;
    Ok((paytr, capi, public_url))
}

/// How e-mails leave: SMTP (`SMTP_URL`, `MAIL_FROM`), else a webhook (`MAIL_WEBHOOK_URL`), else
/// none (they wait in the outbox).
fn mail_transport(settings: &Settings) -> anyhow::Result<Option<crate::mail::Transport>> {
    use secrecy::ExposeSecret;
    Ok(match (&settings.smtp_url, &settings.mail_webhook_url) {
        (Some(url), _) => Some(crate::mail::Transport::smtp(
            url.expose_secret(),
            &settings.mail_from,
        )?),
        (None, Some(url)) => Some(crate::mail::Transport::webhook(url)),
        (None, None) => None,
    })
}

/// The billing engine alone, for `paytr-checkout billing run-due`. In sandbox mode it talks to
/// the sandbox of the running storefront at `PUBLIC_URL/sandbox`.
pub async fn standalone_billing(settings: &Settings) -> anyhow::Result<Billing> {
    let backend = Backend::from_url(&settings.database_url)?;
    let db = {
        let backend = backend.clone();
        tokio::task::spawn_blocking(move || {
            backend.run_migrations()?;
            backend.pool(2)
        })
        .await
        .context("database start-up was cancelled")??
    };
    let (paytr, capi, public_url) = command_clients(settings)?;
    let secrets = Secrets::load_or_create(settings)?;
    check_data_key(&db, &secrets.data_key).await?;
    let catalog = Catalog::load(&settings.catalog_path)?;
    Ok(make_billing(
        settings,
        BillingParts {
            db,
            paytr,
            capi,
            cards: Arc::new(CardCache::new(Duration::from_secs(60))),
            data_key: &secrets.data_key,
            catalog: catalog.clone(),
            public_url: &public_url,
            sandbox: settings.paytr.credentials.is_none(),
            mail: Arc::new(crate::mail::MailCtx {
                base_url: public_url.clone(),
                shop: crate::legal::Legal::load(settings.legal_dir.as_deref())?
                    .seller
                    .name,
                catalog,
            }),
        },
    ))
}

/// Runs a billing pass every `every` in the background (also started by `serve`).
fn spawn_billing_loop(billing: Billing, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            match billing.run_due(crate::db::unix_now()).await {
                Ok(summary) => tracing::info!(%summary, "billing pass"),
                Err(e) => tracing::error!(error = %e, "billing pass failed"),
            }
        }
    });
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
