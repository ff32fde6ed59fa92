//! The back office: staff log-in with TOTP, who may see and do what, finding an order,
//! refunding from it, keyset pages, the CSV export and the audit log.

use crate::helpers::{TestApp, spawn_app};
use crate::sandbox_harness::VISA;
use crate::shopper::{Page, Shopper, hidden_fields, order_id};
use paytr_checkout::db::models::NewOrder;
use std::time::{SystemTime, UNIX_EPOCH};
use totp_rs::TOTP;

pub(crate) const PASSWORD: &str = "correct horse battery";

/// `paytr-checkout admin add-user`, the password on standard input; answers the TOTP the
/// printed otpauth URI describes.
pub(crate) async fn add_staff(app: &TestApp, email: &str, role: &str) -> TOTP {
    use std::io::Write;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_paytr-checkout"));
    command
        .args(["admin", "add-user", "--email", email, "--role", role])
        .env_clear()
        .envs(app.env.iter().filter(|(k, _)| k.as_str() != "BIND"))
        .env("LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let output = tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("binary runs");
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{PASSWORD}").expect("password written");
        drop(stdin);
        child.wait_with_output().expect("finished")
    })
    .await
    .expect("joined");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let uri = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(!uri.contains(PASSWORD));
    TOTP::from_url(&uri).expect("a TOTP URI")
}

/// The code of the step `steps_ahead` steps from now (the server accepts one step ahead, and
/// each step's code once).
pub(crate) fn code(totp: &TOTP, steps_ahead: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    totp.generate(now + steps_ahead * 30)
}

pub(crate) async fn log_in(app: &TestApp, email: &str, totp: &TOTP) -> Shopper {
    let mut staff = Shopper::new(&app.address);
    let page = staff
        .post(
            "/admin/login",
            &[
                ("email", email),
                ("password", PASSWORD),
                ("code", &code(totp, 0)),
            ],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.url.ends_with("/admin"), "{}", page.url);
    staff
}

/// A guest buys a ceramic mug (180.00 TL); answers the order id.
async fn paid_order(app: &TestApp, email: &str) -> (Shopper, String) {
    let mut shopper = Shopper::new(&app.address);
    shopper.add_to_cart("seramik-kupa").await;
    shopper.get("/checkout").await;
    let pay = shopper
        .post(
            "/checkout",
            &[
                ("full_name", "Ayşe Yılmaz"),
                ("email", email),
                ("phone", "0555 111 22 33"),
                ("address", "Moda Cad. 1, Kadıköy, İstanbul"),
                ("accept_terms", "1"),
            ],
        )
        .await;
    assert!(hidden_fields(&pay.html).contains_key("merchant_oid"));
    let three_d = shopper.pay(&pay.html, VISA, false).await;
    shopper.answer_3d(&three_d, true).await;
    let id = order_id(&pay.url);
    shopper
        .wait_for_order_status(&format!("/orders/{id}"), "status_paid")
        .await;
    (shopper, id)
}

fn refunded_at_paytr(app: &TestApp) -> Vec<i64> {
    app.sandbox.as_ref().expect("sandbox").read(|s| {
        s.payments
            .iter()
            .flat_map(|p| p.refunds.iter().map(|r| r.amount_kurus))
            .collect()
    })
}

async fn refund(staff: &mut Shopper, id: &str, amount: &str, code: &str) -> Page {
    staff.get(&format!("/admin/orders/{id}")).await;
    staff
        .post(
            &format!("/admin/orders/{id}/refunds"),
            &[("amount", amount), ("reason", "damaged"), ("code", code)],
        )
        .await
}

