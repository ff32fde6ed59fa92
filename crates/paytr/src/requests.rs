//! Typed builders for the forms PayTR accepts. Each builder first writes the exact strings
//! that will be posted, then signs those very strings, so hash and form can never disagree.

use std::borrow::Cow;

use super::sign::{
    MerchantCredentials, PaymentHashFields, capi_delete_token, capi_list_token, payment_token,
};
use super::{Basket, Token};
use crate::types::{
    AbsoluteUrl, Currency, Email, InstallmentCount, Lang, MerchantOid, Money, PaymentType,
    UserAddress, UserIp, UserName, UserPhone, ValidationError,
};

/// The fields of one form, in order, plus the card fields the shopper's browser must add.
/// Values are borrowed where the request holds them (a payment page's form was ~22 strings
/// copied for one render).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormFields<'a> {
    fields: Vec<(&'static str, Cow<'a, str>)>,
    browser_fields: &'static [&'static str],
}

impl<'a> FormFields<'a> {
    pub(crate) fn push(&mut self, name: &'static str, value: impl Into<Cow<'a, str>>) {
        self.fields.push((name, value.into()));
    }

    /// The value posted under `name`, if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_ref())
    }

    /// All fields in the order they are posted.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.fields.iter().map(|(n, v)| (*n, v.as_ref()))
    }

    /// Fields the shopper types into the browser, posted straight to PayTR (never to us).
    pub fn browser_fields(&self) -> &[&'static str] {
        self.browser_fields
    }

    /// The `(name, value)` pairs, taken without copying the values.
    pub fn into_pairs(self) -> Vec<(&'static str, Cow<'a, str>)> {
        self.fields
    }

    /// As `(name, value)` pairs for a urlencoded body.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        self.iter().map(|(n, v)| (n, v.to_owned())).collect()
    }
}

/// Card fields typed by the shopper when paying with a new card.
pub const NEW_CARD_FIELDS: [&str; 5] = [
    "cc_owner",
    "card_number",
    "expiry_month",
    "expiry_year",
    "cvv",
];

/// Which card pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardSource {
    /// A card typed by the shopper. With `store_card`, PayTR saves it: for a first card no
    /// `utoken` is sent (PayTR creates one); for a shopper who has one, it is sent so the card
    /// joins their others. The `utoken` is ignored unless `store_card` is set.
    NewCard {
        store_card: bool,
        utoken: Option<Token>,
    },
    /// A card saved earlier; the shopper's browser adds `cvv` only when the card requires it.
    SavedCard {
        utoken: Token,
        ctoken: Token,
        require_cvv: bool,
    },
}

/// What every payment carries, whoever starts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    pub merchant_oid: MerchantOid,
    pub user_ip: UserIp,
    pub email: Email,
    pub amount: Money,
    pub currency: Currency,
    pub installment_count: InstallmentCount,
    pub payment_type: PaymentType,
    pub test_mode: bool,
    pub non_3d: bool,
    pub lang: Lang,
    pub user_name: UserName,
    pub user_address: UserAddress,
    pub user_phone: UserPhone,
    pub basket: Basket,
    pub ok_url: AbsoluteUrl,
    pub fail_url: AbsoluteUrl,
    pub debug_on: bool,
    /// `sync_mode=1`: PayTR answers JSON instead of redirecting (server-side calls).
    pub sync_mode: bool,
    /// `non3d_test_failed=1`: simulate a failed Non-3D payment (test mode and Non-3D only).
    pub non3d_test_failed: bool,
}

fn flag(value: bool) -> &'static str {
    if value { "1" } else { "0" }
}

