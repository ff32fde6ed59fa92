//! `POST /odeme`: new-card, saved-card, sync-mode and recurring payments, checked as PayTR
//! checks them, and the simulated bank 3-D page.

use super::cards::Behaviour;
use super::checks::{Refusal, channel_of};
use super::knobs::Fault;
use super::state::{CardRecord, Channel, PaymentRecord, Pending3d, random_token};
use super::{Sandbox, lock, pages};
use crate::unix_now;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

/// The generic text shown when `debug_on=0` hides an integration error.
pub const INTEGRATION_ERROR: &str = "İşlem başarısız: Teknik entegrasyon hatası.";
const IN_FLIGHT: &str =
    "Henüz devam eden bir işleminiz bulunmaktadır, sonuçlandıktan sonra tekrar deneyebilirsiniz.";
const CVV_MISSING: &str = "Bu kart ile ödeme için CVV (güvenlik kodu) gereklidir.";
const CARD_CLOSED: &str = "Kart banka tarafından kapatılmış. Bu kart ile tekrar işlem göndermeyin.";

/// Posted fields; like PHP's `$_POST`, a repeated name keeps its last value.
pub type Form = HashMap<String, String>;

pub fn parse_form(body: &[u8]) -> Form {
    url::form_urlencoded::parse(body).into_owned().collect()
}

pub(super) fn field<'a>(form: &'a Form, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or_default()
}

pub(super) fn flag(form: &Form, name: &str) -> bool {
    field(form, name) == "1"
}

/// Which card pays for a charge that passed every check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ChargeCard {
    /// A typed card; `card` has everything CAPI LIST would show (no number, no CVV).
    New {
        card: CardRecord,
        store: bool,
        utoken: Option<String>,
    },
    /// `cvv_missing`: the card needs its CVV (require_cvv=1) and none was sent; the bank
    /// declines it, so the shopper is told why.
    Saved { card: CardRecord, cvv_missing: bool },
}

impl ChargeCard {
    pub fn record(&self) -> &CardRecord {
        match self {
            Self::New { card, .. } | Self::Saved { card, .. } => card,
        }
    }
}

/// A payment that passed every check and now only needs the bank's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Charge {
    pub merchant_oid: String,
    pub amount_kurus: i64,
    pub currency: String,
    pub installment_count: u8,
    /// The installment family posted (`card_type`; needed with installments, not signed).
    pub card_type: String,
    pub payment_type: String,
    pub test_mode: bool,
    pub non_3d: bool,
    pub channel: Channel,
    pub ok_url: String,
    pub fail_url: String,
    /// `non3d_test_failed=1` with `test_mode=1` and `non_3d=1`.
    pub simulate_failure: bool,
    pub card: ChargeCard,
}

impl Sandbox {
    /// Records an accepted charge as pending, so its merchant_oid can't be used again.
    fn open_payment(&self, charge: &Charge) {
        let record = PaymentRecord {
            merchant_oid: charge.merchant_oid.clone(),
            amount_kurus: charge.amount_kurus,
            currency: charge.currency.clone(),
            installment_count: charge.installment_count,
            test_mode: charge.test_mode,
            channel: charge.channel,
            non_3d: charge.non_3d,
            status: "pending".into(),
            failed_reason_code: None,
            failed_reason_msg: None,
            last_4: charge.card.record().last_4.clone(),
            card_schema: charge.card.record().schema.clone(),
            card_type: charge.card_type.clone(),
            stored_card: false,
            created_at: unix_now(),
            refunds: Vec::new(),
        };
        self.write(|s| s.payments.push(record));
    }

