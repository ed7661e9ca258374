//! Privacy for administrators: the retention period and a run on demand, legal holds, and a
//! client's or buddy's data exported (AVG art. 15 and 20) or erased (art. 17), through the same
//! operations as the API's `/v1/privacy/...` and `/v1/buddies/{id}/erase|export` (and audited
//! the same way). A client or buddy is reached from their request's or buddy's page; URLs carry
//! ids only, never a client reference or name.

use actix_web::web::{Data, Path, Query};
use actix_web::HttpResponse;
use minijinja::context;

use super::admin::Done;
use super::dashboard::ts;
use super::forms::{self, FieldErrors, FormData, Shown};
use super::page::{download, path_id, see_other, Viewer};
use super::router::Router;
use crate::api::buddies::{self as buddy_api, Buddy};
use crate::api::requests::{self as request_api, BuddyRequest};
use crate::auth::policy::{AuditAction, ADMINS};
use crate::domain::ids::{BuddyId, OrganisationId, RequestId};
use crate::domain::values::MAX_REASON;
use crate::error::{ApiError, ApiResult};
use crate::ops::AppState;

pub fn routes(router: &mut Router<'_>) {
    use AuditAction::{Delete, Export, Read, Update};
    router
        .path("/console/admin/privacy", |p| {
            p.get(ADMINS.audit(AuditAction::Search, "buddy_request"), overview)
        })
        .path("/console/admin/privacy/retention", |p| {
            p.post(ADMINS.audit(Delete, "buddy_request"), run_retention)
        })
        .path("/console/admin/privacy/requests/{id}", |p| {
            p.get(ADMINS.audit(Read, "buddy_request"), request_page)
        })
        .path("/console/admin/privacy/requests/{id}/hold", |p| {
            p.post(ADMINS.audit(Update, "buddy_request"), hold)
        })
        .path("/console/admin/privacy/requests/{id}/export.json", |p| {
            p.get(ADMINS.audit(Export, "buddy_request"), export_client)
        })
        .path("/console/admin/privacy/requests/{id}/erase", |p| {
            p.post(ADMINS.audit(Delete, "buddy_request"), erase_client)
        })
        .path("/console/admin/privacy/buddies/{id}", |p| {
            p.get(ADMINS.audit(Read, "buddy"), buddy_page)
        })
        .path("/console/admin/privacy/buddies/{id}/export.json", |p| {
            p.get(ADMINS.audit(Export, "buddy"), export_buddy)
        })
        .path("/console/admin/privacy/buddies/{id}/erase", |p| {
            p.post(ADMINS.audit(Delete, "buddy"), erase_buddy)
        });
}

async fn overview(viewer: Viewer, state: Data<AppState>, done: Query<Done>) -> HttpResponse {
    let done = done.key(&["retention_run"]);
    let result = async {
        let now = state.clock.now_naive();
        let level = state.service_level;
        let rows = state
            .db
            .run(|conn| -> ApiResult<_> { Ok(crate::store::console::held_requests(conn)?) })
            .await?;
        let held = rows
            .into_iter()
            .map(|row| BuddyRequest::from_row(row, None, level, now))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(viewer.page(
            "admin_privacy.html",
            context! {
                held => held,
                retention_days => state.retention.period.num_days(),
                done => done,
            },
        ))
    }
    .await;
    viewer.respond(result)
}

async fn run_retention(viewer: Viewer, state: Data<AppState>, _form: FormData) -> HttpResponse {
    let now = state.clock.now_naive();
    let retention = state.retention;
    let ran = state
        .change(viewer.ctx(now), move |tx| {
            crate::ops::records::run_retention(tx, &retention)
        })
        .await;
    match ran {
        Ok(_) => see_other("/console/admin/privacy?done=retention_run"),
        Err(e) => viewer.error(&ApiError::from(e)),
    }
}

async fn load_request(state: &AppState, id: RequestId) -> ApiResult<BuddyRequest> {
    let (now, level) = (state.clock.now_naive(), state.service_level);
    state
        .db
        .run(move |conn| request_api::load_one(conn, &id, None, level, now))
        .await
}

