//! A fixed-window rate limiter in memory (per instance).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Allows `limit` events per key in each `window`.
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    hits: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event for each key; false if any key is over its limit.
    pub fn check(&self, keys: &[&str]) -> bool {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if hits.len() > 100_000 {
            hits.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let mut allowed = true;
        for key in keys {
            let entry = hits.entry((*key).to_owned()).or_insert((now, 0));
            if now.duration_since(entry.0) >= self.window {
                *entry = (now, 0);
            }
            entry.1 += 1;
            allowed &= entry.1 <= self.limit;
        }
        allowed
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
}
