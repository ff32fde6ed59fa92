//! Running it for real: metrics, request ids, readiness, several instances on one database,
//! and the database going away under load.

use crate::helpers::{TestDb, eventually_async, postgres_server, spawn_app, spawn_app_with};
use crate::sandbox_harness::{VISA, ok_merchant, start_sandbox_with, test_knobs};
use crate::shopper::{Shopper, order_id};
use paytr_checkout::config::Settings;
use paytr_checkout::db::subscriptions::{ChargeAttempt, Subscription};
use paytr_checkout::db::{Backend, DbConnection, DbError};
use paytr_checkout::paytr::MerchantCredentials;
use paytr_checkout::sandbox::{SandboxConfig, SandboxServer};
use paytr_checkout::startup::{Application, standalone_billing};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The lines of a Prometheus text page that start with `name{` and contain every `label`.
fn series<'a>(page: &'a str, name: &str, labels: &[&str]) -> Vec<&'a str> {
    page.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .filter(|l| labels.iter().all(|label| l.contains(label)))
        .collect()
}

fn value(line: &str) -> f64 {
    line.rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_after_a_purchase_show_the_request_histogram_the_paid_notification_and_the_card_listing()
 {
    let app = spawn_app_with(&[("METRICS_BIND", "127.0.0.1:0")]).await;
    let metrics = app.metrics.clone().expect("METRICS_BIND serves /metrics");
    let mut shopper = Shopper::new(&app.address);
    shopper.register("metrics@example.com").await;
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;
    let three_d = shopper.pay(&pay.html, VISA, true).await;
    shopper.answer_3d(&three_d, true).await;
    shopper
        .wait_for_order_status(&format!("/orders/{}", order_id(&pay.url)), "status_paid")
        .await;
    shopper.add_to_cart("lokum").await;
    let again = shopper.checkout().await;
    assert!(
        again.html.contains("name=\"card\""),
        "the saved card is offered (listed with CAPI LIST)"
    );

    let page = reqwest::get(&metrics)
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("body");

    let pay_page = series(
        &page,
        "http_request_duration_seconds_bucket",
        &["route=\"/orders/{id}/pay\"", "status=\"200\""],
    );
    assert!(!pay_page.is_empty(), "the request histogram: {page}");
    assert!(
        pay_page
            .iter()
            .any(|l| l.contains("le=\"+Inf\"") && value(l) >= 2.0),
        "both payment pages counted: {pay_page:?}"
    );
    let paid = series(&page, "paytr_notifications_total", &["outcome=\"paid\""]);
    assert!(
        paid.iter().any(|l| value(l) >= 1.0),
        "the paid notification: {page}"
    );
    let listed = series(
        &page,
        "paytr_calls_total",
        &["endpoint=\"/odeme/capi/list\"", "result=\"ok\""],
    );
    assert!(
        listed.iter().any(|l| value(l) >= 1.0),
        "the PayTR call that listed the cards: {page}"
    );
    assert!(
        !series(
            &page,
            "paytr_call_duration_seconds_bucket",
            &["endpoint=\"/odeme/capi/list\""]
        )
        .is_empty(),
        "PayTR's latency"
    );
    assert!(page.contains("db_pool_connections "), "pool usage");
    if app.db.url.starts_with("sqlite") {
        // Other tests of this process write meanwhile, so only the reads are certain here.
        let kept = series(
            &page,
            "db_kept_rows_total",
            &["kind=\"payment_page\"", "outcome=\"read\""],
        );
        assert!(
            kept.iter().any(|l| value(l) >= 1.0),
            "the payment page's rows kept after their read: {page}"
        );
    }
    assert!(
        !page.contains(&shopper.csrf()) && !page.contains("metrics@example.com"),
        "no secrets or addresses in labels"
    );
    let main = reqwest::get(format!("{}/metrics", app.address))
        .await
        .expect("answer");
    assert_eq!(main.status(), 404, "metrics are not on the shop's address");
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_a_plausible_incoming_one_is_kept() {
    let app = spawn_app().await;
    let id_of = |r: &reqwest::Response| {
        r.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let get = |id: Option<&'static str>, path: &'static str| {
        let mut request = app.http.get(format!("{}{path}", app.address));
        if let Some(id) = id {
            request = request.header("x-request-id", id);
        }
        request.send()
    };
    let kept = get(Some("lb-7f3a.1:9"), "/healthz").await.expect("answer");
    assert_eq!(id_of(&kept), "lb-7f3a.1:9");

    let (one, two) = (
        get(None, "/").await.expect("answer"),
        get(None, "/no-such-page").await.expect("answer"),
    );
    assert_eq!(two.status(), 404);
    for generated in [id_of(&one), id_of(&two)] {
        assert!(
            generated.len() == 16 && generated.bytes().all(|b| b.is_ascii_hexdigit()),
            "{generated:?}"
        );
    }
    assert_ne!(id_of(&one), id_of(&two));

    let long = "a".repeat(65);
    for implausible in [long.as_str(), "a b", "<script>", "x/y"] {
        let answer = app
            .http
            .get(format!("{}/healthz", app.address))
            .header("x-request-id", implausible)
            .send()
            .await
            .expect("answer");
        let id = id_of(&answer);
        assert!(
            id != implausible && id.len() == 16,
            "{implausible:?} → {id:?}"
        );
    }

    let ready = get(None, "/readyz").await.expect("answer");
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.expect("body"), "ready");
}

const KEY: &str = "AbCdEfGhIjKlMnOp";
const SALT: &str = "QrStUvWxYz012345";

/// One instance's settings: live mode against `paytr`, on `db`, known at `public_url`, with
/// the secrets every instance of a deployment shares.
fn instance_settings(
    db: &TestDb,
    paytr: &str,
    public_url: &str,
    extra: &[(&str, &str)],
) -> Settings {
    let mut env: HashMap<String, String> = [
        ("BIND", "127.0.0.1:0"),
        ("DATABASE_URL", db.url.as_str()),
        ("PAYTR_MERCHANT_ID", "123456"),
        ("PAYTR_MERCHANT_KEY", KEY),
        ("PAYTR_MERCHANT_SALT", SALT),
        ("PAYTR_BASE_URL", paytr),
        ("PAYTR_TEST_MODE", "1"),
        ("PUBLIC_URL", public_url),
        (
            "SESSION_KEY",
            "a shared session key of at least thirty-two characters",
        ),
        (
            "DATA_KEY",
            "a shared data key of at least thirty-two characters....",
        ),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.insert(
        "DATA_DIR".into(),
        db.dir.path().join("instance").display().to_string(),
    );
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Settings::from_lookup(|name| env.get(name).cloned()).expect("instance settings")
}

#[tokio::test]
async fn three_instances_started_together_on_an_empty_database_all_start() {
    let sandbox = start_sandbox_with(
        test_knobs(),
        ok_merchant().await,
        tempfile::tempdir().expect("dir"),
    )
    .await;
    let db = TestDb::new();
    let builds = (0..3).map(|_| {
        Application::build(instance_settings(
            &db,
            &sandbox.url,
            "http://127.0.0.1:9",
            &[],
        ))
    });
    let started = futures_util::future::join_all(builds).await;
    let mut ports = Vec::new();
    for app in started {
        let app = app.expect("every instance starts (migrations take turns)");
        ports.push(app.port());
        tokio::spawn(app.into_server());
    }
    for port in ports {
        let ready = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
            .await
            .expect("answer");
        assert_eq!(ready.status(), 200);
    }
}

/// Runs `f` on `db` through a pool of its own.
async fn on_db<T: Send + 'static>(
    db: &TestDb,
    f: impl FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
) -> T {
    let pool = Backend::from_url(&db.url)
        .expect("url")
        .pool(1)
        .expect("pool");
    pool.run(f).await.expect("query")
}

async fn db_execute(db: &TestDb, sql: &'static str) -> usize {
    on_db(db, move |conn| {
        Ok(diesel::RunQueryDsl::execute(diesel::sql_query(sql), conn)?)
    })
    .await
}

/// A round-robin TCP proxy on `listener`: each new connection goes to the next backend.
/// Returns the backend each connection went to.
fn round_robin(listener: tokio::net::TcpListener, backends: Vec<u16>) -> Arc<Mutex<Vec<usize>>> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    tokio::spawn(async move {
        let mut next = 0usize;
        while let Ok((mut inbound, _)) = listener.accept().await {
            let index = next % backends.len();
            next += 1;
            seen.lock().expect("log").push(index);
            let port = backends[index];
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await
                {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    log
}

/// A shopper whose every request opens a new connection (so the proxy spreads them).
fn spreading_shopper(base: &str) -> Shopper {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::limited(10))
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    Shopper {
        base: base.to_owned(),
        http,
        last_html: String::new(),
    }
}

#[tokio::test]
#[ignore = "PostgreSQL only: TEST_DATABASE_URL=… cargo test -- --include-ignored (.ci/run does)"]
async fn three_instances_behind_a_round_robin_proxy_share_sessions_cards_limits_and_billing() {
    postgres_server();
    // The proxy's address first: the sandbox notifies it and the instances are known by it.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let proxy_url = format!("http://{}", proxy.local_addr().expect("address"));
    let dir = tempfile::tempdir().expect("dir");
    let server = SandboxServer::build(
        SandboxConfig {
            credentials: MerchantCredentials::new("123456", KEY, SALT),
            notify_url: Some(format!("{proxy_url}/paytr/notify")),
            data_dir: dir.path().to_owned(),
            prefix: String::new(),
            knobs: test_knobs(),
        },
        "127.0.0.1:0".parse().expect("address"),
    )
    .expect("sandbox");
    let sandbox_url = server.url.clone();
    server.sandbox.resume_deliveries();
    tokio::spawn(server.into_server());

    let db = TestDb::new();
    let mut ports = Vec::new();
    let mut settings = Vec::new();
    for _ in 0..3 {
        let s = instance_settings(&db, &sandbox_url, &proxy_url, &[]);
        let app = Application::build(s.clone())
            .await
            .expect("instance starts");
        ports.push(app.port());
        settings.push(s);
        tokio::spawn(app.into_server());
    }
    let log = round_robin(proxy, ports.clone());

    // Sign up on one instance, confirm, log in on another, pay on a third.
    let email = "multi@example.com";
    let mut shopper = spreading_shopper(&proxy_url);
    shopper.sign_up(email).await;
    let verified = db_execute(
        &db,
        "UPDATE users SET email_verified_at = 1 WHERE email = 'multi@example.com'",
    )
    .await;
    assert_eq!(verified, 1);
    shopper.get("/login").await;
    let logged_in = shopper
        .post(
            "/login",
            &[("email", email), ("password", "a long enough password")],
        )
        .await;
    assert_eq!(logged_in.status, 200);
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;
    assert!(pay.html.contains("name=\"store_card\""), "{}", pay.html);
    let three_d = shopper.pay(&pay.html, VISA, true).await;
    shopper.answer_3d(&three_d, true).await;
    shopper
        .wait_for_order_status(&format!("/orders/{}", order_id(&pay.url)), "status_paid")
        .await;

    // Every instance lists (and caches) the saved card.
    shopper.add_to_cart("lokum").await;
    let again = shopper.checkout().await;
    let pay_path = url::Url::parse(&again.url).expect("url").path().to_owned();
    for _ in 0..3 {
        let page = shopper.get(&pay_path).await;
        assert!(page.html.contains("name=\"card\""), "{}", page.html);
    }
    // Deleted through one instance: gone on all three at once.
    let cards = shopper.get("/account/cards").await;
    let reference = crate::shopper::first_card_reference(&cards.html);
    let confirm = shopper
        .get(&format!("/account/cards/{reference}/delete"))
        .await;
    assert!(confirm.html.contains("id=\"confirm-delete\""));
    let deleted = shopper
        .post(&format!("/account/cards/{reference}/delete"), &[])
        .await;
    assert!(deleted.url.contains("deleted=1"), "{}", deleted.url);
    for _ in 0..3 {
        let page = shopper.get(&pay_path).await;
        assert!(
            page.html.contains("id=\"payment-form\""),
            "still signed in: {}",
            page.html
        );
        assert!(
            !page.html.contains("name=\"card\""),
            "a deleted card is offered by an instance: {}",
            page.html
        );
    }
    let served: std::collections::HashSet<usize> =
        log.lock().expect("log").iter().copied().collect();
    assert_eq!(
        served.len(),
        3,
        "the journey was spread over the three instances"
    );

    // A limit holds across instances: 10 deletions per shopper per 15 minutes in all.
    // One deletion is counted already; then deletions of a card that is not there.
    let mut statuses = Vec::new();
    for _ in 2..=12 {
        shopper.get("/account/cards").await;
        let answer = shopper.post("/account/cards/0000000000/delete", &[]).await;
        statuses.push((answer.status, answer.url.clone()));
        if answer.status == 429 {
            break;
        }
    }
    assert_eq!(
        statuses.iter().position(|s| s.0 == 429).map(|i| i + 2),
        Some(11),
        "the 11th deletion is refused, whichever instance: {statuses:?}"
    );

    // A subscription, then the billing engines of all three instances run at once, twice.
    let mut subscriber = spreading_shopper(&proxy_url);
    subscriber.sign_up("sub-multi@example.com").await;
    db_execute(
        &db,
        "UPDATE users SET email_verified_at = 1 WHERE email = 'sub-multi@example.com'",
    )
    .await;
    subscriber.get("/login").await;
    subscriber
        .post(
            "/login",
            &[
                ("email", "sub-multi@example.com"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    subscriber.get("/subscribe/kahve-kulubu").await;
    let sub_pay = subscriber
        .post(
            "/subscribe/kahve-kulubu",
            &[
                ("full_name", "Ayşe Yılmaz"),
                ("email", "sub-multi@example.com"),
                ("phone", "0555 111 22 33"),
                ("address", "Kadıköy, İstanbul"),
                ("accept_terms", "1"),
                ("consent", "1"),
            ],
        )
        .await;
    let three_d = subscriber.pay(&sub_pay.html, VISA, false).await;
    subscriber.answer_3d(&three_d, true).await;
    subscriber
        .wait_for_order_status(
            &format!("/orders/{}", order_id(&sub_pay.url)),
            "status_paid",
        )
        .await;
    async fn subscription(db: &TestDb) -> Option<Subscription> {
        on_db(db, |conn| {
            let user =
                paytr_checkout::db::models::User::find_by_email(conn, "sub-multi@example.com")?
                    .expect("user");
            Ok(Subscription::list_for_user(conn, user.id)?
                .into_iter()
                .next())
        })
        .await
    }
    let active = eventually_async("the subscription to become active", || async {
        subscription(&db)
            .await
            .filter(|s| s.status.code() == "active")
    })
    .await;
    let (id, due) = (active.id, active.next_charge_at);
    let mut engines = Vec::new();
    for s in &settings {
        engines.push(standalone_billing(s).await.expect("engine"));
    }
    for _ in 0..2 {
        let runs = engines.iter().map(|e| e.run_due(due + 60));
        let summaries = futures_util::future::join_all(runs).await;
        let charged: u32 = summaries
            .into_iter()
            .map(|s| s.expect("billing run").charged)
            .sum();
        assert!(charged <= 1, "one charge for the period at most");
    }
    let renewals = on_db(&db, move |conn| ChargeAttempt::for_subscription(conn, id)).await;
    assert_eq!(
        renewals.iter().filter(|a| a.attempt_no > 0).count(),
        1,
        "the period was charged once"
    );
    let after = subscription(&db).await.expect("subscription");
    assert_eq!(after.periods_paid, 2);
}

#[tokio::test]
#[ignore = "PostgreSQL only: TEST_DATABASE_URL=… cargo test -- --include-ignored (.ci/run does)"]
async fn after_a_postgresql_restart_pages_and_notifications_recover_within_seconds() {
    use diesel::{Connection, PgConnection, RunQueryDsl};
    let server = postgres_server();
    let sandbox = start_sandbox_with(
        test_knobs(),
        ok_merchant().await,
        tempfile::tempdir().expect("dir"),
    )
    .await;
    let app = crate::helpers::spawn_live_app(&sandbox.url, &[("PAYTR_TEST_MODE", "1")]).await;
    // A paid order whose notification (held by the merchant stand-in) the test delivers.
    let mut shopper = Shopper::new(&app.address);
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;
    let three_d = shopper.pay(&pay.html, VISA, false).await;
    shopper.answer_3d(&three_d, true).await;
    let notification = sandbox.notifications(1).await.remove(0);
    let notify = || {
        app.http
            .post(format!("{}/paytr/notify", app.address))
            .form(&notification)
            .send()
    };

    // Load: eight clients asking for readiness (a query each) all along.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for _ in 0..8 {
        let (http, url, stop) = (
            app.http.clone(),
            format!("{}/readyz", app.address),
            stop.clone(),
        );
        load.push(tokio::spawn(async move {
            let mut served = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(r) = http.get(&url).send().await {
                    served += u32::from(r.status() == 200);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            served
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The restart, of this test's database only: new connections refused, every open one ended
    // (what a server restart does to the pool's connections).
    let name = url::Url::parse(&app.db.url)
        .expect("url")
        .path()
        .trim_start_matches('/')
        .to_owned();
    let admin = |sql: String| {
        let server = server.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = PgConnection::establish(&server).expect("admin connection");
            diesel::sql_query(sql)
                .execute(&mut conn)
                .expect("admin statement");
        })
    };
    admin(format!(
        "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false"
    ))
    .await
    .expect("admin");
    admin(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .await
    .expect("admin");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let during = notify().await.expect("answer");
    assert_ne!(
        during.text().await.expect("body"),
        "OK",
        "a notification that could not be stored is not acknowledged"
    );
    let down = reqwest::get(format!("{}/readyz", app.address))
        .await
        .expect("answer");
    assert_eq!(down.status(), 503, "not ready without the database");
    admin(format!("ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true"))
        .await
        .expect("admin");
    let back = std::time::Instant::now();

    // Within seconds every pooled connection works again: 40 readiness checks in a row pass.
    let http = app.http.clone();
    let url = format!("{}/readyz", app.address);
    eventually_async("every connection to be replaced", || {
        let (http, url) = (http.clone(), url.clone());
        async move {
            for _ in 0..40 {
                let r = http.get(&url).send().await.ok()?;
                if r.status() != 200 {
                    return None;
                }
            }
            Some(())
        }
    })
    .await;
    let recovered_in = back.elapsed();
    assert!(recovered_in < Duration::from_secs(10), "{recovered_in:?}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in load {
        assert!(task.await.expect("load") > 0, "each client was served");
    }

    // PayTR's next delivery is acknowledged and the order is paid, once.
    let again = notify().await.expect("answer");
    assert_eq!(again.text().await.expect("body"), "OK");
    let oid = order_id(&pay.url);
    let paid = app
        .db_run(move |conn| {
            let order =
                paytr_checkout::db::models::Order::find_by_public_id(conn, &oid)?.expect("order");
            Ok(order.status.code() == "paid")
        })
        .await;
    assert!(paid);
}

#[tokio::test]
async fn a_shared_limit_counts_in_the_database() {
    let db = TestDb::new();
    let backend = Backend::from_url(&db.url).expect("url");
    backend.run_migrations().expect("migrations");
    let pool = backend.pool(2).expect("pool");
    let limiter = paytr_checkout::accounts::RateLimiter::new(2, Duration::from_secs(60))
        .shared("test", pool.clone());
    let other =
        paytr_checkout::accounts::RateLimiter::new(2, Duration::from_secs(60)).shared("test", pool);
    assert!(limiter.check(&["k"]).await);
    assert!(
        other.check(&["k"]).await,
        "the second of two, on another instance"
    );
    assert!(!limiter.check(&["k"]).await, "the third is refused");
    assert!(other.exhausted(&["k"]).await);
    assert!(other.retry_after(&["k"]).await > Duration::from_secs(50));
    assert!(limiter.check(&["another key"]).await);
}

#[tokio::test]
#[ignore = "PostgreSQL only: TEST_DATABASE_URL=… cargo test -- --include-ignored (.ci/run does)"]
async fn on_postgresql_a_payment_page_hands_its_reads_to_a_blocking_thread_once() {
    postgres_server();
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.register("one-hand-off@example.com").await;
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;
    let path = format!("/orders/{}/pay", order_id(&pay.url));

    // The session's row and the page's rows on one blocking thread: one hand-off a page (the
    // background loops may add one or two meanwhile), where it was two.
    const PAGES: u64 = 20;
    let before = app.app_db.handoffs();
    for _ in 0..PAGES {
        let page = shopper.get(&path).await;
        assert_eq!(page.status, 200);
        assert!(page.html.contains("payment-form"));
    }
    let handoffs = app.app_db.handoffs() - before;
    assert!(
        (PAGES..PAGES + PAGES / 2).contains(&handoffs),
        "{handoffs} hand-offs for {PAGES} pages"
    );

    // The rows read early for another signed-in shopper are never theirs to see.
    let mut other = Shopper::new(&app.address);
    other.register("someone-else@example.com").await;
    let theirs = other.get(&path).await;
    assert_eq!(theirs.status, 404);
    assert!(!theirs.html.contains("one-hand-off@example.com"));
    assert!(!theirs.html.contains("payment-form"));
}
