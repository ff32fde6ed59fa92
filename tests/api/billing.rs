//! Recurring billing against the sandbox, with the clock moved by hand.

use crate::helpers::{TestApp, eventually_async, spawn_app, spawn_app_with};
use crate::sandbox_harness::VISA;
use crate::shopper::{Shopper, form_inputs, order_id};
use paytr_checkout::billing::{Billing, Summary};
use paytr_checkout::db::subscriptions::{ChargeAttempt, NewChargeAttempt, Subscription};
use paytr_checkout::sandbox::knobs::{Fault, Knobs};
use paytr_checkout::startup::standalone_billing;
use std::time::Duration;

const SLOW: &str = "4355080000000062";
pub(crate) const CLOSED: &str = "4355080000000054";

pub(crate) async fn db<T: Send + 'static>(
    app: &TestApp,
    f: impl FnOnce(&mut paytr_checkout::db::DbConnection) -> Result<T, paytr_checkout::db::DbError>
    + Send
    + 'static,
) -> T {
    app.db_run(f).await
}

pub(crate) async fn subscription(app: &TestApp, id: i64) -> Subscription {
    db(app, move |conn| {
        Ok(Subscription::find(conn, id)?.expect("subscription"))
    })
    .await
}

pub(crate) async fn attempts(app: &TestApp, id: i64) -> Vec<ChargeAttempt> {
    let mut all = db(app, move |conn| ChargeAttempt::for_subscription(conn, id)).await;
    all.retain(|a| a.attempt_no > 0);
    all.reverse();
    all
}

pub(crate) fn recurring_payments(app: &TestApp) -> usize {
    let sandbox = app.sandbox.as_ref().expect("sandbox");
    sandbox.read(|s| {
        s.payments
            .iter()
            .filter(|p| p.merchant_oid.starts_with("SUB"))
            .count()
    })
}

/// Signs up `email`, subscribes to the monthly plan paying with `card`, and waits until the
/// subscription is active. Returns the shopper and the subscription id.
pub(crate) async fn subscriber(app: &TestApp, email: &str, card: &str) -> (Shopper, i64) {
    let mut shopper = Shopper::new(&app.address);
    shopper.register(email).await;
    shopper.get("/subscribe/kahve-kulubu").await;
    let pay = shopper
        .post(
            "/subscribe/kahve-kulubu",
            &[
                ("full_name", "Ayşe Yılmaz"),
                ("email", email),
                ("phone", "0555 111 22 33"),
                ("address", "Kadıköy, İstanbul"),
                ("accept_terms", "1"),
                ("consent", "1"),
            ],
        )
        .await;
    assert!(
        pay.html.contains("id=\"subscription-card-note\""),
        "{}",
        pay.html
    );
    let (_, fields) = form_inputs(&pay.html, "id=\"payment-form\"");
    assert!(
        fields.iter().any(|(k, v)| k == "store_card" && v == "1"),
        "the card is always saved"
    );
    let three_d = shopper.pay(&pay.html, card, false).await;
    shopper.answer_3d(&three_d, true).await;
    shopper
        .wait_for_order_status(&format!("/orders/{}", order_id(&pay.url)), "status_paid")
        .await;
    let uid_email = email.to_owned();
    let id = db(app, move |conn| {
        let user =
            paytr_checkout::db::models::User::find_by_email(conn, &uid_email)?.expect("user");
        Ok(Subscription::list_for_user(conn, user.id)?[0].id)
    })
    .await;
    eventually_async("the subscription to become active", || async move {
        let s = subscription(app, id).await;
        (s.status.code() == "active" || s.status.code() == "needs_card").then_some(())
    })
    .await;
    (shopper, id)
}

pub(crate) async fn engine(app: &TestApp) -> Billing {
    standalone_billing(&app.settings)
        .await
        .expect("billing engine")
}