#[tokio::test]
async fn staff_log_in_needs_the_password_and_an_unused_totp_code() {
    let app = spawn_app().await;
    let totp = add_staff(&app, "owner@example.com", "owner").await;
    let mut staff = Shopper::new(&app.address);

    let wrong = staff
        .post(
            "/admin/login",
            &[
                ("email", "owner@example.com"),
                ("password", PASSWORD),
                ("code", "000000"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.html.contains("id=\"login-error\""));
    let no_password = staff
        .post(
            "/admin/login",
            &[
                ("email", "owner@example.com"),
                ("password", "nope nope nope"),
                ("code", &code(&totp, 0)),
            ],
        )
        .await;
    assert_eq!(no_password.status, 401);

    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let good = code(&totp, 0);
    let answer = raw
        .post(format!("{}/admin/login", app.address))
        .form(&[
            ("email", "owner@example.com"),
            ("password", PASSWORD),
            ("code", &good),
        ])
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status().as_u16(), 303);
    let cookie = answer
        .headers()
        .get("set-cookie")
        .and_then(|c| c.to_str().ok())
        .expect("a staff cookie")
        .to_owned();
    assert!(cookie.starts_with("admin_sid="), "{cookie}");
    assert!(
        cookie.contains("Path=/admin") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    let replay = raw
        .post(format!("{}/admin/login", app.address))
        .form(&[
            ("email", "owner@example.com"),
            ("password", PASSWORD),
            ("code", &good),
        ])
        .send()
        .await
        .expect("answer");
    assert_eq!(replay.status().as_u16(), 401, "a code is spent once");

    let staff = log_in_again(&app, &totp).await;
    let mut staff = staff;
    let audit = staff.get("/admin/audit").await;
    assert!(
        audit.html.contains("data-action=\"login\""),
        "{}",
        audit.html
    );
    assert!(audit.html.contains("data-action=\"login_failed\""));
}

/// A log-in with the next step's code (this step's was spent).
async fn log_in_again(app: &TestApp, totp: &TOTP) -> Shopper {
    let mut staff = Shopper::new(&app.address);
    let page = staff
        .post(
            "/admin/login",
            &[
                ("email", "owner@example.com"),
                ("password", PASSWORD),
                ("code", &code(totp, 1)),
            ],
        )
        .await;
    assert!(page.url.ends_with("/admin"), "{} {}", page.url, page.html);
    staff
}

#[tokio::test]
async fn nothing_under_admin_without_a_staff_session() {
    let app = spawn_app().await;
    let (mut shopper, id) = paid_order(&app, "victim@example.com").await;
    shopper.register("member@example.com").await;
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for path in [
        "/admin".to_owned(),
        "/admin/orders?q=victim@example.com".to_owned(),
        format!("/admin/orders/{id}"),
        "/admin/orders.csv".to_owned(),
        "/admin/audit".to_owned(),
    ] {
        let answer = raw
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("answer");
        assert_eq!(answer.status().as_u16(), 303, "{path}");
        assert_eq!(
            answer
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok()),
            Some("/admin/login"),
            "{path}"
        );
        // A signed-in shopper's session is nothing here either.
        let page = shopper.get(&path).await;
        assert!(page.url.ends_with("/admin/login"), "{path}: {}", page.url);
        assert!(!page.html.contains("victim@example.com"), "{path}");
    }
    let forged = raw
        .post(format!("{}/admin/orders/{id}/refunds", app.address))
        .form(&[
            ("amount", "180.00"),
            ("code", "123456"),
            ("csrf_token", "x"),
        ])
        .send()
        .await
        .expect("answer");
    assert_eq!(forged.status().as_u16(), 303);
    assert!(refunded_at_paytr(&app).is_empty());
}

#[tokio::test]
async fn support_reads_orders_but_cannot_refund() {
    let app = spawn_app().await;
    let (_, id) = paid_order(&app, "buyer@example.com").await;
    let totp = add_staff(&app, "support@example.com", "support").await;
    let mut staff = log_in(&app, "support@example.com", &totp).await;

    let list = staff.get("/admin/orders?q=buyer@example.com").await;
    assert!(list.html.contains(&id), "{}", list.html);
    let page = staff.get(&format!("/admin/orders/{id}")).await;
    assert!(
        !page.html.contains("id=\"refund-form\""),
        "no refund form for support"
    );
    let refused = refund(&mut staff, &id, "10.00", &code(&totp, 1)).await;
    assert_eq!(refused.status, 403);
    assert!(refunded_at_paytr(&app).is_empty());
}

#[tokio::test]
async fn an_owner_finds_a_paid_order_by_email_and_refunds_part_of_it() {
    let app = spawn_app().await;
    let (mut shopper, id) = paid_order(&app, "Ayse.Buyer@example.com").await;
    let totp = add_staff(&app, "owner@example.com", "owner").await;
    let mut staff = log_in(&app, "owner@example.com", &totp).await;

    let found = staff.get("/admin/orders?q=ayse.buyer@EXAMPLE.com").await;
    assert_eq!(
        found.html.matches("class=\"order-row\"").count(),
        1,
        "{}",
        found.html
    );
    assert!(found.html.contains(&format!("/admin/orders/{id}")));
    let page = staff.get(&format!("/admin/orders/{id}")).await;
    assert!(
        page.html.contains("id=\"refundable\">180,00 TL"),
        "{}",
        page.html
    );
    assert!(
        page.html.contains("PayTR"),
        "the notification is on the timeline"
    );

    let bad_code = refund(&mut staff, &id, "50.00", "123456").await;
    assert_eq!(bad_code.status, 422);
    assert!(bad_code.html.contains("id=\"refund-error\""));
    let too_much = refund(&mut staff, &id, "180.01", &code(&totp, 1)).await;
    assert_eq!(too_much.status, 422, "{}", too_much.html);
    assert!(refunded_at_paytr(&app).is_empty());

    let done = refund(&mut staff, &id, "50,00", &code(&totp, 1)).await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(done.html.contains("id=\"refund-result\""), "{}", done.html);
    assert!(
        done.html.contains("id=\"refundable\">130,00 TL"),
        "{}",
        done.html
    );
    assert_eq!(refunded_at_paytr(&app), [5000]);

    let shopper_page = shopper.get(&format!("/orders/{id}")).await;
    assert!(
        shopper_page.html.contains("−50,00 TL"),
        "{}",
        shopper_page.html
    );
    let audit = staff.get("/admin/audit").await;
    assert!(
        audit.html.contains("data-action=\"refund\""),
        "{}",
        audit.html
    );
    assert!(audit.html.contains(&format!("order:{id}")));
}

#[tokio::test]
async fn two_owners_refunding_at_once_never_refund_more_than_was_paid() {
    let app = spawn_app().await;
    let (_, id) = paid_order(&app, "twice@example.com").await;
    let (one, two) = (
        add_staff(&app, "one@example.com", "owner").await,
        add_staff(&app, "two@example.com", "owner").await,
    );
    let mut a = log_in(&app, "one@example.com", &one).await;
    let mut b = log_in(&app, "two@example.com", &two).await;
    a.get(&format!("/admin/orders/{id}")).await;
    b.get(&format!("/admin/orders/{id}")).await;
    let (ca, cb) = (code(&one, 1), code(&two, 1));
    let fields = |code: &str, csrf: String| {
        vec![
            ("csrf_token".to_owned(), csrf),
            ("amount".to_owned(), "120.00".to_owned()),
            ("code".to_owned(), code.to_owned()),
        ]
    };
    let (fa, fb) = (fields(&ca, a.csrf()), fields(&cb, b.csrf()));
    let path = format!("/admin/orders/{id}/refunds");
    let (ra, rb) = tokio::join!(a.post_raw(&path, &fa), b.post_raw(&path, &fb));

    let statuses = [ra.status, rb.status];
    assert!(
        statuses.contains(&200) && statuses.contains(&422),
        "{statuses:?}"
    );
    assert_eq!(refunded_at_paytr(&app), [12000]);
}

async fn insert_orders(app: &TestApp, count: usize, name: &'static str) {
    app.db_run(move |conn| {
        for i in 0..count {
            let public_id = format!("BULK{i:020}");
            NewOrder {
                public_id: &public_id,
                user_id: None,
                email: &format!("bulk{}@example.com", i % 7),
                full_name: name,
                phone: "05551112233",
                address: "İstanbul",
                total_kurus: 1000 + i as i64,
                currency: "TL",
                basket_json: "[]",
                created_at: 1_790_000_000 + i as i64,
                updated_at: 1_790_000_000 + i as i64,
                terms_version: None,
                terms_text: None,
                terms_accepted_at: None,
                lang: "tr",
            }
            .insert(conn)?;
        }
        Ok(())
    })
    .await;
}

/// The "older" link's target, unescaped.
fn next_link(html: &str) -> Option<String> {
    let at = html.find("id=\"next-page\"")?;
    let start = html[..at].rfind("href=\"")? + 6;
    let end = start + html[start..].find('"')?;
    Some(crate::shopper::unescape(&html[start..end]))
}

#[tokio::test]
async fn keyset_pages_show_every_order_once_across_page_borders() {
    let app = spawn_app().await;
    insert_orders(&app, 123, "Bulk Buyer").await;
    let totp = add_staff(&app, "owner@example.com", "owner").await;
    let mut staff = log_in(&app, "owner@example.com", &totp).await;

    let mut seen = Vec::new();
    let mut path = "/admin/orders?q=&status=pending".to_owned();
    for _ in 0..10 {
        let page = staff.get(&path).await;
        for piece in page.html.split("href=\"/admin/orders/BULK").skip(1) {
            seen.push(piece[..20].to_owned());
        }
        match next_link(&page.html) {
            Some(next) => path = next,
            None => break,
        }
    }
    let expected: Vec<String> = (0..123).rev().map(|i| format!("{i:020}")).collect();
    assert_eq!(seen, expected, "newest first, no gap, no repeat");

    let small = staff.get("/admin/orders?min=10.50&max=10.52").await;
    assert_eq!(small.html.matches("class=\"order-row\"").count(), 3);
    let bad = staff.get("/admin/orders?from=26.11.2026&min=abc").await;
    assert_eq!(bad.status, 400);
    assert!(bad.html.contains("id=\"from-error\""), "{}", bad.html);
}

#[tokio::test]
async fn the_csv_export_streams_every_order_and_defuses_formulas() {
    let app = spawn_app().await;
    insert_orders(&app, 2_345, "=HYPERLINK(\"http://evil\")").await;
    let totp = add_staff(&app, "owner@example.com", "owner").await;
    let staff = log_in(&app, "owner@example.com", &totp).await;

    let answer = staff
        .http
        .get(format!("{}/admin/orders.csv", app.address))
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status().as_u16(), 200);
    assert!(
        answer.headers().get("content-length").is_none(),
        "streamed, not built whole"
    );
    let body = answer.text().await.expect("body");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 2_346, "a header and every order");
    assert_eq!(lines[0], "order,created,status,total,currency,email,name");
    assert!(
        lines[1].starts_with("BULK00000000000000002344,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].ends_with(",\"'=HYPERLINK(\"\"http://evil\"\")\""),
        "{}",
        lines[1]
    );
}

