//! Accounts and sessions: registration, log in with a new session id, log out that ends the
//! session on the server, timeouts and rate limits.

use crate::helpers::{TestApp, spawn_app};
use crate::shopper::Shopper;
use diesel::RunQueryDsl;
use paytr_checkout::db::Backend;

async fn signed_in(shopper: &mut Shopper) -> bool {
    shopper
        .get("/account")
        .await
        .html
        .contains("id=\"nav-account\"")
}

#[tokio::test]
async fn signing_up_confirms_the_address_by_email_then_signs_the_shopper_in_once() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);

    let check = shopper.sign_up("new@example.com").await;
    assert_eq!(check.status, 200);
    assert!(
        !signed_in(&mut shopper).await,
        "not before the address is confirmed"
    );
    shopper.get("/login").await;
    let early = shopper
        .post(
            "/login",
            &[
                ("email", "new@example.com"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    let link = shopper
        .confirmation_link("new@example.com")
        .await
        .expect("an e-mail with a link");
    let confirmed = shopper.get(&link).await;
    let mut replay = Shopper::new(&app.address);
    let again = replay.get(&link).await;

    assert_eq!(early.status, 401, "an unconfirmed account can't log in");
    assert!(confirmed.url.ends_with("/account"), "{}", confirmed.url);
    assert!(signed_in(&mut shopper).await);
    assert_eq!(again.status, 404, "a link works once");
    assert!(!signed_in(&mut replay).await);
}

#[tokio::test]
async fn registration_errors_are_shown_beside_the_fields() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.get("/register").await;

    let page = shopper
        .post(
            "/register",
            &[("full_name", ""), ("email", "nope"), ("password", "short")],
        )
        .await;

    assert_eq!(page.status, 422);
    for id in ["full_name-error", "email-error", "password-error"] {
        assert!(page.html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(page.html.contains("value=\"nope\""), "values are kept");
}

#[tokio::test]
async fn logging_in_issues_a_new_session_and_logging_out_ends_it_on_the_server() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.register("login@example.com").await;
    shopper.post("/logout", &[]).await;
    assert!(!signed_in(&mut shopper).await);
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let login_page = raw
        .get(format!("{}/login", app.address))
        .send()
        .await
        .expect("login page");
    let anonymous_cookie = cookie(&login_page).expect("a session for the CSRF token");
    let html = login_page.text().await.expect("html");
    let csrf = crate::shopper::attr(
        &html[html.find("name=\"csrf_token\"").unwrap_or(0)..],
        "value",
    )
    .expect("token");

    let logged_in = raw
        .post(format!("{}/login", app.address))
        .header("cookie", &anonymous_cookie)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "login@example.com"),
            ("password", "a long enough password"),
        ])
        .send()
        .await
        .expect("login");
    let session = cookie(&logged_in).expect("a new session cookie on login");
    assert_ne!(session, anonymous_cookie, "the session id changes on login");
    let account = raw
        .get(format!("{}/account", app.address))
        .header("cookie", &session)
        .send()
        .await
        .expect("account");
    assert_eq!(account.status(), 200, "signed in with the new cookie");
    let html = account.text().await.expect("html");
    let csrf = crate::shopper::attr(
        &html[html.find("name=\"csrf_token\"").unwrap_or(0)..],
        "value",
    )
    .expect("token");
    raw.post(format!("{}/logout", app.address))
        .header("cookie", &session)
        .form(&[("csrf_token", csrf)])
        .send()
        .await
        .expect("logout");
    let replay = raw
        .get(format!("{}/account", app.address))
        .header("cookie", &session)
        .send()
        .await
        .expect("account");

    assert_eq!(
        replay.status(),
        303,
        "the old cookie no longer works after logout"
    );
    assert_eq!(
        count_sessions(&app).await,
        0,
        "logout deleted the server-side session"
    );
}

fn cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sess=") && !v.starts_with("sess=;"))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

async fn count_sessions(app: &TestApp) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let pool = Backend::from_url(&app.db.url)
        .expect("url")
        .pool(1)
        .expect("pool");
    pool.run(|conn| {
        Ok(
            diesel::sql_query("SELECT COUNT(*) AS n FROM sessions WHERE user_id IS NOT NULL")
                .get_result::<Count>(conn)?
                .n,
        )
    })
    .await
    .expect("count")
}

#[tokio::test]
async fn an_idle_session_expires_on_the_server() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.register("idle@example.com").await;
    assert!(signed_in(&mut shopper).await);

    app.execute_sql("UPDATE sessions SET last_seen_at = last_seen_at - 1801")
        .await;

    assert!(
        !signed_in(&mut shopper).await,
        "30 minutes idle ends the session"
    );
}

#[tokio::test]
async fn a_session_ends_after_twelve_hours_even_when_active() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.register("long@example.com").await;

    app.execute_sql("UPDATE sessions SET created_at = created_at - 43201")
        .await;

    assert!(!signed_in(&mut shopper).await);
}

