//! Recurring charges, faults, notification re-delivery and persistence in the sandbox.

use crate::helpers::{sample_request, spawn_app};
use crate::sandbox_harness::{VISA, ok_merchant, start_sandbox, start_sandbox_with, test_knobs};
use paytr_checkout::paytr::{ChargeAnswer, PaymentRequest, PaytrError, Token};
use paytr_checkout::sandbox::knobs::Fault;
use std::time::{Duration, Instant};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn charge(oid: &str) -> PaymentRequest {
    PaymentRequest {
        test_mode: false,
        ..sample_request(oid, 3450)
    }
}

#[tokio::test]
async fn a_recurring_charge_on_a_saved_card_succeeds_and_is_notified() {
    let sb = start_sandbox().await;
    let (utoken, ctoken) = sb.store_card("ORDREC0", VISA, None).await;

    let answer = sb
        .client
        .recurring_charge(&charge("SUBREC1"), &utoken, &ctoken)
        .await
        .expect("answer");

    assert!(matches!(answer, ChargeAnswer::Success { .. }), "{answer:?}");
    let n = sb.notification_for("SUBREC1").await;
    assert_eq!(
        (n["status"].as_str(), n["total_amount"].as_str()),
        ("success", "3450")
    );
}

#[tokio::test]
async fn the_recurring_flag_is_accepted_under_either_name() {
    let sb = start_sandbox().await;
    let (utoken, ctoken) = sb.store_card("ORDREC2", VISA, None).await;
    for (oid, flag) in [("SUBFLAG1", "recurring"), ("SUBFLAG2", "recurring_payment")] {
        let form: Vec<_> = charge(oid)
            .recurring_form(&sb.creds, &utoken, &ctoken)
            .expect("form")
            .pairs()
            .into_iter()
            .filter(|(k, _)| !matches!(*k, "recurring" | "recurring_payment") || *k == flag)
            .collect();
        let body = sb.post_odeme(&form).await.text().await.expect("body");
        assert!(body.contains("\"status\":\"success\""), "{flag}: {body}");
    }
}

#[tokio::test]
async fn a_card_closed_by_the_bank_fails_with_try_again_false() {
    let sb = start_sandbox().await;
    let (utoken, ctoken) = sb.store_card("ORDCLOSED", "4355080000000054", None).await;

    let answer = sb
        .client
        .recurring_charge(&charge("SUBCLOSED"), &utoken, &ctoken)
        .await
        .expect("answer");

    assert!(
        matches!(&answer, ChargeAnswer::Failed { try_again: Some(false), msg } if msg.contains("Kart banka tarafından kapatılmış")),
        "{answer:?}"
    );
    assert_eq!(sb.notification_for("SUBCLOSED").await["status"], "failed");
}

#[tokio::test]
async fn a_slow_charge_waits_for_the_callback_and_a_second_one_meanwhile_is_told_to_try_again() {
    let sb = start_sandbox().await;
    let (utoken, ctoken) = sb.store_card("ORDSLOW", "4355080000000062", None).await;

    let first = sb
        .client
        .recurring_charge(&charge("SUBSLOW1"), &utoken, &ctoken)
        .await
        .expect("answer");
    let second = sb
        .client
        .recurring_charge(&charge("SUBSLOW2"), &utoken, &ctoken)
        .await
        .expect("answer");

    assert!(
        matches!(first, ChargeAnswer::WaitCallback { .. }),
        "{first:?}"
    );
    assert!(
        matches!(&second, ChargeAnswer::Failed { try_again: Some(true), msg } if msg.starts_with("Henüz devam eden")),
        "{second:?}"
    );
    assert_eq!(
        sb.notification_for("SUBSLOW1").await["status"],
        "success",
        "the callback settles it"
    );
    let third = sb
        .client
        .recurring_charge(&charge("SUBSLOW3"), &utoken, &ctoken)
        .await
        .expect("answer");
    assert!(
        matches!(third, ChargeAnswer::WaitCallback { .. }),
        "free again after settling: {third:?}"
    );
}

#[tokio::test]
async fn recurring_needs_non_3d_the_permission_and_a_known_card() {
    let sb = start_sandbox().await;
    let (utoken, ctoken) = sb.store_card("ORDRECP", VISA, None).await;

    let unknown = sb
        .client
        .recurring_charge(&charge("SUBUNK"), &utoken, &Token::new("nope"))
        .await
        .expect("answer");
    let mut knobs = sb.sandbox.knobs();
    knobs.permissions.recurring = false;
    sb.sandbox.set_knobs(knobs);
    let denied = sb
        .client
        .recurring_charge(&charge("SUBDENY"), &utoken, &ctoken)
        .await
        .expect("answer");

    assert!(
        matches!(&unknown, ChargeAnswer::Failed { try_again: Some(false), msg } if msg.contains("bulunamadi")),
        "{unknown:?}"
    );
    assert!(
        matches!(&denied, ChargeAnswer::Failed { msg, .. } if msg.contains("yetkisi yok")),
        "{denied:?}"
    );
}

