//! A shopper's browser, over HTTP: cookies, CSRF tokens from the page, forms posted as a
//! browser posts them (including the payment form straight to the sandbox).

use crate::helpers::eventually_async;
use std::collections::HashMap;

pub struct Shopper {
    pub base: String,
    pub http: reqwest::Client,
    pub last_html: String,
}

pub struct Page {
    pub status: u16,
    pub url: String,
    pub html: String,
}

/// Every `<input type="hidden" name=… value=…>` of the form that contains `marker`.
pub fn form_inputs(html: &str, marker: &str) -> (String, Vec<(String, String)>) {
    let start = html.find(marker).unwrap_or(0);
    let form_start = html[..=start.min(html.len().saturating_sub(1))]
        .rfind("<form")
        .unwrap_or(0);
    let form = &html[form_start..];
    let form = &form[..form.find("</form>").unwrap_or(form.len())];
    let action = attr(form, "action").unwrap_or_default();
    let inputs = form
        .match_indices("<input")
        .filter_map(|(i, _)| {
            let tag = &form[i..i + form[i..].find('>')?];
            if !tag.contains("type=\"hidden\"") {
                return None;
            }
            Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default()))
        })
        .collect();
    (action, inputs)
}

/// The unescaped value of `name="…"` in `tag`.
pub fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let raw = &tag[at..at + tag[at..].find('"')?];
    Some(unescape(raw))
}

pub fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

impl Shopper {
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::limited(10))
            .build()
            .expect("client");
        Self {
            base: base.to_owned(),
            http,
            last_html: String::new(),
        }
    }

    /// Another handle on this browser (same cookies), for polling from a closure.
    pub fn clone_client(&self) -> Self {
        Self {
            base: self.base.clone(),
            http: self.http.clone(),
            last_html: String::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    async fn page(&mut self, response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let url = response.url().to_string();
        let html = response.text().await.expect("body");
        self.last_html = html.clone();
        Page { status, url, html }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self.http.get(self.url(path)).send().await.expect("request");
        self.page(response).await
    }

    pub async fn post_raw(&mut self, path: &str, fields: &[(String, String)]) -> Page {
        let response = self
            .http
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("request");
        self.page(response).await
    }

    /// The CSRF token of the last page.
    pub fn csrf(&self) -> String {
        let html = &self.last_html;
        attr(
            &html[html.find("name=\"csrf_token\"").unwrap_or(0)..],
            "value",
        )
        .unwrap_or_default()
    }

    /// Posts `fields` with the CSRF token of the last page.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf();
        let mut form: Vec<(String, String)> = vec![("csrf_token".into(), csrf)];
        form.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self.post_raw(path, &form).await
    }

    /// Signs up and confirms the address with the link from the sandbox's mailbox; returns
    /// the page the link leads to (the account page, signed in).
    pub async fn register(&mut self, email: &str) -> Page {
        let check = self.sign_up(email).await;
        assert!(check.html.contains("id=\"check-email\""), "{}", check.html);
        let link = self
            .confirmation_link(email)
            .await
            .expect("a confirmation e-mail");
        self.get(&link).await
    }

    /// Posts the sign-up form; returns the "check your e-mail" page.
    pub async fn sign_up(&mut self, email: &str) -> Page {
        self.get("/register").await;
        self.post(
            "/register",
            &[
                ("full_name", "Ayşe Yılmaz"),
                ("email", email),
                ("password", "a long enough password"),
            ],
        )
        .await
    }

    /// The newest link in an e-mail to `email`, from the sandbox's mailbox.
    pub async fn confirmation_link(&mut self, email: &str) -> Option<String> {
        let mailbox = self.get("/sandbox/mail").await.html;
        let marker = format!("data-to=\"{email}\"");
        let mail = &mailbox[mailbox.find(&marker)?..];
        let mail = &mail[..mail.find("</li>")?];
        let at = mail.find("class=\"mail-link\"")?;
        let tag = mail[..at].rfind("<a")?;
        attr(&mail[tag..], "href")
    }

    pub async fn add_to_cart(&mut self, slug: &str) -> Page {
        self.get("/").await;
        self.post("/cart/add", &[("slug", slug)]).await
    }

    /// Billing step; returns the payment page.
    pub async fn checkout(&mut self) -> Page {
        self.get("/checkout").await;
        self.post(
            "/checkout",
            &[
                ("full_name", "Ayşe Yılmaz"),
                ("email", "ayse@example.com"),
                ("phone", "0555 111 22 33"),
                ("address", "Moda Cad. 1, Kadıköy, İstanbul"),
                ("accept_terms", "1"),
            ],
        )
        .await
    }

    /// Fills the card form of the payment page and posts it where its `action` says (PayTR or
    /// the sandbox), as the browser would. Returns PayTR's answer page.
    pub async fn pay(&mut self, pay_page: &str, card: &str, save: bool) -> Page {
        let (action, mut fields) = form_inputs(pay_page, "id=\"payment-form\"");
        assert!(!action.is_empty(), "payment form has an action");
        for (k, v) in [
            ("cc_owner", "KART SAHIBI"),
            ("card_number", card),
            ("expiry_month", "12"),
            ("expiry_year", "30"),
            ("cvv", "000"),
        ] {
            fields.push((k.into(), v.into()));
        }
        if save {
            fields.push(("store_card".into(), "1".into()));
        }
        self.post_raw(&action, &fields).await
    }

    /// On the sandbox's 3-D page, presses approve or reject; then follows the hand-back form
    /// to the shop (`merchant_ok_url` / `merchant_fail_url`).
    pub async fn answer_3d(&mut self, three_d: &Page, approve: bool) -> Page {
        let (action, _) = form_inputs(&three_d.html, "id=\"approve\"");
        // Like a browser: a relative action is relative to the page that holds the form.
        let action = url::Url::parse(&three_d.url)
            .and_then(|u| u.join(&action))
            .map(String::from)
            .unwrap_or(action);
        let decision = if approve { "approve" } else { "reject" };
        let back = self
            .post_raw(&action, &[("decision".into(), decision.into())])
            .await;
        self.follow_hand_back(&back.html).await
    }

    pub async fn follow_hand_back(&mut self, html: &str) -> Page {
        let (action, fields) = form_inputs(html, "id=\"back-to-shop\"");
        self.post_raw(&action, &fields).await
    }

    /// Waits until the order page shows `status` (e.g. "status_paid").
    pub async fn wait_for_order_status(&mut self, order_url: &str, status: &str) -> Page {
        let http = self.http.clone();
        let url = self.url(order_url);
        let needle = format!("data-status=\"{status}\"");
        let html = eventually_async("the order status", || {
            let (http, url, needle) = (http.clone(), url.clone(), needle.clone());
            async move {
                let html = http.get(&url).send().await.ok()?.text().await.ok()?;
                html.contains(&needle).then_some(html)
            }
        })
        .await;
        Page {
            status: 200,
            url,
            html,
        }
    }
}

