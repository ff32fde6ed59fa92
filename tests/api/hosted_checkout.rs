//! The hosted checkout API (#16), black-box: a merchant's backend creates a session with its
//! key, a shopper pays it on our hosted page through the sandbox, and the merchant's receiver
//! gets a signed `checkout.completed` (checked here with an HMAC of its own), retried after it
//! failed twice.

use crate::helpers::{TestApp, eventually_async, spawn_app_with};
use crate::sandbox_harness::VISA;
use crate::shopper::{Shopper, order_id, saved_card_refs};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn app() -> TestApp {
    spawn_app_with(&[
        ("WEBHOOK_INTERVAL_MS", "100"),
        ("WEBHOOK_RETRY_BASE_SECS", "0"),
    ])
    .await
}

/// A key of `mode` allowing `origin`, made as `paytr-checkout api-key create` makes it.
async fn api_key(app: &TestApp, mode: &'static str, origin: String) -> String {
    app.db_run(move |conn| {
        paytr_checkout::api::keys::create(conn, "test shop", mode, &[origin]).map(|(_, k)| k)
    })
    .await
}

async fn call(
    app: &TestApp,
    key: &str,
    verb: reqwest::Method,
    path: &str,
    body: Option<Value>,
    idempotency: Option<&str>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = app
        .http
        .request(verb, format!("{}{path}", app.address))
        .bearer_auth(key);
    if let Some(k) = idempotency {
        request = request.header("Idempotency-Key", k);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let answer = request.send().await.expect("API answers");
    let (status, headers) = (answer.status().as_u16(), answer.headers().clone());
    let text = answer.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        headers,
    )
}

fn session_request(receiver: &str, customer_ref: &str) -> Value {
    json!({
        "line_items": [{"name": "Kahve aboneliği paketi", "quantity": 2, "unit_amount": 4550}],
        "currency": "TRY",
        "customer_ref": customer_ref,
        "customer": {"email": "musteri@example.com", "name": "Deniz Kaya", "phone": "0555 123 45 67",
                     "address": "Bağdat Cad. 5, Kadıköy, İstanbul"},
        "success_url": format!("{receiver}/thanks"),
        "cancel_url": format!("{receiver}/cart"),
        "metadata": {"merchant_order": "M-1001"}
    })
}

/// The shopper opens the session's URL, accepts the prefilled details and the contract;
/// returns the payment page.
async fn open_and_continue(shopper: &mut Shopper, url: &str) -> crate::shopper::Page {
    let form = shopper.get(url).await;
    assert_eq!(form.status, 200, "{}", form.html);
    assert!(
        form.html.contains("value=\"Deniz Kaya\""),
        "details are prefilled"
    );
    shopper
        .post(
            &url[url.find("/c/").expect("hosted path")..],
            &[
                ("full_name", "Deniz Kaya"),
                ("email", "musteri@example.com"),
                ("phone", "0555 123 45 67"),
                ("address", "Bağdat Cad. 5, Kadıköy, İstanbul"),
                ("accept_terms", "1"),
            ],
        )
        .await
}

