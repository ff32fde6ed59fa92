//! The hosted checkout API (`/api/v1`): a merchant's backend creates a checkout session with
//! an API key, the shopper pays on our hosted page (`/c/{id}`), and the merchant's webhook
//! endpoints are told. JSON in and out, amounts in kuruş, errors as RFC 9457
//! `application/problem+json` with a stable `code`. Server to server: no cookies, no CORS.

pub mod checkout_sessions;
pub mod customers;
pub mod keys;
pub mod orders;
pub mod subscriptions;
pub mod webhooks;

use crate::app_state::AppState;
use crate::db::{DbConnection, DbError, unix_now};
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use futures_util::StreamExt;
pub use keys::ApiKey;
use serde::Serialize;

/// The largest request body the API reads.
pub const MAX_BODY: usize = 64 * 1024;
/// How long an `Idempotency-Key`'s first answer is replayed.
pub const IDEMPOTENCY_SECS: i64 = 24 * 60 * 60;

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub detail: String,
}

/// An RFC 9457 problem: `type` is `/problems/{code}` on this server, `code` is stable.
#[derive(Debug, Clone)]
pub struct Problem(Box<ProblemBody>);

impl std::ops::Deref for Problem {
    type Target = ProblemBody;
    fn deref(&self) -> &ProblemBody {
        &self.0
    }
}

impl std::ops::DerefMut for Problem {
    fn deref_mut(&mut self) -> &mut ProblemBody {
        &mut self.0
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProblemBody {
    #[serde(rename = "type")]
    pub kind: String,
    #[schema(value_type = String)]
    pub title: &'static str,
    pub status: u16,
    /// Stable: what a client branches on.
    #[schema(value_type = String)]
    pub code: &'static str,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self(Box::new(ProblemBody {
            kind: format!("/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        }))
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let mut p = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "some fields are invalid: see errors",
        );
        p.errors = errors;
        p
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut answer = HttpResponse::build(self.status_code());
        answer.content_type("application/problem+json");
        if let Some(secs) = self.retry_after {
            answer.insert_header(("Retry-After", secs.to_string()));
        }
        answer.body(serde_json::to_string(&*self.0).unwrap_or_default())
    }
}

impl From<DbError> for Problem {
    fn from(e: DbError) -> Self {
        tracing::error!(error = %e, "API request failed on the database");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the service could not complete the request; try again",
        )
    }
}

/// A JSON answer.
pub fn json(status: StatusCode, body: &impl Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(serde_json::to_string(body).unwrap_or_default())
}

/// The authenticated key, kept in the request for the audit record.
#[derive(Debug, Clone, Copy)]
struct AuditKey(i64);

/// The caller's key from `Authorization: Bearer pk_…`: unrevoked, of this server's mode (a
/// test key is refused by a live shop and the other way round), within its rate limit.
pub async fn authenticate(req: &HttpRequest, state: &AppState) -> Result<ApiKey, Problem> {
    let unauthenticated = |detail: &str| {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            detail.to_owned(),
        )
    };
    let key = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| (12..=100).contains(&k.len()))
        .ok_or_else(|| unauthenticated("send your API key as Authorization: Bearer pk_…"))?
        .to_owned();
    let mode = keys::mode_of(state.test_mode);
    if !key.starts_with(&format!("pk_{mode}_")) {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "wrong_mode",
            format!("this shop takes {mode} keys (pk_{mode}_…)"),
        ));
    }
    let found = state
        .db
        .read_one(move |conn| keys::find(conn, &key))
        .await?
        .filter(|k| k.mode == mode)
        .ok_or_else(|| unauthenticated("unknown or revoked API key"))?;
    req.extensions_mut().insert(AuditKey(found.id));
    if !state.api_limiter.check(&[&found.public_id]).await {
        let mut p = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests with this key; slow down",
        );
        p.retry_after = Some(
            state
                .api_limiter
                .retry_after(&[&found.public_id])
                .await
                .as_secs()
                .max(1),
        );
        return Err(p);
    }
    Ok(found)
}

