//! The use-case layer: one function per thing a caller can do, shared by every channel (the
//! API handlers, the buddy's response pages, the scheduler's jobs).
//!
//! An operation gets a [`Ctx`] (who acts, in which organisation's scope, when, and the audit
//! record of the request) and runs in one transaction, through [`change`]:
//!
//! 1. the operation checks the caller's scope and applies the domain transition through the
//!    store, which writes the history;
//! 2. it emits domain [`Event`]s ([`Tx::emit`]); their reactions (outbox mail, automatic
//!    proposal) run in the same transaction, from one module, [`reactions`], and may emit more;
//! 3. the audit record of the request ([`crate::audit::Pending`]) is appended last, in the same
//!    transaction: a change and its record commit together, or neither does.
//!
//! A change of one resource may carry a [`Precondition`] (the request's `If-Match`): it is
//! checked first, inside the transaction, and a change whose precondition fails stores nothing.
//!
//! A change the caller is told failed is rolled back whole, so a retry is always safe.
//! Reads leave their record to the audit middleware, which commits it (grouped with other
//! requests' records) before the answer goes out.

pub mod admin;
pub mod buddies;
pub mod contacts;
pub mod events;
pub mod feed;
pub mod feedback;
pub mod pairings;
pub mod portal;
pub mod reactions;
pub mod records;
pub mod requests;
pub mod webhooks;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chrono::NaiveDateTime;

pub use events::Event;
pub use reactions::Reactions;

use crate::audit::Pending;
use crate::config::MatchingSettings;
use crate::db::{write_transaction, Database, DbConnection, StoreFailure};
use crate::domain::actor::Actor;
use crate::domain::clock::Clock;
use crate::domain::error::{DomainError, DomainResult};
use crate::domain::ids::OrganisationId;
use crate::domain::privacy::Retention;
use crate::domain::request::ServiceLevel;
use crate::domain::session::LoginPolicy;
use crate::http::conditional::{EntityTag, IfMatch};
use crate::store::organisations::OrganisationRow;
use crate::store::RowLock;

/// What every operation and handler shares.
#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    /// Appends the audit records that no change's own transaction carries, many per commit.
    pub audit: crate::audit::writer::AuditWriter,
    pub clock: Clock,
    pub login: LoginPolicy,
    /// The bound on concurrent password checks (`auth.max_concurrent_verifications`).
    pub verifications: crate::auth::password::Verifications,
    pub retention: Retention,
    /// What changes cause: the mails and the automatic proposal; its notices also render the
    /// buddy response pages.
    pub reactions: Reactions,
    pub service_level: ServiceLevel,
    pub matching: MatchingSettings,
    /// The facts about every active buddy the candidate ranking last read.
    pub candidates: std::sync::Arc<crate::store::candidates::FactsCache>,
    /// The credentials verified lately, so that most requests authenticate without the database
    /// (see [`crate::auth::cache`]).
    pub credentials: std::sync::Arc<crate::auth::cache::CredentialCache>,
    /// The `Idempotency-Key` settings (see [`crate::http::idempotency`]).
    pub idempotency: crate::http::idempotency::IdempotencySettings,
}

impl AppState {
    /// Runs `f` as one change (see [`change`]). A change that made credentials invalid (see
    /// [`Tx::credentials_changed`]) empties this instance's credential cache once it committed,
    /// so the next request of this instance already sees it; the others see the counter move.
    pub async fn change<T, E, F>(&self, ctx: Ctx, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Tx<'_>) -> Result<T, E> + Send + 'static,
        E: StoreFailure,
        T: Send + 'static,
    {
        let reactions = self.reactions.clone();
        let (value, credentials_changed) = self
            .db
            .writing(move |conn| change_reporting_on(conn, &reactions, ctx, f))
            .await?;
        if credentials_changed {
            self.credentials.invalidate();
        }
        Ok(value)
    }
}

/// Who asks, within which organisation, at what time, and the audit record of the request.
#[derive(Clone)]
pub struct Ctx {
    pub actor: Actor,
    /// The organisation a case system is confined to; `None` for staff and the service itself.
    pub scope: Option<OrganisationId>,
    /// The service clock when the request arrived (or the job ran).
    pub now: NaiveDateTime,
    audit: Option<Pending>,
    /// The `Idempotency-Key` the request claimed: the change marks it applied.
    idempotency: Option<crate::http::idempotency::Slot>,
    /// The state the resource changed must be in (`If-Match`), checked first.
    precondition: Option<Precondition>,
}

/// Renders the current tag of a resource inside a transaction.
type CurrentTag = dyn Fn(&mut DbConnection) -> DomainResult<EntityTag> + Send + Sync;

/// The precondition of a change to one existing resource: the request's `If-Match`, compared
/// first in the change's write transaction with the resource's current tag, before anything
/// changes (see [`crate::http::conditional`]). Its row is locked first, so that no other change
/// slips in between the comparison and the change on PostgreSQL (READ COMMITTED); SQLite runs
/// one write transaction at a time already.
#[derive(Clone)]
pub struct Precondition {
    if_match: IfMatch,
    row: RowLock,
    current: Arc<CurrentTag>,
}

impl Precondition {
    /// `if_match` on the resource in `row`, whose tag `current` renders as the caller's `GET`
    /// would show it.
    pub fn new(
        if_match: IfMatch,
        row: RowLock,
        current: impl Fn(&mut DbConnection) -> DomainResult<EntityTag> + Send + Sync + 'static,
    ) -> Precondition {
        Precondition {
            if_match,
            row,
            current: Arc::new(current),
        }
    }

