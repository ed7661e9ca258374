//! Staff accounts, their login bookkeeping and their sessions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::on_duplicate;
use super::page::PageRequest;
use super::{concurrent_change, StoreError, StoreResult};
use crate::db::schema::{login_throttle, staff, staff_sessions};
use crate::db::DbConnection;
use crate::domain::actor::StaffRole;
use crate::domain::ids::StaffId;
use crate::domain::session::Channel;

pub const ENTITY: &str = "staff";

/// The row of resource `id`, to lock before a conditional change (see [`super::RowLock`]).
pub fn row(id: &StaffId) -> super::RowLock {
    super::RowLock::new("staff", ENTITY, id.as_ref())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = staff, treat_none_as_null = true)]
pub struct StaffRow {
    pub id: StaffId,
    pub email: String,
    pub name: String,
    pub role: StaffRole,
    pub password_hash: String,
    pub active: bool,
    pub failed_logins: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Failed logins to one account from one source address (see [`record_login`]).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = login_throttle, primary_key(staff_id, source), treat_none_as_null = true)]
pub struct ThrottleRow {
    pub staff_id: StaffId,
    /// The source's key: an IPv4 address, or an IPv6 address's /64 prefix.
    pub source: String,
    pub failures: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = staff_sessions)]
pub struct SessionRow {
    pub id: String,
    pub staff_id: StaffId,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub channel: Channel,
    /// A console session's idle time; `None` for the API's.
    pub idle_seconds: Option<i32>,
    /// A console session's latest end, however busy; `None` for the API's.
    pub ends_at: Option<NaiveDateTime>,
    /// When a console session's use was last noted (at most once a minute).
    pub last_seen_at: Option<NaiveDateTime>,
}