/// The cursor of a list: `?limit=&starting_after=`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// The last id of the previous page (`next_cursor`): the page after it.
    pub starting_after: Option<String>,
}

impl ListQuery {
    /// The page size asked for (1 to 100).
    pub fn limit(&self) -> Result<usize, Problem> {
        match self.limit.unwrap_or(20) {
            n @ 1..=100 => Ok(usize::try_from(n).unwrap_or(20)),
            _ => Err(Problem::invalid(vec![FieldError {
                field: "limit".into(),
                detail: "1 to 100".into(),
            }])),
        }
    }

    /// The page of `all` (in the list's order) this cursor asks for; `what` names the
    /// objects when `starting_after` names none of them.
    pub fn page_of<T>(
        &self,
        all: Vec<T>,
        id: fn(&T) -> &str,
        what: &str,
    ) -> Result<List<T>, Problem> {
        let limit = self.limit()?;
        let start = match &self.starting_after {
            Some(after) => {
                all.iter()
                    .position(|item| id(item) == after)
                    .ok_or_else(|| unknown_cursor(what))?
                    + 1
            }
            None => 0,
        };
        let mut data: Vec<T> = all.into_iter().skip(start).collect();
        let has_more = data.len() > limit;
        data.truncate(limit);
        Ok(List::new(data, has_more, id))
    }
}

pub fn unknown_cursor(what: &str) -> Problem {
    Problem::invalid(vec![FieldError {
        field: "starting_after".into(),
        detail: format!("no such {what}"),
    }])
}

/// A page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct List<T> {
    #[schema(value_type = String)]
    pub object: &'static str,
    pub data: Vec<T>,
    pub has_more: bool,
    /// Give it as `starting_after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    pub fn new(data: Vec<T>, has_more: bool, id: impl Fn(&T) -> &str) -> Self {
        let next_cursor = has_more
            .then(|| data.last().map(|item| id(item).to_owned()))
            .flatten();
        Self {
            object: "list",
            data,
            has_more,
            next_cursor,
        }
    }
}

/// The request's body (at most [`MAX_BODY`]) parsed as JSON `T`, and the raw bytes.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    payload: web::Payload,
) -> Result<(T, Vec<u8>), Problem> {
    let body = read_body(payload).await?;
    Ok((parse_json(&body)?, body))
}

/// As [`read_json`], with `T::default()` for an empty body.
pub async fn read_json_or_default<T: serde::de::DeserializeOwned + Default>(
    payload: web::Payload,
) -> Result<(T, Vec<u8>), Problem> {
    let body = read_body(payload).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok((T::default(), body));
    }
    Ok((parse_json(&body)?, body))
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("the body is not the JSON expected: {e}"),
        )
    })
}

