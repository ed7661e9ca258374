//! Client feedback at organisation level: the rules, free of HTTP and SQL.
//!
//! - An answer is a score 1 to 5 and two optional short texts ("what helped", "what could be
//!   better"), each at most [`MAX_FEEDBACK_TEXT`] characters.
//! - An answer keeps no time finer than its [`Quarter`] (`2026-Q4`).
//! - Figures and texts of an organisation's quarter are shown only when it has at least
//!   [`MIN_GROUP`] answers ([`Group`]); a smaller group says only that it is smaller.
//! - The free text is removed `privacy.retention_days` after the end of its quarter
//!   ([`Quarter::texts_due`]).

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{DomainError, FieldError};

/// The smallest group of answers whose figures or texts are shown.
pub const MIN_GROUP: usize = 5;

/// The longest free text of an answer, in characters.
pub const MAX_FEEDBACK_TEXT: usize = 1000;

/// A calendar quarter (UTC), written `YYYY-Qn`; the text form sorts as the quarters do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    pub year: i32,
    /// 1 to 4.
    pub number: u32,
}

impl Quarter {
    /// The quarter `day` falls in.
    pub fn of(day: NaiveDate) -> Quarter {
        Quarter {
            year: day.year(),
            number: day.month0() / 3 + 1,
        }
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.number - 1) * 3 + 1, 1)
            .expect("a quarter's first day exists")
    }

    /// The first day of the next quarter: where this one ends.
    pub fn end(self) -> NaiveDate {
        self.next().first_day()
    }

    pub fn next(self) -> Quarter {
        if self.number == 4 {
            Quarter {
                year: self.year + 1,
                number: 1,
            }
        } else {
            Quarter {
                year: self.year,
                number: self.number + 1,
            }
        }
    }

    /// The quarters that `[from, to)` touches, oldest first.
    pub fn spanning(from: NaiveDate, to: NaiveDate) -> Vec<Quarter> {
        let mut out = Vec::new();
        if to <= from {
            return out;
        }
        let last = Quarter::of(to.pred_opt().unwrap_or(to));
        let mut q = Quarter::of(from);
        while q <= last {
            out.push(q);
            q = q.next();
        }
        out
    }

    /// The latest quarter whose free texts are due for removal at `now` after `retention`:
    /// the texts of every quarter up to it that ended `retention` or longer ago.
    pub fn texts_due(now: NaiveDateTime, retention: Duration) -> Quarter {
        let cutoff = (now - retention).date();
        // The quarter before the cutoff's ended on or before the cutoff; the cutoff's own has not.
        let current = Quarter::of(cutoff);
        Quarter::of(current.first_day().pred_opt().expect("a day before"))
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-Q{}", self.year, self.number)
    }
}

impl std::str::FromStr for Quarter {
    type Err = ();

    /// `YYYY-Qn`, the year 2000 to 9999, n 1 to 4.
    fn from_str(s: &str) -> Result<Quarter, ()> {
        let (year, number) = s.split_once("-Q").ok_or(())?;
        if year.len() != 4 || number.len() != 1 {
            return Err(());
        }
        let year: i32 = year.parse().map_err(|_| ())?;
        let number: u32 = number.parse().map_err(|_| ())?;
        if !(2000..=9999).contains(&year) || !(1..=4).contains(&number) {
            return Err(());
        }
        Ok(Quarter { year, number })
    }
}

/// A valid answer, as the client's form gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub score: i32,
    pub helped: Option<String>,
    pub better: Option<String>,
}

impl Answer {
    /// Checks a posted answer: `score` a whole number 1 to 5; each text optional (empty is
    /// none), trimmed, at most [`MAX_FEEDBACK_TEXT`] characters, no control characters but line
    /// breaks and tabs. Every invalid field is listed.
    pub fn parse(
        score: Option<&str>,
        helped: Option<&str>,
        better: Option<&str>,
    ) -> Result<Answer, DomainError> {
        let mut errors = Vec::new();
        let score = match score.map(str::trim).map(str::parse::<i32>) {
            Some(Ok(n)) if (1..=5).contains(&n) => Some(n),
            None | Some(Ok(_)) | Some(Err(_)) => {
                errors.push(FieldError::new("score", "must be a whole number 1 to 5"));
                None
            }
        };
        let mut text = |field: &str, value: Option<&str>| {
            let value = value.map(str::trim).filter(|v| !v.is_empty())?;
            if value.chars().count() > MAX_FEEDBACK_TEXT {
                errors.push(FieldError::new(
                    field,
                    format!("must be at most {MAX_FEEDBACK_TEXT} characters"),
                ));
                None
            } else if value
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            {
                errors.push(FieldError::new(
                    field,
                    "must not contain control characters",
                ));
                None
            } else {
                Some(value.to_owned())
            }
        };
        let helped = text("helped", helped);
        let better = text("better", better);
        match score {
            Some(score) if errors.is_empty() => Ok(Answer {
                score,
                helped,
                better,
            }),
            _ => Err(DomainError::Invalid(errors)),
        }
    }
}

/// The language of a client's feedback invitation and page: English when the client speaks
/// English but not Dutch, else Dutch.
pub fn invitation_language(languages: &[String]) -> &'static str {
    let speaks = |code: &str| languages.iter().any(|l| l == code);
    if speaks("en") && !speaks("nl") {
        "en"
    } else {
        "nl"
    }
}

