//! The shopper's journeys in headless Chromium, driven over WebDriver (chromedriver).
//!
//! Needs Debian's `chromium` and `chromium-driver`. With `CI=true` a missing browser fails the
//! run; elsewhere these tests say so on stderr and return. A failing journey saves a
//! screenshot under `target/browser-failures/`.

use crate::helpers::{TestApp, spawn_app};
use fantoccini::{Client, ClientBuilder, Locator};
use paytr_checkout::db::Backend;
use paytr_checkout::db::models::User;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Starts chromedriver and a headless Chromium; `None` (with a note) when they are missing
/// outside CI.
async fn browser() -> Option<Browser> {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but {CHROMIUM} or {CHROMEDRIVER} is missing: apt-get install chromium chromium-driver"
        );
        eprintln!("browser test not run: install chromium and chromium-driver to run it");
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().expect("profile dir");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                "--window-size=412,915", format!("--user-data-dir={}", profile.path().display()),
            ]
        }),
    );
    // Every request the browser makes (URL and posted body), read back by `requests_made`.
    caps.insert(
        "goog:loggingPrefs".into(),
        serde_json::json!({ "performance": "ALL" }),
    );
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => {
                return Some(Browser {
                    client,
                    driver,
                    _profile: profile,
                });
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("could not start a Chromium session through chromedriver");
}

/// Runs `journey`; on failure saves a screenshot of the page the browser was on.
async fn run<F, Fut>(name: &str, journey: F)
where
    F: FnOnce(Client, TestApp) -> Fut,
    Fut: std::future::Future<Output = Result<(), anyhow::Error>>,
{
    let Some(browser) = browser().await else {
        return;
    };
    let app = spawn_app().await;
    let client = browser.client.clone();
    let result = journey(browser.client.clone(), app).await;
    if let Err(e) = result {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-failures");
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(dir.join(format!("{name}.png")), png);
        }
        let _ = client.close().await;
        panic!("{name}: {e:#} (screenshot in target/browser-failures/{name}.png)");
    }
    let _ = client.close().await;
}

/// With `SCREENSHOTS=1`, saves the current page as `target/screenshots/{name}.png`.
async fn snapshot(c: &Client, name: &str) {
    if std::env::var("SCREENSHOTS").as_deref() == Ok("1") {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(png) = c.screenshot().await {
            let _ = std::fs::write(dir.join(format!("{name}.png")), png);
        }
    }
}

async fn fill(c: &Client, id: &str, value: &str) -> Result<(), anyhow::Error> {
    c.find(Locator::Id(id)).await?.send_keys(value).await?;
    Ok(())
}

async fn click(c: &Client, id: &str) -> Result<(), anyhow::Error> {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id(id))
        .await?
        .click()
        .await?;
    Ok(())
}

async fn register(c: &Client, app: &TestApp, email: &str) -> Result<(), anyhow::Error> {
    c.goto(&format!("{}/register", app.address)).await?;
    fill(c, "full_name", "Ayşe Yılmaz").await?;
    fill(c, "email", email).await?;
    fill(c, "password", "a long enough password").await?;
    click(c, "register-submit").await?;
    // No e-mail in sandbox mode: the confirmation link is in the sandbox's mailbox.
    snapshot(c, "0-check-email").await;
    click(c, "open-mailbox").await?;
    snapshot(c, "0-mailbox").await;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("li.mail a.mail-link"))
        .await?
        .click()
        .await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("nav-account"))
        .await?;
    Ok(())
}

async fn buy(c: &Client, app: &TestApp, card: &str, save: bool) -> Result<(), anyhow::Error> {
    open_payment_page(c, app).await?;
    fill(c, "cc_owner", "AYSE YILMAZ").await?;
    fill(c, "card_number", card).await?;
    fill(c, "expiry_month", "12").await?;
    fill(c, "expiry_year", "30").await?;
    fill(c, "cvv", "000").await?;
    if save {
        click(c, "store_card").await?;
    }
    snapshot(c, &format!("3-pay-{card}")).await;
    click(c, "pay-submit").await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("approve"))
        .await?;
    snapshot(c, "4-three-d").await;
    click(c, "approve").await?;
    Ok(())
}

