//! Running the programme: organisations, staff accounts and their sessions, and the API clients
//! of case systems. The API's administration endpoints and the command line (`maatje admin …`)
//! call these same operations.

use chrono::NaiveDateTime;

use super::Tx;
use crate::auth::token::{self, TokenKind};
use crate::auth::StaffRole;
use crate::db::DbConnection;
use crate::domain::api_client::{ensure_issues_keys, ensure_not_revoked};
use crate::domain::error::{DomainError, DomainResult};
use crate::domain::ids::{ApiClientId, ApiKeyId, OrganisationId, StaffId};
use crate::domain::lifecycle::Step;
use crate::domain::organisation::OrganisationAction;
use crate::domain::session::{Channel, ConsolePolicy, LoginPolicy};
use crate::store::api_clients::{self, ApiClientRow, ApiKeyRow};
use crate::store::organisations::{self, OrganisationRow};
use crate::store::outbox::{self, OutboxRow};
use crate::store::staff::{self, LoginCheck, StaffRow};

/// Takes a new organisation into the programme.
pub fn create_organisation(tx: &mut Tx<'_>, name: String) -> DomainResult<OrganisationRow> {
    organisations::create(tx.conn, name, &tx.ctx.actor, tx.ctx.now).map_err(|e| {
        e.duplicate_is(|| DomainError::duplicate("an organisation with this name already exists"))
    })
}

/// Deactivates or reactivates an organisation.
pub fn act_on_organisation(
    tx: &mut Tx<'_>,
    id: &OrganisationId,
    action: OrganisationAction,
    reason: Option<&str>,
) -> DomainResult<OrganisationRow> {
    // Its case systems' keys are refused, or allowed again.
    tx.credentials_changed();
    let row = organisations::find(tx.conn, id)?;
    let step = Step::of(row.state, action)?;
    Ok(organisations::record_step(
        tx.conn,
        id,
        step,
        reason,
        &tx.ctx.actor,
        tx.ctx.now,
    )?)
}

/// The organisation `id`, which must exist (404) and take part in the programme to file new
/// records (409 otherwise).
pub(crate) fn filing_organisation(
    tx: &mut Tx<'_>,
    id: &OrganisationId,
) -> DomainResult<OrganisationRow> {
    let row = tx.organisation(id)?;
    row.state.ensure_files_records()?;
    Ok(row)
}

/// Opens a staff account; `password_hash` is the argon2id hash (hashed before the transaction:
/// it is slow by design).
pub fn create_staff(
    tx: &mut Tx<'_>,
    email: String,
    name: String,
    role: StaffRole,
    password_hash: String,
) -> DomainResult<StaffRow> {
    staff::create(tx.conn, email, name, role, password_hash, tx.ctx.now).map_err(|e| {
        e.duplicate_is(|| DomainError::duplicate("a staff account with this e-mail address exists"))
    })
}

/// What a change of a staff account sets; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct StaffChange {
    pub name: Option<String>,
    pub role: Option<StaffRole>,
    pub active: Option<bool>,
    /// The new password's hash.
    pub password_hash: Option<String>,
    pub unlock: bool,
}

