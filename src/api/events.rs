//! `/v1/events`: the event feed (see [`crate::ops::feed`]), for case systems to catch up without
//! polling every request.

use actix_web::web::Data;
use actix_web::{get, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{AppState, Caller};
use crate::api::routes::Routes;
use crate::auth::policy::ANY_CALLER;
use crate::domain::values::Check;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::http::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::ops::feed::FeedEvent;
use crate::store::events::{self as store, Position};

pub fn configure(routes: &mut Routes<'_, '_>) {
    routes.add(list_events, ANY_CALLER);
}

/// The longest cursor accepted.
const MAX_CURSOR: usize = 100;

/// One page of the feed, in commit order.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<FeedEvent>,
    /// Pass as `after` to get what follows: always present, also when `items` is empty (then it
    /// is the cursor sent), so a reader keeps it and asks again later.
    pub next_cursor: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// The `next_cursor` of the previous page; left out, the feed starts at its oldest event
    /// still kept.
    #[param(schema_with = cursor_schema)]
    pub after: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

fn cursor_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_CURSOR))
        .pattern(Some("^[A-Za-z0-9_-]+$"))
        .description(Some(
            "The `next_cursor` of the previous page, unchanged: an opaque text (a cursor of \
             another list is refused).",
        ))
        .build()
}

fn encode(at: Position) -> String {
    URL_SAFE_NO_PAD.encode(format!("events:{}.{}", at.txid, at.seq))
}

fn decode(cursor: &str) -> Option<Position> {
    if cursor.len() > MAX_CURSOR {
        return None;
    }
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let (txid, seq) = text.strip_prefix("events:")?.split_once('.')?;
    let (txid, seq) = (txid.parse::<i64>().ok()?, seq.parse::<i64>().ok()?);
    (txid >= 0 && seq >= 0).then_some(Position { txid, seq })
}

/// Read what happened, after a cursor.
///
/// The caller's organisation's events (a case system's; staff see every organisation's), in
/// commit order, oldest first: each buddy request's creation, proposal, match, reopening,
/// closing, withdrawal and overdue report, and each exit interview recorded. Events carry ids
/// and states, no personal data. Keep the `next_cursor` and ask again with it as `after`: a
/// reader that was away catches up without missing or repeating an event, as long as it comes
/// back within `api.event_keep_days` (30 by default), after which events are deleted. An event
/// becomes visible only once no transaction that began before it is still running, so a cursor
/// never passes an event that commits later.
#[utoipa::path(
    tag = "events",
    params(EventQuery),
    responses((status = 200, description = "The events after the cursor (possibly none)", body = EventPage))
)]
#[get("/events")]
async fn list_events(
    state: Data<AppState>,
    caller: Caller,
    query: Query<EventQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.0;
    let mut check = Check::new();
    let limit = match query.limit {
        None => DEFAULT_LIMIT,
        Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            check.fail("limit", format!("must be between 1 and {MAX_LIMIT}"));
            DEFAULT_LIMIT
        }
    };
    let after = match query.after.as_deref().map(decode) {
        None => Position::default(),
        Some(Some(position)) => position,
        Some(None) => {
            check.fail("after", "not a cursor of this feed");
            Position::default()
        }
    };
    check.finish()?;
    let organisation = caller.scope().map(|o| o.as_str().to_owned());
    let rows = state
        .db
        .run(move |conn| -> ApiResult<_> {
            Ok(store::after(
                conn,
                organisation.as_deref(),
                after,
                i64::from(limit),
            )?)
        })
        .await?;
    let last = rows.last().map_or(after, |row| Position {
        txid: row.txid,
        seq: row.seq,
    });
    let items = rows
        .into_iter()
        .map(|row| {
            serde_json::from_str::<FeedEvent>(&row.payload)
                .map_err(|e| ApiError::internal(format!("a stored event does not parse: {e}")))
        })
        .collect::<ApiResult<_>>()?;
    Ok(HttpResponse::Ok().json(EventPage {
        items,
        next_cursor: encode(last),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let at = Position {
            txid: 7_000_123,
            seq: 42,
        };
        assert_eq!(decode(&encode(at)), Some(at));
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode("audit:1.2")), None);
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode("events:-1.2")), None);
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode("events:12")), None);
        assert_eq!(decode("not base64!"), None);
    }
}
