//! API clients (case-management systems) and their keys.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::on_duplicate;
use super::page::PageRequest;
use super::{concurrent_change, StoreError, StoreResult};
use crate::db::schema::{api_clients, api_keys, organisations as organisations_table};
use crate::db::DbConnection;
use crate::domain::ids::{ApiClientId, ApiKeyId, OrganisationId};
use crate::domain::organisation::OrganisationState;

pub const ENTITY: &str = "api_client";

/// The row of resource `id`, to lock before a conditional change (see [`super::RowLock`]).
pub fn row(id: &ApiClientId) -> super::RowLock {
    super::RowLock::new("api_clients", ENTITY, id.as_ref())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_clients)]
pub struct ApiClientRow {
    pub id: ApiClientId,
    pub organisation_id: OrganisationId,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: ApiKeyId,
    pub client_id: ApiClientId,
    pub secret_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn create(
    conn: &mut DbConnection,
    organisation_id: &OrganisationId,
    name: String,
    now: NaiveDateTime,
) -> StoreResult<ApiClientRow> {
    let row = ApiClientRow {
        id: ApiClientId::new(),
        organisation_id: organisation_id.clone(),
        name,
        created_at: now,
        revoked_at: None,
    };
    diesel::insert_into(api_clients::table)
        .values(&row)
        .execute(conn)
        .map_err(on_duplicate(ENTITY, "name"))?;
    Ok(row)
}

pub fn find(conn: &mut DbConnection, id: &ApiClientId) -> StoreResult<ApiClientRow> {
    api_clients::table
        .find(id)
        .select(ApiClientRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| StoreError::not_found(ENTITY, id))
}

pub fn list(
    conn: &mut DbConnection,
    organisation_id: Option<&OrganisationId>,
    page: &PageRequest,
) -> QueryResult<Vec<ApiClientRow>> {
    let mut query = api_clients::table
        .order(api_clients::id.asc())
        .limit(page.fetch())
        .select(ApiClientRow::as_select())
        .into_boxed();
    if let Some(org) = organisation_id {
        query = query.filter(api_clients::organisation_id.eq(org.clone()));
    }
    if let Some(after) = &page.after {
        query = query.filter(api_clients::id.gt(after.clone()));
    }
    query.load(conn)
}

pub fn keys(conn: &mut DbConnection, client_id: &ApiClientId) -> QueryResult<Vec<ApiKeyRow>> {
    api_keys::table
        .filter(api_keys::client_id.eq(client_id))
        .order(api_keys::id.asc())
        .select(ApiKeyRow::as_select())
        .load(conn)
}

/// The keys of several clients in one query, grouped by client.
pub fn keys_of(
    conn: &mut DbConnection,
    client_ids: &[ApiClientId],
) -> QueryResult<std::collections::HashMap<ApiClientId, Vec<ApiKeyRow>>> {
    let rows: Vec<ApiKeyRow> = api_keys::table
        .filter(api_keys::client_id.eq_any(client_ids))
        .order(api_keys::id.asc())
        .select(ApiKeyRow::as_select())
        .load(conn)?;
    let mut grouped = std::collections::HashMap::<ApiClientId, Vec<ApiKeyRow>>::new();
    for row in rows {
        grouped.entry(row.client_id.clone()).or_default().push(row);
    }
    Ok(grouped)
}

/// Stores a key of a client: its id and the hash of its secret (the token itself is never
/// stored).
pub fn create_key(
    conn: &mut DbConnection,
    client_id: &ApiClientId,
    key_id: ApiKeyId,
    secret_hash: String,
    expires_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> StoreResult<ApiKeyRow> {
    let row = ApiKeyRow {
        id: key_id,
        client_id: client_id.clone(),
        secret_hash,
        created_at: now,
        expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    diesel::insert_into(api_keys::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// Key `key_id` of client `client_id` (another client's key is not found).
pub fn find_key_of(
    conn: &mut DbConnection,
    client_id: &ApiClientId,
    key_id: &ApiKeyId,
) -> StoreResult<ApiKeyRow> {
    api_keys::table
        .filter(api_keys::id.eq(key_id))
        .filter(api_keys::client_id.eq(client_id))
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| StoreError::not_found("api_key", key_id))
}

/// Revokes `key`, read unrevoked, guarded by that.
pub fn revoke_key(
    conn: &mut DbConnection,
    key: ApiKeyRow,
    now: NaiveDateTime,
) -> StoreResult<ApiKeyRow> {
    let revoked = diesel::update(api_keys::table)
        .filter(api_keys::id.eq(&key.id))
        .filter(api_keys::revoked_at.is_null())
        .set(api_keys::revoked_at.eq(now))
        .execute(conn)?;
    if revoked != 1 {
        return Err(concurrent_change("api_key"));
    }
    Ok(ApiKeyRow {
        revoked_at: Some(now),
        ..key
    })
}

/// Revokes `client`, read unrevoked (guarded by that), with every key it still has.
pub fn revoke(
    conn: &mut DbConnection,
    client: ApiClientRow,
    now: NaiveDateTime,
) -> StoreResult<ApiClientRow> {
    let revoked = diesel::update(api_clients::table)
        .filter(api_clients::id.eq(&client.id))
        .filter(api_clients::revoked_at.is_null())
        .set(api_clients::revoked_at.eq(now))
        .execute(conn)?;
    if revoked != 1 {
        return Err(concurrent_change(ENTITY));
    }
    diesel::update(api_keys::table)
        .filter(api_keys::client_id.eq(&client.id))
        .filter(api_keys::revoked_at.is_null())
        .set(api_keys::revoked_at.eq(now))
        .execute(conn)?;
    Ok(ApiClientRow {
        revoked_at: Some(now),
        ..client
    })
}

/// A key with its client and the state of the client's organisation, by the key's id (whether it
/// is valid is the caller's to decide: see `auth::credentials`).
pub fn find_key(
    conn: &mut DbConnection,
    key_id: &ApiKeyId,
) -> QueryResult<Option<(ApiKeyRow, ApiClientRow, OrganisationState)>> {
    api_keys::table
        .inner_join(api_clients::table.inner_join(organisations_table::table))
        .filter(api_keys::id.eq(key_id))
        .select((
            ApiKeyRow::as_select(),
            ApiClientRow::as_select(),
            organisations_table::state,
        ))
        .first(conn)
        .optional()
}

/// Notes when a key was last used.
pub fn note_use(
    conn: &mut DbConnection,
    key_id: &ApiKeyId,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(api_keys::table)
        .filter(api_keys::id.eq(key_id))
        .set(api_keys::last_used_at.eq(now))
        .execute(conn)
}