#[tokio::test]
async fn the_audit_log_cannot_be_changed() {
    let app = spawn_app().await;
    let totp = add_staff(&app, "owner@example.com", "owner").await;
    log_in(&app, "owner@example.com", &totp).await;
    let pool = paytr_checkout::db::Backend::from_url(&app.db.url)
        .expect("url")
        .pool(1)
        .expect("pool");
    for sql in [
        "UPDATE audit_log SET action = 'nothing'",
        "DELETE FROM audit_log",
    ] {
        let changed = pool
            .run(move |conn| {
                use diesel::RunQueryDsl;
                Ok(diesel::sql_query(sql).execute(conn)?)
            })
            .await;
        assert!(changed.is_err(), "{sql} refused");
    }
    let count = app
        .db_run(|conn| {
            use diesel::prelude::*;
            use paytr_checkout::db::schema::audit_log;
            Ok(audit_log::table.count().get_result::<i64>(conn)?)
        })
        .await;
    assert_eq!(count, 1, "the log-in is still recorded");
}

#[tokio::test]
async fn subscriptions_are_listed_and_only_owners_cancel_them() {
    let app = spawn_app().await;
    let (_, id) = crate::billing::subscriber(&app, "sub@example.com", VISA).await;
    let support_totp = add_staff(&app, "support@example.com", "support").await;
    let owner_totp = add_staff(&app, "owner@example.com", "owner").await;
    let mut support = log_in(&app, "support@example.com", &support_totp).await;
    let mut owner = log_in(&app, "owner@example.com", &owner_totp).await;

    let active = owner.get("/admin/subscriptions?filter=active").await;
    assert!(
        active
            .html
            .contains(&format!("/admin/subscriptions/{id}\"")),
        "{}",
        active.html
    );
    let cancelled = owner.get("/admin/subscriptions?filter=cancelled").await;
    assert!(!cancelled.html.contains("class=\"subscription-row\""));
    assert_eq!(
        owner.get("/admin/subscriptions?filter=nope").await.status,
        400
    );

    let path = format!("/admin/subscriptions/{id}");
    support.get(&path).await;
    let refused = support.post(&path, &[("action", "cancel_now")]).await;
    assert_eq!(refused.status, 403);
    support.get(&path).await;
    let flagged = support.post(&path, &[("action", "contact")]).await;
    assert!(flagged.html.contains("id=\"contact\">"), "{}", flagged.html);
    assert!(!flagged.html.contains("id=\"contact\">–"), "flagged");
    let listed = support.get("/admin/subscriptions?filter=contact").await;
    assert!(listed.html.contains("class=\"subscription-row\""));

    owner.get(&path).await;
    let ended = owner
        .post(&path, &[("action", "cancel_at_period_end")])
        .await;
    assert!(
        ended.html.contains("dönem sonunda bitecek"),
        "{}",
        ended.html
    );
    let now = owner.post(&path, &[("action", "cancel_now")]).await;
    assert!(
        now.html.contains("data-status=\"sub_cancelled\""),
        "{}",
        now.html
    );
    let audit = owner.get("/admin/audit").await;
    for action in ["subscription_contact", "subscription_cancel_now"] {
        assert!(
            audit.html.contains(&format!("data-action=\"{action}\"")),
            "{action}"
        );
    }
}

