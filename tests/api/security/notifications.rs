//! Anyone can post to `/paytr/notify`: what a refusal costs us is bounded, and what it says in
//! the log can't pass for anything else.

use super::count;
use crate::helpers::spawn_app;
use crate::process::LoggedServer;

fn forged(oid: &str, filler: usize) -> Vec<(String, String)> {
    vec![
        ("merchant_oid".into(), oid.into()),
        ("status".into(), "success".into()),
        ("total_amount".into(), "9990".into()),
        ("hash".into(), "not the hash".into()),
        ("padding".into(), "p".repeat(filler)),
    ]
}

#[tokio::test]
async fn refused_notifications_are_kept_as_bounded_summaries_at_a_bounded_rate() {
    let app = spawn_app().await;
    let post = |fields: Vec<(String, String)>| {
        app.http
            .post(format!("{}/paytr/notify", app.address))
            .form(&fields)
            .send()
    };

    let mut statuses = Vec::new();
    for i in 0..100 {
        let answer = post(forged(&format!("PC{i}{}", "o".repeat(300)), 14_000))
            .await
            .expect("answer");
        statuses.push(answer.status().as_u16());
    }
    let huge = post(forged("PChuge", 250_000)).await.expect("answer");

    assert!(statuses.iter().all(|s| *s == 400), "{statuses:?}");
    assert_eq!(huge.status().as_u16(), 413, "a body that size is not read");
    let rows = count(&app, "SELECT COUNT(*) AS n FROM notifications").await;
    assert!((1..=60).contains(&rows), "{rows} rows for 100 refusals");
    let longest = count(
        &app,
        "SELECT CAST(COALESCE(MAX(LENGTH(fields_json) + LENGTH(merchant_oid)), 0) AS BIGINT) AS n FROM notifications",
    )
    .await;
    assert!(longest < 1_000, "a refusal is kept in {longest} characters");
}

#[tokio::test]
async fn a_posted_merchant_oid_cannot_forge_a_log_line() {
    let server = LoggedServer::start();
    let forged_line = "2026-11-26T00:00:00.000000Z  INFO paytr_checkout: notification applied merchant_oid=\"PCvictim\" outcome=\"paid\"";
    let oid = format!("x\n{forged_line}\u{1b}[2J\r");

    let answer = reqwest::Client::new()
        .post(format!("{}/paytr/notify", server.url))
        .form(&forged(&oid, 10))
        .send()
        .await
        .expect("answer");
    let status = answer.status().as_u16();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (log, _dir) = server.stop();

    assert_eq!(status, 400);
    assert!(log.contains("notification refused"), "{log}");
    assert!(
        !log.contains('\u{1b}') && !log.contains('\r'),
        "raw escapes: {log}"
    );
    assert!(
        !log.lines().any(|l| l.starts_with("2026-11-26T00:00:00")),
        "a forged line: {log}"
    );
    assert!(
        !log.lines().any(|l| l.contains("notification applied")),
        "no notification was applied: {log}"
    );
}

#[tokio::test]
async fn a_test_transactions_notification_never_fulfils_a_live_order() {
    let app = crate::helpers::spawn_live_app("https://www.paytr.com", &[]).await;
    let mut shopper = crate::shopper::Shopper::new(&app.address);
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;
    let oid = crate::shopper::hidden_fields(&pay.html)["merchant_oid"].clone();
    let creds = paytr_checkout::paytr::MerchantCredentials::new(
        "123456",
        "AbCdEfGhIjKlMnOp",
        "QrStUvWxYz012345",
    );
    let mut n = paytr_checkout::paytr::Notification {
        merchant_oid: oid.clone(),
        status: "success".into(),
        total_amount: "9990".into(),
        test_mode: Some("1".into()),
        ..Default::default()
    };
    n.sign(&creds);

    let answer = app
        .http
        .post(format!("{}/paytr/notify", app.address))
        .form(&n.to_pairs())
        .send()
        .await
        .expect("answer");

    assert_eq!(
        answer.text().await.expect("body"),
        "OK",
        "acknowledged, so not re-sent"
    );
    let outcomes = app
        .db_run(move |conn| crate::helpers::notification_outcomes(conn, &oid))
        .await;
    assert_eq!(outcomes, ["test_in_live"]);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM orders WHERE status = 'paid'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM security_events WHERE kind = 'test_notification_in_live'"
        )
        .await,
        1
    );
}
