//! `/v1/buddies`: volunteer buddies, their profile, screening and lifecycle.

use crate::api::routes::Routes;
use crate::auth::policy::{
    AuditAction::{Create, Read, Search, Update},
    STAFF_ONLY,
};
use actix_web::web::{Data, Path};
use actix_web::{get, patch, post, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    created, history_page, non_null, present, uuid, AppState, Caller, HistoryPage, HistoryQuery,
};
use crate::domain::buddy::{BuddyAction, BuddyState, MailLanguage, MeasureKind, Screening};
use crate::domain::clock::utc;
use crate::domain::ids::{BuddyId, OrganisationId};
use crate::domain::values::{Check, MAX_NAME};
use crate::error::{ApiResult, Problem};
use crate::http::extract::{Json, Query};
use crate::http::pagination::PageRequest;
use crate::ops;
use crate::store::buddies::{self as store, BuddyRow, Profile, ProfileChange};

pub fn configure(routes: &mut Routes<'_, '_>) {
    routes
        .add(register_buddy, STAFF_ONLY.audit(Create, "buddy").tagged())
        .add(list_buddies, STAFF_ONLY.audit(Search, "buddy"))
        .add(get_buddy, STAFF_ONLY.audit(Read, "buddy").tagged())
        .add(update_buddy, STAFF_ONLY.audit(Update, "buddy").tagged())
        .add(
            start_buddy_screening,
            STAFF_ONLY.audit(Update, "buddy").tagged(),
        )
        .add(activate_buddy, STAFF_ONLY.audit(Update, "buddy").tagged())
        .add(pause_buddy, STAFF_ONLY.audit(Update, "buddy").tagged())
        .add(resume_buddy, STAFF_ONLY.audit(Update, "buddy").tagged())
        .add(retire_buddy, STAFF_ONLY.audit(Update, "buddy").tagged())
        .add(buddy_history, STAFF_ONLY.audit(Read, "buddy"));
}

pub const MIN_CAPACITY: u8 = 1;
pub const MAX_CAPACITY: u8 = 10;

/// A buddy's profile and screening facts as sent on creation (directly, or as the candidate of
/// an exit interview answered `yes`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "organisation_id": "0193a5c4-7d10-7000-8000-00000000a001",
    "name": "Sam de Vries",
    "email": "sam.devries@example.org",
    "phone": "+31 6 12345678",
    "mail_language": "nl",
    "languages": ["nl", "en"],
    "region": "Utrecht",
    "experience": ["out_of_home_placement"],
    "topics": ["school"],
    "capacity": 2,
    "vog_issued_on": "2026-10-01"
}))]
pub struct BuddyInput {
    /// The recruiting organisation. Required when registering a buddy directly; left out in an
    /// exit interview's `candidate`, where it is the interview's organisation (a refusal is a 400 `urn:maatje:problem:validation` naming the field).
    pub organisation_id: Option<Uuid>,
    /// Full name.
    #[schema(schema_with = crate::domain::values::schema::name)]
    pub name: String,
    #[schema(schema_with = crate::domain::values::schema::email)]
    pub email: String,
    #[schema(schema_with = crate::domain::values::schema::optional_phone)]
    pub phone: Option<String>,
    /// Language of the e-mails (and response pages) the buddy receives. Left out: one they
    /// speak, `en` when `languages` holds `en` but not `nl`, otherwise `nl`.
    pub mail_language: Option<MailLanguage>,
    /// Languages spoken, ISO 639-1 codes (1 to 10).
    #[schema(schema_with = crate::domain::values::schema::languages)]
    pub languages: Vec<String>,
    /// Municipality or region code.
    #[schema(schema_with = crate::domain::values::schema::region)]
    pub region: String,
    /// Kinds of measure the buddy lived through.
    #[serde(default)]
    #[schema(schema_with = crate::domain::values::schema::measure_kinds)]
    pub experience: Vec<MeasureKind>,
    /// Other topics the buddy has experience with (at most 20, 100 characters each).
    #[serde(default)]
    #[schema(schema_with = crate::domain::values::schema::topics)]
    pub topics: Vec<String>,
    /// Maximum number of concurrent pairings, 1 to 10 (default 1).
    #[schema(minimum = 1, maximum = 10)]
    pub capacity: Option<u8>,
    /// Issue date of the VOG (certificate of conduct). This and the other screening dates must
    /// not lie in the future (a refusal is a 400 `urn:maatje:problem:validation` naming the field).
    pub vog_issued_on: Option<NaiveDate>,
    /// When the buddy completed the training; not in the future.
    pub training_completed_on: Option<NaiveDate>,
    /// When the buddy signed the agreement; not in the future.
    pub agreement_signed_on: Option<NaiveDate>,
}

