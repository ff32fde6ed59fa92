//! The merchant's staff: accounts apart from shoppers, TOTP (RFC 6238) at every log-in and
//! before a refund, two roles, their own sessions and an append-only audit log.

pub mod audit;
pub mod session;

use crate::db::schema::staff_users;
use crate::db::{DbConnection, DbError};
use crate::seal::Sealer;
use diesel::prelude::*;
use totp_rs::{Algorithm, TOTP};

/// What a staff member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything: refunds, staff.
    Owner,
    /// Reading, resending receipts; no refunds.
    Support,
}

impl Role {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "owner" => Some(Self::Owner),
            "support" => Some(Self::Support),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Support => "support",
        }
    }

    pub fn may_refund(self) -> bool {
        self == Self::Owner
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff_users)]
pub struct StaffUser {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub totp_sealed: String,
    pub last_totp_step: i64,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
}

impl StaffUser {
    pub fn role(&self) -> Role {
        // An unknown stored role gets the least rights.
        Role::parse(&self.role).unwrap_or(Role::Support)
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<Self>, DbError> {
        Ok(staff_users::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }

    pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<Self>, DbError> {
        Ok(staff_users::table
            .filter(staff_users::email.eq(email.trim().to_lowercase()))
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }
}

/// Every staff member, oldest first.
pub fn all(conn: &mut DbConnection) -> Result<Vec<StaffUser>, DbError> {
    Ok(staff_users::table
        .order(staff_users::id.asc())
        .select(StaffUser::as_select())
        .load(conn)?)
}

/// Disables (`Some(when)`) or enables (`None`) a member; a disabled member's sessions end.
pub fn set_disabled(conn: &mut DbConnection, id: i64, at: Option<i64>) -> Result<bool, DbError> {
    use crate::db::schema::staff_sessions;
    let changed = diesel::update(staff_users::table.find(id))
        .set(staff_users::disabled_at.eq(at))
        .execute(conn)?;
    if at.is_some() {
        diesel::delete(staff_sessions::table.filter(staff_sessions::staff_id.eq(id)))
            .execute(conn)?;
    }
    Ok(changed == 1)
}

/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "paytr-checkout";

/// Seconds per TOTP step (RFC 6238's default, what every app uses).
const STEP: u64 = 30;

fn totp(secret: Vec<u8>, email: &str) -> Option<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP,
        secret,
        Some(ISSUER.to_owned()),
        email.to_owned(),
    )
    .ok()
}

/// Why a staff member was not added.
#[derive(Debug, thiserror::Error)]
pub enum AddStaffError {
    #[error("{0:?} is not an e-mail address")]
    Email(String),
    #[error("the password must be at least 12 characters")]
    WeakPassword,
    #[error("a staff member with this e-mail exists already")]
    Exists,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Adds a staff member; answers the `otpauth://` URI to put in an authenticator app.
pub fn add(
    conn: &mut DbConnection,
    sealer: &Sealer,
    email: &str,
    role: Role,
    password: &str,
    now: i64,
) -> Result<String, AddStaffError> {
    let email = email.trim().to_lowercase();
    if crate::domain::Email::parse(&email).is_err() || !email.contains('@') {
        return Err(AddStaffError::Email(email));
    }
    if password.chars().count() < 12 {
        return Err(AddStaffError::WeakPassword);
    }
    if StaffUser::find_by_email(conn, &email)?.is_some() {
        return Err(AddStaffError::Exists);
    }
    let secret: [u8; 20] = rand::random();
    let totp = totp(secret.to_vec(), &email).ok_or(AddStaffError::WeakPassword)?;
    diesel::insert_into(staff_users::table)
        .values((
            staff_users::email.eq(&email),
            staff_users::password_hash.eq(crate::accounts::hash_password(password)),
            staff_users::role.eq(role.code()),
            staff_users::totp_sealed.eq(sealer.seal(&totp.get_secret_base32())),
            staff_users::created_at.eq(now),
        ))
        .execute(conn)
        .map_err(DbError::from)?;
    Ok(totp.get_url())
}

/// Checks a TOTP code (this step or one either side) and spends it: a code is accepted once,
/// and never one older than the last accepted (an atomic update, so two at once can't both
/// pass).
pub fn spend_totp(
    conn: &mut DbConnection,
    sealer: &Sealer,
    staff: &StaffUser,
    code: &str,
    now: i64,
) -> Result<bool, DbError> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    let Some(totp) = sealer
        .open(&staff.totp_sealed)
        .and_then(|b32| totp_rs::Secret::Encoded(b32).to_bytes().ok())
        .and_then(|secret| totp(secret, &staff.email))
    else {
        return Ok(false);
    };
    let now = u64::try_from(now).unwrap_or_default();
    let current = now / STEP;
    let matched = [current.saturating_sub(1), current, current + 1]
        .into_iter()
        .find(|step| constant_eq(&totp.generate(step * STEP), code));
    let Some(step) = matched.and_then(|s| i64::try_from(s).ok()) else {
        return Ok(false);
    };
    let spent = diesel::update(
        staff_users::table
            .filter(staff_users::id.eq(staff.id))
            .filter(staff_users::last_totp_step.lt(step)),
    )
    .set(staff_users::last_totp_step.eq(step))
    .execute(conn)?;
    Ok(spent == 1)
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
