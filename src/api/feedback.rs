//! Client feedback (README, "Client feedback"): the link a case system passes on to a client who
//! did not choose e-mail, the figures per organisation and quarter (staff), and the free texts
//! and their erasure (administrators). No answer names a request, and a case system reads no
//! feedback at all.

use actix_web::web::{Data, Path};
use actix_web::{get, post, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{AppState, Caller};
use crate::api::routes::Routes;
use crate::auth::policy::{
    AuditAction::{Delete, Read, Update},
    ADMINS, ANY_CALLER, STAFF_ONLY,
};
use crate::domain::clock::utc;
use crate::domain::feedback::{figures, Quarter, MIN_GROUP};
use crate::domain::ids::{OrganisationId, RequestId};
use crate::domain::values::Check;
use crate::error::{ApiError, ApiResult, Problem};
use crate::feedback::OBJECT_TYPE;
use crate::http::extract::{OptionalJson, Query};
use crate::reports::feedback::FeedbackFigures;
use crate::store::feedback::{self as store, AnswerRow};
use crate::store::organisations::ENTITY as ORGANISATION;

pub fn configure(routes: &mut Routes<'_, '_>) {
    routes
        .add(
            feedback_invitation,
            ANY_CALLER.audit(Update, "buddy_request"),
        )
        .add(feedback_report, STAFF_ONLY)
        .add(feedback_texts, ADMINS.audit(Read, OBJECT_TYPE))
        .add(erase_feedback_text, ADMINS.audit(Delete, OBJECT_TYPE));
}

/// Nothing: the body may be left out.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({}))]
pub struct NewFeedbackInvitation {}

/// A client's feedback link, shown once: the service keeps only a hash of it. Pass it on to the
/// client (by phone, text message or letter) and do not store or log it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "link": "https://maatje.example.org/feedback/3q2-7wEAAAB0ZXN0LXRva2VuLXRoYXQtaXMtNDMtY2hhcnM",
    "expires_at": "2027-01-07T00:00:00Z",
    "language": "nl"
}))]
pub struct FeedbackInvitation {
    /// The page where the client gives feedback, once.
    #[schema(format = "uri")]
    pub link: String,
    /// Until when the link works (the end of a day, UTC: `feedback.link_days` after today).
    pub expires_at: DateTime<Utc>,
    /// The page's language (`en` when the client speaks English but not Dutch, else `nl`); the
    /// page links to the other one.
    #[schema(pattern = "^(nl|en)$")]
    pub language: String,
}

/// Get the feedback link of a closed request's client, to pass on. For a client who did not
/// choose e-mail (the service mails one who did, when the pairing ends). The link is made once:
/// it is in this answer only, so this call refuses an `Idempotency-Key`, and a second call is a
/// 409. Nothing of it reaches webhooks, events or logs, and the answers given through it are
/// not linked to the request.
#[utoipa::path(
    tag = "buddy-requests",
    params(("id" = Uuid, Path, description = "Buddy-request id")),
    request_body(content = Option<NewFeedbackInvitation>, description = "Nothing; the body may be left out"),
    responses(
        (status = 200, description = "The link, shown this once", body = FeedbackInvitation),
        (status = 409, description = "The request is not closed (its pairing has not ended: `feedback-not-due`), or its client was invited already, by an earlier call or by e-mail (`feedback-already-invited`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/buddy-requests/{id}/feedback-invitation")]