async fn read_body(mut payload: web::Payload) -> Result<Vec<u8>, Problem> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "bad_body",
                "the body could not be read",
            )
        })?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("bodies are limited to {MAX_BODY} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The `Idempotency-Key` header, if plausible (1–255 visible ASCII characters).
pub fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, Problem> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .filter(|v| (1..=255).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(|v| Some(v.to_owned()))
        .ok_or_else(|| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "bad_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        })
}

/// What an idempotent request found: a replay of the first answer, or a key reused for a
/// different request.
pub enum Replay {
    Answer(u16, String),
    Conflict,
}

/// Inside the request's transaction, before doing anything: the first answer given to this
/// key's same request in the last 24 hours, or a conflict. Requests with the same key take
/// turns (an advisory lock on PostgreSQL; SQLite writes one at a time).
pub fn replayed(
    conn: &mut DbConnection,
    api_key_id: i64,
    key: &str,
    request: &[u8],
) -> Result<Option<Replay>, DbError> {
    use crate::db::schema::api_idempotency as idem;
    use diesel::prelude::*;
    let turn = crate::sessions::id_hash(&format!("{api_key_id}:{key}"));
    let turn = i64::from_str_radix(&turn[..15], 16).unwrap_or(0);
    crate::db::take_turns(conn, turn)?;
    let now = unix_now();
    diesel::delete(
        idem::table
            .filter(idem::api_key_id.eq(api_key_id))
            .filter(idem::idempotency_key.eq(key))
            .filter(idem::created_at.lt(now - IDEMPOTENCY_SECS)),
    )
    .execute(conn)?;
    let found: Option<(String, i32, String)> = idem::table
        .filter(idem::api_key_id.eq(api_key_id))
        .filter(idem::idempotency_key.eq(key))
        .select((idem::request_hash, idem::status, idem::body))
        .get_result(conn)
        .optional()?;
    Ok(found.map(|(hash, status, body)| {
        if hash == crate::sessions::id_hash(&String::from_utf8_lossy(request)) {
            Replay::Answer(u16::try_from(status).unwrap_or(200), body)
        } else {
            Replay::Conflict
        }
    }))
}

/// Keeps this key's answer for replays.
pub fn remember_answer(
    conn: &mut DbConnection,
    api_key_id: i64,
    key: &str,
    request: &[u8],
    status: u16,
    body: &str,
) -> Result<(), DbError> {
    use crate::db::schema::api_idempotency as idem;
    use diesel::prelude::*;
    diesel::insert_into(idem::table)
        .values((
            idem::api_key_id.eq(api_key_id),
            idem::idempotency_key.eq(key),
            idem::request_hash.eq(crate::sessions::id_hash(&String::from_utf8_lossy(request))),
            idem::status.eq(i32::from(status)),
            idem::body.eq(body),
            idem::created_at.eq(unix_now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// For a request whose work happens outside one transaction (a refund asks PayTR): replays
/// as [`replayed`], else marks the key as taken (status 0) before the work starts, so a second
/// request with that key is refused while the first runs instead of doing the work again.
pub fn claim(
    conn: &mut DbConnection,
    api_key_id: i64,
    key: &str,
    request: &[u8],
) -> Result<Option<Replay>, DbError> {
    if let Some(replay) = replayed(conn, api_key_id, key, request)? {
        return Ok(Some(replay));
    }
    remember_answer(conn, api_key_id, key, request, 0, "")?;
    Ok(None)
}

/// The answer to a [`claim`]ed key, for its replays.
pub fn settle_claim(
    conn: &mut DbConnection,
    api_key_id: i64,
    key: &str,
    status: u16,
    body: &str,
) -> Result<(), DbError> {
    use crate::db::schema::api_idempotency as idem;
    use diesel::prelude::*;
    diesel::update(
        idem::table
            .filter(idem::api_key_id.eq(api_key_id))
            .filter(idem::idempotency_key.eq(key)),
    )
    .set((idem::status.eq(i32::from(status)), idem::body.eq(body)))
    .execute(conn)?;
    Ok(())
}

/// The answer for a replay.
pub fn replay_answer(replay: Replay) -> Result<HttpResponse, Problem> {
    match replay {
        Replay::Answer(0, _) => Err(Problem::new(
            StatusCode::CONFLICT,
            "request_in_progress",
            "a request with this Idempotency-Key is still being processed; try again shortly",
        )),
        Replay::Answer(status, body) => Ok(HttpResponse::build(
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        )
        .content_type("application/json")
        .insert_header(("Idempotent-Replayed", "true"))
        .body(body)),
        Replay::Conflict => Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request in the last 24 hours",
        )),
    }
}

/// The API's OpenAPI 3.1 document, generated from the handlers' and types' annotations.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "paytr-checkout hosted checkout API",
        version = "1",
        description = "Create checkout sessions your shoppers pay on our pages (with their saved cards), \
            read orders, refund, manage a customer's cards, and receive signed webhooks \
            (Standard Webhooks). Amounts are integer kuruş; errors are RFC 9457 problem+json."
    ),
    paths(
        checkout_sessions::create,
        checkout_sessions::list,
        checkout_sessions::show,
        orders::show,
        orders::create_refund,
        customers::list_cards,
        customers::delete_card,
        subscriptions::show,
        subscriptions::cancel,
        webhooks::create_endpoint,
        webhooks::list_endpoints,
        webhooks::delete_endpoint,
    ),
    modifiers(&BearerKey)
)]
pub struct ApiDoc;

struct BearerKey;

impl utoipa::Modify for BearerKey {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("pk_test_… / pk_live_…")
            .build();
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme("api_key", SecurityScheme::Http(scheme));
    }
}

