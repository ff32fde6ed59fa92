//! The sandbox's refund (`/odeme/iade`) and status inquiry (`/odeme/durum-sorgu`), checked with
//! raw forms signed by the known-answer vectors (computed by a third-party client), so the
//! sandbox's rules are tested apart from our own form builder.

use crate::helpers::sample_request;
use crate::sandbox_harness::{SandboxUnderTest, VISA, card_fields, start_sandbox, test_knobs};
use paytr_checkout::paytr::types::{MerchantOid, Money, ReferenceNo};
use paytr_checkout::paytr::{CardSource, RefundAnswer, StatusAnswer};
use paytr_checkout::sandbox::knobs::{Fault, Knobs};
use serde_json::Value;

/// V6 and V8 of crates/paytr/tests/fixtures/test-vectors.json (paytr-python 0.3.0 + openssl).
const V6_REFUND_1197: &str = "ul8kZCn4OYL72NDTz4kK2/2Prtgqu60NvMIHxq69PWU=";
const V8_STATUS: &str = "H7eHMhH0+KpRzNGWWurI6Vwv0zahcAOAxFKO91baao4=";
const OID: &str = "SP1732000000ab12";

async fn post(sb: &SandboxUnderTest, path: &str, form: &[(&str, &str)]) -> Value {
    let response = sb
        .http
        .post(format!("{}{path}", sb.url))
        .form(form)
        .send()
        .await
        .expect("sandbox answers");
    serde_json::from_str(&response.text().await.expect("body")).expect("JSON answer")
}

async fn pay(sb: &SandboxUnderTest, oid: &str, kurus: i64) {
    let card = CardSource::NewCard {
        store_card: false,
        utoken: None,
    };
    let answer = sb
        .pay_sync(sample_request(oid, kurus), card, card_fields(VISA))
        .await;
    assert_eq!(answer["status"], "success", "{answer}");
    sb.notification_for(oid).await;
}

fn refund_form<'a>(amount: &'a str, token: &'a str, reference: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("merchant_id", "123456"),
        ("merchant_oid", OID),
        ("return_amount", amount),
        ("paytr_token", token),
        ("reference_no", reference),
    ]
}

fn oid(value: &str) -> MerchantOid {
    MerchantOid::parse(value).expect("oid")
}

fn kurus(value: i64) -> Money {
    Money::from_kurus(value).expect("amount")
}

fn reference(value: &str) -> ReferenceNo {
    ReferenceNo::parse(value).expect("reference")
}

#[tokio::test]
async fn a_refund_signed_with_the_vector_token_is_accepted_and_listed_by_status_inquiry() {
    let sb = start_sandbox().await;
    let status_form = [
        ("merchant_id", "123456"),
        ("merchant_oid", OID),
        ("paytr_token", V8_STATUS),
    ];
    let before = post(&sb, "/odeme/durum-sorgu", &status_form).await;
    assert_eq!(
        (&before["status"], &before["err_no"]),
        (&"error".into(), &"004".into())
    );
    let early = post(
        &sb,
        "/odeme/iade",
        &refund_form("11.97", V6_REFUND_1197, "RF7c1e0d9a"),
    )
    .await;
    assert_eq!(early["err_no"], "005", "no payment yet: {early}");

    pay(&sb, OID, 2000).await;
    let refunded = post(
        &sb,
        "/odeme/iade",
        &refund_form("11.97", V6_REFUND_1197, "RF7c1e0d9a"),
    )
    .await;
    assert_eq!(refunded["status"], "success", "{refunded}");
    assert_eq!(
        (
            &refunded["return_amount"],
            &refunded["reference_no"],
            &refunded["is_test"]
        ),
        (&"11.97".into(), &"RF7c1e0d9a".into(), &"1".into())
    );

    let status = post(&sb, "/odeme/durum-sorgu", &status_form).await;
    assert_eq!(status["status"], "success", "{status}");
    assert_eq!(status["payment_amount"], "20.00");
    assert_eq!(status["returns"][0]["return_amount"], "11.97");
    assert_eq!(status["returns"][0]["reference_no"], "RF7c1e0d9a");

    // The same signed refund again would exceed what is left (8.03): 009, nothing changes.
    let again = post(
        &sb,
        "/odeme/iade",
        &refund_form("11.97", V6_REFUND_1197, "RF7c1e0d9b"),
    )
    .await;
    assert_eq!(again["err_no"], "009", "{again}");
    let bad_token = post(
        &sb,
        "/odeme/iade",
        &refund_form("1.00", V6_REFUND_1197, "RFx"),
    )
    .await;
    assert_eq!(
        bad_token["err_no"], "004",
        "the token covers the amount: {bad_token}"
    );
    let comma = post(
        &sb,
        "/odeme/iade",
        &refund_form("11,97", V6_REFUND_1197, "RFx"),
    )
    .await;
    assert_eq!(
        comma["err_no"], "003",
        "a comma is not PayTR's separator: {comma}"
    );
    let dashed = post(
        &sb,
        "/odeme/iade",
        &refund_form("11.97", V6_REFUND_1197, "RF-1"),
    )
    .await;
    assert_eq!(
        dashed["status"], "error",
        "reference_no is letters and digits: {dashed}"
    );
    let returns = post(&sb, "/odeme/durum-sorgu", &status_form).await["returns"].clone();
    assert_eq!(returns.as_array().map(Vec::len), Some(1), "{returns}");
}

