//! HTTP handlers and their JSON shapes, one file per resource: the HTTP edge. Handlers validate
//! input, call the use-case operation ([`crate::ops`]) in one change or read, and map what it
//! returns to the answer.

/// Declares an action endpoint, the one shape of every lifecycle action (a buddy's, a
/// pairing's, an organisation's): `POST <path>` on the object `{id}` with an optional
/// [`ActionBody`] (its reason kept in the history), answering 200 with the object or 409 when
/// its state does not allow the action. `$act(state, caller, id, action, reason)` does it.
macro_rules! action_endpoint {
    (
        $(#[doc = $doc:literal])*
        $fn_name:ident: POST $path:literal,
        tag = $tag:literal, id = $what:literal, body = $note:literal,
        ok = ($object:ident, $ok:literal), conflict = $conflict:literal,
        $act:ident($action:expr)
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            tag = $tag,
            params(("id" = Uuid, Path, description = $what)),
            request_body(content = Option<crate::api::ActionBody>, description = $note),
            responses(
                (status = 200, description = $ok, body = $object),
                (status = 409, description = $conflict, body = crate::error::Problem,
                    content_type = "application/problem+json"),
            )
        )]
        #[post($path)]
        async fn $fn_name(
            state: actix_web::web::Data<crate::ops::AppState>,
            caller: crate::api::Caller,
            id: actix_web::web::Path<uuid::Uuid>,
            body: crate::http::extract::OptionalJson<crate::api::ActionBody>,
        ) -> crate::error::ApiResult<actix_web::HttpResponse> {
            let reason = crate::api::ActionBody::reason(body.0)?;
            $act(state, caller, id.into_inner(), $action, reason).await
        }
    };
}

pub mod api_clients;
pub mod audit;
pub mod auth;
pub mod buddies;
pub mod candidates;
pub mod events;
pub mod exclusions;
pub mod exit_interviews;
pub mod feedback;
pub mod health;
pub mod organisations;
pub mod outbox;
pub mod pairings;
pub mod privacy;
pub mod reports;
pub mod requests;
pub mod routes;
pub mod staff;
pub mod webhooks;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use futures_util::future::{ready, Ready};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use routes::Routes;

use crate::auth::Identity;
use crate::domain::actor::Actor;
use crate::domain::clock::utc;
use crate::domain::ids::OrganisationId;
use crate::domain::values::{Check, MAX_REASON};
use crate::error::{ApiError, ApiResult};
use crate::http::pagination::PageRequest;
use crate::store::history::HistoryRow;

pub use crate::ops::AppState;

/// The authenticated party making the request, as established by [`crate::auth::middleware`].
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub identity: Identity,
    /// The audit record of the request, when its route is audited.
    audit: Option<crate::audit::Pending>,
    /// The `Idempotency-Key` the request claimed, if it sent one.
    idempotency: Option<crate::http::idempotency::Slot>,
    /// The `If-Match` of a request changing one resource, if it sent one.
    if_match: Option<crate::http::conditional::IfMatch>,
}

impl Caller {
    /// The context the use-case operations run this caller's request in, at `now`.
    pub fn ctx(&self, now: chrono::NaiveDateTime) -> crate::ops::Ctx {
        crate::ops::Ctx::new(self.actor.clone(), self.scope(), now)
            .audited(self.audit.clone())
            .keyed(self.idempotency.clone())
    }

    /// The context of a change to one existing resource, the one in `row`: the request's
    /// `If-Match`, if it sent one, is compared first in the change's transaction with the tag
    /// of the resource as `render` shows it to this caller, the reading its `GET` answers with
    /// (see [`crate::http::conditional`]). Every `PATCH` and action on a tagged resource uses it.
    pub fn ctx_on<T, F>(
        &self,
        now: chrono::NaiveDateTime,
        row: crate::store::RowLock,
        render: F,
    ) -> crate::ops::Ctx
    where
        T: Serialize,
        F: Fn(&mut crate::db::DbConnection) -> ApiResult<T> + Send + Sync + 'static,
    {
        use crate::http::conditional::EntityTag;
        let precondition = self.if_match.clone().map(|if_match| {
            crate::ops::Precondition::new(if_match, row, move |conn| {
                let current = render(conn).map_err(ApiError::into_domain)?;
                EntityTag::of_json(&current).map_err(|e| {
                    crate::domain::error::DomainError::internal(format!(
                        "the current representation does not serialise: {e}"
                    ))
                })
            })
        });
        self.ctx(now).guarded(precondition)
    }