/// The OpenAPI document as JSON.
pub fn openapi_json() -> String {
    use utoipa::OpenApi;
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

/// `GET /api/openapi.json`.
async fn openapi_document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(openapi_json())
}

async fn unknown_route() -> HttpResponse {
    Problem::not_found("API route").error_response()
}

/// What the audit record of a call needs from its request.
struct AuditStart {
    state: Option<web::Data<AppState>>,
    method: String,
    path: String,
}

fn audit_start(req: &actix_web::dev::ServiceRequest) -> AuditStart {
    AuditStart {
        state: req.app_data::<web::Data<AppState>>().cloned(),
        method: req.method().to_string(),
        path: audited_path(req.path()),
    }
}

/// The path as the audit keeps it: a merchant's `customer_ref` (it may be an e-mail) only as a
/// short hash, enough to tell calls about one customer apart.
fn audited_path(path: &str) -> String {
    const CUSTOMERS: &str = "/api/v1/customers/";
    let path = match path.strip_prefix(CUSTOMERS) {
        Some(rest) => {
            let (customer, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let digest = <sha2::Sha256 as sha2::Digest>::digest(customer.as_bytes());
            let short = crate::paytr::hex(&digest[..6]);
            format!("{CUSTOMERS}~{short}{tail}")
        }
        None => path.to_owned(),
    };
    path.chars().take(200).collect()
}

/// Records every API call: the key (if it authenticated), method, path, status.
async fn audit_finish<B>(start: AuditStart, response: &ServiceResponse<B>) {
    let key = response
        .request()
        .extensions()
        .get::<AuditKey>()
        .map(|k| k.0);
    let status = i32::from(response.status().as_u16());
    let AuditStart {
        state,
        method,
        path,
    } = start;
    let Some(state) = state else { return };
    let recorded = state
        .db
        .write(move |conn| {
            use crate::db::schema::api_audit;
            use diesel::prelude::*;
            diesel::insert_into(api_audit::table)
                .values((
                    api_audit::api_key_id.eq(key),
                    api_audit::method.eq(method),
                    api_audit::path.eq(path),
                    api_audit::status.eq(status),
                    api_audit::created_at.eq(unix_now()),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "API call not audited");
    }
}

/// `/api/openapi.json` and `/api/v1/…` (every route there is in [`ApiDoc`]; a test checks).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/openapi.json", web::get().to(openapi_document));
    cfg.service(
        web::scope("/api/v1")
            .wrap_fn(|req, srv| {
                let start = audit_start(&req);
                let answer = srv.call(req);
                async move {
                    let response = answer.await?;
                    audit_finish(start, &response).await;
                    Ok(response)
                }
            })
            .route(
                "/checkout-sessions",
                web::post().to(checkout_sessions::create),
            )
            .route("/checkout-sessions", web::get().to(checkout_sessions::list))
            .route(
                "/checkout-sessions/{id}",
                web::get().to(checkout_sessions::show),
            )
            .route(
                "/webhook-endpoints",
                web::post().to(webhooks::create_endpoint),
            )
            .route(
                "/webhook-endpoints",
                web::get().to(webhooks::list_endpoints),
            )
            .route(
                "/webhook-endpoints/{id}",
                web::delete().to(webhooks::delete_endpoint),
            )
            .route("/orders/{id}", web::get().to(orders::show))
            .route(
                "/orders/{id}/refunds",
                web::post().to(orders::create_refund),
            )
            .route(
                "/customers/{customer_ref}/cards",
                web::get().to(customers::list_cards),
            )
            .route(
                "/customers/{customer_ref}/cards/{card}",
                web::delete().to(customers::delete_card),
            )
            .route("/subscriptions/{id}", web::get().to(subscriptions::show))
            .route(
                "/subscriptions/{id}/cancel",
                web::post().to(subscriptions::cancel),
            )
            .default_service(web::to(unknown_route)),
    );
}
