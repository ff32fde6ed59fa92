//! The command line: one binary, several subcommands.

use crate::paytr::MerchantCredentials;
use crate::sandbox::knobs::{Fault, Knobs, Permission};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "paytr-checkout",
    version,
    about = "Storefront checkout on PayTR, with a local PayTR sandbox"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve the storefront (the default). Without PayTR credentials it runs in sandbox mode.
    Serve,
    /// Apply the embedded database migrations to DATABASE_URL and exit.
    Migrate,
    /// Serve the PayTR sandbox alone, for tests and for merchants' own integrations.
    Sandbox(Box<SandboxArgs>),
    /// Recurring billing.
    #[command(subcommand)]
    Billing(BillingCommand),
    /// Refund (part of) a paid payment through PayTR and print the outcome.
    Refund {
        /// The paid payment's merchant_oid (shown on the order in the database and in PayTR's panel).
        merchant_oid: String,
        /// Amount to refund, e.g. 11.97 (at most what is left of the payment).
        #[arg(value_parser = parse_amount)]
        amount: i64,
        /// Why, for the record.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// The back office's staff.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Print the hosted checkout API's OpenAPI 3.1 document (also served at /api/openapi.json).
    Openapi,
    /// Keys of the hosted checkout API (`/api/v1`).
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Check the configuration, the database, the clock and PayTR (credentials, permissions,
    /// notification URL); exit non-zero naming the first problem.
    Doctor,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print it (once: only its hash is kept). `pk_test_…` when payments go
    /// to the sandbox or PayTR's test mode, else `pk_live_…`.
    Create {
        #[arg(long)]
        name: String,
        /// An origin (`https://shop.example`) the key's success_url and cancel_url may use;
        /// repeat for several.
        #[arg(long = "origin")]
        origins: Vec<String>,
    },
    /// List the keys (id, prefix, mode, name, whether revoked).
    List,
    /// Revoke a key by its id (`key_…`): it is refused from now on.
    Revoke { id: String },
}

#[derive(Debug, Clone, Subcommand)]
pub enum AdminCommand {
    /// Add a staff member: the password is read from standard input (one line), and the
    /// `otpauth://` URI to enter in an authenticator app is printed.
    AddUser {
        #[arg(long)]
        email: String,
        /// `owner` (everything, refunds, staff) or `support` (read, no refunds).
        #[arg(long, value_parser = ["owner", "support"])]
        role: String,
    },
}

/// An amount as kuruş from `11.97` (or `11,97`).
pub fn parse_amount(value: &str) -> Result<i64, String> {
    crate::domain::Money::parse_decimal(&value.trim().replace(',', "."))
        .map(|m| m.kurus())
        .map_err(|_| format!("{value:?} is not an amount like 11.97"))
}

#[derive(Debug, Clone, Subcommand)]
pub enum BillingCommand {
    /// Charge the subscriptions that are due, once, and print a summary (for cron).
    RunDue {
        /// Sandbox mode only: bill as if it were this time (`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SSZ`
        /// or Unix seconds), to rehearse renewals without waiting.
        #[arg(long, value_parser = parse_time)]
        now: Option<i64>,
    },
}

/// A time as Unix seconds from `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SSZ` or Unix seconds.
pub fn parse_time(value: &str) -> Result<i64, String> {
    if let Ok(unix) = value.parse::<i64>() {
        return Ok(unix);
    }
    let bad = || format!("{value:?} is not YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or Unix seconds");
    let (date, time) = value.split_once('T').unwrap_or((value, "00:00:00Z"));
    let mut d = date.split('-').map(|p| p.parse::<u32>());
    let (Some(Ok(y)), Some(Ok(m)), Some(Ok(day)), None) = (d.next(), d.next(), d.next(), d.next())
    else {
        return Err(bad());
    };
    let mut t = time
        .trim_end_matches('Z')
        .split(':')
        .map(|p| p.parse::<i64>());
    let (Some(Ok(h)), Some(Ok(min)), Some(Ok(s))) = (t.next(), t.next(), t.next()) else {
        return Err(bad());
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || s > 59 {
        return Err(bad());
    }
    let first = crate::domain::add_months(0, (y.checked_sub(1970).ok_or_else(bad)?) * 12 + m - 1);
    Ok(first + i64::from(day - 1) * 86_400 + h * 3600 + min * 60 + s)
}

/// The sandbox's settings; each flag can also come from its environment variable.
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Address and port to listen on.
    #[arg(long, env = "SANDBOX_BIND", default_value = "127.0.0.1:8090")]
    pub bind: SocketAddr,
    /// Store number; with key and salt. Without all three, credentials are generated once
    /// and kept in the data folder.
    #[arg(long, env = "SANDBOX_MERCHANT_ID")]
    pub merchant_id: Option<String>,
    #[arg(long, env = "SANDBOX_MERCHANT_KEY", hide_env_values = true)]
    pub merchant_key: Option<String>,
    #[arg(long, env = "SANDBOX_MERCHANT_SALT", hide_env_values = true)]
    pub merchant_salt: Option<String>,
    /// The merchant's notification URL (PayTR panel: "Bildirim URL").
    #[arg(long, env = "SANDBOX_NOTIFY_URL")]
    pub notify_url: Option<String>,
    /// Where stored cards, payments and deliveries are kept.
    #[arg(long, env = "SANDBOX_DATA_DIR", default_value = "data/sandbox")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub knobs: KnobArgs,
}

/// Knobs for rehearsing trouble (also changeable on the sandbox page).
#[derive(Debug, Clone, Args)]
pub struct KnobArgs {
    /// Milliseconds added before answering CAPI and recurring calls.
    #[arg(long, env = "SANDBOX_LATENCY_MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Fault injected into CAPI LIST/DELETE answers.
    #[arg(long, env = "SANDBOX_CAPI_FAULT", value_enum, default_value_t = Fault::None)]
    pub capi_fault: Fault,
    /// Fault injected into recurring-charge answers.
    #[arg(long, env = "SANDBOX_RECURRING_FAULT", value_enum, default_value_t = Fault::None)]
    pub recurring_fault: Fault,
    /// Permissions the store lacks, comma-separated.
    #[arg(long, env = "SANDBOX_DENY", value_enum, value_delimiter = ',')]
    pub deny: Vec<Permission>,
    /// Deliver every notification twice.
    #[arg(long, env = "SANDBOX_NOTIFY_TWICE")]
    pub notify_twice: bool,
    /// Milliseconds between delivery attempts until the answer is exactly OK.
    #[arg(long, env = "SANDBOX_NOTIFY_INTERVAL_MS", default_value_t = 60_000)]
    pub notify_interval_ms: u64,
    /// Delivery attempts before giving up.
    #[arg(long, env = "SANDBOX_NOTIFY_MAX_ATTEMPTS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub notify_max_attempts: u32,
    /// Leave try_again out of failed recurring answers.
    #[arg(long, env = "SANDBOX_OMIT_TRY_AGAIN")]
    pub omit_try_again: bool,
    /// Fault injected into refund answers (timeout/lost: refunded, no answer).
    #[arg(long, env = "SANDBOX_REFUND_FAULT", value_enum, default_value_t = Fault::None)]
    pub refund_fault: Fault,
    /// Fault injected into status-inquiry answers.
    #[arg(long, env = "SANDBOX_STATUS_FAULT", value_enum, default_value_t = Fault::None)]
    pub status_fault: Fault,
    /// Fault injected into BIN lookup answers.
    #[arg(long, env = "SANDBOX_BIN_FAULT", value_enum, default_value_t = Fault::None)]
    pub bin_fault: Fault,
    /// Fault injected into installment-rates answers.
    #[arg(long, env = "SANDBOX_RATES_FAULT", value_enum, default_value_t = Fault::None)]
    pub rates_fault: Fault,
    /// Refuse every refund with this PayTR err_no (e.g. 010: balance too low).
    #[arg(long, env = "SANDBOX_REFUND_ERROR", value_parser = refund_error_code)]
    pub refund_error: Option<String>,
    /// Answer every status inquiry "no such payment" (err_no 004).
    #[arg(long, env = "SANDBOX_STATUS_NOT_FOUND")]
    pub status_not_found: bool,
    /// Origin of the simulated bank (e.g. http://127.0.0.2:8080): the 3-D card post is then
    /// redirected there, as a real bank's page is on another origin.
    #[arg(long, env = "SANDBOX_BANK_ORIGIN")]
    pub bank_origin: Option<String>,
    /// Milliseconds a slow card's recurring charge stays in flight (wait_callback).
    #[arg(long, env = "SANDBOX_WAIT_CALLBACK_MS", default_value_t = 5_000)]
    pub wait_callback_ms: u64,
}

fn refund_error_code(value: &str) -> Result<String, String> {
    if value.len() == 3 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err("three digits, as PayTR's err_no (e.g. 010)".into())
    }
}