/// When an invitation made at `now` for `days` stops working: the end of the day (UTC) `days`
/// days later. Rounded to the day, so the expiry does not tell when the invitation was made.
pub fn invitation_expiry(now: NaiveDateTime, days: u32) -> NaiveDateTime {
    let day = now.date() + Duration::days(i64::from(days) + 1);
    day.and_time(NaiveTime::MIN)
}

/// The score figures of a group of at least [`MIN_GROUP`] answers.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Figures {
    /// Answers in the group.
    pub answers: u64,
    /// Mean score, rounded to two decimals.
    pub mean_score: f64,
    /// How many answers gave each score: index 0 is score 1, index 4 score 5.
    #[schema(min_items = 5, max_items = 5)]
    pub distribution: Vec<u64>,
}

/// An organisation's quarter: its figures, or `None` when it has fewer than [`MIN_GROUP`]
/// answers (suppressed: not even the count is given).
pub fn figures(scores: &[i32]) -> Option<Figures> {
    if scores.len() < MIN_GROUP {
        return None;
    }
    let mut distribution = vec![0u64; 5];
    for &score in scores {
        if let Some(slot) = usize::try_from(score - 1)
            .ok()
            .and_then(|i| distribution.get_mut(i))
        {
            *slot += 1;
        }
    }
    let sum: i64 = scores.iter().map(|&s| i64::from(s)).sum();
    let mean = sum as f64 / scores.len() as f64;
    Some(Figures {
        answers: scores.len() as u64,
        mean_score: (mean * 100.0).round() / 100.0,
        distribution,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn quarters_are_read_written_and_ordered() {
        assert_eq!(Quarter::of(day("2026-12-07")).to_string(), "2026-Q4");
        assert_eq!(Quarter::of(day("2026-01-01")).to_string(), "2026-Q1");
        assert_eq!(Quarter::of(day("2026-06-30")).to_string(), "2026-Q2");
        let q: Quarter = "2026-Q3".parse().unwrap();
        assert_eq!(q.first_day(), day("2026-07-01"));
        assert_eq!(q.end(), day("2026-10-01"));
        assert_eq!(
            "2026-Q4".parse::<Quarter>().unwrap().end(),
            day("2027-01-01")
        );
        for bad in [
            "2026-Q5", "2026-Q0", "26-Q1", "2026Q1", "2026-q1", "", "2026-Q12",
        ] {
            assert!(bad.parse::<Quarter>().is_err(), "{bad}");
        }
        assert_eq!(
            Quarter::spanning(day("2026-03-15"), day("2026-07-01"))
                .iter()
                .map(|q| q.to_string())
                .collect::<Vec<_>>(),
            ["2026-Q1", "2026-Q2"]
        );
        assert!(Quarter::spanning(day("2026-03-15"), day("2026-03-15")).is_empty());
    }

    #[test]
    fn texts_are_due_a_retention_period_after_their_quarter_ended() {
        let at = |s: &str| day(s).and_hms_opt(12, 0, 0).unwrap();
        let days = Duration::days(30);
        // 2026-Q3 ended on 2026-10-01; 30 days later is 2026-10-31.
        assert_eq!(
            Quarter::texts_due(at("2026-10-30"), days).to_string(),
            "2026-Q2"
        );
        assert_eq!(
            Quarter::texts_due(at("2026-10-31"), days).to_string(),
            "2026-Q3"
        );
        assert_eq!(
            Quarter::texts_due(at("2026-12-31"), days).to_string(),
            "2026-Q3"
        );
    }

    #[test]
    fn an_answer_needs_a_score_from_1_to_5_and_bounded_texts() {
        let ok = Answer::parse(Some("4"), Some(" fijn "), Some("")).unwrap();
        assert_eq!(ok.score, 4);
        assert_eq!(ok.helped.as_deref(), Some("fijn"));
        assert_eq!(ok.better, None);
        for bad in [
            None,
            Some("0"),
            Some("6"),
            Some("vier"),
            Some("4.5"),
            Some(""),
        ] {
            assert!(Answer::parse(bad, None, None).is_err(), "{bad:?}");
        }
        let long = "x".repeat(MAX_FEEDBACK_TEXT + 1);
        match Answer::parse(Some("x"), Some(&long), Some("a\u{0}b")) {
            Err(DomainError::Invalid(errors)) => assert_eq!(
                errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
                ["score", "helped", "better"]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn groups_under_five_are_suppressed() {
        assert_eq!(figures(&[5, 4, 3, 2]), None);
        let f = figures(&[5, 4, 4, 2, 1]).unwrap();
        assert_eq!(f.answers, 5);
        assert_eq!(f.mean_score, 3.2);
        assert_eq!(f.distribution, [1, 1, 0, 2, 1]);
    }

    #[test]
    fn the_language_follows_the_client() {
        let langs = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(invitation_language(&langs(&["en"])), "en");
        assert_eq!(invitation_language(&langs(&["en", "nl"])), "nl");
        assert_eq!(invitation_language(&langs(&["ar"])), "nl");
    }

    #[test]
    fn the_expiry_is_a_whole_day() {
        let now = day("2026-12-07").and_hms_opt(15, 42, 7).unwrap();
        assert_eq!(
            invitation_expiry(now, 30),
            day("2027-01-07").and_hms_opt(0, 0, 0).unwrap()
        );
    }
}