/// Registers `receiver`'s `/hooks` for `events`; answers the endpoint (with its secret).
async fn register_hooks(app: &TestApp, key: &str, receiver: &str, events: &[&str]) -> Value {
    let (status, endpoint, _) = call(
        app,
        key,
        reqwest::Method::POST,
        "/api/v1/webhook-endpoints",
        Some(json!({"url": format!("{receiver}/hooks"), "events": events})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{endpoint}");
    endpoint
}

/// A session for `customer` returning to `receiver`.
async fn new_session(app: &TestApp, key: &str, receiver: &str, customer: &str) -> Value {
    let (status, session, _) = call(
        app,
        key,
        reqwest::Method::POST,
        "/api/v1/checkout-sessions",
        Some(session_request(receiver, customer)),
        None,
    )
    .await;
    assert_eq!(status, 201, "{session}");
    session
}

/// A new browser pays `session` with VISA (saving the card or not) and approves or rejects
/// 3-D Secure; answers the page it comes back to.
async fn pay_session(
    app: &TestApp,
    session: &Value,
    save: bool,
    approve: bool,
) -> crate::shopper::Page {
    let mut shopper = Shopper::new(&app.address);
    let pay = open_and_continue(&mut shopper, session["url"].as_str().expect("url")).await;
    let three_d = shopper.pay(&pay.html, VISA, save).await;
    shopper.answer_3d(&three_d, approve).await
}

/// The first event of `kind` the receiver got, waiting for it.
async fn event_of(receiver: &MockServer, kind: &str) -> Value {
    eventually_async(kind, || async move {
        receiver
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .find_map(|r| r.body_json::<Value>().ok().filter(|b| b["type"] == kind))
    })
    .await
}

/// Standard Webhooks, checked by hand: HMAC-SHA256 over `id.timestamp.body` with the base64
/// key after `whsec_`, compared with each `v1,` signature of the header.
fn signature_ok(secret: &str, request: &wiremock::Request) -> bool {
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let key = B64
        .decode(secret.trim_start_matches("whsec_"))
        .expect("base64 secret");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("key");
    mac.update(header("webhook-id").as_bytes());
    mac.update(b".");
    mac.update(header("webhook-timestamp").as_bytes());
    mac.update(b".");
    mac.update(&request.body);
    let expected = format!("v1,{}", B64.encode(mac.finalize().into_bytes()));
    header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

#[tokio::test]
async fn a_merchant_creates_a_session_the_shopper_pays_it_and_a_signed_webhook_arrives_after_two_failures()
 {
    let app = app().await;
    let receiver = MockServer::builder().start().await;
    // The receiver fails checkout.completed twice, then accepts.
    Mock::given(method("POST"))
        .and(path("/hooks"))
        .and(wiremock::matchers::body_string_contains(
            "checkout.completed",
        ))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .and(path("/hooks"))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(2)
        .mount(&receiver)
        .await;
    Mock::given(method("GET"))
        .and(path("/thanks"))
        .respond_with(ResponseTemplate::new(200).set_body_string("merchant thanks page"))
        .mount(&receiver)
        .await;
    let key = api_key(&app, "test", receiver.uri()).await;
    assert!(key.starts_with("pk_test_"));

    let (status, endpoint, _) = call(
        &app,
        &key,
        reqwest::Method::POST,
        "/api/v1/webhook-endpoints",
        Some(json!({"url": format!("{}/hooks", receiver.uri()),
                    "events": ["checkout.completed", "card.saved"]})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{endpoint}");
    let secret = endpoint["secret"]
        .as_str()
        .expect("secret shown once")
        .to_owned();
    assert!(secret.starts_with("whsec_"));
    let (_, listed, _) = call(
        &app,
        &key,
        reqwest::Method::GET,
        "/api/v1/webhook-endpoints",
        None,
        None,
    )
    .await;
    assert!(
        listed["data"][0].get("secret").is_none(),
        "the secret is never shown again"
    );

    // Idempotent creation: the same request with the same key gets the same session.
    let request = session_request(&receiver.uri(), "cust-42");
    let post = |body: Value, k: &'static str| {
        let (app, key) = (&app, key.clone());
        async move {
            call(
                app,
                &key,
                reqwest::Method::POST,
                "/api/v1/checkout-sessions",
                Some(body),
                Some(k),
            )
            .await
        }
    };
    let (status, session, _) = post(request.clone(), "order-M-1001").await;
    assert_eq!(status, 201, "{session}");
    assert_eq!(session["amount_total"], 9100);
    assert_eq!(session["status"], "open");
    let (status, again, headers) = post(request.clone(), "order-M-1001").await;
    assert_eq!((status, &again["id"]), (201, &session["id"]));
    assert_eq!(
        headers.get("idempotent-replayed").map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    let mut changed = request.clone();
    changed["line_items"][0]["quantity"] = json!(3);
    let (status, problem, headers) = post(changed, "order-M-1001").await;
    assert_eq!(status, 422);
    assert_eq!(problem["code"], "idempotency_key_reused");
    assert_eq!(
        headers.get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/problem+json"[..])
    );

    // The shopper pays on the hosted page, saving the card.
    let url = session["url"].as_str().expect("url").to_owned();
    let mut shopper = Shopper::new(&app.address);
    let pay = open_and_continue(&mut shopper, &url).await;
    assert!(pay.url.contains("/pay"), "on the payment page: {}", pay.url);
    assert!(pay.html.contains("91,00"), "the session's total");
    assert!(
        pay.html.contains(&format!(
            "href=\"{}/cart\" id=\"hosted-cancel\"",
            receiver.uri()
        )),
        "a way back to the merchant"
    );
    // Another browser without the session's URL can't open that order.
    let mut stranger = Shopper::new(&app.address);
    assert_eq!(stranger.get(&pay.url).await.status, 404);

    let three_d = shopper.pay(&pay.html, VISA, true).await;
    let back = shopper.answer_3d(&three_d, true).await;
    // Back to the merchant: a page that goes to success_url at once (and links it).
    let thanks = format!("{}/thanks", receiver.uri());
    assert!(back.url.ends_with("/ok"), "{}", back.url);
    assert!(
        back.html.contains(&format!("content=\"0;url={thanks}\""))
            && back
                .html
                .contains(&format!("href=\"{thanks}\" id=\"back-to-merchant\"")),
        "{}",
        back.html
    );

    // The receiver gets checkout.completed: three tries of one message, each signed.
    let completed: Vec<wiremock::Request> = eventually_async("three deliveries", || {
        let receiver = &receiver;
        async move {
            let hooks: Vec<wiremock::Request> = receiver
                .received_requests()
                .await
                .unwrap_or_default()
                .into_iter()
                .filter(|r| r.url.path() == "/hooks")
                .filter(|r| {
                    r.body_json::<Value>()
                        .is_ok_and(|b| b["type"] == "checkout.completed")
                })
                .collect();
            (hooks.len() >= 3).then_some(hooks)
        }
    })
    .await;
    assert_eq!(
        completed.len(),
        3,
        "two failures, then accepted, then no more"
    );
    let ids: Vec<_> = completed
        .iter()
        .map(|r| r.headers.get("webhook-id").cloned())
        .collect();
    assert!(
        ids.iter().all(|id| id == &ids[0]),
        "one message id for every attempt"
    );
    for r in &completed {
        assert!(signature_ok(&secret, r), "signature checks out");
        assert!(
            !signature_ok("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", r),
            "and only with our secret"
        );
    }
    let event: Value = completed[2].body_json().expect("json");
    assert_eq!(event["data"]["id"], session["id"]);
    assert_eq!(event["data"]["payment_status"], "paid");
    assert_eq!(event["data"]["customer_ref"], "cust-42");
    assert_eq!(event["data"]["metadata"]["merchant_order"], "M-1001");
    let card_saved = eventually_async("card.saved", || {
        let receiver = &receiver;
        async move {
            receiver
                .received_requests()
                .await
                .unwrap_or_default()
                .into_iter()
                .find(|r| {
                    r.body_json::<Value>()
                        .is_ok_and(|b| b["type"] == "card.saved")
                })
        }
    })
    .await;
    assert!(signature_ok(&secret, &card_saved));

    // The API tells the same.
    let id = session["id"].as_str().expect("id");
    let (status, shown, _) = call(
        &app,
        &key,
        reqwest::Method::GET,
        &format!("/api/v1/checkout-sessions/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (&shown["status"], &shown["payment_status"]),
        (&json!("complete"), &json!("paid"))
    );
    // Opening the paid session again goes back to the merchant.
    assert_eq!(
        Shopper::new(&app.address).get(&url).await.url,
        format!("{}/thanks", receiver.uri())
    );

    // The same customer's next session offers the saved card; another customer's never does.
    let (_, next, _) = post(session_request(&receiver.uri(), "cust-42"), "order-M-1002").await;
    let mut later = Shopper::new(&app.address);
    let pay = open_and_continue(&mut later, next["url"].as_str().expect("url")).await;
    assert_eq!(
        saved_card_refs(&pay.html).len(),
        1,
        "the customer's saved card is offered"
    );
    let (_, other, _) = post(session_request(&receiver.uri(), "cust-99"), "order-M-1003").await;
    let mut someone = Shopper::new(&app.address);
    let pay = open_and_continue(&mut someone, other["url"].as_str().expect("url")).await;
    assert!(
        saved_card_refs(&pay.html).is_empty(),
        "another customer sees no saved card"
    );
    assert!(!order_id(&pay.url).is_empty());
}

#[tokio::test]
async fn keys_are_refused_in_the_other_mode_when_revoked_or_missing_and_urls_must_be_on_the_keys_origins()
 {
    let app = app().await;
    let live = api_key(&app, "live", "https://shop.example".into()).await;
    let test = api_key(&app, "test", "https://shop.example".into()).await;
    let body = json!({"amount": 1000, "success_url": "https://shop.example/ok",
                      "cancel_url": "https://shop.example/cancel"});
    let create = |key: String, body: Value| {
        let app = &app;
        async move {
            call(
                app,
                &key,
                reqwest::Method::POST,
                "/api/v1/checkout-sessions",
                Some(body),
                None,
            )
            .await
        }
    };
    // A live key on a sandbox shop.
    let (status, problem, _) = create(live, body.clone()).await;
    assert_eq!((status, &problem["code"]), (401, &json!("wrong_mode")));
    // No key, a made-up key.
    let (status, _, _) = create(String::new(), body.clone()).await;
    assert_eq!(status, 401);
    let (status, _, _) = create("pk_test_notarealkeynotarealkey1234".into(), body.clone()).await;
    assert_eq!(status, 401);
    // A URL outside the key's origins, and a bad amount: each named.
    let mut bad = body.clone();
    bad["success_url"] = json!("https://evil.example/ok");
    bad["amount"] = json!(0);
    let (status, problem, _) = create(test.clone(), bad).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"success_url") && fields.contains(&"line_items[0].unit_amount"),
        "{problem}"
    );
    // Not JSON at all.
    let answer = app
        .http
        .post(format!("{}/api/v1/checkout-sessions", app.address))
        .bearer_auth(&test)
        .body("amount=5")
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status().as_u16(), 400);
    // Works, then revoked: refused.
    let (status, _, _) = create(test.clone(), body.clone()).await;
    assert_eq!(status, 201);
    let revoked = app
        .db_run(|conn| {
            let keys = paytr_checkout::api::keys::list(conn)?;
            let id = keys
                .iter()
                .find(|k| k.mode == "test")
                .expect("test key")
                .public_id
                .clone();
            paytr_checkout::api::keys::revoke(conn, &id)
        })
        .await;
    assert!(revoked);
    let (status, _, _) = create(test, body).await;
    assert_eq!(status, 401);
    // Every call was audited, refusals too.
    let audited = app
        .db_run(|conn| {
            use diesel::prelude::*;
            use paytr_checkout::db::schema::api_audit;
            Ok(api_audit::table.count().get_result::<i64>(conn)?)
        })
        .await;
    assert_eq!(audited, 7);
}

/// The README's receiver (`examples/webhook_receiver.py`), run as a merchant would: it verifies
/// a real `checkout.completed` and refuses a forged one.
#[tokio::test]
async fn the_example_receiver_verifies_a_real_delivery_and_refuses_a_forged_one() {
    use std::io::BufRead;
    let app = app().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let receiver = format!("http://127.0.0.1:{port}");
    let key = api_key(&app, "test", receiver.clone()).await;
    let (_, endpoint, _) = call(
        &app,
        &key,
        reqwest::Method::POST,
        "/api/v1/webhook-endpoints",
        Some(json!({"url": format!("{receiver}/hooks"), "events": ["checkout.completed"]})),
        None,
    )
    .await;
    let secret = endpoint["secret"].as_str().expect("secret").to_owned();
    let mut child = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/webhook_receiver.py"
        ))
        .arg(port.to_string())
        .env("WEBHOOK_SECRET", &secret)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs the example receiver");
    let stdout = child.stdout.take().expect("stdout");
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines_tx.send(line);
        }
    });
    let http = reqwest::Client::new();
    let forged = eventually_async("the receiver listens", || {
        let (http, url) = (http.clone(), format!("{receiver}/hooks"));
        async move {
            let answer = http
                .post(url)
                .header("webhook-id", "msg_forged")
                .header(
                    "webhook-timestamp",
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .ok()?
                        .as_secs()
                        .to_string(),
                )
                .header("webhook-signature", "v1,bm90IGEgc2lnbmF0dXJl")
                .body(r#"{"type":"checkout.completed","data":{"id":"cs_forged"}}"#)
                .send()
                .await
                .ok()?;
            Some(answer.status().as_u16())
        }
    })
    .await;
    assert_eq!(forged, 401, "a forged delivery is refused");

    let (_, session, _) = call(
        &app,
        &key,
        reqwest::Method::POST,
        "/api/v1/checkout-sessions",
        Some(session_request(&receiver, "cust-7")),
        None,
    )
    .await;
    pay_session(&app, &session, false, true).await;
    let line = tokio::time::timeout(std::time::Duration::from_secs(15), lines.recv())
        .await
        .expect("a delivery within 15 s")
        .expect("a line");
    let _ = child.kill();
    let _ = child.wait();
    let id = session["id"].as_str().expect("id");
    assert!(
        line.starts_with(&format!("verified checkout.completed {id} msg_")),
        "{line}"
    );
}

