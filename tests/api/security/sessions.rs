//! Sessions: no row for an anonymous visitor, no resurrection after log out, and a log-in
//! limit that slows a guesser without locking the owner out.

use super::{count, signed_up};
use crate::helpers::{spawn_app, spawn_app_with};
use crate::shopper::Shopper;
use paytr_checkout::sessions::{DbSessionStore, State};

async fn user_id(app: &crate::helpers::TestApp, email: &'static str) -> i64 {
    app.db_run(move |conn| {
        Ok(
            paytr_checkout::db::models::User::find_by_email(conn, email)?
                .map(|u| u.id)
                .unwrap_or_default(),
        )
    })
    .await
}

/// A session store on the test's database (a pool of its own).
fn session_store(app: &crate::helpers::TestApp) -> DbSessionStore {
    let pool = paytr_checkout::db::Backend::from_url(&app.db.url)
        .expect("url")
        .pool(1)
        .expect("pool");
    DbSessionStore::new(pool)
}

#[tokio::test]
async fn cookieless_visits_write_no_session_rows_and_forms_still_work() {
    let app = spawn_app().await;

    for _ in 0..50 {
        let page = app.get("/").await;
        assert_eq!(page.status(), 200);
        assert!(page.headers().contains_key("set-cookie"), "a CSRF cookie");
    }
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM sessions").await, 0);

    // The anonymous visitor's CSRF token rides in the cookie, and forms work.
    let mut visitor = Shopper::new(&app.address);
    let cart = visitor.add_to_cart("lokum").await;
    assert!(
        cart.status == 200 && cart.html.contains("lokum"),
        "{}",
        cart.status
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM sessions").await,
        1,
        "a cart is worth a row"
    );
}

#[tokio::test]
async fn a_session_ended_by_log_out_is_never_brought_back_by_a_slow_request() {
    let app = spawn_app().await;
    signed_up(&app, "slow@example.com").await;
    let uid = user_id(&app, "slow@example.com").await;
    let rows_before = count(&app, "SELECT COUNT(*) AS n FROM sessions").await;
    let store = session_store(&app);
    let signed_in = State::from([("user_id", uid.to_string().as_str()), ("csrf", "\"t\"")]);

    // A slow request loaded the session; log out deletes it; then the slow one saves.
    let key = store.save(&signed_in).await.expect("saved");
    store.delete(&key).await.expect("logged out");
    let updated = store.update(&key, &signed_in).await.expect("updated");

    assert!(!updated, "the slow request learns the session is gone");
    assert_eq!(store.load(&key).await.expect("loads"), None);
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM sessions").await,
        rows_before,
        "no row came back"
    );
}

