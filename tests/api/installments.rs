//! Installments end to end over HTTP: the BIN-only endpoint, the options from the stored
//! rates, a payment in 6 installments through the sandbox, and notifications that match no
//! signed offer.

use crate::helpers::{TestApp, eventually_async, spawn_app};
use crate::shopper::{Page, Shopper, form_inputs, hidden_fields, order_id};
use paytr_checkout::db::models::{Order, PaymentAttempt};
use paytr_checkout::paytr::Notification;
use serde_json::Value;

const WORLD: &str = "5406675406675403";

/// The token the payment page gives its script (`data-csrf`), else the last page's form's.
fn csrf_of(shopper: &Shopper) -> String {
    let html = &shopper.last_html;
    match html.find("data-csrf=\"") {
        Some(at) => html[at + 11..]
            .split('"')
            .next()
            .unwrap_or_default()
            .to_owned(),
        None => shopper.csrf(),
    }
}

async fn installments(shopper: &mut Shopper, id: &str, bin: &str) -> (u16, Value) {
    let csrf = csrf_of(shopper);
    let response = shopper
        .http
        .post(format!("{}/orders/{id}/installments", shopper.base))
        .form(&[("csrf_token", csrf.as_str()), ("bin", bin)])
        .send()
        .await
        .expect("answer");
    let status = response.status().as_u16();
    let body = response.text().await.expect("body");
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// A guest's order of three mugs (540,00 TL); the payment page.
async fn order(app: &TestApp) -> (Shopper, Page) {
    let mut shopper = Shopper::new(&app.address);
    for _ in 0..3 {
        shopper.add_to_cart("seramik-kupa").await;
    }
    let pay = shopper.checkout().await;
    assert!(pay.html.contains("id=\"installments\""), "{}", pay.html);
    (shopper, pay)
}

/// Waits for the rates fetched at start, then asks for a World card's options.
async fn world_options(shopper: &mut Shopper, id: &str) -> Value {
    for _ in 0..100 {
        let (status, answer) = installments(shopper, id, &WORLD[..6]).await;
        assert_eq!(status, 200, "{answer}");
        if answer["options"].as_array().is_some_and(|o| o.len() > 1) {
            return answer;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no installment options: rates never stored");
}

async fn attempt(app: &TestApp, id: &str) -> (Order, PaymentAttempt) {
    let id = id.to_owned();
    app.db_run(move |conn| {
        let order = Order::find_by_public_id(conn, &id)?.expect("order");
        let attempt = PaymentAttempt::latest_for_order(conn, order.id)?.expect("attempt");
        Ok((order, attempt))
    })
    .await
}

#[tokio::test]
async fn six_installments_on_a_world_card_are_signed_by_us_and_paid_at_the_total_with_interest() {
    let app = spawn_app().await;
    let (mut shopper, pay) = order(&app).await;
    let id = order_id(&pay.url);
    let answer = world_options(&mut shopper, &id).await;
    assert_eq!(answer["family"], "world");
    assert_eq!(answer["bank"], "Yapı Kredi");
    let options = answer["options"].as_array().expect("options");
    let counts: Vec<u64> = options.iter().filter_map(|o| o["count"].as_u64()).collect();
    assert_eq!(counts, [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    let six = options.iter().find(|o| o["count"] == 6).expect("6");
    // 540,00 TL with the sandbox's 6.03 % for World ×6: 572,562 → 572,57 (rounded up).
    assert_eq!(six["fields"]["payment_amount"], "572.57", "{six}");
    assert_eq!(six["fields"]["installment_count"], "6");
    assert_eq!(six["fields"]["card_type"], "world");
    assert!(
        six["label"]
            .as_str()
            .is_some_and(|l| l.contains("6 taksit") && l.contains("572,57 TL"))
    );

    // The card form with the chosen option's fields, posted to PayTR (the sandbox).
    let (action, mut fields) = form_inputs(&pay.html, "id=\"payment-form\"");
    for (name, value) in six["fields"].as_object().expect("fields") {
        fields.retain(|(k, _)| k != name);
        fields.push((name.clone(), value.as_str().expect("text").to_owned()));
    }
    // (A lower amount with this token is refused by PayTR: tests/api/sandbox_payments.rs
    // tampers with every signed field.)
    for (k, v) in [
        ("cc_owner", "AYSE"),
        ("card_number", WORLD),
        ("expiry_month", "12"),
        ("expiry_year", "30"),
        ("cvv", "000"),
    ] {
        fields.push((k.into(), v.into()));
    }
    let three_d = shopper.post_raw(&action, &fields).await;
    shopper.answer_3d(&three_d, true).await;
    let paid = shopper
        .wait_for_order_status(&format!("/orders/{id}"), "status_paid")
        .await;
    assert!(paid.html.contains("status_paid"));
    let (_, paid_attempt) = attempt(&app, &id).await;
    assert_eq!(
        (
            paid_attempt.installment_count,
            paid_attempt.paid_total_kurus
        ),
        (6, Some(57_257))
    );
    let receipt = shopper.get(&format!("/orders/{id}/receipt")).await;
    assert!(
        receipt.html.contains("6 taksit") && receipt.html.contains("572,57 TL"),
        "{}",
        receipt.html
    );
    // The back office shows them too, and finds the order by its number.
    let totp = crate::admin::add_staff(&app, "owner@example.com", "owner").await;
    let mut staff = crate::admin::log_in(&app, "owner@example.com", &totp).await;
    let (order, _) = attempt(&app, &id).await;
    let found = staff
        .get(&format!("/admin/orders?q={}", order.number()))
        .await;
    assert!(
        found.html.contains(&format!("/admin/orders/{id}")),
        "{}",
        found.html
    );
    let page = staff.get(&format!("/admin/orders/{id}")).await;
    let line = page
        .html
        .split("id=\"order-payment\">")
        .nth(1)
        .and_then(|s| s.split("</dd>").next())
        .unwrap_or_default()
        .to_owned();
    assert!(
        line.contains("6 taksit") && line.contains("572,57 TL"),
        "{line}"
    );
}

#[tokio::test]
async fn business_foreign_and_debit_cards_get_a_single_payment_and_the_endpoint_takes_only_a_bin() {
    let app = spawn_app().await;
    let (mut shopper, pay) = order(&app).await;
    let id = order_id(&pay.url);
    world_options(&mut shopper, &id).await;
    // A business card, a foreign one, and a debit card (no taksit on debit cards).
    for bin in ["552608", "411111", "979203"] {
        let (status, answer) = installments(&mut shopper, &id, bin).await;
        assert_eq!(status, 200);
        let counts: Vec<u64> = answer["options"]
            .as_array()
            .expect("options")
            .iter()
            .filter_map(|o| o["count"].as_u64())
            .collect();
        assert!(
            counts.iter().all(|c| *c == 0),
            "{bin}: single payment only: {answer}"
        );
    }
    for bad in ["540667540", "54066", "5406675406675403", "abcdef"] {
        let (status, _) = installments(&mut shopper, &id, bad).await;
        assert_eq!(status, 400, "{bad}");
    }
    // Another shopper's order, and a post without the CSRF token.
    let mut stranger = Shopper::new(&app.address);
    stranger.get("/").await;
    let (status, _) = installments(&mut stranger, &id, "540667").await;
    assert_eq!(status, 404);
    let no_csrf = shopper
        .http
        .post(format!("{}/orders/{id}/installments", app.address))
        .form(&[("bin", "540667")])
        .send()
        .await
        .expect("answer");
    assert_eq!(no_csrf.status().as_u16(), 403);
}

#[tokio::test]
async fn a_notification_whose_installments_match_no_signed_offer_does_not_pay_the_order() {
    let app = spawn_app().await;
    let (mut shopper, pay) = order(&app).await;
    let id = order_id(&pay.url);
    let oid = hidden_fields(&pay.html)["merchant_oid"].clone();
    world_options(&mut shopper, &id).await;
    let creds = app.sandbox.as_ref().expect("sandbox").credentials().clone();
    let post = |n: Notification| {
        let http = app.http.clone();
        let url = format!("{}/paytr/notify", app.address);
        async move {
            http.post(url)
                .form(&n.to_pairs())
                .send()
                .await
                .expect("answer")
                .text()
                .await
                .expect("body")
        }
    };
    let notification = |count: &str, total: &str| {
        let mut n = Notification {
            merchant_oid: oid.clone(),
            status: "success".into(),
            total_amount: total.into(),
            currency: Some("TL".into()),
            installment_count: Some(count.into()),
            test_mode: Some("1".into()),
            ..Default::default()
        };
        n.sign(&creds);
        n
    };
    // 6 installments at the single payment's total: less than the offer signed for 6.
    assert_eq!(post(notification("6", "54000")).await, "OK");
    // 13 installments: never offered.
    assert_eq!(post(notification("13", "99999")).await, "OK");
    let (order, attempt) = attempt(&app, &id).await;
    assert_eq!(
        (order.status.code(), attempt.status.code()),
        ("pending", "pending")
    );
    // The offer's own total pays it.
    assert_eq!(post(notification("6", "57257")).await, "OK");
    eventually_async("the order to be paid", || async {
        (attempt_status(&app, &id).await == "paid").then_some(())
    })
    .await;
}

async fn attempt_status(app: &TestApp, id: &str) -> String {
    attempt(app, id).await.1.status.code().to_owned()
}

#[tokio::test]
async fn when_paytr_s_rates_are_down_the_stored_ones_are_still_offered() {
    use paytr_checkout::sandbox::knobs::{Fault, Knobs};
    let app = spawn_app().await;
    let (mut shopper, pay) = order(&app).await;
    let id = order_id(&pay.url);
    let before = world_options(&mut shopper, &id).await;

    let sandbox = app.sandbox.as_ref().expect("sandbox");
    sandbox.set_knobs(Knobs {
        rates_fault: Fault::Http500,
        ..sandbox.knobs()
    });
    let (paytr, _, _) = paytr_checkout::startup::command_clients(&app.settings).expect("clients");
    let db = paytr_checkout::db::Backend::from_url(&app.db.url)
        .expect("url")
        .pool(1)
        .expect("pool");
    let now = paytr_checkout::db::unix_now();
    let stored = paytr_checkout::installments::refresh_rates(&db, &paytr, now)
        .await
        .expect("no database error");
    assert_eq!(stored, 0, "PayTR answered 500: nothing replaced");

    let after = world_options(&mut shopper, &id).await;
    assert_eq!(
        after["options"], before["options"],
        "the stored rates are used"
    );
}

#[tokio::test]
async fn a_saved_world_card_is_offered_installments_without_javascript() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.register("saved-taksit@example.com").await;
    shopper.buy_and_save("lokum", WORLD).await;
    for _ in 0..3 {
        shopper.add_to_cart("seramik-kupa").await;
    }
    let mut pay = shopper.checkout().await;
    let reference = crate::shopper::saved_card_refs(&pay.html)
        .into_iter()
        .next()
        .expect("the saved card");
    let select = format!("name=\"installments_{reference}\"");
    for _ in 0..100 {
        if pay.html.contains(&select) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        pay = shopper.get(&pay.url).await;
    }
    assert!(pay.html.contains(&select), "{}", pay.html);
    assert!(pay.html.contains("3 taksit ×"));

    // A count the card was not offered is refused; nothing is signed for it.
    shopper.last_html = pay.html.clone();
    let field = format!("installments_{reference}");
    let refused = shopper
        .post(
            &format!("/orders/{}/saved", order_id(&pay.url)),
            &[("card", reference.as_str()), (field.as_str(), "13")],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.html);

    shopper.last_html = pay.html.clone();
    let hand_off = shopper
        .post(
            &format!("/orders/{}/saved", order_id(&pay.url)),
            &[("card", reference.as_str()), (field.as_str(), "3")],
        )
        .await;
    let fields: std::collections::HashMap<String, String> =
        form_inputs(&hand_off.html, "id=\"saved-card-form\"")
            .1
            .into_iter()
            .collect();
    // 540,00 TL × 1.03 (World ×3 in the sandbox) = 556,20 TL.
    assert_eq!(
        (
            fields["installment_count"].as_str(),
            fields["payment_amount"].as_str(),
            fields["card_type"].as_str()
        ),
        ("3", "556.20", "world")
    );
    let three_d = shopper.hand_off(&hand_off.html, None).await;
    shopper.answer_3d(&three_d, true).await;
    let id = order_id(&pay.url);
    shopper
        .wait_for_order_status(&format!("/orders/{id}"), "status_paid")
        .await;
    let (_, paid) = attempt(&app, &id).await;
    assert_eq!(
        (paid.installment_count, paid.paid_total_kurus),
        (3, Some(55_620))
    );
}

#[tokio::test]
async fn the_merchant_s_settings_bound_the_options_and_can_pay_the_interest() {
    let app = crate::helpers::spawn_app_with(&[
        ("INSTALLMENT_MAX", "3"),
        ("INSTALLMENT_INTEREST", "merchant"),
    ])
    .await;
    let (mut shopper, pay) = order(&app).await;
    let answer = world_options(&mut shopper, &order_id(&pay.url)).await;
    let options: Vec<(u64, String)> = answer["options"]
        .as_array()
        .expect("options")
        .iter()
        .map(|o| {
            let amount = o["fields"]["payment_amount"].as_str().unwrap_or_default();
            (o["count"].as_u64().unwrap_or(99), amount.to_owned())
        })
        .collect();
    assert_eq!(
        options,
        [(0, "540.00"), (2, "540.00"), (3, "540.00")].map(|(c, a)| (c, a.to_owned())),
        "at most 3, the merchant paying the interest"
    );

    let app = crate::helpers::spawn_app_with(&[("INSTALLMENT_MIN_AMOUNT", "1000.00")]).await;
    let (mut shopper, pay) = order(&app).await;
    let id = order_id(&pay.url);
    // The rates are stored (so a single option is the minimum's doing, not missing rates).
    eventually_async("the rates to be stored", || async {
        let stored: i64 = app
            .db_run(|conn| {
                use diesel::prelude::*;
                use paytr_checkout::db::schema::installment_rates;
                Ok(installment_rates::table.count().get_result(conn)?)
            })
            .await;
        (stored > 0).then_some(())
    })
    .await;
    let (_, answer) = installments(&mut shopper, &id, "540667").await;
    assert_eq!(
        answer["options"].as_array().map(Vec::len),
        Some(1),
        "below the minimum: single payment only: {answer}"
    );
}

#[tokio::test]
async fn a_saved_debit_card_is_paid_in_one_go() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.register("saved-debit@example.com").await;
    shopper.buy_and_save("lokum", "9792030394440796").await;
    shopper.buy_and_save("lokum", WORLD).await;
    for _ in 0..3 {
        shopper.add_to_cart("seramik-kupa").await;
    }
    let mut pay = shopper.checkout().await;
    // The page lists both cards once PayTR's list is in; the World card gets its options.
    for _ in 0..100 {
        if crate::shopper::saved_card_refs(&pay.html).len() == 2 && pay.html.contains("3 taksit ×")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        pay = shopper.get(&pay.url).await;
    }
    let refs = crate::shopper::saved_card_refs(&pay.html);
    assert_eq!(refs.len(), 2, "{}", pay.html);
    let selects = refs
        .iter()
        .filter(|r| pay.html.contains(&format!("name=\"installments_{r}\"")))
        .count();
    assert_eq!(
        selects, 1,
        "only the credit card has installments: {}",
        pay.html
    );
    let debit = refs
        .iter()
        .find(|r| !pay.html.contains(&format!("name=\"installments_{r}\"")))
        .expect("the debit card");
    // Asked for anyway (a crafted post): refused, nothing signed.
    shopper.last_html = pay.html.clone();
    let field = format!("installments_{debit}");
    let refused = shopper
        .post(
            &format!("/orders/{}/saved", order_id(&pay.url)),
            &[("card", debit.as_str()), (field.as_str(), "3")],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.html);
}

/// The rates a process keeps in memory are used only while the database names their version:
/// rates refreshed by another process (here a separate pool, as another instance's refresher)
/// reach the very next lookup.
#[tokio::test]
async fn refreshed_rates_are_offered_at_once_whoever_refreshed_them() {
    use paytr_checkout::sandbox::knobs::Knobs;
    let app = spawn_app().await;
    let (mut shopper, pay) = order(&app).await;
    let id = order_id(&pay.url);
    let before = world_options(&mut shopper, &id).await;
    assert_eq!(
        world_options(&mut shopper, &id).await,
        before,
        "held steady"
    );

    let sandbox = app.sandbox.as_ref().expect("sandbox");
    sandbox.set_knobs(Knobs {
        rates_raise_bp: 100,
        ..sandbox.knobs()
    });
    let (paytr, _, _) = paytr_checkout::startup::command_clients(&app.settings).expect("clients");
    let other_instance = paytr_checkout::db::Backend::from_url(&app.db.url)
        .expect("url")
        .pool(1)
        .expect("pool");
    let now = paytr_checkout::db::unix_now();
    let stored = paytr_checkout::installments::refresh_rates(&other_instance, &paytr, now)
        .await
        .expect("stored");
    assert!(stored > 0);

    let (_, after) = installments(&mut shopper, &id, &WORLD[..6]).await;
    let total_of = |answer: &Value, count: u64| {
        answer["options"]
            .as_array()
            .and_then(|o| o.iter().find(|o| o["count"] == count))
            .and_then(|o| o["total"].as_str().map(str::to_owned))
    };
    // 540,00 TL at World ×3: 3.00 % before, 4.00 % after.
    assert_eq!(
        total_of(&before, 3).as_deref(),
        Some("556,20 TL"),
        "{before}"
    );
    assert_eq!(total_of(&after, 3).as_deref(), Some("561,60 TL"), "{after}");
}
