use crate::helpers::{spawn_app, spawn_live_app};

#[tokio::test]
async fn healthz_answers_plain_ok() {
    let app = spawn_app().await;

    let response = app.get("/healthz").await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(response.text().await.expect("body"), "ok");
}

#[tokio::test]
async fn home_page_in_sandbox_mode_shows_the_no_real_money_banner() {
    let app = spawn_app().await;

    let response = app.get("/").await;

    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("body");
    assert!(html.contains("<html lang=\"tr\">"), "{html}");
    assert!(html.contains("class=\"sandbox-banner\""), "{html}");
    assert!(html.contains("gerçek para çekilmez"));
}

#[tokio::test]
async fn home_page_with_paytr_credentials_has_no_sandbox_banner() {
    let app = spawn_live_app("https://www.paytr.com", &[]).await;

    let html = app.get("/").await.text().await.expect("body");

    assert!(!html.contains("sandbox-banner"), "{html}");
}

#[tokio::test]
async fn unknown_pages_answer_404_with_a_page() {
    let app = spawn_app().await;

    let response = app.get("/no/such/page").await;

    assert_eq!(response.status(), 404);
    assert!(
        response
            .text()
            .await
            .expect("body")
            .contains("Sayfa bulunamadı")
    );
}

#[tokio::test]
async fn stylesheet_is_served() {
    let app = spawn_app().await;

    let response = app.get("/static/app.css").await;

    assert_eq!(response.status(), 200);
    assert!(
        response
            .text()
            .await
            .expect("body")
            .contains(".sandbox-banner")
    );
}

#[tokio::test]
async fn head_answers_like_get_without_a_body() {
    // Uptime monitors and link checkers ask with HEAD (RFC 9110: a server that answers GET
    // answers HEAD); it was 404 everywhere.
    let app = spawn_app().await;
    for path in ["/", "/healthz", "/static/app.css", "/legal/seller"] {
        let get = app.get(path).await;
        let head = app.head(path).await;
        assert_eq!(head.status(), get.status(), "{path}");
        assert_eq!(head.status(), 200, "{path}");
        assert_eq!(
            head.headers()["content-type"],
            get.headers()["content-type"],
            "{path}"
        );
        assert!(head.headers().contains_key("content-security-policy"));
        assert_eq!(head.text().await.expect("body"), "", "{path}");
    }
    // HEAD reads, like GET: a route that only takes POST still refuses it, and nothing is
    // posted.
    assert_ne!(app.head("/logout").await.status(), 200);
}
