//! `/v1/buddy-requests/{id}/candidates`: the buddies who may be proposed for a request, ranked
//! and explained (see [`crate::matching`]).

use crate::api::routes::Routes;
use crate::auth::policy::{AuditAction::Read, STAFF_ONLY};
use actix_web::web::{Data, Path};
use actix_web::{get, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{uuid, AppState, Caller};
use crate::audit::note_client_ref;
use crate::domain::ids::RequestId;
use crate::error::{ApiResult, Problem};
use crate::http::extract::Query;
use crate::matching::{ComponentName, Weights};
use crate::store::candidates::Ranking;

pub fn configure(routes: &mut Routes<'_, '_>) {
    routes.add(
        buddy_request_candidates,
        STAFF_ONLY.audit(Read, "buddy_request"),
    );
}

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CandidatesQuery {
    /// How many candidates to list, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// The weights the score was computed with, from `[matching]` in the configuration.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreWeights {
    pub language: f64,
    pub region: f64,
    pub experience: f64,
    pub load: f64,
    pub rotation: f64,
    /// Days since the last proposal after which the rotation component counts in full.
    pub rotation_full_after_days: u32,
}

impl From<Weights> for ScoreWeights {
    fn from(w: Weights) -> Self {
        ScoreWeights {
            language: w.language,
            region: w.region,
            experience: w.experience,
            load: w.load,
            rotation: w.rotation,
            rotation_full_after_days: w.rotation_full_after_days,
        }
    }
}

/// One component of a candidate's score.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreComponent {
    pub name: ComponentName,
    pub weight: f64,
    /// Between 0 and 1 (four decimals).
    #[schema(minimum = 0, maximum = 1)]
    pub value: f64,
    /// Why, in plain English, e.g. `speaks nl, one of the client's languages`.
    #[schema(example = "last proposal 12 days ago (counts in full after 30 days)")]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RankedCandidate {
    /// 1 for the best candidate.
    pub rank: u32,
    pub buddy_id: Uuid,
    pub name: String,
    pub region: String,
    pub languages: Vec<String>,
    /// Σ weight·value / Σ weights, between 0 and 1 (four decimals).
    #[schema(minimum = 0, maximum = 1)]
    pub score: f64,
    /// language, region, experience, load and rotation, in that order.
    pub components: Vec<ScoreComponent>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateList {
    pub request_id: Uuid,
    pub weights: ScoreWeights,
    /// How many buddies pass the filters; the list holds the best `limit` of them.
    pub eligible: u32,
    /// Best first: score descending, then the lower load ratio, then the longer since the last
    /// proposal (never proposed first), then the buddy id.
    pub candidates: Vec<RankedCandidate>,
}

fn rounded(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

impl CandidateList {
    fn from_ranking(ranking: Ranking) -> ApiResult<Self> {
        let candidates = ranking
            .candidates
            .into_iter()
            .map(|c| {
                Ok(RankedCandidate {
                    rank: u32::try_from(c.rank).unwrap_or(u32::MAX),
                    buddy_id: uuid(&c.buddy_id)?,
                    name: c.name,
                    region: c.region,
                    languages: c.languages,
                    score: rounded(c.score),
                    components: c
                        .components
                        .into_iter()
                        .map(|k| ScoreComponent {
                            name: k.name,
                            weight: k.weight,
                            value: rounded(k.value),
                            reason: k.reason,
                        })
                        .collect(),
                })
            })
            .collect::<ApiResult<_>>()?;
        Ok(CandidateList {
            request_id: uuid(&ranking.request_id)?,
            weights: ranking.weights.into(),
            eligible: u32::try_from(ranking.eligible).unwrap_or(u32::MAX),
            candidates,
        })
    }
}

/// Rank the buddies who may be proposed for an open request, each with the breakdown of their
/// score. Filtered out: buddies who are not active, have no free capacity, declined this
/// request, let a proposal for it expire, or are excluded from it.
#[utoipa::path(
    tag = "buddy-requests",
    params(("id" = Uuid, Path, description = "Buddy-request id"), CandidatesQuery),
    responses(
        (status = 200, description = "The best candidates, best first", body = CandidateList),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The request is not open (proposed, matched, closed or withdrawn); \
            `current_state` names its state", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/buddy-requests/{id}/candidates")]
async fn buddy_request_candidates(
    req: HttpRequest,
    state: Data<AppState>,
    _caller: Caller,
    id: Path<Uuid>,
    query: Query<CandidatesQuery>,
) -> ApiResult<HttpResponse> {
    let limit = query.0.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(crate::error::ApiError::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let id = RequestId::from(id.into_inner());
    let weights = state.matching.weights();
    let now = state.clock.now_naive();
    let cache = state.candidates.clone();
    let ranking = state
        .db
        .run(move |conn| -> ApiResult<_> {
            Ok(crate::ops::pairings::candidates(
                conn,
                &cache,
                &id,
                &weights,
                now,
                limit as usize,
            )?)
        })
        .await?;
    note_client_ref(&req, &ranking.client_ref);
    Ok(HttpResponse::Ok().json(CandidateList::from_ranking(ranking)?))
}