#[tokio::test]
async fn a_subscription_renews_over_several_periods() {
    let app = spawn_app().await;
    let (mut shopper, id) = subscriber(&app, "renew@example.com", VISA).await;
    let billing = engine(&app).await;
    let start = subscription(&app, id).await;
    assert_eq!(
        (
            start.status.code(),
            start.periods_paid,
            start.card_last4.as_deref()
        ),
        ("active", 1, Some("4358"))
    );

    for period in 2..=4 {
        let due = subscription(&app, id).await.next_charge_at;
        assert_eq!(
            billing.run_due(due - 1).await.expect("pass"),
            Summary::default(),
            "nothing due a second early"
        );
        let summary = billing.run_due(due + 60).await.expect("pass");
        assert_eq!(summary.charged, 1, "period {period}");
        let now = subscription(&app, id).await;
        assert_eq!(now.periods_paid, period);
        assert!(now.next_charge_at > due, "the next charge moves on");
    }

    assert_eq!(recurring_payments(&app), 3);
    let all = attempts(&app, id).await;
    assert_eq!(
        all.iter()
            .map(|a| (a.period, a.status.code()))
            .collect::<Vec<_>>(),
        [(2, "succeeded"), (3, "succeeded"), (4, "succeeded")]
    );
    let account = shopper.get("/account").await;
    assert!(
        account.html.contains("Kahve kulübü")
            && account.html.contains("•••• 4358")
            && account.html.contains("class=\"next-charge\"")
    );
    // Every period with its date, amount and outcome in the page's words: the first payment too.
    let rows: Vec<&str> = account.html.split("<tr class=\"charge\"").skip(1).collect();
    assert_eq!(rows.len(), 4, "{}", account.html);
    assert!(
        rows[3].contains("ilk ödeme"),
        "newest first, the first payment last: {}",
        rows[3]
    );
    let months = [
        "Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos",
    ];
    let months = [months.as_slice(), &["Eylül", "Ekim", "Kasım", "Aralık"]].concat();
    for row in &rows {
        let shown = row.split_once('>').map_or("", |(_, text)| text);
        let shown = shown.split("</tr>").next().unwrap_or_default();
        assert!(
            shown.contains(" TL</td>") && shown.contains("Ödendi") && !shown.contains("succeeded"),
            "{row}"
        );
        assert!(
            months.iter().any(|m| row.contains(m)),
            "a Turkish date: {row}"
        );
    }
}

#[tokio::test]
async fn a_card_closed_by_the_bank_makes_the_subscription_past_due_with_a_way_to_fix_it() {
    let app = spawn_app().await;
    let (mut shopper, id) = subscriber(&app, "closed@example.com", CLOSED).await;
    let billing = engine(&app).await;
    let due = subscription(&app, id).await.next_charge_at;

    let summary = billing.run_due(due + 60).await.expect("pass");
    let again = billing.run_due(due + 3 * 86_400).await.expect("pass");

    assert_eq!(summary.hard_failed, 1);
    assert_eq!(again, Summary::default(), "never retried on the same card");
    let sub = subscription(&app, id).await;
    assert_eq!(
        (sub.status.code(), sub.status_reason.map(|r| r.code())),
        ("past_due", Some("card_declined"))
    );
    assert_eq!(attempts(&app, id).await[0].status.code(), "failed_hard");
    let account = shopper.get("/account").await;
    assert!(
        account.html.contains("Ödeme gecikti")
            && account.html.contains(&format!("id=\"pay-now-{id}\""))
            && account
                .html
                .contains("Bankanız bu kartı ödemelere kapatmış")
            && !account.html.contains("Kart banka tarafından kapatılmış"),
        "{}",
        account.html
    );

    // The shopper is told by e-mail, with a link that leads to the fix.
    let mailbox = shopper.get("/sandbox/mail").await.html;
    let link = format!("{}/account#subscription-{id}", app.address);
    assert!(
        mailbox.contains("data-subject=\"Kahve kulübü · ödeme alınamadı\"")
            && mailbox.contains(&format!("href=\"{link}\"")),
        "{mailbox}"
    );
    let fix = shopper.get(&link).await;
    assert!(fix.html.contains(&format!("id=\"pay-now-{id}\"")));

    // Paying on-session with a new card puts it back on track.
    let pay = shopper
        .post(&format!("/account/subscriptions/{id}/pay"), &[])
        .await;
    let three_d = shopper.pay(&pay.html, "5406675406675403", false).await;
    shopper.answer_3d(&three_d, true).await;
    eventually_async("the subscription to be active again", || async {
        let s = subscription(&app, id).await;
        (s.status.code() == "active" && s.card_last4.as_deref() == Some("5403")).then_some(())
    })
    .await;
    assert_eq!(subscription(&app, id).await.periods_paid, 2);
}