/// A customer's cards through the API: brand, last 4 and expiry only; another customer_ref
/// never reaches them; deleting one removes it at PayTR and tells the merchant.
#[tokio::test]
async fn a_customers_cards_are_listed_and_deleted_through_the_api_and_no_other_customer_reaches_them()
 {
    let app = app().await;
    let receiver = MockServer::builder().start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let key = api_key(&app, "test", receiver.uri()).await;
    let api = |verb: reqwest::Method, path: String, body: Option<Value>| {
        let (app, key) = (&app, key.clone());
        async move { call(app, &key, verb, &path, body, None).await }
    };
    api(
        reqwest::Method::POST,
        "/api/v1/webhook-endpoints".into(),
        Some(json!({"url": format!("{}/hooks", receiver.uri()), "events": ["card.deleted"]})),
    )
    .await;
    for customer in ["ayse.yilmaz@example.com", "cust-b"] {
        let (_, session, _) = api(
            reqwest::Method::POST,
            "/api/v1/checkout-sessions".into(),
            Some(session_request(&receiver.uri(), customer)),
        )
        .await;
        let mut shopper = Shopper::new(&app.address);
        let pay = open_and_continue(&mut shopper, session["url"].as_str().expect("url")).await;
        let three_d = shopper
            .pay(&pay.html, VISA, customer == "ayse.yilmaz@example.com")
            .await;
        shopper.answer_3d(&three_d, true).await;
    }
    let cards_of = |customer: &'static str| {
        let api = &api;
        async move {
            eventually_async("the card list", || async move {
                let (status, list, _) = api(
                    reqwest::Method::GET,
                    format!("/api/v1/customers/{customer}/cards"),
                    None,
                )
                .await;
                (status != 200 || !list["data"].as_array()?.is_empty() || customer == "cust-b")
                    .then_some((status, list))
            })
            .await
        }
    };
    let (status, list) = cards_of("ayse.yilmaz@example.com").await;
    assert_eq!(status, 200, "{list}");
    let card = &list["data"][0];
    assert_eq!(card["last4"], "4358");
    let fields: Vec<&String> = card.as_object().expect("object").keys().collect();
    assert_eq!(
        fields,
        ["brand", "expired", "expiry", "id", "last4", "object"],
        "nothing more"
    );
    let card_id = card["id"].as_str().expect("id").to_owned();
    // cust-b paid without saving: no cards; an unknown customer is a 404.
    let (status, other) = cards_of("cust-b").await;
    assert_eq!(
        (status, other["data"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    let (status, _, _) = api(
        reqwest::Method::GET,
        "/api/v1/customers/nobody/cards".into(),
        None,
    )
    .await;
    assert_eq!(status, 404);
    // ayse's card through cust-b's ref: not found, and still there.
    let (status, _, _) = api(
        reqwest::Method::DELETE,
        format!("/api/v1/customers/cust-b/cards/{card_id}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(app.sandbox_utokens().len(), 1);
    let utoken = paytr_checkout::paytr::Token::new(app.sandbox_utokens()[0].clone());
    assert_eq!(app.sandbox_cards_of(&utoken), 1);
    // Through its own ref: deleted at PayTR, gone from the list, and the merchant is told.
    let (status, _, _) = api(
        reqwest::Method::DELETE,
        format!("/api/v1/customers/ayse.yilmaz@example.com/cards/{card_id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(app.sandbox_cards_of(&utoken), 0);
    let (_, after, _) = api(
        reqwest::Method::GET,
        "/api/v1/customers/ayse.yilmaz@example.com/cards".into(),
        None,
    )
    .await;
    assert_eq!(after["data"].as_array().map(Vec::len), Some(0));
    let deleted = event_of(&receiver, "card.deleted").await;
    assert_eq!(deleted["data"]["customer_ref"], "ayse.yilmaz@example.com");
    assert_eq!(deleted["data"]["card"], card_id.as_str());
    // The audit keeps which customer was reached, not the merchant's ref (here an e-mail).
    let paths: Vec<String> = app
        .db_run(|conn| {
            use diesel::prelude::*;
            use paytr_checkout::db::schema::api_audit;
            Ok(api_audit::table.select(api_audit::path).load(conn)?)
        })
        .await;
    let customer_paths: Vec<&String> = paths.iter().filter(|p| p.contains("/customers/")).collect();
    assert!(customer_paths.len() >= 4, "{paths:?}");
    assert!(
        customer_paths
            .iter()
            .all(|p| !p.contains("example.com") && !p.contains("cust-b") && !p.contains("nobody")),
        "{customer_paths:?}"
    );
}

/// A paid session's order through the API, refunded in part once whatever the retries, and
/// `refund.succeeded` sent.
#[tokio::test]
async fn an_order_is_refunded_through_the_api_once_per_idempotency_key_and_the_merchant_is_told() {
    let app = app().await;
    let receiver = MockServer::builder().start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let key = api_key(&app, "test", receiver.uri()).await;
    let api =
        |verb: reqwest::Method, path: String, body: Option<Value>, idem: Option<&'static str>| {
            let (app, key) = (&app, key.clone());
            async move { call(app, &key, verb, &path, body, idem).await }
        };
    api(
        reqwest::Method::POST,
        "/api/v1/webhook-endpoints".into(),
        Some(json!({"url": format!("{}/hooks", receiver.uri()),
                    "events": ["checkout.completed", "refund.succeeded"]})),
        None,
    )
    .await;
    let (_, session, _) = api(
        reqwest::Method::POST,
        "/api/v1/checkout-sessions".into(),
        Some(session_request(&receiver.uri(), "cust-r")),
        None,
    )
    .await;
    let session_id = session["id"].as_str().expect("id").to_owned();
    pay_session(&app, &session, false, true).await;
    let order = eventually_async("the order paid", || {
        let (api, path) = (&api, format!("/api/v1/checkout-sessions/{session_id}"));
        async move {
            let (_, s, _) = api(reqwest::Method::GET, path, None, None).await;
            (s["payment_status"] == "paid").then(|| s["order_id"].as_str().map(str::to_owned))?
        }
    })
    .await;
    let (status, shown, _) = api(
        reqwest::Method::GET,
        format!("/api/v1/orders/{order}"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (status, &shown["status"], &shown["amount_total"]),
        (200, &json!("paid"), &json!(9100))
    );

    let refund = || {
        api(
            reqwest::Method::POST,
            format!("/api/v1/orders/{order}/refunds"),
            Some(json!({"amount": 1000, "reason": "one cup broken"})),
            Some("refund-1"),
        )
    };
    let (status, first, _) = refund().await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(
        (&first["status"], &first["amount"]),
        (&json!("succeeded"), &json!(1000))
    );
    let (status, again, headers) = refund().await;
    assert_eq!(
        (status, &again["id"]),
        (201, &first["id"]),
        "the same refund, not a second"
    );
    assert!(headers.contains_key("idempotent-replayed"));
    let (_, shown, _) = api(
        reqwest::Method::GET,
        format!("/api/v1/orders/{order}"),
        None,
        None,
    )
    .await;
    assert_eq!(shown["amount_refunded"], 1000);
    assert_eq!(shown["refunds"].as_array().map(Vec::len), Some(1));
    // More than is left, and an order id nobody's session placed.
    let (status, problem, _) = api(
        reqwest::Method::POST,
        format!("/api/v1/orders/{order}/refunds"),
        Some(json!({"amount": 9000})),
        None,
    )
    .await;
    assert_eq!((status, &problem["code"]), (409, &json!("refund_too_much")));
    let (status, _, _) = api(
        reqwest::Method::GET,
        "/api/v1/orders/NoSuchOrder123".into(),
        None,
        None,
    )
    .await;
    assert_eq!(status, 404);

    let told = event_of(&receiver, "refund.succeeded").await;
    assert_eq!(told["data"]["id"], first["id"]);
    assert_eq!(told["data"]["checkout_session"], session_id.as_str());
}

/// The OpenAPI document is served, and names exactly the API's routes: every route registered
/// in `src/api/mod.rs` is documented, and every documented operation exists (it answers 401
/// without a key, not the API's 404).
#[tokio::test]
async fn the_openapi_document_is_served_and_matches_the_routes() {
    let app = app().await;
    let text = app
        .get("/api/openapi.json")
        .await
        .text()
        .await
        .expect("body");
    let doc: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .expect("operations")
                .keys()
                .map(move |verb| (verb.to_uppercase(), path.clone()))
        })
        .collect();
    documented.sort();
    // The routes as `configure` registers them: `.route("/x", web::get()…`.
    let source = include_str!("../../src/api/mod.rs");
    let scope = "/api/v1";
    let mut registered: Vec<(String, String)> = source
        .split(".route(")
        .skip(1)
        .filter_map(|call| {
            let path = call.split('"').nth(1)?;
            let verb = call.split("web::").nth(1)?.split('(').next()?;
            Some((verb.to_uppercase(), path.to_owned()))
        })
        .filter(|(_, path)| path != "/api/openapi.json")
        .map(|(verb, path)| (verb, format!("{scope}{path}")))
        .collect();
    registered.sort();
    assert_eq!(documented, registered);
    for (verb, path) in &documented {
        let url = format!(
            "{}{}",
            app.address,
            path.replace("{id}", "x")
                .replace("{customer_ref}", "c")
                .replace("{card}", "k")
        );
        let answer = app
            .http
            .request(verb.parse().expect("method"), url)
            .send()
            .await
            .expect("answer");
        assert_eq!(
            answer.status().as_u16(),
            401,
            "{verb} {path} exists and needs a key"
        );
    }
    // And an undocumented one is the API's own 404, in problem+json.
    let answer = app.get("/api/v1/nothing-here").await;
    assert_eq!(answer.status().as_u16(), 404);
    assert_eq!(
        answer.headers().get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/problem+json"[..])
    );
}

/// The back office (owners only): a key created with a TOTP code and shown once, deliveries
/// with their attempts and HTTP statuses, a delivery sent again with the same webhook-id, and
/// a key revoked by another owner.
#[tokio::test]
async fn owners_create_and_revoke_keys_and_replay_deliveries_in_the_back_office() {
    use crate::admin::{add_staff, code, log_in};
    let app = app().await;
    let receiver = MockServer::builder().start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&receiver)
        .await;
    let support = add_staff(&app, "support@example.com", "support").await;
    let mut helper = log_in(&app, "support@example.com", &support).await;
    assert_eq!(helper.get("/admin/api").await.status, 403, "owners only");

    let totp = add_staff(&app, "owner@example.com", "owner").await;
    let mut owner = log_in(&app, "owner@example.com", &totp).await;
    owner.get("/admin/api").await;
    let created = owner
        .post(
            "/admin/api/keys",
            &[
                ("action", "create"),
                ("name", "Main shop"),
                ("origins", &receiver.uri()),
                ("code", &code(&totp, 1)),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.html);
    let key = created
        .html
        .split("id=\"new-api-key\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the new key, shown once")
        .to_owned();
    assert!(key.starts_with("pk_test_"));
    assert!(
        !owner.get("/admin/api").await.html.contains(&key),
        "never shown again"
    );

    register_hooks(&app, &key, &receiver.uri(), &["checkout.completed"]).await;
    let session = new_session(&app, &key, &receiver.uri(), "cust-bo").await;
    pay_session(&app, &session, false, true).await;
    // The receiver refuses: the back office shows the waiting delivery and its 503.
    let page = eventually_async("a refused delivery", || {
        let mut owner = owner.clone_client();
        async move {
            let html = owner.get("/admin/api").await.html;
            html.contains("HTTP 503").then_some(html)
        }
    })
    .await;
    let delivery = page
        .split("id=\"replay-")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a replay button")
        .to_owned();
    // The receiver recovers; the delivery goes through on its next try, then is sent again.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(1)
        .mount(&receiver)
        .await;
    let accepted = || async {
        receiver
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == "/hooks")
            .count()
    };
    eventually_async("delivered", || {
        let mut owner = owner.clone_client();
        async move {
            owner
                .get("/admin/api")
                .await
                .html
                .contains("HTTP 200")
                .then_some(())
        }
    })
    .await;
    let before = accepted().await;
    owner.get("/admin/api").await;
    let replayed = owner
        .post(&format!("/admin/api/deliveries/{delivery}/replay"), &[])
        .await;
    assert_eq!(replayed.status, 200);
    let ids = eventually_async("the replay", || async {
        let hooks: Vec<String> = receiver
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == "/hooks")
            .filter_map(|r| {
                r.headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            })
            .collect();
        (hooks.len() > before).then_some(hooks)
    })
    .await;
    assert_eq!(ids.last(), ids.first(), "the same message id again");

    // Another owner revokes the key: the API refuses it from then on.
    let other = add_staff(&app, "owner2@example.com", "owner").await;
    let mut second = log_in(&app, "owner2@example.com", &other).await;
    let page = second.get("/admin/api").await;
    let key_id = page
        .html
        .split("data-key=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the key's row")
        .to_owned();
    second
        .post(
            "/admin/api/keys",
            &[
                ("action", "revoke"),
                ("key", &key_id),
                ("code", &code(&other, 1)),
            ],
        )
        .await;
    let (status, _, _) = call(
        &app,
        &key,
        reqwest::Method::GET,
        "/api/v1/webhook-endpoints",
        None,
        None,
    )
    .await;
    assert_eq!(status, 401);
}

/// A receiver that takes 8 s to answer holds only its own delivery: the other endpoint is told
/// at once, and the shop's pages and notifications answer meanwhile.
#[tokio::test]
async fn a_slow_receiver_delays_neither_the_other_endpoints_nor_the_shop() {
    let app = app().await;
    let slow = MockServer::builder().start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(8)))
        .mount(&slow)
        .await;
    let fast = MockServer::builder().start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&fast)
        .await;
    let key = api_key(&app, "test", fast.uri()).await;
    for receiver in [&slow, &fast] {
        register_hooks(&app, &key, &receiver.uri(), &["checkout.completed"]).await;
    }
    // Two sessions paid one after the other: the slow receiver is busy with the first when
    // the second is due.
    let started = std::time::Instant::now();
    for customer in ["slow-1", "slow-2"] {
        let (_, session, _) = call(
            &app,
            &key,
            reqwest::Method::POST,
            "/api/v1/checkout-sessions",
            Some(session_request(&fast.uri(), customer)),
            None,
        )
        .await;
        pay_session(&app, &session, false, true).await;
    }
    eventually_async("both events at the fast receiver", || {
        let fast = &fast;
        async move {
            let n = fast.received_requests().await.unwrap_or_default().len();
            (n >= 2).then_some(())
        }
    })
    .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(6),
        "the fast receiver was not held up by the slow one ({:?})",
        started.elapsed()
    );
    let page = std::time::Instant::now();
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);
    assert!(page.elapsed() < std::time::Duration::from_secs(1));
}

