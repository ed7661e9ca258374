//! `Idempotency-Key` on POST (IETF draft "The Idempotency-Key HTTP Header Field"): a caller that
//! sends a key with a POST may send the same request again, with the same key, as often as it
//! likes (after a timeout, a lost connection, a crash of its own), and the work is done once.
//!
//! - **The first request** with a key claims it (`in_flight`) and runs. A change it makes marks
//!   the key `applied` in the change's own transaction ([`Slot::mark_applied`], called by
//!   [`crate::ops`]), so "did it happen?" is never in doubt. Its answer (status, body,
//!   `Content-Type`, `Location`) is then stored (`done`). An answer of the service's own failure
//!   (5xx) after which nothing changed releases the key, so that a retry does the work.
//! - **The same key and the same request** (method, path, query and body, compared by SHA-256)
//!   replays the stored answer with `Idempotency-Replayed: true`, without doing anything again
//!   (a problem document's `request_id` is the retry's own). Its audit record is a `read`:
//!   nothing was done again, but what the answer holds was shown again.
//! - **The same key with another request** is refused: 422 `idempotency-key-reused`.
//! - **The same key while the first request is still under way**: the retry waits for its
//!   answer (at most `api.idempotency_wait_seconds`) and replays it; if it is still under way
//!   then, 409 `idempotency-key-in-flight` with `Retry-After`.
//! - **A first request that never finished** (its instance stopped): after
//!   `api.idempotency_lease_seconds` a key that changed nothing is taken over by the retry,
//!   which does the work; a key whose change was applied but whose answer was lost is answered
//!   409 `idempotency-key-answer-lost`, naming the object, so that the caller reads it. So is a
//!   retry whose stored answer was erased with its object (the key stays, `forgotten`).
//!
//! Keys are the caller's own (an API client's, a staff account's: two callers may use the same
//! key) and are kept `api.idempotency_keep_hours` from their first use; then they are deleted
//! with their answers (the scheduler purges them) and may be used again. A stored answer may
//! hold personal data the request named: it is deleted at once when its object is erased.
//!
//! A key is 1 to [`MAX_KEY_LENGTH`] visible ASCII characters (a UUID is a good key). Some POSTs
//! refuse a key ([`REFUSED_ROUTES`]): their answers carry a secret that is shown once (a staff
//! token, an API key, a webhook signing secret, a client's feedback link), which a stored answer
//! would keep and a replay would show again.

use std::time::{Duration, Instant};

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpResponse};
use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

use super::extract::{declared_length, read_limited, BodyLimit};
use super::route;
use crate::auth::Identity;
use crate::db::{write_transaction, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::ops::AppState;
use crate::store::idempotency::{self as store, StoredAnswer};

/// The request header.
pub const HEADER: &str = "Idempotency-Key";

/// The response header of a replayed answer.
pub const REPLAYED: &str = "Idempotency-Replayed";

/// The longest key accepted.
pub const MAX_KEY_LENGTH: usize = 255;

/// The POSTs whose answers carry a secret shown once: a key is refused there (400).
pub const REFUSED_ROUTES: &[&str] = &[
    "/v1/auth/login",
    "/v1/webhook-endpoints",
    "/v1/webhook-endpoints/{id}/rotate-secret",
    "/v1/api-clients",
    "/v1/api-clients/{id}/keys",
    "/v1/buddy-requests/{id}/feedback-invitation",
];

/// How often a retry looks whether the first request has answered.
const POLL: Duration = Duration::from_millis(25);

/// The `api.idempotency_*` settings.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencySettings {
    /// How long a key and its answer are kept after the first use.
    pub keep: chrono::Duration,
    /// How long a retry waits for the answer of a first request still under way.
    pub wait: Duration,
    /// After how long a first request that has not answered is taken to have died.
    pub lease: chrono::Duration,
}

