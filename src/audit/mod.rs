//! The NEN 7513 audit trail: one record for every request to a route that touches personal data
//! (registered with `.audit(..)`, see [`crate::auth::policy::Guard`]), whether it was allowed or
//! not.
//!
//! # Where records are made
//!
//! Every record starts as a [`Pending`] record: [`Attempt::begin`] notes what is known when the
//! request arrives and puts it in the request's extensions, where the handler and its operation
//! add what they learn (the client, a created object, the buddy of a response link). Then:
//!
//! - **a successful change** appends it inside the change's own transaction
//!   ([`crate::ops::change`] calls [`Pending::record_change`] last): the change and its record
//!   commit together or not at all;
//! - **everything else** (reads, searches, refusals, failed changes) is appended by
//!   [`Attempt::finish`] once the handler has answered and before the answer goes out, through
//!   the group-commit [`writer`]. [`middleware`], the innermost middleware (inside
//!   authentication, so the caller's [`Identity`] is known), does this for every request that
//!   authentication let through; [`crate::auth::middleware`] for the requests it refuses itself
//!   (401, 403, a bad `X-On-Behalf-Of`, a case system's own rate limit), naming the caller when
//!   its credentials were valid.
//!
//! Requests the per-address rate limiter turns away (outside authentication) are not recorded:
//! they never reach a route, and recording a flood would let it fill the trail and the database.
//!
//! # What a record holds
//!
//! When (`at`: the service clock on arrival), who (`actor_type`, `actor_id`: staff id, API client
//! id, ...), on whose behalf (`X-On-Behalf-Of`), what (`action` and `object_type` from the rule;
//! `object_id`: the `{id}` of the path, for a create the id of the new resource taken from its
//! `Location`, for a search none), which client (`client_ref`, noted by the handler when it knows
//! it, see [`note_client_ref`]), the outcome and HTTP status, the source (the client's address,
//! [`crate::http::client_addr`]), the service's own request id and, beside it, the caller's
//! `X-Request-Id` if it sent one (see
//! [`crate::http::request_id`]), and the route (`METHOD pattern`, never the raw path or query). Nothing else: no
//! names, contact details or bodies. An `{id}` that is not a UUID is not recorded (no handler
//! can have read an object by it), so no caller-chosen text ends up in the trail.
//!
//! # Outcome
//!
//! From the HTTP status: 2xx and 3xx are `allowed`; 401, 403 and 404 are `denied` (a 404 may be
//! an existing object of another organisation, which must look like a missing one, so it counts
//! as a refusal); every other 4xx and 5xx is `failed`.
//!
//! # When a record cannot be written
//!
//! The client gets an error instead of the handler's answer (fail closed): the database's own
//! 503 when it is unreachable, full or read-only, else a 500. A change whose record cannot be
//! written is rolled back with it, so the error always means "not done".
//!
//! # The hash chain
//!
//! See [`chain`]: records are chained by SHA-256, and `maatje audit verify` checks the chain.

pub mod chain;
pub mod middleware;
pub mod writer;

use std::sync::{Arc, Mutex};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Path, ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpMessage, HttpRequest, ResponseError};
use chrono::NaiveDateTime;
use uuid::Uuid;

use crate::auth::policy::{AuditAction, Audited, Policy};
use crate::auth::Identity;
use crate::db::DbConnection;
use crate::domain::actor::Actor;
use crate::domain::error::DomainResult;
use crate::error::ApiError;
use crate::http::{request_id, route};
use crate::store::audit::{self as store, NewRecord};
use crate::string_enum;
use writer::AuditWriter;

string_enum! {
    /// How an audited request ended: `allowed` (2xx, 3xx), `denied` (401, 403, 404) or `failed`
    /// (any other 4xx or 5xx).
    Outcome { Allowed => "allowed", Denied => "denied", Failed => "failed" }
}

impl Outcome {
    pub fn of_status(status: StatusCode) -> Outcome {
        match status.as_u16() {
            200..=399 => Outcome::Allowed,
            401 | 403 | 404 => Outcome::Denied,
            _ => Outcome::Failed,
        }
    }
}

string_enum! {
    /// The kind of party that made a request.
    ActorType {
        Unauthenticated => "unauthenticated",
        Staff => "staff",
        ApiClient => "api_client",
        Buddy => "buddy",
        System => "system",
    }
}

