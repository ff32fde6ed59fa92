//! `POST /orders/{id}/installments`: the payment page's script sends **only the BIN** (6–8
//! digits) of the number being typed; the answer names the card's family and bank and lists
//! the installment options, each with the fields of a form we signed for exactly that count and
//! total (recomputed here from the order and the stored rates, never taken from the browser).
//! CSRF-protected (a form post), owner-only, rate-limited; no BIN is logged, only its family.

use super::checkout::{Viewer, load_order};
use super::ctx::{Ctx, PostForm, ip_bucket, payment_ip};
use super::errors::PageError;
use super::filters::format_money;
use crate::app_state::AppState;
use crate::checkout::payment_request;
use crate::db::states::{AttemptStatus, OrderStatus};
use crate::installments::{Offer, options, record_offer};
use crate::paytr::types::InstallmentCount;
use crate::paytr::{Bin, BinAnswer, CardSource, PaymentRequest};
use crate::sessions::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

fn json_answer(status: actix_web::http::StatusCode, body: Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .insert_header(("cache-control", "no-store"))
        .body(body.to_string())
}

pub async fn installments(
    req: HttpRequest,
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: PostForm,
) -> Result<HttpResponse, PageError> {
    use actix_web::http::StatusCode;
    let Ok(bin) = Bin::parse(form.get("bin")) else {
        return Ok(json_answer(
            StatusCode::BAD_REQUEST,
            json!({"error": "the first 6 to 8 digits of the card number only"}),
        ));
    };
    let ip = payment_ip(&req, &state)?;
    if !state.bin_limiter.check(&[&ip_bucket(&ip)]).await {
        return Ok(json_answer(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"error": "too many lookups"}),
        ));
    }
    let found = load_order(&state, id.into_inner(), Viewer::of(&ctx, &session)).await?;
    let Some((order, Some(attempt), _, subscription)) = found else {
        return Err(PageError::NotFound);
    };
    let single = json!({"family": null, "bank": null, "options": []});
    if order.status != OrderStatus::Pending
        || attempt.status != AttemptStatus::Pending
        || subscription.is_some()
        || !state.settings.installments.enabled
    {
        return Ok(json_answer(StatusCode::OK, single));
    }
    let info = match state.capi.bin_detail(&bin).await {
        Ok(BinAnswer::Found(info)) => info,
        Ok(BinAnswer::Unknown) => return Ok(json_answer(StatusCode::OK, single)),
        Ok(BinAnswer::Refused(e)) => {
            tracing::warn!(err_no = %e.err_no, "BIN lookup refused by PayTR");
            return Ok(json_answer(StatusCode::OK, single));
        }
        Err(e) => {
            tracing::warn!(error = %e, "BIN lookup failed; single payment only");
            return Ok(json_answer(StatusCode::OK, single));
        }
    };
    let Some(family) = info.family.clone() else {
        return Ok(json_answer(
            StatusCode::OK,
            json!({"family": null, "bank": info.bank, "options": []}),
        ));
    };
    tracing::info!(family = %family, business = info.business, "installment options asked");
    let settings = state.settings.installments.clone();
    // Business and debit cards are paid in one go.
    let one_go = info.business || info.card_type == "debit";
    let (total, attempt_id) = (order.total, attempt.id);
    let offers: Vec<Offer> = {
        let family = family.clone();
        state
            .db
            .write(move |conn| {
                let offers = options(conn, &settings, &family, one_go, total)?;
                for offer in &offers {
                    record_offer(conn, attempt_id, &family, offer)?;
                }
                Ok(offers)
            })
            .await?
    };
    let request = payment_request(&order, &attempt, &state.request_context(ctx.lang))?;
    let lang = ctx.lang;
    let money = |m| format_money(m, order.currency, lang);
    let mut listed = vec![json!({
        "count": 0,
        "total": money(order.total),
        "label": super::i18n::t(lang, "single_payment_option").replace("{total}", &money(order.total)),
        "fields": signed_fields(&state, &request, 0, order.total, None)?,
    })];
    for offer in &offers {
        let label = super::i18n::t(lang, "installment_option")
            .replace("{count}", &offer.count.to_string())
            .replace("{monthly}", &money(offer.monthly))
            .replace("{total}", &money(offer.total));
        listed.push(json!({
            "count": offer.count,
            "total": money(offer.total),
            "label": label,
            "fields": signed_fields(&state, &request, offer.count, offer.total, Some(&family))?,
        }));
    }
    Ok(json_answer(
        StatusCode::OK,
        json!({"family": family, "bank": info.bank, "options": listed}),
    ))
}

/// The signed fields that change with the count: `payment_amount`, `installment_count`,
/// `paytr_token` (and `card_type`, which PayTR needs with installments).
fn signed_fields(
    state: &AppState,
    request: &PaymentRequest,
    count: u8,
    total: crate::domain::Money,
    family: Option<&str>,
) -> Result<Value, PageError> {
    let request = PaymentRequest {
        amount: total,
        installment_count: InstallmentCount::new(count)?,
        ..request.clone()
    };
    let card = CardSource::NewCard {
        store_card: false,
        utoken: None,
    };
    let form = request.form(state.paytr.credentials(), &card)?;
    let mut fields = serde_json::Map::new();
    for name in ["payment_amount", "installment_count", "paytr_token"] {
        fields.insert(name.into(), json!(form.get(name).unwrap_or_default()));
    }
    fields.insert("card_type".into(), json!(family.unwrap_or_default()));
    Ok(Value::Object(fields))
}