/// Product → cart → billing details → the payment page.
async fn open_payment_page(c: &Client, app: &TestApp) -> Result<(), anyhow::Error> {
    c.goto(&format!("{}/products/seramik-kupa", app.address))
        .await?;
    snapshot(c, "1-product").await;
    click(c, "add-to-cart").await?;
    snapshot(c, "2-cart").await;
    click(c, "go-checkout").await?;
    fill(c, "phone", "0555 111 22 33").await?;
    // Three lines in the three-row address box.
    fill(c, "address", "Moda Cad. 1\nKadıköy\nİstanbul").await?;
    if c.find(Locator::Id("full_name"))
        .await?
        .prop("value")
        .await?
        .unwrap_or_default()
        .is_empty()
    {
        fill(c, "full_name", "Ayşe Yılmaz").await?;
        fill(c, "email", "guest@example.com").await?;
    }
    click(c, "accept_terms").await?;
    click(c, "continue-to-payment").await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("payment-form"))
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_signed_in_shopper_saves_a_card_and_sees_the_order_paid_in_chromium() {
    run("signed_in_purchase", |c, app| async move {
        register(&c, &app, "browser@example.com").await?;
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("nav-account"))
            .await?;

        buy(&c, &app, "4355084355084358", true).await?;

        let status = c
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("[data-status=\"status_paid\"]"))
            .await?;
        anyhow::ensure!(status.text().await?.contains("Ödendi"), "paid status shown");
        snapshot(&c, "5-paid").await;
        let pool = Backend::from_url(&app.db.url)?.pool(1)?;
        let user = pool
            .run(|conn| User::find_by_email(conn, "browser@example.com"))
            .await?;
        anyhow::ensure!(
            user.and_then(|u| u.utoken_sealed).is_some(),
            "the utoken was stored"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_card_number_typed_with_spaces_reaches_paytr_as_digits_in_chromium() {
    run("spaced_card", |c, app| async move {
        // PayTR's sandbox refuses a card number with spaces; the page keeps it to digits.
        buy(&c, &app, "4355 0843 5508 4358", false).await?;
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("[data-status=\"status_paid\"]"))
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_declined_card_shows_its_message_in_chromium() {
    run("declined_card", |c, app| async move {
        buy(&c, &app, "4355080000000013", false).await?;

        // The page refreshes until the notification brings the bank's reason.
        let mut text = String::new();
        for _ in 0..50 {
            if let Ok(message) = c.find(Locator::Id("fail-message")).await {
                text = message.text().await.unwrap_or_default();
                if text.contains("limiti bu ödeme için yeterli değil") {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        snapshot(&c, "5-declined").await;
        anyhow::ensure!(
            text.contains("limiti bu ödeme için yeterli değil")
                && !text.contains("Kart limiti yetersiz."),
            "decline reason shown, got {text:?}"
        );
        c.find(Locator::Id("retry")).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_returning_shopper_pays_with_a_saved_card_then_deletes_it_in_chromium() {
    run("saved_card", |c, app| async move {
        register(&c, &app, "returning@example.com").await?;
        buy(&c, &app, "5406670000000074", true).await?;
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("[data-status=\"status_paid\"]"))
            .await?;

        // Second purchase: the saved card, typing only its CVV (this test card requires it).
        c.goto(&format!("{}/products/lokum", app.address)).await?;
        click(&c, "add-to-cart").await?;
        click(&c, "go-checkout").await?;
        click(&c, "accept_terms").await?;
        click(&c, "continue-to-payment").await?;
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("saved-cards-form"))
            .await?;
        snapshot(&c, "7-saved-cards").await;
        click(&c, "pay-saved").await?;
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("saved-card-form"))
            .await?;
        fill(&c, "cvv", "000").await?;
        click(&c, "pay-saved-submit").await?;
        click(&c, "approve").await?;
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("[data-status=\"status_paid\"]"))
            .await?;

        // Delete it from the account page.
        c.goto(&format!("{}/account/cards", app.address)).await?;
        snapshot(&c, "8-account-cards").await;
        c.find(Locator::Css("a[id^=\"delete-\"]"))
            .await?
            .click()
            .await?;
        click(&c, "confirm-delete").await?;
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("no-cards"))
            .await?;
        let cards = app.sandbox.as_ref().map(|s| s.read(|s| s.cards.len()));
        anyhow::ensure!(cards == Some(0), "deleted at PayTR too, got {cards:?}");
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_shopper_subscribes_and_sees_the_subscription_in_chromium() {
    run("subscription", |c, app| async move {
        register(&c, &app, "subscriber@example.com").await?;
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("nav-account"))
            .await?;
        c.goto(&format!("{}/", app.address)).await?;
        click(&c, "subscribe-kahve-kulubu").await?;
        fill(&c, "phone", "0555 111 22 33").await?;
        fill(&c, "address", "Moda Cad. 1, Kadıköy, İstanbul").await?;
        click(&c, "consent").await?;
        click(&c, "accept_terms").await?;
        click(&c, "subscribe-continue").await?;
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("subscription-card-note"))
            .await?;
        fill(&c, "cc_owner", "AYSE YILMAZ").await?;
        fill(&c, "card_number", "4355084355084358").await?;
        fill(&c, "expiry_month", "12").await?;
        fill(&c, "expiry_year", "30").await?;
        fill(&c, "cvv", "000").await?;
        click(&c, "pay-submit").await?;
        click(&c, "approve").await?;
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("[data-status=\"status_paid\"]"))
            .await?;
        for _ in 0..100 {
            c.goto(&format!("{}/account", app.address)).await?;
            if c.find(Locator::Css("[data-status=\"sub_active\"]"))
                .await
                .is_ok()
            {
                snapshot(&c, "9-subscription").await;
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the subscription did not become active")
    })
    .await;
}

/// A TCP relay on 127.0.0.2 (another origin) to the shop, standing in for a bank's 3-D server;
/// also answers how many connections it took.
async fn second_loopback_origin(
    app: &TestApp,
) -> Result<(String, std::sync::Arc<std::sync::atomic::AtomicUsize>), anyhow::Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.2:0").await?;
    let origin = format!("http://{}", listener.local_addr()?);
    let target = app.local.trim_start_matches("http://").to_owned();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    Ok((origin, connections))
}

#[tokio::test]
async fn the_card_post_redirected_to_a_bank_on_another_origin_is_allowed_by_the_csp_in_chromium() {
    run("bank_redirect", |c, app| async move {
        let (bank, bank_connections) = second_loopback_origin(&app).await?;
        let sandbox = app.sandbox.clone().expect("sandbox mode");
        sandbox.set_knobs(paytr_checkout::sandbox::knobs::Knobs {
            bank_origin: Some(bank.clone()),
            ..sandbox.knobs()
        });

        if let Err(e) = buy(&c, &app, "4355084355084358", false).await {
            let at = c.current_url().await.map(String::from).unwrap_or_default();
            anyhow::bail!("{e} at {at}");
        }

        let status = c
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("[data-status=\"status_paid\"]"))
            .await;
        let at = c.current_url().await.map(String::from).unwrap_or_default();
        let status = status.map_err(|e| anyhow::anyhow!("{e} at {at}"))?;
        anyhow::ensure!(
            at.starts_with(&app.address),
            "back at the shop, not at {at}"
        );
        anyhow::ensure!(
            bank_connections.load(std::sync::atomic::Ordering::SeqCst) > 0,
            "the 3-D page was served from the bank's origin"
        );
        anyhow::ensure!(
            status.text().await?.contains("Ödendi"),
            "paid status shown at {at}"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn staff_log_in_with_totp_find_an_order_and_refund_part_of_it_in_chromium() {
    run("back_office_refund", |c, app| async move {
        buy(&c, &app, "4355084355084358", false).await?;
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("[data-status=\"status_paid\"]"))
            .await?;
        let totp = crate::admin::add_staff(&app, "owner@example.com", "owner").await;

        c.goto(&format!("{}/admin/login", app.address)).await?;
        fill(&c, "email", "owner@example.com").await?;
        fill(&c, "password", crate::admin::PASSWORD).await?;
        fill(&c, "code", &crate::admin::code(&totp, 0)).await?;
        snapshot(&c, "admin-1-login").await;
        click(&c, "login-submit").await?;
        click(&c, "nav-orders").await?;
        fill(&c, "q", "GUEST@example.com").await?;
        click(&c, "search-submit").await?;
        // The unfiltered list has the same row: wait for the search's page, or the row found
        // may be the old page's and go stale as the search's page replaces it (seen in CI).
        let searched = std::time::Instant::now();
        while !c.current_url().await?.as_str().contains("q=") {
            anyhow::ensure!(
                searched.elapsed() < Duration::from_secs(10),
                "the search's page did not load"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        snapshot(&c, "admin-2-orders").await;
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("tr.order-row a"))
            .await?
            .click()
            .await?;
        fill(&c, "amount", "25.00").await?;
        fill(&c, "reason", "kırık geldi").await?;
        fill(&c, "code", &crate::admin::code(&totp, 1)).await?;
        click(&c, "refund-submit").await?;
        let result = c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("refund-result"))
            .await?;
        snapshot(&c, "admin-3-refunded").await;
        anyhow::ensure!(
            result.text().await?.contains("İade edildi"),
            "refund confirmed"
        );
        let left = c.find(Locator::Id("refundable")).await?.text().await?;
        anyhow::ensure!(left.contains("155,00"), "left to refund: {left}");
        Ok(())
    })
    .await;
}

/// axe-core, installed by `.ci/run` from the npm registry (`target/axe`); `None` (with a note)
/// when it is missing outside CI.
fn axe_source() -> Option<String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/axe/node_modules/axe-core/axe.min.js");
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(_) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but {} is missing: .ci/run installs axe-core",
                path.display()
            );
            eprintln!("axe check not run: (cd target/axe && npm install axe-core@4)");
            None
        }
    }
}

/// The axe-core violations of the current page (WCAG 2.x A and AA rules and best practices),
/// as "rule: count (first target)".
async fn axe_violations(c: &Client, source: &str) -> Result<Vec<String>, anyhow::Error> {
    c.execute(&format!("{source}\nreturn true;"), vec![])
        .await?;
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(\
               v => v.id + ': ' + v.nodes.length + ' (' + v.nodes[0].target.join(' ') + ')')));",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(found)?)
}

#[tokio::test]
async fn every_back_office_page_is_clean_for_axe_core_in_chromium() {
    let Some(axe) = axe_source() else {
        return;
    };
    run("back_office_axe", |c, app| async move {
        buy(&c, &app, "4355084355084358", false).await?;
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("[data-status=\"status_paid\"]"))
            .await?;
        let totp = crate::admin::add_staff(&app, "owner@example.com", "owner").await;
        let mut pages = vec![("login".to_owned(), format!("{}/admin/login", app.address))];
        c.goto(&pages[0].1).await?;
        fill(&c, "email", "owner@example.com").await?;
        fill(&c, "password", crate::admin::PASSWORD).await?;
        fill(&c, "code", &crate::admin::code(&totp, 0)).await?;
        let login_violations = axe_violations(&c, &axe).await?;
        click(&c, "login-submit").await?;
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("nav-orders"))
            .await?;
        c.goto(&format!("{}/admin/orders", app.address)).await?;
        let order = c
            .find(Locator::Css("tr.order-row a"))
            .await?
            .attr("href")
            .await?
            .unwrap_or_default();
        pages.clear();
        for path in [
            "/admin",
            "/admin/orders",
            "/admin/orders?from=bad",
            order.as_str(),
            "/admin/subscriptions",
            "/admin/customers",
            "/admin/notifications",
            "/admin/staff",
            "/admin/api",
            "/admin/audit",
            "/admin/nothing-here",
        ] {
            pages.push((path.to_owned(), format!("{}{path}", app.address)));
        }
        let mut problems = Vec::new();
        if !login_violations.is_empty() {
            problems.push(format!("/admin/login: {login_violations:?}"));
        }
        for (name, url) in &pages {
            c.goto(url).await?;
            let found = axe_violations(&c, &axe).await?;
            if !found.is_empty() {
                problems.push(format!("{name}: {found:?}"));
            }
        }
        anyhow::ensure!(problems.is_empty(), "axe-core violations: {problems:#?}");
        Ok(())
    })
    .await;
}

