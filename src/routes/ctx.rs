//! Per-request context from the session (language, shopper, CSRF token, cart), the POST form
//! extractor that enforces CSRF and refuses card data, and the shopper's IP.

use super::errors::PageError;
use crate::accounts::{find_user, random_string};
use crate::app_state::AppState;

use crate::checkout::CartLine;
use crate::config::Mode;
use crate::db::models::User;
use crate::domain::{Lang, UserIp, ValidationError};
use crate::sessions::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::error::InternalError;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;

/// Field names of card data, which must only ever be posted to PayTR.
pub const CARD_FIELDS: [&str; 5] = [
    "card_number",
    "cvv",
    "cc_owner",
    "expiry_month",
    "expiry_year",
];

pub use crate::sessions::keys;

/// The signed-in shopper as the session remembers them (no database trip per page).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SessionUser {
    pub id: i64,
    pub full_name: String,
    pub email: String,
}

impl SessionUser {
    pub fn of(user: &User) -> Self {
        Self {
            id: user.id,
            full_name: user.full_name.clone(),
            email: user.email.clone(),
        }
    }

    /// The full row (with the sealed utoken), for the pages that need it.
    pub async fn load(&self, state: &AppState) -> Result<Option<User>, crate::db::DbError> {
        let id = self.id;
        state.db.run(move |conn| find_user(conn, id)).await
    }
}

pub struct Ctx {
    pub lang: Lang,
    pub user: Option<SessionUser>,
    pub csrf: String,
    pub cart_count: u32,
    pub sandbox: bool,
    pub path: String,
}

/// The request context as an extractor (reads the session like [`Ctx::load`]).
impl FromRequest for Ctx {
    type Error = actix_web::Error;
    /// Ready at once (the session was loaded by its middleware): no boxed future per request.
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Ctx::load(req, &req.get_session())))
    }
}

/// The signed-in shopper's full row, as an extractor: a page that takes it answers anyone
/// else with a redirect to the log-in page.
pub struct SignedIn(pub User);

impl FromRequest for SignedIn {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = req.get_session();
            let user = session.get::<SessionUser>(keys::USER).ok().flatten();
            let state = req.app_data::<web::Data<AppState>>().cloned();
            let (Some(user), Some(state)) = (user, state) else {
                // After logging in, the shopper comes back here (a page, not a form's POST).
                if req.method() == actix_web::http::Method::GET {
                    remember_return_to(&session, req.path());
                }
                return Err(PageError::LogIn.into());
            };
            match user.load(&state).await {
                Ok(Some(user)) => Ok(SignedIn(user)),
                Ok(None) => Err(PageError::LogIn.into()),
                Err(e) => Err(PageError::from(e).into()),
            }
        })
    }
}

/// Whether `path` is one of our pages to come back to: a local absolute path (not `//host`
/// or `/\host`, which browsers read as another site), not the log-in or sign-up pages.
pub fn safe_return_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.len() <= 200
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_.?=&#%".contains(&b))
        && !["/login", "/register", "/logout"].iter().any(|p| {
            path == *p || path.starts_with(&format!("{p}?")) || path.starts_with(&format!("{p}/"))
        })
}

/// Remembers where to go after logging in, if it is a safe path of ours.
pub fn remember_return_to(session: &Session, path: &str) {
    if safe_return_path(path) {
        let _ = session.insert(keys::RETURN_TO, path);
    }
}

impl Ctx {
    /// Reads the session; `?lang=en|tr` switches the language and remembers it.
    pub fn load(req: &HttpRequest, session: &Session) -> Self {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let query = web::Query::<HashMap<String, String>>::from_query(req.query_string()).ok();
        let lang = match query
            .as_ref()
            .and_then(|q| q.get("lang"))
            .and_then(|l| Lang::parse(l).ok())
        {
            Some(lang) => {
                let _ = session.insert(keys::LANG, lang.code());
                lang
            }
            None => session
                .get::<String>("lang")
                .ok()
                .flatten()
                .and_then(|l| Lang::parse(&l).ok())
                .unwrap_or_default(),
        };
        let cart: Vec<CartLine> = session.get(keys::CART).ok().flatten().unwrap_or_default();
        let user = session.get::<SessionUser>(keys::USER).ok().flatten();
        Self {
            lang,
            user,
            csrf: csrf_token(session),
            cart_count: cart.iter().map(|l| l.quantity).sum(),
            sandbox: state.is_some_and(|s| s.mode() == Mode::Sandbox),
            path: same_origin_path(req.path()),
        }
    }
}

