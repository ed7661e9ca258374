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
//! `outcome`, `status`, `source_address`, `request_id`, `route`. Each field is written as its
//! UTF-8 byte length in decimal, a colon and the bytes (`5:staff`); an absent field as a single
//! `-`. A length prefix cannot be confused with content and `-` is never a digit, so two
//! different records never serialise alike. Integers are decimal, `at` is
//! `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, always six decimals). The format tag is
//! [`FORMAT`], written as a field itself.
//!
//! `audit_head` holds the last record's `seq` and `hash`, so cutting records off the end is
//! detected too. (Whoever can rewrite both tables can recompute the whole chain: keep the head
//! hash `maatje audit verify` prints somewhere else now and then to anchor it.)

use std::fmt;

use sha2::{Digest, Sha256};

use crate::db::DbConnection;
use crate::error::ApiResult;
use crate::store::audit::{self as store, AuditRow};

/// The `prev_hash` of the first record, and the head's hash while the trail is empty.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Names this canonical form; a future change of it gets a new tag.
pub const FORMAT: &str = "maatje-audit-v1";

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
    for value in [
        Some(FORMAT),
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

/// Checks records fed to it in `seq` order, then the head.
#[derive(Debug)]
pub struct Verifier {
    next_seq: i64,
    prev_hash: String,
    last_id: Option<String>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            next_seq: 1,
            prev_hash: GENESIS.to_owned(),
            last_id: None,
        }
    }
}

impl Verifier {
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
        self.next_seq += 1;
        self.prev_hash = row.hash.clone();
        self.last_id = Some(row.id.clone());
        Ok(())
    }

    /// Checks that the head names the last record checked.
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<Intact, Break> {
        let last_seq = self.next_seq - 1;
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
/// head. `Err` only when the database cannot be read.
pub fn verify(conn: &mut DbConnection) -> ApiResult<Result<Intact, Break>> {
    const BATCH: i64 = 1000;
    let snapshot = |conn: &mut DbConnection| -> ApiResult<Result<Intact, Break>> {
        if let DbConnection::Postgres(_) = conn {
            diesel::RunQueryDsl::execute(
                diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"),
                conn,
            )?;
        }
        let (head_seq, head_hash) = store::head(conn)?;
        let mut verifier = Verifier::default();
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

    #[test]
    fn the_first_record_must_start_at_genesis() {
        let row = record(1, &"1".repeat(64));
        let broken = verify_rows(std::slice::from_ref(&row), 1, &row.hash).unwrap_err();
        assert_eq!(broken.seq, 1);
        assert!(broken.problem.contains("genesis"), "{broken}");
    }
}
