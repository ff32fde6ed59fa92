//! The shopper's first journey over HTTP, against the embedded sandbox or a standalone one.

use crate::helpers::notification_outcomes;
use crate::helpers::{TestApp, spawn_app, spawn_live_app};
use crate::sandbox_harness::{VISA, start_sandbox};
use crate::shopper::{Shopper, hidden_fields, order_id};
use paytr_checkout::db::models::{Order, PaymentAttempt, User};
use paytr_checkout::paytr::Token;

async fn db_query<T: Send + 'static>(
    app: &TestApp,
    f: impl FnOnce(&mut paytr_checkout::db::DbConnection) -> Result<T, paytr_checkout::db::DbError>
    + Send
    + 'static,
) -> T {
    app.db_run(f).await
}

async fn attempt_of(app: &TestApp, public_id: &str) -> (Order, PaymentAttempt) {
    let id = public_id.to_owned();
    db_query(app, move |conn| {
        let order = Order::find_by_public_id(conn, &id)?.expect("order");
        let attempt = PaymentAttempt::latest_for_order(conn, order.id)?.expect("attempt");
        Ok((order, attempt))
    })
    .await
}

#[tokio::test]
async fn a_guest_buys_with_a_test_card_through_the_3d_page_and_the_order_is_paid() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);

    shopper.add_to_cart("seramik-kupa").await;
    let pay = shopper.checkout().await;
    assert_eq!(pay.status, 200, "{}", pay.html);
    let fields = hidden_fields(&pay.html);
    assert!(
        !pay.html.contains("name=\"store_card\""),
        "guests are not offered to save a card"
    );
    assert!(!fields.contains_key("utoken"));
    assert_eq!(fields["payment_amount"], "180.00");
    assert_eq!(
        fields["merchant_ok_url"],
        format!("{}/orders/{}/ok", app.address, order_id(&pay.url))
    );
    let three_d = shopper.pay(&pay.html, VISA, false).await;
    let (order, attempt) = attempt_of(&app, &order_id(&pay.url)).await;
    assert_eq!(
        (order.status.code(), attempt.status.code()),
        ("pending", "pending"),
        "not paid before the bank and PayTR said so"
    );

    let back = shopper.answer_3d(&three_d, true).await;

    assert!(back.url.contains("/ok"), "{}", back.url);
    let paid = shopper
        .wait_for_order_status(&format!("/orders/{}", order_id(&pay.url)), "status_paid")
        .await;
    assert!(paid.html.contains("Ödendi"));
}

#[tokio::test]
async fn the_order_is_paid_only_when_the_notification_arrives() {
    let sandbox = start_sandbox().await;
    let app = spawn_live_app(&sandbox.url, &[("PAYTR_TEST_MODE", "1")]).await;
    let mut shopper = Shopper::new(&app.address);
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;
    let three_d = shopper.pay(&pay.html, VISA, false).await;

    let back = shopper.answer_3d(&three_d, true).await;
    assert!(
        back.html.contains("id=\"order-confirming\""),
        "the return page only says confirming: {}",
        back.html
    );
    assert!(
        back.html.contains("id=\"order-wait\" data-poll"),
        "it asks again by itself"
    );
    assert!(
        !back.html.contains("http-equiv=\"refresh\""),
        "no endless meta refresh"
    );
    let (order, _) = attempt_of(&app, &order_id(&pay.url)).await;
    assert_eq!(
        order.status.code(),
        "pending",
        "the browser's return proves nothing"
    );
    let notification = sandbox.notifications(1).await.remove(0);
    let response = app
        .http
        .post(format!("{}/paytr/notify", app.address))
        .form(&notification)
        .send()
        .await
        .expect("notify");

    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.expect("body"), "OK");
    let (order, attempt) = attempt_of(&app, &order_id(&pay.url)).await;
    assert_eq!(
        (order.status.code(), attempt.status.code()),
        ("paid", "paid")
    );
}

#[tokio::test]
async fn a_signed_in_shopper_saves_the_card_and_only_a_sealed_utoken_is_stored() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.register("saver@example.com").await;
    shopper.add_to_cart("pestemal").await;
    let pay = shopper.checkout().await;
    assert!(
        pay.html.contains("name=\"store_card\""),
        "the save checkbox is offered"
    );
    assert!(
        !hidden_fields(&pay.html).contains_key("utoken"),
        "a first card sends no utoken"
    );

    let three_d = shopper.pay(&pay.html, VISA, true).await;
    shopper.answer_3d(&three_d, true).await;
    shopper
        .wait_for_order_status(&format!("/orders/{}", order_id(&pay.url)), "status_paid")
        .await;

    let user = db_query(&app, |conn| {
        Ok(User::find_by_email(conn, "saver@example.com")?.expect("user"))
    })
    .await;
    let sealed = user
        .utoken_sealed
        .expect("the utoken from the notification is stored");
    let sandbox = app.sandbox_utokens();
    assert_eq!(sandbox.len(), 1);
    assert!(
        !sealed.contains(&sandbox[0]),
        "stored sealed, not in the clear"
    );
    assert_no_card_data_in_database(&app, &sandbox[0]).await;

    // The second card joins the same PayTR user: the payment page now sends the utoken.
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;
    assert_eq!(hidden_fields(&pay.html).get("utoken"), Some(&sandbox[0]));
    let three_d = shopper.pay(&pay.html, "5406675406675403", true).await;
    shopper.answer_3d(&three_d, true).await;
    shopper
        .wait_for_order_status(&format!("/orders/{}", order_id(&pay.url)), "status_paid")
        .await;
    let cards = app.sandbox_cards_of(&Token::new(sandbox[0].clone()));
    assert_eq!(cards, 2, "both cards under one utoken");
}