async fn request_view(
    viewer: &Viewer,
    state: &AppState,
    id: RequestId,
    shown: Shown,
) -> ApiResult<HttpResponse> {
    let request = load_request(state, id).await?;
    Ok(viewer.page_with(
        shown.status,
        "admin_privacy_request.html",
        context! {
            request => request,
            values => shown.values,
            errors => shown.errors.to_value(),
            done => shown.done,
            problem => shown.problem,
            now => ts(state.clock.now_naive()),
        },
    ))
}

async fn request_page(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    done: Query<Done>,
) -> HttpResponse {
    let done = done.key(&["hold_placed", "hold_released"]);
    let result = async {
        let id = RequestId::from(path_id(&id, "buddy_request")?);
        request_view(&viewer, &state, id, Shown::done(viewer.lang, done)).await
    }
    .await;
    viewer.respond(result)
}

async fn hold(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    let result = async {
        let id = RequestId::from(path_id(&id, "buddy_request")?);
        let mut errors = FieldErrors::new(viewer.lang);
        let place = forms::choice(&form, &mut errors, "hold", &["place", "release"]);
        let reason = forms::optional(&form, &mut errors, "reason", MAX_REASON);
        if place.as_deref() == Some("place") && reason.is_none() {
            errors.fail("reason", "privacy.reason_for_hold");
        }
        if !errors.is_empty() {
            return request_view(&viewer, &state, id, Shown::invalid(&form, errors)).await;
        }
        let hold = place.as_deref() == Some("place");
        let now = state.clock.now_naive();
        let target = id.clone();
        let changed = state
            .change(viewer.ctx(now), move |tx| {
                crate::ops::records::set_legal_hold(tx, &target, hold, reason.as_deref())
            })
            .await;
        match changed {
            Ok(_) => {
                let done = if hold { "hold_placed" } else { "hold_released" };
                Ok(see_other(&format!(
                    "/console/admin/privacy/requests/{id}?done={done}"
                )))
            }
            Err(e) => refused(&viewer, &state, id, &form, ApiError::from(e)).await,
        }
    }
    .await;
    viewer.respond(result)
}

/// The request's privacy page again, with why the change was refused.
async fn refused(
    viewer: &Viewer,
    state: &AppState,
    id: RequestId,
    form: &FormData,
    e: ApiError,
) -> ApiResult<HttpResponse> {
    if matches!(e, ApiError::NotFound { .. }) {
        return Err(e);
    }
    request_view(viewer, state, id, Shown::refused(viewer.lang, form, &e)).await
}

async fn export_client(viewer: Viewer, state: Data<AppState>, id: Path<String>) -> HttpResponse {
    let result = async {
        let id = RequestId::from(path_id(&id, "buddy_request")?);
        let request = load_request(&state, id).await?;
        viewer.concerns(request.client_ref.clone());
        let export = crate::api::privacy::client_export(
            &state,
            OrganisationId::from(request.organisation_id),
            request.client_ref.clone(),
        )
        .await?;
        let body =
            serde_json::to_vec_pretty(&export).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(download(
            "application/json",
            &format!("client-export-{}.json", request.id),
            body,
        ))
    }
    .await;
    viewer.respond(result)
}

async fn erase_client(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    let result = async {
        let id = RequestId::from(path_id(&id, "buddy_request")?);
        let request = load_request(&state, id.clone()).await?;
        let mut errors = FieldErrors::new(viewer.lang);
        let reason = forms::required(&form, &mut errors, "erase_reason", MAX_REASON);
        if !form.has("confirm") {
            errors.fail("confirm", "privacy.confirm_needed");
        }
        if !errors.is_empty() {
            return request_view(&viewer, &state, id, Shown::invalid(&form, errors)).await;
        }
        let organisation = OrganisationId::from(request.organisation_id);
        let client_ref = request.client_ref.clone();
        let now = state.clock.now_naive();
        let erased = state
            .change(viewer.ctx(now), move |tx| {
                crate::ops::records::erase_client(tx, &organisation, &client_ref, &reason)
            })
            .await;
        match erased {
            Ok(_) => Ok(see_other(&format!(
                "/console/admin/privacy/requests/{id}?done=client_erased"
            ))),
            Err(e) => refused(&viewer, &state, id, &form, ApiError::from(e)).await,
        }
    }
    .await;
    viewer.respond(result)
}

