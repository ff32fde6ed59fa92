//! The PayTR client against a local HTTP server standing in for PayTR.

mod common;

use paytr::{
    AnswerError, ChargeAnswer, ClientConfig, MerchantCredentials, PaymentRequest, PaytrClient,
    PaytrError, Token,
};
use std::collections::HashMap;
use std::time::Duration;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(server: &MockServer) -> PaytrClient {
    PaytrClient::new(ClientConfig {
        base_url: server.uri(),
        credentials: MerchantCredentials::new("123456", "AbCdEfGhIjKlMnOp", "QrStUvWxYz012345"),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_millis(500),
    })
    .expect("client builds")
}

async fn answering(route: &str, response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

/// The form fields of the one request the server received.
async fn posted_form(server: &MockServer) -> HashMap<String, String> {
    let requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1, "exactly one request");
    url::form_urlencoded::parse(&requests[0].body)
        .into_owned()
        .collect()
}

fn json(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

fn utoken() -> Token {
    Token::new("UT3f9a0c1d2e")
}

#[tokio::test]
async fn list_cards_posts_the_signed_form_and_reads_the_cards() {
    let server = answering(
        "/odeme/capi/list",
        json(r#"[{"ctoken":"CT1","last_4":"4358","require_cvv":"0","month":"12","year":"30","c_bank":"","schema":"VISA"}]"#),
    )
    .await;

    let cards = client(&server).list_cards(&utoken()).await.expect("cards");

    assert_eq!(cards.len(), 1);
    assert_eq!(
        (cards[0].last_4.as_str(), cards[0].schema.as_str()),
        ("4358", "VISA")
    );
    let form = posted_form(&server).await;
    assert_eq!(form["merchant_id"], "123456");
    assert_eq!(form["utoken"], "UT3f9a0c1d2e");
    assert_eq!(
        form["paytr_token"], "3UCgNFxF0PWeCWv+fC6XS7XS9SuK6YjbuP44I0dkRf8=",
        "V4, with + kept intact"
    );
}

#[tokio::test]
async fn list_cards_reads_every_empty_shape_as_no_cards() {
    for body in ["[]", "{}", ""] {
        let server = answering("/odeme/capi/list", json(body)).await;
        let cards = client(&server).list_cards(&utoken()).await;
        assert!(matches!(cards.as_deref(), Ok([])), "{body:?}: {cards:?}");
    }
}

#[tokio::test]
async fn list_cards_reports_paytr_errors_http_failures_and_non_json() {
    let server = answering(
        "/odeme/capi/list",
        json(r#"{"status":"error","err_msg":"Bağlantı hatası oluştu"}"#),
    )
    .await;
    let refused = client(&server).list_cards(&utoken()).await;
    assert!(
        matches!(&refused, Err(PaytrError::Refused(m)) if m == "Bağlantı hatası oluştu"),
        "{refused:?}"
    );

    let server = answering("/odeme/capi/list", ResponseTemplate::new(500)).await;
    assert!(matches!(
        client(&server).list_cards(&utoken()).await,
        Err(PaytrError::Status(500))
    ));

    let server = answering(
        "/odeme/capi/list",
        ResponseTemplate::new(200).set_body_string("<html>bakım</html>"),
    )
    .await;
    let not_json = client(&server).list_cards(&utoken()).await;
    assert!(
        matches!(not_json, Err(PaytrError::Answer(AnswerError::NotJson))),
        "{not_json:?}"
    );
}

#[tokio::test]
async fn a_slow_paytr_is_a_timeout_not_a_hang() {
    let server = answering(
        "/odeme/capi/list",
        json("[]").set_delay(Duration::from_secs(3)),
    )
    .await;

    let result = client(&server).list_cards(&utoken()).await;

    assert!(matches!(result, Err(PaytrError::Timeout)), "{result:?}");
    assert!(result.err().is_some_and(|e| e.outcome_unknown()));
}

#[tokio::test]
async fn an_unreachable_paytr_says_nothing_was_sent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let client = PaytrClient::new(ClientConfig {
        base_url: format!("http://127.0.0.1:{port}"),
        credentials: MerchantCredentials::new("1", "k", "s"),
        connect_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(1),
    })
    .expect("client");

    let result = client.list_cards(&utoken()).await;

    assert!(
        matches!(&result, Err(PaytrError::Unreachable)),
        "{result:?}"
    );
    assert!(!result.err().is_some_and(|e| e.outcome_unknown()));
}

#[tokio::test]
async fn delete_card_signs_ctoken_first_and_reports_paytr_refusal() {
    let server = answering("/odeme/capi/delete", json(r#"{"status":"success"}"#)).await;
    client(&server)
        .delete_card(&utoken(), &Token::new("CTa1b2c3d4"))
        .await
        .expect("deleted");
    let form = posted_form(&server).await;
    assert_eq!(form["ctoken"], "CTa1b2c3d4");
    assert_eq!(
        form["paytr_token"], "VVgwsZycNwolwV5DrEfoJ2Pgk1s7jley2QjBg6R6ooU=",
        "V5"
    );

    let server = answering(
        "/odeme/capi/delete",
        json(r#"{"status":"error","err_msg":"Kart yok veya daha önce silinmiş"}"#),
    )
    .await;
    let refused = client(&server)
        .delete_card(&utoken(), &Token::new("CTx"))
        .await;
    assert!(
        matches!(&refused, Err(PaytrError::Refused(m)) if m.contains("Kart yok")),
        "{refused:?}"
    );

    let server = answering(
        "/odeme/capi/delete",
        ResponseTemplate::new(502).set_body_string("Bad Gateway"),
    )
    .await;
    assert!(matches!(
        client(&server)
            .delete_card(&utoken(), &Token::new("CTx"))
            .await,
        Err(PaytrError::Status(502))
    ));
}

fn recurring_request() -> PaymentRequest {
    PaymentRequest {
        test_mode: false,
        debug_on: false,
        ..common::sample_request("SUB20260201X9", 3450)
    }
}

#[tokio::test]
async fn recurring_charge_posts_a_non_3d_recurring_form_signed_as_v3() {
    let server = answering(
        "/odeme",
        json(r#"{"status":"success","msg":"Ödeme Başarılı."}"#),
    )
    .await;

    let answer = client(&server)
        .recurring_charge(&recurring_request(), &utoken(), &Token::new("CTa1b2c3d4"))
        .await
        .expect("answer");

    assert!(matches!(answer, ChargeAnswer::Success { .. }), "{answer:?}");
    let form = posted_form(&server).await;
    assert_eq!(
        form["paytr_token"], "kaEv59B7boevTRPMHcu6h5sgOX1Rhv20a+BAESYiaQE=",
        "V3"
    );
    for (name, value) in [
        ("non_3d", "1"),
        ("recurring_payment", "1"),
        ("recurring", "1"),
        ("payment_amount", "34.50"),
    ] {
        assert_eq!(form[name], value, "{name}");
    }
    assert!(!form.contains_key("card_number") && !form.contains_key("cvv"));
}

#[tokio::test]
async fn recurring_charge_reads_each_answer_of_the_specification() {
    let cases = [
        (
            r#"{"status":"wait_callback","msg":"Ödeme Kontrol Ediliyor, Bildirimi Bekleyin."}"#,
            "wait",
        ),
        (
            r#"{"status":"failed","msg":"Henüz devam eden bir işleminiz bulunmaktadır","try_again":true}"#,
            "soft",
        ),
        (
            r#"{"status":"failed","msg":"Kart banka tarafından kapatılmış.","try_again":false}"#,
            "hard",
        ),
        (
            r#"{"status":"failed","reason":"x","try_again":"1"}"#,
            "soft",
        ),
        (r#"{"status":"error","err_msg":"yetki yok"}"#, "unsaid"),
    ];
    for (body, expected) in cases {
        let server = answering("/odeme", json(body)).await;
        let answer = client(&server)
            .recurring_charge(&recurring_request(), &utoken(), &Token::new("C"))
            .await;
        let got = match answer {
            Ok(ChargeAnswer::WaitCallback { .. }) => "wait",
            Ok(ChargeAnswer::Failed {
                try_again: Some(true),
                ..
            }) => "soft",
            Ok(ChargeAnswer::Failed {
                try_again: Some(false),
                ..
            }) => "hard",
            Ok(ChargeAnswer::Failed {
                try_again: None, ..
            }) => "unsaid",
            other => panic!("{body}: unexpected {other:?}"),
        };
        assert_eq!(got, expected, "{body}");
    }
    let server = answering(
        "/odeme",
        ResponseTemplate::new(200).set_body_string("<html>error</html>"),
    )
    .await;
    let garbled = client(&server)
        .recurring_charge(&recurring_request(), &utoken(), &Token::new("C"))
        .await;
    assert!(
        garbled.err().is_some_and(|e| e.outcome_unknown()),
        "an unreadable answer leaves the outcome unknown"
    );
}

#[tokio::test]
async fn refund_posts_amount_with_a_dot_and_the_reference_and_reads_refusals() {
    use paytr::types::{MerchantOid, Money, ReferenceNo};
    use paytr::{MerchantError, RefundAnswer};
    let oid = MerchantOid::parse("SP1732000000ab12").expect("oid");
    let reference = ReferenceNo::parse("RF7c1e0d9a").expect("reference");
    let amount = Money::from_kurus(1197).expect("amount");
    let server = answering(
        "/odeme/iade",
        json(r#"{"status":"success","is_test":"1","merchant_oid":"SP1732000000ab12","return_amount":"11.97","reference_no":"RF7c1e0d9a"}"#),
    )
    .await;
    let answer = client(&server).refund(&oid, amount, &reference).await;
    assert!(
        matches!(answer, Ok(RefundAnswer::Refunded { is_test: true, .. })),
        "{answer:?}"
    );
    let form = posted_form(&server).await;
    assert_eq!(form["return_amount"], "11.97");
    assert_eq!(form["reference_no"], "RF7c1e0d9a");
    assert_eq!(
        form["paytr_token"],
        "ul8kZCn4OYL72NDTz4kK2/2Prtgqu60NvMIHxq69PWU="
    );

    let server = answering(
        "/odeme/iade",
        json(r#"{"status":"error","err_no":"009","err_msg":"Iade tutari fazla"}"#),
    )
    .await;
    assert_eq!(
        client(&server).refund(&oid, amount, &reference).await.ok(),
        Some(RefundAnswer::Refused(MerchantError {
            err_no: "009".into(),
            err_msg: "Iade tutari fazla".into()
        }))
    );
    let server = answering(
        "/odeme/iade",
        ResponseTemplate::new(200).set_delay(Duration::from_secs(2)),
    )
    .await;
    let lost = client(&server).refund(&oid, amount, &reference).await;
    assert!(matches!(&lost, Err(e) if e.outcome_unknown()), "{lost:?}");
}

#[tokio::test]
async fn status_inquiry_reads_paid_and_not_found() {
    use paytr::StatusAnswer;
    use paytr::types::MerchantOid;
    let oid = MerchantOid::parse("SUB12P3A1").expect("oid");
    let server = answering(
        "/odeme/durum-sorgu",
        json(r#"{"status":"success","payment_amount":"149.00","payment_total":"149.00","currency":"TL","returns":[{"return_amount":"49.00","reference_no":"RFfull0001"}]}"#),
    )
    .await;
    let answer = client(&server).payment_status(&oid).await;
    let Ok(StatusAnswer::Paid(status)) = answer else {
        panic!("paid expected: {answer:?}")
    };
    assert!(status.refund("RFfull0001").is_some());
    assert_eq!(
        posted_form(&server).await["paytr_token"],
        "Yol3nLhKaPPDcIz+UZFgEWHTgwi8uyIlR3CQSODPSIs="
    );
    let server = answering(
        "/odeme/durum-sorgu",
        json(r#"{"status":"error","err_no":"004","err_msg":"Islem bulunamadi"}"#),
    )
    .await;
    assert!(matches!(
        client(&server).payment_status(&oid).await,
        Ok(StatusAnswer::NotPaid(_))
    ));
}