#[tokio::test]
async fn fault_knobs_break_capi_and_recurring_answers_as_documented() {
    let sb = start_sandbox().await;
    let (utoken, ctoken) = sb.store_card("ORDFAULT", VISA, None).await;
    let set = |capi, recurring, latency| {
        let mut knobs = sb.sandbox.knobs();
        (knobs.capi_fault, knobs.recurring_fault, knobs.latency) = (capi, recurring, latency);
        sb.sandbox.set_knobs(knobs);
    };

    set(Fault::Http500, Fault::Http500, Duration::ZERO);
    assert!(matches!(
        sb.client.list_cards(&utoken).await,
        Err(PaytrError::Status(500))
    ));
    assert!(matches!(
        sb.client
            .recurring_charge(&charge("SUB500"), &utoken, &ctoken)
            .await,
        Err(PaytrError::Status(500))
    ));
    set(Fault::Malformed, Fault::Malformed, Duration::ZERO);
    assert!(matches!(
        sb.client.list_cards(&utoken).await,
        Err(PaytrError::Answer(_))
    ));
    let garbled = sb
        .client
        .recurring_charge(&charge("SUBMAL"), &utoken, &ctoken)
        .await;
    assert!(garbled.err().is_some_and(|e| e.outcome_unknown()));
    assert_eq!(
        sb.notification_for("SUBMAL").await["status"],
        "success",
        "the charge went through anyway"
    );
    set(Fault::Timeout, Fault::Timeout, Duration::ZERO);
    assert!(matches!(
        sb.client.list_cards(&utoken).await,
        Err(PaytrError::Timeout)
    ));
    assert!(matches!(
        sb.client
            .recurring_charge(&charge("SUBTIME"), &utoken, &ctoken)
            .await,
        Err(PaytrError::Timeout)
    ));
    assert_eq!(
        sb.notification_for("SUBTIME").await["status"],
        "success",
        "charged although the caller timed out"
    );
    set(Fault::None, Fault::None, Duration::from_millis(300));
    let started = Instant::now();
    sb.client.list_cards(&utoken).await.expect("list");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "latency is added"
    );
}

#[tokio::test]
async fn a_notification_is_delivered_again_until_the_answer_is_exactly_ok() {
    let merchant = MockServer::builder().start().await;
    for bad in [
        ResponseTemplate::new(200).set_body_string("ok"),
        ResponseTemplate::new(200).set_body_string("OK\n"),
        ResponseTemplate::new(200).set_body_string("<html><body>OK</body></html>"),
        ResponseTemplate::new(500).set_body_string("OK"),
    ] {
        Mock::given(method("POST"))
            .respond_with(bad)
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&merchant)
            .await;
    }
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("OK"))
        .with_priority(2)
        .mount(&merchant)
        .await;
    let sb = start_sandbox_with(
        test_knobs(),
        merchant,
        tempfile::tempdir().expect("tempdir"),
    )
    .await;

    sb.store_card("ORDRETRY", VISA, None).await;
    sb.wait_for_deliveries().await;

    let received = sb.notifications(5).await;
    assert_eq!(received.len(), 5, "four refused answers, then OK");
    let differing: Vec<_> = received.iter().filter(|n| *n != &received[0]).collect();
    assert!(
        differing.is_empty(),
        "the same signed fields each time: first {:?}, then {differing:?}",
        received[0].keys().collect::<Vec<_>>()
    );
    let attempts = sb.sandbox.read(|s| {
        s.notifications[0]
            .attempts
            .iter()
            .map(|a| (a.attempt, a.ok))
            .collect::<Vec<_>>()
    });
    assert_eq!(
        attempts,
        vec![(1, false), (2, false), (3, false), (4, false), (5, true)]
    );
}

#[tokio::test]
async fn delivery_gives_up_after_the_maximum_attempts() {
    let merchant = MockServer::builder().start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&merchant)
        .await;
    let knobs = paytr_checkout::sandbox::knobs::Knobs {
        notify_max_attempts: 3,
        ..test_knobs()
    };
    let sb = start_sandbox_with(knobs, merchant, tempfile::tempdir().expect("tempdir")).await;

    sb.store_card("ORDGIVEUP", VISA, None).await;
    sb.wait_for_deliveries().await;

    assert_eq!(
        sb.merchant
            .received_requests()
            .await
            .expect("recording")
            .len(),
        3
    );
    assert!(sb.sandbox.read(|s| s.notifications[0].gave_up));
}

