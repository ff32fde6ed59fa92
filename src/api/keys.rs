//! Merchants' API keys: `pk_test_…` (sandbox and PayTR test mode) or `pk_live_…`, shown once
//! and kept only as a SHA-256, each with the origins its `success_url`/`cancel_url` may use.

use crate::accounts::random_string;
use crate::db::schema::api_keys;
use crate::db::{DbConnection, DbError, unix_now};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: i64,
    pub public_id: String,
    pub name: String,
    pub prefix: String,
    pub mode: String,
    pub allowed_origins: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// `test` when payments go to the sandbox or to PayTR in test mode, else `live`.
pub fn mode_of(test_mode: bool) -> &'static str {
    if test_mode { "test" } else { "live" }
}

/// `https://shop.example` from `https://shop.example/`, or why it is not an origin.
pub fn origin(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text.trim()).map_err(|_| format!("{text:?} is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("{text:?} is not an http(s) origin"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{text:?} has a path: give only scheme, host and port"
        ));
    }
    Ok(url.origin().ascii_serialization())
}

impl ApiKey {
    /// Whether `url` is an absolute http(s) URL on one of this key's origins.
    pub fn allows_url(&self, url: &str) -> bool {
        let Ok(parsed) = url::Url::parse(url) else {
            return false;
        };
        matches!(parsed.scheme(), "http" | "https")
            && self
                .allowed_origins
                .lines()
                .any(|o| o == parsed.origin().ascii_serialization())
    }
}

/// Creates a key; returns its row and the key itself (shown once, never stored).
pub fn create(
    conn: &mut DbConnection,
    name: &str,
    mode: &str,
    origins: &[String],
) -> Result<(ApiKey, String), DbError> {
    let key = format!("pk_{mode}_{}", random_string(32));
    let public_id = format!("key_{}", random_string(16));
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::public_id.eq(&public_id),
            api_keys::name.eq(name),
            api_keys::prefix.eq(&key[..12]),
            api_keys::key_hash.eq(crate::sessions::id_hash(&key)),
            api_keys::mode.eq(mode),
            api_keys::allowed_origins.eq(origins.join("\n")),
            api_keys::created_at.eq(unix_now()),
        ))
        .execute(conn)?;
    let row = api_keys::table
        .filter(api_keys::public_id.eq(&public_id))
        .select(ApiKey::as_select())
        .get_result(conn)?;
    Ok((row, key))
}

/// The unrevoked key whose SHA-256 is that of `key`.
pub fn find(conn: &mut DbConnection, key: &str) -> Result<Option<ApiKey>, DbError> {
    Ok(api_keys::table
        .filter(api_keys::key_hash.eq(crate::sessions::id_hash(key)))
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKey::as_select())
        .get_result(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<ApiKey>, DbError> {
    Ok(api_keys::table
        .order(api_keys::id.asc())
        .select(ApiKey::as_select())
        .load(conn)?)
}

/// Revokes the key `public_id`; whether there was one to revoke.
pub fn revoke(conn: &mut DbConnection, public_id: &str) -> Result<bool, DbError> {
    Ok(diesel::update(
        api_keys::table
            .filter(api_keys::public_id.eq(public_id))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(unix_now()))
    .execute(conn)?
        == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert_eq!(
            origin("https://Shop.example/").as_deref(),
            Ok("https://shop.example")
        );
        assert_eq!(
            origin("http://127.0.0.1:8080").as_deref(),
            Ok("http://127.0.0.1:8080")
        );
        assert!(origin("https://shop.example/return").is_err());
        assert!(origin("javascript:alert(1)").is_err());
        assert!(origin("shop.example").is_err());
    }

    #[test]
    fn a_key_allows_urls_on_its_origins_only() {
        let key = ApiKey {
            id: 1,
            public_id: "key_x".into(),
            name: "n".into(),
            prefix: "pk_test_abcd".into(),
            mode: "test".into(),
            allowed_origins: "https://shop.example\nhttp://127.0.0.1:9000".into(),
            created_at: 0,
            revoked_at: None,
        };
        assert!(key.allows_url("https://shop.example/thanks?x=1"));
        assert!(key.allows_url("http://127.0.0.1:9000/cancel"));
        assert!(!key.allows_url("https://shop.example.evil.test/thanks"));
        assert!(!key.allows_url("http://shop.example/thanks"));
        assert!(!key.allows_url("/relative"));
    }
}
