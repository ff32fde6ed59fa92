//! `POST /paytr/notify`: verified, recorded, idempotent, `OK` only after the commit.

use crate::helpers::notification_outcomes;
use crate::helpers::{TestApp, eventually_async, spawn_app};
use crate::shopper::{Shopper, hidden_fields};
use diesel::RunQueryDsl;
use paytr_checkout::db::Backend;
use paytr_checkout::db::models::PaymentAttempt;
use paytr_checkout::paytr::Notification;
use paytr_checkout::sandbox::knobs::Knobs;

/// A pending order of 99.90 TL; returns its merchant_oid.
async fn pending_order(app: &TestApp) -> String {
    let mut shopper = Shopper::new(&app.address);
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;
    hidden_fields(&pay.html)["merchant_oid"].clone()
}

fn signed(app: &TestApp, oid: &str, status: &str, total: &str) -> Notification {
    let mut n = Notification {
        merchant_oid: oid.into(),
        status: status.into(),
        total_amount: total.into(),
        currency: Some("TL".into()),
        payment_amount: Some("9990".into()),
        test_mode: Some("1".into()),
        ..Default::default()
    };
    n.sign(app.sandbox.as_ref().expect("sandbox").credentials());
    n
}

async fn post(app: &TestApp, n: &Notification) -> (u16, String) {
    let response = app
        .http
        .post(format!("{}/paytr/notify", app.address))
        .form(&n.to_pairs())
        .send()
        .await
        .expect("answer");
    (
        response.status().as_u16(),
        response.text().await.expect("body"),
    )
}

async fn state(app: &TestApp, oid: &str) -> (String, Vec<String>) {
    let pool = Backend::from_url(&app.db.url)
        .expect("url")
        .pool(1)
        .expect("pool");
    let oid = oid.to_owned();
    pool.run(move |conn| {
        let attempt = PaymentAttempt::find_by_merchant_oid(conn, &oid)?
            .map(|a| a.status.code().to_owned())
            .unwrap_or_default();
        Ok((attempt, notification_outcomes(conn, &oid)?))
    })
    .await
    .expect("query")
}

#[tokio::test]
async fn a_valid_notification_is_answered_exactly_ok_and_a_repeat_changes_nothing() {
    let app = spawn_app().await;
    let oid = pending_order(&app).await;
    let success = signed(&app, &oid, "success", "9990");

    let first = post(&app, &success).await;
    let again = post(&app, &success).await;
    let late_failure = post(&app, &signed(&app, &oid, "failed", "0")).await;

    assert_eq!(first, (200, "OK".into()));
    assert_eq!(again, (200, "OK".into()));
    assert_eq!(late_failure, (200, "OK".into()));
    assert_eq!(
        state(&app, &oid).await,
        (
            "paid".into(),
            vec!["paid".into(), "duplicate".into(), "duplicate".into()]
        )
    );
}

#[tokio::test]
async fn a_notification_with_a_bad_hash_or_any_signed_field_changed_is_refused_and_changes_nothing()
{
    let app = spawn_app().await;
    let oid = pending_order(&app).await;
    let good = signed(&app, &oid, "success", "9990");
    let mut forgeries = vec![Notification {
        hash: "bm90IGEgaGFzaA==".into(),
        ..good.clone()
    }];
    forgeries.push(Notification {
        total_amount: "99900".into(),
        ..good.clone()
    });
    forgeries.push(Notification {
        status: "failed".into(),
        ..good.clone()
    });
    forgeries.push(Notification {
        merchant_oid: format!("{oid}X"),
        ..good.clone()
    });
    let mut missing_hash = good.to_pairs();
    missing_hash.retain(|(k, _)| *k != "hash");

    for forged in &forgeries {
        let (status, body) = post(&app, forged).await;
        assert_eq!(status, 400);
        assert_ne!(body, "OK");
    }
    let response = app
        .http
        .post(format!("{}/paytr/notify", app.address))
        .form(&missing_hash)
        .send()
        .await
        .expect("answer");

    assert_eq!(response.status(), 400);
    let (attempt, outcomes) = state(&app, &oid).await;
    assert_eq!(attempt, "pending", "nothing changed");
    assert_eq!(
        outcomes,
        ["bad_hash", "bad_hash", "bad_hash"],
        "refusals are recorded"
    );
}

