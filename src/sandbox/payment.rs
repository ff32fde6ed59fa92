//! `POST /odeme`: new-card, saved-card, sync-mode and recurring payments, checked as PayTR
//! checks them, and the simulated bank 3-D page.

use super::cards::{self, Behaviour};
use super::knobs::Fault;
use super::state::{CardRecord, Channel, PaymentRecord, Pending3d, random_token, year_month};
use super::{Sandbox, lock, pages};
use crate::db::unix_now;
use crate::domain::{
    AbsoluteUrl, Currency, Email, InstallmentCount, Lang, MerchantOid, Money, PaymentType,
    UserAddress, UserIp, UserName, UserPhone, ValidationError,
};
use crate::paytr::{Basket, verify_token};
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

fn field<'a>(form: &'a Form, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or_default()
}

fn flag(form: &Form, name: &str) -> bool {
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

/// Why a payment request was refused before any charge.
struct Refusal {
    reason: String,
    /// Set once the token checked out: a failed notification (code 99) can then be sent.
    notify_oid: Option<String>,
    fail_url: Option<String>,
    debug_on: bool,
    channel: Channel,
}

fn channel_of(form: &Form) -> Channel {
    if flag(form, "recurring_payment") || flag(form, "recurring") {
        Channel::Recurring
    } else if flag(form, "sync_mode") {
        Channel::Sync
    } else {
        Channel::Browser
    }
}

const SIGNED: [&str; 10] = [
    "merchant_id",
    "user_ip",
    "merchant_oid",
    "email",
    "payment_amount",
    "payment_type",
    "installment_count",
    "currency",
    "test_mode",
    "non_3d",
];
const REQUIRED: [&str; 14] = [
    "merchant_id",
    "user_ip",
    "merchant_oid",
    "email",
    "payment_amount",
    "payment_type",
    "installment_count",
    "non_3d",
    "merchant_ok_url",
    "merchant_fail_url",
    "user_name",
    "user_address",
    "user_phone",
    "user_basket",
];

fn invalid(e: ValidationError) -> String {
    format!("{} gecersiz: {}", e.field, e.message)
}

impl Sandbox {
    /// Every check PayTR makes before it charges anything, in PayTR's order.
    fn check(&self, form: &Form) -> Result<Charge, Refusal> {
        let channel = channel_of(form);
        let debug_on = flag(form, "debug_on");
        let mut refusal = Refusal {
            reason: String::new(),
            notify_oid: None,
            fail_url: AbsoluteUrl::parse("merchant_fail_url", field(form, "merchant_fail_url"))
                .ok()
                .map(|u| u.as_str().to_owned()),
            debug_on,
            channel,
        };
        let refuse = |mut r: Refusal, reason: String| {
            r.reason = reason;
            Err(r)
        };
        let permissions = self.knobs().permissions;
        let creds = self.credentials();
        if field(form, "merchant_id") != creds.merchant_id {
            return refuse(refusal, "merchant_id hatali veya magaza bulunamadi".into());
        }
        if !permissions.direct_api {
            return refuse(
                refusal,
                "Bu islem icin magazanin yetkisi yok (direkt_api)".into(),
            );
        }
        if let Some(missing) = REQUIRED
            .iter()
            .chain(["paytr_token"].iter())
            .find(|f| field(form, f).is_empty())
        {
            return refuse(refusal, format!("Zorunlu alan eksik: {missing}"));
        }
        let message: String = SIGNED.iter().map(|f| field(form, f)).collect();
        if !verify_token(creds, &message, field(form, "paytr_token")) {
            return refuse(
                refusal,
                "paytr_token gecersiz: hash hesaplamasini ve magaza bilgilerini kontrol edin"
                    .into(),
            );
        }
        let oid = match MerchantOid::parse(field(form, "merchant_oid")) {
            Ok(oid) => oid,
            Err(e) => return refuse(refusal, invalid(e)),
        };
        if self.read(|s| s.oid_used(oid.as_str())) {
            return refuse(
                refusal,
                format!("merchant_oid daha once kullanilmis: {oid}"),
            );
        }
        refusal.notify_oid = Some(oid.as_str().to_owned());
        match self.check_fields(form, oid, channel, permissions) {
            Ok(charge) => Ok(charge),
            Err(reason) => refuse(refusal, reason),
        }
    }

    fn check_fields(
        &self,
        form: &Form,
        oid: MerchantOid,
        channel: Channel,
        permissions: super::knobs::Permissions,
    ) -> Result<Charge, String> {
        let f = |name| field(form, name);
        UserIp::parse(f("user_ip")).map_err(invalid)?;
        Email::parse(f("email")).map_err(invalid)?;
        UserName::parse(f("user_name")).map_err(invalid)?;
        UserAddress::parse(f("user_address")).map_err(invalid)?;
        UserPhone::parse(f("user_phone")).map_err(invalid)?;
        Lang::parse(f("client_lang")).map_err(invalid)?;
        let amount = Money::parse_decimal(f("payment_amount")).map_err(invalid)?;
        if amount.kurus() == 0 {
            return Err("payment_amount gecersiz: 0 olamaz".into());
        }
        let currency = Currency::parse(f("currency")).map_err(invalid)?;
        let installments = InstallmentCount::parse(f("installment_count")).map_err(invalid)?;
        let payment_type = PaymentType::parse(f("payment_type")).map_err(invalid)?;
        Basket::parse(f("user_basket")).map_err(invalid)?;
        let ok_url =
            AbsoluteUrl::parse("merchant_ok_url", f("merchant_ok_url")).map_err(invalid)?;
        let fail_url =
            AbsoluteUrl::parse("merchant_fail_url", f("merchant_fail_url")).map_err(invalid)?;
        for (name, value) in [("test_mode", f("test_mode")), ("non_3d", f("non_3d"))] {
            if !matches!(value, "" | "0" | "1") {
                return Err(format!("{name} gecersiz: 0 veya 1 olmali"));
            }
        }
        let test_mode = flag(form, "test_mode");
        let non_3d = flag(form, "non_3d");
        if non_3d && !permissions.non_3d {
            return Err("Bu islem icin magazanin yetkisi yok (non_3d)".into());
        }
        match channel {
            Channel::Recurring if !permissions.recurring => {
                return Err("Bu islem icin magazanin yetkisi yok (recurring_payment)".into());
            }
            Channel::Recurring if !non_3d => {
                return Err("Tekrarlayan odeme icin non_3d=1 gonderilmelidir".into());
            }
            Channel::Sync if !non_3d => {
                return Err("Bu islem icin magazanin yetkisi yok (sync_mode)".into());
            }
            _ => {}
        }
        let card = self.check_card(form, channel, permissions.store_card)?;
        Ok(Charge {
            merchant_oid: oid.as_str().to_owned(),
            amount_kurus: amount.kurus(),
            currency: currency.code().to_owned(),
            installment_count: installments.get(),
            payment_type: payment_type.code().to_owned(),
            test_mode,
            non_3d,
            channel,
            ok_url: ok_url.as_str().to_owned(),
            fail_url: fail_url.as_str().to_owned(),
            simulate_failure: test_mode && non_3d && flag(form, "non3d_test_failed"),
            card,
        })
    }

    fn check_card(
        &self,
        form: &Form,
        channel: Channel,
        may_store: bool,
    ) -> Result<ChargeCard, String> {
        let f = |name| field(form, name);
        let (utoken, ctoken) = (f("utoken"), f("ctoken"));
        if !ctoken.is_empty() || channel == Channel::Recurring {
            if utoken.is_empty() || ctoken.is_empty() {
                return Err("Kayitli kart ile odeme icin utoken ve ctoken gonderilmelidir".into());
            }
            let card = self
                .read(|s| s.card(utoken, ctoken).cloned())
                .ok_or("Kayitli kart bulunamadi (utoken/ctoken)")?;
            let cvv_missing =
                card.require_cvv && channel != Channel::Recurring && !valid_cvv(f("cvv"));
            return Ok(ChargeCard::Saved { card, cvv_missing });
        }
        let number: String = f("card_number")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if f("cc_owner").trim().is_empty() || f("cc_owner").chars().count() > 50 {
            return Err(
                "cc_owner gecersiz: kart sahibinin adi gerekli (en fazla 50 karakter)".into(),
            );
        }
        if !cards::luhn_valid(&number) {
            return Err("card_number gecersiz: kart numarasini kontrol edin".into());
        }
        let (month, year) =
            cards::expiry_valid(f("expiry_month"), f("expiry_year"), year_month(unix_now()))?;
        if !valid_cvv(f("cvv")) {
            return Err("cvv gecersiz: 3 veya 4 haneli olmali".into());
        }
        let store = flag(form, "store_card");
        if store && !may_store {
            return Err("Bu islem icin magazanin yetkisi yok (store_card)".into());
        }
        let stored_utoken = Some(utoken)
            .filter(|u| store && !u.is_empty())
            .map(str::to_owned);
        if let Some(u) = &stored_utoken
            && !self.read(|s| s.has_user(u))
        {
            return Err("utoken gecersiz: kullanici bulunamadi".into());
        }
        let (behaviour, require_cvv) = cards::lookup(&number);
        let (schema, initial) = cards::scheme(&number);
        let bin = cards::bin_info(&number);
        let card = CardRecord {
            utoken: String::new(),
            ctoken: String::new(),
            last_4: number[number.len() - 4..].to_owned(),
            month: format!("{month:02}"),
            year: format!("{year:02}"),
            bank: bin.map(|b| b.bank).unwrap_or_default().to_owned(),
            holder_name: f("cc_owner").trim().to_owned(),
            brand: bin.map(|b| b.brand).unwrap_or_default().to_owned(),
            card_type: bin.map_or("credit", |b| b.card_type).to_owned(),
            business: bin.is_some_and(|b| b.business),
            initial: initial.to_owned(),
            schema: schema.to_owned(),
            require_cvv,
            behaviour,
            created_at: unix_now(),
        };
        Ok(ChargeCard::New {
            card,
            store,
            utoken: stored_utoken,
        })
    }

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
            stored_card: false,
            created_at: unix_now(),
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
        self.spawn_delivery(job);
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
                stored_card: false,
                created_at: unix_now(),
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
            (Channel::Recurring, _, _) => json_answer(
                json!({"status": "failed", "msg": reason, "reason": reason, "try_again": false}),
            ),
            _ => json_answer(json!({"status": "failed", "reason": reason})),
        }
    }
}

