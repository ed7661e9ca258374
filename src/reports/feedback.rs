//! Client feedback per organisation and quarter, for the feedback report and the summary: every
//! organisation asked about appears for every quarter, with its figures only when it has at least
//! [`MIN_GROUP`] answers. A group with fewer (none included) shows nothing but that it is small,
//! so a reader cannot tell one answer from none. No SQL and no HTTP here.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::error::{DomainError, DomainResult};
use crate::domain::feedback::{figures, Figures, Quarter, MIN_GROUP};
use crate::domain::ids::OrganisationId;

/// The scores of the answers of some organisations in some quarters, as the store read them.
#[derive(Debug, Clone, Default)]
pub struct FeedbackFacts {
    /// The quarters reported on, oldest first.
    pub quarters: Vec<Quarter>,
    /// (id, name) of every organisation reported on.
    pub organisations: Vec<(OrganisationId, String)>,
    /// (organisation, quarter, score) of every answer in those quarters.
    pub scores: Vec<(OrganisationId, String, i32)>,
}

/// One organisation's quarter.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackGroup {
    pub organisation_id: Uuid,
    pub organisation_name: String,
    /// `YYYY-Qn`.
    #[schema(example = "2026-Q4", pattern = r"^[0-9]{4}-Q[1-4]$")]
    pub quarter: String,
    /// `true` when the group has fewer than `minimum_group_size` answers (none included): then
    /// `figures` is null and nothing else is told, not even the count.
    pub suppressed: bool,
    /// Null when suppressed.
    pub figures: Option<Figures>,
}

/// Client feedback per organisation and quarter.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackFigures {
    /// The smallest group whose figures are shown (5).
    pub minimum_group_size: u64,
    /// Every organisation reported on (by name), for every quarter (oldest first).
    pub groups: Vec<FeedbackGroup>,
}

impl FeedbackFigures {
    pub fn compute(facts: &FeedbackFacts) -> DomainResult<Self> {
        let mut scores: HashMap<(&str, &str), Vec<i32>> = HashMap::new();
        for (organisation, quarter, score) in &facts.scores {
            scores
                .entry((organisation.as_str(), quarter.as_str()))
                .or_default()
                .push(*score);
        }
        let mut organisations = facts.organisations.clone();
        organisations
            .sort_by(|a, b| (a.1.as_str(), a.0.as_str()).cmp(&(b.1.as_str(), b.0.as_str())));
        let mut groups = Vec::new();
        for quarter in &facts.quarters {
            let quarter = quarter.to_string();
            for (id, name) in &organisations {
                let figures = scores
                    .get(&(id.as_str(), quarter.as_str()))
                    .and_then(|s| figures(s));
                groups.push(FeedbackGroup {
                    organisation_id: Uuid::parse_str(id)
                        .map_err(|e| DomainError::internal(format!("corrupt stored id: {e}")))?,
                    organisation_name: name.clone(),
                    quarter: quarter.clone(),
                    suppressed: figures.is_none(),
                    figures,
                });
            }
        }
        Ok(FeedbackFigures {
            minimum_group_size: MIN_GROUP as u64,
            groups,
        })
    }

    /// The `section,key,value` rows of the summary's CSV: per group, keyed
    /// `<organisation id> <quarter>`, `suppressed` (`fewer than 5 answers`) or the count, the
    /// mean and the five score counts.
    pub fn csv_rows(&self, mut row: impl FnMut(&str, &str, String)) {
        row(
            "client_feedback",
            "minimum_group_size",
            self.minimum_group_size.to_string(),
        );
        for g in &self.groups {
            let key = format!("{} {}", g.organisation_id, g.quarter);
            match &g.figures {
                None => row(
                    "client_feedback_answers",
                    &key,
                    format!("fewer than {} answers", self.minimum_group_size),
                ),
                Some(f) => {
                    row("client_feedback_answers", &key, f.answers.to_string());
                    row("client_feedback_mean_score", &key, f.mean_score.to_string());
                    for (i, n) in f.distribution.iter().enumerate() {
                        row(
                            &format!("client_feedback_score_{}", i + 1),
                            &key,
                            n.to_string(),
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_organisation_appears_in_every_quarter_and_small_groups_say_nothing() {
        let a = OrganisationId::from("0190aaaa-0000-7000-8000-00000000000a");
        let b = OrganisationId::from("0190aaaa-0000-7000-8000-00000000000b");
        let q3: Quarter = "2026-Q3".parse().unwrap();
        let q4: Quarter = "2026-Q4".parse().unwrap();
        let mut scores = vec![(b.clone(), "2026-Q4".to_owned(), 2)];
        for s in [5, 5, 4, 4, 3] {
            scores.push((a.clone(), "2026-Q4".to_owned(), s));
        }
        let facts = FeedbackFacts {
            quarters: vec![q3, q4],
            organisations: vec![(b.clone(), "B".into()), (a.clone(), "A".into())],
            scores,
        };
        let report = FeedbackFigures::compute(&facts).unwrap();
        let shown: Vec<(String, String, bool)> = report
            .groups
            .iter()
            .map(|g| (g.organisation_name.clone(), g.quarter.clone(), g.suppressed))
            .collect();
        assert_eq!(
            shown,
            [
                ("A".into(), "2026-Q3".into(), true),
                ("B".into(), "2026-Q3".into(), true),
                ("A".into(), "2026-Q4".into(), false),
                ("B".into(), "2026-Q4".into(), true),
            ]
        );
        assert_eq!(report.groups[2].figures.as_ref().unwrap().mean_score, 4.2);
        let mut rows = Vec::new();
        report.csv_rows(|s, k, v| rows.push(format!("{s},{k},{v}")));
        assert!(rows
            .iter()
            .any(|r| r.ends_with("2026-Q4,fewer than 5 answers")));
        assert!(rows
            .iter()
            .any(|r| r.starts_with("client_feedback_score_5,")));
    }
}
