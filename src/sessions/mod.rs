//! Server-side sessions in the database, with a middleware of our own.
//!
//! The cookie carries only a random id (`cookies`); the table keeps its SHA-256, so a database
//! reader can't replay a session. Idle (30 min) and absolute (12 h) timeouts are enforced
//! here, on the server, whatever the cookie says. An anonymous visitor whose session holds
//! only a CSRF token and a language gets no row at all: that state rides in the cookie, under
//! a MAC (`cookies`), so cookieless traffic writes nothing to the database.
//!
//! It replaced actix-session, whose middleware (cookie jar, state map, boxed store futures)
//! and AES-GCM decryption were 12% of a signed-in shopper's payment page (`bench/README.md`,
//! seventh round); the handlers' API ([`Session`]'s `get`, `insert`, `remove`, `renew`,
//! `purge`) is the same.

mod cookies;
mod middleware;
mod state;

pub use cookies::SessionCookies;
pub use middleware::{Prefetch, Prefetched, Session, SessionExt, SessionMiddleware, SessionStatus};

use crate::db::schema::sessions;
use crate::db::{Db, DbError, unix_now};
use crate::paytr::Token;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

/// The session's keys, in one place.
pub mod keys {
    pub const LANG: &str = "lang";
    /// The signed-in shopper ([`crate::routes::ctx::SessionUser`]).
    pub const USER: &str = "user";
    /// The signed-in shopper's id, also read by the session store (it indexes sessions by it).
    pub const USER_ID: &str = "user_id";
    pub const CSRF: &str = "csrf";
    pub const CART: &str = "cart";
    /// The order the cart was placed as: the cart is emptied only once that order is paid.
    pub const CART_ORDER: &str = "cart_order";
    /// The billing form's last values.
    pub const BILLING: &str = "billing";
    /// Guest orders this session placed (their owner's proof).
    pub const GUEST_ORDERS: &str = "guest_orders";
    /// Orders of hosted checkout sessions this browser opened (the session's URL is the proof).
    pub const HOSTED_ORDERS: &str = "hosted_orders";
    /// Where to go after logging in or confirming a sign-up (a path of ours).
    pub const RETURN_TO: &str = "return_to";
}

pub const IDLE_TIMEOUT_SECS: i64 = 30 * 60;
pub const ABSOLUTE_TIMEOUT_SECS: i64 = 12 * 60 * 60;
/// How stale `last_seen_at` may get before a request refreshes it.
const TOUCH_EVERY_SECS: i64 = 60;

pub use state::State;

/// The session store; cheap to clone.
#[derive(Clone)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

/// SHA-256 in hex: session ids and API keys are stored only this way.
pub fn id_hash(key: &str) -> String {
    crate::paytr::hex(&Sha256::digest(key.as_bytes()))
}

fn user_id(state: &State) -> Option<i64> {
    state.get(keys::USER_ID).and_then(|v| v.parse().ok())
}

/// A session's state as the `data` column keeps it: `key\nvalue\nkey\nvalue…`. Each value is
/// the JSON text actix-session made of it (compact: a raw newline only ever appears escaped),
/// so it is kept as it is. It was a JSON object of those texts, which escaped every quote inside
/// them and had to be parsed (unescaped, allocated) on every request: 4.6% of a payment page's
/// instructions (`bench/README.md`). A state that could not be read back this way (an empty key,
/// a newline in a key or a value, a key starting with `{`) is still written as a JSON object, and
/// rows written as JSON objects are read as before.
fn encode_state(state: &State) -> Result<String, serde_json::Error> {
    let plain = state.iter().all(|(k, v)| {
        !k.is_empty() && !k.contains('\n') && !k.starts_with('{') && !v.contains('\n')
    });
    if !plain {
        return serde_json::to_string(&state.to_map());
    }
    let mut data = String::with_capacity(state.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (key, value) in state.iter() {
        if !data.is_empty() {
            data.push('\n');
        }
        data.push_str(key);
        data.push('\n');
        data.push_str(value);
    }
    Ok(data)
}

/// Reads what [`encode_state`] wrote (either form).
fn decode_state(data: String) -> Result<State, serde_json::Error> {
    if data.starts_with('{') {
        return State::from_json(&data);
    }
    State::from_plain(data).map_err(serde::de::Error::custom)
}

fn new_key() -> String {
    crate::accounts::random_string(cookies::ID_LEN)
}

/// Keys of an anonymous visitor's session that are not worth a database row.
const LIGHT_KEYS: [&str; 2] = [keys::CSRF, keys::LANG];

/// Only a CSRF token and a language: an anonymous visitor, kept in the cookie alone, so a
/// stream of cookieless requests writes nothing to the database.
fn is_light(state: &State) -> bool {
    state.keys().all(|k| LIGHT_KEYS.contains(&k))
}

fn encoding_failed(e: serde_json::Error) -> DbError {
    DbError::Query(diesel::result::Error::SerializationError(Box::new(e)))
}

impl DbSessionStore {
    /// Deletes sessions past their idle or absolute timeout; returns how many.
    pub async fn prune(&self) -> Result<usize, crate::db::DbError> {
        self.db
            .write(|conn| {
                let now = unix_now();
                let shoppers = diesel::delete(
                    sessions::table.filter(
                        sessions::last_seen_at
                            .lt(now - IDLE_TIMEOUT_SECS)
                            .or(sessions::created_at.lt(now - ABSOLUTE_TIMEOUT_SECS)),
                    ),
                )
                .execute(conn)?;
                crate::accounts::limiter::shared::prune(conn, now)?;
                Ok(shoppers + crate::staff::session::prune(conn, now)?)
            })
            .await
    }

    /// Prunes expired sessions (shoppers' and staff's) every ten minutes, so anonymous visits don't pile up rows.
    pub fn spawn_pruning(&self) {
        let store = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
            loop {
                every.tick().await;
                match store.prune().await {
                    Ok(n) if n > 0 => tracing::info!(sessions = n, "expired sessions removed"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
                }
            }
        });
    }
}

