use super::pages::{Layout, render};
use crate::startup::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
}

pub async fn home_page(state: web::Data<AppState>) -> HttpResponse {
    render(
        StatusCode::OK,
        &HomePage {
            layout: Layout::new(&state, "Mağaza"),
        },
    )
}
