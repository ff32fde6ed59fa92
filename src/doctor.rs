//! `paytr-checkout doctor`: is this installation ready for shoppers? One plain line per check
//! (`ok`, `warn`, `FAIL`, `info`); the exit status is non-zero and the last line names the
//! first problem when something is wrong.

use crate::config::Settings;
use crate::db::Backend;
use crate::domain::MerchantOid;
use crate::paytr::{PaytrClient, PaytrError, StatusAnswer, Token};
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

/// Largest clock difference with PayTR accepted (PayTR's tokens carry no time, but logs,
/// renewals and the 3-D session do).
const MAX_DRIFT_SECS: u64 = 60;

struct Report<'a> {
    out: &'a mut dyn Write,
    first_problem: Option<String>,
}

impl Report<'_> {
    fn line(&mut self, level: &str, text: &str) {
        // A closed stdout is not worth a panic.
        let _ = writeln!(self.out, "{level:<5} {text}");
    }
    fn ok(&mut self, text: &str) {
        self.line("ok", text);
    }
    fn warn(&mut self, text: &str) {
        self.line("warn", text);
    }
    fn info(&mut self, text: &str) {
        self.line("info", text);
    }
    fn fail(&mut self, what: &str, text: &str) {
        self.line("FAIL", &format!("{what}: {text}"));
        self.first_problem
            .get_or_insert_with(|| format!("{what}: {text}"));
    }
}

/// Runs every check and prints them to `out`.
pub async fn run(settings: &Settings, out: &mut dyn Write) -> ExitCode {
    let mut report = Report {
        out,
        first_problem: None,
    };
    configuration(settings, &mut report);
    database(settings, &mut report).await;
    match crate::startup::command_clients(settings) {
        Ok((paytr, capi, public_url)) => {
            paytr_checks(&paytr, &capi, &mut report).await;
            notification_url(&public_url, &mut report).await;
        }
        Err(e) => report.fail("PayTR client", &format!("{e:#}")),
    }
    match report.first_problem.take() {
        None => {
            report.line("", "doctor: all checks passed");
            ExitCode::SUCCESS
        }
        Some(problem) => {
            report.line("", &format!("doctor: first problem: {problem}"));
            ExitCode::FAILURE
        }
    }
}

fn configuration(settings: &Settings, report: &mut Report<'_>) {
    let Some(creds) = &settings.paytr.credentials else {
        report.ok("mode: sandbox (no PAYTR_MERCHANT_* set); PayTR is the storefront's own sandbox");
        return;
    };
    report.ok(&format!(
        "mode: live, PayTR at {}{}",
        settings.paytr.base_url,
        if settings.paytr.test_mode {
            " (PAYTR_TEST_MODE=1)"
        } else {
            ""
        }
    ));
    if creds.merchant_id.is_empty() || !creds.merchant_id.bytes().all(|b| b.is_ascii_digit()) {
        report.fail(
            "PAYTR_MERCHANT_ID",
            "must be the digits of PayTR's Mağaza No",
        );
    }
    for (name, secret) in [
        ("PAYTR_MERCHANT_KEY", &creds.merchant_key),
        ("PAYTR_MERCHANT_SALT", &creds.merchant_salt),
    ] {
        use secrecy::ExposeSecret;
        let value = secret.expose_secret();
        if value.chars().any(char::is_whitespace) || value.is_empty() {
            report.fail(
                name,
                "contains spaces or is empty: copy it again from PayTR's panel",
            );
        } else if value.len() != 16 || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
            report.warn(&format!(
                "{name} is not 16 letters and digits, the shape PayTR's panel shows"
            ));
        }
    }
    let public_url = settings.public_url.as_deref().unwrap_or_default();
    match url::Url::parse(public_url) {
        Ok(u) if u.scheme() == "https" => report.ok(&format!("PUBLIC_URL {public_url}")),
        Ok(u) if is_loopback(&u) => report.warn(&format!(
            "PUBLIC_URL {public_url} is plain http on this machine: fine for a rehearsal, \
             PayTR needs https for shoppers"
        )),
        _ => report.fail(
            "PUBLIC_URL",
            "must be the shop's https address (PayTR sends shoppers and notifications there)",
        ),
    }
    if settings.trusted_proxies.is_empty() {
        report.info(
            "TRUSTED_PROXIES is empty: if a proxy or load balancer sits in front of the shop, \
             list its address, or PayTR gets the proxy's address as the shopper's (the log says \
             so at the first private address seen)",
        );
    } else {
        report.ok(&format!(
            "TRUSTED_PROXIES: {} address(es)",
            settings.trusted_proxies.len()
        ));
    }
}

fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