impl PaymentRequest {
    /// The form for a browser payment with a new or a saved card (PayTR `/odeme`).
    pub fn form<'a>(
        &'a self,
        creds: &'a MerchantCredentials,
        card: &CardSource,
    ) -> Result<FormFields<'a>, ValidationError> {
        let mut form = self.common_fields(creds, self.non_3d)?;
        match card {
            CardSource::NewCard { store_card, utoken } => {
                if *store_card {
                    if let Some(utoken) = utoken {
                        form.push("utoken", utoken.expose().to_owned());
                    }
                    form.push("store_card", "1");
                }
                form.browser_fields = &NEW_CARD_FIELDS;
            }
            CardSource::SavedCard {
                utoken,
                ctoken,
                require_cvv,
            } => {
                form.push("utoken", utoken.expose().to_owned());
                form.push("ctoken", ctoken.expose().to_owned());
                if *require_cvv {
                    form.browser_fields = &["cvv"];
                }
            }
        }
        if self.sync_mode {
            form.push("sync_mode", "1");
        }
        Ok(form)
    }

    /// A merchant-initiated recurring charge on a saved card: Non-3D, with both spellings of
    /// the recurring flag (`recurring_payment` in PayTR's pages, `recurring` in our spec).
    pub fn recurring_form<'a>(
        &'a self,
        creds: &'a MerchantCredentials,
        utoken: &Token,
        ctoken: &Token,
    ) -> Result<FormFields<'a>, ValidationError> {
        let mut form = self.common_fields(creds, true)?;
        form.push("utoken", utoken.expose().to_owned());
        form.push("ctoken", ctoken.expose().to_owned());
        form.push("recurring_payment", "1");
        form.push("recurring", "1");
        Ok(form)
    }

    fn common_fields<'a>(
        &'a self,
        creds: &'a MerchantCredentials,
        non_3d: bool,
    ) -> Result<FormFields<'a>, ValidationError> {
        if self.amount.kurus() <= 0 {
            return Err(ValidationError::new(
                "payment_amount",
                "must be more than 0.00",
            ));
        }
        let mut form = FormFields::default();
        form.push("merchant_id", creds.merchant_id.as_str());
        form.push("user_ip", self.user_ip.to_string());
        form.push("merchant_oid", self.merchant_oid.as_str());
        form.push("email", self.email.as_str());
        form.push("payment_amount", self.amount.to_paytr_decimal());
        form.push("payment_type", self.payment_type.code());
        form.push(
            "installment_count",
            self.installment_count.get().to_string(),
        );
        form.push("currency", self.currency.code());
        form.push("test_mode", flag(self.test_mode));
        form.push("non_3d", flag(non_3d));
        let token = {
            let get = |name| form.get(name).unwrap_or_default();
            payment_token(
                creds,
                &PaymentHashFields {
                    user_ip: get("user_ip"),
                    merchant_oid: get("merchant_oid"),
                    email: get("email"),
                    payment_amount: get("payment_amount"),
                    payment_type: get("payment_type"),
                    installment_count: get("installment_count"),
                    currency: get("currency"),
                    test_mode: get("test_mode"),
                    non_3d: get("non_3d"),
                },
            )
        };
        form.push("paytr_token", token);
        form.push("client_lang", self.lang.code());
        form.push("user_name", self.user_name.as_str());
        form.push("user_address", self.user_address.as_str());
        form.push("user_phone", self.user_phone.as_str());
        form.push("user_basket", self.basket.to_json());
        form.push("merchant_ok_url", self.ok_url.as_str());
        form.push("merchant_fail_url", self.fail_url.as_str());
        form.push("debug_on", flag(self.debug_on));
        if self.non3d_test_failed {
            form.push("non3d_test_failed", "1");
        }
        Ok(form)
    }
}

/// CAPI LIST: `merchant_id`, `utoken`, `paytr_token`.
pub fn capi_list_form<'a>(creds: &'a MerchantCredentials, utoken: &'a Token) -> FormFields<'a> {
    let mut form = FormFields::default();
    form.push("merchant_id", creds.merchant_id.as_str());
    form.push("utoken", utoken.expose());
    form.push("paytr_token", capi_list_token(creds, utoken.expose()));
    form
}

/// CAPI DELETE: `merchant_id`, `ctoken`, `utoken`, `paytr_token`.
pub fn capi_delete_form<'a>(
    creds: &'a MerchantCredentials,
    utoken: &'a Token,
    ctoken: &'a Token,
) -> FormFields<'a> {
    let mut form = FormFields::default();
    form.push("merchant_id", creds.merchant_id.as_str());
    form.push("ctoken", ctoken.expose());
    form.push("utoken", utoken.expose());
    form.push(
        "paytr_token",
        capi_delete_token(creds, ctoken.expose(), utoken.expose()),
    );
    form
}
