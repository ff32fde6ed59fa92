//! A session's values by key.

use std::collections::HashMap;

/// A session's values (JSON texts) by key, all in one text, with where each key and value lie
/// in it. A loaded row's text is kept as it was read and only indexed: no allocation per key
/// or value, no hashing (a `HashMap<String, String>` made two allocations per entry on every
/// request, ~12 of a payment page's 186). An insert appends to the text; a remove forgets the
/// entry (the text is the request's own, dropped with it). A handful of keys: found by a scan.
#[derive(Debug, Clone, Default)]
pub struct State {
    text: String,
    /// Each entry's key and value as byte ranges of `text`, in the order they were set.
    entries: Vec<(Span, Span)>,
}

type Span = (usize, usize);

impl State {
    pub fn new() -> Self {
        Self::default()
    }

    /// The text [`super::encode_state`]'s plain form wrote: `key\nvalue\nkey\nvalue…`, read
    /// up to an empty key. An error if a key has no value.
    pub fn from_plain(text: String) -> Result<Self, &'static str> {
        let mut entries = Vec::new();
        let mut parts = text.split('\n');
        let at = |part: &str| {
            let start = part.as_ptr() as usize - text.as_ptr() as usize;
            (start, start + part.len())
        };
        while let Some(key) = parts.next().filter(|k| !k.is_empty()) {
            let value = parts.next().ok_or("a session key without its value")?;
            entries.push((at(key), at(value)));
        }
        Ok(Self { text, entries })
    }

    /// A JSON object of JSON texts (older rows, and actix-session's anonymous cookies).
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        let map: HashMap<String, String> = serde_json::from_str(json)?;
        Ok(map.into_iter().collect())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        let i = self.position(key)?;
        Some(self.slice(self.entries[i].1))
    }

    /// Sets `key` to `value` (in place of what it had).
    pub fn insert(&mut self, key: &str, value: &str) {
        if let Some(i) = self.position(key) {
            self.entries.remove(i);
        }
        let key_span = self.append(key);
        let value_span = self.append(value);
        self.entries.push((key_span, value_span));
    }

    /// Takes `key`'s value out.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let i = self.position(key)?;
        let (_, value) = self.entries.remove(i);
        Some(self.slice(value).to_owned())
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.entries.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Each `(key, value)`, in the order they were set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|&(key, value)| (self.slice(key), self.slice(value)))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(key, _)| key)
    }

    /// As a map (the JSON object form, and actix-session's anonymous cookies).
    pub fn to_map(&self) -> HashMap<&str, &str> {
        self.iter().collect()
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|&k| self.slice(k.0) == key)
    }

    fn slice(&self, (start, end): Span) -> &str {
        &self.text[start..end]
    }

    fn append(&mut self, part: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(part);
        (start, self.text.len())
    }
}

/// The same keys with the same values, whatever their order.
impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl Eq for State {}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for State {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut state = Self::new();
        for (key, value) in pairs {
            state.insert(key.as_ref(), value.as_ref());
        }
        state
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> From<[(K, V); N]> for State {
    fn from(pairs: [(K, V); N]) -> Self {
        pairs.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_reads_sets_replaces_and_removes_values_by_key() {
        let mut state = State::from_plain("csrf\n\"abc\"\nuser_id\n7".to_owned()).expect("plain");
        assert_eq!(state.get("csrf"), Some("\"abc\""));
        assert_eq!(state.get("user_id"), Some("7"));
        assert_eq!(state.get("cart"), None);
        state.insert("cart", "[]");
        state.insert("csrf", "\"new\"");
        assert_eq!(state.get("csrf"), Some("\"new\""));
        assert_eq!(state.len(), 3);
        assert_eq!(state.remove("user_id").as_deref(), Some("7"));
        assert_eq!(state.remove("user_id"), None);
        assert_eq!(
            state.iter().collect::<Vec<_>>(),
            [("cart", "[]"), ("csrf", "\"new\"")]
        );
        assert_eq!(state, State::from([("csrf", "\"new\""), ("cart", "[]")]));
        assert_ne!(state, State::from([("csrf", "\"new\"")]));
        state.clear();
        assert!(state.is_empty() && state.get("cart").is_none());
    }

    #[test]
    fn plain_text_is_read_up_to_an_empty_key_and_a_key_needs_its_value() {
        assert!(State::from_plain(String::new()).expect("empty").is_empty());
        let state = State::from_plain("a\n1\n\nb\n2".to_owned()).expect("plain");
        assert_eq!(state, State::from([("a", "1")]));
        assert!(State::from_plain("csrf".to_owned()).is_err());
        let state = State::from_plain("a\n\nb\n2".to_owned()).expect("an empty value");
        assert_eq!(state, State::from([("a", ""), ("b", "2")]));
    }
}
