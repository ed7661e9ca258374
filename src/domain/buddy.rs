//! Buddies: volunteer ex-clients, from candidate to retirement.

use chrono::{Months, NaiveDate};

use super::error::{DomainError, DomainResult};
use super::lifecycle::Lifecycle;
use crate::string_enum;

string_enum! {
    /// ```text
    /// candidate ──▶ screening ──▶ active ◀──▶ paused
    ///     └────────────┴────────────┴──────────┴──▶ retired (terminal)
    /// ```
    BuddyState {
        Candidate => "candidate",
        Screening => "screening",
        Active => "active",
        Paused => "paused",
        Retired => "retired",
    }
}

string_enum! {
    BuddyAction {
        StartScreening => "start-screening",
        Activate => "activate",
        Pause => "pause",
        Resume => "resume",
        Retire => "retire",
    }
}

impl Lifecycle for BuddyState {
    type Action = BuddyAction;
    const RESOURCE: &'static str = "buddy";

    fn next(self, action: BuddyAction) -> Option<Self> {
        use BuddyAction::*;
        use BuddyState::*;
        match (self, action) {
            (Candidate, StartScreening) => Some(Screening),
            (Screening, Activate) => Some(Active),
            (Active, Pause) => Some(Paused),
            (Paused, Resume) => Some(Active),
            (Candidate | Screening | Active | Paused, Retire) => Some(Retired),
            _ => None,
        }
    }
}

impl BuddyState {
    /// Whether a buddy in this state (and not erased) may sign in to the portal: every state
    /// but `retired`. A candidate or a buddy in screening sees their state, sets their mail
    /// language, downloads their data and may ask to stop; proposals come once active.
    pub fn opens_portal(self, erased: bool) -> bool {
        self != BuddyState::Retired && !erased
    }

    /// Whether a buddy in this state may be proposed and may answer a proposal: only `active`.
    pub fn takes_proposals(self) -> bool {
        self == BuddyState::Active
    }
}

/// Retiring is refused while an accepted or active pairing runs; a pending proposal does not
/// stand in the way (it is cancelled, see [`PendingProposals`]).
pub fn ensure_retirable(running_pairings: i64) -> DomainResult<()> {
    if running_pairings > 0 {
        return Err(DomainError::conflict(
            "buddy-has-live-pairings",
            "Buddy has live pairings",
            "end every accepted or active pairing before retiring the buddy \
             (a pending proposal is cancelled)",
        ));
    }
    Ok(())
}

/// The longest availability note a buddy keeps in the portal, in characters.
pub const MAX_AVAILABILITY_NOTES: usize = 500;

/// How far ahead a pause may run: at most this many days after today.
pub const MAX_PAUSE_DAYS: i64 = 366;

/// The date a pause runs until, checked: only a pause takes one, and it must lie after `today`
/// (the buddy is active again on that day) and at most [`MAX_PAUSE_DAYS`] ahead. Every other
/// action clears it (`None`). The one rule for the API, the console and the portal.
pub fn pause_until(
    action: BuddyAction,
    until: Option<NaiveDate>,
    today: NaiveDate,
) -> DomainResult<Option<NaiveDate>> {
    let Some(until) = until else {
        return Ok(None);
    };
    if action != BuddyAction::Pause {
        return Err(DomainError::invalid(
            "until",
            "only a pause runs until a date",
        ));
    }
    if until <= today {
        return Err(DomainError::invalid(
            "until",
            "must lie after today: the buddy is active again on that day",
        ));
    }
    if until > today + chrono::Duration::days(MAX_PAUSE_DAYS) {
        return Err(DomainError::invalid(
            "until",
            format!("must lie at most {MAX_PAUSE_DAYS} days ahead"),
        ));
    }
    Ok(Some(until))
}

