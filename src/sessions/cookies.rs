//! The shopper's session cookie: what it carries and how it is read and written.
//!
//! Its value is one of:
//! - **a session id**: 64 random letters and digits naming a row of `sessions` (only the id's
//!   SHA-256 is stored). Like the staff's cookie, it is not encrypted: it is a bearer token
//!   either way (whoever holds the encrypted form can replay it just as well), and an id
//!   nobody issued names no row;
//! - **an anonymous visitor's light state** (a CSRF token and a language, nothing else),
//!   `a.{csrf}.{lang}.{mac}`, so cookieless traffic writes no rows. The MAC (HMAC-SHA256 under
//!   a key derived from `SESSION_KEY`, 128 bits) refuses any state we did not issue.
//!
//! Before this form, actix-session wrote the cookie `sid` (`__Host-sid` over https): the same
//! id, or `anon.{json}`, encrypted with AES-GCM under `SESSION_KEY`. That cookie is still read
//! (a shopper signed in before the deploy stays signed in and keeps their cart) and left as it
//! is while the session keeps its id, so an instance of the older version, during a rolling
//! deploy, still reads it too; it is removed once the session gets a cookie of the new form.
//! The new form has its own name, so an older instance never mistakes it for a damaged cookie
//! of its own (and never writes over it).

use super::{State, keys};
use actix_web::cookie::{Cookie, CookieJar, Key};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

type HmacSha256 = Hmac<Sha256>;

/// Length of a session id (letters and digits).
pub const ID_LEN: usize = 64;
/// Prefix of an anonymous visitor's cookie value.
const ANON: &str = "a.";
/// Bytes of the anonymous cookie's MAC that are kept.
const MAC_LEN: usize = 16;
/// Prefix of an anonymous state inside an old (actix-session) cookie.
const LEGACY_ANON: &str = "anon.";
/// The light state's values: short runs of letters and digits.
const MAX_LIGHT_VALUE: usize = 64;

/// The cookies' names and keys.
pub struct SessionCookies {
    name: &'static str,
    legacy_name: &'static str,
    secure: bool,
    /// HMAC key of the anonymous state.
    mac_key: [u8; 32],
    /// actix-session's key (`Key::from(SHA-512(SESSION_KEY))`), to read old cookies.
    legacy_key: Key,
}

/// What the request's cookies name.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// No session cookie, or one we did not issue.
    Nothing,
    /// A session row's id.
    Id(String),
    /// An anonymous visitor's light state.
    Anonymous(State),
}

/// The request's session cookies, read.
#[derive(Debug)]
pub struct Read {
    pub incoming: Incoming,
    /// The value of the cookie of the new form, if one came.
    pub current: Option<String>,
    /// An old-form cookie came (removed once a cookie of the new form is written).
    pub legacy: bool,
}

