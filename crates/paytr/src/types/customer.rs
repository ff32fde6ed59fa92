//! The shopper's fields PayTR requires, with PayTR's length limits.

use super::{ValidationError, bounded_text};
use std::net::IpAddr;

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, ValidationError> {
                bounded_text($field, value, $max).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

text_value!(
    /// The shopper's full name, at most 60 characters.
    UserName, "user_name", 60
);
text_value!(
    /// The shopper's address, at most 400 characters.
    UserAddress, "user_address", 400
);

/// An e-mail address: at most 100 characters, one `@`, a dot in the domain, no spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let value = bounded_text("email", value, 100)?;
        let shape_ok = value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
        if !shape_ok || !value.is_ascii() || value.contains(char::is_whitespace) {
            return Err(ValidationError::new(
                "email",
                "must be an e-mail address such as name@example.com",
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number: at most 20 characters of digits, spaces, `+`, `-`, `(` and `)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPhone(String);

impl UserPhone {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let value = bounded_text("user_phone", value, 20)?;
        let allowed = |c: char| c.is_ascii_digit() || " +-()".contains(c);
        if !value.chars().all(allowed) || value.chars().filter(char::is_ascii_digit).count() < 7 {
            return Err(ValidationError::new(
                "user_phone",
                "must be a phone number such as 0555 111 22 33",
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An absolute http(s) URL of at most 400 characters (PayTR's limit for its return URLs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsoluteUrl(String);

impl AbsoluteUrl {
    pub fn parse(field: &'static str, value: &str) -> Result<Self, ValidationError> {
        if value.len() > 400 {
            return Err(ValidationError::new(
                field,
                "must be at most 400 characters",
            ));
        }
        match url::Url::parse(value) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                Ok(Self(value.to_owned()))
            }
            _ => Err(ValidationError::new(
                field,
                "must be a full URL starting with https:// or http://",
            )),
        }
    }

    /// This URL with `path` (such as `/orders/abc/ok`) appended, without parsing the result:
    /// a base URL checked once (the shop's public URL) makes every return URL. The base must
    /// have no query or fragment and `path` must be plain path characters (`A-Z a-z 0-9 / - . _
    /// ~`, starting with `/`, no `//`), which keeps the result an absolute http(s) URL; the length is
    /// checked again.
    pub fn join_path(&self, field: &'static str, path: &str) -> Result<Self, ValidationError> {
        let plain = path.starts_with('/')
            && !path.contains("//")
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/-._~".contains(&b));
        if !plain || self.0.contains(['?', '#']) {
            return Err(ValidationError::new(
                field,
                "must be the shop's URL followed by a plain path",
            ));
        }
        let base = self.0.trim_end_matches('/');
        if base.len() + path.len() > 400 {
            return Err(ValidationError::new(
                field,
                "must be at most 400 characters",
            ));
        }
        Ok(Self(format!("{base}{path}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The shopper's public IP address for PayTR's `user_ip` (≤ 39 characters: IPv4 or IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserIp(IpAddr);

impl UserIp {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        match value.trim().parse::<IpAddr>() {
            Ok(ip) => Self::from_ip(ip),
            Err(_) => Err(ValidationError::new(
                "user_ip",
                "must be an IP address such as 85.34.78.112 or 2001:db8::1",
            )),
        }
    }

    /// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are read as their IPv4 address. A full
    /// IPv6 address is at most 39 characters, which is PayTR's limit for `user_ip`.
    pub fn from_ip(ip: IpAddr) -> Result<Self, ValidationError> {
        Ok(Self(match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        }))
    }

    pub fn addr(self) -> IpAddr {
        self.0
    }
}

impl std::fmt::Display for UserIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_rules() {
        assert!(Email::parse("buyer@example.com").is_ok());
        let long = format!("{}@example.com", "a".repeat(89));
        assert!(Email::parse(&long).is_err());
        for bad in [
            "buyer",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a@@b.com",
            "ç@ex.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_fields_have_paytr_limits() {
        assert!(UserName::parse(&"a".repeat(60)).is_ok());
        assert!(UserName::parse(&"a".repeat(61)).is_err());
        assert!(UserAddress::parse(&"a".repeat(400)).is_ok());
        assert!(UserAddress::parse(&"a".repeat(401)).is_err());
        assert!(UserPhone::parse("0555 111 22 33").is_ok());
        assert!(UserPhone::parse("+90 (555) 111-22-33").is_ok());
        assert!(UserPhone::parse(&"1".repeat(21)).is_err());
        assert!(UserPhone::parse("call me").is_err());
    }

    #[test]
    fn urls_must_be_absolute_and_short() {
        assert!(AbsoluteUrl::parse("merchant_ok_url", "https://shop.example/ok").is_ok());
        assert!(AbsoluteUrl::parse("merchant_ok_url", "/ok").is_err());
        assert!(AbsoluteUrl::parse("merchant_ok_url", "ftp://shop.example/ok").is_err());
        let long = format!("https://shop.example/{}", "a".repeat(400));
        assert!(AbsoluteUrl::parse("merchant_ok_url", &long).is_err());
    }

    #[test]
    fn a_checked_base_url_joins_plain_paths_only() {
        let base = AbsoluteUrl::parse("PUBLIC_URL", "https://shop.example/").expect("base");
        let ok = base
            .join_path("merchant_ok_url", "/orders/aB3_-x/ok")
            .expect("plain");
        assert_eq!(ok.as_str(), "https://shop.example/orders/aB3_-x/ok");
        // Whatever the joined text would be, it is refused unless it stays a plain path.
        for bad in [
            "orders/x",
            "/x?y=1",
            "/x#y",
            "/x y",
            "//evil.example/x",
            "/%2e%2e",
        ] {
            let joined = base.join_path("merchant_ok_url", bad);
            assert!(joined.is_err(), "{bad} must be refused");
        }
        let query = AbsoluteUrl::parse("PUBLIC_URL", "https://shop.example/?a=1").expect("url");
        assert!(query.join_path("merchant_ok_url", "/ok").is_err());
        let long = base.join_path("merchant_ok_url", &format!("/{}", "a".repeat(400)));
        assert!(long.is_err());
    }

    #[test]
    fn user_ip_is_ipv4_and_explains_ipv6() {
        assert_eq!(
            UserIp::parse("85.34.78.112")
                .map(|ip| ip.to_string())
                .as_deref(),
            Ok("85.34.78.112")
        );
        assert_eq!(
            UserIp::parse("::ffff:85.34.78.112")
                .map(|ip| ip.to_string())
                .ok()
                .as_deref(),
            Some("85.34.78.112")
        );
        let longest = "2001:0db8:85a3:0000:0000:8a2e:0370:7334";
        assert_eq!(longest.len(), 39, "PayTR's limit");
        assert!(UserIp::parse(longest).is_ok_and(|ip| ip.to_string().len() <= 39));
        assert!(UserIp::parse("localhost").is_err());
    }
}