/// Every table's rows as text (SQLite: the file and its WAL, byte for byte; PostgreSQL: each
/// row as JSON), searched for card data and the raw utoken.
async fn assert_no_card_data_in_database(app: &TestApp, utoken: &str) {
    let text = match app.db.url.strip_prefix("sqlite://") {
        Some(path) => {
            let mut bytes = std::fs::read(path).unwrap_or_default();
            bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
            String::from_utf8_lossy(&bytes).into_owned()
        }
        None => {
            #[derive(diesel::QueryableByName)]
            struct Row {
                #[diesel(sql_type = diesel::sql_types::Text)]
                row: String,
            }
            db_query(app, |conn| {
                use diesel::RunQueryDsl;
                let mut all = String::new();
                for table in [
                    "users",
                    "sessions",
                    "orders",
                    "payment_attempts",
                    "notifications",
                    "subscriptions",
                    "charge_attempts",
                ] {
                    let rows: Vec<Row> = diesel::sql_query(format!(
                        "SELECT row_to_json(t)::text AS row FROM {table} t"
                    ))
                    .load(conn)?;
                    all.extend(rows.into_iter().map(|r| r.row));
                }
                Ok(all)
            })
            .await
        }
    };
    assert!(text.len() > 100, "the database was read");
    for secret in [VISA, "5406675406675403", "KART SAHIBI", utoken] {
        assert!(!text.contains(secret), "{secret} found in the database");
    }
}

#[tokio::test]
async fn a_declined_card_shows_paytr_reason_and_a_retry_uses_a_new_merchant_oid() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.add_to_cart("turk-kahvesi").await;
    let pay = shopper.checkout().await;
    let first_oid = hidden_fields(&pay.html)["merchant_oid"].clone();
    let three_d = shopper.pay(&pay.html, "4355080000000013", false).await;

    let back = shopper.answer_3d(&three_d, true).await;

    assert!(back.url.contains("/fail"), "{}", back.url);
    assert_eq!(back.status, 200, "the owner's browser sees its order");
    let failed = shopper
        .wait_for_order_status(&format!("/orders/{}", order_id(&pay.url)), "status_failed")
        .await;
    assert!(failed.html.contains("id=\"retry\""));
    assert!(
        failed
            .html
            .contains("Kartınızın limiti bu ödeme için yeterli değil")
            && !failed.html.contains("Kart limiti yetersiz."),
        "our words for the bank's reason (insufficient limit), never its own text: {}",
        failed.html
    );
    shopper.last_html = failed.html;
    let again = shopper
        .post(&format!("/orders/{}/retry", order_id(&pay.url)), &[])
        .await;
    let second_oid = hidden_fields(&again.html)["merchant_oid"].clone();
    assert_ne!(first_oid, second_oid);
    let three_d = shopper.pay(&again.html, VISA, false).await;
    shopper.answer_3d(&three_d, true).await;
    shopper
        .wait_for_order_status(&format!("/orders/{}", order_id(&pay.url)), "status_paid")
        .await;
}

#[tokio::test]
async fn the_fail_page_shows_our_words_never_text_from_the_browser() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;

    let page = shopper
        .post_raw(
            &format!("/orders/{}/fail", order_id(&pay.url)),
            &[(
                "fail_message".into(),
                "<script>alert(1)</script> Call +90 555 000 00 00 to pay".into(),
            )],
        )
        .await;
    let query = shopper
        .get(&format!(
            "/orders/{}/fail?fail_message=Call%20us%20to%20pay",
            order_id(&pay.url)
        ))
        .await;

    assert_eq!((page.status, query.status), (200, 200));
    for html in [&page.html, &query.html] {
        assert!(
            !html.contains("alert(1)") && !html.contains("Call"),
            "{html}"
        );
        assert!(html.contains("Ödeme tamamlanmadı."), "{html}");
    }
}