impl KnobArgs {
    /// The knobs from the environment alone (used by `serve` in sandbox mode).
    pub fn from_env() -> Result<Self, clap::Error> {
        #[derive(Parser)]
        struct Env {
            #[command(flatten)]
            knobs: KnobArgs,
        }
        Env::try_parse_from(["sandbox"]).map(|e| e.knobs)
    }

    pub fn knobs(&self) -> Knobs {
        let mut knobs = Knobs {
            latency: Duration::from_millis(self.latency_ms),
            capi_fault: self.capi_fault,
            recurring_fault: self.recurring_fault,
            notify_twice: self.notify_twice,
            notify_interval: Duration::from_millis(self.notify_interval_ms),
            notify_max_attempts: self.notify_max_attempts,
            wait_callback: Duration::from_millis(self.wait_callback_ms),
            omit_try_again: self.omit_try_again,
            refund_fault: self.refund_fault,
            status_fault: self.status_fault,
            bin_fault: self.bin_fault,
            rates_fault: self.rates_fault,
            refund_error: self.refund_error.clone(),
            status_not_found: self.status_not_found,
            bank_origin: self.bank_origin.clone(),
            ..Knobs::default()
        };
        for permission in &self.deny {
            knobs.permissions.deny(*permission);
        }
        knobs
    }
}

impl SandboxArgs {
    /// The given credentials, or `None` when none of the three is set.
    pub fn credentials(&self) -> Result<Option<MerchantCredentials>, String> {
        match (&self.merchant_id, &self.merchant_key, &self.merchant_salt) {
            (None, None, None) => Ok(None),
            (Some(id), Some(key), Some(salt)) => Ok(Some(MerchantCredentials::new(id, key, salt))),
            _ => Err(
                "give all three of --merchant-id, --merchant-key and --merchant-salt, or none"
                    .into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_parse_as_utc() {
        assert_eq!(parse_time("1970-01-02"), Ok(86_400));
        assert_eq!(
            parse_time("2027-01-01T10:00:00Z")
                .map(crate::domain::date_string)
                .as_deref(),
            Ok("2027-01-01")
        );
        assert_eq!(
            parse_time("2027-01-01T10:00:00Z").map(|t| t % 86_400),
            Ok(36_000)
        );
        assert_eq!(parse_time("1800000000"), Ok(1_800_000_000));
        assert!(parse_time("2027-13-01").is_err() && parse_time("tomorrow").is_err());
    }
}
