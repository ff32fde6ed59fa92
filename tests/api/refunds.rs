//! Refunds and the reconciler, against the sandbox: partial and full refunds, two at once on
//! two engines (instances), PayTR's refusals, a lost answer settled by status inquiry (never
//! re-sent), an unknown renewal settled by status inquiry, and the `refund` command.

use crate::billing::{attempts, engine, recurring_payments, subscriber, subscription};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::sandbox_harness::VISA;
use crate::shopper::{Shopper, hidden_fields, order_id};
use paytr_checkout::billing::Billing;
use paytr_checkout::db::refunds::Refund;
use paytr_checkout::db::states::RefundStatus;
use paytr_checkout::domain::{MerchantOid, Money};
use paytr_checkout::refunds::{RefundRefused, RefundRequest, refund};
use paytr_checkout::sandbox::knobs::{Fault, Knobs};

/// A guest buys one ceramic mug (180.00 TL) and the order is paid. Returns the shopper, the
/// order page's path and the payment's merchant_oid.
async fn paid_order(app: &TestApp) -> (Shopper, String, String) {
    let mut shopper = Shopper::new(&app.address);
    shopper.add_to_cart("seramik-kupa").await;
    let pay = shopper.checkout().await;
    let oid = hidden_fields(&pay.html)["merchant_oid"].clone();
    let three_d = shopper.pay(&pay.html, VISA, false).await;
    shopper.answer_3d(&three_d, true).await;
    let page = format!("/orders/{}", order_id(&pay.url));
    shopper.wait_for_order_status(&page, "status_paid").await;
    (shopper, page, oid)
}

async fn refund_of(billing: &Billing, oid: &str, kurus: i64) -> Result<Refund, RefundRefused> {
    let oid = MerchantOid::parse(oid).expect("oid");
    let request = RefundRequest {
        merchant_oid: &oid,
        amount: Money::from_kurus(kurus).expect("amount"),
        reason: "customer asked",
        requested_by: "test",
    };
    refund(&billing.db, &billing.paytr, request).await
}

/// What the sandbox (PayTR) refunded on `oid`, in kuruş.
fn refunded_at_paytr(app: &TestApp, oid: &str) -> Vec<i64> {
    let sandbox = app.sandbox.as_ref().expect("sandbox");
    sandbox.read(|s| {
        s.payment(oid)
            .map(|p| p.refunds.iter().map(|r| r.amount_kurus).collect())
            .unwrap_or_default()
    })
}

#[tokio::test]
async fn a_partial_then_a_full_refund_are_sent_once_each_and_the_shopper_sees_them() {
    let app = spawn_app().await;
    let (mut shopper, page, oid) = paid_order(&app).await;
    let billing = engine(&app).await;

    let part = refund_of(&billing, &oid, 5000).await.expect("refunded");
    assert_eq!(part.status, RefundStatus::Succeeded, "{part:?}");
    assert!(part.reference_no.starts_with("RF") && part.reference_no.len() <= 64);
    let shown = shopper.get(&page).await;
    assert!(shown.html.contains("id=\"refunds\""), "{}", shown.html);
    assert!(
        shown.html.contains("İade edildi") && shown.html.contains("−50,00 TL"),
        "{}",
        shown.html
    );
    assert!(!shown.html.contains("id=\"refunded-in-full\""));

    let too_much = refund_of(&billing, &oid, 13001).await;
    assert!(
        matches!(&too_much, Err(RefundRefused::TooMuch { left }) if left == "130.00"),
        "{too_much:?}"
    );
    let rest = refund_of(&billing, &oid, 13000).await.expect("refunded");
    assert_eq!(rest.status, RefundStatus::Succeeded);
    assert_eq!(refunded_at_paytr(&app, &oid), [5000, 13000]);
    let shown = shopper.get(&page).await;
    assert!(
        shown.html.contains("id=\"refunded-in-full\""),
        "{}",
        shown.html
    );
    assert!(matches!(
        refund_of(&billing, &oid, 1).await,
        Err(RefundRefused::TooMuch { .. })
    ));
    assert!(matches!(
        refund_of(&billing, "NOSUCHORDER1", 100).await,
        Err(RefundRefused::NotPaid(_))
    ));
}

#[tokio::test]
async fn two_refunds_at_once_on_two_instances_never_exceed_the_payment() {
    let app = spawn_app().await;
    let (_, _, oid) = paid_order(&app).await;
    // Two engines, each with its own connection pool: two instances of the app.
    let (one, two) = (engine(&app).await, engine(&app).await);

    let (a, b) = tokio::join!(refund_of(&one, &oid, 12000), refund_of(&two, &oid, 12000));

    let succeeded = [&a, &b]
        .iter()
        .filter(|r| matches!(r, Ok(r) if r.status == RefundStatus::Succeeded))
        .count();
    let refused = [&a, &b]
        .iter()
        .filter(|r| matches!(r, Err(RefundRefused::TooMuch { .. })))
        .count();
    assert_eq!((succeeded, refused), (1, 1), "{a:?} {b:?}");
    assert_eq!(
        refunded_at_paytr(&app, &oid),
        [12000],
        "PayTR was asked once"
    );
}