/// What a handler or operation adds to the record of its request.
#[derive(Debug, Clone, Default)]
pub struct AuditNote {
    /// The client the request concerns.
    pub client_ref: Option<String>,
    /// Who acted, when the route itself establishes it (a buddy's response link) rather than
    /// authentication.
    pub actor: Option<Actor>,
    /// The object acted on, when the path names it otherwise than by `{id}` (a created
    /// resource, a pairing named by a response link's token).
    pub object_id: Option<String>,
}

/// The record of one audited request, from its arrival to its answer: what is known on arrival,
/// what the handler and operation note, and whether a change's own transaction already wrote it.
/// Shared (through the request's extensions) between the audit middleware and the operation.
#[derive(Clone)]
pub struct Pending(Arc<Mutex<Draft>>);

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending(..)")
    }
}

struct Draft {
    audited: Audited,
    route: String,
    at: NaiveDateTime,
    actor: Actor,
    on_behalf_of: Option<String>,
    object_id: Option<String>,
    source_address: Option<String>,
    request_id: Option<String>,
    caller_request_id: Option<String>,
    /// The status a successful answer has (the operation's one 2xx in the contract).
    success: StatusCode,
    note: AuditNote,
    /// The status of the record a change's transaction committed, if one did.
    committed: Option<StatusCode>,
}

impl Pending {
    fn draft(&self) -> std::sync::MutexGuard<'_, Draft> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The pending record of the request, if its route is audited.
    pub fn of(req: &HttpRequest) -> Option<Pending> {
        req.extensions().get::<Pending>().cloned()
    }

    /// Notes the client the request concerns.
    pub fn concerns(&self, client_ref: Option<String>) {
        if client_ref.is_some() {
            self.draft().note.client_ref = client_ref;
        }
    }

    /// Notes the object acted on (a created resource, or one named otherwise than by `{id}`).
    pub fn object(&self, object_id: &str) {
        if let Some(id) = canonical_uuid(object_id) {
            self.draft().note.object_id = Some(id);
        }
    }

    /// The answer is a stored one, replayed for an `Idempotency-Key` (see
    /// [`crate::http::idempotency`]): nothing was done, what the answer holds was shown again,
    /// so the record is a `read`.
    pub fn replayed(&self) {
        self.draft().audited.action = AuditAction::Read;
    }

    /// The object of the record: noted, else the path's `{id}`.
    pub fn object_id(&self) -> Option<String> {
        let draft = self.draft();
        draft.note.object_id.clone().or(draft.object_id.clone())
    }

    /// Notes who acted, when the route establishes it (a buddy's response link).
    pub fn actor(&self, actor: Actor) {
        self.draft().note.actor = Some(actor);
    }

    /// Appends the record of a successful change inside the change's own transaction, so that
    /// the change and its record commit together or not at all. Call [`Pending::committed`]
    /// once the transaction has committed.
    pub fn record_change(&self, conn: &mut DbConnection) -> DomainResult<()> {
        let record = {
            let draft = self.draft();
            draft.record(draft.success)
        };
        store::append(conn, record, chain::hash)?;
        Ok(())
    }

    /// The change's transaction, with its record, has committed.
    pub fn committed(&self) {
        let mut draft = self.draft();
        draft.committed = Some(draft.success);
    }
}

impl Draft {
    fn record(&self, status: StatusCode) -> NewRecord {
        let actor = self.note.actor.as_ref().unwrap_or(&self.actor);
        NewRecord {
            at: self.at,
            actor_type: actor.kind().to_owned(),
            actor_id: actor.id().map(str::to_owned),
            on_behalf_of: self.on_behalf_of.clone(),
            action: self.audited.action.as_str().to_owned(),
            object_type: self.audited.object_type.to_owned(),
            object_id: self.note.object_id.clone().or(self.object_id.clone()),
            client_ref: self.note.client_ref.clone(),
            outcome: Outcome::of_status(status).as_str().to_owned(),
            status: i32::from(status.as_u16()),
            source_address: self.source_address.clone(),
            request_id: self.request_id.clone(),
            caller_request_id: self.caller_request_id.clone(),
            route: self.route.clone(),
        }
    }
}

