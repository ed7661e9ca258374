//! Privacy on request: legal holds, erasure of clients and buddies, exports of everything held
//! about one of them, and running the retention job on demand. Administrators only.

use std::collections::HashMap;

use crate::api::routes::Routes;
use crate::auth::policy::{
    AuditAction::{Delete, Export, Update},
    ADMINS,
};
use actix_web::web::{Data, Path};
use actix_web::{get, post, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::buddies::{self, Buddy};
use super::exit_interviews::ExitInterview;
use super::pairings::Pairing;
use super::requests::{self, BuddyRequest};
use super::{ActionBody, AppState, Caller, HistoryEntry};
use crate::audit::note_client_ref;
use crate::domain::clock::utc;
use crate::domain::ids::{BuddyId, OrganisationId, RequestId};
use crate::domain::values::{Check, MAX_REASON};
use crate::error::{ApiResult, Problem};
use crate::http::extract::{Json, OptionalJson, Query};
use crate::store::contacts::ContactRow;
use crate::store::history::HistoryRow;
use crate::store::pairings::PairingRow;
use crate::store::privacy as store;

pub fn configure(routes: &mut Routes<'_, '_>) {
    routes
        .add(run_retention, ADMINS.audit(Delete, "buddy_request"))
        .add(
            set_legal_hold,
            ADMINS.audit(Update, "buddy_request").tagged(),
        )
        .add(erase_buddy, ADMINS.audit(Delete, "buddy").tagged())
        .add(export_buddy, ADMINS.audit(Export, "buddy"))
        .add(erase_client, ADMINS.audit(Delete, "buddy_request"))
        .add(export_client, ADMINS.audit(Export, "buddy_request"));
}

fn history(rows: Vec<HistoryRow>) -> ApiResult<Vec<HistoryEntry>> {
    rows.into_iter().map(HistoryEntry::try_from).collect()
}

/// History rows (oldest first) grouped by the entity they belong to, each group oldest first.
fn by_entity(rows: Vec<HistoryRow>) -> HashMap<String, Vec<HistoryRow>> {
    let mut groups: HashMap<String, Vec<HistoryRow>> = HashMap::new();
    for row in rows {
        groups.entry(row.entity_id.clone()).or_default().push(row);
    }
    groups
}

/// Run the retention job once now, as the background job does every
/// `privacy.retention_check_interval_seconds`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({}))]
pub struct RunRetention {}

/// What a run of the retention job did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "anonymised": 3,
    "closed_before": "2025-11-22T09:00:00Z",
    "retention_days": 365
}))]
pub struct RetentionRun {
    /// How many requests had their client contact data anonymised by this run.
    pub anonymised: u64,
    /// Requests closed or withdrawn before this moment were due.
    pub closed_before: DateTime<Utc>,
    /// The configured retention period (`privacy.retention_days`).
    pub retention_days: i64,
}

/// Anonymise, now, the client contact data of every request closed or withdrawn longer ago than
/// the retention period (`privacy.retention_days`) that is not on legal hold. Runs whether or
/// not the background job is enabled; running it again finds nothing new.
#[utoipa::path(
    tag = "privacy",
    request_body(content = Option<RunRetention>, description = "Nothing; the body may be left out"),
    responses((status = 200, description = "The run is done", body = RetentionRun))
)]
#[post("/privacy/retention/run")]
async fn run_retention(
    state: Data<AppState>,
    caller: Caller,
    _body: OptionalJson<RunRetention>,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now_naive();
    let retention = state.retention;
    let anonymised = state
        .change(caller.ctx(now), move |tx| {
            crate::ops::records::run_retention(tx, &retention)
        })
        .await?;
    if anonymised > 0 {
        tracing::info!(anonymised, "retention run on demand");
    }
    Ok(HttpResponse::Ok().json(RetentionRun {
        anonymised,
        closed_before: utc(retention.cutoff(now)),
        retention_days: retention.period.num_days(),
    }))
}

/// Place a request on legal hold or release it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "hold": true, "reason": "Complaint procedure 2026-17 pending" }))]
pub struct LegalHold {
    /// `true` places the hold, `false` releases it.
    pub hold: bool,
    /// Why (e.g. the court case or complaint the data is kept for). Required to place a hold;
    /// kept in the request's history.
    #[schema(schema_with = crate::domain::values::schema::reason_or_null)]
    pub reason: Option<String>,
}