    /// The bank's answer. `three_d`: `Some(approved)` after the 3-D page, `None` without it.
    fn bank_answer(charge: &Charge, three_d: Option<bool>) -> Result<(), (&'static str, String)> {
        let card = charge.card.record();
        let saved = matches!(charge.card, ChargeCard::Saved { .. });
        if matches!(
            charge.card,
            ChargeCard::Saved {
                cvv_missing: true,
                ..
            }
        ) {
            return Err(("0", CVV_MISSING.into()));
        }
        if three_d == Some(false) {
            return Err((
                "2",
                "Kimlik Doğrulama başarısız. Lütfen tekrar deneyin.".into(),
            ));
        }
        if charge.simulate_failure {
            return Err((
                "0",
                "Test işlemi: başarısız ödeme simülasyonu (non3d_test_failed).".into(),
            ));
        }
        match card.behaviour {
            Behaviour::InsufficientFunds => Err(("0", "Kart limiti yetersiz.".into())),
            Behaviour::ThreeDFails if three_d.is_some() => Err((
                "2",
                "Kimlik Doğrulama başarısız. Lütfen tekrar deneyin.".into(),
            )),
            Behaviour::Requires3d if charge.non_3d => {
                Err(("10", "Bu işlemde 3D Secure kullanılmalıdır.".into()))
            }
            Behaviour::NoInstallments if charge.installment_count > 0 => {
                Err(("8", "Bu karta taksit yapılamamaktadır.".into()))
            }
            // Installments only on a domestic, non-business credit card of the family posted
            // (a debit card is paid in one go: Turkish banks give no taksit on debit cards).
            _ if charge.installment_count > 0
                && (card.business
                    || card.card_type == "debit"
                    || card.brand.is_empty()
                    || card.brand != charge.card_type
                    || charge.installment_count > super::installments::MAX_INST_NON_BUS) =>
            {
                Err(("8", "Bu karta taksit yapılamamaktadır.".into()))
            }
            Behaviour::ClosedByBank if saved => Err(("0", CARD_CLOSED.into())),
            _ => Ok(()),
        }
    }

    /// Settles a charge: records the outcome, stores the card, queues the notification.
    /// Returns the outcome and, when a card was stored, its (utoken, ctoken).
    fn settle(&self, charge: &Charge, three_d: Option<bool>) -> Settled {
        let answer = Self::bank_answer(charge, three_d);
        let (job, stored) = self.write(|s| {
            let stored = match (&answer, &charge.card) {
                (
                    Ok(()),
                    ChargeCard::New {
                        card,
                        store: true,
                        utoken,
                    },
                ) => {
                    let mut card = card.clone();
                    card.utoken = utoken.clone().unwrap_or_else(random_token);
                    card.ctoken = random_token();
                    let tokens = (card.utoken.clone(), card.ctoken.clone());
                    s.cards.push(card);
                    Some(tokens)
                }
                _ => None,
            };
            if let Some(p) = s.payment_mut(&charge.merchant_oid) {
                p.status = if answer.is_ok() { "success" } else { "failed" }.into();
                p.stored_card = stored.is_some();
                if let Err((code, msg)) = &answer {
                    p.failed_reason_code = Some((*code).to_owned());
                    p.failed_reason_msg = Some(msg.clone());
                }
            }
            let fields = notification_fields(
                self,
                charge,
                &answer,
                stored.as_ref().map(|(u, _)| u.as_str()),
            );
            (
                s.queue_notification(&charge.merchant_oid, fields, None),
                stored,
            )
        });
        let lost =
            charge.channel == Channel::Recurring && self.knobs().recurring_fault == Fault::Lost;
        if lost {
            // The "lost" knob: no notification either (the panel can still re-send it).
            self.write(|s| s.give_up(job));
        } else {
            self.spawn_delivery(job);
        }
        Settled { answer, stored }
    }

    /// Refuses a request: PayTR's words with debug_on=1, a generic failure (and a failed
    /// notification with code 99 once the token checked out) with debug_on=0.
    fn refuse(&self, r: Refusal) -> HttpResponse {
        tracing::info!(reason = %r.reason, "sandbox refused a payment request");
        if let Some(oid) = &r.notify_oid {
            let record = PaymentRecord {
                merchant_oid: oid.clone(),
                amount_kurus: 0,
                currency: String::new(),
                installment_count: 0,
                test_mode: false,
                channel: r.channel,
                non_3d: false,
                status: "failed".into(),
                failed_reason_code: Some("99".into()),
                failed_reason_msg: Some(r.reason.clone()),
                last_4: String::new(),
                card_schema: String::new(),
                card_type: String::new(),
                stored_card: false,
                created_at: unix_now(),
                refunds: Vec::new(),
            };
            let msg = if r.debug_on {
                r.reason.clone()
            } else {
                INTEGRATION_ERROR.to_owned()
            };
            let job = self.write(|s| {
                s.payments.push(record);
                let fields = failed_fields(self, oid, "99", &msg);
                s.queue_notification(oid, fields, None)
            });
            self.spawn_delivery(job);
        }
        let reason = if r.debug_on {
            r.reason
        } else {
            INTEGRATION_ERROR.to_owned()
        };
        match (r.channel, r.debug_on, r.fail_url) {
            (Channel::Browser, false, Some(fail_url)) => {
                pages::send_browser(self, &fail_url, Some(&reason))
            }
            (Channel::Browser, false, None) => pages::failure_page(self, &reason),
            (Channel::Recurring, _, _) => {
                json_answer(self.knobs().recurring_failure(&reason, false))
            }
            _ => json_answer(json!({"status": "failed", "reason": reason})),
        }
    }
}

