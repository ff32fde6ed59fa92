//! The binary itself: start-up errors and graceful shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_paytr-checkout"))
}

#[test]
fn the_binary_stops_with_a_clear_message_for_a_mysql_url() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = binary()
        .arg("migrate")
        .current_dir(dir.path())
        .env("DATABASE_URL", "mysql://x")
        .output()
        .expect("binary runs");

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("\"mysql://x\" is not supported"),
        "{stderr}"
    );
}

#[test]
fn the_binary_names_a_malformed_variable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = binary()
        .current_dir(dir.path())
        .env("BIND", "not-an-address")
        .output()
        .expect("binary runs");

    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("BIND"));
}

#[test]
fn live_mode_without_public_url_stops_and_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = binary()
        .current_dir(dir.path())
        .env("BIND", "127.0.0.1:0")
        .env("PAYTR_MERCHANT_ID", "123456")
        .env("PAYTR_MERCHANT_KEY", "AbCdEfGhIjKlMnOp")
        .env("PAYTR_MERCHANT_SALT", "QrStUvWxYz012345")
        .output()
        .expect("binary runs");

    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("PUBLIC_URL"));
}

#[test]
fn migrate_creates_the_sqlite_folder_and_is_repeatable() {
    let dir = tempfile::tempdir().expect("tempdir");
    for _ in 0..2 {
        let status = binary()
            .arg("migrate")
            .current_dir(dir.path())
            .env("DATABASE_URL", "sqlite://nested/folder/shop.db")
            .env("LOG", "warn")
            .status()
            .expect("binary runs");
        assert!(status.success());
    }
    assert!(dir.path().join("nested/folder/shop.db").exists());
}

#[test]
fn serve_with_no_configuration_answers_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = binary()
        .arg("serve")
        .current_dir(dir.path())
        .env("BIND", "127.0.0.1:0")
        .env("LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr"))
        .lines()
        .map_while(Result::ok);
    let url = lines
        .by_ref()
        .take(50)
        .find_map(|line| line.split("url=").nth(1).map(|u| u.trim().to_owned()));
    let Some(url) = url else {
        let _ = child.kill();
        panic!("the server did not log its URL");
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));

    let body = reqwest::blocking_get(&format!("{url}/healthz"));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };

    assert_eq!(body.as_deref(), Ok("ok"));
    assert!(exit.success(), "graceful stop exits 0: {exit:?}");
    assert!(
        dir.path().join("data/paytr-checkout.db").exists(),
        "default database in ./data"
    );
}

mod reqwest {
    /// A tiny blocking GET over a one-off runtime, to keep the test synchronous.
    pub fn blocking_get(url: &str) -> Result<String, String> {
        let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
        rt.block_on(async {
            let response = ::reqwest::get(url).await.map_err(|e| e.to_string())?;
            response.text().await.map_err(|e| e.to_string())
        })
    }
}

/// The binary serving from a temporary folder (sandbox mode, debug log), its log captured.
pub(crate) struct LoggedServer {
    pub url: String,
    pub dir: tempfile::TempDir,
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    log: Vec<String>,
}

impl LoggedServer {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = binary()
            .arg("serve")
            .current_dir(dir.path())
            .env("BIND", "127.0.0.1:0")
            .env("LOG", "debug")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("binary starts");
        let (tx, lines) = std::sync::mpsc::channel::<String>();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut log = Vec::new();
        let url = loop {
            let line = lines
                .recv_timeout(Duration::from_secs(20))
                .expect("the server logs its URL");
            log.push(line.clone());
            if let Some(url) = line.split("url=").nth(1) {
                break url.trim().to_owned();
            }
        };
        Self {
            url,
            dir,
            child,
            lines,
            log,
        }
    }

    /// The server's resident memory (KiB), from `/proc`.
    pub fn resident_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .expect("VmRSS")
    }

    /// Stops the server gracefully and returns everything it logged.
    pub fn stop(mut self) -> (String, tempfile::TempDir) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        self.log.extend(self.lines.try_iter());
        (self.log.join("\n"), self.dir)
    }
}

#[tokio::test]
async fn password_hashing_gives_its_working_memory_back() {
    // argon2 works in 19 MiB per hash, on tokio's blocking threads. Once glibc had raised its
    // "large allocation" threshold, each thread that hashed kept those 19 MiB for good.
    let server = LoggedServer::start();
    crate::shopper::Shopper::new(&server.url)
        .sign_up("warm-up@example.com")
        .await;
    let before = server.resident_kib();
    for round in 0..2 {
        let sign_ups = (0..3).map(|i| {
            let url = server.url.clone();
            async move {
                crate::shopper::Shopper::new(&url)
                    .sign_up(&format!("hash-{round}-{i}@example.com"))
                    .await
            }
        });
        for page in futures_join(sign_ups).await {
            assert!(page.html.contains("id=\"check-email\""), "{}", page.html);
        }
    }
    let after = server.resident_kib();
    server.stop();
    assert!(
        after < before + 12 * 1024,
        "six sign-ups (three at a time) took the resident set from {before} to {after} KiB"
    );
}

/// Runs the futures at once and returns their outputs in order.
async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.expect("task"));
    }
    outputs
}

