//! Webhooks: endpoints registered with an API key, an outbox written in the transaction of
//! each change, and delivery signed as the Standard Webhooks specification says
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "id.timestamp.body">` with the endpoint's `whsec_` secret). At least once, in order per
//! object, retried with a doubling delay (at most 6 hours) for 3 days; delivery runs in its
//! own task, so a slow or failing receiver never slows the shop.

use super::{ApiKey, FieldError, Problem, json};
use crate::accounts::random_string;
use crate::app_state::AppState;
use crate::db::schema::{api_keys, webhook_deliveries as wd, webhook_endpoints as we};
use crate::db::{Db, DbConnection, DbError, unix_now};
use crate::seal::Sealer;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The events an endpoint may ask for.
pub const EVENTS: [&str; 7] = [
    "checkout.completed",
    "payment.failed",
    "refund.succeeded",
    "subscription.renewed",
    "subscription.past_due",
    "card.saved",
    "card.deleted",
];
/// Deliveries are tried for this long.
pub const GIVE_UP_AFTER_SECS: i64 = 3 * 24 * 60 * 60;
/// How long a claimed delivery is someone's (longer than a delivery's timeout).
const LEASE_SECS: i64 = 60;
/// A receiver's answer is waited for this long.
const TIMEOUT: Duration = Duration::from_secs(10);

/// `v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>` with the key inside `whsec_<base64>`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = B64.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
}

fn new_secret() -> String {
    let bytes: [u8; 24] = rand::random();
    format!("whsec_{}", B64.encode(bytes))
}

/// Queues `event` about `object_id` for every endpoint of `mode` that asked for it.
pub fn enqueue(
    conn: &mut DbConnection,
    mode: &str,
    event: &str,
    object_id: &str,
    data: &serde_json::Value,
) -> Result<(), DbError> {
    let endpoints: Vec<(i64, String)> = we::table
        .inner_join(api_keys::table.on(api_keys::id.eq(we::api_key_id)))
        .filter(api_keys::mode.eq(mode))
        .filter(we::disabled_at.is_null())
        .select((we::id, we::events))
        .load(conn)?;
    let now = unix_now();
    for (endpoint, events) in endpoints {
        if !events.lines().any(|e| e == event) {
            continue;
        }
        let message_id = format!("msg_{}", random_string(24));
        let payload = serde_json::json!({
            "id": message_id,
            "type": event,
            "created": now,
            "data": data,
        })
        .to_string();
        diesel::insert_into(wd::table)
            .values((
                wd::message_id.eq(&message_id),
                wd::endpoint_id.eq(endpoint),
                wd::event_type.eq(event),
                wd::object_id.eq(object_id),
                wd::payload.eq(&payload),
                wd::created_at.eq(now),
                wd::next_attempt_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = wd)]
pub struct Delivery {
    pub id: i64,
    pub message_id: String,
    pub endpoint_id: i64,
    pub event_type: String,
    pub object_id: String,
    pub payload: String,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub attempts: i32,
    pub delivered_at: Option<i64>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
}

/// Claims the next due delivery whose object has no earlier one waiting (in order per
/// object); one conditional UPDATE, so two instances never take the same one.
fn claim(conn: &mut DbConnection, now: i64) -> Result<Option<(Delivery, String, String)>, DbError> {
    let due: Vec<Delivery> = wd::table
        .filter(wd::delivered_at.is_null())
        .filter(wd::created_at.gt(now - GIVE_UP_AFTER_SECS))
        .filter(wd::next_attempt_at.le(now))
        .order(wd::id.asc())
        .limit(20)
        .select(Delivery::as_select())
        .load(conn)?;
    for d in due {
        let earlier_waiting: i64 = wd::table
            .filter(wd::endpoint_id.eq(d.endpoint_id))
            .filter(wd::object_id.eq(&d.object_id))
            .filter(wd::id.lt(d.id))
            .filter(wd::delivered_at.is_null())
            .filter(wd::created_at.gt(now - GIVE_UP_AFTER_SECS))
            .count()
            .get_result(conn)?;
        if earlier_waiting > 0 {
            continue;
        }
        let taken = diesel::update(
            wd::table
                .find(d.id)
                .filter(wd::delivered_at.is_null())
                .filter(wd::next_attempt_at.eq(d.next_attempt_at)),
        )
        .set(wd::next_attempt_at.eq(now + LEASE_SECS))
        .execute(conn)?;
        if taken != 1 {
            continue;
        }
        let (url, secret): (String, String) = we::table
            .find(d.endpoint_id)
            .select((we::url, we::secret_sealed))
            .get_result(conn)?;
        return Ok(Some((d, url, secret)));
    }
    Ok(None)
}

/// Posts one delivery; its HTTP status, or why there was none.
async fn post(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    d: &Delivery,
) -> Result<u16, String> {
    let timestamp = unix_now();
    let signature = sign(secret, &d.message_id, timestamp, &d.payload)
        .ok_or_else(|| "the endpoint's secret is unreadable".to_owned())?;
    let answer = http
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &d.message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(d.payload.clone())
        .send()
        .await
        .map_err(|e| {
            let mut cause: &dyn std::error::Error = &e;
            while let Some(next) = cause.source() {
                cause = next;
            }
            if e.is_timeout() {
                "no answer in time".to_owned()
            } else if cause.to_string().contains(PRIVATE_ONLY) {
                format!("refused: {PRIVATE_ONLY}")
            } else {
                "could not connect".to_owned()
            }
        })?;
    Ok(answer.status().as_u16())
}

/// How many deliveries are in flight at once (per instance).
const IN_FLIGHT: usize = 16;

/// Posts one claimed delivery and records the outcome; whether the receiver accepted it.
async fn deliver_one(
    db: Db,
    http: reqwest::Client,
    sealer: Sealer,
    retry_base: i64,
    (d, url, sealed): (Delivery, String, String),
) -> Result<bool, DbError> {
    let result = match sealer.open(&sealed) {
        Some(secret) => post(&http, &url, &secret, &d).await,
        None => Err("the endpoint's secret is unreadable".to_owned()),
    };
    let ok = matches!(result, Ok(200..=299));
    if !ok {
        tracing::warn!(message = %d.message_id, event = %d.event_type, attempt = d.attempts + 1, "webhook not accepted; it will be tried again");
    }
    metrics::counter!("webhook_deliveries_total", "result" => if ok { "accepted" } else { "failed" }).increment(1);
    db.write(move |conn| {
        let now = unix_now();
        let row = wd::table.find(d.id);
        let (status, error) = match &result {
            Ok(s) => (Some(i32::from(*s)), None),
            Err(e) => (None, Some(e.clone())),
        };
        if ok {
            diesel::update(row)
                .set((
                    wd::delivered_at.eq(Some(now)),
                    wd::attempts.eq(d.attempts + 1),
                    wd::last_status.eq(status),
                    wd::last_error.eq(None::<String>),
                ))
                .execute(conn)?;
        } else {
            diesel::update(row)
                .set((
                    wd::attempts.eq(d.attempts + 1),
                    wd::next_attempt_at.eq(now + crate::mail::retry_delay(retry_base, d.attempts)),
                    wd::last_status.eq(status),
                    wd::last_error.eq(error),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
    .await?;
    Ok(ok)
}

/// Claims what is due while fewer than [`IN_FLIGHT`] deliveries run, and posts each in a task
/// of its own: a receiver that answers slowly holds its own delivery (at most the timeout),
/// never the others, the next pass or the shop. Returns how many were claimed.
pub async fn deliver_due(
    db: &Db,
    http: &reqwest::Client,
    sealer: &Sealer,
    retry_base: i64,
    in_flight: &std::sync::Arc<tokio::sync::Semaphore>,
) -> Result<usize, DbError> {
    let mut claimed = 0;
    while let Ok(permit) = in_flight.clone().try_acquire_owned() {
        let Some(delivery) = db.write(|conn| claim(conn, unix_now())).await? else {
            break;
        };
        claimed += 1;
        let (db, http, sealer) = (db.clone(), http.clone(), sealer.clone());
        tokio::spawn(async move {
            if let Err(e) = deliver_one(db, http, sealer, retry_base, delivery).await {
                tracing::warn!(error = %e, "a webhook delivery's outcome was not recorded; it is tried again after its lease");
            }
            drop(permit);
        });
    }
    Ok(claimed)
}

const PRIVATE_ONLY: &str = "the host resolves only to private addresses";

/// A live shop's resolver for webhook hosts: only public addresses, looked up when connecting
/// (so a name registered as public that later resolves into the shop's network is refused).
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let public: Vec<std::net::SocketAddr> = found
                .filter(|a| !crate::routes::ctx::is_private(a.ip()))
                .collect();
            if public.is_empty() {
                return Err(PRIVATE_ONLY.into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// Delivers the webhook outbox every `every` in the background; `live`: only to public
/// addresses.
pub fn spawn_delivery(db: Db, sealer: Sealer, every: Duration, retry_base: i64, live: bool) {
    let mut builder = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none());
    if live {
        builder = builder.dns_resolver(std::sync::Arc::new(PublicOnly));
    }
    let http = builder.build().unwrap_or_default();
    let in_flight = std::sync::Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = deliver_due(&db, &http, &sealer, retry_base, &in_flight).await {
                tracing::warn!(error = %e, "webhook delivery pass failed");
            }
        }
    });
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    pub url: String,
    pub events: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EndpointView {
    pub id: String,
    #[schema(value_type = String)]
    pub object: &'static str,
    pub url: String,
    pub events: Vec<String>,
    pub created: i64,
    /// Only in the answer that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// An absolute http(s) URL; in live mode https only, and not a loopback, private or
/// link-local address (nor `localhost`): a leaked key must not turn the shop into a way to
/// post into its own network.
fn endpoint_url_ok(url: &str, live: bool) -> bool {
    let Ok(u) = url::Url::parse(url) else {
        return false;
    };
    let shape = url.len() <= 2000 && matches!(u.scheme(), "http" | "https") && u.host().is_some();
    if !shape || !live {
        return shape;
    }
    let internal = match u.host() {
        Some(url::Host::Ipv4(ip)) => crate::routes::ctx::is_private(ip.into()),
        Some(url::Host::Ipv6(ip)) => crate::routes::ctx::is_private(ip.into()),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost") || !name.contains('.')
        }
        None => true,
    };
    u.scheme() == "https" && !internal
}

/// `POST /api/v1/webhook-endpoints`: the secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/webhook-endpoints", operation_id = "createWebhookEndpoint", tag = "webhooks",
    request_body = CreateEndpoint,
    responses((status = 201, description = "Created, with its signing secret", body = EndpointView), (status = 400, description = "Bad JSON or header", content_type = "application/problem+json", body = super::ProblemBody), (status = 401, description = "Missing, unknown, revoked or other-mode key", content_type = "application/problem+json", body = super::ProblemBody), (status = 413, description = "Body over 64 KB", content_type = "application/problem+json", body = super::ProblemBody), (status = 422, description = "Invalid fields", content_type = "application/problem+json", body = super::ProblemBody), (status = 429, description = "Rate limited", content_type = "application/problem+json", body = super::ProblemBody), (status = 503, description = "Try again", content_type = "application/problem+json", body = super::ProblemBody)),
    security(("api_key" = [])))]
pub async fn create_endpoint(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let key = super::authenticate(&req, &state).await?;
    let (body, _): (CreateEndpoint, _) = super::read_json(payload).await?;
    let mut errors = Vec::new();
    if !endpoint_url_ok(&body.url, !state.test_mode) {
        errors.push(FieldError {
            field: "url".into(),
            detail: if state.test_mode {
                "must be an absolute http(s) URL".into()
            } else {
                "must be an https URL on a public host".into()
            },
        });
    }
    if body.events.is_empty() || body.events.iter().any(|e| !EVENTS.contains(&e.as_str())) {
        errors.push(FieldError {
            field: "events".into(),
            detail: format!("one or more of {}", EVENTS.join(", ")),
        });
    }
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let secret = new_secret();
    let sealed = state.sealer.seal(&secret);
    let public_id = format!("we_{}", random_string(20));
    let (now, events) = (unix_now(), body.events.clone());
    let row = (public_id.clone(), body.url.clone(), events.join("\n"));
    let key_id = key.id;
    state
        .db
        .write(move |conn| {
            diesel::insert_into(we::table)
                .values((
                    we::public_id.eq(&row.0),
                    we::api_key_id.eq(key_id),
                    we::url.eq(&row.1),
                    we::secret_sealed.eq(&sealed),
                    we::events.eq(&row.2),
                    we::created_at.eq(now),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &EndpointView {
            id: public_id,
            object: "webhook_endpoint",
            url: body.url,
            events,
            created: now,
            secret: Some(secret),
        },
    ))
}

/// Endpoints of this key's mode (the merchant's, whichever key registered them).
fn endpoints_of(conn: &mut DbConnection, key: &ApiKey) -> Result<Vec<EndpointView>, DbError> {
    let rows: Vec<(String, String, String, i64)> = we::table
        .inner_join(api_keys::table.on(api_keys::id.eq(we::api_key_id)))
        .filter(api_keys::mode.eq(&key.mode))
        .filter(we::disabled_at.is_null())
        .order(we::id.asc())
        .select((we::public_id, we::url, we::events, we::created_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, url, events, created)| EndpointView {
            id,
            object: "webhook_endpoint",
            url,
            events: events.lines().map(str::to_owned).collect(),
            created,
            secret: None,
        })
        .collect())
}

/// `GET /api/v1/webhook-endpoints`.
#[utoipa::path(get, path = "/api/v1/webhook-endpoints", operation_id = "listWebhookEndpoints", tag = "webhooks",
    params(super::ListQuery),
    responses((status = 200, description = "A page of the endpoints, oldest first", body = super::List<EndpointView>), (status = 422, description = "Invalid fields", content_type = "application/problem+json", body = super::ProblemBody), (status = 401, description = "Missing, unknown, revoked or other-mode key", content_type = "application/problem+json", body = super::ProblemBody), (status = 429, description = "Rate limited", content_type = "application/problem+json", body = super::ProblemBody), (status = 503, description = "Try again", content_type = "application/problem+json", body = super::ProblemBody)),
    security(("api_key" = [])))]
pub async fn list_endpoints(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<super::ListQuery>,
) -> Result<HttpResponse, Problem> {
    let key = super::authenticate(&req, &state).await?;
    query.limit()?;
    let data = state.db.read(move |conn| endpoints_of(conn, &key)).await?;
    let page = query.page_of(data, |e| &e.id, "webhook endpoint")?;
    Ok(json(StatusCode::OK, &page))
}

/// `DELETE /api/v1/webhook-endpoints/{id}`: no more deliveries to it.
#[utoipa::path(delete, path = "/api/v1/webhook-endpoints/{id}", operation_id = "deleteWebhookEndpoint", tag = "webhooks",
    params(("id" = String, Path, description = "we_…")),
    responses((status = 204, description = "Disabled"), (status = 401, description = "Missing, unknown, revoked or other-mode key", content_type = "application/problem+json", body = super::ProblemBody), (status = 404, description = "Unknown", content_type = "application/problem+json", body = super::ProblemBody), (status = 429, description = "Rate limited", content_type = "application/problem+json", body = super::ProblemBody), (status = 503, description = "Try again", content_type = "application/problem+json", body = super::ProblemBody)),
    security(("api_key" = [])))]
pub async fn delete_endpoint(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let key = super::authenticate(&req, &state).await?;
    let id = id.into_inner();
    let disabled = state
        .db
        .write(move |conn| {
            let mine: Vec<i64> = api_keys::table
                .filter(api_keys::mode.eq(&key.mode))
                .select(api_keys::id)
                .load(conn)?;
            Ok(diesel::update(
                we::table
                    .filter(we::public_id.eq(&id))
                    .filter(we::api_key_id.eq_any(mine))
                    .filter(we::disabled_at.is_null()),
            )
            .set(we::disabled_at.eq(unix_now()))
            .execute(conn)?)
        })
        .await?;
    if disabled == 0 {
        return Err(Problem::not_found("webhook endpoint"));
    }
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_shop_posts_only_to_public_https_hosts() {
        for ok in ["https://shop.example/hooks", "https://203.0.113.7/h"] {
            assert!(endpoint_url_ok(ok, true), "{ok}");
        }
        for refused in [
            "http://shop.example/hooks",
            "https://127.0.0.1/h",
            "https://10.1.2.3/h",
            "https://192.168.0.10/h",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/h",
            "https://[fd00::1]/h",
            "https://localhost/h",
            "https://db/h",
            "ftp://shop.example/h",
        ] {
            assert!(!endpoint_url_ok(refused, true), "{refused}");
        }
        // Sandbox and test mode: receivers on the developer's machine are the point.
        assert!(endpoint_url_ok("http://127.0.0.1:9000/hooks", false));
    }

    #[test]
    fn signature_follows_the_standard_webhooks_example() {
        // The specification's own example (standard-webhooks/spec, "Signature scheme").
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }
}
