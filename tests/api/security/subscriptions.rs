//! Money integrity of subscriptions: active only through a paid period, each period paid once.

use super::{count, signed_up};
use crate::billing::{engine, recurring_payments, subscriber, subscription};
use crate::helpers::spawn_app;
use crate::sandbox_harness::VISA;
use paytr_checkout::db::subscriptions::{NewChargeAttempt, Subscription};

const CLOSED: &str = "4355080000000054";
const CVV_CARD: &str = "5406670000000074";

fn first_card_reference(cards_page: &str) -> String {
    cards_page
        .split("id=\"delete-")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a saved card")
        .to_owned()
}

#[tokio::test]
async fn changing_the_card_never_activates_an_unpaid_subscription() {
    let app = spawn_app().await;
    let mut shopper = signed_up(&app, "unpaid@example.com").await;
    shopper.buy_and_save("lokum", VISA).await;
    let reference = first_card_reference(&shopper.get("/account/cards").await.html);
    shopper.get("/subscribe/kahve-kulubu").await;
    shopper
        .post(
            "/subscribe/kahve-kulubu",
            &[
                ("full_name", "Ayşe Yılmaz"),
                ("email", "unpaid@example.com"),
                ("phone", "0555 111 22 33"),
                ("address", "Kadıköy, İstanbul"),
                ("accept_terms", "1"),
                ("consent", "1"),
            ],
        )
        .await;
    let id = app
        .db_run(|conn| {
            let user = paytr_checkout::db::models::User::find_by_email(conn, "unpaid@example.com")?
                .expect("user");
            Ok(Subscription::list_for_user(conn, user.id)?[0].id)
        })
        .await;

    shopper.get("/account").await;
    shopper
        .post(
            &format!("/account/subscriptions/{id}/card"),
            &[("card", reference.as_str())],
        )
        .await;
    let summary = engine(&app)
        .await
        .run_due(paytr_checkout::db::unix_now() + 40 * 86_400)
        .await
        .expect("pass");

    assert_eq!(
        subscription(&app, id).await.status.code(),
        "pending_payment"
    );
    assert_eq!(summary.charged + summary.pending + summary.unknown, 0);
    assert_eq!(recurring_payments(&app), 0, "nothing charged off-session");
}

#[tokio::test]
async fn a_paid_period_is_never_charged_again_through_pay_now() {
    let app = spawn_app().await;
    let (mut shopper, id) = subscriber(&app, "cvvsub@example.com", CVV_CARD).await;
    let sub = subscription(&app, id).await;
    assert_eq!(
        (sub.status.code(), sub.periods_paid),
        ("needs_card", 1),
        "the paid period stands; only a card for the next renewal is missing"
    );
    let payments_before = app
        .sandbox
        .as_ref()
        .expect("sandbox")
        .read(|s| s.payments.len());

    let account = shopper.get("/account").await;
    assert!(!account.html.contains(&format!("id=\"pay-now-{id}\"")));
    let pressed = shopper
        .post(&format!("/account/subscriptions/{id}/pay"), &[])
        .await;

    assert!(!pressed.html.contains("payment-form"), "no payment page");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM orders").await, 1);
    let payments = app
        .sandbox
        .as_ref()
        .expect("sandbox")
        .read(|s| s.payments.len());
    assert_eq!(payments, payments_before);
}

#[tokio::test]
async fn pay_now_pressed_twice_or_at_once_makes_one_order() {
    let app = spawn_app().await;
    let (mut shopper, id) = subscriber(&app, "twice@example.com", CLOSED).await;
    let due = subscription(&app, id).await.next_charge_at;
    engine(&app).await.run_due(due + 60).await.expect("pass");
    assert_eq!(subscription(&app, id).await.status.code(), "past_due");
    shopper.get("/account").await;
    let csrf = shopper.csrf();
    let press = || {
        shopper
            .http
            .post(format!("{}/account/subscriptions/{id}/pay", app.address))
            .form(&[("csrf_token", csrf.as_str())])
            .send()
    };

    let (a, b) = tokio::join!(press(), press());
    let c = press().await;

    let urls: Vec<String> = [a, b, c]
        .into_iter()
        .map(|r| r.expect("answer").url().path().to_owned())
        .collect();
    assert!(
        urls.iter().all(|u| u.ends_with("/pay")) && urls[1..].iter().all(|u| *u == urls[0]),
        "one order to pay, whatever was pressed: {urls:?}"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM orders").await, 2);
}

#[tokio::test]
async fn the_database_refuses_a_second_paid_charge_for_one_period() {
    let app = spawn_app().await;
    let (_, id) = subscriber(&app, "constraint@example.com", VISA).await;

    let second = app
        .db_run(move |conn| {
            let now = paytr_checkout::db::unix_now();
            Ok(NewChargeAttempt {
                subscription_id: id,
                period: 1,
                attempt_no: 7,
                merchant_oid: "SUBxP1A7",
                amount_kurus: 14_900,
                card_ref: "x",
                status: paytr_checkout::db::states::ChargeStatus::Succeeded,
                created_at: now,
                updated_at: now,
            }
            .insert(conn)
            .is_ok())
        })
        .await;

    assert!(!second, "period 1 is paid already");
}
