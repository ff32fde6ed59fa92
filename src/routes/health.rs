use actix_web::HttpResponse;

/// Liveness: plain `ok`, no database or PayTR call (also the benchmarks' reference handler).
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

/// Readiness: `ready` when the database answers (a `SELECT 1` through the pool), else 503, so
/// a load balancer sends no traffic to an instance that can't take payments.
pub async fn readyz(state: actix_web::web::Data<crate::app_state::AppState>) -> HttpResponse {
    let checked = state
        .db
        .run(|conn| {
            diesel::connection::SimpleConnection::batch_execute(conn, "SELECT 1")?;
            Ok(())
        })
        .await;
    match checked {
        Ok(()) => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the database does not answer");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain; charset=utf-8")
                .body("database unavailable")
        }
    }
}