/// A live shop: test keys are refused, and webhooks may only go to public https hosts.
#[tokio::test]
async fn a_live_shop_refuses_test_keys_and_webhooks_into_its_own_network() {
    let paytr = MockServer::builder().start().await;
    let app = crate::helpers::spawn_live_app(&paytr.uri(), &[]).await;
    let live = api_key(&app, "live", "https://shop.example".into()).await;
    let test = api_key(&app, "test", "https://shop.example".into()).await;
    let (status, problem, _) = call(
        &app,
        &test,
        reqwest::Method::GET,
        "/api/v1/webhook-endpoints",
        None,
        None,
    )
    .await;
    assert_eq!((status, &problem["code"]), (401, &json!("wrong_mode")));
    for url in [
        "http://shop.example/hooks",
        "https://10.0.0.5/hooks",
        "https://localhost/hooks",
        "https://169.254.169.254/",
    ] {
        let (status, problem, _) = call(
            &app,
            &live,
            reqwest::Method::POST,
            "/api/v1/webhook-endpoints",
            Some(json!({"url": url, "events": ["checkout.completed"]})),
            None,
        )
        .await;
        assert_eq!(
            (status, &problem["errors"][0]["field"]),
            (422, &json!("url")),
            "{url}"
        );
    }
    let (status, _, _) = call(
        &app,
        &live,
        reqwest::Method::POST,
        "/api/v1/webhook-endpoints",
        Some(json!({"url": "https://shop.example/hooks", "events": ["checkout.completed"]})),
        None,
    )
    .await;
    assert_eq!(status, 201);
}

