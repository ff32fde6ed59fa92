//! A `utoken` that comes back in a notification is bound only when our records prove it is the
//! shopper's: PayTR's `paytr_token` signs neither `utoken` nor `store_card`.

use super::{count, signed_up};
use crate::helpers::{TestApp, spawn_app};
use crate::sandbox_harness::VISA;
use crate::shopper::{Shopper, form_inputs, hidden_fields, order_id};
use paytr_checkout::paytr::Notification;

const MASTERCARD: &str = "5406675406675403";

async fn utoken_bound(app: &TestApp, email: &'static str) -> bool {
    let sql: &'static str = match email {
        "victim@example.com" => {
            "SELECT COUNT(*) AS n FROM users WHERE email = 'victim@example.com' AND utoken_sealed IS NOT NULL"
        }
        _ => {
            "SELECT COUNT(*) AS n FROM users WHERE email = 'other@example.com' AND utoken_sealed IS NOT NULL"
        }
    };
    count(app, sql).await == 1
}

async fn utoken_events(app: &TestApp) -> i64 {
    count(
        app,
        "SELECT COUNT(*) AS n FROM security_events WHERE kind = 'utoken_refused'",
    )
    .await
}

#[tokio::test]
async fn the_takeover_replayed_binds_nothing_and_the_victims_cards_stay_out_of_reach() {
    let app = spawn_app().await;
    let mut attacker = signed_up(&app, "attacker@example.com").await;
    attacker.buy_and_save("lokum", VISA).await;
    let attackers_utoken = app.sandbox_utokens()[0].clone();
    let mut victim = signed_up(&app, "victim@example.com").await;
    victim.add_to_cart("lokum").await;
    let victims_form = victim.checkout().await;

    // The attacker got hold of the victim's signed form and posts it to PayTR with
    // store_card=1 and their own utoken: PayTR's token covers neither, so it goes through.
    let (action, mut fields) = form_inputs(&victims_form.html, "id=\"payment-form\"");
    for (k, v) in [
        ("cc_owner", "ATTACKER"),
        ("card_number", MASTERCARD),
        ("expiry_month", "12"),
        ("expiry_year", "30"),
        ("cvv", "000"),
        ("store_card", "1"),
        ("utoken", attackers_utoken.as_str()),
    ] {
        fields.push((k.into(), v.into()));
    }
    let three_d = attacker.post_raw(&action, &fields).await;
    attacker.answer_3d(&three_d, true).await;
    victim
        .wait_for_order_status(
            &format!("/orders/{}", order_id(&victims_form.url)),
            "status_paid",
        )
        .await;

    assert!(
        !utoken_bound(&app, "victim@example.com").await,
        "the attacker's utoken is not the victim's"
    );
    assert_eq!(utoken_events(&app).await, 1, "recorded as a security event");

    // The victim saves a card of their own later: it lands under a utoken of their own.
    victim.buy_and_save("lokum", "9792030394440796").await;
    let attackers_cards = attacker.get("/account/cards").await.html;
    let victims_cards = victim.get("/account/cards").await.html;
    assert!(
        !attackers_cards.contains("0796"),
        "the victim's card is out of the attacker's reach"
    );
    assert!(victims_cards.contains("0796") && !victims_cards.contains("4358"));
    assert!(utoken_bound(&app, "victim@example.com").await);
}

fn signed(app: &TestApp, oid: &str, total: &str, utoken: &str) -> Notification {
    let mut n = Notification {
        merchant_oid: oid.into(),
        status: "success".into(),
        total_amount: total.into(),
        currency: Some("TL".into()),
        payment_amount: Some(total.into()),
        test_mode: Some("1".into()),
        utoken: Some(paytr_checkout::paytr::Token::new(utoken)),
        ..Default::default()
    };
    n.sign(app.sandbox.as_ref().expect("sandbox").credentials());
    n
}

async fn notify(app: &TestApp, n: &Notification) -> String {
    app.http
        .post(format!("{}/paytr/notify", app.address))
        .form(&n.to_pairs())
        .send()
        .await
        .expect("answer")
        .text()
        .await
        .expect("body")
}

#[tokio::test]
async fn a_utoken_for_a_guest_or_a_shopper_who_has_one_is_refused_but_the_payment_stands() {
    let app = spawn_app().await;
    let mut guest = Shopper::new(&app.address);
    guest.add_to_cart("lokum").await;
    let guest_pay = guest.checkout().await;
    let mut other = signed_up(&app, "other@example.com").await;
    other.buy_and_save("lokum", VISA).await;
    other.add_to_cart("lokum").await;
    let other_pay = other.checkout().await;

    let guest_oid = hidden_fields(&guest_pay.html)["merchant_oid"].clone();
    let other_oid = hidden_fields(&other_pay.html)["merchant_oid"].clone();
    let answers = (
        notify(&app, &signed(&app, &guest_oid, "9990", "UTstranger1")).await,
        notify(&app, &signed(&app, &other_oid, "9990", "UTstranger2")).await,
    );

    assert_eq!(answers, ("OK".to_owned(), "OK".to_owned()));
    guest
        .wait_for_order_status(
            &format!("/orders/{}", order_id(&guest_pay.url)),
            "status_paid",
        )
        .await;
    other
        .wait_for_order_status(
            &format!("/orders/{}", order_id(&other_pay.url)),
            "status_paid",
        )
        .await;
    assert_eq!(utoken_events(&app).await, 2);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM users WHERE utoken_sealed IS NOT NULL"
        )
        .await,
        1,
        "only the shopper's own utoken, from their own first card"
    );
    assert!(
        other.get("/account/cards").await.html.contains("4358"),
        "the shopper's own card list is untouched"
    );
}

#[tokio::test]
async fn one_utoken_can_belong_to_one_shopper_only_in_the_database() {
    let app = spawn_app().await;
    signed_up(&app, "a@example.com").await;
    signed_up(&app, "b@example.com").await;

    let first = app
        .db_run(|conn| {
            Ok(diesel::RunQueryDsl::execute(
                diesel::sql_query(
                    "UPDATE users SET utoken_sealed = 'v1.x', utoken_hash = 'same' WHERE email = 'a@example.com'",
                ),
                conn,
            )
            .is_ok())
        })
        .await;
    let second = app
        .db_run(|conn| {
            Ok(diesel::RunQueryDsl::execute(
                diesel::sql_query(
                    "UPDATE users SET utoken_sealed = 'v1.y', utoken_hash = 'same' WHERE email = 'b@example.com'",
                ),
                conn,
            )
            .is_ok())
        })
        .await;

    assert!(
        first && !second,
        "the unique index refuses the second holder"
    );
}