/// The outcome of a settled charge.
pub struct Settled {
    pub answer: Result<(), (&'static str, String)>,
    pub stored: Option<(String, String)>,
}

fn valid_cvv(cvv: &str) -> bool {
    (3..=4).contains(&cvv.len()) && cvv.bytes().all(|b| b.is_ascii_digit())
}

fn json_answer(value: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(value.to_string())
}

fn notification_fields(
    sandbox: &Sandbox,
    charge: &Charge,
    answer: &Result<(), (&'static str, String)>,
    utoken: Option<&str>,
) -> Vec<(String, String)> {
    let mut fields = match answer {
        Ok(()) => signed_fields(
            sandbox,
            &charge.merchant_oid,
            "success",
            &charge.amount_kurus.to_string(),
        ),
        Err((code, msg)) => {
            let mut f = signed_fields(sandbox, &charge.merchant_oid, "failed", "0");
            f.push(("failed_reason_code".into(), (*code).to_owned()));
            f.push(("failed_reason_msg".into(), msg.clone()));
            f
        }
    };
    for (name, value) in [
        (
            "test_mode",
            if charge.test_mode { "1" } else { "0" }.to_owned(),
        ),
        ("payment_type", charge.payment_type.clone()),
        ("currency", charge.currency.clone()),
        ("payment_amount", charge.amount_kurus.to_string()),
        ("installment_count", charge.installment_count.to_string()),
    ] {
        fields.push((name.into(), value));
    }
    if let Some(utoken) = utoken {
        fields.push(("utoken".into(), utoken.to_owned()));
    }
    fields
}

fn failed_fields(sandbox: &Sandbox, oid: &str, code: &str, msg: &str) -> Vec<(String, String)> {
    let mut f = signed_fields(sandbox, oid, "failed", "0");
    f.push(("failed_reason_code".into(), code.to_owned()));
    f.push(("failed_reason_msg".into(), msg.to_owned()));
    f
}

fn signed_fields(sandbox: &Sandbox, oid: &str, status: &str, total: &str) -> Vec<(String, String)> {
    let hash = crate::paytr::notification_hash(sandbox.credentials(), oid, status, total);
    vec![
        ("merchant_oid".into(), oid.to_owned()),
        ("status".into(), status.to_owned()),
        ("total_amount".into(), total.to_owned()),
        ("hash".into(), hash),
    ]
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
            let page = pages::three_d_page(&sandbox, &id, &charge);
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
        return json_answer(json!({"status": "failed", "msg": IN_FLIGHT, "try_again": true}));
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
            Err((_, msg)) => json!({"status": "failed", "msg": msg, "try_again": false}),
        }
    };
    match knobs.recurring_fault {
        Fault::Timeout => {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            json_answer(answer)
        }
        Fault::Malformed => HttpResponse::Ok()
            .content_type("application/json")
            .body("{\"status\":\"succ"),
        _ => json_answer(answer),
    }
}