#[tokio::test]
async fn a_customer_s_saved_cards_are_fetched_on_demand_and_show_no_token() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.register("cards@example.com").await;
    shopper.buy_and_save("seramik-kupa", VISA).await;
    let totp = add_staff(&app, "support@example.com", "support").await;
    let mut staff = log_in(&app, "support@example.com", &totp).await;

    let list = staff.get("/admin/customers?q=CARDS@example.com").await;
    let start = list
        .html
        .find("href=\"/admin/customers/")
        .expect("a customer")
        + 6;
    let end = start + list.html[start..].find('"').expect("end");
    let link = list.html[start..end].to_owned();
    let page = staff.get(&link).await;
    assert!(page.html.contains("id=\"show-cards\""), "{}", page.html);
    assert!(!page.html.contains("4358"), "not fetched before asked");
    let cards = staff.get(&format!("{link}?cards=1")).await;
    assert!(cards.html.contains("•••• 4358"), "{}", cards.html);
    for utoken in app.sandbox_utokens() {
        assert!(!cards.html.contains(&utoken), "no utoken on the page");
    }
    let ctokens: Vec<String> = app
        .sandbox
        .as_ref()
        .expect("sandbox")
        .read(|s| s.cards.iter().map(|c| c.ctoken.clone()).collect());
    for ctoken in ctokens {
        assert!(!cards.html.contains(&ctoken), "no ctoken on the page");
    }
}

