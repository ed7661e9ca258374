//! The hash chain over the audit trail, and its verification.
//!
//! Each record stores the hash of its predecessor (`prev_hash`; the first record the genesis
//! value, 64 zeros) and its own
//!
//! ```text
//! hash = hex(SHA-256(prev_hash || canonical(record)))
//! ```
//!
//! where `prev_hash` is the 64 lower-case hex characters as ASCII, and `canonical` is the format
//! tag followed by every other field of the record in this fixed order: `seq`, `id`, `at`,
//! `actor_type`, `actor_id`, `on_behalf_of`, `action`, `object_type`, `object_id`, `client_ref`,
//! `outcome`, `status`, `source_address`, `request_id`, `route`, and for a record that has one,
//! `caller_request_id` (see below). Each field is written as its
//! UTF-8 byte length in decimal, a colon and the bytes (`5:staff`); an absent field as a single
//! `-`. A length prefix cannot be confused with content and `-` is never a digit, so two
//! different records never serialise alike. Integers are decimal, `at` is
//! `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, always six decimals). The format tag is
//! [`FORMAT`], written as a field itself, or [`FORMAT_V2`] for a record with a
//! `caller_request_id`, which then follows `route`: records from before that column existed keep
//! the form they were hashed in, and the tag tells the two forms apart.
//!
//! `audit_head` holds the last record's `seq` and `hash`, so cutting records off the end is
//! detected too. Database triggers keep both tables append-only (see the migration
//! `audit_guard`): no `UPDATE`, `DELETE` or `TRUNCATE` of records, a record only at the head, and
//! a head that only moves forward to the record appended after it.
//!
//! Whoever can lift the triggers (the tables' owner) can still empty both tables or recompute the
//! whole chain, and a chain that starts afresh verifies. So anchor it outside the database: keep
//! the [`Anchor`] `maatje audit head` prints (`seq:hash`) somewhere else now and then, and
//! `maatje audit verify --expect-head seq:hash` proves that the chain still holds that record at
//! that place, i.e. that nothing up to it was cut or rewritten.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::db::DbConnection;
use crate::domain::error::DomainResult;
use crate::store::audit::{self as store, AuditRow};

/// The `prev_hash` of the first record, and the head's hash while the trail is empty.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Names this canonical form; a future change of it gets a new tag.
pub const FORMAT: &str = "maatje-audit-v1";

/// The form of a record with a `caller_request_id`: [`FORMAT`]'s fields, then that one.
pub const FORMAT_V2: &str = "maatje-audit-v2";

/// The canonical serialisation of a record's fields (without `prev_hash` and `hash`).
pub fn canonical(row: &AuditRow) -> Vec<u8> {
    fn field(out: &mut Vec<u8>, value: Option<&str>) {
        match value {
            Some(text) => {
                out.extend_from_slice(text.len().to_string().as_bytes());
                out.push(b':');
                out.extend_from_slice(text.as_bytes());
            }
            None => out.push(b'-'),
        }
    }
    let mut out = Vec::with_capacity(256);
    let seq = row.seq.to_string();
    let at = row.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let status = row.status.to_string();
    let format = match row.caller_request_id {
        Some(_) => FORMAT_V2,
        None => FORMAT,
    };
    for value in [
        Some(format),
        Some(seq.as_str()),
        Some(row.id.as_str()),
        Some(at.as_str()),
        Some(row.actor_type.as_str()),
        row.actor_id.as_deref(),
        row.on_behalf_of.as_deref(),
        Some(row.action.as_str()),
        Some(row.object_type.as_str()),
        row.object_id.as_deref(),
        row.client_ref.as_deref(),
        Some(row.outcome.as_str()),
        Some(status.as_str()),
        row.source_address.as_deref(),
        row.request_id.as_deref(),
        Some(row.route.as_str()),
    ] {
        field(&mut out, value);
    }
    if let Some(caller_request_id) = &row.caller_request_id {
        field(&mut out, Some(caller_request_id));
    }
    out
}

