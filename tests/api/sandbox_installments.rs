//! The sandbox's BIN lookup and installment rates, checked with raw forms signed by the
//! known-answer vectors (computed by paytr-python 0.3.0), and payments in installments.

use crate::helpers::sample_request;
use crate::sandbox_harness::{
    SandboxUnderTest, card_fields, ok_merchant, start_sandbox, start_sandbox_with, test_knobs,
};
use paytr_checkout::paytr::types::InstallmentCount;
use paytr_checkout::paytr::{Bin, BinAnswer, CardSource, PaymentRequest, RatesAnswer, RequestId};
use paytr_checkout::sandbox::knobs::Fault;
use serde_json::Value;

/// V10–V12 of crates/paytr/tests/fixtures/test-vectors.json.
const V10_BIN_540667: &str = "oTnCu7MS/1nI1+3q1JbOIS6yPOhmKOwabzg1/xiQdHM=";
const V11_BIN_43550843: &str = "kIb63BYJuNmmOBt27El7HQfLp1CbhcURXoRlrBU9gsA=";
const V12_RATES: &str = "f6mAeUkI4Y+A9+z63NlyU42fnq3A4yTi1FKredcp2iQ=";

const WORLD: &str = "5406675406675403";
const AXESS: &str = "4355084355084358";
const BUSINESS: &str = "5526080000000006";
const FOREIGN: &str = "4111111111111111";

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

#[tokio::test]
async fn the_bin_lookup_names_the_family_from_the_vector_signed_forms() {
    let sb = start_sandbox().await;
    let world = post(
        &sb,
        "/odeme/api/bin-detail",
        &[
            ("merchant_id", "123456"),
            ("bin_number", "540667"),
            ("paytr_token", V10_BIN_540667),
        ],
    )
    .await;
    assert_eq!(
        (
            &world["status"],
            &world["brand"],
            &world["bank"],
            &world["businessCard"]
        ),
        (
            &Value::from("success"),
            &Value::from("world"),
            &Value::from("Yapı Kredi"),
            &Value::from("n")
        ),
        "{world}"
    );
    let axess = post(
        &sb,
        "/odeme/api/bin-detail",
        &[
            ("merchant_id", "123456"),
            ("bin_number", "43550843"),
            ("paytr_token", V11_BIN_43550843),
        ],
    )
    .await;
    assert_eq!(
        axess["brand"], "axess",
        "8 digits are looked up by their first 6: {axess}"
    );
    // The token signs the BIN: another BIN with the same token is refused.
    let swapped = post(
        &sb,
        "/odeme/api/bin-detail",
        &[
            ("merchant_id", "123456"),
            ("bin_number", "540668"),
            ("paytr_token", V10_BIN_540667),
        ],
    )
    .await;
    assert_eq!(swapped["status"], "error", "{swapped}");
    let long = post(
        &sb,
        "/odeme/api/bin-detail",
        &[
            ("merchant_id", "123456"),
            ("bin_number", WORLD),
            ("paytr_token", V10_BIN_540667),
        ],
    )
    .await;
    assert_eq!(
        long["status"], "error",
        "a whole card number is refused: {long}"
    );

    // Through our client: a business card, a foreign one.
    let client = &sb.client;
    let business = client
        .bin_detail(&Bin::parse(&BUSINESS[..6]).expect("bin"))
        .await
        .expect("answer");
    assert!(
        matches!(&business, BinAnswer::Found(info) if info.business && info.family.as_deref() == Some("maximum")),
        "{business:?}"
    );
    let foreign = client
        .bin_detail(&Bin::parse(&FOREIGN[..6]).expect("bin"))
        .await
        .expect("answer");
    assert_eq!(foreign, BinAnswer::Unknown);
}