fn not_after_today(check: &mut Check, field: &str, date: Option<NaiveDate>, today: NaiveDate) {
    if date.is_some_and(|d| d > today) {
        check.fail(field, "must not lie in the future");
    }
}

fn capacity(check: &mut Check, field: &str, value: u8) -> i32 {
    if !(MIN_CAPACITY..=MAX_CAPACITY).contains(&value) {
        check.fail(
            field,
            format!("must be between {MIN_CAPACITY} and {MAX_CAPACITY}"),
        );
    }
    i32::from(value)
}

impl BuddyInput {
    /// Validates the profile, naming fields under `prefix` (e.g. `candidate.`).
    pub fn validate(self, check: &mut Check, prefix: &str, today: NaiveDate) -> Profile {
        let f = |name: &str| format!("{prefix}{name}");
        for (name, date) in [
            ("vog_issued_on", self.vog_issued_on),
            ("training_completed_on", self.training_completed_on),
            ("agreement_signed_on", self.agreement_signed_on),
        ] {
            not_after_today(check, &f(name), date, today);
        }
        Profile {
            full_name: check.text(&f("name"), &self.name, MAX_NAME),
            email: check.email(&f("email"), &self.email),
            phone: self.phone.map(|p| check.phone(&f("phone"), &p)),
            mail_language: MailLanguage::for_new_buddy(self.mail_language, &self.languages),
            languages: check.languages(&f("languages"), &self.languages),
            region: check.region(&f("region"), &self.region),
            experience: check.distinct(&f("experience"), &self.experience),
            topics: check.topics(&f("topics"), &self.topics),
            capacity: capacity(check, &f("capacity"), self.capacity.unwrap_or(1)),
            screening: Screening {
                vog_issued_on: self.vog_issued_on,
                training_completed_on: self.training_completed_on,
                agreement_signed_on: self.agreement_signed_on,
            },
        }
    }
}

/// A partial update of the profile and screening facts (JSON merge-patch style: fields left
/// out stay as they are; `null` clears the optional ones and is refused for the others).
/// At least one field must be named; a body with none is a 400 `urn:maatje:problem:validation`.
/// The state is changed only by actions.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    example = json!({ "region": "Amersfoort", "phone": null, "capacity": 2 }),
    min_properties = 1
)]
pub struct BuddyPatch {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(schema_with = crate::domain::values::schema::name)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(schema_with = crate::domain::values::schema::email)]
    pub email: Option<String>,
    /// `null` removes the phone number.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = crate::domain::values::schema::phone_or_null)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = MailLanguage)]
    pub mail_language: Option<MailLanguage>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(schema_with = crate::domain::values::schema::languages)]
    pub languages: Option<Vec<String>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(schema_with = crate::domain::values::schema::region)]
    pub region: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(schema_with = crate::domain::values::schema::measure_kinds)]
    pub experience: Option<Vec<MeasureKind>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(schema_with = crate::domain::values::schema::topics)]
    pub topics: Option<Vec<String>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = u8, minimum = 1, maximum = 10)]
    pub capacity: Option<u8>,
    /// `null` removes the date.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub vog_issued_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub training_completed_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub agreement_signed_on: Option<Option<NaiveDate>>,
}