/// The hash a record must carry, given its `prev_hash` and fields.
pub fn hash(row: &AuditRow) -> String {
    let mut hasher = Sha256::new();
    hasher.update(row.prev_hash.as_bytes());
    hasher.update(canonical(row));
    hex::encode(hasher.finalize())
}

/// The first place where the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The sequence number of the broken (or missing) record.
    pub seq: i64,
    /// Its id, when the record is there.
    pub id: Option<String>,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "record seq {} (id {id}): {}", self.seq, self.problem),
            None => write!(f, "record seq {}: {}", self.seq, self.problem),
        }
    }
}

/// The outcome of a full check: the number of records and the head hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intact {
    pub records: u64,
    pub head_hash: String,
}

impl Intact {
    /// The head of the verified chain, to keep outside the database.
    pub fn head(&self) -> Anchor {
        Anchor {
            seq: i64::try_from(self.records).unwrap_or(i64::MAX),
            hash: self.head_hash.clone(),
        }
    }
}

/// A head of the chain kept outside the database: a record's `seq` and `hash`, written
/// `seq:hash` (`0:` and the genesis hash for an empty trail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl std::str::FromStr for Anchor {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let wrong = || {
            format!(
                "{text:?} is not a head: expected SEQ:HASH as `maatje audit head` prints it, \
                 e.g. 42:{GENESIS}"
            )
        };
        let (seq, hash) = text.trim().split_once(':').ok_or_else(wrong)?;
        let seq: i64 = seq.parse().map_err(|_| wrong())?;
        let hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        if seq < 0 || hash.len() != 64 || !hash.chars().all(hex) {
            return Err(wrong());
        }
        if seq == 0 && hash != GENESIS {
            return Err(format!(
                "{text:?}: the head of an empty trail is 0:{GENESIS}"
            ));
        }
        Ok(Anchor {
            seq,
            hash: hash.to_owned(),
        })
    }
}

/// Checks records fed to it in `seq` order, then the head.
#[derive(Debug)]
pub struct Verifier {
    next_seq: i64,
    prev_hash: String,
    last_id: Option<String>,
    expected: Option<Anchor>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            next_seq: 1,
            prev_hash: GENESIS.to_owned(),
            last_id: None,
            expected: None,
        }
    }
}

impl Verifier {
    /// A verifier that also demands `anchor`: the chain must hold a record with its hash at its
    /// place.
    pub fn expecting(anchor: Anchor) -> Self {
        Verifier {
            expected: Some(anchor),
            ..Verifier::default()
        }
    }

    /// Checks the next record: its place, its link to the previous one and its own hash.
    pub fn check(&mut self, row: &AuditRow) -> Result<(), Break> {
        if row.seq != self.next_seq {
            return Err(Break {
                seq: self.next_seq,
                id: None,
                problem: format!(
                    "missing: the next record is seq {} (id {})",
                    row.seq, row.id
                ),
            });
        }
        let broken = |problem: String| Break {
            seq: row.seq,
            id: Some(row.id.clone()),
            problem,
        };
        if row.prev_hash != self.prev_hash {
            return Err(broken(if row.seq == 1 {
                "prev_hash is not the genesis hash".to_owned()
            } else {
                format!(
                    "prev_hash does not match the hash of record seq {}",
                    row.seq - 1
                )
            }));
        }
        if hash(row) != row.hash {
            return Err(broken(
                "its hash does not match its contents: the record was altered".to_owned(),
            ));
        }
        if let Some(expected) = self.expected.as_ref().filter(|e| e.seq == row.seq) {
            if expected.hash != row.hash {
                return Err(broken(format!(
                    "its hash is not the one of the expected head {expected}: the chain up to \
                     it was rewritten or started afresh"
                )));
            }
        }
        self.next_seq += 1;
        self.prev_hash = row.hash.clone();
        self.last_id = Some(row.id.clone());
        Ok(())
    }