/// Place a buddy request on legal hold, or release it. While held, retention and erasure leave
/// the client's contact data alone.
#[utoipa::path(
    tag = "privacy",
    params(("id" = Uuid, Path, description = "Buddy-request id")),
    request_body = LegalHold,
    responses(
        (status = 200, description = "The request, with its new `legal_hold`", body = BuddyRequest),
        (status = 409, description = "The hold is already as asked, or the contact data is anonymised already",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/buddy-requests/{id}/legal-hold")]
async fn set_legal_hold(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<LegalHold>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut check = Check::new();
    let reason = check.note("reason", body.reason.as_deref(), MAX_REASON);
    if body.hold && reason.is_none() {
        check.fail("reason", "is required to place a legal hold");
    }
    check.finish()?;
    let hold = body.hold;
    let now = state.clock.now_naive();
    let level = state.service_level;
    let id = RequestId::from(id.into_inner());
    let ctx = requests::change_ctx(&caller, now, level, &id);
    let scope = caller.scope();
    let request = state
        .change(ctx, move |tx| -> ApiResult<_> {
            crate::ops::records::set_legal_hold(tx, &id, hold, reason.as_deref())?;
            requests::load_one(tx.conn, &id, scope.as_ref(), level, now)
        })
        .await?;
    tracing::info!(buddy_request = %request.id, hold, "legal hold changed");
    Ok(HttpResponse::Ok().json(request))
}

/// Erase a buddy on request (GDPR art. 17). The buddy is retired if not yet; name and region
/// become `[erased]`, the e-mail address `erased-<id>@invalid`, phone and topics are removed, and
/// so is the free text of their pairings and history. The records stay, without identity.
#[utoipa::path(
    tag = "privacy",
    params(("id" = Uuid, Path, description = "Buddy id")),
    request_body(content = Option<ActionBody>, description = "Optional reason, kept in the history"),
    responses(
        (status = 200, description = "Erased", body = Buddy),
        (status = 409, description = "The buddy has live pairings, or is erased already", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/buddies/{id}/erase")]
async fn erase_buddy(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: OptionalJson<ActionBody>,
) -> ApiResult<HttpResponse> {
    let reason = ActionBody::reason(body.0)?;
    let id = BuddyId::from(id.into_inner());
    let ctx = buddies::change_ctx(&caller, state.clock.now_naive(), &id);
    let buddy = state
        .change(ctx, move |tx| -> ApiResult<_> {
            crate::ops::buddies::erase(tx, &id, reason.as_deref())?;
            buddies::load_one(tx.conn, &id)
        })
        .await?;
    tracing::info!(buddy = %buddy.id, "buddy erased");
    Ok(HttpResponse::Ok().json(buddy))
}

/// A pairing with its history, as exported.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedPairing {
    pub pairing: Pairing,
    /// The pairing's history, oldest first.
    pub history: Vec<HistoryEntry>,
    /// The contact moments the buddy recorded, in the order recorded.
    pub contacts: Vec<ExportedContact>,
}

/// A contact moment in an export. The buddy's note is part of the buddy's export only (it is the
/// buddy's own text); a client's export has the date and kind, as the client bureau sees them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedContact {
    pub id: Uuid,
    /// The day of the contact (Dutch time).
    pub contact_on: chrono::NaiveDate,
    pub kind: crate::domain::contact::ContactKind,
    pub recorded_at: DateTime<Utc>,
    /// The buddy's note (buddy export only; absent when there is none or it was erased).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Whose export a contact moment goes into: the buddy's own note goes to the buddy only.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Notes {
    Kept,
    Left,
}

fn by_pairing(contacts: Vec<ContactRow>) -> HashMap<String, Vec<ContactRow>> {
    let mut map: HashMap<String, Vec<ContactRow>> = HashMap::new();
    for row in contacts {
        map.entry(row.pairing_id.to_string()).or_default().push(row);
    }
    map
}

fn exported_pairings(
    pairings: Vec<PairingRow>,
    history: &mut HashMap<String, Vec<HistoryRow>>,
    contacts: &mut HashMap<String, Vec<ContactRow>>,
    notes: Notes,
) -> ApiResult<Vec<ExportedPairing>> {
    pairings
        .into_iter()
        .map(|row| {
            let entries = self::history(history.remove(row.id.as_str()).unwrap_or_default())?;
            let contacts = contacts
                .remove(row.id.as_str())
                .unwrap_or_default()
                .into_iter()
                .map(|c| {
                    Ok(ExportedContact {
                        id: super::uuid(&c.id)?,
                        contact_on: c.contact_on,
                        kind: c.kind,
                        recorded_at: c.recorded_at.and_utc(),
                        note: if notes == Notes::Kept { c.note } else { None },
                    })
                })
                .collect::<ApiResult<Vec<_>>>()?;
            Ok(ExportedPairing {
                pairing: Pairing::try_from(row)?,
                history: entries,
                contacts,
            })
        })
        .collect()
}

/// Everything held about one buddy (GDPR art. 15 and 20).
#[derive(Debug, Serialize, ToSchema)]
pub struct BuddyExport {
    pub exported_at: DateTime<Utc>,
    /// Profile and screening facts.
    pub buddy: Buddy,
    /// The exit interview at which the buddy said yes, if they were recruited at one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_interview: Option<ExitInterview>,
    /// The buddy's history, oldest first.
    pub history: Vec<HistoryEntry>,
    /// Every pairing the buddy was proposed for, oldest first, with its history. The requests'
    /// client data is not part of a buddy's export.
    pub pairings: Vec<ExportedPairing>,
}

/// Export everything held about a buddy: profile, screening facts, the exit interview that
/// recruited them, their pairings and every history entry.
#[utoipa::path(
    tag = "privacy",
    params(("id" = Uuid, Path, description = "Buddy id")),
    responses((status = 200, description = "The buddy's data", body = BuddyExport))
)]
#[get("/buddies/{id}/export")]
async fn export_buddy(
    state: Data<AppState>,
    _caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let export = buddy_export(&state, BuddyId::from(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(export))
}

/// Everything held about a buddy: the API's export and the console's download.
pub(crate) async fn buddy_export(state: &AppState, id: BuddyId) -> ApiResult<BuddyExport> {
    let now = state.clock.now();
    let (records, load) = state
        .db
        .run(move |conn| -> ApiResult<_> {
            let records = store::buddy_records(conn, &id)?;
            let load = crate::store::buddies::live_load(conn, &id)?;
            Ok((records, load))
        })
        .await?;
    let mut pairing_history = by_entity(records.pairing_history);
    let mut contacts = by_pairing(records.contacts);
    Ok(BuddyExport {
        exported_at: now,
        buddy: Buddy::from_row(records.buddy, load)?,
        exit_interview: records
            .exit_interview
            .map(ExitInterview::try_from)
            .transpose()?,
        history: history(records.history)?,
        pairings: exported_pairings(
            records.pairings,
            &mut pairing_history,
            &mut contacts,
            Notes::Kept,
        )?,
    })
}

/// Names one client: the case system's reference within one organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "organisation_id": "0193a5c4-7d10-7000-8000-00000000a001",
    "client_ref": "CASE-2026-0042",
    "reason": "Erasure request of 2026-11-20"
}))]
pub struct ClientErasure {
    pub organisation_id: Uuid,
    /// The case system's reference for the client.
    #[schema(schema_with = crate::domain::values::schema::client_ref)]
    pub client_ref: String,
    /// Why the client's data is erased (e.g. the date of the client's request); kept in the
    /// history of each request.
    #[schema(schema_with = crate::domain::values::schema::reason_line)]
    pub reason: String,
}

