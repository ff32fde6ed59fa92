//! Server-side sessions in the database, behind actix-session.
//!
//! The cookie carries only a random id (encrypted by actix-session); the table keeps its
//! SHA-256, so a database reader can't replay a session. Idle (30 min) and absolute (12 h)
//! timeouts are enforced here, on the server, whatever the cookie says.

use crate::db::schema::sessions;
use crate::db::{Db, unix_now};
use crate::paytr::Token;
use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use diesel::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub const IDLE_TIMEOUT_SECS: i64 = 30 * 60;
pub const ABSOLUTE_TIMEOUT_SECS: i64 = 12 * 60 * 60;

type State = HashMap<String, String>;

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

fn id_hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn user_id(state: &State) -> Option<i64> {
    state.get("user_id").and_then(|v| v.parse().ok())
}

fn new_key() -> String {
    crate::accounts::random_string(64)
}

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        let hash = id_hash(key.as_ref());
        let row = self
            .db
            .run(move |conn| {
                let now = unix_now();
                let row: Option<(String, i64, i64)> = sessions::table
                    .filter(sessions::id_hash.eq(&hash))
                    .select((sessions::data, sessions::created_at, sessions::last_seen_at))
                    .first(conn)
                    .optional()?;
                match row {
                    Some((_, created, seen))
                        if now - seen > IDLE_TIMEOUT_SECS
                            || now - created > ABSOLUTE_TIMEOUT_SECS =>
                    {
                        diesel::delete(sessions::table.filter(sessions::id_hash.eq(&hash)))
                            .execute(conn)?;
                        Ok(None)
                    }
                    other => Ok(other.map(|(data, _, _)| data)),
                }
            })
            .await
            .map_err(|e| LoadError::Other(e.into()))?;
        row.map(|data| {
            serde_json::from_str(&data).map_err(|e| LoadError::Deserialization(e.into()))
        })
        .transpose()
    }

    async fn save(&self, state: State, _ttl: &Duration) -> Result<SessionKey, SaveError> {
        let key = new_key();
        let (hash, data) = (
            id_hash(&key),
            serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?,
        );
        let uid = user_id(&state);
        self.db
            .run(move |conn| {
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
            .await
            .map_err(|e| SaveError::Other(e.into()))?;
        tracing::debug!(session = %Token::new(key.clone()).hint(), "session created");
        SessionKey::try_from(key).map_err(|e| SaveError::Other(e.into()))
    }

    async fn update(
        &self,
        key: SessionKey,
        state: State,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let hash = id_hash(key.as_ref());
        let data =
            serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let uid = user_id(&state);
        let updated = self
            .db
            .run(move |conn| {
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
            .await
            .map_err(|e| UpdateError::Other(e.into()))?;
        if updated == 1 {
            Ok(key)
        } else {
            // The session expired or was ended meanwhile: start a fresh one.
            self.save(state, ttl)
                .await
                .map_err(|e| UpdateError::Other(anyhow::anyhow!(e.to_string())))
        }
    }

    async fn update_ttl(&self, key: &SessionKey, _ttl: &Duration) -> Result<(), anyhow::Error> {
        let hash = id_hash(key.as_ref());
        self.db
            .run(move |conn| {
                let now = unix_now();
                // Touch at most once a minute: reads stay cheap, idle expiry stays accurate.
                diesel::update(
                    sessions::table
                        .filter(sessions::id_hash.eq(hash))
                        .filter(sessions::last_seen_at.lt(now - 60)),
                )
                .set(sessions::last_seen_at.eq(now))
                .execute(conn)?;
                Ok(())
            })
            .await?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        let hash = id_hash(key.as_ref());
        self.db
            .run(move |conn| {
                diesel::delete(sessions::table.filter(sessions::id_hash.eq(hash))).execute(conn)?;
                Ok(())
            })
            .await?;
        Ok(())
    }
}
