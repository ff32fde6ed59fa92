//! Shopper accounts: registration, password check, and the shopper's sealed PayTR `utoken`.

pub mod limiter;

pub use limiter::{LoginThrottle, RateLimiter};

use crate::db::models::{NewUser, User};
use crate::db::schema::{email_tokens, users};
use crate::db::{DbConnection, DbError, unix_now};
use crate::domain::{Email, UserName, ValidationError};
use crate::paytr::Token;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use diesel::prelude::*;
use rand::Rng;
use rand::distributions::Alphanumeric;
use sha2::{Digest, Sha256};

/// The address domain of the shoppers API customers map to: nobody signs in to them and no
/// e-mail is sent to them (the merchant is told by webhook).
pub const API_CUSTOMER_DOMAIN: &str = "@customers.invalid";

/// Whether `email` is the address of a shopper an API customer maps to (never mailed).
pub fn is_api_customer(email: &str) -> bool {
    email.ends_with(API_CUSTOMER_DOMAIN)
}

/// `len` random letters and digits from the OS-seeded generator.
pub fn random_string(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// OWASP's parameters for argon2id (m = 19456 KiB, t = 2, p = 1).
fn argon2_params() -> Params {
    // These constants are valid parameters, so `new` cannot fail.
    Params::new(19_456, 2, 1, None).unwrap_or_default()
}

/// argon2 as the `argon2` crate computes it, with its working memory from [`working_memory`].
/// Verifying goes through `password_hash`'s `PasswordVerifier` (a constant-time comparison).
struct Hasher;

impl PasswordHasher for Hasher {
    type Params = Params;

    fn hash_password_customized<'a>(
        &self,
        password: &[u8],
        algorithm: Option<argon2::password_hash::Ident<'a>>,
        version: Option<argon2::password_hash::Decimal>,
        params: Params,
        salt: impl Into<argon2::password_hash::Salt<'a>>,
    ) -> argon2::password_hash::Result<PasswordHash<'a>> {
        let algorithm = algorithm
            .map(Algorithm::try_from)
            .transpose()?
            .unwrap_or(Algorithm::Argon2id);
        let version = version
            .map(Version::try_from)
            .transpose()?
            .unwrap_or(Version::V0x13);
        let salt = salt.into();
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let memory = working_memory(params.block_count());
        let hash = argon2::password_hash::Output::init_with(output_len, |out| {
            Ok(argon2.hash_password_into_with_memory(password, salt_bytes, out, memory)?)
        })?;
        Ok(PasswordHash {
            algorithm: algorithm.ident(),
            version: Some(version.into()),
            params: (&params).try_into()?,
            salt: Some(salt),
            hash: Some(hash),
        })
    }
}

/// argon2's working memory (`blocks` KiB, 19 MiB here), asked for with a capacity above 32 MiB.
/// glibc serves a large allocation as a mapping of its own, given back when freed, but after
/// such a mapping is freed it raises its threshold for "large" to that size (up to 32 MiB):
/// from the second sign-in on, the 19 MiB came from a thread's heap, which keeps it. Each
/// blocking thread that hashed kept its 19 MiB (two sign-ins: 30 → 68 MB resident). With a
/// capacity above any threshold the memory is always a mapping of its own; only the part
/// written becomes resident, and all of it is returned when the hash is done.
fn working_memory(blocks: usize) -> Vec<argon2::Block> {
    const MAPPED_BLOCKS: usize = 33 * 1024;
    let mut memory = Vec::with_capacity(blocks.max(MAPPED_BLOCKS));
    memory.resize(blocks, argon2::Block::default());
    memory
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Hasher
        .hash_password_customized(password.as_bytes(), None, None, argon2_params(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|parsed| Hasher.verify_password(password.as_bytes(), &parsed).is_ok())
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

/// What a sign-up did. The page answers the same in every case; only the e-mail differs, and
/// it goes to the address's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignUp {
    /// A new account, or one never confirmed (its password and name replaced): a link to
    /// confirm it, which signs the shopper in.
    Confirm { token: String },
    /// The address has an account already: its owner is told someone tried.
    AlreadyRegistered,
}

/// How long a confirmation link works.
pub const CONFIRM_LINK_SECS: i64 = 24 * 60 * 60;

/// Signs up (the password is hashed before this is called, off the async workers). No
/// account is signed in here: the shopper confirms the address first, so this answer can't
/// tell whether the address was taken.
pub fn register(
    conn: &mut DbConnection,
    reg: &Registration,
    password_hash: &str,
) -> Result<SignUp, DbError> {
    let now = unix_now();
    let user = match User::find_by_email(conn, reg.email.as_str())? {
        Some(user) if user.email_verified_at.is_some() => return Ok(SignUp::AlreadyRegistered),
        Some(user) => {
            // Never confirmed: whoever confirms now chooses the password.
            diesel::update(users::table.find(user.id))
                .set((
                    users::password_hash.eq(password_hash),
                    users::full_name.eq(reg.full_name.as_str()),
                ))
                .execute(conn)?;
            user
        }
        None => NewUser {
            email: reg.email.as_str(),
            password_hash,
            full_name: reg.full_name.as_str(),
            created_at: now,
        }
        .insert(conn)?,
    };
    let token = random_string(40);
    diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::token_hash.eq(utoken_hash(&Token::new(token.clone()))),
            email_tokens::user_id.eq(user.id),
            email_tokens::expires_at.eq(now + CONFIRM_LINK_SECS),
        ))
        .execute(conn)?;
    Ok(SignUp::Confirm { token })
}