/// The key a request claimed, for the operation's transaction to mark applied.
#[derive(Debug, Clone)]
pub struct Slot {
    caller: String,
    key: String,
}

impl Slot {
    /// The slot of the request, if it claimed a key.
    pub fn of(req: &actix_web::HttpRequest) -> Option<Slot> {
        req.extensions().get::<Slot>().cloned()
    }

    /// Marks the key applied: called in the transaction of the change the request made.
    pub fn mark_applied(
        &self,
        conn: &mut DbConnection,
        object_id: Option<&str>,
    ) -> diesel::QueryResult<()> {
        store::mark_applied(conn, &self.caller, &self.key, object_id).map(|_| ())
    }
}

/// What a claim found.
enum Claim {
    /// The key is this request's: it runs.
    Mine,
    /// The answer to the same request, stored.
    Replay(StoredAnswer),
    /// The key was used for another request.
    Reused,
    /// The first request is still under way.
    Busy,
    /// The first request's change was applied, but its answer was never stored.
    AnswerLost(Option<String>),
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if req.method() != Method::POST || !req.headers().contains_key(HEADER) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let pattern = route::pattern(req.request());
    if pattern
        .as_deref()
        .is_some_and(|p| REFUSED_ROUTES.contains(&p))
    {
        return Ok(req.error_response(ApiError::invalid(
            HEADER,
            "this operation takes no Idempotency-Key: its answer carries a secret that is \
             shown once, and a replay would show it again",
        )));
    }
    let identity = req.extensions().get::<Identity>().cloned();
    let (Some(identity), Some(_)) = (identity, pattern) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = match key_of(&req) {
        Ok(key) => key,
        Err(error) => return Ok(req.error_response(error)),
    };
    let body = match read_body(&mut req).await {
        Ok(body) => body,
        Err(error) => return Ok(req.error_response(error)),
    };
    let hash = request_hash(&req, &body);
    req.set_payload(Payload::from(web::Bytes::from(body)));

    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .expect("the application state is registered");
    let settings = state.idempotency;
    let caller = format!(
        "{}:{}",
        identity.actor.kind(),
        identity.actor.id().unwrap_or_default()
    );
    let deadline = Instant::now() + settings.wait;
    loop {
        match claim(&state, &caller, &key, &hash).await {
            Ok(Claim::Mine) => break,
            Ok(Claim::Replay(answer)) => {
                if let Some(pending) = crate::audit::Pending::of(req.request()) {
                    pending.replayed();
                }
                return Ok(req.into_response(replay(answer)));
            }
            Ok(Claim::Reused) => return Ok(req.error_response(reused())),
            Ok(Claim::AnswerLost(object)) => return Ok(req.error_response(answer_lost(object))),
            Ok(Claim::Busy) if Instant::now() < deadline => {
                // Watch through a reader, and claim again (through the writer) only once the
                // first request has answered or its lease has run out.
                actix_web::rt::time::sleep(POLL).await;
                while Instant::now() < deadline && still_busy(&state, &caller, &key).await {
                    actix_web::rt::time::sleep(POLL).await;
                }
            }
            Ok(Claim::Busy) => return Ok(req.error_response(in_flight(settings))),
            Err(error) => return Ok(req.error_response(error)),
        }
    }

