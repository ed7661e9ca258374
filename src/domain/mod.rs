//! The programme's vocabulary and rules, free of HTTP and SQL: states and their transition
//! tables, enumerations, validated values, the clock and the acting party.

pub mod actor;
pub mod buddy;
pub mod clock;
pub mod error;
pub mod exit_interview;
pub mod ids;
pub mod lifecycle;
pub mod organisation;
pub mod pairing;
pub mod privacy;
pub mod report;
pub mod request;
pub mod session;
pub mod values;

/// Declares an enumeration stored and sent as fixed lower-case strings.
///
/// The OpenAPI schema is written here by hand from the same `$text` list that serde reads and
/// writes, rather than derived: utoipa's derive does not see a `#[serde(rename = $text)]` whose
/// literal comes from a macro, and would list the Rust variant names instead. The enum's doc
/// comment is the schema's description.
#[macro_export]
macro_rules! string_enum {
    ($(#[doc = $doc:literal])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Every value as sent and accepted, in declaration order.
            pub const TEXTS: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let lines: &[&str] = &[$($doc),*];
                let description = $crate::domain::doc_text(lines);
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(description)
                    .enum_values(Some($name::TEXTS.iter().copied()))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!("unknown {} `{}`", stringify!($name), other)),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A doc comment's lines as one description, as utoipa's derive writes it: each line without
/// the space after `///`, joined by newlines; `None` when there is no comment.
#[doc(hidden)]
pub fn doc_text(lines: &[&str]) -> Option<String> {
    let text = lines
        .iter()
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// The schema's `enum` list equals what serde writes for every value, and serde reads each
    /// listed value back to the same variant.
    macro_rules! schema_is_wire {
        ($($ty:ty),+ $(,)?) => {$({
            let schema = serde_json::to_value(<$ty as utoipa::PartialSchema>::schema()).unwrap();
            let listed = schema["enum"].as_array().cloned().unwrap_or_default();
            let sent: Vec<Value> = <$ty>::ALL
                .iter()
                .map(|v| serde_json::to_value(v).unwrap())
                .collect();
            assert_eq!(listed, sent, "{}: schema enum vs serde", stringify!($ty));
            assert_eq!(schema["type"], "string", "{}", stringify!($ty));
            for (value, variant) in sent.iter().zip(<$ty>::ALL) {
                let read: $ty = serde_json::from_value(value.clone()).unwrap();
                assert_eq!(read, *variant, "{}", stringify!($ty));
                assert_eq!(value.as_str(), Some(variant.as_str()));
            }
            assert_eq!(<$ty as utoipa::ToSchema>::name(), stringify!($ty));
        })+};
    }

    #[test]
    fn every_enum_schema_lists_the_wire_values() {
        use crate::audit::{ActorType, Outcome};
        use crate::auth::{Role, StaffRole};
        use crate::domain::buddy::{BuddyAction, BuddyState, MailLanguage, MeasureKind};
        use crate::domain::exit_interview::Answer;
        use crate::domain::organisation::{OrganisationAction, OrganisationState};
        use crate::domain::pairing::{EndReason, PairingAction, PairingState};
        use crate::domain::request::{ContactChannel, RequestAction, RequestState, Trigger};
        use crate::matching::score::ComponentName;
        schema_is_wire!(
            ActorType,
            Outcome,
            Role,
            StaffRole,
            BuddyAction,
            BuddyState,
            MailLanguage,
            MeasureKind,
            Answer,
            EndReason,
            PairingAction,
            PairingState,
            ComponentName,
            OrganisationAction,
            OrganisationState,
            ContactChannel,
            RequestAction,
            RequestState,
            Trigger,
        );
    }

    #[test]
    fn descriptions_come_from_the_doc_comment() {
        assert_eq!(super::doc_text(&[]), None);
        assert_eq!(
            super::doc_text(&[" One.", " Two"]).as_deref(),
            Some("One.\nTwo")
        );
        let schema = serde_json::to_value(
            <crate::domain::buddy::MailLanguage as utoipa::PartialSchema>::schema(),
        )
        .unwrap();
        assert_eq!(
            schema["description"],
            "Language of the e-mails a buddy receives."
        );
    }
}