#[tokio::test]
async fn partial_refunds_add_up_to_the_payment_and_no_further() {
    let sb = start_sandbox().await;
    pay(&sb, "PART1", 10000).await;
    let refund = |amount, r: &'static str| {
        let client = sb.client.clone();
        async move {
            client
                .refund(&oid("PART1"), kurus(amount), &reference(r))
                .await
        }
    };
    assert!(matches!(
        refund(2550, "R1").await,
        Ok(RefundAnswer::Refunded { .. })
    ));
    assert!(matches!(refund(7451, "R2").await, Ok(RefundAnswer::Refused(e)) if e.err_no == "009"));
    assert!(matches!(
        refund(7450, "R3").await,
        Ok(RefundAnswer::Refunded { .. })
    ));
    assert!(matches!(refund(1, "R4").await, Ok(RefundAnswer::Refused(e)) if e.err_no == "009"));
    let Ok(StatusAnswer::Paid(status)) = sb.client.payment_status(&oid("PART1")).await else {
        panic!("paid")
    };
    let listed: Vec<_> = status
        .returns
        .iter()
        .map(|r| (r.amount(), r.reference_no.as_str()))
        .collect();
    assert_eq!(
        listed,
        [(Some(kurus(2550)), "R1"), (Some(kurus(7450)), "R3")]
    );
}

#[tokio::test]
async fn knobs_give_paytr_s_other_answers_and_a_lost_refund_is_found_by_reference() {
    let sb = start_sandbox().await;
    pay(&sb, "KNOB1", 5000).await;
    let base = test_knobs();
    sb.sandbox.set_knobs(Knobs {
        refund_error: Some("010".into()),
        ..base.clone()
    });
    let refused = sb
        .client
        .refund(&oid("KNOB1"), kurus(100), &reference("K1"))
        .await;
    assert!(matches!(refused, Ok(RefundAnswer::Refused(e)) if e.err_no == "010"));

    sb.sandbox.set_knobs(Knobs {
        refund_fault: Fault::Lost,
        ..base.clone()
    });
    let lost = sb
        .client
        .refund(&oid("KNOB1"), kurus(100), &reference("K2"))
        .await;
    assert!(matches!(&lost, Err(e) if e.outcome_unknown()), "{lost:?}");
    let Ok(StatusAnswer::Paid(status)) = sb.client.payment_status(&oid("KNOB1")).await else {
        panic!("paid")
    };
    assert!(
        status.refund("K2").is_some(),
        "the refund happened though its answer was lost"
    );
    assert!(status.refund("K1").is_none());

    sb.sandbox.set_knobs(Knobs {
        status_not_found: true,
        ..base
    });
    assert!(matches!(
        sb.client.payment_status(&oid("KNOB1")).await,
        Ok(StatusAnswer::NotPaid(_))
    ));
}