/// A buddy asks to stop once, and not once retired or erased: the bureau confirms it by
/// retiring them (refused while a pairing runs, [`ensure_retirable`]).
pub fn ensure_retirement_requestable(
    state: BuddyState,
    erased: bool,
    already_requested: bool,
) -> DomainResult<()> {
    if erased || state == BuddyState::Retired {
        return Err(DomainError::conflict(
            "buddy-retired",
            "Buddy retired",
            "the buddy has stopped already",
        ));
    }
    if already_requested {
        return Err(DomainError::conflict(
            "retirement-already-requested",
            "Retirement already requested",
            "the buddy asked to stop already; the bureau confirms it",
        ));
    }
    Ok(())
}

/// Erasure is for good: an erased buddy's profile cannot be filled in again.
pub fn ensure_editable(erased: bool) -> DomainResult<()> {
    if erased {
        return Err(DomainError::conflict(
            "buddy-erased",
            "Buddy erased",
            "the buddy is erased; the profile can no longer be changed",
        ));
    }
    Ok(())
}

/// A buddy is erased once, and not while a proposed, accepted or active pairing still needs
/// them (`live_pairings`).
pub fn ensure_erasable(erased: bool, live_pairings: i64) -> DomainResult<()> {
    if erased {
        return Err(DomainError::conflict(
            "buddy-erased",
            "Buddy erased",
            "the buddy is erased already",
        ));
    }
    if live_pairings > 0 {
        return Err(DomainError::conflict(
            "buddy-has-live-pairings",
            "Buddy has live pairings",
            "end, or let the buddy decline, every proposed, accepted or active pairing \
             before erasing the buddy",
        ));
    }
    Ok(())
}

/// What a change to a buddy does to the proposals waiting for their answer, and to the links
/// in those proposals' mails. The one place this rule lives; the operations apply it after every
/// lifecycle action and profile change (`ops::pairings::follow_buddy`, a reaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingProposals {
    /// Nothing changes: the buddy can still answer at the address the mail went to.
    Keep,
    /// The buddy can no longer take a proposal on (paused, retired): each pending one is
    /// cancelled as when its request is withdrawn, its request is `open` again (the bureau is
    /// told, and automatic proposal may move on to another buddy), and its links are revoked.
    Cancel,
    /// The mail went to an address that is no longer the buddy's: the links are revoked and
    /// each pending proposal is mailed again to the new address with a fresh link and the same
    /// deadline.
    Resend,
}

impl PendingProposals {
    /// The effect of a buddy ending up in `state`, their e-mail address changed or not.
    pub fn after(state: BuddyState, email_changed: bool) -> PendingProposals {
        if !state.takes_proposals() {
            PendingProposals::Cancel
        } else if email_changed {
            PendingProposals::Resend
        } else {
            PendingProposals::Keep
        }
    }
}

string_enum! {
    /// The kinds of child-protection measure a buddy lived through.
    MeasureKind {
        SupervisionOrder => "supervision_order",
        OutOfHomePlacement => "out_of_home_placement",
        Guardianship => "guardianship",
        YouthProbation => "youth_probation",
    }
}

string_enum! {
    /// Language of the e-mails a buddy receives.
    MailLanguage { Nl => "nl", En => "en" }
}

impl MailLanguage {
    /// The mail language of a new buddy who chose none: one they speak. English when their
    /// `languages` (ISO 639-1 codes) include `en` but not `nl`, otherwise Dutch.
    pub fn spoken(languages: &[String]) -> MailLanguage {
        let speaks = |code: &str| {
            languages
                .iter()
                .any(|l| l.trim().eq_ignore_ascii_case(code))
        };
        if speaks("en") && !speaks("nl") {
            MailLanguage::En
        } else {
            MailLanguage::Nl
        }
    }

    /// A new buddy's mail language: the one `chosen`, else one they speak ([`Self::spoken`]).
    pub fn for_new_buddy(chosen: Option<MailLanguage>, languages: &[String]) -> MailLanguage {
        chosen.unwrap_or_else(|| MailLanguage::spoken(languages))
    }
}

/// The screening facts that `activate` checks.
#[derive(Debug, Clone, Copy, Default)]
pub struct Screening {
    pub vog_issued_on: Option<NaiveDate>,
    pub training_completed_on: Option<NaiveDate>,
    pub agreement_signed_on: Option<NaiveDate>,
}

