//! Staff sessions: a random id in a cookie of their own (`Path=/admin`, `SameSite=Strict`),
//! only its SHA-256 in the database; 30 minutes idle, 12 hours at most.

use super::StaffUser;
use crate::db::schema::staff_sessions;
use crate::db::{DbConnection, DbError};
use crate::domain::Lang;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

/// The cookie's name (with `__Secure-` in front over https).
pub const COOKIE: &str = "admin_sid";
pub const IDLE_SECS: i64 = 30 * 60;
pub const ABSOLUTE_SECS: i64 = 12 * 3600;

/// A signed-in staff member.
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub id_hash: String,
    pub staff: StaffUser,
    pub csrf: String,
    pub lang: Lang,
    /// Last seen more than a minute ago: the caller records this visit.
    pub stale: bool,
}

fn hash(value: &str) -> String {
    crate::paytr::hex(&Sha256::digest(value.as_bytes()))
}

/// Opens a session; answers the cookie's value (never stored).
pub fn create(
    conn: &mut DbConnection,
    staff_id: i64,
    lang: Lang,
    now: i64,
) -> Result<String, DbError> {
    let value = crate::accounts::random_string(43);
    diesel::insert_into(staff_sessions::table)
        .values((
            staff_sessions::id_hash.eq(hash(&value)),
            staff_sessions::staff_id.eq(staff_id),
            staff_sessions::csrf.eq(crate::accounts::random_string(32)),
            staff_sessions::lang.eq(lang.code()),
            staff_sessions::created_at.eq(now),
            staff_sessions::last_seen_at.eq(now),
        ))
        .execute(conn)?;
    Ok(value)
}

/// The live session the cookie names (a read only); `None` when unknown, idle, too old, or
/// its staff member is disabled.
pub fn load(
    conn: &mut DbConnection,
    value: &str,
    now: i64,
) -> Result<Option<StaffSession>, DbError> {
    let id_hash = hash(value);
    let row = staff_sessions::table
        .find(&id_hash)
        .select((
            staff_sessions::staff_id,
            staff_sessions::csrf,
            staff_sessions::lang,
            staff_sessions::created_at,
            staff_sessions::last_seen_at,
        ))
        .first::<(i64, String, String, i64, i64)>(conn)
        .optional()?;
    let Some((staff_id, csrf, lang, created_at, last_seen_at)) = row else {
        return Ok(None);
    };
    if now - last_seen_at > IDLE_SECS || now - created_at > ABSOLUTE_SECS {
        return Ok(None);
    }
    let Some(staff) = StaffUser::find(conn, staff_id)?.filter(|s| s.disabled_at.is_none()) else {
        return Ok(None);
    };
    Ok(Some(StaffSession {
        id_hash,
        staff,
        csrf,
        lang: Lang::parse(&lang).unwrap_or_default(),
        stale: now - last_seen_at >= 60,
    }))
}

/// Records activity (at most once a minute: see [`StaffSession::stale`]).
pub fn touch(conn: &mut DbConnection, id_hash: &str, now: i64) -> Result<(), DbError> {
    diesel::update(staff_sessions::table.find(id_hash))
        .set(staff_sessions::last_seen_at.eq(now))
        .execute(conn)?;
    Ok(())
}

pub fn set_lang(conn: &mut DbConnection, id_hash: &str, lang: Lang) -> Result<(), DbError> {
    diesel::update(staff_sessions::table.find(id_hash))
        .set(staff_sessions::lang.eq(lang.code()))
        .execute(conn)?;
    Ok(())
}

pub fn end(conn: &mut DbConnection, value: &str) -> Result<(), DbError> {
    diesel::delete(staff_sessions::table.find(hash(value))).execute(conn)?;
    Ok(())
}

/// Deletes idle and too-old staff sessions; answers how many.
pub fn prune(conn: &mut DbConnection, now: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(
        staff_sessions::table.filter(
            staff_sessions::last_seen_at
                .lt(now - IDLE_SECS)
                .or(staff_sessions::created_at.lt(now - ABSOLUTE_SECS)),
        ),
    )
    .execute(conn)?)
}