/// Sessions are listed newest first by cursor: every session once across pages.
#[tokio::test]
async fn lists_are_walked_by_cursor_each_item_once_in_order() {
    let app = app().await;
    let key = api_key(&app, "test", "https://shop.example".into()).await;
    let mut sessions = Vec::new();
    let mut endpoints = Vec::new();
    for i in 0..5 {
        let (status, s, _) = call(
            &app,
            &key,
            reqwest::Method::POST,
            "/api/v1/checkout-sessions",
            Some(
                json!({"amount": 1000 + i, "success_url": "https://shop.example/ok",
                        "cancel_url": "https://shop.example/cancel"}),
            ),
            None,
        )
        .await;
        assert_eq!(status, 201);
        sessions.push(s["id"].as_str().expect("id").to_owned());
        let hook = register_hooks(
            &app,
            &key,
            &format!("https://hooks{i}.example"),
            &["checkout.completed"],
        )
        .await;
        endpoints.push(hook["id"].as_str().expect("id").to_owned());
    }
    sessions.reverse();
    assert_eq!(
        walk(&app, &key, "/api/v1/checkout-sessions").await,
        sessions,
        "each once, newest first"
    );
    assert_eq!(
        walk(&app, &key, "/api/v1/webhook-endpoints").await,
        endpoints,
        "each once, oldest first"
    );
    for (list, unknown) in [
        ("checkout-sessions", "cs_nosuchsession000000000000"),
        ("webhook-endpoints", "we_nosuchendpoint"),
        ("customers/nobody-yet/cards", "nosuchcard"),
    ] {
        for bad in ["limit=0", "limit=101", &format!("starting_after={unknown}")] {
            let (status, problem, _) = call(
                &app,
                &key,
                reqwest::Method::GET,
                &format!("/api/v1/{list}?{bad}"),
                None,
                None,
            )
            .await;
            // A customer the shop has never seen is unknown whatever the cursor.
            let expected = if list.starts_with("customers") && !bad.starts_with("limit") {
                404
            } else {
                422
            };
            assert_eq!(status, expected, "{list}?{bad}: {problem}");
        }
    }
}

