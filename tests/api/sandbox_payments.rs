//! The sandbox's `/odeme`: tokens, field rules, 3-D page, sync mode, test cards.

use crate::helpers::sample_request;
use crate::sandbox_harness::{VISA, attribute_after, card_fields, start_sandbox};
use paytr_checkout::domain::InstallmentCount;
use paytr_checkout::paytr::{CardSource, MerchantCredentials, Notification, PaymentRequest};

fn new_card() -> CardSource {
    CardSource::NewCard {
        store_card: false,
        utoken: None,
    }
}

#[tokio::test]
async fn a_payment_signed_by_our_builder_is_accepted_and_notified_with_a_valid_hash() {
    let sb = start_sandbox().await;

    let answer = sb
        .pay_sync(
            sample_request("ORDOK1", 10099),
            new_card(),
            card_fields(VISA),
        )
        .await;

    assert_eq!(answer["status"], "success", "{answer}");
    assert_eq!(answer["msg"], "Ödeme Başarılı.");
    let n = sb.notification_for("ORDOK1").await;
    let posted =
        Notification::from_pairs(n.iter().map(|(k, v)| (k.as_str(), v.as_str()))).expect("fields");
    assert!(
        posted.verify(&sb.creds),
        "the notification verifies with our own check"
    );
    assert_eq!(
        (n["status"].as_str(), n["total_amount"].as_str()),
        ("success", "10099")
    );
    assert_eq!(
        (
            n["payment_amount"].as_str(),
            n["currency"].as_str(),
            n["test_mode"].as_str()
        ),
        ("10099", "TL", "1")
    );
    assert!(!n.contains_key("utoken"), "no card was stored");
}

