//! The web UI (DESIGN §8): server-rendered pages beside the JSON API, on the
//! same floor as `http/`. Pages call the service layer only (`data.rs`
//! holds page-shaped wrappers of its calls), never the store, never
//! `http/routes/*` and never our own API over HTTP. Templates are askama
//! (`templates/`, checked at `cargo build`, auto-escaping); static files are
//! embedded (`assets.rs`); htmx boosts links and forms, and every action is
//! also a plain form POST + 303.

mod admin;
mod assets;
mod audit;
mod backups;
mod columns;
mod dashboard;
mod data;
mod desk;
mod desk_card;
mod exports;
mod import_upload;
mod import_wizard;
mod imports;
mod lead_detail;
mod lead_edit;
mod leads_bulk;
mod leads_list;
mod page;
mod signin;
mod sources;
mod users;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::http::AppState;
pub use page::PageError;

/// Every page route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(signin::form).post(signin::submit))
        .route("/logout", post(signin::sign_out))
        .route("/leads", get(leads_list::page))
        .route("/leads/prefs", post(leads_list::save_prefs))
        .route("/leads/bulk", post(leads_bulk::bulk))
        .route("/leads/bulk/jobs/{id}", get(leads_bulk::job_page))
        .route("/leads/export", post(exports::prepare))
        .route("/leads/{id}/status", post(leads_bulk::inline_status))
        .route("/exports", get(exports::page))
        .route("/exports/download/{token}", get(exports::download))
        .route("/exports/{id}/cancel", post(exports::cancel))
        .route("/leads/{id}", get(lead_detail::page))
        .route("/leads/{id}/remarks", post(lead_detail::add_remark))
        .route("/leads/{id}/call-done", post(lead_detail::call_done))
        .route("/leads/{id}/calls", post(lead_detail::call))
        .route(
            "/leads/{id}/edit",
            get(lead_edit::form).post(lead_edit::submit),
        )
        .route("/users", get(users::page).post(users::create))
        .route("/users/{id}/approve", post(users::approve))
        .route("/users/{id}/role", post(users::change_role))
        .route("/users/{id}/disable", post(users::disable))
        .route("/users/{id}/enable", post(users::enable))
        .route("/users/{id}/reset-password", post(users::reset_password))
        .route("/backups", get(backups::page).post(backups::create))
        .route("/backups/jobs", get(backups::jobs_part))
        .route(
            "/backups/{id}/restore",
            get(backups::confirm).post(backups::restore),
        )
        .route("/backups/{id}/delete", post(backups::delete))
        .route("/audit", get(audit::page))
        .route("/sources", get(sources::page))
        .route("/sources/merge", post(sources::merge))
        .route("/dashboard", get(dashboard::page))
        .route("/dashboard/{file}", get(dashboard::csv))
        // the telecaller desk (issue 21)
        .route("/desk", get(desk::page))
        .route("/desk/leads/{id}/call", post(desk::call))
        .route("/desk/leads/{id}/status", post(desk::status))
        .route("/desk/leads/{id}/remark", post(desk::remark))
        // the import wizard and history (issue 21)
        .route("/imports", get(imports::history))
        .route(
            crate::http::upload::WIZARD_UPLOAD_PATH,
            get(import_upload::new_form)
                .post(import_upload::upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/imports/template.csv", get(import_upload::template))
        .route("/imports/wizard/{id}", get(import_wizard::mapping))
        .route(
            "/imports/wizard/{id}/mapping",
            post(import_wizard::save_mapping),
        )
        .route("/imports/wizard/{id}/preview", get(import_wizard::preview))
        .route("/imports/wizard/{id}/policy", post(import_wizard::policy))
        .route("/imports/wizard/{id}/run", post(import_wizard::run))
        .route("/imports/wizard/{id}/result", get(import_wizard::result))
        .route("/imports/{id}", get(imports::one))
        .route("/imports/{id}/undo", post(imports::undo))
        .route("/static/{file}", get(assets::serve))
        .layer(axum::middleware::from_fn(refuse_cross_site))
}

/// Telecallers start on their desk, everyone else on the leads.
async fn home(user: page::PageUser) -> Response {
    desk::home_for(&user)
}

/// The HTML 404 for any path outside `/api` that no route takes.
pub async fn not_found() -> Response {
    PageError::NotFound.into_response()
}

/// Forms are ours only: a state-changing request must say it comes from
/// this site — `Sec-Fetch-Site: same-origin` where the browser sends it,
/// else an `Origin` naming the host it was sent to. A request with neither
/// is refused too (every browser that runs these pages sends one of them).
/// The session cookie is `SameSite=Strict` as well; this check also covers
/// the sign-in form, which has no session yet (login CSRF).
async fn refuse_cross_site(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || same_site_request(req.headers())
    {
        next.run(req).await
    } else {
        PageError::Forbidden(
            "This form was sent from another site, so it was refused. Open the page in Pulse and try again."
                .into(),
        )
        .into_response()
    }
}

fn same_site_request(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return site.eq_ignore_ascii_case("same-origin");
    }
    let Some(origin) = text(header::ORIGIN) else {
        return false;
    };
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let host = text(header::HeaderName::from_static("x-forwarded-host")).or(text(header::HOST));
    host.is_some_and(|h| h.eq_ignore_ascii_case(origin_host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_site_check() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "pulse.example:8080".parse().unwrap());
        assert!(!same_site_request(&h), "neither header: refused");
        h.insert(header::ORIGIN, "http://pulse.example:8080".parse().unwrap());
        assert!(same_site_request(&h));
        h.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(!same_site_request(&h));
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!same_site_request(&h));
        h.insert("sec-fetch-site", "same-site".parse().unwrap());
        assert!(
            !same_site_request(&h),
            "a sibling subdomain is another site's page"
        );
        h.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(same_site_request(&h));
    }
}