    /// The organisation a case system is confined to; `None` for staff.
    pub fn scope(&self) -> Option<OrganisationId> {
        self.identity.scope().cloned()
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Identity>()
                .map(|identity| Caller {
                    actor: identity.actor.clone(),
                    identity: identity.clone(),
                    audit: crate::audit::Pending::of(req),
                    idempotency: crate::http::idempotency::Slot::of(req),
                    if_match: crate::http::conditional::IfMatch::of(req),
                })
                .ok_or_else(|| ApiError::Unauthorized("authentication required".into())),
        )
    }
}

/// The organisation a new record belongs to: a case system's own (it may not name one), or the
/// one staff name in the body.
pub(crate) fn owning_organisation(
    caller: &Caller,
    named: Option<Uuid>,
    check: &mut Check,
) -> Option<OrganisationId> {
    match (caller.scope(), named) {
        (Some(own), None) => Some(own),
        (Some(_), Some(_)) => {
            // The body extractor refuses this already; kept for bodies built otherwise.
            check.fail("organisation_id", crate::auth::ORGANISATION_FROM_KEY);
            None
        }
        (None, Some(id)) => Some(OrganisationId::from(id)),
        (None, None) => {
            check.fail("organisation_id", "is required");
            None
        }
    }
}

/// Registers every `/v1` operation with its rule.
pub fn configure(routes: &mut Routes<'_, '_>) {
    auth::configure(routes);
    staff::configure(routes);
    api_clients::configure(routes);
    organisations::configure(routes);
    exit_interviews::configure(routes);
    buddies::configure(routes);
    requests::configure(routes);
    candidates::configure(routes);
    exclusions::configure(routes);
    pairings::configure(routes);
    audit::configure(routes);
    privacy::configure(routes);
    outbox::configure(routes);
    reports::configure(routes);
    events::configure(routes);
    webhooks::configure(routes);
    feedback::configure(routes);
}

/// A stored id as an API id.
pub(crate) fn uuid(stored: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(stored).map_err(|e| ApiError::internal(format!("corrupt stored id: {e}")))
}

pub(crate) fn created<T: Serialize>(location: String, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(body)
}

/// A field that may be left out but not sent as `null` (it cannot be cleared).
pub(crate) fn non_null<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Treats an explicit `null` as "clear this field", distinct from leaving the field out.
pub(crate) fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The optional body of an action endpoint.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "reason": "Agreed with the buddy by phone" }))]
pub struct ActionBody {
    /// Why the action is taken; kept in the history.
    #[schema(schema_with = crate::domain::values::schema::reason_or_null)]
    pub reason: Option<String>,
}

impl ActionBody {
    /// The validated reason, or a 400.
    pub fn reason(body: Option<ActionBody>) -> ApiResult<Option<String>> {
        let mut check = Check::new();
        let reason = check.note("reason", body.and_then(|b| b.reason).as_deref(), MAX_REASON);
        check.finish()?;
        Ok(reason)
    }
}

/// Documents the optional bodies (`OptionalJson`, declared as `request_body(content =
/// Option<T>)`) as what they are: a body that may be left out (`required: false`) and, when sent,
/// is the object. utoipa writes them as `oneOf [T, null]`, but a JSON `null` is not an object
/// and is refused, and generated clients then send a placeholder for "no body".
pub fn document_optional_bodies(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{schema::Schema, RefOr, Required};
    let is_null = |schema: &RefOr<Schema>| {
        serde_json::to_value(schema).ok() == Some(serde_json::json!({ "type": "null" }))
    };
    for item in api.paths.paths.values_mut() {
        for operation in [
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            let Some(RefOr::T(body)) = operation.request_body.as_mut() else {
                continue;
            };
            if body.required == Some(Required::True) {
                continue;
            }
            body.required = Some(Required::False);
            for content in body.content.values_mut() {
                let RefOr::T(content) = content else {
                    continue;
                };
                if let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema {
                    if let [object, null] = one_of.items.as_slice() {
                        if is_null(null) {
                            content.schema = Some(object.clone());
                        }
                    }
                }
            }
        }
    }
}