impl BuddyPatch {
    /// The checked change (the console's profile and screening forms use it too).
    pub(crate) fn validate(self, today: NaiveDate) -> ApiResult<ProfileChange> {
        let mut check = Check::new();
        for (name, date) in [
            ("vog_issued_on", self.vog_issued_on.flatten()),
            (
                "training_completed_on",
                self.training_completed_on.flatten(),
            ),
            ("agreement_signed_on", self.agreement_signed_on.flatten()),
        ] {
            not_after_today(&mut check, name, date, today);
        }
        let change = ProfileChange {
            full_name: self.name.map(|v| check.text("name", &v, MAX_NAME)),
            email: self.email.map(|v| check.email("email", &v)),
            phone: self.phone.map(|v| v.map(|p| check.phone("phone", &p))),
            mail_language: self.mail_language,
            languages: self.languages.map(|v| check.languages("languages", &v)),
            region: self.region.map(|v| check.region("region", &v)),
            experience: self.experience.map(|v| check.distinct("experience", &v)),
            topics: self.topics.map(|v| check.topics("topics", &v)),
            capacity: self.capacity.map(|v| capacity(&mut check, "capacity", v)),
            vog_issued_on: self.vog_issued_on,
            training_completed_on: self.training_completed_on,
            agreement_signed_on: self.agreement_signed_on,
            availability_notes: None,
        };
        if change.field_names().is_empty() {
            check.fail("", "the body names no field to change");
        }
        check.finish()?;
        Ok(change)
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5c4-7d10-7000-8000-00000000c001",
    "organisation_id": "0193a5c4-7d10-7000-8000-00000000a001",
    "state": "active",
    "name": "Sam de Vries",
    "email": "sam.devries@example.org",
    "phone": "+31 6 12345678",
    "mail_language": "nl",
    "languages": ["nl", "en"],
    "region": "Utrecht",
    "experience": ["out_of_home_placement"],
    "topics": ["school"],
    "capacity": 2,
    "live_pairings": 1,
    "vog_issued_on": "2026-10-01",
    "training_completed_on": "2026-11-10",
    "agreement_signed_on": "2026-11-12",
    "created_at": "2026-11-02T09:00:00Z",
    "updated_at": "2026-11-12T14:30:00Z"
}))]
pub struct Buddy {
    pub id: Uuid,
    /// The recruiting organisation.
    pub organisation_id: Uuid,
    pub state: BuddyState,
    pub name: String,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub mail_language: MailLanguage,
    pub languages: Vec<String>,
    pub region: String,
    pub experience: Vec<MeasureKind>,
    pub topics: Vec<String>,
    /// Maximum number of concurrent pairings.
    pub capacity: i32,
    /// Current live (proposed, accepted or active) pairings.
    pub live_pairings: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vog_issued_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub training_completed_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement_signed_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the buddy was erased on request: name, e-mail, phone, region and topics then hold
    /// placeholders (`[erased]`, `erased-<id>@invalid`) or nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<DateTime<Utc>>,
}

crate::page_type!(BuddyPage, Buddy, "buddies");

impl Buddy {
    pub fn from_row(row: BuddyRow, live_pairings: i64) -> ApiResult<Self> {
        Ok(Buddy {
            id: uuid(&row.id)?,
            organisation_id: uuid(&row.organisation_id)?,
            state: row.state,
            mail_language: row.mail_language,
            languages: row.languages()?,
            experience: row.experience()?,
            topics: row.topics()?,
            name: row.full_name,
            email: row.email,
            phone: row.phone,
            region: row.region,
            capacity: row.capacity,
            live_pairings,
            vog_issued_on: row.vog_issued_on,
            training_completed_on: row.training_completed_on,
            agreement_signed_on: row.agreement_signed_on,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            erased_at: row.erased_at.map(utc),
        })
    }
}

/// Loads a buddy with its current load.
pub(crate) fn load_one(conn: &mut crate::db::DbConnection, id: &BuddyId) -> ApiResult<Buddy> {
    let row = store::find(conn, id)?;
    let load = store::live_load(conn, &row.id)?;
    Buddy::from_row(row, load)
}

/// The context of a change to buddy `id`: its `If-Match`, if sent, is compared with the buddy as
/// `GET /v1/buddies/{id}` shows it ([`Caller::ctx_on`]).
pub(crate) fn change_ctx(caller: &Caller, now: chrono::NaiveDateTime, id: &BuddyId) -> ops::Ctx {
    let current = id.clone();
    caller.ctx_on(now, store::row(id), move |conn| load_one(conn, &current))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BuddyQuery {
    /// Only buddies in this state.
    pub state: Option<BuddyState>,
    /// Only buddies recruited by this organisation.
    pub organisation_id: Option<Uuid>,
    /// Only buddies in this region (exact match).
    #[param(schema_with = crate::domain::values::schema::region)]
    pub region: Option<String>,
    /// Only buddies who speak this language (ISO 639-1).
    #[param(schema_with = crate::domain::values::schema::language)]
    pub language: Option<String>,
    /// Only buddies with experience of this kind of measure.
    pub experience: Option<MeasureKind>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(schema_with = crate::http::pagination::cursor_schema)]
    pub cursor: Option<String>,
}