/// Fills the card form as a shopper types it.
async fn type_card(
    c: &Client,
    number: &str,
    month: &str,
    year: &str,
    cvv: &str,
) -> Result<(), anyhow::Error> {
    for id in [
        "cc_owner",
        "card_number",
        "expiry_month",
        "expiry_year",
        "cvv",
    ] {
        c.find(Locator::Id(id)).await?.clear().await?;
    }
    fill(c, "cc_owner", "AYSE YILMAZ").await?;
    fill(c, "card_number", number).await?;
    fill(c, "expiry_month", month).await?;
    fill(c, "expiry_year", year).await?;
    fill(c, "cvv", cvv).await?;
    Ok(())
}

#[tokio::test]
async fn a_card_typed_with_spaces_and_a_four_digit_year_pays_in_chromium() {
    run("typed_card", |c, app| async move {
        open_payment_page(&c, &app).await?;
        type_card(&c, "4355 0843 5508 4358", "12", "2030", "000").await?;
        let shown = c
            .find(Locator::Id("card_number"))
            .await?
            .prop("value")
            .await?;
        anyhow::ensure!(
            shown.as_deref() == Some("4355 0843 5508 4358"),
            "grouped: {shown:?}"
        );
        let brand = c.find(Locator::Id("card-brand")).await?.text().await?;
        anyhow::ensure!(brand == "VISA", "brand shown: {brand:?}");
        snapshot(&c, "typed-card").await;
        click(&c, "pay-submit").await?;
        click(&c, "approve").await?;
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("[data-status=\"status_paid\"]"))
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn typos_are_caught_beside_their_field_before_anything_reaches_paytr_in_chromium() {
    run("card_typos", |c, app| async move {
        open_payment_page(&c, &app).await?;
        let pay_url = c.current_url().await?;
        for (number, month, year, cvv, field) in [
            ("4355 0843 5508 4359", "12", "2030", "000", "card_number"),
            ("4355 0843 5508 4358", "01", "2020", "000", "expiry_year"),
            ("4355 0843 5508 4358", "13", "30", "000", "expiry_month"),
            ("4355 0843 5508 4358", "12", "30", "00", "cvv"),
        ] {
            type_card(&c, number, month, year, cvv).await?;
            click(&c, "pay-submit").await?;
            let error = c
                .wait()
                .at_most(Duration::from_secs(5))
                .for_element(Locator::Css(&format!("#{field}-error:not([hidden])")))
                .await?;
            anyhow::ensure!(!error.text().await?.is_empty(), "{field}: a message");
            let invalid = c
                .find(Locator::Id(field))
                .await?
                .attr("aria-invalid")
                .await?;
            anyhow::ensure!(invalid.as_deref() == Some("true"), "{field} marked invalid");
            let focused = c
                .execute("return document.activeElement.id", vec![])
                .await?;
            anyhow::ensure!(
                focused == serde_json::json!(field),
                "{field} focused, not {focused}"
            );
            anyhow::ensure!(
                c.current_url().await? == pay_url,
                "{field}: still on the page"
            );
        }
        snapshot(&c, "card-typo").await;
        let sandbox = app.sandbox.as_ref().expect("sandbox");
        anyhow::ensure!(
            sandbox.read(|s| s.payments.is_empty()),
            "nothing was posted to PayTR"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn every_shop_page_is_clean_for_axe_core_in_chromium() {
    let Some(axe) = axe_source() else {
        return;
    };
    run("shop_axe", |c, app| async move {
        let mut problems = Vec::new();
        let mut check = |name: String, found: Vec<String>| {
            if !found.is_empty() {
                problems.push(format!("{name}: {found:?}"));
            }
        };
        for path in [
            "/",
            "/products/seramik-kupa",
            "/login",
            "/register",
            "/cart",
            "/nothing-here",
        ] {
            c.goto(&format!("{}{path}", app.address)).await?;
            check(path.to_owned(), axe_violations(&c, &axe).await?);
        }
        register(&c, &app, "axe@example.com").await?;
        open_payment_page(&c, &app).await?;
        check("payment page".into(), axe_violations(&c, &axe).await?);
        type_card(&c, "4355 0843 5508 4359", "12", "30", "000").await?;
        click(&c, "pay-submit").await?;
        check(
            "payment page with an error".into(),
            axe_violations(&c, &axe).await?,
        );
        type_card(&c, "4355 0843 5508 4358", "12", "30", "000").await?;
        click(&c, "store_card").await?;
        click(&c, "pay-submit").await?;
        click(&c, "approve").await?;
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("[data-status=\"status_paid\"]"))
            .await?;
        check("paid order".into(), axe_violations(&c, &axe).await?);
        click(&c, "receipt-link").await?;
        check("receipt".into(), axe_violations(&c, &axe).await?);
        click(&c, "accepted-terms").await?;
        check("accepted terms".into(), axe_violations(&c, &axe).await?);
        for path in [
            "/account",
            "/account/cards",
            "/checkout",
            "/subscribe/kahve-kulubu",
            "/legal/seller",
            "/legal/privacy",
            "/legal/distance-sales",
            "/password/forgot",
            "/sandbox/mail",
            "/?lang=en",
        ] {
            c.goto(&format!("{}{path}", app.address)).await?;
            check(path.to_owned(), axe_violations(&c, &axe).await?);
        }
        anyhow::ensure!(problems.is_empty(), "axe-core violations: {problems:#?}");
        Ok(())
    })
    .await;
}

/// chromedriver's log endpoint (not in fantoccini's API).
#[derive(Debug)]
struct ReadLog;

impl fantoccini::wd::WebDriverCompatibleCommand for ReadLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(r#"{"type":"performance"}"#.to_owned()),
        )
    }
}

/// The requests the page made since the last call: (method, URL, posted body), from Chromium's
/// own network events.
async fn requests_made(c: &Client) -> Result<Vec<(String, String, String)>, anyhow::Error> {
    let entries = c.issue_cmd(ReadLog).await?;
    let mut requests = Vec::new();
    for entry in entries.as_array().into_iter().flatten() {
        let Some(message) = entry.get("message").and_then(|m| m.as_str()) else {
            continue;
        };
        let event: serde_json::Value = serde_json::from_str(message)?;
        let event = &event["message"];
        if event["method"] != "Network.requestWillBeSent" {
            continue;
        }
        let request = &event["params"]["request"];
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        let mut body = text(&request["postData"]);
        for part in request["postDataEntries"].as_array().into_iter().flatten() {
            if let Some(bytes) = part["bytes"].as_str() {
                use base64::Engine;
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(bytes)
                    .unwrap_or_default();
                body.push_str(&String::from_utf8_lossy(&decoded));
            }
        }
        requests.push((text(&request["method"]), text(&request["url"]), body));
    }
    Ok(requests)
}

/// Interactive elements smaller than 44×44 CSS pixels (links inside a sentence excepted).
async fn small_tap_targets(c: &Client) -> Result<Vec<String>, anyhow::Error> {
    let found = c
        .execute(
            r#"
            const small = [];
            document.querySelectorAll('a, button, input, select, textarea, summary, label.check').forEach(e => {
              if (e.type === 'hidden' || e.closest('[hidden]') || e.offsetParent === null) return;
              if (e.tagName === 'A' && e.closest('p, li, td, dd') && !e.classList.contains('button')
                  && !e.closest('nav')) return;
              let r = e.getBoundingClientRect();
              if (e.type === 'checkbox' || e.type === 'radio') {
                const label = e.closest('label');
                if (label) r = label.getBoundingClientRect();
              }
              if (r.height < 44 || r.width < 44) {
                small.push(`${e.tagName.toLowerCase()}#${e.id || e.name || e.textContent.trim().slice(0, 20)} ${Math.round(r.width)}x${Math.round(r.height)}`);
              }
            });
            return small;
            "#,
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(found)?)
}

#[tokio::test]
async fn the_main_journey_on_a_phone_has_44px_targets_and_card_data_goes_only_to_paytr_in_chromium()
{
    run("phone_journey", |c, app| async move {
        c.set_window_size(1280, 900).await?;
        let mut small = Vec::new();
        c.goto(&format!("{}/", app.address)).await?;
        requests_made(&c).await?;
        c.set_window_size(390, 844).await?;
        let width = c.execute("return window.innerWidth", vec![]).await?;
        anyhow::ensure!(
            width == serde_json::json!(390),
            "a 390 px wide viewport: {width}"
        );
        let mut check = |page: &str, found: Vec<String>| {
            if !found.is_empty() {
                small.push(format!("{page}: {found:?}"));
            }
        };
        check("home", small_tap_targets(&c).await?);
        c.goto(&format!("{}/products/seramik-kupa", app.address))
            .await?;
        check("product", small_tap_targets(&c).await?);
        click(&c, "add-to-cart").await?;
        check("cart", small_tap_targets(&c).await?);
        click(&c, "go-checkout").await?;
        check("checkout", small_tap_targets(&c).await?);
        fill(&c, "full_name", "Ayşe Yılmaz").await?;
        fill(&c, "email", "phone@example.com").await?;
        fill(&c, "phone", "0555 111 22 33").await?;
        fill(&c, "address", "Moda Cad. 1\nKadıköy").await?;
        click(&c, "accept_terms").await?;
        click(&c, "continue-to-payment").await?;
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("payment-form"))
            .await?;
        check("payment", small_tap_targets(&c).await?);
        snapshot(&c, "pay-phone").await;
        c.set_window_size(1280, 900).await?;
        snapshot(&c, "pay-desktop").await;
        c.set_window_size(390, 844).await?;
        let page = c.source().await?;
        anyhow::ensure!(
            page.contains("id=\"pay-lines\"")
                && page.contains("class=\"marks\"")
                && page.contains("id=\"secure-line\""),
            "order summary, brand marks and the 3-D Secure line on the payment page"
        );
        let button = c.find(Locator::Id("pay-submit")).await?.text().await?;
        anyhow::ensure!(
            button.contains("180,00 TL"),
            "the amount on the button: {button}"
        );
        type_card(&c, "4355 0843 5508 4358", "12", "2030", "000").await?;
        click(&c, "pay-submit").await?;
        click(&c, "approve").await?;
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("[data-status=\"status_paid\"]"))
            .await?;
        check("paid order", small_tap_targets(&c).await?);
        click(&c, "receipt-link").await?;
        check("receipt", small_tap_targets(&c).await?);

        // Chromium's own record of every request: the card number and CVV went in one request
        // only, the card form's post to PayTR (the sandbox's /odeme); none to the shop.
        let requests = requests_made(&c).await?;
        anyhow::ensure!(
            requests.len() > 10,
            "the network log was read: {requests:?}"
        );
        let paytr = format!("{}/sandbox/odeme", app.address);
        let carrying: Vec<&(String, String, String)> = requests
            .iter()
            .filter(|(_, url, body)| {
                let all = format!("{url} {body}");
                all.contains("4355084355084358")
                    || all.contains("4355+0843")
                    || all.contains("cvv=")
            })
            .collect();
        anyhow::ensure!(
            carrying.len() == 1 && carrying[0].0 == "POST" && carrying[0].1 == paytr,
            "card data only in the post to PayTR: {carrying:?}"
        );
        anyhow::ensure!(small.is_empty(), "tap targets under 44 px: {small:#?}");
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn six_installments_on_a_world_card_are_offered_after_six_digits_and_paid_in_chromium() {
    run("installments", |c, app| async move {
        open_payment_page(&c, &app).await?;
        // The rates are fetched just after start; the options appear once they are stored.
        let mut shown = false;
        for _ in 0..50 {
            c.find(Locator::Id("card_number")).await?.clear().await?;
            fill(&c, "card_number", "5406 67").await?;
            if c.wait()
                .at_most(Duration::from_millis(400))
                .for_element(Locator::Id("installment-6"))
                .await
                .is_ok()
            {
                shown = true;
                break;
            }
        }
        anyhow::ensure!(shown, "installment options after 6 digits");
        click(&c, "installment-6").await?;
        let button = c.find(Locator::Id("pay-submit")).await?.text().await?;
        // 180,00 TL with the sandbox's 6.03 % for World ×6: 190,854 → 190,86 TL.
        anyhow::ensure!(
            button.contains("190,86 TL"),
            "the total on the button: {button}"
        );
        fill(&c, "card_number", "54 0667 5403").await?;
        fill(&c, "cc_owner", "AYSE YILMAZ").await?;
        fill(&c, "expiry_month", "12").await?;
        fill(&c, "expiry_year", "2030").await?;
        fill(&c, "cvv", "000").await?;
        snapshot(&c, "installments").await;
        click(&c, "pay-submit").await?;
        click(&c, "approve").await?;
        let line = c
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Id("order-installments"))
            .await?
            .text()
            .await?;
        anyhow::ensure!(
            line.contains("6 taksit") && line.contains("190,86 TL"),
            "the order page: {line}"
        );
        let sandbox = app.sandbox.as_ref().expect("sandbox");
        let recorded = sandbox.read(|s| {
            s.payments
                .iter()
                .map(|p| (p.installment_count, p.amount_kurus, p.status.clone()))
                .collect::<Vec<_>>()
        });
        anyhow::ensure!(
            recorded == vec![(6, 19_086, "success".to_owned())],
            "PayTR (the sandbox) took 6 installments of the total: {recorded:?}"
        );
        // And its panel says so.
        c.goto(&format!("{}/sandbox", app.address)).await?;
        let panel = c.source().await?;
        anyhow::ensure!(
            panel.contains("<td class=\"sb-installments\">6 (world)</td>")
                && panel.contains("190.86"),
            "the sandbox panel shows 6 installments of 190.86"
        );
        Ok(())
    })
    .await;
}

/// A merchant's checkout session paid in Chromium on the hosted page: prefilled details, the
/// contract, the card form to the sandbox, 3-D, back on the merchant's success page, and the
/// merchant's receiver told.
#[tokio::test]
async fn a_hosted_checkout_session_is_paid_in_chromium_and_the_shopper_lands_on_the_merchants_page()
{
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    run("hosted_checkout", |c, app| async move {
        let merchant = MockServer::builder().start().await;
        Mock::given(method("GET"))
            .and(path("/thanks"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_raw("<h1 id=\"merchant-thanks\">Thank you</h1>", "text/html"),
            )
            .mount(&merchant)
            .await;
        Mock::given(method("POST"))
            .and(path("/hooks"))
            .respond_with(ResponseTemplate::new(204))
            .mount(&merchant)
            .await;
        let origin = merchant.uri();
        let key = app
            .db_run(move |conn| paytr_checkout::api::keys::create(conn, "shop", "test", &[origin]))
            .await
            .1;
        let http = reqwest::Client::new();
        let api = |path: &str, body: serde_json::Value| {
            http.post(format!("{}{path}", app.address))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
        };
        api(
            "/api/v1/webhook-endpoints",
            serde_json::json!({"url": format!("{}/hooks", merchant.uri()), "events": ["checkout.completed"]}),
        )
        .await?;
        let session: serde_json::Value = serde_json::from_str(&api(
            "/api/v1/checkout-sessions",
            serde_json::json!({
                "line_items": [{"name": "Türk kahvesi 250 g", "quantity": 2, "unit_amount": 12500}],
                "customer_ref": "browser-customer",
                "customer": {"email": "deniz@example.com", "name": "Deniz Kaya",
                             "phone": "0555 123 45 67", "address": "Bağdat Cad. 5, Kadıköy, İstanbul"},
                "success_url": format!("{}/thanks", merchant.uri()),
                "cancel_url": format!("{}/cart", merchant.uri()),
            }),
        )
        .await?
        .text()
        .await?)?;
        let url = session["url"].as_str().unwrap_or_default();
        c.goto(url).await?;
        snapshot(&c, "hosted-1-billing").await;
        let name = c.find(Locator::Id("full_name")).await?.prop("value").await?;
        anyhow::ensure!(name.as_deref() == Some("Deniz Kaya"), "details prefilled: {name:?}");
        if let Some(axe) = axe_source() {
            let found = axe_violations(&c, &axe).await?;
            anyhow::ensure!(found.is_empty(), "axe-core on the hosted page: {found:?}");
        }
        click(&c, "accept_terms").await?;
        click(&c, "continue-to-payment").await?;
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("payment-form"))
            .await?;
        fill(&c, "cc_owner", "DENIZ KAYA").await?;
        fill(&c, "card_number", "4355084355084358").await?;
        fill(&c, "expiry_month", "12").await?;
        fill(&c, "expiry_year", "30").await?;
        fill(&c, "cvv", "000").await?;
        click(&c, "store_card").await?;
        snapshot(&c, "hosted-2-pay").await;
        click(&c, "pay-submit").await?;
        click(&c, "approve").await?;
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Id("merchant-thanks"))
            .await?;
        let landed = c.current_url().await?;
        anyhow::ensure!(
            landed.as_str() == format!("{}/thanks", merchant.uri()),
            "on the merchant's page: {landed}"
        );
        let mut told = false;
        for _ in 0..100 {
            told = merchant
                .received_requests()
                .await
                .unwrap_or_default()
                .iter()
                .any(|r| r.url.path() == "/hooks");
            if told {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::ensure!(told, "the merchant's receiver was not told");

        // A subscription session's page: the period beside the total, and the consent.
        let subscription: serde_json::Value = serde_json::from_str(&api(
            "/api/v1/checkout-sessions",
            serde_json::json!({
                "mode": "subscription", "interval": "monthly", "amount": 14900,
                "description": "Kahve kulübü", "customer_ref": "browser-customer",
                "success_url": format!("{}/thanks", merchant.uri()),
                "cancel_url": format!("{}/cart", merchant.uri()),
            }),
        )
        .await?
        .text()
        .await?)?;
        c.goto(subscription["url"].as_str().unwrap_or_default()).await?;
        snapshot(&c, "hosted-3-subscription").await;
        c.find(Locator::Id("consent")).await?;
        if let Some(axe) = axe_source() {
            let found = axe_violations(&c, &axe).await?;
            anyhow::ensure!(found.is_empty(), "axe-core on a subscription's hosted page: {found:?}");
        }
        Ok(())
    })
    .await;
}