#[tokio::test]
async fn billing_errors_are_shown_beside_their_fields_and_values_are_kept() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.add_to_cart("lokum").await;
    shopper.get("/checkout").await;

    let page = shopper
        .post(
            "/checkout",
            &[
                ("full_name", "Ayşe"),
                ("email", "not-an-email"),
                ("phone", "x"),
                ("address", "Kadıköy"),
                ("accept_terms", "1"),
            ],
        )
        .await;

    assert_eq!(page.status, 422);
    assert!(page.html.contains("id=\"email-error\"") && page.html.contains("id=\"phone-error\""));
    assert!(!page.html.contains("id=\"full_name-error\""));
    assert!(page.html.contains("value=\"not-an-email\"") && page.html.contains("Kadıköy"));
    let orders = db_query(&app, |conn| {
        Ok(PaymentAttempt::find_by_merchant_oid(conn, "x")?.is_none())
    })
    .await;
    assert!(orders);
}

#[tokio::test]
async fn card_data_posted_to_us_is_refused() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.add_to_cart("lokum").await;
    shopper.get("/checkout").await;

    let posted = shopper
        .post(
            "/checkout",
            &[("full_name", "A"), ("card_number", VISA), ("cvv", "000")],
        )
        .await;
    let in_url = shopper.get(&format!("/?card_number={VISA}")).await;

    assert_eq!(posted.status, 400);
    assert_eq!(in_url.status, 400);
    assert!(!posted.html.contains(VISA));
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.get("/").await;

    let page = shopper
        .post_raw("/cart/add", &[("slug".into(), "lokum".into())])
        .await;
    let forged = shopper
        .post_raw(
            "/cart/add",
            &[
                ("slug".into(), "lokum".into()),
                ("csrf_token".into(), "guess".into()),
            ],
        )
        .await;

    assert_eq!((page.status, forged.status), (403, 403));
    assert!(
        !shopper.get("/cart").await.html.contains("badge"),
        "nothing was added"
    );
}

#[tokio::test]
async fn pages_carry_the_security_headers() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.add_to_cart("lokum").await;

    let response = app
        .http
        .get(format!("{}/", app.address))
        .send()
        .await
        .expect("home");
    let checkout = shopper
        .http
        .get(format!("{}/checkout", app.address))
        .send()
        .await
        .expect("checkout");

    let csp = response.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    for part in [
        "script-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(response.headers().contains_key("referrer-policy"));
    assert_eq!(checkout.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn the_language_switch_changes_the_pages_and_client_lang() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);

    let home = shopper.get("/?lang=en").await;
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;

    assert!(home.html.contains("<html lang=\"en\">") && home.html.contains("Add to cart"));
    assert_eq!(hidden_fields(&pay.html)["client_lang"], "en");
    assert!(pay.html.contains("Card number"));
}

#[tokio::test]
async fn prices_come_from_the_catalogue_not_the_browser() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.get("/").await;

    shopper
        .post(
            "/cart/add",
            &[
                ("slug", "lokum"),
                ("quantity", "2"),
                ("price", "0.01"),
                ("price_kurus", "1"),
            ],
        )
        .await;
    let pay = shopper.checkout().await;

    assert_eq!(hidden_fields(&pay.html)["payment_amount"], "199.80");
}

#[tokio::test]
async fn the_whole_journey_works_on_the_configured_backend() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.register("backend@example.com").await;
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;
    let three_d = shopper.pay(&pay.html, VISA, true).await;
    shopper.answer_3d(&three_d, true).await;
    shopper
        .wait_for_order_status(&format!("/orders/{}", order_id(&pay.url)), "status_paid")
        .await;

    let account = shopper.get("/account").await;

    assert!(account.html.contains(&order_id(&pay.url)));
    let oid = hidden_fields(&pay.html)["merchant_oid"].clone();
    let outcomes = db_query(&app, move |conn| notification_outcomes(conn, &oid)).await;
    assert_eq!(outcomes, ["paid"]);
}

#[tokio::test]
async fn the_cart_survives_until_the_payment_is_confirmed() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.add_to_cart("seramik-kupa").await;
    let pay = shopper.checkout().await;

    let back = shopper.get("/cart").await;
    assert!(
        back.html.contains("Seramik kupa"),
        "the cart is kept while paying: {}",
        back.html
    );
    let rejected = shopper.pay(&pay.html, VISA, false).await;
    shopper.answer_3d(&rejected, false).await;
    shopper
        .wait_for_order_status(&format!("/orders/{}", order_id(&pay.url)), "status_failed")
        .await;
    let after_failure = shopper.get("/cart").await;
    assert!(
        after_failure.html.contains("Seramik kupa"),
        "kept after a failure"
    );

    let retry = shopper
        .post(&format!("/orders/{}/retry", order_id(&pay.url)), &[])
        .await;
    let three_d = shopper.pay(&retry.html, VISA, false).await;
    shopper.answer_3d(&three_d, true).await;
    shopper
        .wait_for_order_status(&format!("/orders/{}", order_id(&pay.url)), "status_paid")
        .await;
    shopper
        .get(&format!("/orders/{}", order_id(&pay.url)))
        .await;
    let emptied = shopper.get("/cart").await;
    assert!(
        emptied.html.contains("Sepetiniz boş"),
        "emptied once paid: {}",
        emptied.html
    );
}