/// The order's public id from a URL like `/orders/{id}/…`.
/// The reference of the first card with a delete link on the saved-cards page `html`.
pub fn first_card_reference(html: &str) -> String {
    html.split("id=\"delete-")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a delete link")
        .to_owned()
}

pub fn order_id(url: &str) -> String {
    let after = &url[url.find("/orders/").map(|i| i + 8).unwrap_or(0)..];
    after
        .split('/')
        .next()
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned()
}

pub fn hidden_fields(html: &str) -> HashMap<String, String> {
    form_inputs(html, "id=\"payment-form\"")
        .1
        .into_iter()
        .collect()
}

impl Shopper {
    /// Registers, buys `slug` with `card` ticking "save my card", and waits until it is paid.
    pub async fn buy_and_save(&mut self, slug: &str, card: &str) {
        self.add_to_cart(slug).await;
        let pay = self.checkout().await;
        let three_d = self.pay(&pay.html, card, true).await;
        self.answer_3d(&three_d, true).await;
        self.wait_for_order_status(&format!("/orders/{}", order_id(&pay.url)), "status_paid")
            .await;
    }

    /// On a payment page, chooses the saved card whose radio button has `reference`.
    pub async fn choose_saved(&mut self, pay: &Page, reference: &str) -> Page {
        self.last_html = pay.html.clone();
        self.post(
            &format!("/orders/{}/saved", order_id(&pay.url)),
            &[("card", reference)],
        )
        .await
    }

    /// Posts the hand-off form of a saved-card payment to PayTR, with `cvv` if given.
    pub async fn hand_off(&mut self, html: &str, cvv: Option<&str>) -> Page {
        let (action, mut fields) = form_inputs(html, "id=\"saved-card-form\"");
        if let Some(cvv) = cvv {
            fields.push(("cvv".into(), cvv.into()));
        }
        self.post_raw(&action, &fields).await
    }
}

/// The `value`s of the saved-card radio buttons on a payment page.
pub fn saved_card_refs(html: &str) -> Vec<String> {
    html.match_indices("name=\"card\" value=\"")
        .filter_map(|(i, m)| {
            let rest = &html[i + m.len()..];
            Some(rest[..rest.find('"')?].to_owned())
        })
        .collect()
}
