//! Security events: what someone tried that our rules refused, recorded in the database and
//! logged under the `security` target. Values from outside are logged as escaped fields
//! (`?value`), never spliced into the message, so a log line can't be forged.

use crate::db::schema::security_events;
use crate::db::{DbConnection, DbError, unix_now};
use diesel::prelude::*;

/// What was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A notification carried a `utoken` we did not bind (see [`crate::accounts::bind_utoken`]).
    UtokenRefused,
    /// A test transaction's notification reached a live shop.
    TestNotificationInLive,
    /// A payment's installment count or total matched no form we signed.
    InstallmentMismatch,
}

impl EventKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::UtokenRefused => "utoken_refused",
            Self::TestNotificationInLive => "test_notification_in_live",
            Self::InstallmentMismatch => "installment_mismatch",
        }
    }
}

/// Records the event and logs it as a warning (the detail is one of our own reason codes).
pub fn record(
    conn: &mut DbConnection,
    kind: EventKind,
    user_id: Option<i64>,
    merchant_oid: Option<&str>,
    detail: &str,
) -> Result<(), DbError> {
    let oid = merchant_oid.map(|o| o.chars().take(64).collect::<String>());
    tracing::warn!(
        target: "security",
        kind = kind.code(),
        user = ?user_id,
        merchant_oid = ?oid,
        detail = ?detail,
        "security event"
    );
    diesel::insert_into(security_events::table)
        .values((
            security_events::kind.eq(kind.code()),
            security_events::user_id.eq(user_id),
            security_events::merchant_oid.eq(oid),
            security_events::detail.eq(detail),
            security_events::created_at.eq(unix_now()),
        ))
        .execute(conn)?;
    Ok(())
}