    /// Checks that the head names the last record checked.
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<Intact, Break> {
        let last_seq = self.next_seq - 1;
        if let Some(expected) = self.expected.as_ref().filter(|e| e.seq > last_seq) {
            return Err(Break {
                seq: last_seq + 1,
                id: None,
                problem: format!(
                    "missing: the chain ends at seq {last_seq}, before the expected head \
                     {expected}: records were cut"
                ),
            });
        }
        if head_seq > last_seq {
            return Err(Break {
                seq: last_seq + 1,
                id: None,
                problem: format!(
                    "missing: the head says the chain ends at seq {head_seq}, the last record \
                     is seq {last_seq}"
                ),
            });
        }
        if head_seq < last_seq || head_hash != self.prev_hash {
            return Err(Break {
                seq: last_seq,
                id: self.last_id,
                problem: format!(
                    "the head (seq {head_seq}) does not match the last record of the chain"
                ),
            });
        }
        Ok(Intact {
            records: u64::try_from(last_seq).unwrap_or_default(),
            head_hash: self.prev_hash,
        })
    }
}

/// Walks the whole trail in `seq` order inside one read-only snapshot (so records appended
/// meanwhile by a running service do not disturb the check) and verifies every record and the
/// head, and `expected` when given (see [`Verifier::expecting`]). `Err` only when the database
/// cannot be read.
pub fn verify(
    conn: &mut DbConnection,
    expected: Option<Anchor>,
) -> DomainResult<Result<Intact, Break>> {
    const BATCH: i64 = 1000;
    let snapshot = |conn: &mut DbConnection| -> DomainResult<Result<Intact, Break>> {
        if let DbConnection::Postgres(_) = conn {
            diesel::RunQueryDsl::execute(
                diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"),
                conn,
            )?;
        }
        let (head_seq, head_hash) = store::head(conn)?;
        let mut verifier = expected
            .clone()
            .map_or_else(Verifier::default, Verifier::expecting);
        let mut after = 0;
        loop {
            let rows = store::after(conn, after, BATCH)?;
            let Some(last) = rows.last() else { break };
            after = last.seq;
            for row in &rows {
                if let Err(broken) = verifier.check(row) {
                    return Ok(Err(broken));
                }
            }
        }
        Ok(verifier.finish(head_seq, &head_hash))
    };
    diesel::Connection::transaction(conn, snapshot)
}