impl SessionCookies {
    pub fn new(secure: bool, session_key: &str) -> Self {
        let mut mac_key = [0u8; 32];
        mac_key.copy_from_slice(&Sha256::digest(
            [
                b"paytr-checkout anonymous session\0".as_slice(),
                session_key.as_bytes(),
            ]
            .concat(),
        ));
        Self {
            name: if secure { "__Host-sess" } else { "sess" },
            legacy_name: if secure { "__Host-sid" } else { "sid" },
            secure,
            mac_key,
            legacy_key: Key::from(&Sha512::digest(session_key.as_bytes())),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Reads the session cookies of a request's headers (no cookie jar: only our two names
    /// are looked at).
    pub fn read(&self, headers: &HeaderMap) -> Read {
        let (mut current, mut legacy) = (None, None);
        for value in headers.get_all(header::COOKIE) {
            let Ok(value) = value.to_str() else { continue };
            for pair in value.split(';') {
                let Some((name, value)) = pair.trim().split_once('=') else {
                    continue;
                };
                if name == self.name && current.is_none() {
                    current = Some(value);
                } else if name == self.legacy_name && legacy.is_none() {
                    legacy = Some(value);
                }
            }
        }
        let incoming = match (current, legacy) {
            (Some(value), _) => self.parse(value),
            (None, Some(value)) => self.parse_legacy(value),
            (None, None) => Incoming::Nothing,
        };
        Read {
            incoming,
            current: current.map(str::to_owned),
            legacy: legacy.is_some(),
        }
    }

    /// A value of the new form.
    fn parse(&self, value: &str) -> Incoming {
        if let Some(anon) = value.strip_prefix(ANON) {
            return self
                .parse_anonymous(anon)
                .map_or(Incoming::Nothing, Incoming::Anonymous);
        }
        if is_id(value) {
            Incoming::Id(value.to_owned())
        } else {
            Incoming::Nothing
        }
    }

    fn parse_anonymous(&self, anon: &str) -> Option<State> {
        let (signed, mac) = anon.rsplit_once('.')?;
        let mac = B64.decode(mac).ok().filter(|m| m.len() == MAC_LEN)?;
        let mut check = self.mac();
        check.update(ANON.as_bytes());
        check.update(signed.as_bytes());
        check.verify_truncated_left(&mac).ok()?;
        let (csrf, lang) = signed.split_once('.')?;
        let mut state = State::new();
        for (key, value) in [(keys::CSRF, csrf), (keys::LANG, lang)] {
            if !value.is_empty() {
                if !is_light_value(value) {
                    return None;
                }
                state.insert(key, &format!("\"{value}\""));
            }
        }
        Some(state)
    }

    /// A cookie of actix-session's form (percent-encoded, AES-GCM under the old key).
    fn parse_legacy(&self, value: &str) -> Incoming {
        let Ok(cookie) = Cookie::parse_encoded(format!("{}={value}", self.legacy_name)) else {
            return Incoming::Nothing;
        };
        let mut jar = CookieJar::new();
        jar.add_original(cookie);
        let Some(opened) = jar.private(&self.legacy_key).get(self.legacy_name) else {
            return Incoming::Nothing;
        };
        let value = opened.value();
        if let Some(json) = value.strip_prefix(LEGACY_ANON) {
            return State::from_json(json)
                .ok()
                .filter(super::is_light)
                .map_or(Incoming::Nothing, Incoming::Anonymous);
        }
        if is_id(value) {
            Incoming::Id(value.to_owned())
        } else {
            Incoming::Nothing
        }
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.mac_key).expect("HMAC takes a key of any length")
    }

    /// The cookie value that carries `state` itself, if it is a light state whose values fit.
    pub fn anonymous_value(&self, state: &State) -> Option<String> {
        if !super::is_light(state) {
            return None;
        }
        let value = |key: &str| -> Option<String> {
            match state.get(key) {
                None => Some(String::new()),
                Some(json) => serde_json::from_str::<String>(json)
                    .ok()
                    .filter(|v| !v.is_empty() && is_light_value(v)),
            }
        };
        let signed = format!("{}.{}", value(keys::CSRF)?, value(keys::LANG)?);
        let mut mac = self.mac();
        mac.update(ANON.as_bytes());
        mac.update(signed.as_bytes());
        let mac = mac.finalize().into_bytes();
        Some(format!("{ANON}{signed}.{}", B64.encode(&mac[..MAC_LEN])))
    }

    /// `Set-Cookie` for a value of the new form.
    pub fn set(&self, value: &str) -> Option<HeaderValue> {
        HeaderValue::from_str(&format!("{}={value}; {}", self.name, self.attributes())).ok()
    }

    /// `Set-Cookie` that removes the new cookie (`legacy: false`) or the old one.
    pub fn remove(&self, legacy: bool) -> HeaderValue {
        let name = if legacy { self.legacy_name } else { self.name };
        HeaderValue::from_str(&format!(
            "{name}=; {}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            self.attributes()
        ))
        .expect("a cookie name and fixed attributes are a valid header")
    }

    fn attributes(&self) -> &'static str {
        if self.secure {
            "Path=/; HttpOnly; SameSite=Lax; Secure"
        } else {
            "Path=/; HttpOnly; SameSite=Lax"
        }
    }

    /// An old-form cookie holding `value` (what actix-session wrote), for tests of the upgrade.
    #[cfg(test)]
    pub fn legacy_cookie(&self, value: &str) -> String {
        let mut jar = CookieJar::new();
        jar.private_mut(&self.legacy_key)
            .add(Cookie::new(self.legacy_name, value.to_owned()));
        let cookie = jar.delta().next().expect("the cookie just added");
        cookie.encoded().stripped().to_string()
    }
}