/// Register a buddy directly (state `candidate`). Buddies recruited at an exit interview are
/// created by recording the interview instead.
#[utoipa::path(
    tag = "buddies",
    request_body = BuddyInput,
    responses(
        (status = 201, description = "Registered as candidate", body = Buddy,
            headers(("Location" = String, description = "URL of the new buddy"))),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The organisation is inactive", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/buddies")]
async fn register_buddy(
    state: Data<AppState>,
    caller: Caller,
    body: Json<BuddyInput>,
) -> ApiResult<HttpResponse> {
    let input = body.0;
    let mut check = Check::new();
    let organisation_id = input.organisation_id;
    if organisation_id.is_none() {
        check.fail("organisation_id", "is required");
    }
    let profile = input.validate(&mut check, "", state.clock.today());
    check.finish()?;
    let organisation_id = OrganisationId::from(organisation_id.expect("checked"));
    let now = state.clock.now_naive();
    let row = state
        .change(caller.ctx(now), move |tx| {
            crate::ops::buddies::register(tx, &organisation_id, profile)
        })
        .await?;
    let body = Buddy::from_row(row, 0)?;
    Ok(created(format!("/v1/buddies/{}", body.id), &body))
}

/// List buddies, oldest first.
#[utoipa::path(
    tag = "buddies",
    params(BuddyQuery),
    responses((status = 200, description = "One page of buddies", body = BuddyPage))
)]
#[get("/buddies")]
async fn list_buddies(
    state: Data<AppState>,
    _caller: Caller,
    query: Query<BuddyQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.0;
    let mut check = Check::new();
    let page = PageRequest::parse(
        "buddies",
        query.limit,
        query.cursor.as_deref(),
        check.errors_mut(),
    );
    let language = query.language.map(|l| check.language("language", &l));
    let region = query.region.map(|r| check.region("region", &r));
    check.finish()?;
    let filter = store::Filter {
        state: query.state,
        organisation_id: query.organisation_id.map(OrganisationId::from),
        region,
        language,
        experience: query.experience,
    };
    let request = page.clone();
    let (rows, loads) = state
        .db
        .run(move |conn| -> ApiResult<_> {
            let rows = store::list(conn, &filter, &request)?;
            let ids: Vec<BuddyId> = rows.iter().map(|r| r.id.clone()).collect();
            let loads = store::live_loads(conn, &ids)?;
            Ok((rows, loads))
        })
        .await?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id.as_str());
    let items = rows
        .into_iter()
        .map(|row| {
            let n = loads.get(&row.id).copied().unwrap_or(0);
            Buddy::from_row(row, n)
        })
        .collect::<ApiResult<_>>()?;
    Ok(HttpResponse::Ok().json(BuddyPage { items, next_cursor }))
}

/// Read one buddy.
#[utoipa::path(
    tag = "buddies",
    params(("id" = Uuid, Path, description = "Buddy id")),
    responses((status = 200, description = "The buddy", body = Buddy))
)]
#[get("/buddies/{id}")]
async fn get_buddy(
    state: Data<AppState>,
    _caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = BuddyId::from(id.into_inner());
    let buddy = state
        .db
        .run(move |conn| -> ApiResult<_> { load_one(conn, &id) })
        .await?;
    Ok(HttpResponse::Ok().json(buddy))
}

