//! `/v1/exit-interviews`: each time a departing client is asked "would you become a buddy?".

use crate::api::routes::Routes;
use crate::auth::policy::{AuditAction::Create, ANY_CALLER, STAFF_ONLY};
use actix_web::web::{Data, Path};
use actix_web::{get, post, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::buddies::{Buddy, BuddyInput};
use super::{
    created, history_page, owning_organisation, uuid, AppState, Caller, HistoryPage, HistoryQuery,
};
use crate::domain::clock::utc;
use crate::domain::exit_interview::Answer;
use crate::domain::ids::{ExitInterviewId, OrganisationId};
use crate::domain::values::Check;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{Json, Query};
use crate::http::pagination::PageRequest;
use crate::store::exit_interviews::{self as store, ExitInterviewRow};

pub fn configure(routes: &mut Routes<'_, '_>) {
    routes
        .add(
            record_exit_interview,
            ANY_CALLER.audit(Create, "exit_interview"),
        )
        .add(list_exit_interviews, STAFF_ONLY)
        .add(get_exit_interview, STAFF_ONLY.tagged())
        .add(exit_interview_history, STAFF_ONLY);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "held_on": "2026-11-20",
    "answer": "yes",
    "candidate": {
        "name": "Sam de Vries",
        "email": "sam.devries@example.org",
        "languages": ["nl"],
        "region": "Utrecht",
        "experience": ["supervision_order"]
    }
}))]
pub struct NewExitInterview {
    /// Staff must name the organisation; a case system must leave it out (it is its key's
    /// organisation). Otherwise a refusal is a 400 `urn:maatje:problem:validation` naming the field.
    pub organisation_id: Option<Uuid>,
    /// The day of the interview; not in the future (a refusal is a 400 `urn:maatje:problem:validation` naming the field).
    pub held_on: NaiveDate,
    pub answer: Answer,
    /// The new buddy's profile: required when `answer` is `yes`, refused otherwise (only a `yes`
    /// carries personal data). Leave out `organisation_id` here.
    pub candidate: Option<BuddyInput>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5c4-7d10-7000-8000-00000000e001",
    "organisation_id": "0193a5c4-7d10-7000-8000-00000000a001",
    "held_on": "2026-11-20",
    "answer": "yes",
    "buddy_id": "0193a5c4-7d10-7000-8000-00000000c001",
    "created_at": "2026-11-20T15:00:00Z"
}))]
pub struct ExitInterview {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub held_on: NaiveDate,
    pub answer: Answer,
    /// The buddy candidate created by a `yes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buddy_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// The recorded outcome and, for a `yes`, the buddy candidate it created.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExitInterviewRecorded {
    pub exit_interview: ExitInterview,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buddy: Option<Buddy>,
}

crate::page_type!(ExitInterviewPage, ExitInterview, "exit-interview outcomes");