#[tokio::test]
async fn the_notifications_log_and_a_status_inquiry_beside_our_record() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.add_to_cart("seramik-kupa").await;
    let pay = shopper.checkout().await;
    let oid = hidden_fields(&pay.html)["merchant_oid"].clone();
    let three_d = shopper.pay(&pay.html, VISA, false).await;
    shopper.answer_3d(&three_d, true).await;
    shopper
        .wait_for_order_status(&format!("/orders/{}", order_id(&pay.url)), "status_paid")
        .await;
    let totp = add_staff(&app, "support@example.com", "support").await;
    let mut staff = log_in(&app, "support@example.com", &totp).await;

    let order = order_id(&pay.url);
    for q in [oid.as_str(), order.as_str()] {
        let found = staff.get(&format!("/admin/orders?q={q}")).await;
        assert_eq!(found.html.matches("class=\"order-row\"").count(), 1, "{q}");
        assert!(
            found.html.contains(&format!("/admin/orders/{order}\"")),
            "{q}"
        );
    }
    let log = staff.get("/admin/notifications?outcome=paid").await;
    assert!(log.html.contains(&oid), "{}", log.html);
    assert!(
        staff
            .get("/admin/notifications?outcome=bad_hash")
            .await
            .html
            .contains("Yok.")
    );

    staff.get("/admin/notifications").await;
    let asked = staff
        .post("/admin/notifications/inquiry", &[("merchant_oid", &oid)])
        .await;
    assert!(
        asked.html.contains("id=\"inquiry-ours\">Ödendi"),
        "{}",
        asked.html
    );
    assert!(
        asked.html.contains("id=\"inquiry-paytr\">Ödendi: 180.00"),
        "{}",
        asked.html
    );
    let unknown = staff
        .post(
            "/admin/notifications/inquiry",
            &[("merchant_oid", "NOSUCH123")],
        )
        .await;
    assert!(unknown.html.contains("(004)"), "{}", unknown.html);
    let bad = staff
        .post(
            "/admin/notifications/inquiry",
            &[("merchant_oid", "<script>")],
        )
        .await;
    assert!(!bad.html.contains("<script>"), "escaped");
}