/// Change profile fields or screening facts. The state changes only through the actions.
#[utoipa::path(
    tag = "buddies",
    params(("id" = Uuid, Path, description = "Buddy id")),
    request_body = BuddyPatch,
    responses(
        (status = 200, description = "Updated", body = Buddy),
        (status = 409, description = "Changed concurrently by another request, or the buddy is erased", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[patch("/buddies/{id}")]
async fn update_buddy(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<BuddyPatch>,
) -> ApiResult<HttpResponse> {
    let change = body.0.validate(state.clock.today())?;
    let id = BuddyId::from(id.into_inner());
    let ctx = change_ctx(&caller, state.clock.now_naive(), &id);
    let buddy = state
        .change(ctx, move |tx| -> ApiResult<_> {
            ops::buddies::update_profile(tx, &id, change)?;
            load_one(tx.conn, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(buddy))
}

async fn act(
    state: Data<AppState>,
    caller: Caller,
    id: Uuid,
    action: BuddyAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    let id = BuddyId::from(id);
    let ctx = change_ctx(&caller, state.clock.now_naive(), &id);
    let buddy = state
        .change(ctx, move |tx| -> ApiResult<_> {
            ops::buddies::act(tx, &id, action, None, reason.as_deref())?;
            load_one(tx.conn, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(buddy))
}

action_endpoint!(
    #[doc = "Start screening a candidate (VOG, training, agreement)."]
    start_buddy_screening: POST "/buddies/{id}/start-screening",
    tag = "buddies", id = "Buddy id", body = "Optional reason, kept in the history",
    ok = (Buddy, "Now in screening"), conflict = "The buddy is not a candidate",
    act(BuddyAction::StartScreening)
);
action_endpoint!(
    #[doc = "Activate a screened buddy. Requires a VOG issued at most 3 months ago, completed training and a signed agreement."]
    activate_buddy: POST "/buddies/{id}/activate",
    tag = "buddies", id = "Buddy id", body = "Optional reason, kept in the history",
    ok = (Buddy, "Now active: can be proposed"), conflict = "The buddy is not in screening, or a requirement is unmet (the detail lists which)",
    act(BuddyAction::Activate)
);
action_endpoint!(
    #[doc = "Pause an active buddy: no new proposals until resumed. A proposal waiting for the buddy's answer is cancelled (its request is open again) and its links stop working."]
    pause_buddy: POST "/buddies/{id}/pause",
    tag = "buddies", id = "Buddy id", body = "Optional reason, kept in the history",
    ok = (Buddy, "Now paused"), conflict = "The buddy is not active",
    act(BuddyAction::Pause)
);
action_endpoint!(
    #[doc = "Resume a paused buddy."]
    resume_buddy: POST "/buddies/{id}/resume",
    tag = "buddies", id = "Buddy id", body = "Optional reason, kept in the history",
    ok = (Buddy, "Active again"), conflict = "The buddy is not paused",
    act(BuddyAction::Resume)
);
action_endpoint!(
    #[doc = "Retire a buddy for good. A proposal waiting for the buddy's answer is cancelled (its request is open again) and its links stop working; refused while an accepted or active pairing runs."]
    retire_buddy: POST "/buddies/{id}/retire",
    tag = "buddies", id = "Buddy id", body = "Optional reason, kept in the history",
    ok = (Buddy, "Retired"), conflict = "The buddy is already retired, or has an accepted or active pairing",
    act(BuddyAction::Retire)
);

/// The buddy's history of changes.
#[utoipa::path(
    tag = "buddies",
    params(("id" = Uuid, Path, description = "Buddy id"), HistoryQuery),
    responses((status = 200, description = "History, oldest first", body = HistoryPage))
)]
#[get("/buddies/{id}/history")]
async fn buddy_history(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    query: Query<HistoryQuery>,
) -> ApiResult<HttpResponse> {
    let page = history_page(
        &state,
        &caller,
        store::ENTITY,
        id.into_inner(),
        query.0,
        |conn, id| Ok(store::find(conn, id).map(|_| ())?),
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    #[test]
    fn an_empty_patch_is_refused() {
        let patch: BuddyPatch = serde_json::from_str("{}").unwrap();
        assert!(matches!(
            patch.validate(NaiveDate::MAX),
            Err(ApiError::Invalid(_))
        ));
    }

    #[test]
    fn null_clears_and_absence_keeps() {
        let patch: BuddyPatch = serde_json::from_str(r#"{"phone": null}"#).unwrap();
        assert_eq!(patch.phone, Some(None));
        let patch: BuddyPatch = serde_json::from_str(r#"{"name": "A"}"#).unwrap();
        assert_eq!(patch.phone, None);
    }
}