#[tokio::test]
async fn failed_logins_from_elsewhere_never_lock_the_owner_out() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let mut owner = signed_up(&app, "owner@example.com").await;
    owner.post("/logout", &[]).await;
    let mut attacker = Shopper::new(&app.address);
    attacker.get("/login").await;
    let csrf = attacker.csrf();
    let mut refused = 0;
    for ip in 1..=10 {
        for _ in 0..6 {
            let answer = attacker
                .http
                .post(format!("{}/login", app.address))
                .header("x-forwarded-for", format!("198.51.100.{ip}"))
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("email", "owner@example.com"),
                    ("password", "a wrong guess!!"),
                ])
                .send()
                .await
                .expect("answer");
            refused += usize::from(answer.status() == 429);
        }
    }

    owner.get("/login").await;
    let own = owner
        .post(
            "/login",
            &[
                ("email", "owner@example.com"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(refused, 10, "each guessing address is slowed down");
    assert!(
        own.status == 200 && own.html.contains("id=\"nav-account\""),
        "the owner signs in: {}",
        own.status
    );
}

/// A session cookie as actix-session wrote it before our own middleware: `value` encrypted
/// (AES-GCM) under `Key::from(SHA-512(SESSION_KEY))`, percent-encoded, named `sid`.
fn old_cookie(session_key: &str, value: &str) -> String {
    use actix_web::cookie::{Cookie, CookieJar, Key};
    use sha2::{Digest, Sha512};
    let key = Key::from(&Sha512::digest(session_key.as_bytes()));
    let mut jar = CookieJar::new();
    jar.private_mut(&key)
        .add(Cookie::new("sid", value.to_owned()));
    let cookie = jar.delta().next().expect("the cookie just added");
    cookie.encoded().stripped().to_string()
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

const SESSION_KEY: &str = "0123456789abcdef0123456789abcdef-upgrade";

#[tokio::test]
async fn a_shopper_signed_in_before_the_upgrade_stays_signed_in_and_keeps_the_cart() {
    let app = spawn_app_with(&[("SESSION_KEY", SESSION_KEY)]).await;
    signed_up(&app, "before@example.com").await;
    let uid = user_id(&app, "before@example.com").await;
    // The row a signed-in session of the old version had, and its old cookie.
    let user =
        serde_json::json!({"id": uid, "full_name": "Önce Gelen", "email": "before@example.com"});
    let id = session_store(&app)
        .save(&State::from([
            ("user_id", uid.to_string()),
            ("user", user.to_string()),
            ("csrf", "\"oldtoken\"".to_owned()),
        ]))
        .await
        .expect("saved");
    let old = old_cookie(SESSION_KEY, &id);
    let rows = count(&app, "SELECT COUNT(*) AS n FROM sessions").await;

    let account = app
        .http
        .get(format!("{}/account", app.address))
        .header("cookie", &old)
        .send()
        .await
        .expect("account");
    assert_eq!(account.status(), 200, "still signed in");
    assert!(
        set_cookies(&account).is_empty(),
        "{:?}",
        set_cookies(&account)
    );
    assert!(
        account
            .text()
            .await
            .expect("page")
            .contains("before@example.com")
    );

    // A change keeps the same row and leaves the old cookie as it is (an instance of the
    // older version, during a rolling deploy, still reads it).
    let added = app
        .http
        .post(format!("{}/cart/add", app.address))
        .header("cookie", &old)
        .form(&[("slug", "lokum"), ("csrf_token", "oldtoken")])
        .send()
        .await
        .expect("add");
    assert!(added.status().is_redirection(), "{}", added.status());
    assert!(set_cookies(&added).is_empty(), "{:?}", set_cookies(&added));
    let cart = app
        .http
        .get(format!("{}/cart", app.address))
        .header("cookie", &old)
        .send()
        .await
        .expect("cart");
    assert!(
        cart.text().await.expect("page").contains("lokum"),
        "the cart kept"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM sessions").await,
        rows
    );

    // Log out: the row is deleted and the old cookie removed.
    let out = app
        .http
        .post(format!("{}/logout", app.address))
        .header("cookie", &old)
        .form(&[("csrf_token", "oldtoken")])
        .send()
        .await
        .expect("logout");
    assert!(
        set_cookies(&out)
            .iter()
            .any(|c| c.starts_with("sid=;") && c.contains("Max-Age=0")),
        "{:?}",
        set_cookies(&out)
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM sessions").await,
        rows - 1
    );
}

#[tokio::test]
async fn an_old_anonymous_cookie_keeps_its_csrf_token_and_is_replaced_by_the_new_form() {
    let app = spawn_app_with(&[("SESSION_KEY", SESSION_KEY)]).await;
    let old = old_cookie(
        SESSION_KEY,
        r#"anon.{"csrf":"\"anonToken1\"","lang":"\"en\""}"#,
    );

    let added = app
        .http
        .post(format!("{}/cart/add", app.address))
        .header("cookie", &old)
        .form(&[("slug", "lokum"), ("csrf_token", "anonToken1")])
        .send()
        .await
        .expect("add");
    assert!(added.status().is_redirection(), "{}", added.status());
    let cookies = set_cookies(&added);
    let new = cookies
        .iter()
        .find(|c| c.starts_with("sess=") && !c.starts_with("sess=;"))
        .unwrap_or_else(|| panic!("a cookie of the new form: {cookies:?}"));
    assert!(
        cookies.iter().any(|c| c.starts_with("sid=;")),
        "{cookies:?}"
    );
    let new = new.split(';').next().expect("name=value");
    let cart = app
        .http
        .get(format!("{}/cart", app.address))
        .header("cookie", new)
        .send()
        .await
        .expect("cart");
    let html = cart.text().await.expect("page");
    assert!(
        html.contains("lokum") && html.contains("lang=\"en\""),
        "{html}"
    );

    // The same cookie under another SESSION_KEY opens to nothing: the form is refused.
    let forged = old_cookie(
        "another key of at least thirty-two characters",
        r#"anon.{"csrf":"\"mine\""}"#,
    );
    let refused = app
        .http
        .post(format!("{}/cart/add", app.address))
        .header("cookie", &forged)
        .form(&[("slug", "lokum"), ("csrf_token", "mine")])
        .send()
        .await
        .expect("add");
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn a_session_that_cannot_be_read_gets_a_page_in_words_and_is_not_lost() {
    let app = spawn_app().await;
    let mut shopper = signed_up(&app, "unreadable@example.com").await;
    shopper.add_to_cart("lokum").await;
    assert_eq!(shopper.get("/account").await.status, 200);

    // The sessions table out of reach: the session can't be loaded.
    app.execute_sql("ALTER TABLE sessions RENAME TO sessions_away")
        .await;
    let down = shopper
        .http
        .get(format!("{}/account", app.address))
        .send()
        .await
        .expect("account");
    assert_eq!(down.status(), 503);
    assert!(
        !down.headers().contains_key("set-cookie"),
        "the cookie is left as it is"
    );
    let html = down.text().await.expect("page");
    assert!(html.contains("Bir sorun oluştu"), "{html}");

    // Back: the same cookie is the same signed-in shopper, with the cart.
    app.execute_sql("ALTER TABLE sessions_away RENAME TO sessions")
        .await;
    let account = shopper.get("/account").await;
    assert_eq!(account.status, 200);
    assert!(account.html.contains("unreadable@example.com"));
    assert!(shopper.get("/cart").await.html.contains("lokum"));
}