/// Notes the client a request concerns, for its audit record.
pub fn note_client_ref(req: &HttpRequest, client_ref: impl Into<String>) {
    if let Some(pending) = Pending::of(req) {
        pending.concerns(Some(client_ref.into()));
    }
}

/// Notes who acted on which object, for a route whose caller is known only to its handler: a
/// buddy's response link names the buddy and the pairing through its token.
pub fn note_subject(req: &HttpRequest, actor: Actor, object_id: &str, client_ref: Option<String>) {
    if let Some(pending) = Pending::of(req) {
        pending.actor(actor);
        pending.object(object_id);
        pending.concerns(client_ref);
    }
}

/// A request on an audited route, between its arrival and its answer.
pub struct Attempt {
    writer: Option<web::Data<AuditWriter>>,
    pending: Pending,
}

impl Attempt {
    /// Starts the record of `req` if its route is audited (`None` otherwise). `identity` is the
    /// caller, when known. The pending record is put in the request's extensions, where the
    /// handler and its operation find it ([`Pending::of`]).
    pub fn begin(req: &ServiceRequest, identity: Option<&Identity>) -> Option<Attempt> {
        let pattern = route::pattern(req.request())?;
        let policy = req.app_data::<web::Data<Policy>>()?;
        let rule = policy.find(req.method().as_str(), &pattern)?;
        let audited = rule.audit?;
        let writer = req.app_data::<web::Data<AuditWriter>>().cloned();
        let at = writer
            .as_ref()
            .map(|w| w.now())
            .unwrap_or_else(|| chrono::Utc::now().naive_utc());
        let pending = Pending(Arc::new(Mutex::new(Draft {
            audited,
            route: format!("{} {}", rule.method, rule.pattern),
            at,
            actor: identity.map_or(Actor::Unauthenticated, |i| i.actor.clone()),
            on_behalf_of: identity.and_then(|i| i.on_behalf_of.clone()),
            object_id: path_id(&rule.pattern, req),
            source_address: crate::http::client_addr::of(req.request()).map(|ip| ip.to_string()),
            request_id: request_id::server(),
            caller_request_id: request_id::caller(),
            success: StatusCode::from_u16(rule.success).unwrap_or(StatusCode::OK),
            note: AuditNote::default(),
            committed: None,
        })));
        req.extensions_mut().insert(pending.clone());
        Some(Attempt { writer, pending })
    }

    /// Records the answer and passes it on, or answers with an error when the record cannot be
    /// written. A change whose own transaction wrote the record passes straight on.
    pub async fn finish<B: MessageBody + 'static>(
        self,
        response: ServiceResponse<B>,
    ) -> ServiceResponse<BoxBody> {
        let status = response.status();
        let created = created_id(&self.pending, &response);
        if let Some(id) = created {
            self.pending.object(&id);
        }
        match self.write(status).await {
            Ok(()) => response.map_into_boxed_body(),
            Err(refusal) => {
                let (request, _) = response.into_parts();
                ServiceResponse::new(request, refusal.error_response())
            }
        }
    }

    /// Records an error that no handler turned into an answer; returns the error to pass on
    /// (another one when the record cannot be written).
    pub async fn finish_error(self, error: actix_web::Error) -> actix_web::Error {
        let status = error.as_response_error().status_code();
        match self.write(status).await {
            Ok(()) => error,
            Err(refusal) => refusal.into(),
        }
    }

    async fn write(self, status: StatusCode) -> Result<(), ApiError> {
        let (record, route) = {
            let draft = self.pending.draft();
            if draft.committed == Some(status) {
                return Ok(());
            }
            if let Some(committed) = draft.committed {
                // The change committed with its record, then the answer turned out otherwise
                // (e.g. a stored row that cannot be shown): the trail gets the real answer too.
                tracing::error!(
                    route = %draft.route,
                    committed = committed.as_u16(),
                    status = status.as_u16(),
                    "a committed change answered with another status than its record's"
                );
            }
            (draft.record(status), draft.route.clone())
        };
        let Some(writer) = self.writer.clone() else {
            return Err(not_recorded(
                &route,
                status,
                ApiError::internal("no writer"),
            ));
        };
        writer
            .append(record)
            .await
            .map_err(|e| not_recorded(&route, status, e))
    }
}

