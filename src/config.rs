//! Configuration from environment variables (optionally loaded from `.env` by `main`).
//!
//! A missing or malformed value stops start-up with a message naming the variable. Secrets are
//! held in `secrecy` types, so `Debug` never prints them.

use crate::paytr::{MerchantCredentials, PAYTR_BASE_URL};
use secrecy::SecretString;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// A configuration variable that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration variable {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

/// Everything the storefront needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    /// Absolute base for the URLs PayTR sends shoppers and notifications to; by default the
    /// address the server is bound to.
    pub public_url: Option<String>,
    pub database_url: String,
    /// Where the SQLite database and sandbox state live by default.
    pub data_dir: PathBuf,
    pub session_key: Option<SecretString>,
    /// Key that seals PayTR utokens at rest.
    pub data_key: Option<SecretString>,
    /// Whether the session cookie is `Secure` (`__Host-` prefixed); default: PUBLIC_URL is https.
    pub cookie_secure: Option<bool>,
    /// The catalogue file (the built-in catalogue when it does not exist).
    pub catalog_path: PathBuf,
    pub paytr: PaytrSettings,
    /// Peers whose `X-Forwarded-For` is believed for the shopper's IP.
    pub trusted_proxies: Vec<IpAddr>,
    pub billing: BillingSettings,
    /// Where e-mails are posted as JSON (`{"to","subject","text"}`); none: they wait in the
    /// outbox (shown at `/sandbox/mail` in sandbox mode).
    pub mail_webhook_url: Option<String>,
    /// The SMTP server e-mails are sent through (it may hold a password).
    pub smtp_url: Option<SecretString>,
    /// The sender of e-mails (`Shop <shop@example.com>`).
    pub mail_from: String,
    /// How often the outbox is delivered.
    pub mail_interval: Duration,
    /// The first retry delay of an e-mail that could not be delivered, in seconds (doubling).
    pub mail_retry_base_secs: i64,
    /// How often the webhook outbox is delivered.
    pub webhook_interval: Duration,
    /// The first retry delay of a webhook whose receiver failed, in seconds (doubling, at most
    /// 6 hours; given up after 3 days).
    pub webhook_retry_base_secs: i64,
    /// Installments (taksit) on the payment page.
    pub installments: InstallmentSettings,
    /// The merchant's seller details and legal texts (`seller.json`, `*.tr.txt`, `*.en.txt`);
    /// files missing there are the built-in examples.
    pub legal_dir: Option<PathBuf>,
    /// Where `/metrics` (Prometheus) is served; none: no metrics are kept.
    pub metrics_bind: Option<SocketAddr>,
}

/// Who pays the installment interest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterestPayer {
    /// The shopper: `payment_amount` is raised by PayTR's rate.
    Shopper,
    /// The merchant: the shopper pays the order total whatever the count.
    Merchant,
}

/// Installments on the payment page.
#[derive(Debug, Clone)]
pub struct InstallmentSettings {
    pub enabled: bool,
    /// The largest count offered (2–12).
    pub max: u8,
    /// No installments below this order total, in kuruş.
    pub min_kurus: i64,
    pub interest: InterestPayer,
}

impl InstallmentSettings {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>, live: bool) -> Result<Self, ConfigError> {
        let max = match get("INSTALLMENT_MAX") {
            None => 12,
            Some(v) => v
                .parse::<u8>()
                .ok()
                .filter(|n| (2..=12).contains(n))
                .ok_or_else(|| err("INSTALLMENT_MAX", "must be 2 to 12"))?,
        };
        let min_kurus = match get("INSTALLMENT_MIN_AMOUNT") {
            None => 0,
            Some(v) => crate::domain::Money::parse_decimal(v.trim())
                .map(|m| m.kurus())
                .map_err(|_| err("INSTALLMENT_MIN_AMOUNT", "must be an amount such as 500.00"))?,
        };
        let interest = match get("INSTALLMENT_INTEREST").as_deref() {
            None | Some("shopper") => InterestPayer::Shopper,
            Some("merchant") => InterestPayer::Merchant,
            Some(_) => return Err(err("INSTALLMENT_INTEREST", "must be shopper or merchant")),
        };
        Ok(Self {
            // On in sandbox mode; a live store turns them on once PayTR enabled them.
            enabled: flag(get, "INSTALLMENTS", !live)?,
            max,
            min_kurus,
            interest,
        })
    }
}