/// The head as `audit_head` names it now, without checking the chain.
pub fn head(conn: &mut DbConnection) -> DomainResult<Anchor> {
    let (seq, hash) = store::head(conn)?;
    Ok(Anchor { seq, hash })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn record(seq: i64, prev_hash: &str) -> AuditRow {
        let mut row = AuditRow {
            seq,
            id: format!("0193a5c4-0000-7000-8000-00000000000{seq}"),
            at: NaiveDate::from_ymd_opt(2026, 11, 22)
                .unwrap()
                .and_hms_micro_opt(9, 0, 0, 120)
                .unwrap(),
            actor_type: "staff".into(),
            actor_id: Some("s1".into()),
            on_behalf_of: None,
            action: "read".into(),
            object_type: "buddy".into(),
            object_id: Some("b1".into()),
            client_ref: None,
            outcome: "allowed".into(),
            status: 200,
            source_address: Some("127.0.0.1".into()),
            request_id: Some("r1".into()),
            route: "GET /v1/buddies/{id}".into(),
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
            caller_request_id: None,
        };
        row.hash = hash(&row);
        row
    }

    fn chain(n: i64) -> Vec<AuditRow> {
        let mut rows: Vec<AuditRow> = Vec::new();
        for seq in 1..=n {
            let prev = rows.last().map_or(GENESIS.to_owned(), |r| r.hash.clone());
            rows.push(record(seq, &prev));
        }
        rows
    }

    fn verify_rows(rows: &[AuditRow], head_seq: i64, head_hash: &str) -> Result<Intact, Break> {
        let mut verifier = Verifier::default();
        for row in rows {
            verifier.check(row)?;
        }
        verifier.finish(head_seq, head_hash)
    }

    #[test]
    fn the_canonical_form_is_length_prefixed_and_marks_absence() {
        let row = record(1, GENESIS);
        let text = String::from_utf8(canonical(&row)).unwrap();
        assert!(
            text.starts_with("15:maatje-audit-v11:136:0193a5c4"),
            "{text}"
        );
        assert!(text.contains("27:2026-11-22T09:00:00.000120Z5:staff2:s1-4:read"));
    }

    #[test]
    fn a_callers_request_id_is_hashed_in_the_second_form() {
        let v1 = record(1, GENESIS);
        let mut v2 = v1.clone();
        v2.caller_request_id = Some("case-7781".into());
        let text = String::from_utf8(canonical(&v2)).unwrap();
        assert!(text.starts_with("15:maatje-audit-v21:1"), "{text}");
        assert!(
            text.ends_with("20:GET /v1/buddies/{id}9:case-7781"),
            "{text}"
        );
        // The first form is unchanged, so records hashed before the column existed verify.
        assert_eq!(
            String::from_utf8(canonical(&v1)).unwrap(),
            String::from_utf8(canonical(&v2))
                .unwrap()
                .replace("maatje-audit-v2", "maatje-audit-v1")
                .trim_end_matches("9:case-7781")
        );
        assert_ne!(hash(&v1), hash(&v2));
        let mut other = v2.clone();
        other.caller_request_id = Some("case-7782".into());
        assert_ne!(hash(&other), hash(&v2));
        // The route cannot absorb the caller's id: the tags differ.
        let mut shifted = v1.clone();
        shifted.route = "GET /v1/buddies/{id}9:case-7781".into();
        assert_ne!(hash(&shifted), hash(&v2));
    }

    #[test]
    fn shifting_text_between_fields_changes_the_hash() {
        let mut a = record(1, GENESIS);
        let mut b = record(1, GENESIS);
        a.actor_id = Some("ab".into());
        a.on_behalf_of = Some("c".into());
        b.actor_id = Some("a".into());
        b.on_behalf_of = Some("bc".into());
        assert_ne!(hash(&a), hash(&b));
        // An empty value is not an absent one.
        b.on_behalf_of = Some(String::new());
        a.on_behalf_of = None;
        b.actor_id = Some("ab".into());
        assert_ne!(hash(&a), hash(&b));
    }

    #[test]
    fn an_intact_chain_passes() {
        let rows = chain(3);
        let intact = verify_rows(&rows, 3, &rows[2].hash).unwrap();
        assert_eq!(intact.records, 3);
        assert_eq!(verify_rows(&[], 0, GENESIS).unwrap().records, 0);
    }

    #[test]
    fn an_altered_record_is_named() {
        let mut rows = chain(3);
        rows[1].object_id = Some("x".into());
        let broken = verify_rows(&rows, 3, &rows[2].hash.clone()).unwrap_err();
        assert_eq!(
            (broken.seq, broken.id.as_deref()),
            (2, Some(rows[1].id.as_str()))
        );
        assert!(broken.problem.contains("altered"), "{broken}");
    }

    #[test]
    fn a_recomputed_record_breaks_the_next_link() {
        let mut rows = chain(3);
        rows[1].object_id = Some("x".into());
        rows[1].hash = hash(&rows[1]);
        let broken = verify_rows(&rows, 3, &rows[2].hash.clone()).unwrap_err();
        assert_eq!(broken.seq, 3);
        assert!(broken.problem.contains("prev_hash"), "{broken}");
    }

    #[test]
    fn a_deleted_record_is_named() {
        let mut rows = chain(3);
        rows.remove(1);
        let broken = verify_rows(&rows, 3, &rows[1].hash.clone()).unwrap_err();
        assert_eq!((broken.seq, broken.id.as_deref()), (2, None));
        assert!(broken.problem.contains("missing"), "{broken}");
    }

    #[test]
    fn records_cut_off_the_end_or_a_wrong_head_are_found() {
        let rows = chain(3);
        let broken = verify_rows(&rows[..2], 3, &rows[2].hash).unwrap_err();
        assert_eq!(broken.seq, 3);
        let broken = verify_rows(&rows, 3, GENESIS).unwrap_err();
        assert_eq!(broken.seq, 3);
        let broken = verify_rows(&rows, 2, &rows[1].hash).unwrap_err();
        assert_eq!(broken.seq, 3);
    }

    fn verify_expecting(rows: &[AuditRow], anchor: Anchor) -> Result<Intact, Break> {
        let mut verifier = Verifier::expecting(anchor);
        for row in rows {
            verifier.check(row)?;
        }
        let last = rows.last();
        verifier.finish(
            last.map_or(0, |r| r.seq),
            last.map_or(GENESIS, |r| r.hash.as_str()),
        )
    }

    #[test]
    fn an_expected_head_must_still_be_in_the_chain() {
        let rows = chain(4);
        let anchor = |n: usize| Anchor {
            seq: rows[n].seq,
            hash: rows[n].hash.clone(),
        };
        // The chain still holds the anchored record, and went on after it.
        assert_eq!(verify_expecting(&rows, anchor(1)).unwrap().records, 4);
        assert_eq!(verify_expecting(&rows, anchor(3)).unwrap().records, 4);
        let empty = Anchor {
            seq: 0,
            hash: GENESIS.into(),
        };
        assert_eq!(verify_expecting(&[], empty).unwrap().records, 0);
        // Cut back to before the anchor, head and all: intact on its own, but not any more
        // reaching the anchor.
        let broken = verify_expecting(&rows[..2], anchor(3)).unwrap_err();
        assert_eq!((broken.seq, broken.id.as_deref()), (3, None));
        assert!(broken.problem.contains("records were cut"), "{broken}");
        let broken = verify_expecting(&[], anchor(0)).unwrap_err();
        assert_eq!(broken.seq, 1);
        // Emptied and started afresh: as many records again, but other ones.
        let mut afresh = chain(4);
        for row in &mut afresh {
            row.route = "GET /v1/buddies".into();
        }
        let mut prev = GENESIS.to_owned();
        for row in &mut afresh {
            row.prev_hash = prev;
            row.hash = hash(row);
            prev = row.hash.clone();
        }
        assert!(verify_rows(&afresh, 4, &afresh[3].hash).is_ok());
        let broken = verify_expecting(&afresh, anchor(2)).unwrap_err();
        assert_eq!(broken.seq, 3);
        assert!(broken.problem.contains("expected head"), "{broken}");
    }

    #[test]
    fn anchors_are_written_and_read_as_seq_colon_hash() {
        let anchor = Anchor {
            seq: 42,
            hash: "ab".repeat(32),
        };
        assert_eq!(anchor.to_string(), format!("42:{}", "ab".repeat(32)));
        assert_eq!(anchor.to_string().parse::<Anchor>().unwrap(), anchor);
        assert_eq!(format!("0:{GENESIS}").parse::<Anchor>().unwrap().seq, 0);
        for wrong in [
            "",
            "42",
            "42:",
            "x:abc",
            &format!("-1:{GENESIS}"),
            &format!("42:{}", "AB".repeat(32)),
            &format!("42:{}", "ab".repeat(31)),
            &format!("0:{}", "ab".repeat(32)),
        ] {
            assert!(wrong.parse::<Anchor>().is_err(), "{wrong:?}");
        }
    }

    #[test]
    fn the_first_record_must_start_at_genesis() {
        let row = record(1, &"1".repeat(64));
        let broken = verify_rows(std::slice::from_ref(&row), 1, &row.hash).unwrap_err();
        assert_eq!(broken.seq, 1);
        assert!(broken.problem.contains("genesis"), "{broken}");
    }
}
