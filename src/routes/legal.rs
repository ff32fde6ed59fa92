//! `/legal/{seller,privacy,distance-sales,pre-information}`: the seller's details and the legal
//! texts, linked from every page's footer. The contract here is the blank template (filled with
//! the seller only); the one a shopper accepts is filled with the order and kept with it.

use super::ctx::Ctx;
use super::errors::PageError;
use super::pages::{Layout, render};
use crate::app_state::AppState;
use crate::legal::{Deal, Doc, Party, Seller};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "legal.html")]
struct LegalPage {
    layout: Layout,
    seller: Option<Seller>,
    text: Option<String>,
}

pub async fn legal_page(
    ctx: Ctx,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let page = match slug.as_str() {
        "seller" => LegalPage {
            layout: Layout::new(&ctx, "seller_info"),
            seller: Some(state.legal.seller.clone()),
            text: None,
        },
        slug => {
            let doc = Doc::from_slug(slug).ok_or(PageError::NotFound)?;
            let title = match doc {
                Doc::PreInformation => "pre_information",
                Doc::DistanceSales => "distance_sales",
                Doc::Privacy => "privacy_notice",
            };
            let text = state
                .legal
                .render(doc, ctx.lang, &Party::default(), &Deal::default());
            LegalPage {
                layout: Layout::new(&ctx, title),
                seller: None,
                text: Some(text),
            }
        }
    };
    Ok(render(StatusCode::OK, &page))
}
