//! Sign-up does not tell whether an address has an account: the page is the same, and the
//! address's owner is the one told.

use super::{count, signed_up};
use crate::helpers::spawn_app;
use crate::shopper::Shopper;

fn main_of(html: &str) -> &str {
    let start = html.find("<main").unwrap_or(0);
    let end = html.find("</main>").unwrap_or(html.len());
    &html[start..end]
}

#[tokio::test]
async fn signing_up_with_a_taken_address_looks_the_same_and_tells_the_owner() {
    let app = spawn_app().await;
    signed_up(&app, "owner@example.com").await;
    let mut prober = Shopper::new(&app.address);

    let taken = prober.sign_up("Owner@example.com").await;
    let free = Shopper::new(&app.address).sign_up("free@example.com").await;

    assert_eq!((taken.status, free.status), (200, 200));
    assert_eq!(
        main_of(&taken.html).replace("owner@", "free@"),
        main_of(&free.html),
        "the same page either way"
    );
    let mailbox = prober.get("/sandbox/mail").await.html;
    assert!(
        mailbox.contains("Bu adresle zaten bir hesabınız var"),
        "the owner is told: {mailbox}"
    );
    assert!(
        !prober
            .get("/account")
            .await
            .html
            .contains("id=\"nav-account\""),
        "the prober is not signed in"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM users WHERE email = 'owner@example.com'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn the_outbox_is_delivered_to_the_mail_webhook_once_it_accepts() {
    use wiremock::matchers::{body_partial_json, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let mail_service = MockServer::builder().start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(
            serde_json::json!({"to": "mailed@example.com"}),
        ))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&mail_service)
        .await;
    let app = crate::helpers::spawn_app_with(&[("MAIL_WEBHOOK_URL", &mail_service.uri())]).await;

    Shopper::new(&app.address)
        .sign_up("mailed@example.com")
        .await;

    crate::helpers::eventually_async("the e-mail to be delivered", || async {
        (count(
            &app,
            "SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NOT NULL",
        )
        .await
            == 1)
            .then_some(())
    })
    .await;
    let received = mail_service.received_requests().await.unwrap_or_default();
    let body = String::from_utf8_lossy(&received[0].body).to_string();
    assert!(body.contains("/register/confirm/"), "{body}");
}