#[tokio::test]
async fn a_purchase_that_saves_a_card_logs_no_card_data_or_tokens() {
    let server = LoggedServer::start();
    let url = server.url.clone();

    let mut shopper = crate::shopper::Shopper::new(&url);
    shopper.register("logs@example.com").await;
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;
    let three_d = shopper.pay(&pay.html, "4355084355084358", true).await;
    shopper.answer_3d(&three_d, true).await;
    shopper
        .wait_for_order_status(
            &format!("/orders/{}", crate::shopper::order_id(&pay.url)),
            "status_paid",
        )
        .await;
    let state = std::fs::read_to_string(server.dir.path().join("data/sandbox/state.json"))
        .expect("sandbox state");
    let utoken = state
        .split("\"utoken\":\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a stored card")
        .to_owned();
    let (log, dir) = server.stop();

    eprintln!("checked {} log lines", log.lines().count());
    assert!(
        log.contains("notification applied"),
        "the run was logged: {log}"
    );
    for secret in [
        "4355084355084358",
        "KART SAHIBI",
        "cvv=000",
        utoken.as_str(),
        "a long enough password",
    ] {
        assert!(!log.contains(secret), "{secret} appears in the log");
    }
    let secrets = std::fs::read_to_string(dir.path().join("data/secrets.json")).expect("secrets");
    let session_key = secrets
        .split("\"session_key\": \"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("key");
    assert!(!log.contains(session_key));
}

#[tokio::test]
async fn every_request_is_a_span_with_its_route_pattern_never_its_values() {
    let server = LoggedServer::start();
    let client = ::reqwest::Client::new();

    let answer = client
        .get(format!(
            "{}/orders/SecretOrderId123/pay?lang=en&token=QuerySecret",
            server.url
        ))
        .send()
        .await
        .expect("answer");
    let status = answer.status().as_u16();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (log, _dir) = server.stop();

    assert_eq!(status, 404);
    let finished = log
        .lines()
        .find(|l| l.contains("request finished") && l.contains("/orders/{id}/pay"))
        .unwrap_or_else(|| panic!("a span for the request: {log}"));
    assert!(
        finished.contains("method=GET") && finished.contains("status=404"),
        "{finished}"
    );
    assert!(finished.contains("latency_ms="), "{finished}");
    assert!(
        !log.contains("SecretOrderId123") && !log.contains("QuerySecret"),
        "no path values or query strings in the log: {log}"
    );
}

/// On SQLite a request's rows (the session's, the payment page's) are kept a moment for the
/// next request while nothing is written (`db::recent`). A commit by another process — here
/// this test's own connection to the server's file — is seen by the very next request.
#[tokio::test]
async fn rows_another_process_wrote_are_seen_by_the_next_request() {
    use diesel::{Connection, RunQueryDsl};
    let server = LoggedServer::start();
    let mut shopper = crate::shopper::Shopper::new(&server.url);
    shopper.register("recent@example.com").await;
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;
    let id = crate::shopper::order_id(&pay.url);
    // Read again and again with nothing written: the later reads use the rows kept.
    for _ in 0..3 {
        let page = shopper.get(&pay.url).await;
        assert!(page.html.contains("id=\"payment-form\""), "{}", page.html);
    }

    // Kept rows are still checked against who asks: another shopper and a stranger get 404
    // (the owner's read just before keeps the rows; neither asker writes anything).
    let mut other_shopper = crate::shopper::Shopper::new(&server.url);
    other_shopper.register("someone-else@example.com").await;
    let page = shopper.get(&pay.url).await;
    assert!(page.html.contains("id=\"payment-form\""), "{}", page.html);
    for asker in [
        &mut other_shopper,
        &mut crate::shopper::Shopper::new(&server.url),
    ] {
        let page = asker.get(&pay.url).await;
        assert_eq!(page.status, 404, "{}", page.html);
        assert!(!page.html.contains("id=\"payment-form\""));
    }

    // Another process marks the order paid (as the status inquiry or an operator would).
    let file = server.dir.path().join("data/paytr-checkout.db");
    let mut other = diesel::SqliteConnection::establish(file.to_str().expect("path")).expect("db");
    diesel::sql_query("PRAGMA busy_timeout = 5000")
        .execute(&mut other)
        .expect("busy timeout");
    let changed = diesel::sql_query(format!(
        "UPDATE orders SET status = 'paid' WHERE public_id = '{id}'"
    ))
    .execute(&mut other)
    .expect("update");
    assert_eq!(changed, 1);
    let page = shopper.get(&pay.url).await;
    assert!(
        !page.html.contains("id=\"payment-form\"") && page.url.ends_with(&format!("/orders/{id}")),
        "a paid order's payment page sends the shopper to the order: {} {}",
        page.url,
        page.html
    );

    // Another process ends every session: the next request is no longer signed in.
    for _ in 0..3 {
        let account = shopper.get("/account").await;
        assert!(account.url.ends_with("/account"), "{}", account.url);
    }
    diesel::sql_query("DELETE FROM sessions")
        .execute(&mut other)
        .expect("delete");
    let account = shopper.get("/account").await;
    assert!(
        !account.url.ends_with("/account"),
        "a session deleted elsewhere is not honoured: {}",
        account.url
    );
    server.stop();
}