pub fn create(
    conn: &mut DbConnection,
    email: String,
    name: String,
    role: StaffRole,
    password_hash: String,
    now: NaiveDateTime,
) -> StoreResult<StaffRow> {
    let row = StaffRow {
        id: StaffId::new(),
        email,
        name,
        role,
        password_hash,
        active: true,
        failed_logins: 0,
        locked_until: None,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(staff::table)
        .values(&row)
        .execute(conn)
        .map_err(on_duplicate(ENTITY, "email"))?;
    Ok(row)
}

pub fn find(conn: &mut DbConnection, id: &StaffId) -> StoreResult<StaffRow> {
    staff::table
        .find(id)
        .select(StaffRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| StoreError::not_found(ENTITY, id))
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<StaffRow>> {
    staff::table
        .filter(staff::email.eq(email))
        .select(StaffRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConnection, page: &PageRequest) -> QueryResult<Vec<StaffRow>> {
    let mut query = staff::table
        .order(staff::id.asc())
        .limit(page.fetch())
        .select(StaffRow::as_select())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(staff::id.gt(after.clone()));
    }
    query.load(conn)
}

/// Stores a changed account, guarded by the `updated_at` it was read with.
pub fn save(conn: &mut DbConnection, row: &StaffRow, read_at: NaiveDateTime) -> StoreResult<()> {
    let updated = diesel::update(staff::table)
        .filter(staff::id.eq(&row.id))
        .filter(staff::updated_at.eq(read_at))
        .set(row)
        .execute(conn)?;
    if updated != 1 {
        return Err(concurrent_change(ENTITY));
    }
    Ok(())
}

/// Serialises changes that may take away an administrator. On PostgreSQL the rows of the active
/// administrators are locked until the transaction ends: without it, two transactions demoting
/// the last two administrators would each count the other as remaining, and both commit.
/// SQLite write transactions run one at a time already.
pub fn lock_active_admins(conn: &mut DbConnection) -> QueryResult<()> {
    if let DbConnection::Postgres(pg) = conn {
        staff::table
            .filter(staff::role.eq(StaffRole::Admin))
            .filter(staff::active.eq(true))
            .order(staff::id.asc())
            .select(staff::id)
            .for_update()
            .load::<String>(pg)?;
    }
    Ok(())
}

/// Number of active administrators other than `except`.
pub fn other_active_admins(conn: &mut DbConnection, except: &StaffId) -> QueryResult<i64> {
    staff::table
        .filter(staff::role.eq(StaffRole::Admin))
        .filter(staff::active.eq(true))
        .filter(staff::id.ne(except))
        .count()
        .get_result(conn)
}

/// Ends every session of an account (on deactivation or password change). Like every change
/// of a credential's validity, its operation moves the credential counter
/// ([`crate::ops::Tx::credentials_changed`]).
pub fn revoke_sessions(
    conn: &mut DbConnection,
    staff_id: &StaffId,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(staff_sessions::table)
        .filter(staff_sessions::staff_id.eq(staff_id))
        .filter(staff_sessions::revoked_at.is_null())
        .set(staff_sessions::revoked_at.eq(now))
        .execute(conn)
}

pub use crate::domain::session::LoginPolicy;

/// What the login bookkeeping decided.
pub enum LoginCheck {
    /// The password was right, the account is active and the source is not locked out: the
    /// account (its failures cleared), for which a session may be opened.
    Passed(Box<StaffRow>),
    /// Wrong e-mail, wrong password, inactive or locked account: the caller learns none of these.
    /// `locked_out`: this failure locked its source out (for the metrics).
    Refused { locked_out: bool },
}

/// The second half of a login, after the password was checked against the stored hash outside
/// any transaction (argon2id is slow by design; holding the write lock meanwhile would stall every
/// writer). Records the outcome for the account and the `source` it came from (the key of the
/// peer address), and opens a session if the password was right, the account is active and that
/// source is not locked out of it: then the caller opens the session ([`open_session`]).
///
/// The lockout is kept per account **and** source (OWASP's advice), with a progressive delay:
/// after `max_failures` consecutive failures from one source, that source is refused for the
/// account for `lockout`, doubling with each further failure up to an hour; attempts refused
/// during a lock do not count. A success from a source clears its count. Failures from one source
/// never lock another one out, so someone who knows an administrator's address cannot keep the
/// administrator from logging in. There is no lock on the account as a whole, for that would be
/// exactly such a weapon: guessing from many addresses is bounded by each address's own lock and
/// by the per-address rate limits. The account row keeps, for administrators to see, how many
/// failures there were since its last success (`failed_logins`) and until when some source is
/// locked out (`locked_until`).
pub fn record_login(
    conn: &mut DbConnection,
    staff_id: &StaffId,
    source: &str,
    password_verified: bool,
    policy: LoginPolicy,
    now: NaiveDateTime,
) -> StoreResult<LoginCheck> {
    // Lock the row (PostgreSQL) so that concurrent attempts count one after the other.
    diesel::update(staff::table)
        .filter(staff::id.eq(staff_id))
        .set(staff::updated_at.eq(staff::updated_at))
        .execute(conn)?;
    let mut row = find(conn, staff_id)?;
    let read_at = row.updated_at;
    if !row.active {
        return Ok(LoginCheck::Refused { locked_out: false });
    }
    let throttle: Option<ThrottleRow> = login_throttle::table
        .find((staff_id, source))
        .select(ThrottleRow::as_select())
        .first(conn)
        .optional()?;
    if throttle
        .as_ref()
        .and_then(|t| t.locked_until)
        .is_some_and(|until| until > now)
    {
        return Ok(LoginCheck::Refused { locked_out: false });
    }
    if !password_verified {
        let mut pair = throttle.clone().unwrap_or_else(|| ThrottleRow {
            staff_id: staff_id.clone(),
            source: source.to_owned(),
            failures: 0,
            locked_until: None,
            updated_at: now,
        });
        pair.failures += 1;
        pair.updated_at = now;
        let locked = policy.locked_until(pair.failures, now);
        if let Some(until) = locked {
            pair.locked_until = Some(until);
            row.locked_until = Some(row.locked_until.filter(|u| *u > until).unwrap_or(until));
            tracing::warn!(staff_id = %row.id, failures = pair.failures, "a source address locked out of a staff account after failed logins");
        }
        if throttle.is_some() {
            diesel::update(login_throttle::table.find((staff_id, source)))
                .set(&pair)
                .execute(conn)?;
        } else {
            diesel::insert_into(login_throttle::table)
                .values(&pair)
                .execute(conn)?;
        }
        row.failed_logins += 1;
        row.updated_at = now;
        save(conn, &row, read_at)?;
        return Ok(LoginCheck::Refused {
            locked_out: locked.is_some(),
        });
    }
    diesel::delete(login_throttle::table.find((staff_id, source))).execute(conn)?;
    row.failed_logins = 0;
    row.locked_until = login_throttle::table
        .filter(login_throttle::staff_id.eq(staff_id))
        .filter(login_throttle::locked_until.gt(now))
        .select(diesel::dsl::max(login_throttle::locked_until))
        .first::<Option<NaiveDateTime>>(conn)?;
    row.updated_at = now;
    save(conn, &row, read_at)?;
    Ok(LoginCheck::Passed(Box::new(row)))
}

/// Lifts every lock on an account's logins and forgets its failures (an administrator's unlock).
pub fn clear_login_throttle(conn: &mut DbConnection, staff_id: &StaffId) -> QueryResult<usize> {
    diesel::delete(login_throttle::table.filter(login_throttle::staff_id.eq(staff_id)))
        .execute(conn)
}

/// Stores a new session of an account until `expires_at`: its id and the hash of its secret
/// (the token itself is never stored).
pub fn open_session(
    conn: &mut DbConnection,
    staff_id: &StaffId,
    session_id: String,
    token_hash: String,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<SessionRow> {
    insert_session(
        conn,
        SessionRow {
            id: session_id,
            staff_id: staff_id.clone(),
            token_hash,
            created_at: now,
            expires_at,
            revoked_at: None,
            channel: Channel::Api,
            idle_seconds: None,
            ends_at: None,
            last_seen_at: None,
        },
    )
}

pub fn insert_session(conn: &mut DbConnection, session: SessionRow) -> QueryResult<SessionRow> {
    diesel::insert_into(staff_sessions::table)
        .values(&session)
        .execute(conn)?;
    Ok(session)
}

/// Notes that a console session was used at `now`: it now ends at `expires_at` unless used
/// again.
pub fn note_session_use(
    conn: &mut DbConnection,
    session_id: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(staff_sessions::table)
        .filter(staff_sessions::id.eq(session_id))
        .set((
            staff_sessions::last_seen_at.eq(now),
            staff_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
}

pub fn logout(conn: &mut DbConnection, session_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(staff_sessions::table)
        .filter(staff_sessions::id.eq(session_id))
        .filter(staff_sessions::revoked_at.is_null())
        .set(staff_sessions::revoked_at.eq(now))
        .execute(conn)
}

/// A session with its account, by the session's id (whether it is valid is the caller's to
/// decide: see `auth::credentials`).
pub fn find_session(
    conn: &mut DbConnection,
    session_id: &str,
) -> QueryResult<Option<(SessionRow, StaffRow)>> {
    staff_sessions::table
        .inner_join(staff::table)
        .filter(staff_sessions::id.eq(session_id))
        .select((SessionRow::as_select(), StaffRow::as_select()))
        .first(conn)
        .optional()
}