/// The recurring billing engine.
#[derive(Debug, Clone)]
pub struct BillingSettings {
    /// How often `serve` runs a billing pass; `None` turns the background engine off.
    pub interval: Option<Duration>,
    /// How long a renewal may stay unknown before it is reported.
    pub unknown_after: Duration,
    /// How long a payment or charge may stay unsettled before PayTR's status inquiry is asked.
    pub reconcile_after: Duration,
    /// How long an unpaid checkout payment stays open before it is failed (when PayTR's
    /// status inquiry has no successful payment for it).
    pub abandon_after: Duration,
    pub retry_gaps_days: Vec<i64>,
    pub max_attempts: i32,
    pub retry_window_days: i64,
}

/// How to talk to PayTR.
#[derive(Debug, Clone)]
pub struct PaytrSettings {
    /// `None`: no credentials configured, so the storefront runs in sandbox mode.
    pub credentials: Option<MerchantCredentials>,
    pub base_url: String,
    pub test_mode: bool,
    pub debug_on: bool,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Shorter timeout for CAPI LIST, so a slow PayTR never holds up checkout.
    pub capi_timeout: Duration,
}

/// Whether payments go to the real PayTR or to the embedded sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Sandbox,
    Live,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`; empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let bind: SocketAddr = match get("BIND") {
            Some(v) => v
                .parse()
                .map_err(|_| err("BIND", "must be an address and port such as 127.0.0.1:8080"))?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let public_url = match get("PUBLIC_URL") {
            Some(v) => Some(
                absolute_url("PUBLIC_URL", &v)?
                    .trim_end_matches('/')
                    .to_owned(),
            ),
            None => None,
        };
        let data_dir = PathBuf::from(get("DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url =
            get("DATABASE_URL").unwrap_or_else(|| "sqlite://data/paytr-checkout.db".into());
        let session_key = match get("SESSION_KEY") {
            Some(v) if v.len() < 32 => {
                return Err(err(
                    "SESSION_KEY",
                    "must be at least 32 characters of random text",
                ));
            }
            other => other.map(SecretString::from),
        };
        let data_key = match get("DATA_KEY") {
            Some(v) if v.len() < 32 => {
                return Err(err(
                    "DATA_KEY",
                    "must be at least 32 characters of random text",
                ));
            }
            other => other.map(SecretString::from),
        };
        let cookie_secure = match get("COOKIE_SECURE") {
            None => None,
            Some(_) => Some(flag(&get, "COOKIE_SECURE", true)?),
        };
        let trusted_proxies = match get("TRUSTED_PROXIES") {
            Some(v) => v
                .split(',')
                .map(|ip| {
                    ip.trim()
                        .parse()
                        .map_err(|_| err("TRUSTED_PROXIES", format!("{ip:?} is not an IP address")))
                })
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let paytr = PaytrSettings::from_lookup(&get)?;
        let paytr_configured = paytr.credentials.is_some();
        if paytr.credentials.is_some() && public_url.is_none() {
            // PayTR must reach the notification URL and send shoppers back: the bind address
            // is never it in production.
            return Err(err(
                "PUBLIC_URL",
                "is required with PAYTR_MERCHANT_*: the https address PayTR and shoppers reach this shop at",
            ));
        }
        Ok(Self {
            bind,
            public_url,
            database_url,
            data_dir,
            session_key,
            data_key,
            cookie_secure,
            catalog_path: PathBuf::from(
                get("CATALOG_PATH").unwrap_or_else(|| "catalog.json".into()),
            ),
            paytr,
            trusted_proxies,
            billing: BillingSettings::from_lookup(&get)?,
            mail_webhook_url: match get("MAIL_WEBHOOK_URL") {
                Some(v) => Some(absolute_url("MAIL_WEBHOOK_URL", &v)?),
                None => None,
            },
            smtp_url: get("SMTP_URL").map(SecretString::from),
            mail_from: match (get("MAIL_FROM"), get("SMTP_URL")) {
                (Some(from), _) => from,
                (None, Some(_)) => {
                    return Err(err(
                        "MAIL_FROM",
                        "is required with SMTP_URL: the sender of e-mails",
                    ));
                }
                (None, None) => "paytr-checkout <no-reply@localhost>".into(),
            },
            mail_interval: millis(&get, "MAIL_INTERVAL_MS", 5_000)?,
            mail_retry_base_secs: match get("MAIL_RETRY_BASE_SECS") {
                None => 30,
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|s| (0..=3600).contains(s))
                    .ok_or_else(|| err("MAIL_RETRY_BASE_SECS", "must be 0 to 3600 seconds"))?,
            },
            webhook_interval: millis(&get, "WEBHOOK_INTERVAL_MS", 1_000)?,
            webhook_retry_base_secs: match get("WEBHOOK_RETRY_BASE_SECS") {
                None => 30,
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|s| (0..=3600).contains(s))
                    .ok_or_else(|| err("WEBHOOK_RETRY_BASE_SECS", "must be 0 to 3600 seconds"))?,
            },
            legal_dir: get("LEGAL_DIR").map(PathBuf::from),
            metrics_bind: match get("METRICS_BIND") {
                Some(v) => Some(v.parse().map_err(|_| {
                    err(
                        "METRICS_BIND",
                        "must be an address and port such as 127.0.0.1:9090",
                    )
                })?),
                None => None,
            },
            installments: InstallmentSettings::from_lookup(&get, paytr_configured)?,
        })
    }

    /// Secure cookies when asked, else when the public URL is https.
    pub fn secure_cookies(&self, public_url: &str) -> bool {
        self.cookie_secure
            .unwrap_or_else(|| public_url.starts_with("https://"))
    }

    pub fn mode(&self) -> Mode {
        if self.paytr.credentials.is_some() {
            Mode::Live
        } else {
            Mode::Sandbox
        }
    }
}

impl PaytrSettings {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let id = get("PAYTR_MERCHANT_ID");
        let key = get("PAYTR_MERCHANT_KEY");
        let salt = get("PAYTR_MERCHANT_SALT");
        let credentials = match (id, key, salt) {
            (None, None, None) => None,
            (Some(id), Some(key), Some(salt)) => {
                if !id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err(
                        "PAYTR_MERCHANT_ID",
                        "must be the store number PayTR gave you (digits only)",
                    ));
                }
                Some(MerchantCredentials::new(&id, &key, &salt))
            }
            (id, key, _) => {
                let missing = if id.is_none() {
                    "PAYTR_MERCHANT_ID"
                } else if key.is_none() {
                    "PAYTR_MERCHANT_KEY"
                } else {
                    "PAYTR_MERCHANT_SALT"
                };
                return Err(err(
                    missing,
                    "is missing: set all three of PAYTR_MERCHANT_ID, PAYTR_MERCHANT_KEY and PAYTR_MERCHANT_SALT, or none for sandbox mode",
                ));
            }
        };
        Ok(Self {
            credentials,
            base_url: match get("PAYTR_BASE_URL") {
                Some(v) => absolute_url("PAYTR_BASE_URL", &v)?
                    .trim_end_matches('/')
                    .to_owned(),
                None => PAYTR_BASE_URL.to_owned(),
            },
            test_mode: flag(get, "PAYTR_TEST_MODE", false)?,
            debug_on: flag(get, "PAYTR_DEBUG_ON", false)?,
            connect_timeout: millis(get, "PAYTR_CONNECT_TIMEOUT_MS", 3_000)?,
            request_timeout: millis(get, "PAYTR_TIMEOUT_MS", 10_000)?,
            capi_timeout: millis(get, "PAYTR_CAPI_TIMEOUT_MS", 3_000)?,
        })
    }
}

impl BillingSettings {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let number = |var: &'static str, default: i64, max: i64| -> Result<i64, ConfigError> {
            match get(var) {
                None => Ok(default),
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (0..=max).contains(n))
                    .ok_or_else(|| err(var, format!("must be a whole number from 0 to {max}"))),
            }
        };
        let interval = number("BILLING_INTERVAL_SECS", 300, 86_400)?;
        let gaps = match get("BILLING_RETRY_GAPS_DAYS") {
            None => vec![1, 3, 5, 7],
            Some(v) => v
                .split(',')
                .map(|d| {
                    d.trim()
                        .parse::<i64>()
                        .ok()
                        .filter(|d| (1..=30).contains(d))
                })
                .collect::<Option<Vec<_>>>()
                .filter(|g| !g.is_empty())
                .ok_or_else(|| {
                    err(
                        "BILLING_RETRY_GAPS_DAYS",
                        "must be days between 1 and 30, comma-separated, e.g. 1,3,5,7",
                    )
                })?,
        };
        Ok(Self {
            interval: (interval > 0).then(|| Duration::from_secs(interval as u64)),
            unknown_after: Duration::from_secs(number(
                "BILLING_UNKNOWN_AFTER_SECS",
                3600,
                30 * 86_400,
            )? as u64),
            reconcile_after: Duration::from_secs(number(
                "BILLING_RECONCILE_AFTER_SECS",
                600,
                7 * 86_400,
            )? as u64),
            abandon_after: Duration::from_secs(number(
                "BILLING_ABANDON_AFTER_SECS",
                86_400,
                30 * 86_400,
            )? as u64),
            retry_gaps_days: gaps,
            max_attempts: number("BILLING_MAX_ATTEMPTS", 8, 15)? as i32,
            retry_window_days: number("BILLING_RETRY_WINDOW_DAYS", 14, 30)?,
        })
    }
}

fn absolute_url(var: &'static str, value: &str) -> Result<String, ConfigError> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(value.to_owned()),
        _ => Err(err(
            var,
            "must be an absolute http(s) URL such as https://shop.example",
        )),
    }
}

fn flag(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(var).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes") => Ok(true),
        Some("0" | "false" | "no") => Ok(false),
        Some(_) => Err(err(var, "must be 0 or 1")),
    }
}

fn millis(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
) -> Result<Duration, ConfigError> {
    match get(var) {
        None => Ok(Duration::from_millis(default)),
        Some(v) => match v.parse::<u64>() {
            Ok(ms) if (1..=600_000).contains(&ms) => Ok(Duration::from_millis(ms)),
            _ => Err(err(
                var,
                "must be a number of milliseconds between 1 and 600000",
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn no_configuration_means_sandbox_mode_on_localhost() {
        let s = settings(&[]).expect("defaults are valid");
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.public_url, None);
        assert_eq!(s.database_url, "sqlite://data/paytr-checkout.db");
        assert_eq!(s.mode(), Mode::Sandbox);
        assert_eq!(s.paytr.base_url, "https://www.paytr.com");
    }

    #[test]
    fn partial_credentials_name_the_missing_variable() {
        let e = settings(&[("PAYTR_MERCHANT_ID", "123456"), ("PAYTR_MERCHANT_KEY", "k")])
            .expect_err("salt missing");
        assert_eq!(e.var, "PAYTR_MERCHANT_SALT");
        let credentials = [
            ("PAYTR_MERCHANT_ID", "123456"),
            ("PAYTR_MERCHANT_KEY", "k"),
            ("PAYTR_MERCHANT_SALT", "s"),
        ];
        let e = settings(&credentials).expect_err("live mode needs PUBLIC_URL");
        assert_eq!(e.var, "PUBLIC_URL");
        let mut live = credentials.to_vec();
        live.push(("PUBLIC_URL", "https://shop.example"));
        let s = settings(&live).expect("complete credentials");
        assert_eq!(s.mode(), Mode::Live);
    }

    #[test]
    fn malformed_values_name_their_variable() {
        for (var, value) in [
            ("BIND", "nowhere"),
            ("PUBLIC_URL", "shop.example"),
            ("SESSION_KEY", "short"),
            ("DATA_KEY", "short"),
            ("COOKIE_SECURE", "maybe"),
            ("BILLING_INTERVAL_SECS", "-1"),
            ("BILLING_RETRY_GAPS_DAYS", "1,x"),
            ("BILLING_MAX_ATTEMPTS", "16"),
            ("PAYTR_TEST_MODE", "maybe"),
            ("PAYTR_TIMEOUT_MS", "0"),
            ("PAYTR_BASE_URL", "ftp://x"),
            ("TRUSTED_PROXIES", "10.0.0.1,proxy"),
        ] {
            assert_eq!(
                settings(&[(var, value)]).map(|_| ()).map_err(|e| e.var),
                Err(var),
                "{var}={value}"
            );
        }
    }

    #[test]
    fn debug_output_hides_secrets() {
        let s = settings(&[
            ("PAYTR_MERCHANT_ID", "123456"),
            ("PAYTR_MERCHANT_KEY", "AbCdEfGhIjKlMnOp"),
            ("PAYTR_MERCHANT_SALT", "QrStUvWxYz012345"),
            ("PUBLIC_URL", "https://shop.example"),
            ("SESSION_KEY", "0123456789abcdef0123456789abcdef-session"),
        ])
        .expect("valid");
        let shown = format!("{s:?}");
        for secret in [
            "AbCdEfGhIjKlMnOp",
            "QrStUvWxYz012345",
            "0123456789abcdef0123456789abcdef-session",
        ] {
            assert!(!shown.contains(secret), "{secret} leaked");
        }
    }
}