#[tokio::test]
async fn repeated_wrong_staff_log_ins_are_slowed_down() {
    let app = spawn_app().await;
    let totp = add_staff(&app, "owner@example.com", "owner").await;
    let mut attacker = Shopper::new(&app.address);
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let page = attacker
            .post(
                "/admin/login",
                &[
                    ("email", "owner@example.com"),
                    ("password", "guess guess guess"),
                    ("code", "123456"),
                ],
            )
            .await;
        statuses.push(page.status);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    // Even the right password and code wait out the backoff from that address.
    let right = attacker
        .post(
            "/admin/login",
            &[
                ("email", "owner@example.com"),
                ("password", PASSWORD),
                ("code", &code(&totp, 0)),
            ],
        )
        .await;
    assert_eq!(right.status, 429, "{}", right.html);
}

#[tokio::test]
async fn an_idle_staff_session_ends() {
    let app = spawn_app().await;
    let totp = add_staff(&app, "owner@example.com", "owner").await;
    let mut staff = log_in(&app, "owner@example.com", &totp).await;
    assert!(
        staff
            .get("/admin/orders")
            .await
            .url
            .ends_with("/admin/orders")
    );

    app.execute_sql("UPDATE staff_sessions SET last_seen_at = last_seen_at - 1801")
        .await;

    let page = staff.get("/admin/orders").await;
    assert!(page.url.ends_with("/admin/login"), "{}", page.url);
    let pool = paytr_checkout::db::Backend::from_url(&app.db.url)
        .expect("url")
        .pool(1)
        .expect("pool");
    let store = paytr_checkout::sessions::DbSessionStore::new(pool);
    assert_eq!(
        store.prune().await.expect("pruned"),
        1,
        "the idle staff session row goes"
    );
}