/// Signs up and tells the address's owner by e-mail (queued in the same transaction): the
/// confirmation link, or that the address has an account already.
pub fn sign_up(
    conn: &mut DbConnection,
    reg: &Registration,
    password_hash: &str,
    lang: crate::domain::Lang,
    mail: &crate::mail::MailCtx,
) -> Result<(), DbError> {
    use diesel::Connection;
    let (base, to) = (&mail.base_url, reg.email.as_str());
    conn.transaction(|conn| {
        let outgoing = match register(conn, reg, password_hash)? {
            SignUp::Confirm { token } => {
                let link = format!("{base}/register/confirm/{token}");
                crate::mail::confirmation(mail, lang, to, &link)
            }
            SignUp::AlreadyRegistered => {
                crate::mail::already_registered(mail, lang, to, &format!("{base}/login"))
            }
        };
        crate::mail::enqueue(conn, &outgoing)
    })
}

const PURPOSE_CONFIRM: &str = "confirm";
const PURPOSE_RESET: &str = "reset";
/// How long a password reset link works.
pub const RESET_LINK_SECS: i64 = 60 * 60;

/// Uses a one-time link of `purpose`: its user, once (of two uses at the same moment, one
/// changes the row), if unused and unexpired.
fn use_token(
    conn: &mut DbConnection,
    hash: &str,
    purpose: &str,
    now: i64,
) -> Result<Option<i64>, DbError> {
    let user_id: Option<i64> = email_tokens::table
        .find(hash)
        .filter(email_tokens::purpose.eq(purpose))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(now))
        .select(email_tokens::user_id)
        .first(conn)
        .optional()?;
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    let used = diesel::update(
        email_tokens::table
            .find(hash)
            .filter(email_tokens::used_at.is_null()),
    )
    .set(email_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok((used == 1).then_some(user_id))
}

/// A password reset was asked for `email`: for an existing account, a single-use link (only
/// its SHA-256 kept, one hour) is mailed in the same transaction. Nothing tells the caller
/// whether the account exists.
pub fn request_password_reset(
    conn: &mut DbConnection,
    email: &str,
    lang: crate::domain::Lang,
    mail: &crate::mail::MailCtx,
) -> Result<(), DbError> {
    use diesel::Connection;
    conn.transaction(|conn| {
        let Some(user) = User::find_by_email(conn, email)? else {
            return Ok(());
        };
        let now = unix_now();
        let token = random_string(40);
        diesel::insert_into(email_tokens::table)
            .values((
                email_tokens::token_hash.eq(utoken_hash(&Token::new(token.clone()))),
                email_tokens::user_id.eq(user.id),
                email_tokens::expires_at.eq(now + RESET_LINK_SECS),
                email_tokens::purpose.eq(PURPOSE_RESET),
            ))
            .execute(conn)?;
        let link = format!("{}/password/reset/{token}", mail.base_url);
        crate::mail::enqueue(
            conn,
            &crate::mail::password_reset(mail, lang, &user.email, &link),
        )
    })
}

/// Whether `token` is a reset link that can still be used (the form is shown for it).
pub fn reset_link_valid(conn: &mut DbConnection, token: &str) -> Result<bool, DbError> {
    let hash = utoken_hash(&Token::new(token));
    Ok(email_tokens::table
        .find(&hash)
        .filter(email_tokens::purpose.eq(PURPOSE_RESET))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(unix_now()))
        .count()
        .get_result::<i64>(conn)?
        == 1)
}