#[tokio::test]
async fn repeated_failed_logins_back_off() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.register("target@example.com").await;
    shopper.post("/logout", &[]).await;
    let mut statuses = Vec::new();

    for _ in 0..6 {
        shopper.get("/login").await;
        statuses.push(
            shopper
                .post(
                    "/login",
                    &[
                        ("email", "target@example.com"),
                        ("password", "wrong password!!"),
                    ],
                )
                .await
                .status,
        );
    }

    assert!(statuses[..5].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(statuses[5], 429, "the sixth try comes too soon");
    shopper.get("/login").await;
    let right = shopper
        .post(
            "/login",
            &[
                ("email", "target@example.com"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(
        right.status, 429,
        "from the guessing address, even the right password waits its turn"
    );
    assert!(
        right.html.contains("id=\"wait-notice\"")
            && right.html.contains("saniye sonra tekrar deneyin"),
        "the page says how long to wait: {}",
        right.html
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    shopper.get("/login").await;
    let later = shopper
        .post(
            "/login",
            &[
                ("email", "target@example.com"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert!(signed_in_page(&later), "after the wait: {}", later.status);
}

fn signed_in_page(page: &crate::shopper::Page) -> bool {
    page.status == 200 && page.html.contains("id=\"nav-account\"")
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.register("known@example.com").await;
    shopper.post("/logout", &[]).await;

    shopper.get("/login").await;
    let wrong = shopper
        .post(
            "/login",
            &[
                ("email", "known@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    shopper.get("/login").await;
    let unknown = shopper
        .post(
            "/login",
            &[
                ("email", "nobody@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;

    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert!(
        wrong.html.contains("E-posta veya şifre hatalı.")
            && unknown.html.contains("E-posta veya şifre hatalı.")
    );
}

#[tokio::test]
async fn expired_sessions_are_pruned_and_live_ones_kept() {
    let app = spawn_app().await;
    let mut old = Shopper::new(&app.address);
    old.register("old@example.com").await;
    let mut live = Shopper::new(&app.address);
    live.register("live@example.com").await;
    let pool = Backend::from_url(&app.db.url)
        .expect("url")
        .pool(1)
        .expect("pool");
    pool.run(|conn| {
        Ok(diesel::sql_query(
            "UPDATE sessions SET last_seen_at = last_seen_at - 1801 WHERE user_id = (SELECT id FROM users WHERE email = 'old@example.com')",
        )
        .execute(conn)?)
    })
    .await
    .expect("age one session");

    let store = paytr_checkout::sessions::DbSessionStore::new(pool);
    let removed = store.prune().await.expect("prune");

    assert_eq!(removed, 1);
    assert_eq!(count_sessions(&app).await, 1);
    assert!(signed_in(&mut live).await);
}

#[tokio::test]
async fn refused_sign_up_forms_do_not_count_against_the_sign_up_limit() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    for _ in 0..12 {
        shopper.get("/register").await;
        let refused = shopper
            .post(
                "/register",
                &[
                    ("full_name", "Ayşe"),
                    ("email", "typo@example.com"),
                    ("password", "short"),
                ],
            )
            .await;
        assert_eq!(refused.status, 422, "a mistake in the form, said as such");
    }
    shopper.get("/register").await;
    let accepted = shopper
        .post(
            "/register",
            &[
                ("full_name", "Ayşe"),
                ("email", "typo@example.com"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.html);
    assert!(
        accepted.html.contains("id=\"check-email\""),
        "{}",
        accepted.html
    );
}

async fn log_in(shopper: &mut Shopper, email: &str) -> crate::shopper::Page {
    shopper
        .post(
            "/login",
            &[("email", email), ("password", "a long enough password")],
        )
        .await
}

#[tokio::test]
async fn logging_in_or_signing_up_returns_the_shopper_to_where_they_were_and_only_on_our_site() {
    let app = spawn_app().await;
    let mut registered = Shopper::new(&app.address);
    registered.register("back@example.com").await;
    registered.post("/logout", &[]).await;

    // A page that needs the shopper: back to it after logging in.
    let asked = registered.get("/account/cards").await;
    assert!(asked.url.ends_with("/login"), "{}", asked.url);
    let in_again = log_in(&mut registered, "back@example.com").await;
    assert!(in_again.url.ends_with("/account/cards"), "{}", in_again.url);

    // The log-in link of the cart page, during a purchase.
    registered.post("/logout", &[]).await;
    registered.add_to_cart("lokum").await;
    let cart = registered.get("/cart").await;
    assert!(
        cart.html.contains("href=\"/login?next=/cart\""),
        "{}",
        cart.html
    );
    registered.get("/login?next=%2Fcart").await;
    let back = log_in(&mut registered, "back@example.com").await;
    assert!(
        back.url.ends_with("/cart") && back.html.contains("Güllü lokum"),
        "{}",
        back.url
    );

    // Signing up from checkout: the confirmation link leads back to checkout, cart kept.
    let mut buyer = Shopper::new(&app.address);
    buyer.add_to_cart("lokum").await;
    buyer.get("/register?next=/checkout").await;
    let check = buyer
        .post(
            "/register",
            &[
                ("full_name", "Ayşe Yılmaz"),
                ("email", "during@example.com"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert!(check.html.contains("id=\"check-email\""));
    let link = buyer
        .confirmation_link("during@example.com")
        .await
        .expect("link");
    let landed = buyer.get(&link).await;
    assert!(landed.url.ends_with("/checkout"), "{}", landed.url);
    assert!(landed.html.contains("id=\"continue-to-payment\""));

    // Never to another site.
    for next in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "/login",
    ] {
        let mut other = Shopper::new(&app.address);
        other.get(&format!("/login?next={}", urlencode(next))).await;
        let page = log_in(&mut other, "back@example.com").await;
        assert!(
            page.url.starts_with(&app.address) && page.url.ends_with("/account"),
            "{next}: {}",
            page.url
        );
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_a_single_use_link_that_ends_every_session() {
    let app = spawn_app().await;
    let mut owner = Shopper::new(&app.address);
    owner.register("forgot@example.com").await;
    let mut elsewhere = Shopper::new(&app.address);
    elsewhere.get("/login").await;
    log_in(&mut elsewhere, "forgot@example.com").await;
    assert!(signed_in(&mut elsewhere).await);

    // The same answer whether or not the address has an account.
    let mut asker = Shopper::new(&app.address);
    asker.get("/password/forgot").await;
    let known = asker
        .post("/password/forgot", &[("email", "Forgot@example.com")])
        .await;
    asker.get("/password/forgot").await;
    let unknown = asker
        .post("/password/forgot", &[("email", "nobody@example.com")])
        .await;
    assert_eq!((known.status, unknown.status), (200, 200));
    let strip = |html: &str| {
        html.replace("Forgot@example.com", "")
            .replace("nobody@example.com", "")
    };
    assert_eq!(strip(&known.html).len(), strip(&unknown.html).len());
    assert!(known.html.contains("id=\"reset-sent\""));
    let mailbox = asker.get("/sandbox/mail").await.html;
    assert!(!mailbox.contains("data-to=\"nobody@example.com\""));
    let link = asker
        .confirmation_link("forgot@example.com")
        .await
        .expect("a reset link");
    assert!(link.contains("/password/reset/"), "{link}");
    let token = link.rsplit('/').next().expect("token").to_owned();
    let stored: i64 = app
        .db_run(move |conn| {
            use diesel::prelude::*;
            use paytr_checkout::db::schema::email_tokens;
            Ok(email_tokens::table
                .filter(email_tokens::token_hash.eq(&token))
                .count()
                .get_result(conn)?)
        })
        .await;
    assert_eq!(stored, 0, "only the link's hash is kept");

    // A confirmation link is not a reset link.
    let confirm_as_reset = asker
        .get(&link.replace("/password/reset/", "/register/confirm/"))
        .await;
    assert_eq!(confirm_as_reset.status, 404);

    let form = asker.get(&link).await;
    assert!(form.html.contains("id=\"reset-submit\""));
    let short = asker.post(&link, &[("password", "short")]).await;
    assert_eq!(short.status, 422);
    assert!(short.html.contains("aria-invalid=\"true\""));
    let done = asker
        .post(&link, &[("password", "a brand new password")])
        .await;
    assert!(done.url.ends_with("/login?reset=1") && done.html.contains("id=\"reset-done\""));

    // Once only; the other sessions are over; the old password no longer works.
    asker.get("/password/forgot").await;
    let again = asker
        .post(&link, &[("password", "another new password")])
        .await;
    assert_eq!(again.status, 404);
    assert!(!signed_in(&mut elsewhere).await, "sessions elsewhere ended");
    let mut fresh = Shopper::new(&app.address);
    fresh.get("/login").await;
    let old = log_in(&mut fresh, "forgot@example.com").await;
    assert_eq!(old.status, 401);
    let new = fresh
        .post(
            "/login",
            &[
                ("email", "forgot@example.com"),
                ("password", "a brand new password"),
            ],
        )
        .await;
    assert!(new.url.ends_with("/account"), "{}", new.url);
}

#[tokio::test]
async fn the_sign_up_limit_says_how_long_to_wait() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    let mut last = None;
    for i in 0..11 {
        shopper.get("/register").await;
        let email = format!("many{i}@example.com");
        last = Some(
            shopper
                .post(
                    "/register",
                    &[
                        ("full_name", "Ayşe Yılmaz"),
                        ("email", email.as_str()),
                        ("password", "a long enough password"),
                    ],
                )
                .await,
        );
    }
    let last = last.expect("a page");
    assert_eq!(last.status, 429);
    assert!(
        last.html.contains("60 dakika sonra tekrar deneyin")
            || last.html.contains("59 dakika sonra tekrar deneyin"),
        "{}",
        last.html
    );
}
