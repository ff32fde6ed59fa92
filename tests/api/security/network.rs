//! The client's address, limits per address, and what every answer carries.

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::shopper::Shopper;

/// A guest checks out from `forwarded` (as the trusted proxy reports it); the final URL.
async fn checkout_from(app: &TestApp, forwarded: &str) -> reqwest::Response {
    let mut guest = Shopper::new(&app.address);
    guest.add_to_cart("lokum").await;
    guest.get("/checkout").await;
    guest
        .http
        .post(format!("{}/checkout", app.address))
        .header("x-forwarded-for", forwarded)
        .form(&[
            ("csrf_token", guest.csrf().as_str()),
            ("full_name", "Ayşe Yılmaz"),
            ("email", "ayse@example.com"),
            ("phone", "0555 111 22 33"),
            ("address", "Kadıköy, İstanbul"),
            ("accept_terms", "1"),
        ])
        .send()
        .await
        .expect("answer")
}

async fn user_ip_of_last_attempt(app: &TestApp) -> String {
    #[derive(diesel::QueryableByName)]
    struct Ip {
        #[diesel(sql_type = diesel::sql_types::Text)]
        user_ip: String,
    }
    app.db_run(|conn| {
        Ok(diesel::RunQueryDsl::get_result::<Ip>(
            diesel::sql_query("SELECT user_ip FROM payment_attempts ORDER BY id DESC LIMIT 1"),
            conn,
        )?
        .user_ip)
    })
    .await
}

fn reached_payment_page(answer: &reqwest::Response) -> bool {
    answer.status() == 200 && answer.url().path().ends_with("/pay")
}

#[tokio::test]
async fn the_shoppers_ip_is_the_first_untrusted_hop_from_the_right() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;

    let forged = checkout_from(&app, "6.6.6.6, 203.0.113.7").await;

    assert!(reached_payment_page(&forged));
    assert_eq!(
        user_ip_of_last_attempt(&app).await,
        "203.0.113.7",
        "the left end is the client's own claim"
    );
}

#[tokio::test]
async fn ipv6_shoppers_check_out_and_are_limited_by_their_64() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let full = "2001:0db8:85a3:0000:0000:8a2e:0370:7334";

    let first = checkout_from(&app, full).await;
    assert!(reached_payment_page(&first), "{}", first.status());
    assert_eq!(
        user_ip_of_last_attempt(&app).await,
        "2001:db8:85a3::8a2e:370:7334"
    );

    // 29 more from other addresses of the same /64 fill its budget of 30; the next is refused,
    // and another /64 is not.
    for i in 0..29 {
        let answer = checkout_from(&app, &format!("2001:db8:85a3:0:{i:x}::1")).await;
        assert!(reached_payment_page(&answer), "{i}");
    }
    let over = checkout_from(&app, "2001:db8:85a3:0:ffff::9").await;
    let elsewhere = checkout_from(&app, "2001:db8:85a3:1::1").await;
    assert!(!reached_payment_page(&over), "the /64 is over its limit");
    assert!(reached_payment_page(&elsewhere));
}

#[tokio::test]
async fn starting_subscriptions_is_rate_limited_like_checkouts() {
    let app = spawn_app().await;
    let mut shopper = super::signed_up(&app, "many@example.com").await;
    shopper.get("/subscribe/kahve-kulubu").await;
    let mut statuses = Vec::new();

    for _ in 0..31 {
        let answer = shopper
            .http
            .post(format!("{}/subscribe/kahve-kulubu", app.address))
            .form(&[
                ("csrf_token", shopper.csrf().as_str()),
                ("full_name", "Ayşe Yılmaz"),
                ("email", "many@example.com"),
                ("phone", "0555 111 22 33"),
                ("address", "Kadıköy, İstanbul"),
                ("accept_terms", "1"),
                ("consent", "1"),
            ])
            .send()
            .await
            .expect("answer");
        statuses.push(answer.status().as_u16());
    }

    assert!(statuses[..30].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(statuses[30], 429);
}

#[tokio::test]
async fn no_path_a_stranger_can_send_gets_a_server_error() {
    let app = spawn_app().await;
    let mut stranger = Shopper::new(&app.address);
    stranger.get("/").await;
    let odd = [
        "%0d%0aSet-Cookie:%20x=1",
        "%00",
        "%1b%5b2J",
        "..%2f..%2fetc%2fpasswd",
        "%ff%fe",
        &"a".repeat(3000),
    ];
    let csrf = stranger.csrf();

    for id in odd {
        for path in [
            format!("/orders/{id}"),
            format!("/orders/{id}/pay"),
            format!("/orders/{id}/ok"),
            format!("/orders/{id}/fail"),
            format!("/products/{id}"),
            format!("/subscribe/{id}"),
            format!("/account/cards/{id}/delete"),
        ] {
            let get = app.get(&path).await.status().as_u16();
            assert!(get < 500, "GET {path}: {get}");
        }
        for path in [
            format!("/orders/{id}/retry"),
            format!("/orders/{id}/saved"),
            format!("/orders/{id}/fail"),
            format!("/account/subscriptions/{id}/pay"),
        ] {
            let post = stranger
                .http
                .post(format!("{}{path}", app.address))
                .form(&[("csrf_token", csrf.as_str())])
                .send()
                .await
                .expect("answer")
                .status()
                .as_u16();
            assert!(post < 500, "POST {path}: {post}");
        }
    }
}

#[tokio::test]
async fn the_language_links_of_any_page_stay_on_this_site() {
    let app = spawn_app().await;

    let page = app.get("//evil.example").await;
    let status = page.status().as_u16();
    let html = page.text().await.expect("body");

    assert_eq!(status, 404);
    assert!(!html.contains("evil.example"), "{html}");
    assert!(html.contains("href=\"/?lang=en\""), "{html}");
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_https_adds_hsts() {
    let app = spawn_app_with(&[
        ("PUBLIC_URL", "https://shop.example"),
        ("COOKIE_SECURE", "0"),
    ])
    .await;
    let plain = spawn_app().await;
    let big = "x".repeat(20 * 1024);
    let get = |path: &str| app.http.get(format!("{}{path}", app.local)).send();
    let post = |path: &str| app.http.post(format!("{}{path}", app.local));
    let answers = vec![
        get("/healthz").await.expect("answer"),
        get("/no-such-page").await.expect("answer"),
        get("/?card_number=4355084355084358").await.expect("answer"),
        post("/paytr/notify")
            .body(big)
            .send()
            .await
            .expect("answer"),
        post("/checkout")
            .form(&[("x", "y")])
            .send()
            .await
            .expect("answer"),
    ];

    let statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
    assert_eq!(statuses, [200, 404, 400, 413, 403]);
    for answer in &answers {
        for header in [
            "content-security-policy",
            "x-content-type-options",
            "x-frame-options",
            "referrer-policy",
            "strict-transport-security",
        ] {
            assert!(
                answer.headers().contains_key(header),
                "{header} on {} {}",
                answer.status(),
                answer.url()
            );
        }
    }
    let over_http = plain.get("/healthz").await;
    assert!(
        !over_http
            .headers()
            .contains_key("strict-transport-security")
    );
}