/// Every id of the list at `base`, walking it two at a time by `next_cursor`.
async fn walk(app: &TestApp, key: &str, base: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let path = match &cursor {
            Some(c) => format!("{base}?limit=2&starting_after={c}"),
            None => format!("{base}?limit=2"),
        };
        let (status, page, _) = call(app, key, reqwest::Method::GET, &path, None, None).await;
        assert_eq!(status, 200, "{page}");
        assert!(page["data"].as_array().expect("data").len() <= 2);
        seen.extend(
            page["data"]
                .as_array()
                .expect("data")
                .iter()
                .map(|s| s["id"].as_str().expect("id").to_owned()),
        );
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        assert_eq!(page["has_more"].as_bool(), Some(cursor.is_some()));
        if cursor.is_none() {
            break;
        }
    }
    seen
}

/// A payment that fails on the hosted page tells the merchant (`payment.failed`); the session
/// stays open for another try.
#[tokio::test]
async fn a_failed_payment_tells_the_merchant_and_leaves_the_session_open() {
    let app = app().await;
    let receiver = MockServer::builder().start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let key = api_key(&app, "test", receiver.uri()).await;
    register_hooks(
        &app,
        &key,
        &receiver.uri(),
        &["payment.failed", "checkout.completed"],
    )
    .await;
    let session = new_session(&app, &key, &receiver.uri(), "cust-f").await;
    pay_session(&app, &session, false, false).await;
    let failed = event_of(&receiver, "payment.failed").await;
    assert_eq!(failed["data"]["id"], session["id"]);
    assert_eq!(failed["data"]["payment_status"], "unpaid");
    let id = session["id"].as_str().expect("id");
    let (_, shown, _) = call(
        &app,
        &key,
        reqwest::Method::GET,
        &format!("/api/v1/checkout-sessions/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(shown["status"], "open");
    let sent: Vec<Value> = receiver
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| r.body_json::<Value>().ok())
        .collect();
    assert!(
        sent.iter().all(|b| b["type"] != "checkout.completed"),
        "never completed"
    );
}

/// A live shop resolves webhook hosts itself and connects only to public addresses: an
/// endpoint whose name now leads into the shop's own network (here `localhost`, as a DNS change
/// would) gets nothing posted.
#[tokio::test]
async fn a_live_shop_never_posts_a_webhook_to_a_name_that_resolves_into_its_network() {
    let paytr = MockServer::builder().start().await;
    let app = crate::helpers::spawn_live_app(&paytr.uri(), &[("WEBHOOK_INTERVAL_MS", "100")]).await;
    let inside = MockServer::builder().start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&inside)
        .await;
    let key = api_key(&app, "live", "https://shop.example".into()).await;
    register_hooks(
        &app,
        &key,
        "https://hooks.shop.example",
        &["checkout.completed"],
    )
    .await;
    let port = inside.address().port();
    app.db_run(move |conn| {
        use diesel::prelude::*;
        use paytr_checkout::db::schema::webhook_endpoints as we;
        diesel::update(we::table)
            .set(we::url.eq(format!("http://localhost:{port}/hooks")))
            .execute(conn)?;
        paytr_checkout::api::webhooks::enqueue(
            conn,
            "live",
            "checkout.completed",
            "cs_x",
            &json!({}),
        )
    })
    .await;
    let error = eventually_async("the delivery refused", || {
        let app = &app;
        async move {
            app.db_run(|conn| {
                use diesel::prelude::*;
                use paytr_checkout::db::schema::webhook_deliveries as wd;
                Ok(wd::table
                    .select(wd::last_error)
                    .first::<Option<String>>(conn)
                    .optional()?
                    .flatten())
            })
            .await
        }
    })
    .await;
    assert!(error.contains("private addresses"), "{error}");
    assert!(
        inside
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "nothing posted inside"
    );
}