#[tokio::test]
async fn wait_callback_is_settled_by_the_notification_and_never_sent_twice() {
    let app = spawn_app().await;
    let sandbox = app.sandbox.clone().expect("sandbox");
    sandbox.set_knobs(Knobs {
        wait_callback: Duration::from_millis(500),
        ..sandbox.knobs()
    });
    let (_, id) = subscriber(&app, "slow@example.com", SLOW).await;
    let billing = engine(&app).await;
    let due = subscription(&app, id).await.next_charge_at;

    let first = billing.run_due(due + 60).await.expect("pass");
    let second = billing.run_due(due + 120).await.expect("pass");

    assert_eq!(first.pending, 1);
    assert_eq!(second.unknown, 1, "pending: not sent again");
    assert_eq!(recurring_payments(&app), 1);
    eventually_async("the notification to settle the renewal", || async {
        (subscription(&app, id).await.periods_paid == 2).then_some(())
    })
    .await;
    assert_eq!(attempts(&app, id).await[0].status.code(), "succeeded");
    assert_eq!(
        billing.run_due(due + 180).await.expect("pass"),
        Summary::default()
    );
}

#[tokio::test]
async fn another_charge_in_flight_on_the_card_is_a_soft_failure_retried_a_day_later() {
    let app = spawn_app().await;
    let sandbox = app.sandbox.clone().expect("sandbox");
    sandbox.set_knobs(Knobs {
        wait_callback: Duration::from_millis(800),
        ..sandbox.knobs()
    });
    let (mut shopper, first) = subscriber(&app, "twice@example.com", SLOW).await;
    shopper.get("/subscribe/kahve-kulubu").await;
    let pay = shopper
        .post(
            "/subscribe/kahve-kulubu",
            &[
                ("full_name", "Ayşe Yılmaz"),
                ("email", "twice@example.com"),
                ("phone", "0555 111 22 33"),
                ("address", "Kadıköy"),
                ("accept_terms", "1"),
                ("consent", "1"),
            ],
        )
        .await;
    let three_d = shopper.pay(&pay.html, VISA, false).await;
    shopper.answer_3d(&three_d, true).await;
    let second = first + 1;
    eventually_async("the second subscription", || async {
        (subscription(&app, second).await.status.code() == "active").then_some(())
    })
    .await;
    // Both renew on the slow card.
    let account = shopper.get("/account").await;
    let slow_ref = account
        .html
        .split("<option value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("card choice")
        .to_owned();
    let slow_ref = if account
        .html
        .contains(&format!("{slow_ref}\">VISA •••• 0062"))
        || account
            .html
            .contains(&format!("{slow_ref}\" selected>VISA •••• 0062"))
    {
        slow_ref
    } else {
        account
            .html
            .split("<option value=\"")
            .nth(2)
            .and_then(|s| s.split('"').next())
            .expect("card choice")
            .to_owned()
    };
    shopper
        .post(
            &format!("/account/subscriptions/{second}/card"),
            &[("card", slow_ref.as_str())],
        )
        .await;
    assert_eq!(
        subscription(&app, second).await.card_last4.as_deref(),
        Some("0062")
    );
    let billing = engine(&app).await;
    let due = subscription(&app, first)
        .await
        .next_charge_at
        .max(subscription(&app, second).await.next_charge_at);

    let summary = billing.run_due(due + 60).await.expect("pass");

    assert_eq!(
        (summary.pending, summary.soft_failed),
        (1, 1),
        "{summary:?}"
    );
    let soft = if attempts(&app, first).await[0].status.code() == "failed_soft" {
        first
    } else {
        second
    };
    let failed = attempts(&app, soft).await.remove(0);
    assert_eq!(
        failed.next_retry_at,
        Some(due + 60 + 86_400),
        "retried a day later"
    );
    assert_eq!(
        billing.run_due(due + 120).await.expect("pass").soft_failed,
        0,
        "not before the retry time"
    );
    eventually_async("the slow charge to settle", || async {
        (subscription(&app, soft ^ first ^ second).await.periods_paid == 2).then_some(())
    })
    .await;
    let retry = billing.run_due(due + 60 + 86_400 + 1).await.expect("pass");
    assert_eq!(retry.pending, 1, "the retry goes out: {retry:?}");
    assert_eq!(
        attempts(&app, soft)
            .await
            .iter()
            .map(|a| a.attempt_no)
            .collect::<Vec<_>>(),
        [1, 2]
    );
}

#[tokio::test]
async fn a_lost_answer_leaves_the_charge_unknown_until_the_notification_and_it_is_charged_once() {
    let app = spawn_app_with(&[("PAYTR_TIMEOUT_MS", "400")]).await;
    let (_, id) = subscriber(&app, "lost@example.com", VISA).await;
    let sandbox = app.sandbox.clone().expect("sandbox");
    sandbox.set_knobs(Knobs {
        recurring_fault: Fault::Timeout,
        ..sandbox.knobs()
    });
    let billing = engine(&app).await;
    let due = subscription(&app, id).await.next_charge_at;

    let first = billing.run_due(due + 60).await.expect("pass");

    assert_eq!(first.unknown, 1, "{first:?}");
    eventually_async("the notification", || async {
        (subscription(&app, id).await.periods_paid == 2).then_some(())
    })
    .await;
    sandbox.set_knobs(Knobs {
        recurring_fault: Fault::None,
        ..sandbox.knobs()
    });
    let rerun = billing.run_due(due + 120).await.expect("pass");
    assert_eq!(
        rerun,
        Summary::default(),
        "nothing is sent again for that period"
    );
    assert_eq!(recurring_payments(&app), 1);
    assert_eq!(
        attempts(&app, id)
            .await
            .iter()
            .map(|a| a.status.code())
            .collect::<Vec<_>>(),
        ["succeeded"]
    );
}

/// As a process killed right after committing `submitted` would leave an attempt.
async fn crashed_attempt(app: &TestApp, id: i64, due: i64) {
    let sub = subscription(app, id).await;
    db(app, move |conn| {
        NewChargeAttempt {
            subscription_id: id,
            period: 2,
            attempt_no: 1,
            merchant_oid: &paytr_checkout::billing::attempt_oid(id, 2, 1),
            amount_kurus: sub.amount.kurus(),
            card_ref: "x",
            status: paytr_checkout::db::states::ChargeStatus::Submitted,
            created_at: due,
            updated_at: due,
        }
        .insert(conn)
    })
    .await;
}

#[tokio::test]
async fn a_crash_after_submitted_is_never_resent_blindly() {
    let app = spawn_app().await;
    let (_, id) = subscriber(&app, "crash@example.com", VISA).await;
    let billing = engine(&app).await;
    let due = subscription(&app, id).await.next_charge_at;
    crashed_attempt(&app, id, due).await;

    let after_restart = billing.run_due(due + 60).await.expect("pass");
    let later = billing.run_due(due + 7200).await.expect("pass");

    assert_eq!(after_restart.unknown, 1, "not sent again on restart");
    // Past the reconcile window PayTR's status inquiry is asked: it has no such payment, so the
    // attempt is failed (soft) and retried on the schedule, under a new merchant_oid.
    assert_eq!(later.reconciled, 1, "{later:?}");
    assert_eq!(later.unknown_overdue, 0);
    assert_eq!(recurring_payments(&app), 0, "nothing was sent");
    let statuses: Vec<_> = attempts(&app, id)
        .await
        .iter()
        .map(|a| a.status.code())
        .collect();
    assert_eq!(statuses, ["failed_soft"]);
    assert_eq!(subscription(&app, id).await.periods_paid, 1);
}

#[tokio::test]
async fn an_attempt_paytr_cannot_be_asked_about_stays_unknown_and_is_reported() {
    let app = spawn_app().await;
    let (_, id) = subscriber(&app, "crash2@example.com", VISA).await;
    let sandbox = app.sandbox.clone().expect("sandbox");
    sandbox.set_knobs(Knobs {
        status_fault: Fault::Http500,
        ..sandbox.knobs()
    });
    let billing = engine(&app).await;
    let due = subscription(&app, id).await.next_charge_at;
    crashed_attempt(&app, id, due).await;

    let later = billing.run_due(due + 7200).await.expect("pass");

    assert_eq!(
        (later.reconciled, later.unknown_overdue),
        (0, 1),
        "{later:?}"
    );
    assert_eq!(recurring_payments(&app), 0, "nothing was sent");
}

#[tokio::test]
async fn two_engines_racing_charge_each_due_subscription_once() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            subscriber(&app, &format!("race{i}@example.com"), VISA)
                .await
                .1,
        );
    }
    let (a, b) = (engine(&app).await, engine(&app).await);
    let mut due = 0;
    for id in &ids {
        due = due.max(subscription(&app, *id).await.next_charge_at);
    }

    let (one, two) = tokio::join!(a.run_due(due + 60), b.run_due(due + 60));

    let (one, two) = (one.expect("engine a"), two.expect("engine b"));
    assert_eq!(one.charged + two.charged, 3, "{one:?} {two:?}");
    assert_eq!(recurring_payments(&app), 3);
    for id in ids {
        assert_eq!(attempts(&app, id).await.len(), 1);
        assert_eq!(subscription(&app, id).await.periods_paid, 2);
    }
}