#[tokio::test]
async fn changing_any_signed_field_or_the_credentials_is_refused_and_charges_nothing() {
    let sb = start_sandbox().await;
    let request = PaymentRequest {
        non_3d: true,
        sync_mode: true,
        ..sample_request("ORDTAMPER", 10099)
    };
    let good = sb.form(&request, &new_card(), card_fields(VISA));
    let tampered = [
        ("user_ip", "85.34.78.113"),
        ("merchant_oid", "ORDTAMPES"),
        ("email", "buyes@example.com"),
        ("payment_amount", "100.98"),
        ("payment_type", "card_points"),
        ("installment_count", "2"),
        ("currency", "USD"),
        ("test_mode", "0"),
        ("non_3d", "0"),
    ];
    for (field, value) in tampered {
        let form: Vec<_> = good
            .iter()
            .map(|(k, v)| {
                (
                    *k,
                    if *k == field {
                        value.to_owned()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect();
        let answer: serde_json::Value =
            serde_json::from_str(&sb.post_odeme(&form).await.text().await.expect("body"))
                .expect("json");
        assert_eq!(answer["status"], "failed", "{field}");
        assert!(
            answer["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("paytr_token"),
            "{field}: {answer}"
        );
    }
    for creds in [
        MerchantCredentials::new("123456", "AbCdEfGhIjKlMnOq", "QrStUvWxYz012345"),
        MerchantCredentials::new("123456", "AbCdEfGhIjKlMnOp", "QrStUvWxYz012346"),
    ] {
        let mut form = request.form(&creds, &new_card()).expect("valid").pairs();
        form.extend(card_fields(VISA));
        let body = sb.post_odeme(&form).await.text().await.expect("body");
        assert!(body.contains("paytr_token"), "{body}");
    }

    assert!(
        sb.sandbox.read(|s| s.payments.is_empty()),
        "nothing was recorded or charged"
    );
    assert!(
        sb.merchant
            .received_requests()
            .await
            .expect("recording")
            .is_empty(),
        "no notification for a forged request"
    );
}

#[tokio::test]
async fn with_debug_off_an_integration_error_is_generic_and_notified_with_code_99() {
    let sb = start_sandbox().await;
    let request = PaymentRequest {
        debug_on: false,
        ..sample_request("ORDDEBUG0", 500)
    };

    let answer = sb
        .pay_sync(request, new_card(), card_fields("4355084355084359"))
        .await;

    assert_eq!(answer["status"], "failed");
    assert_eq!(
        answer["reason"],
        "İşlem başarısız: Teknik entegrasyon hatası."
    );
    let n = sb.notification_for("ORDDEBUG0").await;
    assert_eq!(
        (
            n["status"].as_str(),
            n["failed_reason_code"].as_str(),
            n["total_amount"].as_str()
        ),
        ("failed", "99", "0")
    );
}

#[tokio::test]
async fn with_debug_on_the_reason_is_given_in_words() {
    let sb = start_sandbox().await;

    let bad_luhn = sb
        .pay_sync(
            sample_request("ORDLUHN", 500),
            new_card(),
            card_fields("4355084355084359"),
        )
        .await;
    let mut expired = card_fields(VISA);
    expired[3].1 = "20".into();
    let old = sb
        .pay_sync(sample_request("ORDEXP", 500), new_card(), expired)
        .await;
    // PayTR takes the card number as digits only: spaces are refused, not stripped.
    let spaced = sb
        .pay_sync(
            sample_request("ORDSPACES", 500),
            new_card(),
            card_fields("4355 0843 5508 4358"),
        )
        .await;

    assert!(
        bad_luhn["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("card_number"),
        "{bad_luhn}"
    );
    assert!(
        old["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("son kullanma"),
        "{old}"
    );
    assert!(
        spaced["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("yalnizca rakam"),
        "{spaced}"
    );
}

#[tokio::test]
async fn missing_fields_and_a_reused_merchant_oid_are_refused() {
    let sb = start_sandbox().await;
    let request = PaymentRequest {
        non_3d: true,
        sync_mode: true,
        ..sample_request("ORDTWICE", 500)
    };
    let form = sb.form(&request, &new_card(), card_fields(VISA));

    let without_phone: Vec<_> = form
        .iter()
        .filter(|(k, _)| *k != "user_phone")
        .cloned()
        .collect();
    let missing = sb
        .post_odeme(&without_phone)
        .await
        .text()
        .await
        .expect("body");
    let first = sb.post_odeme(&form).await.text().await.expect("body");
    let again = sb.post_odeme(&form).await.text().await.expect("body");

    assert!(missing.contains("user_phone"), "{missing}");
    assert!(first.contains("\"success\""), "{first}");
    assert!(again.contains("daha once kullanilmis"), "{again}");
}

#[tokio::test]
async fn the_3d_page_approve_returns_the_shopper_to_ok_url_and_notifies_success() {
    let sb = start_sandbox().await;
    let form = sb.form(
        &sample_request("ORD3DOK", 25000),
        &new_card(),
        card_fields(VISA),
    );

    let page = sb.post_odeme(&form).await.text().await.expect("3-D page");
    let action = attribute_after(&page, "<form", "action").expect("3-D form");
    assert!(
        page.contains("•••• 4358") && page.contains("250.00 TL"),
        "{page}"
    );
    assert!(!page.contains(VISA), "the full number is never shown");
    let back = sb
        .http
        .post(format!("{}{action}", sb.url))
        .form(&[("decision", "approve")])
        .send()
        .await
        .expect("answer");
    let back = back.text().await.expect("redirect page");

    assert_eq!(
        attribute_after(&back, "<form", "action").as_deref(),
        Some("https://shop.example/ok")
    );
    assert!(!back.contains("fail_message"));
    let n = sb.notification_for("ORD3DOK").await;
    assert_eq!(
        (n["status"].as_str(), n["total_amount"].as_str()),
        ("success", "25000")
    );
}

#[tokio::test]
async fn the_3d_page_reject_sends_the_shopper_to_fail_url_with_a_message() {
    let sb = start_sandbox().await;
    let form = sb.form(
        &sample_request("ORD3DNO", 25000),
        &new_card(),
        card_fields(VISA),
    );
    let page = sb.post_odeme(&form).await.text().await.expect("3-D page");
    let action = attribute_after(&page, "<form", "action").expect("3-D form");

    let back = sb
        .http
        .post(format!("{}{action}", sb.url))
        .form(&[("decision", "reject")])
        .send()
        .await
        .expect("answer");
    let back = back.text().await.expect("page");
    let replay = sb
        .http
        .post(format!("{}{action}", sb.url))
        .form(&[("decision", "approve")])
        .send()
        .await
        .expect("answer");

    assert_eq!(
        attribute_after(&back, "<form", "action").as_deref(),
        Some("https://shop.example/fail")
    );
    assert!(
        attribute_after(&back, "name=\"fail_message\"", "value")
            .is_some_and(|m| m.contains("Kimlik Doğrulama")),
        "{back}"
    );
    let n = sb.notification_for("ORD3DNO").await;
    assert_eq!(
        (n["status"].as_str(), n["failed_reason_code"].as_str()),
        ("failed", "2")
    );
    assert!(
        replay.text().await.expect("page").contains("bulunamadı"),
        "a 3-D session settles once"
    );
}

#[tokio::test]
async fn non_3d_browser_payments_skip_the_bank_page() {
    let sb = start_sandbox().await;
    let request = PaymentRequest {
        non_3d: true,
        ..sample_request("ORDN3D", 500)
    };

    let page = sb
        .post_odeme(&sb.form(&request, &new_card(), card_fields(VISA)))
        .await
        .text()
        .await
        .expect("page");

    assert_eq!(
        attribute_after(&page, "<form", "action").as_deref(),
        Some("https://shop.example/ok")
    );
}

/// (card, installments, non_3d, expected failed_reason_code or None for success)
const TEST_CARD_OUTCOMES: &[(&str, u8, bool, Option<&str>)] = &[
    ("4355084355084358", 0, true, None),
    ("5406675406675403", 0, true, None),
    ("9792030394440796", 0, true, None),
    ("4355080000000013", 0, true, Some("0")),
    ("4355080000000039", 0, true, Some("10")),
    ("4355080000000047", 3, true, Some("8")),
    ("4355080000000047", 0, true, None),
    ("4111111111111111", 0, true, None),
];

#[tokio::test]
async fn each_test_card_behaves_as_documented() {
    let sb = start_sandbox().await;
    for (i, (number, installments, non_3d, code)) in TEST_CARD_OUTCOMES.iter().enumerate() {
        let oid = format!("ORDCARD{i}");
        let request = PaymentRequest {
            installment_count: InstallmentCount::new(*installments).expect("count"),
            non_3d: *non_3d,
            ..sample_request(&oid, 1000)
        };
        let answer = sb.pay_sync(request, new_card(), card_fields(number)).await;
        let n = sb.notification_for(&oid).await;
        match code {
            None => assert_eq!(answer["status"], "success", "{number}: {answer}"),
            Some(code) => {
                assert_eq!(answer["status"], "failed", "{number}: {answer}");
                assert_eq!(n["failed_reason_code"], *code, "{number}");
            }
        }
    }
}

#[tokio::test]
async fn the_3d_failing_card_fails_even_when_approved() {
    let sb = start_sandbox().await;
    let form = sb.form(
        &sample_request("ORD3DFAIL", 500),
        &new_card(),
        card_fields("4355080000000021"),
    );
    let page = sb.post_odeme(&form).await.text().await.expect("page");
    let action = attribute_after(&page, "<form", "action").expect("form");

    sb.http
        .post(format!("{}{action}", sb.url))
        .form(&[("decision", "approve")])
        .send()
        .await
        .expect("answer");

    assert_eq!(
        sb.notification_for("ORD3DFAIL").await["failed_reason_code"],
        "2"
    );
}

#[tokio::test]
async fn non3d_test_failed_fails_only_in_test_mode_with_non_3d() {
    let sb = start_sandbox().await;
    let failing = PaymentRequest {
        non3d_test_failed: true,
        ..sample_request("ORDSIMFAIL", 500)
    };
    let live = PaymentRequest {
        non3d_test_failed: true,
        test_mode: false,
        ..sample_request("ORDSIMLIVE", 500)
    };

    let failed = sb.pay_sync(failing, new_card(), card_fields(VISA)).await;
    let ignored = sb.pay_sync(live, new_card(), card_fields(VISA)).await;

    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(ignored["status"], "success", "{ignored}");
}