async fn database(settings: &Settings, report: &mut Report<'_>) {
    let url = settings.database_url.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let backend = Backend::from_url(&url)?;
        let pending = backend.has_pending_migrations()?;
        Ok::<_, crate::db::DbError>((backend.name(), pending))
    })
    .await;
    match checked {
        Ok(Ok((name, false))) => report.ok(&format!("database: {name}, migrations applied")),
        Ok(Ok((name, true))) => report.fail(
            "database",
            &format!("{name} has migrations to apply: run `paytr-checkout migrate`"),
        ),
        Ok(Err(e)) => report.fail("database", &e.to_string()),
        Err(_) => report.fail("database", "the check was cancelled"),
    }
}

async fn paytr_checks(paytr: &PaytrClient, capi: &PaytrClient, report: &mut Report<'_>) {
    if !reachable_with_clock(paytr, report).await {
        return;
    }
    let probe = format!("DOCTOR{}", crate::accounts::random_string(16));
    let Ok(oid) = MerchantOid::parse(&probe) else {
        return;
    };
    match paytr.payment_status(&oid).await {
        Ok(StatusAnswer::NotPaid(_)) => report.ok(
            "credentials accepted: the status inquiry of an unknown order answered 004 (not found)",
        ),
        Ok(StatusAnswer::Paid(_)) => {
            report.fail("credentials", "PayTR reported a payment for a made-up order id")
        }
        Ok(StatusAnswer::Refused(e)) => report.fail(
            "credentials",
            &format!(
                "PayTR refused the status inquiry ({} {}): PAYTR_MERCHANT_ID, _KEY or _SALT is wrong",
                e.err_no, e.err_msg
            ),
        ),
        Err(e) => report.fail("credentials", &format!("status inquiry: {e}")),
    }
    let utoken = Token::new(crate::accounts::random_string(32));
    match capi.list_cards(&utoken).await {
        Ok(_) => report.ok("card storage (CAPI) enabled: CAPI LIST answered for an unknown user"),
        Err(PaytrError::Refused(msg)) => report.fail(
            "card storage",
            &format!(
                "CAPI LIST refused ({msg}): ask PayTR to enable card storage (kart saklama), or the key/salt is wrong"
            ),
        ),
        Err(e) => report.fail("card storage", &format!("CAPI LIST: {e}")),
    }
    report.info(
        "Direct API, Non-3D and recurring payments can only be proven by a payment: ask PayTR \
         to enable all three, then pay once with PAYTR_TEST_MODE=1",
    );
}

/// PayTR answers at all, and its clock (HTTP `Date`) agrees with ours.
async fn reachable_with_clock(paytr: &PaytrClient, report: &mut Report<'_>) -> bool {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build();
    let Ok(http) = http else {
        report.fail("PayTR", "could not build an HTTP client");
        return false;
    };
    let started = std::time::Instant::now();
    let response = match http.get(paytr.url("/")).send().await {
        Ok(response) => response,
        Err(e) => {
            report.fail(
                "PayTR",
                &format!("{} is unreachable: {}", paytr.url(""), e.without_url()),
            );
            return false;
        }
    };
    report.ok(&format!(
        "PayTR reachable at {} (HTTP {} in {} ms)",
        paytr.url(""),
        response.status().as_u16(),
        started.elapsed().as_millis()
    ));
    let date = response
        .headers()
        .get("date")
        .and_then(|d| d.to_str().ok())
        .and_then(|d| httpdate::parse_http_date(d).ok());
    match date {
        None => report.warn("PayTR's answer carried no Date: the clock was not compared"),
        Some(theirs) => {
            let now = SystemTime::now();
            let drift = now
                .duration_since(theirs)
                .or_else(|_| theirs.duration_since(now))
                .unwrap_or_default()
                .as_secs();
            if drift > MAX_DRIFT_SECS {
                report.fail(
                    "clock",
                    &format!("{drift} s away from PayTR's: set up NTP (timedatectl set-ntp true)"),
                );
            } else {
                report.ok(&format!("clock: within {drift} s of PayTR's"));
            }
        }
    }
    true
}

/// `PUBLIC_URL/paytr/notify` reaches this application (not another site, not a 404).
async fn notification_url(public_url: &str, report: &mut Report<'_>) {
    let url = format!("{public_url}/paytr/notify");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build();
    let answer = match http {
        Ok(http) => http.get(&url).send().await,
        Err(_) => return report.fail("notification URL", "could not build an HTTP client"),
    };
    let body = match answer {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(e) => {
            return report.fail(
                "notification URL",
                &format!(
                    "{url} is unreachable ({}): is the storefront running, and PUBLIC_URL right?",
                    e.without_url()
                ),
            );
        }
    };
    if body.starts_with(crate::routes::NOTIFY_GET_BODY) {
        report.ok(&format!(
            "notification URL {url} reaches this shop: enter it in PayTR's panel as Bildirim URL"
        ));
    } else {
        report.fail(
            "notification URL",
            &format!("{url} answers, but not as this shop: check PUBLIC_URL and the proxy"),
        );
    }
}