fn is_id(value: &str) -> bool {
    value.len() == ID_LEN && value.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn is_light_value(value: &str) -> bool {
    value.len() <= MAX_LIGHT_VALUE && value.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies() -> SessionCookies {
        SessionCookies::new(false, "0123456789abcdef0123456789abcdef-session")
    }

    fn headers(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(cookie).expect("header"),
        );
        headers
    }

    fn light(csrf: &str, lang: &str) -> State {
        State::from([
            (keys::CSRF.to_owned(), format!("\"{csrf}\"")),
            (keys::LANG.to_owned(), format!("\"{lang}\"")),
        ])
    }

    #[test]
    fn an_anonymous_state_round_trips_and_any_change_to_it_is_refused() {
        let c = cookies();
        let state = light("AbC123", "en");
        let value = c.anonymous_value(&state).expect("light");
        assert!(value.starts_with("a.AbC123.en."), "{value}");
        let read = c.read(&headers(&format!("other=1; sess={value}")));
        assert_eq!(read.incoming, Incoming::Anonymous(state));
        assert_eq!(read.current.as_deref(), Some(value.as_str()));
        assert!(!read.legacy);

        // Another token, another language, a cut MAC, another key: all refused.
        let forged = value.replacen("AbC123", "AbC124", 1);
        let relabelled = value.replacen(".en.", ".tr.", 1);
        let cut = &value[..value.len() - 2];
        let elsewhere = SessionCookies::new(false, "another key of at least thirty-two chars")
            .anonymous_value(&light("AbC123", "en"))
            .expect("light");
        for bad in [
            forged.as_str(),
            relabelled.as_str(),
            cut,
            elsewhere.as_str(),
        ] {
            assert_eq!(
                c.read(&headers(&format!("sess={bad}"))).incoming,
                Incoming::Nothing,
                "{bad}"
            );
        }
    }

    #[test]
    fn only_a_light_state_of_plain_values_rides_in_the_cookie() {
        let c = cookies();
        let only_lang = State::from([(keys::LANG.to_owned(), "\"tr\"".to_owned())]);
        let value = c.anonymous_value(&only_lang).expect("a language alone");
        assert_eq!(
            c.read(&headers(&format!("sess={value}"))).incoming,
            Incoming::Anonymous(only_lang)
        );
        let mut cart = light("a", "tr");
        cart.insert(keys::CART, "[]");
        assert_eq!(c.anonymous_value(&cart), None, "a cart needs a row");
        assert_eq!(c.anonymous_value(&light("a.b", "tr")), None, "a dot");
        assert_eq!(c.anonymous_value(&light("", "tr")), None, "an empty value");
    }

    #[test]
    fn an_id_is_64_letters_and_digits_and_anything_else_is_nothing() {
        let c = cookies();
        let id = "x".repeat(ID_LEN);
        assert_eq!(
            c.read(&headers(&format!("sess={id}"))).incoming,
            Incoming::Id(id.clone())
        );
        for bad in [&id[1..], &format!("{id}x"), &format!("{}-", &id[1..]), ""] {
            assert_eq!(
                c.read(&headers(&format!("sess={bad}"))).incoming,
                Incoming::Nothing
            );
        }
    }

    #[test]
    fn an_old_cookie_is_read_under_the_same_key_and_the_new_one_wins() {
        let c = cookies();
        let id = "Q".repeat(ID_LEN);
        let old = c.legacy_cookie(&id);
        assert!(old.starts_with("sid="), "{old}");
        let read = c.read(&headers(&old));
        assert_eq!(read.incoming, Incoming::Id(id.clone()));
        assert!(read.legacy && read.current.is_none());

        let anon = c.legacy_cookie(r#"anon.{"csrf":"\"tok\"","lang":"\"en\""}"#);
        assert_eq!(
            c.read(&headers(&anon)).incoming,
            Incoming::Anonymous(light("tok", "en"))
        );
        // An old anonymous cookie that claims more than a light state is refused.
        let heavy = c.legacy_cookie(r#"anon.{"user_id":"1"}"#);
        assert_eq!(c.read(&headers(&heavy)).incoming, Incoming::Nothing);
        // Under another key it opens to nothing.
        let other = SessionCookies::new(false, "another key of at least thirty-two chars");
        assert_eq!(other.read(&headers(&old)).incoming, Incoming::Nothing);

        let newer = "N".repeat(ID_LEN);
        let both = c.read(&headers(&format!("{old}; sess={newer}")));
        assert_eq!(both.incoming, Incoming::Id(newer));
        assert!(both.legacy);
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_over_https() {
        let plain = cookies();
        let set = plain.set("v").expect("header");
        assert_eq!(set, "sess=v; Path=/; HttpOnly; SameSite=Lax");
        let https = SessionCookies::new(true, "0123456789abcdef0123456789abcdef-session");
        let set = https.set("v").expect("header");
        assert_eq!(set, "__Host-sess=v; Path=/; HttpOnly; SameSite=Lax; Secure");
        let gone = https.remove(true);
        assert!(
            gone.to_str()
                .expect("ascii")
                .starts_with("__Host-sid=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0"),
            "{gone:?}"
        );
    }
}
