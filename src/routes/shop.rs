//! The catalogue, product pages and the cart (kept in the session, priced by the server).

use super::ctx::keys;
use super::ctx::{Ctx, PostForm};
use super::filters::{self, Price};
use super::pages::{Layout, message, redirect, render};
use crate::app_state::AppState;
use crate::catalog::Product;
use crate::checkout::{CartLine, MAX_QUANTITY, PricedLine, price_cart};
use crate::domain::{Currency, Lang};
use crate::sessions::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

pub struct ProductView {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub price: Price,
    /// A plan's interval (the key of its words); `None` for a product.
    pub interval: Option<String>,
}

impl ProductView {
    fn new(p: &Product, lang: Lang, currency: Currency) -> Self {
        Self {
            slug: p.slug.clone(),
            name: p.name.get(lang).to_owned(),
            description: p.description.get(lang).to_owned(),
            price: Price::new(p.price, currency),
            interval: None,
        }
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    products: Vec<ProductView>,
    plans: Vec<ProductView>,
}

pub async fn home_page(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session);
    let currency = state.catalog.currency;
    let products = state
        .catalog
        .products()
        .iter()
        .map(|p| ProductView::new(p, ctx.lang, currency))
        .collect();
    let plans = state
        .catalog
        .plans()
        .iter()
        .map(|p| ProductView {
            slug: p.slug.clone(),
            name: p.name.get(ctx.lang).to_owned(),
            description: p.description.get(ctx.lang).to_owned(),
            price: Price::new(p.amount, currency),
            interval: Some(format!("interval_{}", p.interval.code())),
        })
        .collect();
    render(
        StatusCode::OK,
        &HomePage {
            layout: Layout::new(&ctx, "shop"),
            products,
            plans,
        },
    )
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    layout: Layout,
    product: ProductView,
}

pub async fn product_page(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session);
    let Some(product) = state.catalog.find(&slug) else {
        return message(&ctx, StatusCode::NOT_FOUND, "not_found", "not_found");
    };
    let view = ProductView::new(product, ctx.lang, state.catalog.currency);
    render(
        StatusCode::OK,
        &ProductPage {
            layout: Layout::new(&ctx, &view.name),
            product: view,
        },
    )
}

pub struct CartRow {
    pub slug: String,
    pub name: String,
    pub quantity: u32,
    pub total: Price,
}

pub fn cart_rows(lines: &[PricedLine], lang: Lang, currency: Currency) -> Vec<CartRow> {
    lines
        .iter()
        .map(|l| CartRow {
            slug: l.product.slug.clone(),
            name: l.product.name.get(lang).to_owned(),
            quantity: l.quantity,
            total: Price::new(l.total, currency),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "cart.html")]
struct CartPage {
    layout: Layout,
    rows: Vec<CartRow>,
    total: Price,
}

pub fn session_cart(session: &Session) -> Vec<CartLine> {
    session.get(keys::CART).ok().flatten().unwrap_or_default()
}

pub async fn cart_page(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session);
    let (lines, total) = price_cart(&state.catalog, &session_cart(&session));
    let currency = state.catalog.currency;
    let page = CartPage {
        layout: Layout::new(&ctx, "cart"),
        rows: cart_rows(&lines, ctx.lang, currency),
        total: Price::new(total, currency),
    };
    render(StatusCode::OK, &page)
}

fn quantity(value: &str) -> Option<u32> {
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|q| *q <= MAX_QUANTITY)
}

/// `POST /cart/add`: `slug`, optional `quantity` (default 1).
pub async fn add_to_cart(
    session: Session,
    state: web::Data<AppState>,
    form: PostForm,
) -> HttpResponse {
    let slug = form.get("slug");
    let Some(product) = state.catalog.find(slug) else {
        return redirect("/");
    };
    let add = if form.get("quantity").is_empty() {
        Some(1)
    } else {
        quantity(form.get("quantity"))
    };
    let mut cart = session_cart(&session);
    if let Some(add) = add.filter(|q| *q > 0) {
        match cart.iter_mut().find(|l| l.slug == product.slug) {
            Some(line) => line.quantity = (line.quantity + add).min(MAX_QUANTITY),
            None => cart.push(CartLine {
                slug: product.slug.clone(),
                quantity: add,
            }),
        }
        let _ = session.insert(keys::CART, &cart);
    }
    redirect("/cart")
}

/// `POST /cart/update`: `quantity:<slug>` fields; 0 removes the line.
pub async fn update_cart(session: Session, form: PostForm) -> HttpResponse {
    let mut cart = session_cart(&session);
    for line in &mut cart {
        if let Some(q) = form
            .0
            .get(&format!("quantity:{}", line.slug))
            .and_then(|v| quantity(v))
        {
            line.quantity = q;
        }
    }
    if let Some(slug) = form.0.get("remove") {
        cart.retain(|l| &l.slug != slug);
    }
    cart.retain(|l| l.quantity > 0);
    let _ = session.insert(keys::CART, &cart);
    redirect("/cart")
}