async fn load_buddy(state: &AppState, id: BuddyId) -> ApiResult<Buddy> {
    state
        .db
        .run(move |conn| buddy_api::load_one(conn, &id))
        .await
}

async fn buddy_view(
    viewer: &Viewer,
    state: &AppState,
    id: BuddyId,
    shown: Shown,
) -> ApiResult<HttpResponse> {
    let buddy = load_buddy(state, id).await?;
    Ok(viewer.page_with(
        shown.status,
        "admin_privacy_buddy.html",
        context! {
            buddy => buddy,
            values => shown.values,
            errors => shown.errors.to_value(),
            done => shown.done,
            problem => shown.problem,
        },
    ))
}

async fn buddy_page(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    done: Query<Done>,
) -> HttpResponse {
    let done = done.key(&["buddy_erased"]);
    let result = async {
        let id = BuddyId::from(path_id(&id, "buddy")?);
        buddy_view(&viewer, &state, id, Shown::done(viewer.lang, done)).await
    }
    .await;
    viewer.respond(result)
}

async fn export_buddy(viewer: Viewer, state: Data<AppState>, id: Path<String>) -> HttpResponse {
    let result = async {
        let id = BuddyId::from(path_id(&id, "buddy")?);
        let export = crate::api::privacy::buddy_export(&state, id.clone()).await?;
        let body =
            serde_json::to_vec_pretty(&export).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(download(
            "application/json",
            &format!("buddy-export-{id}.json"),
            body,
        ))
    }
    .await;
    viewer.respond(result)
}

async fn erase_buddy(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    let result = async {
        let id = BuddyId::from(path_id(&id, "buddy")?);
        load_buddy(&state, id.clone()).await?;
        let mut errors = FieldErrors::new(viewer.lang);
        let reason = forms::optional(&form, &mut errors, "erase_reason", MAX_REASON);
        if !form.has("confirm") {
            errors.fail("confirm", "privacy.confirm_needed");
        }
        if !errors.is_empty() {
            return buddy_view(&viewer, &state, id, Shown::invalid(&form, errors)).await;
        }
        let now = state.clock.now_naive();
        let target = id.clone();
        let erased = state
            .change(viewer.ctx(now), move |tx| {
                crate::ops::buddies::erase(tx, &target, reason.as_deref())
            })
            .await;
        match erased {
            Ok(_) => Ok(see_other(&format!(
                "/console/admin/privacy/buddies/{id}?done=buddy_erased"
            ))),
            Err(e) => {
                let e = ApiError::from(e);
                if matches!(e, ApiError::NotFound { .. }) {
                    return Err(e);
                }
                buddy_view(&viewer, &state, id, Shown::refused(viewer.lang, &form, &e)).await
            }
        }
    }
    .await;
    viewer.respond(result)
}

