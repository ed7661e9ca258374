//! Contact moments: during an active pairing the buddy records each contact with the client, and
//! the programme notices when contact stops.
//!
//! - A contact has a date (not in the future, not before the pairing started), a [`ContactKind`]
//!   and an optional short note. The note is the buddy's own: the client bureau sees the kind and
//!   the date only.
//! - A pairing is *quiet since* its activation or its latest contact, whichever is later. After
//!   [`ContactRhythm::reminder_after`] of quiet the buddy gets one reminder; after twice that the
//!   client bureau gets a note and the pairing is flagged ([`ContactRhythm::overdue`]). Each is
//!   sent once per quiet period: a new contact starts a new one.
//! - At [`ContactRhythm::check_in_after`] from the start the buddy is asked once how it goes
//!   ([`CheckInAnswer`]); `needs_help` alerts the client bureau.

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::error::{DomainError, DomainResult, FieldError};
use super::pairing::PairingState;
use crate::string_enum;

/// The longest note of a contact moment, in characters.
pub const MAX_CONTACT_NOTE: usize = 500;

/// How long a check-in link can be used, in days.
pub const CHECK_IN_LINK_DAYS: i64 = 30;

string_enum! {
    /// How the buddy was in touch with the client.
    ContactKind {
        Call => "call",
        Meeting => "meeting",
        Message => "message",
        AccompaniedAppointment => "accompanied_appointment",
    }
}

string_enum! {
    /// The buddy's answer to the check-in: all is well, or the buddy would like the client
    /// bureau's help.
    CheckInAnswer {
        Fine => "fine",
        NeedsHelp => "needs_help",
    }
}

/// When the programme reminds and alerts about quiet pairings (`workflow.contact_reminder_days`)
/// and asks how it goes (`workflow.check_in_after_days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactRhythm {
    pub reminder_after: Duration,
    pub check_in_after: Duration,
}

impl ContactRhythm {
    pub fn from_days(reminder_days: u32, check_in_days: u32) -> ContactRhythm {
        ContactRhythm {
            reminder_after: Duration::days(i64::from(reminder_days)),
            check_in_after: Duration::days(i64::from(check_in_days)),
        }
    }

    /// A pairing quiet since at or before this is due its reminder to the buddy.
    pub fn remind_if_quiet_since(&self, now: NaiveDateTime) -> NaiveDateTime {
        now - self.reminder_after
    }

    /// A pairing quiet since at or before this is overdue: the bureau is told, the pairing is
    /// flagged.
    pub fn overdue_if_quiet_since(&self, now: NaiveDateTime) -> NaiveDateTime {
        now - self.reminder_after * 2
    }

    /// Whether an active pairing quiet since `quiet_since` has gone without contact too long.
    pub fn overdue(
        &self,
        state: PairingState,
        quiet_since: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> bool {
        state == PairingState::Active
            && quiet_since.is_some_and(|since| since <= self.overdue_if_quiet_since(now))
    }

    /// A pairing activated at or before this is due its check-in.
    pub fn check_in_if_activated_by(&self, now: NaiveDateTime) -> NaiveDateTime {
        now - self.check_in_after
    }
}

/// When a contact on `day` counts as the end of a quiet period: the start of that day.
pub fn contact_time(day: NaiveDate) -> NaiveDateTime {
    day.and_hms_opt(0, 0, 0).expect("midnight exists")
}

/// A contact can be recorded for an active pairing only, dated between the pairing's start and
/// `today` (both included).
pub fn ensure_recordable(
    state: PairingState,
    activated_at: Option<NaiveDateTime>,
    contact_on: NaiveDate,
    today: NaiveDate,
) -> DomainResult<()> {
    if state != PairingState::Active {
        return Err(DomainError::IllegalTransition {
            resource: "pairing",
            action: "record a contact for".into(),
            state: state.as_str().into(),
        });
    }
    if contact_on > today {
        return Err(invalid("contact_on", "must not be in the future"));
    }
    if let Some(started) = activated_at {
        if contact_on < started.date() {
            return Err(invalid(
                "contact_on",
                format!(
                    "must not be before the pairing started ({})",
                    started.date()
                ),
            ));
        }
    }
    Ok(())
}

fn invalid(field: &str, message: impl Into<String>) -> DomainError {
    DomainError::Invalid(vec![FieldError::new(field, message)])
}

/// A contact's note: trimmed, empty is none, at most [`MAX_CONTACT_NOTE`] characters, no
/// control characters but line breaks and tabs.
pub fn note(text: Option<&str>) -> DomainResult<Option<String>> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_CONTACT_NOTE {
        return Err(invalid(
            "note",
            format!("must be at most {MAX_CONTACT_NOTE} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(invalid("note", "must not contain control characters"));
    }
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, day)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap()
    }

    #[test]
    fn a_contact_needs_an_active_pairing_and_a_date_within_it() {
        let today = at(20).date();
        let started = Some(at(5));
        assert!(ensure_recordable(PairingState::Active, started, at(5).date(), today).is_ok());
        assert!(ensure_recordable(PairingState::Active, started, today, today).is_ok());
        let future = ensure_recordable(PairingState::Active, started, at(21).date(), today);
        assert!(matches!(future, Err(DomainError::Invalid(_))));
        let before = ensure_recordable(PairingState::Active, started, at(4).date(), today);
        assert!(matches!(before, Err(DomainError::Invalid(_))));
        for state in [
            PairingState::Proposed,
            PairingState::Accepted,
            PairingState::Ended,
            PairingState::Cancelled,
        ] {
            let refused = ensure_recordable(state, started, at(6).date(), today);
            assert!(
                matches!(refused, Err(DomainError::IllegalTransition { .. })),
                "{state}"
            );
        }
    }

    #[test]
    fn quiet_pairings_are_reminded_then_overdue() {
        let rhythm = ContactRhythm::from_days(14, 91);
        let now = at(29);
        assert_eq!(rhythm.remind_if_quiet_since(now), at(15));
        assert_eq!(rhythm.overdue_if_quiet_since(now), at(1));
        assert!(rhythm.overdue(PairingState::Active, Some(at(1)), now));
        assert!(!rhythm.overdue(PairingState::Active, Some(at(2)), now));
        assert!(!rhythm.overdue(PairingState::Ended, Some(at(1)), now));
        assert!(!rhythm.overdue(PairingState::Active, None, now));
    }

    #[test]
    fn notes_are_bounded() {
        assert_eq!(note(None).unwrap(), None);
        assert_eq!(note(Some("  ")).unwrap(), None);
        assert_eq!(note(Some(" koffie ")).unwrap().as_deref(), Some("koffie"));
        assert!(note(Some(&"x".repeat(MAX_CONTACT_NOTE))).is_ok());
        assert!(note(Some(&"x".repeat(MAX_CONTACT_NOTE + 1))).is_err());
        assert!(note(Some("a\u{0}b")).is_err());
    }
}