/// `path` if it is a plain path of this site (letters, digits, `/ _ . -`, not starting with
/// `//`), else `/`: the language links repeat it, and `//evil.example` would leave the site.
pub fn same_origin_path(path: &str) -> String {
    let plain = path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= 200
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_.-".contains(&b));
    if plain {
        path.to_owned()
    } else {
        "/".to_owned()
    }
}

/// The session's CSRF token, created on first use.
pub fn csrf_token(session: &Session) -> String {
    if let Ok(Some(token)) = session.get::<String>(keys::CSRF) {
        return token;
    }
    let token = random_string(32);
    let _ = session.insert(keys::CSRF, &token);
    token
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn refuse(status: StatusCode, text: &'static str) -> actix_web::Error {
    InternalError::from_response(
        text,
        HttpResponse::build(status)
            .content_type("text/plain; charset=utf-8")
            .body(text),
    )
    .into()
}

/// Parses a urlencoded body, refusing any card field (nothing of such a request is logged).
pub fn parse_form_refusing_card_data(
    body: &[u8],
) -> Result<HashMap<String, String>, actix_web::Error> {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    if CARD_FIELDS.iter().any(|f| form.contains_key(*f)) {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "Kart bilgileri yalnızca PayTR'a gönderilir. / Card details are sent to PayTR only, never to this shop.",
        ));
    }
    Ok(form)
}

/// A form posted to us: CSRF-checked, with no card data.
pub struct PostForm(pub HashMap<String, String>);

impl PostForm {
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or_default()
    }
}

impl FromRequest for PostForm {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        let session = req.get_session();
        Box::pin(async move {
            let form = parse_form_refusing_card_data(&body.await?)?;
            let expected = session
                .get::<String>(keys::CSRF)
                .ok()
                .flatten()
                .unwrap_or_default();
            let provided = form
                .get("csrf_token")
                .map(String::as_str)
                .unwrap_or_default();
            if expected.is_empty() || !constant_time_eq(expected.as_bytes(), provided.as_bytes()) {
                return Err(refuse(
                    StatusCode::FORBIDDEN,
                    "Form süresi doldu, lütfen sayfayı yenileyip tekrar deneyin. / The form expired: reload the page and try again.",
                ));
            }
            Ok(Self(form))
        })
    }
}

