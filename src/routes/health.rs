use actix_web::HttpResponse;

/// Liveness: plain `ok`, no database or PayTR call (also the benchmarks' reference handler).
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}