#[tokio::test]
async fn a_cancelled_subscription_ends_at_the_period_end_and_is_not_charged() {
    let app = spawn_app().await;
    let (mut shopper, id) = subscriber(&app, "cancel@example.com", VISA).await;
    let account = shopper.get("/account").await;
    // Cancelling is a link to a page that says what it means, then a confirmation.
    assert!(account.html.contains(&format!(
        "href=\"/account/subscriptions/{id}/cancel\" class=\"button\" id=\"cancel-{id}\""
    )));
    let confirm = shopper
        .get(&format!("/account/subscriptions/{id}/cancel"))
        .await;
    let end = paytr_checkout::routes::filters::format_day(
        subscription(&app, id).await.next_charge_at,
        paytr_checkout::domain::Lang::Tr,
    );
    assert!(
        confirm.html.contains(&format!("id=\"cancel-end\">{end}<"))
            && confirm.html.contains("id=\"confirm-cancel\""),
        "{}",
        confirm.html
    );
    let (mut other, _) = subscriber(&app, "other@example.com", VISA).await;
    let page = other
        .get(&format!("/account/subscriptions/{id}/cancel"))
        .await;
    assert_eq!(page.status, 404, "not another shopper's");
    other.get("/account").await;
    other
        .post(&format!("/account/subscriptions/{id}/cancel"), &[])
        .await;
    assert!(
        !subscription(&app, id).await.cancel_at_period_end,
        "another shopper can't cancel it"
    );

    // Cancelled, then undone, then cancelled for good.
    let done = shopper
        .post(&format!("/account/subscriptions/{id}/cancel"), &[])
        .await;
    assert!(
        done.html.contains("id=\"cancelled-notice\"")
            && done.html.contains(&format!("id=\"ends-{id}\""))
            && done.html.contains(&format!("id=\"resume-{id}\"")),
        "{}",
        done.html
    );
    other.get("/account").await;
    other
        .post(&format!("/account/subscriptions/{id}/resume"), &[])
        .await;
    assert!(
        subscription(&app, id).await.cancel_at_period_end,
        "another shopper can't undo it"
    );
    shopper
        .post(&format!("/account/subscriptions/{id}/resume"), &[])
        .await;
    assert!(!subscription(&app, id).await.cancel_at_period_end, "undone");
    shopper.get("/account").await;
    shopper
        .post(&format!("/account/subscriptions/{id}/cancel"), &[])
        .await;
    assert!(subscription(&app, id).await.cancel_at_period_end);
    let billing = engine(&app).await;
    let due = subscription(&app, id).await.next_charge_at;

    let summary = billing.run_due(due + 60).await.expect("pass");

    assert_eq!(summary.cancelled, 1);
    assert_eq!(subscription(&app, id).await.status.code(), "cancelled");
    assert_eq!(
        recurring_payments(&app),
        1,
        "only the other shopper's subscription renewed"
    );
    assert!(
        attempts(&app, id).await.iter().all(|a| a.attempt_no == 0),
        "no renewal charge for the cancelled one"
    );
}