    /// Locks the row and compares; a resource that is not there (or not the caller's) is the
    /// reading's own 404, a tag that does not match a 412.
    fn check(&self, conn: &mut DbConnection) -> DomainResult<()> {
        self.row.lock(conn)?;
        let current = (self.current)(conn)?;
        if self.if_match.matches(&current) {
            Ok(())
        } else {
            Err(DomainError::PreconditionFailed {
                resource: self.row.entity(),
                id: self.row.id().to_owned(),
            })
        }
    }
}

impl Ctx {
    pub fn new(actor: Actor, scope: Option<OrganisationId>, now: NaiveDateTime) -> Ctx {
        Ctx {
            actor,
            scope,
            now,
            audit: None,
            idempotency: None,
            precondition: None,
        }
    }

    /// The service acting by itself (the scheduler): no scope, no request to audit.
    pub fn system(now: NaiveDateTime) -> Ctx {
        Ctx::new(Actor::System, None, now)
    }

    /// Attaches the audit record of the request (when its route is audited).
    pub fn audited(mut self, pending: Option<Pending>) -> Ctx {
        self.audit = pending;
        self
    }

    /// Attaches the `Idempotency-Key` the request claimed, if any.
    pub fn keyed(mut self, slot: Option<crate::http::idempotency::Slot>) -> Ctx {
        self.idempotency = slot;
        self
    }

    /// Attaches the precondition of the change (the request's `If-Match`), if any.
    pub fn guarded(mut self, precondition: Option<Precondition>) -> Ctx {
        self.precondition = precondition;
        self
    }

    /// Notes the client the operation concerns, for the request's audit record.
    pub fn concerns(&self, client_ref: Option<String>) {
        if let Some(pending) = &self.audit {
            pending.concerns(client_ref);
        }
    }

    /// Notes the object created or acted on, for the request's audit record.
    pub fn object(&self, id: &str) {
        if let Some(pending) = &self.audit {
            pending.object(id);
        }
    }

    /// Notes who acted, when the operation establishes it (a buddy's response link).
    pub fn acted_by(&mut self, actor: Actor) {
        if let Some(pending) = &self.audit {
            pending.actor(actor.clone());
        }
        self.actor = actor;
    }
}

/// One change under way: its connection (inside the write transaction), its context and the
/// events it emitted whose reactions have not run yet.
pub struct Tx<'a> {
    pub conn: &'a mut DbConnection,
    pub ctx: Ctx,
    reactions: &'a Reactions,
    events: VecDeque<Event>,
    /// Set when the operation found nothing to change after all (e.g. a used response link):
    /// the request's record is then the middleware's, with the answer's own status.
    unchanged: bool,
    /// Set by [`Tx::credentials_changed`].
    credentials_changed: bool,
    /// The organisations this transaction read, so that none is read twice (by the operation and
    /// again by a reaction's mail). No operation changes an organisation and reads it again.
    organisations: HashMap<OrganisationId, OrganisationRow>,
    /// The proposals this transaction made (directly or by the automatic proposal).
    proposals: Vec<crate::store::pairings::PairingRow>,
}

