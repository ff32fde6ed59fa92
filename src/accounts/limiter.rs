//! Rate limits in memory (per instance), bounded: keys are kept as 64-bit keyed hashes (a
//! 250 kB e-mail costs the same 8 bytes as a short one) and each table holds at most
//! [`MAX_KEYS`] keys, dropping the stalest when full.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most keys one limiter keeps (about 40 bytes each).
pub const MAX_KEYS: usize = 50_000;

/// A table of per-key values with a time of last use, bounded in size.
struct Table<V> {
    hasher: RandomState,
    entries: HashMap<u64, (Instant, V)>,
}

impl<V> Table<V> {
    fn new() -> Self {
        Self {
            hasher: RandomState::new(),
            entries: HashMap::new(),
        }
    }

    fn key(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Makes room for a new key: first what `stale` says is over, then the least recently
    /// used tenth.
    fn make_room(&mut self, stale: impl Fn(&Instant, &V) -> bool) {
        if self.entries.len() < MAX_KEYS {
            return;
        }
        self.entries.retain(|_, (at, v)| !stale(at, v));
        if self.entries.len() >= MAX_KEYS {
            let mut times: Vec<Instant> = self.entries.values().map(|(at, _)| *at).collect();
            let cut = MAX_KEYS / 10;
            times.select_nth_unstable(cut);
            let threshold = times[cut];
            self.entries.retain(|_, (at, _)| *at > threshold);
        }
    }
}

/// Allows `limit` events per key in each fixed `window`: counted in memory (one instance), or
/// in the database's `rate_limits` table when several instances share it ([`RateLimiter::shared`]).
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    hits: Mutex<Table<u32>>,
    shared: Option<(&'static str, crate::db::Db)>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            hits: Mutex::new(Table::new()),
            shared: None,
        }
    }

    /// Counts in `db` under `name` instead of in memory, so the limit holds across every
    /// instance on that database (PostgreSQL deployments).
    pub fn shared(mut self, name: &'static str, db: crate::db::Db) -> Self {
        self.shared = Some((name, db));
        self
    }

    /// Counts one event for each key; false if any key is over its limit.
    pub async fn check(&self, keys: &[&str]) -> bool {
        if let Some((name, db)) = &self.shared {
            let (buckets, window, limit) = (buckets(name, keys), self.window_secs(), self.limit);
            let counted = db
                .write(move |conn| {
                    let now = crate::db::unix_now();
                    buckets
                        .iter()
                        .map(|b| shared::count(conn, b, now, window))
                        .collect::<Result<Vec<_>, _>>()
                })
                .await;
            return match counted {
                Ok(hits) => hits.iter().all(|&(n, _)| n <= i64::from(limit)),
                Err(e) => {
                    // A limit is a guard, not a gate: with the database down the request fails
                    // anyway on its own work.
                    tracing::warn!(error = %e, "rate limit not counted");
                    true
                }
            };
        }
        self.check_here(keys)
    }

    fn window_secs(&self) -> i64 {
        i64::try_from(self.window.as_secs()).unwrap_or(i64::MAX)
    }

    /// The shared windows of `keys`: (hits, seconds left), those still open.
    async fn shared_windows(&self, keys: &[&str]) -> Vec<(i64, i64)> {
        let Some((name, db)) = &self.shared else {
            return Vec::new();
        };
        let (buckets, window) = (buckets(name, keys), self.window_secs());
        db.read(move |conn| {
            let now = crate::db::unix_now();
            let mut open = Vec::new();
            for bucket in &buckets {
                if let Some((hits, start)) = shared::window(conn, bucket)?
                    && start > now - window
                {
                    open.push((hits, start + window - now));
                }
            }
            Ok(open)
        })
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "rate limit not read");
            Vec::new()
        })
    }

    /// [`RateLimiter::check`] in this instance's memory only (a flood guard of one process).
    pub fn check_here(&self, keys: &[&str]) -> bool {
        let now = Instant::now();
        let mut table = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        let window = self.window;
        table.make_room(|start, _| now.duration_since(*start) >= window);
        let mut allowed = true;
        for key in keys {
            let key = table.key(key);
            let entry = table.entries.entry(key).or_insert((now, 0));
            if now.duration_since(entry.0) >= self.window {
                *entry = (now, 0);
            }
            entry.1 = entry.1.saturating_add(1);
            allowed &= entry.1 <= self.limit;
        }
        allowed
    }

    /// Whether any key has used up its events in the current window (counts nothing).
    pub async fn exhausted(&self, keys: &[&str]) -> bool {
        if self.shared.is_some() {
            let limit = i64::from(self.limit);
            return self
                .shared_windows(keys)
                .await
                .iter()
                .any(|&(hits, _)| hits >= limit);
        }
        self.exhausted_here(keys)
    }

    fn exhausted_here(&self, keys: &[&str]) -> bool {
        let now = Instant::now();
        let table = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter().any(|key| {
            let key = table.key(key);
            table.entries.get(&key).is_some_and(|(start, n)| {
                now.duration_since(*start) < self.window && *n >= self.limit
            })
        })
    }

    /// How long until every key over its limit has a new window (zero when none is).
    pub async fn retry_after(&self, keys: &[&str]) -> Duration {
        if self.shared.is_some() {
            let limit = i64::from(self.limit);
            let left = self
                .shared_windows(keys)
                .await
                .iter()
                .filter(|&&(hits, _)| hits >= limit)
                .map(|&(_, left)| left)
                .max()
                .unwrap_or(0);
            return Duration::from_secs(u64::try_from(left).unwrap_or(0));
        }
        self.retry_after_here(keys)
    }

    fn retry_after_here(&self, keys: &[&str]) -> Duration {
        let now = Instant::now();
        let table = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter()
            .filter_map(|key| {
                let (start, n) = table.entries.get(&table.key(key))?;
                (*n >= self.limit).then(|| self.window.saturating_sub(now.duration_since(*start)))
            })
            .max()
            .unwrap_or(Duration::ZERO)
    }

    /// How many keys the limiter holds now.
    #[cfg(test)]
    fn keys_held(&self) -> usize {
        self.hits.lock().map_or(0, |t| t.entries.len())
    }
}