#[tokio::test]
async fn installment_rates_answer_every_family_and_refuse_a_wrong_token() {
    let sb = start_sandbox().await;
    let rates = post(
        &sb,
        "/odeme/taksit-oranlari",
        &[
            ("merchant_id", "123456"),
            ("request_id", "rates20261127"),
            ("paytr_token", V12_RATES),
        ],
    )
    .await;
    assert_eq!(rates["status"], "success", "{rates}");
    assert_eq!(rates["request_id"], "rates20261127");
    assert_eq!(rates["oranlar"]["world"]["taksit_3"], "3.00");
    let wrong = post(
        &sb,
        "/odeme/taksit-oranlari",
        &[
            ("merchant_id", "123456"),
            ("request_id", "rates20261128"),
            ("paytr_token", V12_RATES),
        ],
    )
    .await;
    assert_eq!(wrong["status"], "error", "{wrong}");

    let client = &sb.client;
    let RatesAnswer::Rates(parsed) = client
        .installment_rates(&RequestId::parse("r1").expect("id"))
        .await
        .expect("answer")
    else {
        panic!("rates")
    };
    assert_eq!(parsed.max_inst_non_bus, 12);
    assert_eq!(parsed.rate("world", 3), Some(300));
    assert_eq!(parsed.rates.len(), paytr_checkout::paytr::FAMILIES.len());
}

#[tokio::test]
async fn rates_and_bin_faults_are_knobs() {
    let knobs = paytr_checkout::sandbox::knobs::Knobs {
        bin_fault: Fault::Http500,
        rates_fault: Fault::Malformed,
        ..test_knobs()
    };
    let sb = start_sandbox_with(
        knobs,
        ok_merchant().await,
        tempfile::tempdir().expect("dir"),
    )
    .await;
    let client = &sb.client;
    assert!(
        client
            .bin_detail(&Bin::parse("540667").expect("bin"))
            .await
            .is_err()
    );
    assert!(
        client
            .installment_rates(&RequestId::parse("r1").expect("id"))
            .await
            .is_err()
    );
}

fn in_installments(oid: &str, count: u8, kurus: i64) -> PaymentRequest {
    PaymentRequest {
        installment_count: InstallmentCount::new(count).expect("count"),
        ..sample_request(oid, kurus)
    }
}

async fn pay(sb: &SandboxUnderTest, oid: &str, card: &str, count: u8, card_type: &str) -> Value {
    let mut extra = card_fields(card);
    extra.push(("card_type", card_type.to_owned()));
    let new = CardSource::NewCard {
        store_card: false,
        utoken: None,
    };
    sb.pay_sync(in_installments(oid, count, 331_980), new, extra)
        .await
}

#[tokio::test]
async fn a_payment_in_installments_needs_a_domestic_personal_credit_card_of_the_family_posted() {
    let sb = start_sandbox().await;
    let paid = pay(&sb, "INST1", WORLD, 6, "world").await;
    assert_eq!(paid["status"], "success", "{paid}");
    let n = sb.notification_for("INST1").await;
    assert_eq!(
        (
            n.get("installment_count").map(String::as_str),
            n.get("total_amount").map(String::as_str)
        ),
        (Some("6"), Some("331980")),
        "{n:?}"
    );
    for (oid, card, family, why) in [
        ("INST2", BUSINESS, "maximum", "a business card"),
        ("INST3", FOREIGN, "world", "a foreign card"),
        ("INST4", AXESS, "world", "another family than the card's"),
        ("INST5", WORLD, "", "no card_type"),
        ("INST7", "9792030394440796", "bonus", "a debit card"),
    ] {
        let refused = pay(&sb, oid, card, 3, family).await;
        assert_eq!(refused["status"], "failed", "{why}: {refused}");
        let n = sb.notification_for(oid).await;
        assert_eq!(
            n.get("failed_reason_code").map(String::as_str),
            Some("8"),
            "{why}: {n:?}"
        );
    }
    // The business card pays as a single payment.
    let single = pay(&sb, "INST6", BUSINESS, 0, "").await;
    assert_eq!(single["status"], "success", "{single}");
}
