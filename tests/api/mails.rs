//! E-mails over a real SMTP conversation: a small SMTP server started by the test (RFC 5321's
//! commands, no TLS) receives what the app's worker sends.

use crate::helpers::{TestApp, eventually_async, spawn_app_with};
use crate::sandbox_harness::VISA;
use crate::shopper::{Shopper, order_id};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

/// A test SMTP server: records every accepted message; `refuse` makes it answer `451` (try
/// again later) to MAIL FROM.
#[derive(Clone, Default)]
pub struct SmtpServer {
    pub received: Arc<Mutex<Vec<Received>>>,
    pub refuse: Arc<std::sync::atomic::AtomicBool>,
}

impl SmtpServer {
    pub async fn start_on(listener: TcpListener) -> Self {
        let server = Self::default();
        let s = server.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = s.session(socket).await;
                });
            }
        });
        server
    }

    pub async fn start() -> (Self, u16) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        (Self::start_on(listener).await, port)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    async fn session(&self, socket: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 test-smtp ready\r\n").await?;
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_owned();
            let upper = command.to_ascii_uppercase();
            let answer: &[u8] = if upper.starts_with("EHLO") {
                b"250-test-smtp\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
            } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
                b"250 OK\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                if self.refuse.load(std::sync::atomic::Ordering::SeqCst) {
                    b"451 4.3.0 try again later\r\n"
                } else {
                    from = command[10..].trim().to_owned();
                    to.clear();
                    b"250 OK\r\n"
                }
            } else if upper.starts_with("RCPT TO:") {
                to.push(command[8..].trim().to_owned());
                b"250 OK\r\n"
            } else if upper == "DATA" {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                self.received.lock().expect("lock").push(Received {
                    from: from.clone(),
                    to: to.clone(),
                    data,
                });
                b"250 OK queued\r\n"
            } else if upper.starts_with("RSET") {
                to.clear();
                b"250 OK\r\n"
            } else if upper.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                b"502 not implemented\r\n"
            };
            write.write_all(answer).await?;
        }
    }
}

async fn app_with_smtp(port: u16) -> TestApp {
    spawn_app_with(&[
        ("SMTP_URL", &format!("smtp://127.0.0.1:{port}")),
        ("MAIL_FROM", "Örnek Mağaza <shop@shop.example>"),
        ("MAIL_INTERVAL_MS", "100"),
        ("MAIL_RETRY_BASE_SECS", "0"),
    ])
    .await
}

/// A guest buys with the test Visa; returns the order's public id.
async fn guest_buys(app: &TestApp) -> String {
    let mut shopper = Shopper::new(&app.address);
    shopper.add_to_cart("seramik-kupa").await;
    let pay = shopper.checkout().await;
    let id = order_id(&pay.url);
    let three_d = shopper.pay(&pay.html, VISA, false).await;
    shopper.answer_3d(&three_d, true).await;
    shopper
        .wait_for_order_status(&format!("/orders/{id}"), "status_paid")
        .await;
    id
}

/// A decoded view of a message: its headers and its parts' text (quoted-printable and base64
/// undone), enough to check what a reader sees.
fn readable(data: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut in_b64 = false;
    let mut b64 = String::new();
    for raw in data.lines() {
        let lower = raw.to_ascii_lowercase();
        if lower.starts_with("content-transfer-encoding: base64") {
            in_b64 = true;
            out.push_str(raw);
            out.push('\n');
            continue;
        }
        if in_b64 {
            if raw.starts_with("--") {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .unwrap_or_default();
                out.push_str(&String::from_utf8_lossy(&bytes));
                out.push('\n');
                b64.clear();
                in_b64 = false;
            } else if !raw.contains(':') || raw.trim().is_empty() {
                b64.push_str(raw.trim());
                continue;
            }
        }
        out.push_str(raw);
        out.push('\n');
    }
    // Quoted-printable soft breaks and the common escapes.
    out.replace("=\n", "").replace("=3D", "=")
}