/// A shared limiter's bucket names: the limiter's name and a hash of the key (an e-mail or an
/// address is never stored).
fn buckets(name: &str, keys: &[&str]) -> Vec<String> {
    use sha2::{Digest, Sha256};
    keys.iter()
        .map(|key| {
            let digest = Sha256::digest(format!("{name}\n{key}").as_bytes());
            let hex = crate::paytr::hex(&digest[..16]);
            format!("{name}:{hex}")
        })
        .collect()
}

/// The `rate_limits` table: one fixed window per bucket, counted by one atomic upsert.
pub mod shared {
    use crate::db::schema::rate_limits;
    use crate::db::{DbConnection, DbError};
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Text};

    #[derive(QueryableByName)]
    struct Counted {
        #[diesel(sql_type = BigInt)]
        hits: i64,
        #[diesel(sql_type = BigInt)]
        window_start: i64,
    }

    /// Counts one hit in `bucket`'s window (a new window when the old one is over); returns
    /// the hits in the window and its start. One statement, so racing instances each count.
    pub fn count(
        conn: &mut DbConnection,
        bucket: &str,
        now: i64,
        window: i64,
    ) -> Result<(i64, i64), DbError> {
        let expired = now - window;
        let sql = |p: [&str; 3]| {
            format!(
                "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ({a}, {b}, 1) \
                 ON CONFLICT (bucket) DO UPDATE SET \
                 hits = CASE WHEN rate_limits.window_start <= {c} THEN 1 ELSE rate_limits.hits + 1 END, \
                 window_start = CASE WHEN rate_limits.window_start <= {c} THEN {b} ELSE rate_limits.window_start END \
                 RETURNING CAST(hits AS BIGINT) AS hits, window_start",
                a = p[0],
                b = p[1],
                c = p[2]
            )
        };
        // Numbered parameters, each used where it appears again (SQLite `?N`, PostgreSQL `$N`).
        let counted: Counted = match conn {
            DbConnection::Sqlite(c) => diesel::sql_query(sql(["?1", "?2", "?3"]))
                .bind::<Text, _>(bucket)
                .bind::<BigInt, _>(now)
                .bind::<BigInt, _>(expired)
                .get_result(c)?,
            DbConnection::Postgres(c) => diesel::sql_query(sql(["$1", "$2", "$3"]))
                .bind::<Text, _>(bucket)
                .bind::<BigInt, _>(now)
                .bind::<BigInt, _>(expired)
                .get_result(c)?,
        };
        Ok((counted.hits, counted.window_start))
    }

    /// The hits and start of `bucket`'s window, if it has one.
    pub fn window(conn: &mut DbConnection, bucket: &str) -> Result<Option<(i64, i64)>, DbError> {
        let row: Option<(i32, i64)> = rate_limits::table
            .filter(rate_limits::bucket.eq(bucket))
            .select((rate_limits::hits, rate_limits::window_start))
            .get_result(conn)
            .optional()?;
        Ok(row.map(|(hits, start)| (i64::from(hits), start)))
    }

    /// Deletes windows over for a day (no limiter's window is that long).
    pub fn prune(conn: &mut DbConnection, now: i64) -> Result<usize, DbError> {
        Ok(
            diesel::delete(rate_limits::table.filter(rate_limits::window_start.lt(now - 86_400)))
                .execute(conn)?,
        )
    }
}