/// Uses a reset link once: the new password is set, the address counts as confirmed (the link
/// proved it), every other reset link of the account dies and every session of the account
/// ends. `None` if the link is unknown, used or expired.
pub fn reset_password(
    conn: &mut DbConnection,
    token: &str,
    password_hash: &str,
) -> Result<Option<i64>, DbError> {
    use diesel::Connection;
    conn.transaction(|conn| {
        let now = unix_now();
        let hash = utoken_hash(&Token::new(token));
        let Some(user_id) = use_token(conn, &hash, PURPOSE_RESET, now)? else {
            return Ok(None);
        };
        diesel::update(users::table.find(user_id))
            .set(users::password_hash.eq(password_hash))
            .execute(conn)?;
        diesel::update(
            users::table
                .find(user_id)
                .filter(users::email_verified_at.is_null()),
        )
        .set(users::email_verified_at.eq(now))
        .execute(conn)?;
        diesel::update(
            email_tokens::table
                .filter(email_tokens::user_id.eq(user_id))
                .filter(email_tokens::purpose.eq(PURPOSE_RESET))
                .filter(email_tokens::used_at.is_null()),
        )
        .set(email_tokens::used_at.eq(now))
        .execute(conn)?;
        diesel::delete(
            crate::db::schema::sessions::table
                .filter(crate::db::schema::sessions::user_id.eq(user_id)),
        )
        .execute(conn)?;
        Ok(Some(user_id))
    })
}

/// Whether a new password is acceptable (the sign-up rule).
pub fn password_ok(password: &str) -> bool {
    (10..=128).contains(&password.chars().count())
}

/// Uses a confirmation link once: the account is confirmed and returned (to sign in).
pub fn confirm_email(conn: &mut DbConnection, token: &str) -> Result<Option<User>, DbError> {
    let now = unix_now();
    let hash = utoken_hash(&Token::new(token));
    let Some(user_id) = use_token(conn, &hash, PURPOSE_CONFIRM, now)? else {
        return Ok(None);
    };
    diesel::update(
        users::table
            .find(user_id)
            .filter(users::email_verified_at.is_null()),
    )
    .set(users::email_verified_at.eq(now))
    .execute(conn)?;
    find_user(conn, user_id)
}

/// A hash to verify against when the e-mail is unknown, so both paths take the same time.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not the password of anyone"))
}

pub fn find_user(conn: &mut DbConnection, id: i64) -> Result<Option<User>, DbError> {
    Ok(crate::native!(conn, |c| users::table
        .find(id)
        .select(User::as_select())
        .get_result(c)
        .optional())?)
}

/// SHA-256 of a utoken, hex: what the unique index on `users.utoken_hash` compares.
pub fn utoken_hash(utoken: &Token) -> String {
    crate::paytr::hex(&Sha256::digest(utoken.expose().as_bytes()))
}

/// What [`bind_utoken`] did with a `utoken` that came back in a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// The shopper had none; this one is theirs now.
    Bound,
    /// The shopper's own utoken came back (a further card, or a saved-card payment).
    AlreadyTheirs,
    /// Not bound; the reason is a security event.
    Refused(&'static str),
}

/// Binds a notification's `utoken` to the shopper of the paid order, only when our own records
/// prove it is theirs.
///
/// Why the rule: PayTR's `paytr_token` signs neither `utoken` nor `store_card`, so whoever holds
/// a payment form can add `store_card=1` and *their own* `utoken` before posting it to PayTR.
/// The payment goes through, and the notification then carries the stranger's `utoken`. Bound
/// blindly, every card the shopper saves afterwards would land in the stranger's card list (and
/// could be charged from the stranger's subscription). So a `utoken` is bound only if:
/// - the attempt was ours to store a card (`store_card` offered to this signed-in shopper);
/// - the shopper has no utoken yet (then the form we rendered carried none either: a shopper's
///   utoken is never removed, so "none now" implies "none when the form was rendered");
/// - no other shopper holds it (also enforced by the unique index on `users.utoken_hash`).
///
/// A shopper's own utoken coming back changes nothing. Anything else is refused and becomes a
/// security event, and both shoppers' card lists are left untouched.
pub fn bind_utoken(
    conn: &mut DbConnection,
    user_id: i64,
    store_card_offered: bool,
    utoken: &Token,
    sealed: &str,
) -> Result<Binding, DbError> {
    let hash = utoken_hash(utoken);
    let Some(user) = find_user(conn, user_id)? else {
        return Ok(Binding::Refused("no_such_shopper"));
    };
    if user.utoken_hash.as_deref() == Some(hash.as_str()) {
        return Ok(Binding::AlreadyTheirs);
    }
    if user.utoken_sealed.is_some() {
        return Ok(Binding::Refused("shopper_has_another_utoken"));
    }
    if !store_card_offered {
        return Ok(Binding::Refused("store_card_not_offered"));
    }
    let holder: Option<i64> = users::table
        .filter(users::utoken_hash.eq(&hash))
        .select(users::id)
        .first(conn)
        .optional()?;
    if holder.is_some() {
        return Ok(Binding::Refused("utoken_of_another_shopper"));
    }
    let changed = diesel::update(
        users::table
            .find(user_id)
            .filter(users::utoken_sealed.is_null()),
    )
    .set((
        users::utoken_sealed.eq(sealed),
        users::utoken_hash.eq(&hash),
    ))
    .execute(conn)?;
    Ok(if changed == 1 {
        Binding::Bound
    } else {
        Binding::Refused("shopper_has_another_utoken")
    })
}