impl TryFrom<ExitInterviewRow> for ExitInterview {
    type Error = ApiError;
    fn try_from(row: ExitInterviewRow) -> ApiResult<Self> {
        Ok(ExitInterview {
            id: uuid(&row.id)?,
            organisation_id: uuid(&row.organisation_id)?,
            answer: row.answer,
            held_on: row.held_on,
            buddy_id: row.buddy_id.as_deref().map(uuid).transpose()?,
            created_at: utc(row.created_at),
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExitInterviewQuery {
    pub organisation_id: Option<Uuid>,
    pub answer: Option<Answer>,
    /// Only interviews held on or after this day.
    pub held_from: Option<NaiveDate>,
    /// Only interviews held on or before this day.
    pub held_to: Option<NaiveDate>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(schema_with = crate::http::pagination::cursor_schema)]
    pub cursor: Option<String>,
}

/// Record the outcome of an exit interview. A `yes` creates a buddy candidate.
#[utoipa::path(
    tag = "exit-interviews",
    request_body = NewExitInterview,
    responses(
        (status = 201, description = "Recorded", body = ExitInterviewRecorded,
            headers(("Location" = String, description = "URL of the recorded outcome"))),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The organisation is inactive", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/exit-interviews")]
async fn record_exit_interview(
    state: Data<AppState>,
    caller: Caller,
    body: Json<NewExitInterview>,
) -> ApiResult<HttpResponse> {
    let input = body.0;
    let today = state.clock.today();
    let mut check = Check::new();
    let organisation_id = owning_organisation(&caller, input.organisation_id, &mut check);
    if input.held_on > today {
        check.fail("held_on", "must not lie in the future");
    }
    let candidate = match (input.answer, input.candidate) {
        (Answer::Yes, None) => {
            check.fail("candidate", "is required when the answer is yes");
            None
        }
        (Answer::Yes, Some(candidate)) => {
            if candidate.organisation_id.is_some() {
                check.fail(
                    "candidate.organisation_id",
                    "must be left out: the candidate belongs to the interview's organisation",
                );
            }
            Some(candidate.validate(&mut check, "candidate.", today))
        }
        (_, Some(_)) => {
            check.fail(
                "candidate",
                "only a yes carries a candidate's personal data",
            );
            None
        }
        (_, None) => None,
    };
    check.finish()?;
    let organisation_id = organisation_id.unwrap_or_default();
    let (held_on, answer) = (input.held_on, input.answer);
    let now = state.clock.now_naive();
    let (row, buddy) = state
        .change(caller.ctx(now), move |tx| {
            crate::ops::records::record_exit_interview(
                tx,
                &organisation_id,
                held_on,
                answer,
                candidate,
            )
        })
        .await?;
    let body = ExitInterviewRecorded {
        exit_interview: ExitInterview::try_from(row)?,
        buddy: buddy.map(|b| Buddy::from_row(b, 0)).transpose()?,
    };
    Ok(created(
        format!("/v1/exit-interviews/{}", body.exit_interview.id),
        &body,
    ))
}

/// List exit-interview outcomes, oldest first.
#[utoipa::path(
    tag = "exit-interviews",
    params(ExitInterviewQuery),
    responses((status = 200, description = "One page of outcomes", body = ExitInterviewPage))
)]
#[get("/exit-interviews")]
async fn list_exit_interviews(
    state: Data<AppState>,
    _caller: Caller,
    query: Query<ExitInterviewQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.0;
    let mut check = Check::new();
    let page = PageRequest::parse(
        "exit-interviews",
        query.limit,
        query.cursor.as_deref(),
        check.errors_mut(),
    );
    if let (Some(from), Some(to)) = (query.held_from, query.held_to) {
        if from > to {
            check.fail("held_to", "must not be before held_from");
        }
    }
    check.finish()?;
    let filter = store::Filter {
        organisation_id: query.organisation_id.map(OrganisationId::from),
        answer: query.answer,
        held_from: query.held_from,
        held_to: query.held_to,
    };
    let request = page.clone();
    let rows = state
        .db
        .run(move |conn| -> ApiResult<_> { Ok(store::list(conn, &filter, &request)?) })
        .await?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id.as_str());
    Ok(HttpResponse::Ok().json(ExitInterviewPage {
        items: rows
            .into_iter()
            .map(ExitInterview::try_from)
            .collect::<ApiResult<_>>()?,
        next_cursor,
    }))
}

/// Read one exit-interview outcome.
#[utoipa::path(
    tag = "exit-interviews",
    params(("id" = Uuid, Path, description = "Exit-interview id")),
    responses((status = 200, description = "The outcome", body = ExitInterview))
)]
#[get("/exit-interviews/{id}")]
async fn get_exit_interview(
    state: Data<AppState>,
    _caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = ExitInterviewId::from(id.into_inner());
    let row = state
        .db
        .run(move |conn| -> ApiResult<_> { Ok(store::find(conn, &id)?) })
        .await?;
    Ok(HttpResponse::Ok().json(ExitInterview::try_from(row)?))
}

/// The outcome's history (its recording).
#[utoipa::path(
    tag = "exit-interviews",
    params(("id" = Uuid, Path, description = "Exit-interview id"), HistoryQuery),
    responses((status = 200, description = "History, oldest first", body = HistoryPage))
)]
#[get("/exit-interviews/{id}/history")]
async fn exit_interview_history(
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