/// The client's requests after erasure.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientErased {
    pub organisation_id: Uuid,
    pub client_ref: String,
    /// How many requests this erasure anonymised (requests anonymised before are left as they are).
    pub anonymised: usize,
    /// Every request of the client, as it is now.
    pub requests: Vec<BuddyRequest>,
}

/// Erase a client on request (GDPR art. 17): the contact data of every request of the client is
/// anonymised as retention would, whatever its age. Refused while a request is open, proposed
/// or matched (the case system withdraws it, or its pairing ends, first) or on legal hold. The
/// requests, their pairings and history stay without the client's contact data; `client_ref`,
/// the case system's pseudonymous reference, stays too.
#[utoipa::path(
    tag = "privacy",
    request_body = ClientErasure,
    responses(
        (status = 200, description = "Erased", body = ClientErased),
        (status = 404, description = "The organisation has no request with this `client_ref`", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "A request of the client is open, proposed, matched or on legal hold, \
            or every one is anonymised already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/privacy/clients/erase")]
async fn erase_client(
    state: Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: Json<ClientErasure>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut check = Check::new();
    let client_ref = check.client_ref("client_ref", &body.client_ref);
    let reason = check.text("reason", &body.reason, MAX_REASON);
    check.finish()?;
    note_client_ref(&req, &client_ref);
    let organisation_id = OrganisationId::from(body.organisation_id);
    let now = state.clock.now_naive();
    let cref = client_ref.clone();
    let (anonymised, rows) = state
        .change(caller.ctx(now), move |tx| {
            crate::ops::records::erase_client(tx, &organisation_id, &cref, &reason)
        })
        .await?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    tracing::info!(buddy_requests = ?ids, anonymised, "client erased");
    let requests = rows
        .into_iter()
        .map(|row| BuddyRequest::from_row(row, None, state.service_level, now))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(ClientErased {
        organisation_id: body.organisation_id,
        client_ref,
        anonymised,
        requests,
    }))
}

