//! The audit log: who did what, to what, when, from where. Rows are only ever inserted (the
//! database refuses UPDATE and DELETE on the table).

use crate::db::schema::audit_log;
use crate::db::{DbConnection, DbError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: i64,
    pub staff_id: Option<i64>,
    pub staff_email: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: String,
    pub created_at: i64,
}

/// Who acted (none for a failed log-in of an unknown address) and from which address.
pub struct Actor<'a> {
    pub staff_id: Option<i64>,
    pub email: &'a str,
    pub ip: &'a str,
}

pub fn record(
    conn: &mut DbConnection,
    actor: &Actor<'_>,
    action: &str,
    target: &str,
    detail: &str,
    now: i64,
) -> Result<(), DbError> {
    // Bounded: an e-mail typed at the log-in form is the only outside text kept here.
    let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::staff_id.eq(actor.staff_id),
            audit_log::staff_email.eq(cut(actor.email, 120)),
            audit_log::action.eq(action),
            audit_log::target.eq(cut(target, 120)),
            audit_log::detail.eq(cut(detail, 500)),
            audit_log::ip.eq(cut(actor.ip, 64)),
            audit_log::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Newest first, `limit` entries before `before` (an id), optionally about one target.
pub fn page(
    conn: &mut DbConnection,
    target: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>, DbError> {
    let mut query = audit_log::table.into_boxed();
    if let Some(target) = target {
        query = query.filter(audit_log::target.eq(target.to_owned()));
    }
    if let Some(before) = before {
        query = query.filter(audit_log::id.lt(before));
    }
    Ok(query
        .order(audit_log::id.desc())
        .limit(limit)
        .select(AuditEntry::as_select())
        .load(conn)?)
}
