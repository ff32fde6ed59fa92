//! Signatures: the one primitive and the four message layouts.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// A store's PayTR credentials. Key and salt are secrets: `Debug` shows them redacted.
#[derive(Clone, Debug)]
pub struct MerchantCredentials {
    pub merchant_id: String,
    pub merchant_key: SecretString,
    pub merchant_salt: SecretString,
}

impl MerchantCredentials {
    pub fn new(merchant_id: &str, merchant_key: &str, merchant_salt: &str) -> Self {
        Self {
            merchant_id: merchant_id.to_owned(),
            merchant_key: SecretString::from(merchant_key),
            merchant_salt: SecretString::from(merchant_salt),
        }
    }

    fn key(&self) -> &str {
        self.merchant_key.expose_secret()
    }

    fn salt(&self) -> &str {
        self.merchant_salt.expose_secret()
    }
}

fn mac(key: &str) -> HmacSha256 {
    // HMAC accepts keys of any length, so this never fails.
    <HmacSha256 as Mac>::new_from_slice(key.as_bytes()).unwrap_or_else(|_| unreachable!())
}

/// `base64(HMAC-SHA256(key, message))` with standard alphabet and `=` padding.
pub fn sign(key: &str, message: &str) -> String {
    let mut mac = mac(key);
    mac.update(message.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks `provided` (base64) against the signature of `message`, in constant time.
pub fn verify(key: &str, message: &str, provided: &str) -> bool {
    let Ok(provided) = STANDARD.decode(provided.trim()) else {
        return false;
    };
    let mut mac = mac(key);
    mac.update(message.as_bytes());
    mac.verify_slice(&provided).is_ok()
}

/// The strings of a payment token, in PayTR's order (salt appended by [`payment_token`]).
pub struct PaymentHashFields<'a> {
    pub user_ip: &'a str,
    pub merchant_oid: &'a str,
    pub email: &'a str,
    pub payment_amount: &'a str,
    pub payment_type: &'a str,
    pub installment_count: &'a str,
    pub currency: &'a str,
    pub test_mode: &'a str,
    pub non_3d: &'a str,
}

/// Direct API (and recurring) token:
/// `merchant_id + user_ip + merchant_oid + email + payment_amount + payment_type +
/// installment_count + currency + test_mode + non_3d + merchant_salt`.
pub fn payment_token(creds: &MerchantCredentials, f: &PaymentHashFields<'_>) -> String {
    let message = [
        creds.merchant_id.as_str(),
        f.user_ip,
        f.merchant_oid,
        f.email,
        f.payment_amount,
        f.payment_type,
        f.installment_count,
        f.currency,
        f.test_mode,
        f.non_3d,
        creds.salt(),
    ]
    .concat();
    sign(creds.key(), &message)
}

/// CAPI LIST token: `utoken + merchant_salt` (merchant_id is not signed).
pub fn capi_list_token(creds: &MerchantCredentials, utoken: &str) -> String {
    sign(creds.key(), &[utoken, creds.salt()].concat())
}

/// CAPI DELETE token: `ctoken + utoken + merchant_salt` (ctoken first).
pub fn capi_delete_token(creds: &MerchantCredentials, ctoken: &str, utoken: &str) -> String {
    sign(creds.key(), &[ctoken, utoken, creds.salt()].concat())
}

/// Refund token: `merchant_id + merchant_oid + return_amount + merchant_salt`
/// (`reference_no` is posted but not signed).
pub fn refund_token(
    creds: &MerchantCredentials,
    merchant_oid: &str,
    return_amount: &str,
) -> String {
    let message = [
        creds.merchant_id.as_str(),
        merchant_oid,
        return_amount,
        creds.salt(),
    ];
    sign(creds.key(), &message.concat())
}

/// Status inquiry token: `merchant_id + merchant_oid + merchant_salt`.
pub fn status_token(creds: &MerchantCredentials, merchant_oid: &str) -> String {
    let message = [creds.merchant_id.as_str(), merchant_oid, creds.salt()];
    sign(creds.key(), &message.concat())
}

/// BIN lookup token: `bin_number + merchant_id + merchant_salt` (the BIN first).
pub fn bin_token(creds: &MerchantCredentials, bin_number: &str) -> String {
    sign(
        creds.key(),
        &[bin_number, creds.merchant_id.as_str(), creds.salt()].concat(),
    )
}

/// Installment-rates token: `merchant_id + request_id + merchant_salt`.
pub fn rates_token(creds: &MerchantCredentials, request_id: &str) -> String {
    sign(
        creds.key(),
        &[creds.merchant_id.as_str(), request_id, creds.salt()].concat(),
    )
}

/// Notification hash: `merchant_oid + merchant_salt + status + total_amount` (salt in the middle).
pub fn notification_hash(
    creds: &MerchantCredentials,
    merchant_oid: &str,
    status: &str,
    total_amount: &str,
) -> String {
    sign(
        creds.key(),
        &notification_message(creds, merchant_oid, status, total_amount),
    )
}

pub(crate) fn notification_message(
    creds: &MerchantCredentials,
    merchant_oid: &str,
    status: &str,
    total_amount: &str,
) -> String {
    [merchant_oid, creds.salt(), status, total_amount].concat()
}

/// Verifies a notification's `hash` in constant time.
pub(crate) fn verify_notification(
    creds: &MerchantCredentials,
    merchant_oid: &str,
    status: &str,
    total_amount: &str,
    hash: &str,
) -> bool {
    let message = notification_message(creds, merchant_oid, status, total_amount);
    verify(creds.key(), &message, hash)
}

/// Checks a posted request token: `provided == sign(message_without_salt + salt)`, in constant time.
pub fn verify_token(
    creds: &MerchantCredentials,
    message_without_salt: &str,
    provided: &str,
) -> bool {
    verify(
        creds.key(),
        &[message_without_salt, creds.salt()].concat(),
        provided,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_accepts_only_the_exact_signature() {
        let sig = sign("key", "message");
        assert!(verify("key", "message", &sig));
        assert!(!verify("key", "messagE", &sig));
        assert!(!verify("kez", "message", &sig));
        assert!(!verify("key", "message", "not base64!"));
        assert!(!verify("key", "message", ""));
    }

    #[test]
    fn credentials_debug_hides_key_and_salt() {
        let creds = MerchantCredentials::new("123456", "AbCdEfGhIjKlMnOp", "QrStUvWxYz012345");
        let shown = format!("{creds:?}");
        assert!(shown.contains("123456"));
        assert!(!shown.contains("AbCdEfGhIjKlMnOp") && !shown.contains("QrStUvWxYz012345"));
    }
}