/// Which client to export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClientExportQuery {
    /// The organisation whose case system filed the client's requests.
    pub organisation_id: Uuid,
    /// The case system's reference for the client.
    #[param(schema_with = crate::domain::values::schema::client_ref)]
    pub client_ref: String,
}

/// One request of the client, with everything that hangs off it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedRequest {
    /// The request with the client's contact data (what is left of it, if anonymised), its
    /// state, times and legal hold.
    pub request: BuddyRequest,
    /// The request's history, oldest first.
    pub history: Vec<HistoryEntry>,
    /// Every pairing proposed for the request, oldest first, with evaluation and history.
    pub pairings: Vec<ExportedPairing>,
}

/// Everything held about one client (GDPR art. 15 and 20).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientExport {
    pub exported_at: DateTime<Utc>,
    pub organisation_id: Uuid,
    pub client_ref: String,
    /// Every request filed for the client, oldest first.
    pub requests: Vec<ExportedRequest>,
}

/// Export everything held about a client: every request with its contact data, state, times and
/// legal hold, the requests' history, their pairings with evaluation, and the pairings' history.
#[utoipa::path(
    tag = "privacy",
    params(ClientExportQuery),
    responses(
        (status = 200, description = "The client's data", body = ClientExport),
        (status = 404, description = "The organisation has no request with this `client_ref`", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[get("/privacy/clients/export")]
async fn export_client(
    state: Data<AppState>,
    _caller: Caller,
    req: HttpRequest,
    query: Query<ClientExportQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.0;
    let mut check = Check::new();
    let client_ref = check.client_ref("client_ref", &query.client_ref);
    check.finish()?;
    note_client_ref(&req, &client_ref);
    let export = client_export(
        &state,
        OrganisationId::from(query.organisation_id),
        client_ref,
    )
    .await?;
    Ok(HttpResponse::Ok().json(export))
}

/// Everything held about a client: the API's export and the console's download.
pub(crate) async fn client_export(
    state: &AppState,
    organisation_id: OrganisationId,
    client_ref: String,
) -> ApiResult<ClientExport> {
    let organisation = super::uuid(organisation_id.as_str())?;
    let now = state.clock.now();
    let cref = client_ref.clone();
    let records = state
        .db
        .run(move |conn| -> ApiResult<_> {
            Ok(crate::ops::records::client_records(
                conn,
                &organisation_id,
                &cref,
            )?)
        })
        .await?;
    let mut request_history = by_entity(records.request_history);
    let mut pairing_history = by_entity(records.pairing_history);
    let mut contacts = by_pairing(records.contacts);
    let mut pairings: HashMap<RequestId, Vec<PairingRow>> = HashMap::new();
    for pairing in records.pairings {
        pairings
            .entry(pairing.request_id.clone())
            .or_default()
            .push(pairing);
    }
    let mut exported = Vec::with_capacity(records.requests.len());
    for row in records.requests {
        let own = pairings.remove(&row.id).unwrap_or_default();
        let entries = history(request_history.remove(row.id.as_str()).unwrap_or_default())?;
        let latest = own.last().cloned();
        exported.push(ExportedRequest {
            request: BuddyRequest::from_row(row, latest, state.service_level, now.naive_utc())?,
            history: entries,
            pairings: exported_pairings(own, &mut pairing_history, &mut contacts, Notes::Left)?,
        });
    }
    Ok(ClientExport {
        exported_at: now,
        organisation_id: organisation,
        client_ref,
        requests: exported,
    })
}