/// The plain text sealed into `app_meta` to recognise the right `DATA_KEY`.
const KEY_CHECK_TEXT: &str = "paytr-checkout DATA_KEY check v1";
const KEY_CHECK_NAME: &str = "data_key_check";

/// Why the database can't be used with this `DATA_KEY`.
#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError {
    #[error(
        "DATA_KEY is not the key this database's saved cards were sealed with: they would be unreachable. Set the DATA_KEY used before (or restore DATA_DIR/secrets.json)"
    )]
    WrongKey,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Checks `DATA_KEY` against the check value stored with the database (storing one the first
/// time), so a wrong key stops start-up and `billing run-due` with a clear message instead of
/// silently treating every saved card as missing. Also fills in `utoken_hash` for utokens
/// sealed before it existed.
pub fn verify_data_key(
    conn: &mut DbConnection,
    sealer: &crate::seal::Sealer,
) -> Result<(), KeyCheckError> {
    use crate::db::schema::app_meta;
    let stored: Option<String> = app_meta::table
        .find(KEY_CHECK_NAME)
        .select(app_meta::value)
        .first(conn)
        .optional()
        .map_err(DbError::from)?;
    let sealed_users: Vec<(i64, String, Option<String>)> = users::table
        .filter(users::utoken_sealed.is_not_null())
        .select((
            users::id,
            users::utoken_sealed.assume_not_null(),
            users::utoken_hash,
        ))
        .load(conn)
        .map_err(DbError::from)?;
    match stored {
        Some(check) if sealer.open(&check).as_deref() != Some(KEY_CHECK_TEXT) => {
            return Err(KeyCheckError::WrongKey);
        }
        Some(_) => {}
        None => {
            // A database from before the check: any sealed utoken tells whether the key fits.
            if let Some((_, sealed, _)) = sealed_users.first()
                && sealer.open(sealed).is_none()
            {
                return Err(KeyCheckError::WrongKey);
            }
            // Instances starting together on a new database: one check is stored, and the
            // others' keys are compared with it.
            let check = sealer.seal(KEY_CHECK_TEXT);
            crate::native!(conn, |c| diesel::insert_into(app_meta::table)
                .values((
                    app_meta::name.eq(KEY_CHECK_NAME),
                    app_meta::value.eq(&check),
                ))
                .on_conflict_do_nothing()
                .execute(c))
            .map_err(DbError::from)?;
            let stored: String = app_meta::table
                .filter(app_meta::name.eq(KEY_CHECK_NAME))
                .select(app_meta::value)
                .first(conn)
                .map_err(DbError::from)?;
            if sealer.open(&stored).as_deref() != Some(KEY_CHECK_TEXT) {
                return Err(KeyCheckError::WrongKey);
            }
        }
    }
    for (id, sealed, hash) in sealed_users {
        if hash.is_none()
            && let Some(utoken) = sealer.open(&sealed)
        {
            diesel::update(users::table.find(id))
                .set(users::utoken_hash.eq(utoken_hash(&Token::new(utoken))))
                .execute(conn)
                .map_err(DbError::from)?;
        }
    }
    Ok(())
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
    fn password_hashes_are_the_argon2_crates_both_ways() {
        // Hashes stored before (made by the crate's own hasher) still verify, and ours verify
        // with the crate's verifier.
        let salt = SaltString::generate(&mut OsRng);
        let crates = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon2_params())
            .hash_password(b"correct horse battery", &salt)
            .expect("hash")
            .to_string();
        assert!(verify_password("correct horse battery", &crates));
        assert!(!verify_password("correct horse batterY", &crates));
        let ours = hash_password("correct horse battery");
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        // Other parameters in a stored hash are honoured.
        let light = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).expect("params"),
        )
        .hash_password(b"pw", &salt)
        .expect("hash")
        .to_string();
        assert!(verify_password("pw", &light));
        assert!(!verify_password("pW", &light));
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
