//! Sessions: no row for an anonymous visitor, no resurrection after log out, and a log-in
//! limit that slows a guesser without locking the owner out.

use super::{count, signed_up};
use crate::helpers::{spawn_app, spawn_app_with};
use crate::shopper::Shopper;
use actix_session::storage::SessionStore;
use paytr_checkout::sessions::DbSessionStore;
use std::collections::HashMap;

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
    let uid = app
        .db_run(|conn| {
            Ok(
                paytr_checkout::db::models::User::find_by_email(conn, "slow@example.com")?
                    .map(|u| u.id)
                    .unwrap_or_default(),
            )
        })
        .await;
    let rows_before = count(&app, "SELECT COUNT(*) AS n FROM sessions").await;
    let pool = paytr_checkout::db::Backend::from_url(&app.db.url)
        .expect("url")
        .pool(1)
        .expect("pool");
    let store = DbSessionStore::new(pool);
    let ttl = actix_web::cookie::time::Duration::minutes(30);
    let signed_in: HashMap<String, String> = HashMap::from([
        ("user_id".into(), uid.to_string()),
        ("csrf".into(), "\"t\"".into()),
    ]);

    // A slow request loaded the session; log out deletes it; then the slow one saves.
    let key = store.save(signed_in.clone(), &ttl).await.expect("saved");
    store.delete(&key).await.expect("logged out");
    let after = store.update(key, signed_in, &ttl).await.expect("updated");

    let state = store.load(&after).await.expect("loads").unwrap_or_default();
    assert!(!state.contains_key("user_id"), "{state:?}");
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