pub const TEXTS: &[(&str, &str, &str)] = &[
    ("privacy.title", "Privacy", "Privacy"),
    ("privacy.retention", "Contactgegevens van cliënten worden {days} dagen na het sluiten of intrekken van een aanvraag geanonimiseerd, behalve bij een juridische bewaarplicht. Dit gebeurt dagelijks vanzelf.", "Client contact data is anonymised {days} days after a request is closed or withdrawn, except under a legal hold. This happens daily by itself."),
    ("privacy.run_retention", "Bewaartermijn nu toepassen", "Apply retention now"),
    ("privacy.held", "Aanvragen met juridische bewaarplicht", "Requests on legal hold"),
    ("privacy.no_held", "Geen aanvragen met juridische bewaarplicht.", "No requests on legal hold."),
    ("privacy.reach", "Inzage, export en verwijdering doet u vanaf de pagina van een aanvraag of maatje (knop ‘Privacy’).", "Access, export and erasure start from a request's or buddy's page (the ‘Privacy’ button)."),
    ("privacy.request_title", "Privacy van aanvraag {ref}", "Privacy of request {ref}"),
    ("privacy.buddy_title", "Privacy van maatje {name}", "Privacy of buddy {name}"),
    ("privacy.legal_hold", "Juridische bewaarplicht", "Legal hold"),
    ("privacy.on_hold", "Deze aanvraag valt onder een juridische bewaarplicht: bewaartermijn en verwijdering laten de contactgegevens met rust.", "This request is on legal hold: retention and erasure leave the contact data alone."),
    ("privacy.not_on_hold", "Geen juridische bewaarplicht.", "No legal hold."),
    ("privacy.place_hold", "Bewaarplicht instellen", "Place a legal hold"),
    ("privacy.release_hold", "Bewaarplicht opheffen", "Release the legal hold"),
    ("privacy.hold_reason", "Reden (bijvoorbeeld de zaak of klacht)", "Reason (e.g. the case or complaint)"),
    ("privacy.reason_for_hold", "Geef de reden van de bewaarplicht.", "Give the reason for the hold."),
    ("privacy.export", "Export (AVG art. 15 en 20)", "Export (GDPR art. 15 and 20)"),
    ("privacy.export_client", "Alle gegevens van deze cliënt downloaden (JSON)", "Download all data of this client (JSON)"),
    ("privacy.export_buddy", "Alle gegevens van dit maatje downloaden (JSON)", "Download all data of this buddy (JSON)"),
    ("privacy.erase", "Verwijderen (AVG art. 17)", "Erase (GDPR art. 17)"),
    ("privacy.erase_client_help", "Anonimiseert de contactgegevens in alle aanvragen van deze cliënt bij deze organisatie. Kan niet zolang een aanvraag loopt of onder bewaarplicht valt. Dit is niet terug te draaien.", "Anonymises the contact data in every request of this client at this organisation. Not possible while a request is running or on legal hold. This cannot be undone."),
    ("privacy.erase_buddy_help", "Het maatje stopt (als dat nog niet zo is); naam, e-mail, telefoon en vrije tekst worden verwijderd. Kan niet zolang het maatje lopende koppelingen heeft. Dit is niet terug te draaien.", "The buddy is retired (if not yet); name, e-mail, phone and free text are removed. Not possible while the buddy has running pairings. This cannot be undone."),
    ("privacy.erase_reason", "Reden van het verzoek", "Reason of the request"),
    ("privacy.confirm", "Ik begrijp dat dit niet terug te draaien is", "I understand this cannot be undone"),
    ("privacy.confirm_needed", "Bevestig dat u dit wilt.", "Please confirm."),
    ("privacy.erase_client", "Cliëntgegevens verwijderen", "Erase the client's data"),
    ("privacy.erase_buddy", "Maatje verwijderen", "Erase the buddy"),
    ("privacy.anonymised", "De contactgegevens van deze aanvraag zijn geanonimiseerd.", "The contact data of this request is anonymised."),
    ("privacy.erased", "Dit maatje is verwijderd.", "This buddy is erased."),
    ("privacy.client_ref", "Cliëntverwijzing", "Client reference"),
    ("privacy.open_request", "Naar de aanvraag", "To the request"),
    ("privacy.open_buddy", "Naar het maatje", "To the buddy"),
    ("done.retention_run", "De bewaartermijn is toegepast.", "Retention was applied."),
    ("done.hold_placed", "De bewaarplicht is ingesteld.", "The legal hold was placed."),
    ("done.hold_released", "De bewaarplicht is opgeheven.", "The legal hold was released."),
    ("done.client_erased", "De gegevens van de cliënt zijn geanonimiseerd.", "The client's data was anonymised."),
    ("done.buddy_erased", "Het maatje is verwijderd.", "The buddy was erased."),
];