#[tokio::test]
async fn the_card_behind_a_subscription_cannot_be_deleted_and_a_cvv_card_cannot_back_one() {
    let app = spawn_app().await;
    let (mut shopper, _) = subscriber(&app, "keep@example.com", VISA).await;
    let cards = shopper.get("/account/cards").await;
    let reference = crate::shopper::first_card_reference(&cards.html);

    let page = shopper
        .get(&format!("/account/cards/{reference}/delete"))
        .await;

    assert_eq!(page.status, 409);
    assert!(page.html.contains("aboneliğinizin"));

    let (_, cvv_sub) = subscriber(&app, "cvvsub@example.com", "5406670000000074").await;
    let sub = subscription(&app, cvv_sub).await;
    assert_eq!(
        (sub.status.code(), sub.status_reason.map(|r| r.code())),
        ("needs_card", Some("card_needs_cvv"))
    );
}

#[tokio::test]
async fn billing_run_due_with_now_renews_in_sandbox_mode() {
    let app = spawn_app().await;
    let (_, id) = subscriber(&app, "cli@example.com", VISA).await;
    let due = subscription(&app, id).await.next_charge_at;

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_paytr-checkout"))
        .args(["billing", "run-due", "--now", &(due + 60).to_string()])
        .env_clear()
        .envs(app.env.iter().filter(|(k, _)| k.as_str() != "BIND"))
        .env("LOG", "warn")
        .output()
        .expect("binary runs");

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("charged 1, pending 0"), "{stdout}");
    assert_eq!(subscription(&app, id).await.periods_paid, 2);
}