/// Changes a staff account. The last active administrator can neither lose the role nor be
/// deactivated; deactivation and a new password end the account's sessions.
pub fn update_staff(tx: &mut Tx<'_>, id: &StaffId, change: StaffChange) -> DomainResult<StaffRow> {
    let now = tx.now();
    // A new role or active flag changes what the account's sessions allow; a new password
    // ends them.
    if change.role.is_some() || change.active.is_some() || change.password_hash.is_some() {
        tx.credentials_changed();
    }
    let conn = &mut *tx.conn;
    // Before reading: a concurrent change of another admin must be seen once it commits.
    if change.role.is_some() || change.active.is_some() {
        staff::lock_active_admins(conn)?;
    }
    let mut row = staff::find(conn, id)?;
    let read_at = row.updated_at;
    let loses_admin = row.role == StaffRole::Admin
        && row.active
        && (change.role.is_some_and(|r| r != StaffRole::Admin) || change.active == Some(false));
    if loses_admin && staff::other_active_admins(conn, id)? == 0 {
        return Err(DomainError::Conflict {
            kind: "last-admin",
            title: "Last administrator",
            detail: "this is the last active administrator; make another one first".into(),
        });
    }
    if let Some(name) = change.name {
        row.name = name;
    }
    if let Some(role) = change.role {
        row.role = role;
    }
    if let Some(active) = change.active {
        row.active = active;
    }
    if change.unlock {
        row.failed_logins = 0;
        row.locked_until = None;
        staff::clear_login_throttle(conn, id)?;
    }
    let ends_sessions = change.active == Some(false) || change.password_hash.is_some();
    if let Some(hash) = change.password_hash {
        row.password_hash = hash;
    }
    row.updated_at = now;
    staff::save(conn, &row, read_at)?;
    if ends_sessions {
        staff::revoke_sessions(conn, id, now)?;
    }
    Ok(row)
}

/// Which kind of session a login opens.
#[derive(Debug, Clone, Copy)]
pub enum Opening {
    /// A bearer token for the API, for `auth.session_ttl_minutes`.
    Api,
    /// A cookie for the browser console, ending after idle time.
    Console(ConsolePolicy),
}

/// A successful login: the token (shown once) and when it expires.
pub struct Session {
    pub token: String,
    pub expires_at: NaiveDateTime,
    pub staff: StaffRow,
}

pub enum LoginOutcome {
    Success(Box<Session>),
    /// Wrong e-mail, wrong password, inactive or locked account: the caller learns none of these.
    /// `locked_out`: this failure locked its source out (for the metrics).
    Refused {
        locked_out: bool,
    },
}

/// The second half of a login, once the password was checked outside the transaction: the
/// session, or the failure counted against the source.
pub fn log_in(
    tx: &mut Tx<'_>,
    staff_id: &StaffId,
    source: &str,
    verified: bool,
    policy: LoginPolicy,
    channel: Opening,
) -> DomainResult<LoginOutcome> {
    let now = tx.ctx.now;
    Ok(
        match staff::record_login(tx.conn, staff_id, source, verified, policy, now)? {
            LoginCheck::Passed(staff) => {
                let (token, expires_at) = match channel {
                    Opening::Api => {
                        let expires_at = now + policy.session_ttl;
                        (
                            open_session(tx.conn, &staff.id, now, expires_at)?,
                            expires_at,
                        )
                    }
                    Opening::Console(console) => {
                        open_console_session(tx.conn, &staff.id, now, console)?
                    }
                };
                LoginOutcome::Success(Box::new(Session {
                    token,
                    expires_at,
                    staff: *staff,
                }))
            }
            LoginCheck::Refused { locked_out } => LoginOutcome::Refused { locked_out },
        },
    )
}

