//! What PayTR checks before it charges anything: merchant, permissions, required fields, the
//! token over the posted strings, field rules, the merchant_oid, and the card.

use super::Sandbox;
use super::cards;
use super::knobs::Permissions;
use super::payment::{Charge, ChargeCard, Form, field, flag, valid_cvv};
use super::rules;
use super::state::{CardRecord, Channel, year_month};
use crate::unix_now;
use paytr::verify_token;

/// Why a payment request was refused before any charge.
pub(super) struct Refusal {
    pub(super) reason: String,
    /// Set once the token checked out: a failed notification (code 99) can then be sent.
    pub(super) notify_oid: Option<String>,
    pub(super) fail_url: Option<String>,
    pub(super) debug_on: bool,
    pub(super) channel: Channel,
}

pub(super) fn channel_of(form: &Form) -> Channel {
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

impl Sandbox {
    /// Every check PayTR makes before it charges anything, in PayTR's order.
    pub(super) fn check(&self, form: &Form) -> Result<Charge, Refusal> {
        let channel = channel_of(form);
        let debug_on = flag(form, "debug_on");
        let mut refusal = Refusal {
            reason: String::new(),
            notify_oid: None,
            fail_url: rules::url("merchant_fail_url", field(form, "merchant_fail_url")).ok(),
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
        let oid = match rules::merchant_oid(field(form, "merchant_oid")) {
            Ok(oid) => oid,
            Err(reason) => return refuse(refusal, reason),
        };
        if self.read(|s| s.oid_used(&oid)) {
            return refuse(
                refusal,
                format!("merchant_oid daha once kullanilmis: {oid}"),
            );
        }
        refusal.notify_oid = Some(oid.clone());
        match self.check_fields(form, oid, channel, permissions) {
            Ok(charge) => Ok(charge),
            Err(reason) => refuse(refusal, reason),
        }
    }

    fn check_fields(
        &self,
        form: &Form,
        oid: String,
        channel: Channel,
        permissions: Permissions,
    ) -> Result<Charge, String> {
        let f = |name| field(form, name);
        rules::user_ip(f("user_ip"))?;
        rules::email(f("email"))?;
        rules::user_name(f("user_name"))?;
        rules::user_address(f("user_address"))?;
        rules::user_phone(f("user_phone"))?;
        rules::client_lang(f("client_lang"))?;
        let amount_kurus = rules::payment_amount(f("payment_amount"))?;
        let currency = rules::currency(f("currency"))?;
        let installments = rules::installment_count(f("installment_count"))?;
        let payment_type = rules::payment_type(f("payment_type"))?;
        rules::user_basket(f("user_basket"))?;
        let ok_url = rules::url("merchant_ok_url", f("merchant_ok_url"))?;
        let fail_url = rules::url("merchant_fail_url", f("merchant_fail_url"))?;
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
            merchant_oid: oid,
            amount_kurus,
            currency: currency.to_owned(),
            installment_count: installments,
            card_type: f("card_type").trim().to_ascii_lowercase(),
            payment_type: payment_type.to_owned(),
            test_mode,
            non_3d,
            channel,
            ok_url,
            fail_url,
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
        // PayTR's field table: the card number is digits only (no spaces or dashes).
        let number = f("card_number").to_owned();
        if !(12..=19).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err("card_number gecersiz: yalnizca rakam olmali".into());
        }
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
}