/// Who performed a recorded action.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActorRef {
    /// `staff`, `api_client`, `buddy`, `system` or `unauthenticated`.
    #[serde(rename = "type")]
    #[schema(value_type = crate::audit::ActorType)]
    pub actor_type: String,
    /// The staff account, API client or buddy. A case system gets it only for its own
    /// organisation's API clients, never for staff or buddies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// One recorded change of a resource.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5c4-7d10-7000-8000-00000000f301",
    "action": "withdraw",
    "from_state": "open",
    "to_state": "withdrawn",
    "actor": { "type": "api_client", "id": "0193a5c4-7d10-7000-8000-00000000f001" },
    "reason": "The client no longer wants a buddy",
    "at": "2026-11-23T10:15:00Z"
}))]
pub struct HistoryEntry {
    pub id: Uuid,
    /// What happened: `create`, or the action taken (e.g. `accept`, `withdraw`).
    pub action: String,
    /// State before the change; absent on creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_state: Option<String>,
    /// State after the change; absent for resources without states.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_state: Option<String>,
    pub actor: ActorRef,
    /// Why, as typed with the action (or noted by the service). A case system gets it only on
    /// entries of its own organisation's API clients: never the bureau's text (exclusion,
    /// legal-hold or decline reasons, notes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

crate::page_type!(HistoryPage, HistoryEntry, "history entries");

impl HistoryEntry {
    /// The entry as the caller confined to `scope` may see it. Staff (`None`) see everything.
    /// A case system (`Some`) sees what happened (action, states, time, kind of actor), and the
    /// reason and actor id only where its own organisation's API client acted: nothing staff
    /// wrote, and no staff, buddy or system identity. The one place this rule lives.
    pub(crate) fn seen_in(mut self, scope: Option<&OrganisationId>) -> Self {
        if scope.is_some() && self.actor.actor_type != Actor::API_CLIENT {
            self.reason = None;
            self.actor.id = None;
        }
        self
    }
}

impl TryFrom<HistoryRow> for HistoryEntry {
    type Error = ApiError;
    fn try_from(row: HistoryRow) -> ApiResult<Self> {
        Ok(HistoryEntry {
            id: uuid(&row.id)?,
            action: row.action,
            from_state: row.from_state,
            to_state: row.to_state,
            actor: ActorRef {
                actor_type: row.actor_type,
                id: row.actor_id,
            },
            reason: row.reason,
            at: utc(row.at),
        })
    }
}

/// Paging parameters of a history list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(schema_with = crate::http::pagination::cursor_schema)]
    pub cursor: Option<String>,
}

/// Loads one page of the history of an entity, after checking via `exists` that the entity
/// exists and is visible to the caller, each entry as the caller may see it
/// ([`HistoryEntry::seen_in`]). `I` is the entity's typed id.
pub(crate) async fn history_page<I>(
    state: &AppState,
    caller: &Caller,
    entity_type: &'static str,
    id: Uuid,
    query: HistoryQuery,
    exists: impl FnOnce(&mut crate::db::DbConnection, &I) -> ApiResult<()> + Send + 'static,
) -> ApiResult<HistoryPage>
where
    I: From<Uuid> + AsRef<str> + Send + 'static,
{
    Ok(
        history_page_with(state, caller, entity_type, id, query, exists)
            .await?
            .0,
    )
}

/// As [`history_page`], also returning what `exists` found out about the entity (e.g. the
/// client it concerns, for the audit trail).
pub(crate) async fn history_page_with<I, E>(
    state: &AppState,
    caller: &Caller,
    entity_type: &'static str,
    id: Uuid,
    query: HistoryQuery,
    exists: impl FnOnce(&mut crate::db::DbConnection, &I) -> ApiResult<E> + Send + 'static,
) -> ApiResult<(HistoryPage, E)>
where
    I: From<Uuid> + AsRef<str> + Send + 'static,
    E: Send + 'static,
{
    let scope = caller.scope();
    let mut check = Check::new();
    let page = PageRequest::parse(
        "history",
        query.limit,
        query.cursor.as_deref(),
        check.errors_mut(),
    );
    check.finish()?;
    let id = I::from(id);
    let request = page.clone();
    let (rows, found) = state
        .db
        .run(move |conn| -> ApiResult<_> {
            let found = exists(conn, &id)?;
            let rows = crate::store::history::list(conn, entity_type, id.as_ref(), &request)?;
            Ok((rows, found))
        })
        .await?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id.as_str());
    let page = HistoryPage {
        items: rows
            .into_iter()
            .map(|row| Ok(HistoryEntry::try_from(row)?.seen_in(scope.as_ref())))
            .collect::<ApiResult<_>>()?,
        next_cursor,
    };
    Ok((page, found))
}