/// The error that replaces an answer whose audit record could not be written: a 503 when the
/// database is unavailable (the request changed nothing: a change's record is written in its
/// own transaction), else a 500.
fn not_recorded(route: &str, status: StatusCode, cause: ApiError) -> ApiError {
    tracing::error!(
        route,
        status = status.as_u16(),
        error = %cause,
        "audit record not written: the answer is withheld"
    );
    match cause {
        // A database that is unreachable, full or read-only keeps its own 503.
        ApiError::Unavailable(_)
        | ApiError::StorageFull(_)
        | ApiError::ReadOnly(_)
        | ApiError::Busy { .. } => cause,
        other => {
            ApiError::Internal(anyhow::anyhow!("{other:?}").context("audit record not written"))
        }
    }
}

/// The `{id}` of the request's path, when the route has one and it is a UUID. Matched with
/// actix's own router, so the id is decoded exactly as the handler sees it. (This middleware
/// runs before the router fills in the request's match info, so it matches the path itself.)
fn path_id(pattern: &str, req: &ServiceRequest) -> Option<String> {
    if !pattern.contains("{id}") {
        return None;
    }
    let mut path = Path::new(req.match_info().get_ref().clone());
    if !definition(pattern).capture_match_info(&mut path) {
        return None;
    }
    canonical_uuid(path.get("id")?)
}

/// The router's definition of a route pattern, compiled (a regex) once per pattern: the patterns
/// are the routes', a fixed few.
fn definition(pattern: &str) -> std::sync::Arc<ResourceDef> {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, RwLock};
    static COMPILED: LazyLock<RwLock<HashMap<String, Arc<ResourceDef>>>> =
        LazyLock::new(Default::default);
    if let Some(found) = COMPILED
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(pattern)
    {
        return found.clone();
    }
    let compiled = Arc::new(ResourceDef::new(pattern));
    COMPILED
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(pattern.to_owned())
        .or_insert(compiled)
        .clone()
}

/// The id of a created resource: the last segment of the `Location` of a 201.
fn created_id<B>(pending: &Pending, response: &ServiceResponse<B>) -> Option<String> {
    if pending.draft().audited.action != AuditAction::Create
        || response.status() != StatusCode::CREATED
    {
        return None;
    }
    let location = response.headers().get(header::LOCATION)?.to_str().ok()?;
    canonical_uuid(location.rsplit('/').next()?)
}

fn canonical_uuid(text: &str) -> Option<String> {
    Uuid::parse_str(text).ok().map(|id| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_follow_the_status() {
        let outcome = |code: u16| Outcome::of_status(StatusCode::from_u16(code).unwrap());
        for code in [200, 201, 204, 301, 308] {
            assert_eq!(outcome(code), Outcome::Allowed, "{code}");
        }
        for code in [401, 403, 404] {
            assert_eq!(outcome(code), Outcome::Denied, "{code}");
        }
        for code in [400, 409, 413, 415, 429, 500, 503] {
            assert_eq!(outcome(code), Outcome::Failed, "{code}");
        }
    }

    #[test]
    fn actor_types_name_every_actor() {
        for actor in [
            Actor::Unauthenticated,
            Actor::Staff("s".into()),
            Actor::ApiClient("c".into()),
            Actor::Buddy("b".into()),
            Actor::System,
        ] {
            assert!(actor.kind().parse::<ActorType>().is_ok(), "{actor:?}");
        }
    }

    #[test]
    fn path_ids_are_decoded_and_must_be_uuids() {
        let id = Uuid::now_v7().to_string();
        let encoded = format!("%{:02X}{}", id.as_bytes()[0], &id[1..]);
        for (path, want) in [
            (format!("/v1/buddies/{id}"), Some(id.clone())),
            (
                format!("/v1/buddies/{}", id.to_uppercase()),
                Some(id.clone()),
            ),
            (format!("/v1/buddies/{encoded}"), Some(id.clone())),
            ("/v1/buddies/not-an-id".to_owned(), None),
        ] {
            let req = actix_web::test::TestRequest::get()
                .uri(&path)
                .to_srv_request();
            assert_eq!(path_id("/v1/buddies/{id}", &req), want, "{path}");
        }
        let req = actix_web::test::TestRequest::get()
            .uri("/v1/buddies")
            .to_srv_request();
        assert_eq!(path_id("/v1/buddies", &req), None);
    }
}
