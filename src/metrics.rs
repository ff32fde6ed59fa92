//! Prometheus metrics on their own address (`METRICS_BIND`, off by default).
//!
//! Code records through the `metrics` facade (`metrics::counter!` …), which costs nothing until
//! a recorder is installed; [`install`] installs the Prometheus one (once per process) and
//! [`serve`] answers `GET /metrics` in Prometheus' text format. What is recorded:
//! - `http_requests_total`, `http_request_duration_seconds` by route pattern, method, status;
//! - `paytr_notifications_total` by outcome (`paid`, `failed`, `duplicate`, `rejected_hash`, …);
//! - `paytr_calls_total` by endpoint and result, `paytr_call_duration_seconds` by endpoint;
//! - `billing_attempts_total` by outcome, `refunds_total` by outcome;
//! - `db_write_queue_depth`, `db_commit_batch_size` (SQLite's writer), `db_pool_connections`
//!   and `db_pool_idle_connections` (sampled when scraped).

use crate::db::Db;
use actix_web::{App, HttpResponse, HttpServer, web};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::{SocketAddr, TcpListener};
use std::sync::OnceLock;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets (seconds) of every histogram: 0.5 ms to 10 s.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the Prometheus recorder for this process (the first call; later ones, such as a
/// second app in one test process, share it).
pub fn install() -> anyhow::Result<PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets(&BUCKETS)?
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full("db_commit_batch_size".into()),
            &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0],
        )?
        .build_recorder();
    let handle = recorder.handle();
    if HANDLE.set(handle.clone()).is_ok() {
        metrics::set_global_recorder(recorder)
            .map_err(|e| anyhow::anyhow!("could not install the metrics recorder: {e}"))?;
        return Ok(handle);
    }
    Ok(HANDLE.get().cloned().unwrap_or(handle))
}

struct Exporter {
    handle: PrometheusHandle,
    db: Db,
}

async fn metrics_page(exporter: web::Data<Exporter>) -> HttpResponse {
    let (connections, idle) = exporter.db.pool_state();
    metrics::gauge!("db_pool_connections").set(f64::from(connections));
    metrics::gauge!("db_pool_idle_connections").set(f64::from(idle));
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(exporter.handle.render())
}

/// Serves `/metrics` on `bind` (one worker); returns the bound address and the server.
pub fn serve(
    bind: SocketAddr,
    handle: PrometheusHandle,
    db: Db,
) -> anyhow::Result<(SocketAddr, actix_web::dev::Server)> {
    let listener = TcpListener::bind(bind)
        .map_err(|e| anyhow::anyhow!("could not listen on METRICS_BIND {bind}: {e}"))?;
    let addr = listener.local_addr()?;
    let exporter = web::Data::new(Exporter { handle, db });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(exporter.clone())
            .route("/metrics", web::get().to(metrics_page))
    })
    .workers(1)
    .listen(listener)?
    .disable_signals()
    .shutdown_timeout(2)
    .run();
    Ok((addr, server))
}