#[tokio::test]
async fn an_owner_disables_a_member_with_a_fresh_code_and_their_session_ends() {
    let app = spawn_app().await;
    let owner_totp = add_staff(&app, "owner@example.com", "owner").await;
    let support_totp = add_staff(&app, "support@example.com", "support").await;
    let mut owner = log_in(&app, "owner@example.com", &owner_totp).await;
    let mut support = log_in(&app, "support@example.com", &support_totp).await;
    assert_eq!(support.get("/admin/staff").await.status, 403, "owners only");

    let page = owner.get("/admin/staff").await;
    let marker = "data-email=\"support@example.com\"";
    let row = &page.html[page.html.find(marker).expect("listed")..];
    let start = row.find("action=\"/admin/staff/").expect("a form") + 8;
    let action = row[start..start + row[start..].find('"').expect("end")].to_owned();
    let no_code = owner
        .post(&action, &[("action", "disable"), ("code", "000000")])
        .await;
    assert_eq!(no_code.status, 422);
    assert!(
        support
            .get("/admin/orders")
            .await
            .url
            .ends_with("/admin/orders")
    );

    owner.get("/admin/staff").await;
    let done = owner
        .post(
            &action,
            &[("action", "disable"), ("code", &code(&owner_totp, 1))],
        )
        .await;
    assert!(done.html.contains("Devre dışı 20"), "{}", done.html);
    assert!(
        support
            .get("/admin/orders")
            .await
            .url
            .ends_with("/admin/login"),
        "session ended"
    );
    let again = support
        .post(
            "/admin/login",
            &[
                ("email", "support@example.com"),
                ("password", PASSWORD),
                ("code", &code(&support_totp, 1)),
            ],
        )
        .await;
    assert_eq!(again.status, 401, "a disabled member cannot log in");
    let audit = owner.get("/admin/audit").await;
    assert!(audit.html.contains("data-action=\"staff_disable\""));
    assert!(
        audit
            .html
            .contains("data-action=\"staff_change_totp_refused\"")
    );
}

#[tokio::test]
async fn a_100_000_order_export_is_streamed_in_chunks() {
    let app = spawn_app().await;
    app.execute_sql(
        "INSERT INTO orders (public_id, email, full_name, phone, address, total_kurus, currency, \
         basket_json, status, created_at, updated_at) \
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999) \
         SELECT 'CSV' || i, 'csv@example.com', 'Csv Buyer', '05551112233', 'Istanbul', \
         1000 + i, 'TL', '[]', 'paid', 1790000000 + i, 1790000000 + i FROM n",
    )
    .await;
    let totp = add_staff(&app, "owner@example.com", "owner").await;
    let staff = log_in(&app, "owner@example.com", &totp).await;

    let mut answer = staff
        .http
        .get(format!("{}/admin/orders.csv", app.address))
        .send()
        .await
        .expect("answer");
    assert!(answer.headers().get("content-length").is_none());
    let (mut chunks, mut lines, mut largest) = (0, 0, 0);
    while let Some(chunk) = answer.chunk().await.expect("chunk") {
        chunks += 1;
        largest = largest.max(chunk.len());
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    assert_eq!(lines, 100_001, "a header and every order");
    assert!(chunks >= 100, "sent page by page: {chunks} chunks");
    assert!(
        largest < 256 * 1024,
        "no chunk holds the whole export: {largest} bytes"
    );
}

#[tokio::test]
async fn support_sends_a_paid_order_s_receipt_again() {
    let app = spawn_app().await;
    let (_, id) = paid_order(&app, "receipt@example.com").await;
    let totp = add_staff(&app, "support@example.com", "support").await;
    let mut staff = log_in(&app, "support@example.com", &totp).await;

    staff.get(&format!("/admin/orders/{id}")).await;
    let sent = staff
        .post(&format!("/admin/orders/{id}/receipt"), &[])
        .await;

    assert!(sent.html.contains("id=\"refund-result\""), "{}", sent.html);
    let mails = app
        .db_run(|conn| paytr_checkout::mail::recent(conn, 10))
        .await;
    let receipt = mails
        .iter()
        .find(|m| m.to_address == "receipt@example.com")
        .expect("a receipt was queued");
    assert!(
        receipt.body.contains(&id) && receipt.body.contains("180,00 TL"),
        "{}",
        receipt.body
    );
    assert!(!receipt.body.contains("4358"), "no card data in a receipt");
    let audit = staff.get("/admin/audit").await;
    assert!(audit.html.contains("data-action=\"receipt_sent\""));
}