/// The outcome of a settled charge.
pub struct Settled {
    pub answer: Result<(), (&'static str, String)>,
    pub stored: Option<(String, String)>,
}

pub(super) fn valid_cvv(cvv: &str) -> bool {
    (3..=4).contains(&cvv.len()) && cvv.bytes().all(|b| b.is_ascii_digit())
}

fn json_answer(value: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(value.to_string())
}

/// The notification for a charge, signed as PayTR signs it (built with the `paytr` crate's
/// notification type: the wire format is PayTR's, shared by both sides).
fn notification_fields(
    sandbox: &Sandbox,
    charge: &Charge,
    answer: &Result<(), (&'static str, String)>,
    utoken: Option<&str>,
) -> Vec<(String, String)> {
    let mut n = match answer {
        Ok(()) => notification(
            &charge.merchant_oid,
            "success",
            &charge.amount_kurus.to_string(),
        ),
        Err((code, msg)) => failed(&charge.merchant_oid, code, msg),
    };
    n.test_mode = Some(if charge.test_mode { "1" } else { "0" }.to_owned());
    n.payment_type = Some(charge.payment_type.clone());
    n.currency = Some(charge.currency.clone());
    n.payment_amount = Some(charge.amount_kurus.to_string());
    n.installment_count = Some(charge.installment_count.to_string());
    n.utoken = utoken.map(paytr::Token::new);
    signed(sandbox, n)
}

fn notification(oid: &str, status: &str, total: &str) -> paytr::Notification {
    paytr::Notification {
        merchant_oid: oid.to_owned(),
        status: status.to_owned(),
        total_amount: total.to_owned(),
        ..Default::default()
    }
}

fn failed(oid: &str, code: &str, msg: &str) -> paytr::Notification {
    paytr::Notification {
        failed_reason_code: Some(code.to_owned()),
        failed_reason_msg: Some(msg.to_owned()),
        ..notification(oid, "failed", "0")
    }
}

fn signed(sandbox: &Sandbox, mut n: paytr::Notification) -> Vec<(String, String)> {
    n.sign(sandbox.credentials());
    n.to_pairs()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

fn failed_fields(sandbox: &Sandbox, oid: &str, code: &str, msg: &str) -> Vec<(String, String)> {
    signed(sandbox, failed(oid, code, msg))
}

/// `POST /odeme`.
pub async fn post_payment(sandbox: web::Data<Sandbox>, body: web::Bytes) -> HttpResponse {
    let form = parse_form(&body);
    let channel = channel_of(&form);
    if channel == Channel::Recurring {
        return recurring(&sandbox, &form).await;
    }
    let charge = match sandbox.check(&form) {
        Ok(charge) => charge,
        Err(refusal) => return sandbox.refuse(refusal),
    };
    sandbox.open_payment(&charge);
    match channel {
        Channel::Browser if !charge.non_3d => {
            let id = random_token();
            let page = match sandbox.knobs().bank_origin {
                // A real bank's ACS is another origin, reached by a redirect of the card post.
                Some(origin) => HttpResponse::Found()
                    .insert_header((
                        "Location",
                        format!("{origin}{}", sandbox.url(&format!("/odeme/3d/{id}"))),
                    ))
                    .finish(),
                None => pages::three_d_page(&sandbox, &id, &charge),
            };
            sandbox.write(|s| {
                s.pending_3d.push(Pending3d {
                    id,
                    charge,
                    created_at: unix_now(),
                })
            });
            page
        }
        Channel::Browser => {
            let settled = sandbox.settle(&charge, None);
            redirect_after(&sandbox, &charge, &settled)
        }
        _ => {
            let settled = sandbox.settle(&charge, None);
            let tokens = settled
                .stored
                .map_or(json!({}), |(u, c)| json!({"utoken": u, "ctoken": c}));
            let mut answer = match settled.answer {
                Ok(()) => json!({"status": "success", "msg": "Ödeme Başarılı."}),
                Err((_, msg)) => json!({"status": "failed", "msg": msg}),
            };
            if let (Some(a), Some(t)) = (answer.as_object_mut(), tokens.as_object()) {
                a.extend(t.clone());
            }
            json_answer(answer)
        }
    }
}

fn redirect_after(sandbox: &Sandbox, charge: &Charge, settled: &Settled) -> HttpResponse {
    match &settled.answer {
        Ok(()) => pages::send_browser(sandbox, &charge.ok_url, None),
        Err((_, msg)) => pages::send_browser(sandbox, &charge.fail_url, Some(msg)),
    }
}

/// `GET /odeme/3d/{id}`: the bank page, when the card post was redirected to the bank's origin.
pub async fn get_three_d(sandbox: web::Data<Sandbox>, id: web::Path<String>) -> HttpResponse {
    let charge = sandbox.read(|s| {
        s.pending_3d
            .iter()
            .find(|p| p.id == *id)
            .map(|p| p.charge.clone())
    });
    match charge {
        Some(charge) => pages::three_d_page(&sandbox, &id, &charge),
        None => pages::failure_page(
            &sandbox,
            "Bu 3-D Secure oturumu bulunamadı veya zaten tamamlandı.",
        ),
    }
}

#[derive(Deserialize)]
pub struct ThreeDDecision {
    decision: String,
}

/// `POST /odeme/3d/{id}`: the shopper approves or rejects on the simulated bank page.
pub async fn post_three_d(
    sandbox: web::Data<Sandbox>,
    id: web::Path<String>,
    form: web::Form<ThreeDDecision>,
) -> HttpResponse {
    let pending = sandbox.write(|s| {
        let at = s.pending_3d.iter().position(|p| p.id == *id)?;
        Some(s.pending_3d.remove(at))
    });
    let Some(pending) = pending else {
        return pages::failure_page(
            &sandbox,
            "Bu 3-D Secure oturumu bulunamadı veya zaten tamamlandı.",
        );
    };
    let settled = sandbox.settle(&pending.charge, Some(form.decision == "approve"));
    redirect_after(&sandbox, &pending.charge, &settled)
}

/// A recurring charge: JSON answer, at most one in flight per card.
async fn recurring(sandbox: &Sandbox, form: &Form) -> HttpResponse {
    let knobs = sandbox.knobs();
    tokio::time::sleep(knobs.latency).await;
    if knobs.recurring_fault == Fault::Http500 {
        return HttpResponse::InternalServerError().body("Internal Server Error");
    }
    let charge = match sandbox.check(form) {
        Ok(charge) => charge,
        Err(refusal) => return sandbox.refuse(refusal),
    };
    let ctoken = charge.card.record().ctoken.clone();
    if !lock(&sandbox.inner.in_flight).insert(ctoken.clone()) {
        sandbox.open_payment(&charge);
        let job = sandbox.write(|s| {
            if let Some(p) = s.payment_mut(&charge.merchant_oid) {
                p.status = "failed".into();
                p.failed_reason_code = Some("0".into());
                p.failed_reason_msg = Some(IN_FLIGHT.into());
            }
            let fields = failed_fields(sandbox, &charge.merchant_oid, "0", IN_FLIGHT);
            s.queue_notification(&charge.merchant_oid, fields, None)
        });
        sandbox.spawn_delivery(job);
        return json_answer(sandbox.knobs().recurring_failure(IN_FLIGHT, true));
    }
    sandbox.open_payment(&charge);
    let answer = if charge.card.record().behaviour == Behaviour::SlowRecurring {
        let (sb, wait) = (sandbox.clone(), knobs.wait_callback);
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            sb.settle(&charge, None);
            lock(&sb.inner.in_flight).remove(&ctoken);
        });
        json!({"status": "wait_callback", "msg": "Ödeme Kontrol Ediliyor, Bildirimi Bekleyin."})
    } else {
        let settled = sandbox.settle(&charge, None);
        lock(&sandbox.inner.in_flight).remove(&ctoken);
        match settled.answer {
            Ok(()) => json!({"status": "success", "msg": "Ödeme Başarılı."}),
            Err((_, msg)) => knobs.recurring_failure(&msg, false),
        }
    };
    match knobs.recurring_fault {
        Fault::Timeout | Fault::Lost => {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            json_answer(answer)
        }
        Fault::Malformed => HttpResponse::Ok()
            .content_type("application/json")
            .body("{\"status\":\"succ"),
        _ => json_answer(answer),
    }
}
