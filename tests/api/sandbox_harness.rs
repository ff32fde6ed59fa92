//! A standalone sandbox on port 0, a merchant stand-in that receives its notifications, and
//! our own PayTR client pointed at it.

use crate::helpers::{eventually, sample_request};
use paytr_checkout::paytr::{
    CardSource, ClientConfig, MerchantCredentials, PaymentRequest, PaytrClient, Token,
};
use paytr_checkout::sandbox::knobs::Knobs;
use paytr_checkout::sandbox::{Sandbox, SandboxConfig, SandboxServer};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use tempfile::TempDir;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const VISA: &str = "4355084355084358";

pub struct SandboxUnderTest {
    pub url: String,
    pub sandbox: Sandbox,
    pub merchant: MockServer,
    pub client: PaytrClient,
    pub creds: MerchantCredentials,
    pub http: reqwest::Client,
    pub dir: TempDir,
}

pub fn test_knobs() -> Knobs {
    Knobs {
        notify_interval: Duration::from_millis(50),
        wait_callback: Duration::from_millis(400),
        ..Knobs::default()
    }
}

/// A merchant that answers every notification exactly `OK`. Every mock server of these tests
/// is a fresh one (`builder().start()`), never wiremock's pooled ones: a sandbox of an earlier
/// test still re-delivering a notification would otherwise reach a reused server of the next
/// test (the cause of the old `a_notification_is_delivered_again…` flake).
pub async fn ok_merchant() -> MockServer {
    let merchant = MockServer::builder().start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("OK"))
        .mount(&merchant)
        .await;
    merchant
}

pub async fn start_sandbox() -> SandboxUnderTest {
    start_sandbox_with(
        test_knobs(),
        ok_merchant().await,
        tempfile::tempdir().expect("tempdir"),
    )
    .await
}

pub async fn start_sandbox_with(
    knobs: Knobs,
    merchant: MockServer,
    dir: TempDir,
) -> SandboxUnderTest {
    let creds = MerchantCredentials::new("123456", "AbCdEfGhIjKlMnOp", "QrStUvWxYz012345");
    let server = SandboxServer::build(
        SandboxConfig {
            credentials: creds.clone(),
            notify_url: Some(format!("{}/paytr/notify", merchant.uri())),
            data_dir: dir.path().to_owned(),
            prefix: String::new(),
            knobs,
        },
        "127.0.0.1:0".parse().expect("address"),
    )
    .expect("sandbox starts");
    let (url, sandbox) = (server.url.clone(), server.sandbox.clone());
    sandbox.resume_deliveries();
    tokio::spawn(server.into_server());
    let client = PaytrClient::new(ClientConfig {
        base_url: url.clone(),
        credentials: creds.clone(),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(2),
    })
    .expect("client");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    SandboxUnderTest {
        url,
        sandbox,
        merchant,
        client,
        creds,
        http,
        dir,
    }
}

/// Card fields a shopper's browser would add.
pub fn card_fields(number: &str) -> Vec<(&'static str, String)> {
    vec![
        ("cc_owner", "AYSE YILMAZ".into()),
        ("card_number", number.into()),
        ("expiry_month", "12".into()),
        ("expiry_year", "30".into()),
        ("cvv", "000".into()),
    ]
}

impl SandboxUnderTest {
    pub async fn post_odeme(&self, form: &[(&str, String)]) -> reqwest::Response {
        self.http
            .post(format!("{}/odeme", self.url))
            .form(form)
            .send()
            .await
            .expect("sandbox answers")
    }

    /// The signed form for `request` paid with `card`, plus `extra` fields.
    pub fn form(
        &self,
        request: &PaymentRequest,
        card: &CardSource,
        extra: Vec<(&'static str, String)>,
    ) -> Vec<(&'static str, String)> {
        let mut form = request
            .form(&self.creds, card)
            .expect("valid request")
            .pairs();
        form.extend(extra);
        form
    }

    /// A Non-3D `sync_mode` payment; returns the JSON answer.
    pub async fn pay_sync(
        &self,
        request: PaymentRequest,
        card: CardSource,
        extra: Vec<(&'static str, String)>,
    ) -> Value {
        let request = PaymentRequest {
            non_3d: true,
            sync_mode: true,
            ..request
        };
        let response = self.post_odeme(&self.form(&request, &card, extra)).await;
        serde_json::from_str(&response.text().await.expect("body")).expect("sync mode answers JSON")
    }

    /// Stores `number` for a new user (or `utoken`) with a sync payment; returns (utoken, ctoken).
    pub async fn store_card(
        &self,
        oid: &str,
        number: &str,
        utoken: Option<&Token>,
    ) -> (Token, Token) {
        let answer = self
            .pay_sync(
                sample_request(oid, 100),
                CardSource::NewCard {
                    store_card: true,
                    utoken: utoken.cloned(),
                },
                card_fields(number),
            )
            .await;
        assert_eq!(answer["status"], "success", "{answer}");
        let token = |k: &str| Token::new(answer[k].as_str().expect("token in the answer"));
        (token("utoken"), token("ctoken"))
    }

    /// Waits until the merchant received at least `n` notifications; returns them all.
    pub async fn notifications(&self, n: usize) -> Vec<HashMap<String, String>> {
        let mut received = Vec::new();
        for _ in 0..500 {
            received = self.merchant.received_requests().await.expect("recording");
            if received.len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            received.len() >= n,
            "expected {n} notifications, got {}",
            received.len()
        );
        received
            .iter()
            .map(|r| url::form_urlencoded::parse(&r.body).into_owned().collect())
            .collect()
    }

    /// The notification for `oid` (waiting for it).
    pub async fn notification_for(&self, oid: &str) -> HashMap<String, String> {
        for _ in 0..500 {
            let all = self.notifications(0).await;
            if let Some(n) = all
                .into_iter()
                .find(|n| n.get("merchant_oid").map(String::as_str) == Some(oid))
            {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no notification for {oid}");
    }

    pub async fn wait_for_deliveries(&self) {
        let sandbox = self.sandbox.clone();
        eventually("deliveries to finish", || {
            (sandbox.deliveries_pending() == 0).then_some(())
        })
        .await;
    }
}

/// The value of `<input name=NAME value=…>` or a form's `action` in sandbox HTML.
pub fn attribute_after(html: &str, marker: &str, attribute: &str) -> Option<String> {
    let start = html.find(marker)?;
    let rest = &html[start..];
    let at = rest.find(&format!("{attribute}=\""))? + attribute.len() + 2;
    let value = &rest[at..at + rest[at..].find('"')?];
    Some(
        value
            .replace("&#x2f;", "/")
            .replace("&#47;", "/")
            .replace("&amp;", "&")
            .replace("&quot;", "\""),
    )
}
