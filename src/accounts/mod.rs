//! Shopper accounts: registration, password check, and the shopper's sealed PayTR `utoken`.

mod limiter;

pub use limiter::RateLimiter;

use crate::db::models::{NewUser, User};
use crate::db::schema::users;
use crate::db::{DbConnection, DbError, unix_now};
use crate::domain::{Email, UserName, ValidationError};
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use diesel::prelude::*;
use rand::Rng;
use rand::distributions::Alphanumeric;

/// `len` random letters and digits from the OS-seeded generator.
pub fn random_string(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// argon2id with OWASP's parameters (m = 19456 KiB, t = 2, p = 1).
fn argon2() -> Argon2<'static> {
    // These constants are valid parameters, so `new` cannot fail.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A registration form, validated: each error names its field.
pub struct Registration {
    pub email: Email,
    pub full_name: UserName,
    pub password: String,
}

impl Registration {
    pub fn parse(
        email: &str,
        full_name: &str,
        password: &str,
    ) -> Result<Self, Vec<ValidationError>> {
        let mut errors = Vec::new();
        let email = Email::parse(&email.to_lowercase())
            .map_err(|e| errors.push(e))
            .ok();
        let full_name = UserName::parse(full_name).map_err(|e| errors.push(e)).ok();
        let length = password.chars().count();
        if !(10..=128).contains(&length) {
            errors.push(ValidationError::new(
                "password",
                "must be 10 to 128 characters long",
            ));
        }
        match (email, full_name) {
            (Some(email), Some(full_name)) if errors.is_empty() => Ok(Self {
                email,
                full_name,
                password: password.to_owned(),
            }),
            _ => Err(errors),
        }
    }
}

/// Why a registration did not create an account.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("an account with this e-mail already exists")]
    Taken,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Creates the account (the password is hashed before this is called, off the async workers).
pub fn register(
    conn: &mut DbConnection,
    reg: &Registration,
    password_hash: &str,
) -> Result<User, RegisterError> {
    if User::find_by_email(conn, reg.email.as_str())?.is_some() {
        return Err(RegisterError::Taken);
    }
    NewUser {
        email: reg.email.as_str(),
        password_hash,
        full_name: reg.full_name.as_str(),
        created_at: unix_now(),
    }
    .insert(conn)
    .map_err(|e| match User::find_by_email(conn, reg.email.as_str()) {
        Ok(Some(_)) => RegisterError::Taken,
        _ => RegisterError::Db(e),
    })
}

/// A hash to verify against when the e-mail is unknown, so both paths take the same time.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not the password of anyone"))
}

pub fn find_user(conn: &mut DbConnection, id: i64) -> Result<Option<User>, DbError> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Stores the shopper's sealed utoken unless one is already on file (cards stay grouped).
pub fn store_utoken_if_none(
    conn: &mut DbConnection,
    user_id: i64,
    sealed: &str,
) -> Result<bool, DbError> {
    let changed = diesel::update(
        users::table
            .find(user_id)
            .filter(users::utoken_sealed.is_null()),
    )
    .set(users::utoken_sealed.eq(sealed))
    .execute(conn)?;
    Ok(changed == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn registration_errors_name_their_fields() {
        let errors = Registration::parse("nope", "", "short")
            .err()
            .unwrap_or_default();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["email", "user_name", "password"]);
        let ok = Registration::parse("Ayse@Example.com", "Ayşe Yılmaz", "long enough pw").ok();
        assert_eq!(
            ok.map(|r| r.email.as_str().to_owned()).as_deref(),
            Some("ayse@example.com")
        );
    }
}