/// The shopper's IP address. Without trusted proxies it is the socket's peer. When the peer is
/// a trusted proxy, `X-Forwarded-For` is walked from the right (each proxy appends the address
/// it heard from), skipping trusted proxies, and the first untrusted hop is the shopper: the
/// left end is whatever the client chose to send and is never believed. Loopback IPv6 (local
/// development) reads as 127.0.0.1.
pub fn client_ip(req: &HttpRequest, trusted: &[IpAddr]) -> Result<UserIp, ValidationError> {
    let peer = req
        .peer_addr()
        .map(|a| canonical(a.ip()))
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let ip = shopper_ip(peer, &forwarded, trusted);
    match ip {
        IpAddr::V6(v6) if v6.is_loopback() => UserIp::from_ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        other => UserIp::from_ip(other),
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The right-to-left walk of [`client_ip`]: a hop that does not parse ends the walk at the
/// last trusted proxy (nothing behind garbage is believed).
fn shopper_ip(peer: IpAddr, forwarded: &[&str], trusted: &[IpAddr]) -> IpAddr {
    let mut ip = peer;
    for hop in forwarded.iter().rev() {
        if !trusted.contains(&ip) {
            break;
        }
        match hop.trim().parse::<IpAddr>() {
            Ok(hop) => ip = canonical(hop),
            Err(_) => break,
        }
    }
    ip
}

/// Whether PayTR would get a private address as `user_ip` (loopback, private ranges, link-local,
/// carrier-grade NAT, IPv6 unique-local): in live mode that means a proxy in front of the shop
/// is missing from `TRUSTED_PROXIES`.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// The shopper's address for a payment (PayTR's `user_ip`), checked in live mode.
pub fn payment_ip(req: &HttpRequest, state: &AppState) -> Result<UserIp, ValidationError> {
    let ip = client_ip(req, &state.settings.trusted_proxies)?;
    warn_if_private(state, &ip);
    Ok(ip)
}

/// Says once, in live mode, that the shopper's address is private (PayTR needs the public one).
pub fn warn_if_private(state: &AppState, ip: &UserIp) {
    use std::sync::atomic::Ordering;
    if state.mode() == Mode::Live
        && is_private(ip.addr())
        && !state.private_ip_warned.swap(true, Ordering::Relaxed)
    {
        tracing::warn!(
            user_ip = %ip,
            "the shopper's address is private: PayTR needs the public one; list the proxy in front of this shop in TRUSTED_PROXIES"
        );
    }
}

/// The rate-limit bucket of an address: IPv4 by address, IPv6 by its /64 (one subscriber line
/// usually holds a whole /64, so a single address would be no limit at all).
pub fn ip_bucket(ip: &UserIp) -> String {
    match ip.addr() {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("ip6:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_fields_are_refused() {
        assert!(
            parse_form_refusing_card_data(b"csrf_token=x&card_number=4355084355084358").is_err()
        );
        assert!(parse_form_refusing_card_data(b"csrf_token=x&cvv=000").is_err());
        assert!(parse_form_refusing_card_data(b"csrf_token=x&email=a%40b.co").is_ok());
    }

    #[test]
    fn the_shopper_is_the_first_untrusted_hop_from_the_right() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        // The client wrote 6.6.6.6 itself; the proxy appended the address it heard from.
        let hops = ["6.6.6.6", " 203.0.113.7"];
        assert_eq!(
            shopper_ip(ip("10.0.0.1"), &hops, &trusted),
            ip("203.0.113.7")
        );
        // Two trusted proxies in a row are skipped.
        let hops = ["6.6.6.6", "203.0.113.7", "10.0.0.2"];
        assert_eq!(
            shopper_ip(ip("10.0.0.1"), &hops, &trusted),
            ip("203.0.113.7")
        );
        // An untrusted peer's header is ignored altogether.
        assert_eq!(
            shopper_ip(ip("198.51.100.9"), &hops, &trusted),
            ip("198.51.100.9")
        );
        // Garbage ends the walk at the last trusted hop.
        assert_eq!(shopper_ip(ip("10.0.0.1"), &["x"], &trusted), ip("10.0.0.1"));
        assert_eq!(
            shopper_ip(ip("10.0.0.1"), &["2001:db8::1"], &trusted),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn private_addresses_are_recognised() {
        let private = |s: &str| is_private(s.parse().expect("ip"));
        for p in [
            "10.1.2.3",
            "192.168.1.1",
            "172.16.0.1",
            "127.0.0.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
        ] {
            assert!(private(p), "{p}");
        }
        for public in ["85.34.78.112", "100.128.0.1", "2001:db8::1", "8.8.8.8"] {
            assert!(!private(public), "{public}");
        }
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        let bucket = |s: &str| ip_bucket(&UserIp::parse(s).expect("ip"));
        assert_eq!(
            bucket("2001:db8:1:2:aaaa::1"),
            bucket("2001:db8:1:2:bbbb::9")
        );
        assert_ne!(bucket("2001:db8:1:2::1"), bucket("2001:db8:1:3::1"));
        assert_eq!(bucket("85.34.78.112"), "ip:85.34.78.112");
    }

    #[test]
    fn language_links_stay_on_this_site() {
        assert_eq!(same_origin_path("/orders/abc123"), "/orders/abc123");
        for odd in [
            "//evil.example",
            "/\\evil.example",
            "/a%0d%0a",
            "https://x",
            "",
        ] {
            assert_eq!(same_origin_path(odd), "/", "{odd}");
        }
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