impl Tx<'_> {
    pub fn now(&self) -> NaiveDateTime {
        self.ctx.now
    }

    pub fn actor(&self) -> &Actor {
        &self.ctx.actor
    }

    /// Declares that this transaction changed nothing: it writes no audit record of its own.
    pub fn unchanged(&mut self) {
        self.unchanged = true;
    }

    /// Declares that this transaction makes verified credentials invalid or changes what they
    /// allow (a revoked key or client, an ended session, a staff account's new role or active
    /// flag, an organisation deactivated or reactivated). The `credential_version` counter moves
    /// last in the transaction, so every instance drops its credential cache once it commits
    /// (see [`crate::auth::cache`]). Every operation that makes such a change must call it.
    pub fn credentials_changed(&mut self) {
        self.credentials_changed = true;
    }

    /// Organisation `id`, read once per transaction.
    pub fn organisation(&mut self, id: &OrganisationId) -> DomainResult<OrganisationRow> {
        if let Some(row) = self.organisations.get(id) {
            return Ok(row.clone());
        }
        let row = crate::store::organisations::find(self.conn, id)?;
        self.organisations.insert(id.clone(), row.clone());
        Ok(row)
    }

    /// The proposal this transaction made for request `id`, if it made one.
    pub fn proposed_for(
        &self,
        id: &crate::domain::ids::RequestId,
    ) -> Option<&crate::store::pairings::PairingRow> {
        self.proposals.iter().rev().find(|p| p.request_id == *id)
    }

    /// Emits a domain event; its reactions run before the transaction commits.
    pub fn emit(&mut self, event: Event) {
        self.events.push_back(event);
    }

    /// Runs the reactions of every event emitted so far (and of those they emit) now, so that
    /// the operation can read the state they leave (e.g. a request proposed automatically).
    pub fn settle(&mut self) -> DomainResult<()> {
        let reactions = self.reactions;
        while let Some(event) = self.events.pop_front() {
            reactions.react(self, event)?;
        }
        Ok(())
    }
}

/// Runs `f` in one write transaction with the reactions of its events and the audit record of
/// the request: all of it is stored, or none.
pub async fn change<T, E, F>(db: &Database, reactions: &Reactions, ctx: Ctx, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Tx<'_>) -> Result<T, E> + Send + 'static,
    E: StoreFailure,
    T: Send + 'static,
{
    let reactions = reactions.clone();
    db.writing(move |conn| change_on(conn, &reactions, ctx, f))
        .await
}

/// [`change`] on a connection the caller holds (the command line, tests): blocking.
pub fn change_on<T, E, F>(
    conn: &mut DbConnection,
    reactions: &Reactions,
    ctx: Ctx,
    f: F,
) -> Result<T, E>
where
    F: FnOnce(&mut Tx<'_>) -> Result<T, E>,
    E: From<DomainError> + From<diesel::result::Error>,
{
    change_reporting_on(conn, reactions, ctx, f).map(|(value, _)| value)
}

/// [`change_on`], also telling whether the change made credentials invalid (see
/// [`Tx::credentials_changed`]).
fn change_reporting_on<T, E, F>(
    conn: &mut DbConnection,
    reactions: &Reactions,
    ctx: Ctx,
    f: F,
) -> Result<(T, bool), E>
where
    F: FnOnce(&mut Tx<'_>) -> Result<T, E>,
    E: From<DomainError> + From<diesel::result::Error>,
{
    let (value, recorded, credentials_changed) = write_transaction(conn, move |conn| {
        // First: a change whose precondition fails changes, records and marks nothing.
        if let Some(precondition) = &ctx.precondition {
            precondition.check(conn)?;
        }
        let mut tx = Tx {
            conn,
            ctx,
            reactions,
            events: VecDeque::new(),
            unchanged: false,
            credentials_changed: false,
            organisations: HashMap::new(),
            proposals: Vec::new(),
        };
        let value = f(&mut tx)?;
        tx.settle()?;
        let recorded = match (&tx.ctx.audit, tx.unchanged) {
            (Some(pending), false) => {
                pending.record_change(tx.conn)?;
                Some(pending.clone())
            }
            _ => None,
        };
        if let (Some(slot), false) = (&tx.ctx.idempotency, tx.unchanged) {
            let object = tx.ctx.audit.as_ref().and_then(Pending::object_id);
            slot.mark_applied(tx.conn, object.as_deref())?;
        }
        // Last: on PostgreSQL the counter's row stays locked until the commit, and a
        // transaction holding it then waits for nothing else.
        if tx.credentials_changed {
            crate::store::credential_version::bump(tx.conn)?;
        }
        Ok::<_, E>((value, recorded, tx.credentials_changed))
    })?;
    if let Some(pending) = recorded {
        pending.committed();
    }
    Ok((value, credentials_changed))
}