    let slot = Slot {
        caller: caller.clone(),
        key: key.clone(),
    };
    req.extensions_mut().insert(slot.clone());
    let path_id = req.match_info().get("id").map(str::to_owned);
    let response = next.call(req).await?;
    let (req, response) = response.into_parts();
    let (response, body) = response.into_parts();
    let body = match body::to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let _ = finish(&state, slot, None).await;
            return Ok(ServiceResponse::new(
                req,
                HttpResponse::InternalServerError().finish(),
            ));
        }
    };
    let header_text = |name: header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let location = header_text(header::LOCATION);
    // The path's object first (an exclusion's answer is about its request), else the created one.
    let object_id = path_id.or_else(|| {
        location
            .as_deref()
            .and_then(|l| l.rsplit('/').next())
            .map(str::to_owned)
    });
    let answer = String::from_utf8(body.to_vec())
        .ok()
        .map(|text| StoredAnswer {
            status: response.status().as_u16(),
            content_type: header_text(header::CONTENT_TYPE),
            location,
            body: text,
        });
    let answer = answer.filter(|a| a.status < 500);
    if let Err(error) = finish(&state, slot, answer.map(|a| (object_id, a))).await {
        // The key stays claimed: a retry after the lease finds whether the change was applied.
        tracing::warn!(%error, "the answer to an idempotent request was not stored");
    }
    let response = response.set_body(BoxBody::new(body));
    Ok(ServiceResponse::new(req, response))
}

/// The key of the request, checked.
fn key_of(req: &ServiceRequest) -> ApiResult<String> {
    let mut values = req.headers().get_all(HEADER);
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(ApiError::invalid(HEADER, "send one Idempotency-Key"));
    };
    let key = value.to_str().unwrap_or_default();
    let visible = |b: u8| (0x21..=0x7e).contains(&b);
    if key.is_empty() || key.len() > MAX_KEY_LENGTH || !key.bytes().all(visible) {
        return Err(ApiError::invalid(
            HEADER,
            format!(
                "a key is 1 to {MAX_KEY_LENGTH} visible ASCII characters (a UUID is a good key)"
            ),
        ));
    }
    Ok(key.to_owned())
}

/// The body, read within the limit the handler would apply.
async fn read_body(req: &mut ServiceRequest) -> ApiResult<Vec<u8>> {
    let limit = req.app_data::<BodyLimit>().copied().unwrap_or_default().0;
    let declared = declared_length(req.headers());
    read_limited(req.take_payload(), limit, declared).await
}

/// SHA-256 of what makes two requests the same: method, path with query, and body.
fn request_hash(req: &ServiceRequest, body: &[u8]) -> String {
    let mut digest = Sha256::new();
    digest.update(req.method().as_str().as_bytes());
    digest.update([0]);
    digest.update(
        req.uri()
            .path_and_query()
            .map_or("", |p| p.as_str())
            .as_bytes(),
    );
    digest.update([0]);
    digest.update(body);
    hex::encode(digest.finalize())
}

async fn claim(state: &AppState, caller: &str, key: &str, hash: &str) -> ApiResult<Claim> {
    let (caller, key, hash) = (caller.to_owned(), key.to_owned(), hash.to_owned());
    let now = state.clock.now_naive();
    let settings = state.idempotency;
    state
        .db
        .writing(move |conn| {
            // Two first requests at once on PostgreSQL: one insert fails on the key, and its
            // transaction is over; the second look finds the other's row.
            let mut attempt = || {
                write_transaction(conn, |conn| {
                    claim_on(conn, &caller, &key, &hash, now, settings)
                })
            };
            match attempt() {
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => attempt(),
                other => other,
            }
            .map_err(ApiError::from)
        })
        .await
}

fn claim_on(
    conn: &mut DbConnection,
    caller: &str,
    key: &str,
    hash: &str,
    now: NaiveDateTime,
    settings: IdempotencySettings,
) -> diesel::QueryResult<Claim> {
    store::delete_expired(conn, caller, key, now - settings.keep)?;
    let Some(row) = store::find(conn, caller, key)? else {
        store::insert(conn, caller, key, hash, now)?;
        return Ok(Claim::Mine);
    };
    if row.request_hash != hash {
        return Ok(Claim::Reused);
    }
    if row.state == store::DONE {
        return Ok(Claim::Replay(StoredAnswer {
            status: row
                .status
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(200),
            content_type: row.content_type,
            location: row.location,
            body: row.body.unwrap_or_default(),
        }));
    }
    if row.state == store::FORGOTTEN {
        return Ok(Claim::AnswerLost(row.object_id));
    }
    if row.started_at >= now - settings.lease {
        return Ok(Claim::Busy);
    }
    if row.state == store::APPLIED {
        return Ok(Claim::AnswerLost(row.object_id));
    }
    Ok(
        match store::take_over(conn, caller, key, row.started_at, now)? {
            true => Claim::Mine,
            false => Claim::Busy,
        },
    )
}