#[tokio::test]
async fn a_refund_paytr_refuses_is_failed_in_words_and_frees_the_amount() {
    let app = spawn_app().await;
    let (mut shopper, page, oid) = paid_order(&app).await;
    let sandbox = app.sandbox.clone().expect("sandbox");
    let knobs = sandbox.knobs();
    sandbox.set_knobs(Knobs {
        refund_error: Some("010".into()),
        ..knobs.clone()
    });
    let billing = engine(&app).await;

    let refused = refund_of(&billing, &oid, 18000).await.expect("recorded");

    assert_eq!(refused.status, RefundStatus::Failed);
    assert_eq!(refused.err_no.as_deref(), Some("010"));
    assert!(refused.message.is_some_and(|m| m.contains("bakiye")));
    assert!(
        !shopper.get(&page).await.html.contains("id=\"refunds\""),
        "a failed refund is not shown"
    );
    sandbox.set_knobs(knobs);
    let full = refund_of(&billing, &oid, 18000).await.expect("refunded");
    assert_eq!(
        full.status,
        RefundStatus::Succeeded,
        "the failed refund's amount is free again"
    );
}

#[tokio::test]
async fn a_lost_refund_answer_is_settled_by_status_inquiry_and_never_sent_again() {
    let app = spawn_app_with(&[("PAYTR_TIMEOUT_MS", "400")]).await;
    let (mut shopper, page, oid) = paid_order(&app).await;
    let sandbox = app.sandbox.clone().expect("sandbox");
    let knobs = sandbox.knobs();
    sandbox.set_knobs(Knobs {
        refund_fault: Fault::Lost,
        ..knobs.clone()
    });
    let billing = engine(&app).await;

    let lost = refund_of(&billing, &oid, 7000).await.expect("recorded");

    assert_eq!(lost.status, RefundStatus::Unknown, "{lost:?}");
    assert!(shopper.get(&page).await.html.contains("İade işleniyor"));
    assert!(
        matches!(
            refund_of(&billing, &oid, 11001).await,
            Err(RefundRefused::TooMuch { .. })
        ),
        "an unknown refund keeps its amount reserved"
    );
    sandbox.set_knobs(knobs);
    let now = paytr_checkout::db::unix_now();
    let early = billing.run_due(now).await.expect("pass");
    assert_eq!(
        early.refunds_settled, 0,
        "not asked before the reconcile window"
    );
    let summary = billing.run_due(now + 3600).await.expect("pass");
    assert_eq!(summary.refunds_settled, 1, "{summary:?}");
    let settled = app
        .db_run({
            let reference = lost.reference_no.clone();
            move |conn| Refund::find_by_reference(conn, &reference)
        })
        .await
        .expect("row");
    assert_eq!(settled.status, RefundStatus::Succeeded);
    assert_eq!(refunded_at_paytr(&app, &oid), [7000], "sent once");
    assert_eq!(
        billing
            .run_due(now + 7200)
            .await
            .expect("pass")
            .refunds_settled,
        0
    );
    assert!(shopper.get(&page).await.html.contains("İade edildi"));
}

#[tokio::test]
async fn an_unknown_renewal_with_no_notification_is_settled_by_status_inquiry() {
    let app = spawn_app_with(&[("PAYTR_TIMEOUT_MS", "400")]).await;
    let (_, id) = subscriber(&app, "reconcile@example.com", VISA).await;
    let sandbox = app.sandbox.clone().expect("sandbox");
    let knobs = sandbox.knobs();
    sandbox.set_knobs(Knobs {
        recurring_fault: Fault::Lost,
        ..knobs.clone()
    });
    let billing = engine(&app).await;
    let due = subscription(&app, id).await.next_charge_at;

    let first = billing.run_due(due + 60).await.expect("pass");
    assert_eq!(first.unknown, 1, "{first:?}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        subscription(&app, id).await.periods_paid,
        1,
        "no notification came"
    );
    sandbox.set_knobs(knobs);

    let later = billing.run_due(due + 60 + 3600).await.expect("pass");

    assert_eq!(later.reconciled, 1, "{later:?}");
    assert_eq!(subscription(&app, id).await.periods_paid, 2);
    let statuses: Vec<_> = attempts(&app, id)
        .await
        .iter()
        .map(|a| a.status.code())
        .collect();
    assert_eq!(statuses, ["succeeded"]);
    assert_eq!(recurring_payments(&app), 1, "charged once");
    let again = billing.run_due(due + 60 + 7200).await.expect("pass");
    assert_eq!((again.reconciled, again.charged), (0, 0), "{again:?}");
}

#[tokio::test]
async fn the_refund_command_prints_the_outcome() {
    let app = spawn_app().await;
    let (_, _, oid) = paid_order(&app).await;
    // Off the test's runtime, which keeps serving the shop and its sandbox.
    let run = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_paytr-checkout"));
        command
            .args(args)
            .env_clear()
            .envs(app.env.iter().filter(|(k, _)| k.as_str() != "BIND"))
            .env("LOG", "warn");
        async move {
            tokio::task::spawn_blocking(move || command.output())
                .await
                .expect("joined")
                .expect("binary runs")
        }
    };
    let done = run(&["refund", &oid, "20.50", "--reason", "broken in transit"]).await;
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(stdout.contains("of 20.50 TL: succeeded"), "{stdout}");

    let too_much = run(&["refund", &oid, "180"]).await;
    assert_eq!(too_much.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&too_much.stderr).contains("only 159.50 can still be refunded"),
        "{}",
        String::from_utf8_lossy(&too_much.stderr)
    );
    let bad = run(&["refund", &oid, "abc"]).await;
    assert_eq!(bad.status.code(), Some(2), "clap refuses a bad amount");
    assert_eq!(refunded_at_paytr(&app, &oid), [2050]);
}