#[tokio::test]
async fn the_twice_knob_and_the_resend_button_deliver_duplicates() {
    let knobs = paytr_checkout::sandbox::knobs::Knobs {
        notify_twice: true,
        ..test_knobs()
    };
    let sb = start_sandbox_with(
        knobs,
        ok_merchant().await,
        tempfile::tempdir().expect("tempdir"),
    )
    .await;

    sb.store_card("ORDTWICE2", VISA, None).await;
    let twice = sb.notifications(2).await;
    let first_id = sb.sandbox.read(|s| s.notifications[0].id);
    let resend = sb
        .http
        .post(format!("{}/notifications/{first_id}/resend", sb.url))
        .send()
        .await
        .expect("answer");
    let thrice = sb.notifications(3).await;

    assert_eq!(twice[0], twice[1]);
    assert_eq!(resend.status(), 303);
    assert_eq!(thrice[2], twice[0]);
}

#[tokio::test]
async fn cards_payments_and_deliveries_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_owned();
    let sb = start_sandbox_with(test_knobs(), ok_merchant().await, dir).await;
    let (utoken, ctoken) = sb.store_card("ORDPERSIST", VISA, None).await;
    sb.wait_for_deliveries().await;
    let dir = sb.dir;

    let again = start_sandbox_with(test_knobs(), ok_merchant().await, dir).await;

    assert_eq!(again.dir.path(), path);
    assert_eq!(
        again.client.list_cards(&utoken).await.expect("list")[0].ctoken,
        ctoken
    );
    assert!(
        again
            .sandbox
            .read(|s| s.oid_used("ORDPERSIST") && s.notifications.iter().all(|j| j.delivered))
    );
    let reused = again
        .pay_sync(
            sample_request("ORDPERSIST", 100),
            paytr_checkout::paytr::CardSource::NewCard {
                store_card: false,
                utoken: None,
            },
            crate::sandbox_harness::card_fields(VISA),
        )
        .await;
    assert!(
        reused["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("daha once kullanilmis")
    );
}

#[tokio::test]
async fn the_panel_shows_cards_by_last_4_payments_and_deliveries_but_no_secrets() {
    let sb = start_sandbox().await;
    let (utoken, ctoken) = sb.store_card("ORDPANEL", VISA, None).await;
    sb.wait_for_deliveries().await;

    let html = sb
        .http
        .get(format!("{}/", sb.url))
        .send()
        .await
        .expect("panel")
        .text()
        .await
        .expect("html");

    assert!(
        html.contains("•••• 4358") && html.contains("ORDPANEL") && html.contains("HTTP 200"),
        "{html}"
    );
    for secret in [
        VISA,
        utoken.expose(),
        ctoken.expose(),
        "AbCdEfGhIjKlMnOp",
        "QrStUvWxYz012345",
    ] {
        assert!(!html.contains(secret), "the panel must not show {secret}");
    }
    let state = std::fs::read_to_string(sb.dir.path().join("state.json")).expect("state file");
    assert!(
        !state.contains(VISA) && !state.contains("\"000\""),
        "no card number or CVV is kept"
    );
}

#[tokio::test]
async fn serve_without_credentials_mounts_the_sandbox_under_sandbox() {
    let app = spawn_app().await;

    let panel = app.get("/sandbox").await;
    let list = app
        .http
        .post(format!("{}/sandbox/odeme/capi/list", app.address))
        .send()
        .await
        .expect("answer");

    assert_eq!(panel.status(), 200);
    let html = panel.text().await.expect("html");
    assert!(
        html.contains(&format!("{}/paytr/notify", app.address)),
        "notifications go to the storefront: {html}"
    );
    assert!(
        list.text()
            .await
            .expect("body")
            .contains("\"status\":\"error\"")
    );
    let merchant = std::fs::read_to_string(app.db.dir.path().join("sandbox/merchant.json"))
        .expect("credentials kept");
    assert!(merchant.contains("merchant_salt"));
}

#[tokio::test]
async fn the_panel_refuses_forms_posted_from_another_site() {
    let sb = start_sandbox().await;

    let forged = sb
        .http
        .post(format!("{}/knobs", sb.url))
        .header("origin", "https://evil.example")
        .form(&[("recurring_fault", "http500")])
        .send()
        .await
        .expect("answer");
    let own = sb
        .http
        .post(format!("{}/knobs", sb.url))
        .header("origin", sb.url.clone())
        .form(&[("latency_ms", "5")])
        .send()
        .await
        .expect("answer");

    assert_eq!(forged.status(), 403);
    assert_eq!(
        sb.sandbox.knobs().recurring_fault,
        Fault::None,
        "nothing changed"
    );
    assert_eq!(own.status(), 303);
    assert_eq!(sb.sandbox.knobs().latency, Duration::from_millis(5));
}
