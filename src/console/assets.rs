//! The console's one stylesheet, compiled into the binary: no CDN, nothing fetched elsewhere.

use actix_web::http::header;
use actix_web::HttpResponse;

use super::router::Router;
use crate::auth::policy::PUBLIC;

const STYLESHEET: &str = include_str!("assets/console.css");

pub fn routes(router: &mut Router<'_>) {
    router.path("/console/assets/console.css", |p| p.get(PUBLIC, stylesheet));
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, super::CSP))
        .body(STYLESHEET)
}