/// A session's row: its state's text, when it was created and last seen.
type SessionRow = (String, i64, i64);

thread_local! {
    /// Session rows this worker read recently (`db::recent`), by id hash.
    static RECENT: std::cell::RefCell<crate::db::recent::Recent<SessionRow>> =
        const { std::cell::RefCell::new(crate::db::recent::Recent::new()) };
}

impl DbSessionStore {
    /// The live session `id` names: `None` when unknown, idle or too old (then deleted). A
    /// row whose data can't be read is an empty session under the same id.
    pub async fn load(&self, id: &str) -> Result<Option<State>, DbError> {
        Ok(self.load_then(id, None).await?.0)
    }

    /// [`DbSessionStore::load`], then `then` on the same connection when a row was found (on
    /// PostgreSQL: the same blocking thread, see [`Prefetch`]); a failure of either is the
    /// load's (the connection is then checked as it goes back to the pool).
    pub async fn load_then(
        &self,
        id: &str,
        then: Option<Prefetch>,
    ) -> Result<(Option<State>, Option<Prefetched>), DbError> {
        let hash = id_hash(id);
        // On SQLite, the row as a request read it a moment ago when nothing was written since
        // (`db::recent`): still checked for its age below, as a row just read.
        let stamp = self.db.read_stamp();
        if then.is_none()
            && let Some(row) =
                stamp.and_then(|now| RECENT.with_borrow(|rows| rows.get(&hash, &now)))
        {
            crate::db::recent::count("session", true);
            return Ok((self.live_state(id, hash, Some(row)).await?, None));
        }
        let (row, prefetched) = self
            .db
            // On SQLite its transaction stays open for the page's first read (one snapshot,
            // one WAL read lock: `db::RequestReads`).
            .read_held({
                let hash = hash.clone();
                move |conn| {
                    // `id_hash` is unique: no LIMIT to bind.
                    let row: Option<SessionRow> = crate::native!(conn, |c| {
                        sessions::table
                            .filter(sessions::id_hash.eq(&hash))
                            .select((sessions::data, sessions::created_at, sessions::last_seen_at))
                            .get_result(c)
                            .optional()
                    })?;
                    let prefetched = match (&row, then) {
                        (Some(_), Some(then)) => Some(Prefetched::new(then(conn)?)),
                        _ => None,
                    };
                    Ok((row, prefetched))
                }
            })
            .await?;
        if let (Some(stamp), Some(row)) = (stamp, &row) {
            crate::db::recent::count("session", false);
            RECENT.with_borrow_mut(|rows| rows.put(&hash, stamp, row.clone()));
        }
        Ok((self.live_state(id, hash, row).await?, prefetched))
    }