#[tokio::test]
async fn an_expired_card_is_not_charged_and_the_shopper_is_asked_to_update_it() {
    let app = spawn_app().await;
    let (mut shopper, id) = subscriber(&app, "expired@example.com", VISA).await;
    db(&app, move |conn| {
        use diesel::prelude::*;
        use paytr_checkout::db::schema::subscriptions::dsl as s;
        diesel::update(s::subscriptions.find(id))
            .set(s::card_expiry.eq("12/30"))
            .execute(conn)?;
        Ok(())
    })
    .await;
    let billing = engine(&app).await;
    let after_expiry = paytr_checkout::cli::parse_time("2031-01-15").expect("date");

    let summary = billing.run_due(after_expiry).await.expect("pass");

    assert_eq!(summary.hard_failed, 1);
    assert_eq!(recurring_payments(&app), 0, "nothing was sent");
    let sub = subscription(&app, id).await;
    assert_eq!(
        (sub.status.code(), sub.status_reason.map(|r| r.code())),
        ("past_due", Some("card_expired"))
    );
    assert!(
        shopper
            .get("/account")
            .await
            .html
            .contains("Kartınızın süresi dolmuş")
    );
}

#[tokio::test]
async fn renewals_honour_paytr_debug_on() {
    let app = spawn_app_with(&[("PAYTR_DEBUG_ON", "1")]).await;
    let sandbox = app.sandbox.clone().expect("sandbox");
    let (_, id) = subscriber(&app, "debug@example.com", VISA).await;
    let mut knobs = sandbox.knobs();
    knobs.permissions.recurring = false;
    sandbox.set_knobs(knobs);
    let due = subscription(&app, id).await.next_charge_at;

    engine(&app).await.run_due(due + 60).await.expect("pass");

    let message = attempts(&app, id).await[0]
        .message
        .clone()
        .unwrap_or_default();
    assert!(
        message.contains("yetkisi yok"),
        "PayTR's reason, asked for with debug_on=1: {message:?}"
    );
}