#[tokio::test]
async fn an_underpaid_or_wrong_currency_notification_does_not_pay_the_order() {
    let app = spawn_app().await;
    let oid = pending_order(&app).await;
    let mut usd = signed(&app, &oid, "success", "9990");
    usd.currency = Some("USD".into());

    let under = post(&app, &signed(&app, &oid, "success", "9989")).await;
    let other_currency = post(&app, &usd).await;

    assert_eq!((under.0, other_currency.0), (200, 200));
    assert_eq!(
        state(&app, &oid).await,
        (
            "pending".into(),
            vec!["underpaid".into(), "currency_mismatch".into()]
        )
    );
}

#[tokio::test]
async fn a_notification_for_an_unknown_order_is_recorded_and_acknowledged() {
    let app = spawn_app().await;

    let answer = post(&app, &signed(&app, "PCNOSUCHORDER", "success", "100")).await;

    assert_eq!(answer, (200, "OK".into()));
    assert_eq!(state(&app, "PCNOSUCHORDER").await.1, ["unknown_order"]);
}

#[tokio::test]
async fn a_storage_failure_is_answered_non_ok_so_paytr_retries() {
    let app = spawn_app().await;
    let oid = pending_order(&app).await;
    let pool = Backend::from_url(&app.db.url)
        .expect("url")
        .pool(1)
        .expect("pool");
    pool.run(|conn| Ok(diesel::sql_query("DROP TABLE notifications").execute(conn)?))
        .await
        .expect("drop");

    let (status, body) = post(&app, &signed(&app, &oid, "success", "9990")).await;

    assert_eq!(status, 500);
    assert_ne!(body, "OK");
    let attempt = pool
        .run(move |conn| {
            Ok(PaymentAttempt::find_by_merchant_oid(conn, &oid)?.map(|a| a.status.code()))
        })
        .await
        .expect("query");
    assert_eq!(
        attempt,
        Some("pending"),
        "the whole transaction rolled back"
    );
}

#[tokio::test]
async fn duplicate_deliveries_from_the_sandbox_are_acknowledged_and_ignored() {
    let app = spawn_app().await;
    let sandbox = app.sandbox.clone().expect("sandbox");
    sandbox.set_knobs(Knobs {
        notify_twice: true,
        ..sandbox.knobs()
    });
    let mut shopper = Shopper::new(&app.address);
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;
    let oid = hidden_fields(&pay.html)["merchant_oid"].clone();
    let three_d = shopper
        .pay(&pay.html, crate::sandbox_harness::VISA, false)
        .await;

    shopper.answer_3d(&three_d, true).await;

    let outcomes = eventually_async("two deliveries", || {
        let (app, oid) = (&app, oid.clone());
        async move { Some(state(app, &oid).await.1).filter(|o| o.len() == 2) }
    })
    .await;
    assert_eq!(outcomes, ["paid", "duplicate"]);
    // The sandbox marks a delivery done once it has read our answer, just after we stored it.
    crate::helpers::eventually("both deliveries answered exactly OK", || {
        let delivered = sandbox.read(|s| {
            s.notifications
                .iter()
                .filter(|j| j.merchant_oid == oid && j.delivered)
                .count()
        });
        (delivered == 2).then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_notification_can_arrive_before_the_browser_returns() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;
    let oid = hidden_fields(&pay.html)["merchant_oid"].clone();
    let three_d = shopper
        .pay(&pay.html, crate::sandbox_harness::VISA, false)
        .await;
    let (action, _) = crate::shopper::form_inputs(&three_d.html, "id=\"approve\"");
    let hand_back = shopper
        .post_raw(&action, &[("decision".into(), "approve".into())])
        .await;

    eventually_async("the notification", || {
        let (app, oid) = (&app, oid.clone());
        async move { (state(app, &oid).await.0 == "paid").then_some(()) }
    })
    .await;
    let back = shopper.follow_hand_back(&hand_back.html).await;

    assert!(
        back.html.contains("data-status=\"status_paid\""),
        "{}",
        back.html
    );
}