    /// The state of a session row just read, if it is still live.
    async fn live_state(
        &self,
        id: &str,
        hash: String,
        row: Option<SessionRow>,
    ) -> Result<Option<State>, DbError> {
        let Some((data, created, seen)) = row else {
            return Ok(None);
        };
        let now = unix_now();
        if now - seen > IDLE_TIMEOUT_SECS || now - created > ABSOLUTE_TIMEOUT_SECS {
            self.delete(id).await?;
            return Ok(None);
        }
        if now - seen > TOUCH_EVERY_SECS {
            // Activity keeps the session alive; written at most once a minute, so reads stay reads.
            self.db
                .write(move |conn| {
                    diesel::update(sessions::table.filter(sessions::id_hash.eq(hash)))
                        .set(sessions::last_seen_at.eq(now))
                        .execute(conn)?;
                    Ok(())
                })
                .await?;
        }
        Ok(Some(decode_state(data).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "a session's data could not be read: it starts empty");
            State::new()
        })))
    }

    /// A new session row holding `state`; answers its id (never stored).
    pub async fn save(&self, state: &State) -> Result<String, DbError> {
        let key = new_key();
        let (hash, data) = (id_hash(&key), encode_state(state).map_err(encoding_failed)?);
        let uid = user_id(state);
        self.db
            .write(move |conn| {
                let now = unix_now();
                diesel::insert_into(sessions::table)
                    .values((
                        sessions::id_hash.eq(hash),
                        sessions::user_id.eq(uid),
                        sessions::data.eq(data),
                        sessions::created_at.eq(now),
                        sessions::last_seen_at.eq(now),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .await?;
        tracing::debug!(session = %Token::new(key.clone()).hint(), "session created");
        Ok(key)
    }

    /// Writes `state` over session `id`'s; `false` if the session is gone (expired, or ended by
    /// a log-out while this request ran: it is never brought back).
    pub async fn update(&self, id: &str, state: &State) -> Result<bool, DbError> {
        let hash = id_hash(id);
        let data = encode_state(state).map_err(encoding_failed)?;
        let uid = user_id(state);
        let updated = self
            .db
            .write(move |conn| {
                Ok(
                    diesel::update(sessions::table.filter(sessions::id_hash.eq(hash)))
                        .set((
                            sessions::data.eq(data),
                            sessions::user_id.eq(uid),
                            sessions::last_seen_at.eq(unix_now()),
                        ))
                        .execute(conn)?,
                )
            })
            .await?;
        Ok(updated == 1)
    }

    pub async fn delete(&self, id: &str) -> Result<(), DbError> {
        let hash = id_hash(id);
        self.db
            .write(move |conn| {
                diesel::delete(sessions::table.filter(sessions::id_hash.eq(hash))).execute(conn)?;
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(pairs: &[(&str, &str)]) -> State {
        pairs.iter().copied().collect()
    }

    #[test]
    fn a_state_is_kept_as_its_json_texts_and_read_back_whole() {
        let user = serde_json::to_string(&serde_json::json!({
            "id": 7, "full_name": "Ayşe \"Yılmaz\"\nKadıköy", "email": "a@example.com"
        }))
        .expect("json");
        let original = state(&[
            (keys::USER, &user),
            (keys::CSRF, "\"abc\""),
            (keys::CART, "[{\"slug\":\"lokum\",\"quantity\":2}]"),
            (keys::USER_ID, "7"),
        ]);
        let data = encode_state(&original).expect("encode");
        assert!(!data.starts_with('{'), "not a JSON object: {data}");
        assert!(data.contains(&user), "each value as actix-session wrote it");
        assert_eq!(decode_state(data).expect("decode"), original);
        assert_eq!(
            decode_state(encode_state(&State::new()).expect("empty")).expect("empty"),
            State::new()
        );
    }

    #[test]
    fn a_state_the_plain_form_cannot_hold_is_a_json_object_and_old_rows_still_read() {
        for odd in [
            state(&[("note", "line one\nline two"), (keys::CSRF, "\"x\"")]),
            state(&[("{key", "1")]),
            state(&[("", "1")]),
        ] {
            let data = encode_state(&odd).expect("encode");
            assert!(data.starts_with('{'), "{data}");
            assert_eq!(decode_state(data).expect("decode"), odd);
        }
        // A row written before this form: a JSON object of JSON texts.
        let old = r#"{"user_id":"1","csrf":"\"IPPvaTk5\"","cart":"[{\"slug\":\"lokum\",\"quantity\":1}]"}"#;
        let read = decode_state(old.to_owned()).expect("old row");
        assert_eq!(read.get(keys::CSRF), Some("\"IPPvaTk5\""));
        assert_eq!(read.len(), 3);
        // Damaged data is an error, not a half-read state.
        assert!(decode_state("csrf".to_owned()).is_err());
        assert!(decode_state("{broken".to_owned()).is_err());
    }
}