#[tokio::test]
async fn a_failure_without_try_again_is_retried_unless_the_bank_closed_the_card() {
    let app = spawn_app().await;
    let sandbox = app.sandbox.clone().expect("sandbox");
    let (_, open) = subscriber(&app, "notry@example.com", VISA).await;
    let (_, closed) = subscriber(&app, "closed-notry@example.com", CLOSED).await;
    let mut knobs = sandbox.knobs();
    knobs.omit_try_again = true;
    knobs.permissions.recurring = false;
    sandbox.set_knobs(knobs.clone());
    let due = subscription(&app, open).await.next_charge_at;

    engine(&app).await.run_due(due + 60).await.expect("pass");
    knobs.permissions.recurring = true;
    sandbox.set_knobs(knobs);
    // The next pass (after the soft retry date) reaches the closed card with recurring allowed.
    engine(&app)
        .await
        .run_due(due + 3 * 86_400)
        .await
        .expect("pass");

    let refused = attempts(&app, open).await;
    assert_eq!(
        refused[0].status.code(),
        "failed_soft",
        "{:?}",
        refused[0].message
    );
    assert!(
        refused[0].next_retry_at.is_some(),
        "retried on the soft schedule"
    );
    assert_eq!(subscription(&app, open).await.status.code(), "active");
    let on_closed = attempts(&app, closed).await;
    assert_eq!(
        on_closed.last().map(|a| a.status.code()),
        Some("failed_hard"),
        "{on_closed:?}"
    );
    assert_eq!(subscription(&app, closed).await.status.code(), "past_due");
}

#[tokio::test]
async fn paytr_card_list_down_never_blocks_subscribing_and_the_shopper_then_picks_the_card() {
    let app = spawn_app().await;
    let sandbox = app.sandbox.clone().expect("sandbox");
    let mut shopper = Shopper::new(&app.address);
    shopper.register("listdown@example.com").await;
    shopper.buy_and_save("lokum", VISA).await;
    let mut knobs = sandbox.knobs();
    knobs.capi_fault = Fault::Http500;
    sandbox.set_knobs(knobs.clone());

    shopper.get("/subscribe/kahve-kulubu").await;
    let pay = shopper
        .post(
            "/subscribe/kahve-kulubu",
            &[
                ("full_name", "Ayşe Yılmaz"),
                ("email", "listdown@example.com"),
                ("phone", "0555 111 22 33"),
                ("address", "Kadıköy, İstanbul"),
                ("accept_terms", "1"),
                ("consent", "1"),
            ],
        )
        .await;
    assert_eq!(pay.status, 200, "{}", pay.html);
    let three_d = shopper.pay(&pay.html, "5406675406675403", false).await;
    shopper.answer_3d(&three_d, true).await;
    shopper
        .wait_for_order_status(&format!("/orders/{}", order_id(&pay.url)), "status_paid")
        .await;
    knobs.capi_fault = Fault::None;
    sandbox.set_knobs(knobs);
    engine(&app)
        .await
        .run_due(paytr_checkout::db::unix_now())
        .await
        .expect("pass");

    let id = db(&app, |conn| {
        let user = paytr_checkout::db::models::User::find_by_email(conn, "listdown@example.com")?
            .expect("user");
        Ok(Subscription::list_for_user(conn, user.id)?[0].id)
    })
    .await;
    let sub = subscription(&app, id).await;
    assert_eq!(
        (
            sub.status.code(),
            sub.status_reason.map(|r| r.code()),
            sub.periods_paid
        ),
        ("needs_card", Some("choose_card"), 1),
        "the period counts; no card is guessed"
    );
    assert!(
        shopper
            .get("/account")
            .await
            .html
            .contains(&format!("id=\"card-for-{id}\""))
    );
}