/// Whether the first request with `caller`'s `key` is still under way, as a reader sees it (an
/// error says no: the claim that follows finds out).
async fn still_busy(state: &AppState, caller: &str, key: &str) -> bool {
    let (caller, key) = (caller.to_owned(), key.to_owned());
    let lease_from = state.clock.now_naive() - state.idempotency.lease;
    state
        .db
        .run(move |conn| store::find(conn, &caller, &key).map_err(ApiError::from))
        .await
        .ok()
        .flatten()
        .is_some_and(|row| {
            (row.state == store::IN_FLIGHT || row.state == store::APPLIED)
                && row.started_at >= lease_from
        })
}

/// Stores the answer of the key's request, or (`None`: a failure of the service's own) releases
/// the key if the request changed nothing.
async fn finish(
    state: &AppState,
    slot: Slot,
    answer: Option<(Option<String>, StoredAnswer)>,
) -> ApiResult<()> {
    state
        .db
        .writing(move |conn| {
            write_transaction(conn, |conn| {
                match &answer {
                    Some((object_id, answer)) => {
                        store::complete(
                            conn,
                            &slot.caller,
                            &slot.key,
                            object_id.as_deref(),
                            answer,
                        )?;
                    }
                    None => {
                        // An applied key is not released (the failure came after the change
                        // committed): it stays, and a retry is told the answer was lost.
                        store::release(conn, &slot.caller, &slot.key)?;
                    }
                }
                Ok::<_, diesel::result::Error>(())
            })
            .map_err(ApiError::from)
        })
        .await
}

/// The stored answer again. A problem document names this request's id, as every problem does,
/// so that the retry can be found in the logs; nothing else differs.
fn replay(mut answer: StoredAnswer) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let is_problem = answer.content_type.as_deref() == Some(crate::error::PROBLEM_JSON);
    if let (true, Ok(mut problem)) = (
        is_problem,
        serde_json::from_str::<serde_json::Value>(&answer.body),
    ) {
        if let Some(member) = problem.get_mut("request_id") {
            *member = crate::http::request_id::current().into();
            answer.body = problem.to_string();
        }
    }
    let mut response = HttpResponse::build(status);
    if let Some(content_type) = answer.content_type {
        response.insert_header((header::CONTENT_TYPE, content_type));
    }
    if let Some(location) = answer.location {
        response.insert_header((header::LOCATION, location));
    }
    response.insert_header((REPLAYED, "true"));
    response.body(answer.body)
}

fn reused() -> ApiError {
    ApiError::Unprocessable {
        kind: "idempotency-key-reused",
        title: "Idempotency key reused",
        detail: "this Idempotency-Key was used for another request (method, path or body); \
                 use a new key for a new request"
            .into(),
    }
}

fn in_flight(settings: IdempotencySettings) -> ApiError {
    ApiError::KeyInFlight {
        retry_after_secs: settings.wait.as_secs().max(1),
    }
}

fn answer_lost(object: Option<String>) -> ApiError {
    let detail = match object {
        Some(id) => format!(
            "the first request with this Idempotency-Key was carried out (object {id}), but its \
             answer is not stored (lost, or erased with its object); read the object instead of \
             retrying"
        ),
        None => "the first request with this Idempotency-Key was carried out, but its answer \
                 is not stored; read the resource instead of retrying"
            .to_owned(),
    };
    ApiError::Conflict {
        kind: "idempotency-key-answer-lost",
        title: "Idempotent request done, answer lost",
        detail,
    }
}