/// Bad billing details on the hosted page: the form comes back with the errors beside their
/// fields and no order is placed.
#[tokio::test]
async fn bad_details_on_the_hosted_page_are_shown_beside_their_fields_and_place_nothing() {
    let app = app().await;
    let key = api_key(&app, "test", "https://shop.example".into()).await;
    let session = new_session(&app, &key, "https://shop.example", "cust-e").await;
    let url = session["url"].as_str().expect("url").to_owned();
    let mut shopper = Shopper::new(&app.address);
    shopper.get(&url).await;
    let page = shopper
        .post(
            &url[url.find("/c/").expect("path")..],
            &[
                ("full_name", "Deniz Kaya"),
                ("email", "not-an-address"),
                ("phone", "1"),
                ("address", ""),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(
        page.html.contains("id=\"email-error\"") && page.html.contains("accept_terms"),
        "{}",
        page.html
    );
    let id = session["id"].as_str().expect("id");
    let (_, shown, _) = call(
        &app,
        &key,
        reqwest::Method::GET,
        &format!("/api/v1/checkout-sessions/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(shown["order_id"], Value::Null, "no order placed");
}

/// A monthly subscription of 149,00 TL for `customer`, returning to `receiver`.
async fn new_subscription_session(
    app: &TestApp,
    key: &str,
    receiver: &str,
    customer: &str,
) -> Value {
    let (status, session, _) = call(
        app,
        key,
        reqwest::Method::POST,
        "/api/v1/checkout-sessions",
        Some(json!({
            "mode": "subscription", "interval": "monthly",
            "amount": 14900, "description": "Pro üyelik",
            "customer_ref": customer,
            "customer": {"email": "musteri@example.com", "name": "Deniz Kaya",
                         "phone": "0555 123 45 67", "address": "Bağdat Cad. 5, Kadıköy, İstanbul"},
            "success_url": format!("{receiver}/thanks"), "cancel_url": format!("{receiver}/cart"),
        })),
        None,
    )
    .await;
    assert_eq!(status, 201, "{session}");
    session
}

/// A new browser subscribes on `session`'s hosted page (consenting to the renewals) and pays
/// the first period with `card`; answers the subscription's API id once it is active.
async fn subscribe_on_hosted_page(app: &TestApp, key: &str, session: &Value, card: &str) -> String {
    let url = session["url"].as_str().expect("url");
    let mut shopper = Shopper::new(&app.address);
    let form = shopper.get(url).await;
    assert!(
        form.html.contains("/ ay") && form.html.contains("id=\"consent\""),
        "the period and the consent to renewals: {}",
        form.html
    );
    let details = [
        ("full_name", "Deniz Kaya"),
        ("email", "musteri@example.com"),
        ("phone", "0555 123 45 67"),
        ("address", "Bağdat Cad. 5, Kadıköy, İstanbul"),
        ("accept_terms", "1"),
    ];
    let hosted = &url[url.find("/c/").expect("hosted path")..];
    let refused = shopper.post(hosted, &details).await;
    assert_eq!(refused.status, 422, "no consent, no subscription");
    assert!(
        refused.html.contains("id=\"consent-error\""),
        "{}",
        refused.html
    );
    let id = session["id"].as_str().expect("id").to_owned();
    let (_, unchanged, _) = call(
        app,
        key,
        reqwest::Method::GET,
        &format!("/api/v1/checkout-sessions/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(unchanged["order_id"], Value::Null, "nothing placed");

    let mut consented = details.to_vec();
    consented.push(("consent", "1"));
    let pay = shopper.post(hosted, &consented).await;
    assert!(
        pay.html.contains("id=\"subscription-card-note\"") && pay.html.contains("149,00"),
        "{}",
        pay.html
    );
    let three_d = shopper.pay(&pay.html, card, false).await;
    shopper.answer_3d(&three_d, true).await;
    let (_, paid, _) = call(
        app,
        key,
        reqwest::Method::GET,
        &format!("/api/v1/checkout-sessions/{id}"),
        None,
        None,
    )
    .await;
    let sub = paid["subscription_id"]
        .as_str()
        .expect("the session names its subscription")
        .to_owned();
    assert!(sub.starts_with("sub_"), "{sub}");
    eventually_async("the subscription to become active", || {
        let sub = sub.clone();
        async move {
            let (_, view, _) = call(
                app,
                key,
                reqwest::Method::GET,
                &format!("/api/v1/subscriptions/{sub}"),
                None,
                None,
            )
            .await;
            (view["status"] == "active").then_some(())
        }
    })
    .await;
    sub
}

#[tokio::test]
async fn a_subscription_session_renews_tells_the_merchant_and_is_cancelled_through_the_api() {
    let app = app().await;
    let receiver = MockServer::builder().start().await;
    Mock::given(method("POST"))
        .and(path("/hooks"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    let key = api_key(&app, "test", receiver.uri()).await;
    let endpoint = register_hooks(
        &app,
        &key,
        &receiver.uri(),
        &["checkout.completed", "subscription.renewed"],
    )
    .await;
    let session = new_subscription_session(&app, &key, &receiver.uri(), "cust-sub-1").await;
    assert_eq!(
        (
            &session["mode"],
            &session["interval"],
            &session["amount_total"]
        ),
        (&json!("subscription"), &json!("monthly"), &json!(14900))
    );

    let sub = subscribe_on_hosted_page(&app, &key, &session, VISA).await;
    let completed = event_of(&receiver, "checkout.completed").await;
    assert_eq!(completed["data"]["subscription_id"], json!(sub));
    let get = |path: String| {
        let (app, key) = (&app, key.clone());
        async move { call(app, &key, reqwest::Method::GET, &path, None, None).await }
    };
    let (status, view, _) = get(format!("/api/v1/subscriptions/{sub}")).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        (
            &view["periods_paid"],
            &view["card"]["last4"],
            &view["customer_ref"],
            &view["amount"],
            &view["currency"]
        ),
        (
            &json!(1),
            &json!("4358"),
            &json!("cust-sub-1"),
            &json!(14900),
            &json!("TRY")
        )
    );

    // The renewal is charged on the saved card, and the merchant is told, signed.
    let billing = crate::billing::engine(&app).await;
    let due = view["current_period_end"].as_i64().expect("period end");
    assert_eq!(billing.run_due(due + 60).await.expect("pass").charged, 1);
    let renewed = event_of(&receiver, "subscription.renewed").await;
    assert_eq!(
        (&renewed["data"]["id"], &renewed["data"]["periods_paid"]),
        (&json!(sub), &json!(2))
    );
    let secret = endpoint["secret"].as_str().expect("secret");
    let requests = receiver.received_requests().await.unwrap_or_default();
    let delivery = requests
        .iter()
        .find(|r| {
            r.body_json::<Value>()
                .is_ok_and(|b| b["type"] == "subscription.renewed")
        })
        .expect("delivered");
    assert!(signature_ok(secret, delivery));
    let no_mail_to_customers = app
        .db_run(|conn| {
            use diesel::prelude::*;
            use paytr_checkout::db::schema::outbox;
            outbox::table
                .filter(outbox::to_address.like("%@customers.invalid"))
                .count()
                .get_result::<i64>(conn)
                .map_err(Into::into)
        })
        .await;
    assert_eq!(
        no_mail_to_customers, 0,
        "the merchant is told, not a made-up address"
    );

    // Nobody reaches it by another id; the other mode's key is refused.
    for wrong in [
        "sub_doesnotexist000000000000",
        "1",
        session["id"].as_str().unwrap_or_default(),
    ] {
        let (status, problem, _) = call(
            &app,
            &key,
            reqwest::Method::POST,
            &format!("/api/v1/subscriptions/{wrong}/cancel"),
            None,
            None,
        )
        .await;
        assert_eq!(
            (status, &problem["code"]),
            (404, &json!("not_found")),
            "{wrong}"
        );
    }
    let live = api_key(&app, "live", receiver.uri()).await;
    let (status, _, _) = call(
        &app,
        &live,
        reqwest::Method::POST,
        &format!("/api/v1/subscriptions/{sub}/cancel"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 401);

    // Cancelled at the period's end: that period stays, no renewal is charged after it.
    let cancel = json!({"at_period_end": true});
    let (status, cancelled, _) = call(
        &app,
        &key,
        reqwest::Method::POST,
        &format!("/api/v1/subscriptions/{sub}/cancel"),
        Some(cancel.clone()),
        None,
    )
    .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(
        (&cancelled["status"], &cancelled["cancel_at_period_end"]),
        (&json!("active"), &json!(true))
    );
    let (_, twice, _) = call(
        &app,
        &key,
        reqwest::Method::POST,
        &format!("/api/v1/subscriptions/{sub}/cancel"),
        Some(cancel),
        None,
    )
    .await;
    assert_eq!(twice, cancelled, "cancelling twice answers the same");
    let charges_before = crate::billing::recurring_payments(&app);
    let next = cancelled["current_period_end"]
        .as_i64()
        .expect("period end");
    let summary = billing.run_due(next + 60).await.expect("pass");
    assert_eq!((summary.charged, summary.cancelled), (0, 1));
    assert_eq!(crate::billing::recurring_payments(&app), charges_before);
    let (_, ended, _) = get(format!("/api/v1/subscriptions/{sub}")).await;
    assert_eq!(
        (&ended["status"], &ended["periods_paid"]),
        (&json!("cancelled"), &json!(2))
    );
}

#[tokio::test]
async fn a_declined_renewal_tells_the_merchant_past_due_and_cancelling_now_stops_every_charge() {
    let app = app().await;
    let receiver = MockServer::builder().start().await;
    Mock::given(method("POST"))
        .and(path("/hooks"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    let key = api_key(&app, "test", receiver.uri()).await;
    register_hooks(&app, &key, &receiver.uri(), &["subscription.past_due"]).await;
    let closed = new_subscription_session(&app, &key, &receiver.uri(), "cust-closed").await;
    let closed = subscribe_on_hosted_page(&app, &key, &closed, crate::billing::CLOSED).await;
    let open = new_subscription_session(&app, &key, &receiver.uri(), "cust-open").await;
    let open = subscribe_on_hosted_page(&app, &key, &open, VISA).await;
    // Cancelled now, before its renewal is due: it is never charged again.
    let (status, cancelled, _) = call(
        &app,
        &key,
        reqwest::Method::POST,
        &format!("/api/v1/subscriptions/{open}/cancel"),
        None,
        None,
    )
    .await;
    assert_eq!((status, &cancelled["status"]), (200, &json!("cancelled")));

    let due = cancelled["current_period_end"]
        .as_i64()
        .expect("period end");
    let summary = crate::billing::engine(&app)
        .await
        .run_due(due + 60)
        .await
        .expect("pass");
    assert_eq!(
        (summary.charged, summary.hard_failed),
        (0, 1),
        "only the closed card was tried"
    );
    let past_due = event_of(&receiver, "subscription.past_due").await;
    assert_eq!(
        (
            &past_due["data"]["id"],
            &past_due["data"]["status"],
            &past_due["data"]["status_reason"],
            &past_due["data"]["customer_ref"]
        ),
        (
            &json!(closed),
            &json!("past_due"),
            &json!("card_declined"),
            &json!("cust-closed")
        )
    );
}

#[tokio::test]
async fn subscription_sessions_need_an_interval_a_customer_and_one_line() {
    let app = app().await;
    let key = api_key(&app, "test", "https://shop.example".to_owned()).await;
    let base = json!({"mode": "subscription", "interval": "monthly", "amount": 14900,
        "description": "Pro", "customer_ref": "c-1",
        "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"});
    let cases: [(&str, Value); 4] = [
        ("interval", json!({"interval": null})),
        ("interval", json!({"interval": "daily"})),
        ("customer_ref", json!({"customer_ref": null})),
        (
            "line_items",
            json!({"amount": null, "line_items": [{"name": "A", "quantity": 2, "unit_amount": 100}]}),
        ),
    ];
    for (field, change) in cases {
        let mut body = base.clone();
        for (k, v) in change.as_object().expect("object") {
            if v.is_null() {
                body.as_object_mut().expect("object").remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        let (status, problem, _) = call(
            &app,
            &key,
            reqwest::Method::POST,
            "/api/v1/checkout-sessions",
            Some(body.clone()),
            None,
        )
        .await;
        assert_eq!(status, 422, "{body} → {problem}");
        assert!(
            problem["errors"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["field"] == field)),
            "{field}: {problem}"
        );
    }
    let mut payment = base.clone();
    payment["mode"] = json!("payment");
    let (status, problem, _) = call(
        &app,
        &key,
        reqwest::Method::POST,
        "/api/v1/checkout-sessions",
        Some(payment),
        None,
    )
    .await;
    assert_eq!(
        status, 422,
        "an interval is only for subscriptions: {problem}"
    );
    let (status, session, _) = call(
        &app,
        &key,
        reqwest::Method::POST,
        "/api/v1/checkout-sessions",
        Some(base),
        None,
    )
    .await;
    assert_eq!((status, &session["mode"]), (201, &json!("subscription")));
    let count = app
        .db_run(|conn| {
            use diesel::prelude::*;
            use paytr_checkout::db::schema::checkout_sessions;
            checkout_sessions::table
                .count()
                .get_result::<i64>(conn)
                .map_err(Into::into)
        })
        .await;
    assert_eq!(count, 1, "refused requests created nothing");
}

#[tokio::test]
async fn a_new_customers_first_sessions_created_at_once_all_succeed_for_one_shopper() {
    let app = app().await;
    let key = api_key(&app, "test", "https://shop.example".to_owned()).await;
    let request = |n: usize| {
        json!({"amount": 1000 + n, "description": "Kupa", "customer_ref": "brand-new-customer",
               "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"})
    };
    let answers = futures_util::future::join_all((0..8).map(|n| {
        let (app, key) = (&app, key.clone());
        async move {
            call(
                app,
                &key,
                reqwest::Method::POST,
                "/api/v1/checkout-sessions",
                Some(request(n)),
                None,
            )
            .await
        }
    }))
    .await;
    for (status, body, _) in &answers {
        assert_eq!(*status, 201, "{body}");
        assert_eq!(body["customer_ref"], "brand-new-customer");
    }
    let (customers, shoppers) = app
        .db_run(|conn| {
            use diesel::prelude::*;
            use paytr_checkout::db::schema::{api_customers, users};
            let customers = api_customers::table.count().get_result::<i64>(conn)?;
            let shoppers = users::table
                .filter(users::email.like("%@customers.invalid"))
                .count()
                .get_result::<i64>(conn)?;
            Ok((customers, shoppers))
        })
        .await;
    assert_eq!((customers, shoppers), (1, 1), "one customer, one shopper");
}