#[tokio::test]
async fn subscribing_needs_the_shopper_s_consent_and_states_the_terms() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.register("consent@example.com").await;
    shopper.get("/subscribe/kahve-kulubu").await;
    let fields = [
        ("full_name", "Ayşe Yılmaz"),
        ("email", "consent@example.com"),
        ("phone", "0555 111 22 33"),
        ("address", "Kadıköy, İstanbul"),
        ("accept_terms", "1"),
    ];

    let refused = shopper.post("/subscribe/kahve-kulubu", &fields).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.html.contains("id=\"consent-error\""),
        "{}",
        refused.html
    );
    assert!(
        refused.html.contains("Kadıköy, İstanbul</textarea>"),
        "what was typed is kept"
    );
    let none: usize = db(&app, |conn| {
        use diesel::prelude::*;
        use paytr_checkout::db::schema::subscriptions;
        Ok(subscriptions::table.count().get_result::<i64>(conn)? as usize)
    })
    .await;
    assert_eq!(none, 0, "nothing started without consent");

    let mut with_consent = fields.to_vec();
    with_consent.push(("consent", "1"));
    let pay = shopper.post("/subscribe/kahve-kulubu", &with_consent).await;
    assert!(pay.html.contains("id=\"recurring-terms\""), "{}", pay.html);
    assert!(
        pay.html.contains("/ ay") && pay.html.contains("iptal edene kadar"),
        "{}",
        pay.html
    );
}

#[tokio::test]
async fn a_card_expiring_before_the_next_renewal_is_told_once_and_renewals_are_receipted() {
    let app = spawn_app().await;
    let (mut shopper, id) = subscriber(&app, "expiring@example.com", VISA).await;
    let billing = engine(&app).await;
    let due = subscription(&app, id).await.next_charge_at;
    // The card ends the month before the renewal after next.
    let (y, m) = paytr::types::year_month(due);
    let expiry = format!("{m:02}/{:02}", y % 100);
    db(&app, move |conn| {
        use diesel::prelude::*;
        use paytr_checkout::db::schema::subscriptions::dsl as s;
        diesel::update(s::subscriptions.find(id))
            .set(s::card_expiry.eq(expiry))
            .execute(conn)?;
        Ok(())
    })
    .await;

    // Well before: nothing. The renewal this month is charged and receipted.
    billing.run_due(due + 60).await.expect("pass");
    let next = subscription(&app, id).await.next_charge_at;
    billing.run_due(next - 20 * 86_400).await.expect("pass");
    billing.run_due(next - 10 * 86_400).await.expect("pass");

    let mailbox = shopper.get("/sandbox/mail").await.html;
    let count = |subject: &str| {
        mailbox
            .matches(&format!("data-subject=\"{subject}\""))
            .count()
    };
    assert_eq!(count("Kahve kulübü · ödeme alındı"), 1, "{mailbox}");
    assert_eq!(
        count("Kartınızın süresi bir sonraki ödemeden önce doluyor"),
        1,
        "told once, however many passes: {mailbox}"
    );
    assert!(mailbox.contains(&format!("{}/account#subscription-{id}", app.address)));
}