/// A VOG (certificate of conduct) counts only if issued at most this long before the start.
pub const VOG_VALIDITY_MONTHS: u32 = 3;

impl Screening {
    /// `activate` is refused on `today` while a requirement is unmet; the error lists them all.
    pub fn ensure_met(&self, today: NaiveDate) -> DomainResult<()> {
        let unmet = self.unmet_requirements(today);
        if !unmet.is_empty() {
            return Err(DomainError::conflict(
                "activation-requirements-unmet",
                "Activation requirements not met",
                format!("the buddy cannot be activated yet: {}", unmet.join("; ")),
            ));
        }
        Ok(())
    }

    /// What still stands in the way of activation on `today`, as the API states it (each
    /// `field: reason`, in English); empty when the buddy may start.
    pub fn unmet_requirements(&self, today: NaiveDate) -> Vec<String> {
        self.unmet(today).iter().map(Unmet::to_string).collect()
    }

    /// What still stands in the way of activation on `today`, one [`Unmet`] per requirement
    /// not met (the VOG, the training, the agreement, in that order); empty when the buddy may
    /// start. The one place the rule lives: the API's messages and the console's checklist
    /// both come from here.
    pub fn unmet(&self, today: NaiveDate) -> Vec<Unmet> {
        let mut unmet = Vec::new();
        match self.vog_issued_on {
            None => unmet.push(Unmet::NoVog),
            Some(issued) if issued > today => unmet.push(Unmet::VogInFuture { issued }),
            Some(issued) => {
                let oldest = Self::oldest_valid_vog(today);
                if issued < oldest {
                    unmet.push(Unmet::VogTooOld { issued, oldest });
                }
            }
        }
        match self.training_completed_on {
            None => unmet.push(Unmet::NoTraining),
            Some(on) if on > today => unmet.push(Unmet::TrainingInFuture { on }),
            Some(_) => {}
        }
        match self.agreement_signed_on {
            None => unmet.push(Unmet::NoAgreement),
            Some(on) if on > today => unmet.push(Unmet::AgreementInFuture { on }),
            Some(_) => {}
        }
        unmet
    }

    /// The earliest issue date of a VOG that still counts on `today`
    /// ([`VOG_VALIDITY_MONTHS`] months back).
    pub fn oldest_valid_vog(today: NaiveDate) -> NaiveDate {
        today
            .checked_sub_months(Months::new(VOG_VALIDITY_MONTHS))
            .unwrap_or(NaiveDate::MIN)
    }

    /// The last day on which a VOG issued on `issued` still counts for activation.
    /// (From the day after, [`Screening::oldest_valid_vog`] lies after `issued`.)
    pub fn vog_valid_until(issued: NaiveDate) -> Option<NaiveDate> {
        issued.checked_add_months(Months::new(VOG_VALIDITY_MONTHS))
    }
}

/// One screening requirement that activation finds unmet, with the dates it concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmet {
    /// No VOG recorded.
    NoVog,
    /// The VOG's issue date lies after today.
    VogInFuture { issued: NaiveDate },
    /// The VOG was issued before `oldest`, the earliest issue date that still counts.
    VogTooOld {
        issued: NaiveDate,
        oldest: NaiveDate,
    },
    /// No training completion recorded.
    NoTraining,
    /// The training's completion date lies after today.
    TrainingInFuture { on: NaiveDate },
    /// No signed agreement recorded.
    NoAgreement,
    /// The agreement's signing date lies after today.
    AgreementInFuture { on: NaiveDate },
}