async fn feedback_invitation(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    _body: OptionalJson<NewFeedbackInvitation>,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now_naive();
    let id = RequestId::from(id.into_inner());
    let issued = state
        .change(caller.ctx(now), move |tx| {
            crate::ops::feedback::issue_link(tx, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(FeedbackInvitation {
        link: issued.link,
        expires_at: utc(issued.expires_at),
        language: issued.language.to_owned(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedbackQuery {
    /// Only this organisation (default: every organisation). An unknown one answers 404.
    #[param(value_type = Option<Uuid>)]
    pub organisation_id: Option<String>,
    /// The quarter, `YYYY-Qn`, year 2000 to 9999 (default: the current quarter, UTC).
    #[param(value_type = Option<String>, pattern = r"^[2-9][0-9]{3}-Q[1-4]$", example = "2026-Q4")]
    pub quarter: Option<String>,
}

/// The checked query: the organisation (if any) and the quarter, every invalid parameter listed.
fn parse_query(
    query: FeedbackQuery,
    now: chrono::NaiveDateTime,
) -> ApiResult<(Option<OrganisationId>, Quarter)> {
    let mut check = Check::new();
    let organisation = query
        .organisation_id
        .and_then(|v| match Uuid::parse_str(&v) {
            Ok(id) => Some(OrganisationId::from(id)),
            Err(_) => {
                check.fail("organisation_id", "must be an organisation id (a UUID)");
                None
            }
        });
    let quarter = match query.quarter {
        None => Some(Quarter::of(now.date())),
        Some(text) => text.parse::<Quarter>().ok().or_else(|| {
            check.fail("quarter", "must be a quarter, YYYY-Qn (n 1 to 4)");
            None
        }),
    };
    check.finish()?;
    let quarter = quarter.ok_or_else(|| ApiError::internal("a quarter was not checked"))?;
    Ok((organisation, quarter))
}

fn ensure_organisation(
    conn: &mut crate::db::DbConnection,
    organisation: Option<&OrganisationId>,
) -> ApiResult<()> {
    if let Some(id) = organisation {
        if !crate::store::reports::organisation_exists(conn, id)? {
            return Err(ApiError::not_found(ORGANISATION, id));
        }
    }
    Ok(())
}

/// Client feedback per organisation for one quarter: for each organisation (or the one asked
/// for), by name, whether its group is suppressed (fewer than 5 answers, none included: then no
/// figure is given, not even the count), else the number of answers, the mean score and the
/// distribution of scores 1 to 5. No free text, and nothing about requests or clients.
#[utoipa::path(
    tag = "reports",
    params(FeedbackQuery),
    responses(
        (status = 200, description = "The figures", body = FeedbackFigures),
        (status = 400, description = "`organisation_id` not a UUID, `quarter` not `YYYY-Qn`, an unknown parameter, or an invalid `X-On-Behalf-Of` header; `errors` lists every invalid parameter",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/feedback")]
async fn feedback_report(
    state: Data<AppState>,
    query: Query<FeedbackQuery>,
) -> ApiResult<HttpResponse> {
    let (organisation, quarter) = parse_query(query.0, state.clock.now_naive())?;
    let facts = state
        .db
        .run(move |conn| -> ApiResult<_> {
            ensure_organisation(conn, organisation.as_ref())?;
            Ok(store::facts(conn, organisation.as_ref(), vec![quarter])?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(FeedbackFigures::compute(&facts)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedbackTextsQuery {
    /// The organisation.
    #[param(value_type = Uuid)]
    pub organisation_id: String,
    /// The quarter, `YYYY-Qn`, year 2000 to 9999.
    #[param(value_type = String, pattern = r"^[2-9][0-9]{3}-Q[1-4]$", example = "2026-Q4")]
    pub quarter: String,
}

/// One answer with free text. Its id is random: it says nothing about when it was given.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackText {
    pub id: Uuid,
    /// 1 to 5.
    #[schema(minimum = 1, maximum = 5)]
    pub score: i32,
    /// What helped (null when not given, or removed).
    pub helped: Option<String>,
    /// What could be better (null when not given, or removed).
    pub better: Option<String>,
    /// The texts were removed: by retention or by an administrator's erasure.
    pub text_removed: bool,
}

impl TryFrom<AnswerRow> for FeedbackText {
    type Error = ApiError;

    fn try_from(row: AnswerRow) -> ApiResult<Self> {
        Ok(FeedbackText {
            id: Uuid::parse_str(&row.id).map_err(ApiError::internal)?,
            score: row.score,
            helped: row.helped,
            better: row.better,
            text_removed: row.text_removed,
        })
    }
}

/// The free texts of an organisation's quarter.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackTexts {
    pub organisation_id: Uuid,
    /// `YYYY-Qn`.
    pub quarter: String,
    /// The smallest group whose texts are shown (5).
    pub minimum_group_size: u64,
    /// `true` when the quarter has fewer answers than `minimum_group_size` (none included):
    /// `answers` is then empty, so that a single answer cannot be read soon after a pairing
    /// ends.
    pub suppressed: bool,
    /// The answers that hold free text, in random order.
    pub answers: Vec<FeedbackText>,
}

/// The free texts of one organisation's quarter, administrators only. Shown only when the
/// quarter has at least 5 answers; answers without text are left out (they count for the 5).
#[utoipa::path(
    tag = "reports",
    params(FeedbackTextsQuery),
    responses(
        (status = 200, description = "The texts, or `suppressed`", body = FeedbackTexts),
        (status = 400, description = "A parameter missing, `organisation_id` not a UUID, `quarter` not `YYYY-Qn`, or an unknown parameter; `errors` lists every invalid parameter",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/feedback/texts")]
async fn feedback_texts(
    state: Data<AppState>,
    query: Query<FeedbackTextsQuery>,
) -> ApiResult<HttpResponse> {
    let (organisation, quarter) = parse_query(
        FeedbackQuery {
            organisation_id: Some(query.0.organisation_id),
            quarter: Some(query.0.quarter),
        },
        state.clock.now_naive(),
    )?;
    let organisation = organisation.ok_or_else(|| ApiError::internal("no organisation"))?;
    Ok(HttpResponse::Ok().json(texts(&state, organisation, quarter).await?))
}

/// The texts of `organisation`'s `quarter` (an unknown organisation is a 404); the console's
/// page reads them here too.
pub(crate) async fn texts(
    state: &AppState,
    organisation: OrganisationId,
    quarter: Quarter,
) -> ApiResult<FeedbackTexts> {
    let id = Uuid::parse_str(&organisation).map_err(ApiError::internal)?;
    let rows = state
        .db
        .run(move |conn| -> ApiResult<_> {
            ensure_organisation(conn, Some(&organisation))?;
            Ok(store::answers(conn, &organisation, quarter)?)
        })
        .await?;
    let scores: Vec<i32> = rows.iter().map(|r| r.score).collect();
    let suppressed = figures(&scores).is_none();
    let answers = if suppressed {
        Vec::new()
    } else {
        rows.into_iter()
            .filter(|r| r.helped.is_some() || r.better.is_some() || r.text_removed)
            .map(FeedbackText::try_from)
            .collect::<ApiResult<_>>()?
    };
    Ok(FeedbackTexts {
        organisation_id: id,
        quarter: quarter.to_string(),
        minimum_group_size: MIN_GROUP as u64,
        suppressed,
        answers,
    })
}

/// Nothing: the body may be left out.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({}))]
pub struct EraseFeedbackText {}

/// Remove the free texts of one answer, administrators only: when the client asks (recognising
/// their own words) or when a text identifies someone. The score stays for the figures. The
/// audit record names the answer, not a request or client.
#[utoipa::path(
    tag = "privacy",
    params(("id" = Uuid, Path, description = "Feedback answer id (from the texts)")),
    request_body(content = Option<EraseFeedbackText>, description = "Nothing; the body may be left out"),
    responses(
        (status = 200, description = "The answer, its texts removed", body = FeedbackText),
        (status = 409, description = "Its texts were removed already (`feedback-text-removed`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/client-feedback/{id}/erase-text")]
async fn erase_feedback_text(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    _body: OptionalJson<EraseFeedbackText>,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now_naive();
    let id = id.into_inner().to_string();
    let row = state
        .change(caller.ctx(now), move |tx| {
            crate::ops::feedback::erase_text(tx, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(FeedbackText::try_from(row)?))
}