/// Failed log-ins per account and address, with exponential backoff: after `free` failures
/// each further try must wait 1 s, 2 s, 4 s, … up to `max_wait` after the last failure. Keyed
/// by account *and* address, so failures from other addresses never lock the owner out.
pub struct LoginThrottle {
    free: u32,
    max_wait: Duration,
    failures: Mutex<Table<u32>>,
}

impl LoginThrottle {
    pub fn new(free: u32, max_wait: Duration) -> Self {
        Self {
            free,
            max_wait,
            failures: Mutex::new(Table::new()),
        }
    }

    fn wait_after(&self, failures: u32) -> Duration {
        if failures < self.free {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free).min(20);
        Duration::from_secs(1u64 << doublings).min(self.max_wait)
    }

    /// How long `key` must still wait before its next try (zero: it may try now).
    pub fn wait(&self, key: &str) -> Duration {
        let table = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match table.entries.get(&table.key(key)) {
            Some((last, failures)) => self.wait_after(*failures).saturating_sub(last.elapsed()),
            None => Duration::ZERO,
        }
    }

    pub fn failed(&self, key: &str) {
        let now = Instant::now();
        let mut table = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let forget_after = self.max_wait * 2;
        table.make_room(|last, _| now.duration_since(*last) >= forget_after);
        let key = table.key(key);
        let entry = table.entries.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= forget_after {
            entry.1 = 0;
        }
        *entry = (now, entry.1.saturating_add(1));
    }

    pub fn succeeded(&self, key: &str) {
        let mut table = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let key = table.key(key);
        table.entries.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_gets_its_own_budget() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        assert!(limiter.check_here(&["ip:1", "acct:a"]));
        assert!(limiter.check_here(&["ip:1", "acct:a"]));
        assert!(
            !limiter.check_here(&["ip:1", "acct:b"]),
            "the IP is over its budget"
        );
        assert!(
            limiter.check_here(&["ip:2", "acct:b"]),
            "acct:b used 2 of 2 (one refused try counts)"
        );
        assert!(
            !limiter.check_here(&["ip:3", "acct:a"]),
            "the account is over its budget"
        );
    }

    #[test]
    fn the_limiter_stays_bounded_whatever_the_keys() {
        let limiter = RateLimiter::new(5, Duration::from_secs(3600));
        let huge = "x".repeat(250_000);
        for i in 0..(MAX_KEYS + 5_000) {
            limiter.check_here(&[&format!("{i}{huge:.1}")]);
        }
        assert!(limiter.keys_held() <= MAX_KEYS, "{}", limiter.keys_held());
        assert!(limiter.check_here(&[&huge]), "a long key is just a key");
    }

    #[test]
    fn log_in_failures_back_off_per_account_and_address() {
        let throttle = LoginThrottle::new(3, Duration::from_secs(900));
        for _ in 0..3 {
            assert_eq!(throttle.wait("a|ip1"), Duration::ZERO);
            throttle.failed("a|ip1");
        }
        let first = throttle.wait("a|ip1");
        assert!(first > Duration::from_millis(500), "{first:?}");
        throttle.failed("a|ip1");
        assert!(throttle.wait("a|ip1") > first, "the wait doubles");
        assert_eq!(
            throttle.wait("a|ip2"),
            Duration::ZERO,
            "the owner elsewhere"
        );
        throttle.succeeded("a|ip1");
        assert_eq!(throttle.wait("a|ip1"), Duration::ZERO);
    }
}
