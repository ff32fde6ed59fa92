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

/// Allows `limit` events per key in each fixed `window`.
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    hits: Mutex<Table<u32>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            hits: Mutex::new(Table::new()),
        }
    }

    /// Counts one event for each key; false if any key is over its limit.
    pub fn check(&self, keys: &[&str]) -> bool {
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
    pub fn exhausted(&self, keys: &[&str]) -> bool {
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
    pub fn retry_after(&self, keys: &[&str]) -> Duration {
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
        assert!(limiter.check(&["ip:1", "acct:a"]));
        assert!(limiter.check(&["ip:1", "acct:a"]));
        assert!(
            !limiter.check(&["ip:1", "acct:b"]),
            "the IP is over its budget"
        );
        assert!(
            limiter.check(&["ip:2", "acct:b"]),
            "acct:b used 2 of 2 (one refused try counts)"
        );
        assert!(
            !limiter.check(&["ip:3", "acct:a"]),
            "the account is over its budget"
        );
    }

    #[test]
    fn the_limiter_stays_bounded_whatever_the_keys() {
        let limiter = RateLimiter::new(5, Duration::from_secs(3600));
        let huge = "x".repeat(250_000);
        for i in 0..(MAX_KEYS + 5_000) {
            limiter.check(&[&format!("{i}{huge:.1}")]);
        }
        assert!(limiter.keys_held() <= MAX_KEYS, "{}", limiter.keys_held());
        assert!(limiter.check(&[&huge]), "a long key is just a key");
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