#[tokio::test]
async fn a_paid_order_s_receipt_goes_out_over_smtp_with_text_html_and_the_contract() {
    let (smtp, port) = SmtpServer::start().await;
    let app = app_with_smtp(port).await;

    let id = guest_buys(&app).await;

    let receipt = eventually_async("the receipt over SMTP", || async {
        smtp.messages()
            .into_iter()
            .find(|m| m.to.iter().any(|t| t.contains("ayse@example.com")))
    })
    .await;
    assert!(
        receipt.from.contains("shop@shop.example"),
        "{:?}",
        receipt.from
    );
    let data = &receipt.data;
    for header in [
        "Message-ID: <outbox-",
        "multipart/alternative",
        "text/plain",
        "text/html",
    ] {
        assert!(data.contains(header), "{header} in {data}");
    }
    let text = readable(data);
    assert!(
        text.contains("mesafeli-satis-sozlesmesi.txt"),
        "the contract is attached: {text}"
    );
    assert!(
        text.contains(&format!("/orders/{id}/receipt")),
        "a link to the receipt: {text}"
    );
    assert!(
        text.contains("MESAFEL"),
        "the attachment holds the contract"
    );
    assert!(!text.contains("4355084355084358") && !text.contains("4355 0843"));

    // Sent once, and recorded as sent.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let to_ayse = smtp
        .messages()
        .iter()
        .filter(|m| m.to.iter().any(|t| t.contains("ayse@example.com")))
        .count();
    assert_eq!(to_ayse, 1);
    let unsent: i64 = app
        .db_run(|conn| {
            use diesel::prelude::*;
            use paytr_checkout::db::schema::outbox;
            Ok(outbox::table
                .filter(outbox::sent_at.is_null())
                .count()
                .get_result(conn)?)
        })
        .await;
    assert_eq!(unsent, 0);
}

#[tokio::test]
async fn mails_wait_through_an_smtp_outage_and_each_is_sent_once_afterwards() {
    // A port with no server yet: the mail server is down.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = reserved.local_addr().expect("addr").port();
    drop(reserved);
    let app = app_with_smtp(port).await;

    // The notification is still answered OK after its commit: the order is paid.
    let id = guest_buys(&app).await;
    let failing = eventually_async("a failed delivery attempt recorded", || async {
        let rows: Vec<(i32, Option<String>)> = app
            .db_run(|conn| {
                use diesel::prelude::*;
                use paytr_checkout::db::schema::outbox;
                Ok(outbox::table
                    .filter(outbox::sent_at.is_null())
                    .select((outbox::attempts, outbox::last_error))
                    .load(conn)?)
            })
            .await;
        rows.iter()
            .any(|(attempts, error)| *attempts >= 2 && error.is_some())
            .then_some(rows)
    })
    .await;
    assert!(!failing.is_empty());

    // Then the server answers, first with "try again later", then normally.
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("rebind");
    let smtp = SmtpServer::start_on(listener).await;
    smtp.refuse.store(true, std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(smtp.messages().is_empty(), "451 accepted nothing");
    smtp.refuse
        .store(false, std::sync::atomic::Ordering::SeqCst);

    let outbox_rows: i64 = app
        .db_run(|conn| {
            use diesel::prelude::*;
            use paytr_checkout::db::schema::outbox;
            Ok(outbox::table.count().get_result(conn)?)
        })
        .await;
    eventually_async("every mail delivered", || async {
        (smtp.messages().len() as i64 >= outbox_rows).then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let messages = smtp.messages();
    let mut ids: Vec<&str> = messages
        .iter()
        .filter_map(|m| m.data.lines().find(|l| l.starts_with("Message-ID:")))
        .collect();
    let total = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        (total, ids.len() as i64),
        (ids.len(), outbox_rows),
        "each mail once"
    );
    assert!(
        messages
            .iter()
            .any(|m| readable(&m.data).contains(&format!("/orders/{id}/receipt")))
    );
}