/// Opens a session of a staff account until `expires_at`, without a password check: the end of
/// a login, and what tools that already know who the user is use (the test harness). Returns the
/// token, which is shown once and stored only as a hash.
pub fn open_session(
    conn: &mut DbConnection,
    staff_id: &StaffId,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> DomainResult<String> {
    let minted = token::mint(TokenKind::StaffSession);
    staff::open_session(
        conn,
        staff_id,
        minted.id,
        minted.secret_hash,
        now,
        expires_at,
    )?;
    Ok(minted.token)
}

/// Opens a console session (its cookie's token, shown once, and when it ends if idle).
fn open_console_session(
    conn: &mut DbConnection,
    staff_id: &StaffId,
    now: NaiveDateTime,
    policy: ConsolePolicy,
) -> DomainResult<(String, NaiveDateTime)> {
    let minted = token::mint(TokenKind::ConsoleSession);
    let ends_at = now + policy.absolute;
    let idle_seconds = i32::try_from(policy.idle.num_seconds()).unwrap_or(i32::MAX);
    let expires_at = ConsolePolicy::extended(idle_seconds, now, ends_at);
    staff::insert_session(
        conn,
        staff::SessionRow {
            id: minted.id,
            staff_id: staff_id.clone(),
            token_hash: minted.secret_hash,
            created_at: now,
            expires_at,
            revoked_at: None,
            channel: Channel::Console,
            idle_seconds: Some(idle_seconds),
            ends_at: Some(ends_at),
            last_seen_at: Some(now),
        },
    )?;
    Ok((minted.token, expires_at))
}

/// Ends a staff session.
pub fn log_out(tx: &mut Tx<'_>, session_id: &str) -> DomainResult<()> {
    if staff::logout(tx.conn, session_id, tx.ctx.now)? > 0 {
        tx.credentials_changed();
    }
    Ok(())
}

/// Registers the API client of a case system with its first key.
pub fn create_api_client(
    tx: &mut Tx<'_>,
    organisation_id: &OrganisationId,
    name: String,
    key_expires_at: Option<NaiveDateTime>,
) -> DomainResult<(ApiClientRow, NewKey)> {
    filing_organisation(tx, organisation_id)?;
    let client = api_clients::create(tx.conn, organisation_id, name, tx.ctx.now).map_err(|e| {
        e.duplicate_is(|| {
            DomainError::duplicate("this organisation already has an API client with this name")
        })
    })?;
    let key = issue_key(tx, &client.id, key_expires_at)?;
    Ok((client, key))
}

/// Revokes an API client with all its keys; returns it with its keys.
pub fn revoke_api_client(
    tx: &mut Tx<'_>,
    id: &ApiClientId,
) -> DomainResult<(ApiClientRow, Vec<ApiKeyRow>)> {
    let client = api_clients::find(tx.conn, id)?;
    ensure_not_revoked(client.revoked_at.is_some(), "API client")?;
    let row = api_clients::revoke(tx.conn, client, tx.ctx.now)?;
    tx.credentials_changed();
    Ok((row, api_clients::keys(tx.conn, id)?))
}

/// A new key: its row and the token, which is shown once and never stored.
pub struct NewKey {
    pub row: ApiKeyRow,
    pub token: String,
}

/// Issues another key of an API client that is not revoked.
pub fn issue_key(
    tx: &mut Tx<'_>,
    client_id: &ApiClientId,
    expires_at: Option<NaiveDateTime>,
) -> DomainResult<NewKey> {
    let client = api_clients::find(tx.conn, client_id)?;
    ensure_issues_keys(client.revoked_at.is_some())?;
    let minted = token::mint(TokenKind::ApiKey);
    let row = api_clients::create_key(
        tx.conn,
        client_id,
        ApiKeyId::from(minted.id),
        minted.secret_hash,
        expires_at,
        tx.ctx.now,
    )?;
    Ok(NewKey {
        row,
        token: minted.token,
    })
}

/// Revokes one key of an API client.
pub fn revoke_key(
    tx: &mut Tx<'_>,
    client_id: &ApiClientId,
    key_id: &ApiKeyId,
) -> DomainResult<ApiKeyRow> {
    let key = api_clients::find_key_of(tx.conn, client_id, key_id)?;
    ensure_not_revoked(key.revoked_at.is_some(), "key")?;
    let row = api_clients::revoke_key(tx.conn, key, tx.ctx.now)?;
    tx.credentials_changed();
    Ok(row)
}

/// Queues dead outbox message `id` again (an admin, after fixing what killed it). Only a dead
/// message that still has its contents can be retried.
pub fn retry_outbox_message(tx: &mut Tx<'_>, id: &str) -> DomainResult<OutboxRow> {
    let row =
        outbox::find(tx.conn, id)?.ok_or_else(|| DomainError::not_found(outbox::ENTITY, id))?;
    row.state
        .ensure_retryable(row.last_error.as_deref() == Some(outbox::CONTENTS_ERASED))?;
    tx.ctx.object(&row.id);
    Ok(outbox::requeue_dead(tx.conn, id, tx.ctx.now)?)
}