impl Unmet {
    /// The screening field the requirement is about.
    pub fn field(self) -> &'static str {
        match self {
            Unmet::NoVog | Unmet::VogInFuture { .. } | Unmet::VogTooOld { .. } => "vog_issued_on",
            Unmet::NoTraining | Unmet::TrainingInFuture { .. } => "training_completed_on",
            Unmet::NoAgreement | Unmet::AgreementInFuture { .. } => "agreement_signed_on",
        }
    }

    /// The reason in English, as the API's conflict detail gives it.
    pub fn reason(self) -> String {
        match self {
            Unmet::NoVog => "no VOG (certificate of conduct) recorded".to_owned(),
            Unmet::VogInFuture { .. } => "the VOG issue date lies in the future".to_owned(),
            Unmet::VogTooOld { issued, .. } => format!(
                "the VOG was issued on {issued}, more than \
                 {VOG_VALIDITY_MONTHS} months ago; a new one is needed"
            ),
            Unmet::NoTraining | Unmet::TrainingInFuture { .. } => {
                "the training has not been completed".to_owned()
            }
            Unmet::NoAgreement | Unmet::AgreementInFuture { .. } => {
                "the volunteer agreement has not been signed".to_owned()
            }
        }
    }
}

impl std::fmt::Display for Unmet {
    /// `field: reason`, the API's form.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field(), self.reason())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lifecycle::transition;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn kind(result: DomainResult<()>) -> &'static str {
        match result {
            Err(DomainError::Conflict { kind, .. }) => kind,
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn retiring_waits_for_running_pairings_and_erasure_for_live_ones_once() {
        assert!(ensure_retirable(0).is_ok());
        assert_eq!(kind(ensure_retirable(1)), "buddy-has-live-pairings");
        assert!(ensure_editable(false).is_ok());
        assert_eq!(kind(ensure_editable(true)), "buddy-erased");
        assert!(ensure_erasable(false, 0).is_ok());
        assert_eq!(kind(ensure_erasable(true, 0)), "buddy-erased");
        assert_eq!(kind(ensure_erasable(false, 1)), "buddy-has-live-pairings");
    }

    #[test]
    fn a_new_buddy_gets_mail_in_a_language_they_speak_unless_they_chose() {
        let langs = |codes: &[&str]| codes.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(MailLanguage::spoken(&langs(&["en"])), MailLanguage::En);
        assert_eq!(
            MailLanguage::spoken(&langs(&["ar", "en"])),
            MailLanguage::En
        );
        assert_eq!(
            MailLanguage::spoken(&langs(&["en", "nl"])),
            MailLanguage::Nl
        );
        assert_eq!(MailLanguage::spoken(&langs(&["nl"])), MailLanguage::Nl);
        // Neither: Dutch, the programme's language.
        assert_eq!(
            MailLanguage::spoken(&langs(&["ar", "tr"])),
            MailLanguage::Nl
        );
        assert_eq!(MailLanguage::spoken(&[]), MailLanguage::Nl);
        assert_eq!(
            MailLanguage::for_new_buddy(Some(MailLanguage::Nl), &langs(&["en"])),
            MailLanguage::Nl
        );
        assert_eq!(
            MailLanguage::for_new_buddy(None, &langs(&["EN"])),
            MailLanguage::En
        );
    }

    #[test]
    fn activation_lists_every_unmet_requirement() {
        let today = d("2026-12-01");
        match Screening::default().ensure_met(today) {
            Err(DomainError::Conflict { kind, detail, .. }) => {
                assert_eq!(kind, "activation-requirements-unmet");
                assert_eq!(detail.matches("; ").count(), 2, "{detail}");
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        let done = Screening {
            vog_issued_on: Some(d("2026-11-01")),
            training_completed_on: Some(d("2026-11-15")),
            agreement_signed_on: Some(d("2026-11-20")),
        };
        assert!(done.ensure_met(today).is_ok());
    }

    #[test]
    fn the_transition_table_is_exactly_the_designed_one() {
        use BuddyAction::*;
        use BuddyState::*;
        let legal = [
            (Candidate, StartScreening, Screening),
            (Screening, Activate, Active),
            (Active, Pause, Paused),
            (Paused, Resume, Active),
            (Candidate, Retire, Retired),
            (Screening, Retire, Retired),
            (Active, Retire, Retired),
            (Paused, Retire, Retired),
        ];
        for state in BuddyState::ALL {
            for action in BuddyAction::ALL {
                let expected = legal
                    .iter()
                    .find(|(s, a, _)| s == state && a == action)
                    .map(|(_, _, to)| *to);
                assert_eq!(
                    transition(*state, *action).ok(),
                    expected,
                    "{state} {action}"
                );
            }
        }
    }

    #[test]
    fn pending_proposals_stay_only_with_an_active_buddy_at_the_same_address() {
        use BuddyState::*;
        for state in BuddyState::ALL {
            let active = *state == Active;
            assert_eq!(state.takes_proposals(), active, "{state}");
            let (same, changed) = (
                PendingProposals::after(*state, false),
                PendingProposals::after(*state, true),
            );
            if active {
                assert_eq!(same, PendingProposals::Keep);
                assert_eq!(changed, PendingProposals::Resend);
            } else {
                assert_eq!(same, PendingProposals::Cancel, "{state}");
                assert_eq!(changed, PendingProposals::Cancel, "{state}");
            }
        }
    }

    /// The API's texts of every unmet requirement, byte for byte as before the structured form.
    #[test]
    fn the_api_texts_of_unmet_requirements_are_unchanged() {
        let today = d("2026-11-22");
        assert_eq!(
            Screening::default().unmet_requirements(today),
            [
                "vog_issued_on: no VOG (certificate of conduct) recorded",
                "training_completed_on: the training has not been completed",
                "agreement_signed_on: the volunteer agreement has not been signed",
            ]
        );
        let future = Screening {
            vog_issued_on: Some(d("2026-11-23")),
            training_completed_on: Some(d("2026-11-23")),
            agreement_signed_on: Some(d("2026-11-23")),
        };
        assert_eq!(
            future.unmet_requirements(today),
            [
                "vog_issued_on: the VOG issue date lies in the future",
                "training_completed_on: the training has not been completed",
                "agreement_signed_on: the volunteer agreement has not been signed",
            ]
        );
        assert_eq!(
            future.unmet(today),
            [
                Unmet::VogInFuture {
                    issued: d("2026-11-23")
                },
                Unmet::TrainingInFuture {
                    on: d("2026-11-23")
                },
                Unmet::AgreementInFuture {
                    on: d("2026-11-23")
                },
            ]
        );
        let stale = Screening {
            vog_issued_on: Some(d("2026-08-21")),
            training_completed_on: Some(d("2026-10-01")),
            agreement_signed_on: Some(d("2026-11-01")),
        };
        assert_eq!(
            stale.unmet_requirements(today),
            ["vog_issued_on: the VOG was issued on 2026-08-21, more than 3 months ago; a new one is needed"]
        );
        assert_eq!(
            stale.unmet(today),
            [Unmet::VogTooOld {
                issued: d("2026-08-21"),
                oldest: d("2026-08-22")
            }]
        );
        assert_eq!(
            Screening::vog_valid_until(d("2026-08-22")),
            Some(d("2026-11-22"))
        );
        for issued in ["2026-08-22", "2026-08-31", "2026-11-30", "2026-11-28"] {
            let last = Screening::vog_valid_until(d(issued)).unwrap();
            assert!(Screening::oldest_valid_vog(last) <= d(issued), "{issued}");
            assert!(
                Screening::oldest_valid_vog(last.succ_opt().unwrap()) > d(issued),
                "{issued}"
            );
        }
        assert_eq!(Screening::oldest_valid_vog(today), d("2026-08-22"));
    }

    #[test]
    fn activation_needs_a_recent_vog_training_and_agreement() {
        let today = d("2026-11-22");
        let complete = Screening {
            vog_issued_on: Some(d("2026-08-22")),
            training_completed_on: Some(d("2026-10-01")),
            agreement_signed_on: Some(d("2026-11-01")),
        };
        assert!(complete.unmet_requirements(today).is_empty());

        let stale = Screening {
            vog_issued_on: Some(d("2026-08-21")),
            ..complete
        };
        assert_eq!(stale.unmet_requirements(today).len(), 1);

        let future = Screening {
            vog_issued_on: Some(d("2026-11-23")),
            ..complete
        };
        assert_eq!(future.unmet_requirements(today).len(), 1);

        let empty = Screening::default().unmet_requirements(today);
        assert_eq!(empty.len(), 3, "{empty:?}");
    }
}
