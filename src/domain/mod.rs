//! The programme's vocabulary and rules, free of HTTP and SQL: states and their transition
//! tables, enumerations, validated values, the clock and the acting party.

pub mod actor;
pub mod api_client;
pub mod buddy;
pub mod clock;
pub mod contact;
pub mod error;
pub mod exit_interview;
pub mod feedback;
pub mod ids;
pub mod lifecycle;
pub mod organisation;
pub mod outbox;
pub mod pairing;
pub mod privacy;
pub mod report;
pub mod request;
pub mod session;
pub mod values;
pub mod webhook;

/// Declares an enumeration stored and sent as fixed lower-case strings.
///
/// The OpenAPI schema is written here by hand from the same `$text` list that serde reads and
/// writes, rather than derived: utoipa's derive does not see a `#[serde(rename = $text)]` whose
/// literal comes from a macro, and would list the Rust variant names instead. The enum's doc
/// comment is the schema's description.
///
/// The enum is also a diesel `Text` value on both backends: a row field or a filter value of its
/// type is written as its `$text` and read back from it. A stored text that is none of them is
/// a deserialization error of the query (corrupt data: an internal error), never a panic.
#[macro_export]
macro_rules! string_enum {
    ($(#[doc = $doc:literal])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize,
                 diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text =
                    <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(
                        bytes,
                    )?;
                text.parse::<$name>()
                    .map_err(|e| format!("corrupt stored value: {e}").into())
            }
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
        use crate::domain::outbox::OutboxState;
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
            OutboxState,
        );
    }

    /// A table of one text column and one nullable text column, as the stored states are.
    mod kept {
        diesel::table! {
            stored (id) {
                id -> Integer,
                state -> Text,
                reason -> Nullable<Text>,
            }
        }
    }

    fn stored_table() -> diesel::SqliteConnection {
        use diesel::prelude::*;
        let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
        diesel::sql_query(
            "CREATE TABLE stored (id INTEGER PRIMARY KEY, state TEXT NOT NULL, reason TEXT)",
        )
        .execute(&mut conn)
        .unwrap();
        conn
    }

    #[test]
    fn states_are_stored_as_their_text_and_read_back() {
        use crate::domain::buddy::BuddyState;
        use crate::domain::pairing::EndReason;
        use diesel::prelude::*;
        use kept::stored::dsl::*;

        let mut conn = stored_table();
        for (n, value) in BuddyState::ALL.iter().enumerate() {
            let why = (n % 2 == 0).then_some(EndReason::GoalReached);
            diesel::insert_into(stored)
                .values((id.eq(n as i32), state.eq(value), reason.eq(why)))
                .execute(&mut conn)
                .unwrap();
        }
        let texts: Vec<String> = stored.order(id).select(state).load(&mut conn).unwrap();
        assert_eq!(texts, BuddyState::TEXTS);
        let back: Vec<(BuddyState, Option<EndReason>)> = stored
            .order(id)
            .select((state, reason))
            .load(&mut conn)
            .unwrap();
        for (n, (value, why)) in back.into_iter().enumerate() {
            assert_eq!(value, BuddyState::ALL[n]);
            assert_eq!(why, (n % 2 == 0).then_some(EndReason::GoalReached));
        }
        let raw: Option<String> = stored
            .filter(id.eq(0))
            .select(reason)
            .first(&mut conn)
            .unwrap();
        assert_eq!(raw.as_deref(), Some("goal_reached"));
        // A filter compares with the enum's text.
        let paused: i32 = stored
            .filter(state.eq(BuddyState::Paused))
            .select(id)
            .first(&mut conn)
            .unwrap();
        assert_eq!(BuddyState::ALL[paused as usize], BuddyState::Paused);
    }

    #[test]
    fn a_corrupt_stored_state_is_an_error_not_a_panic() {
        use crate::domain::buddy::BuddyState;
        use crate::domain::pairing::EndReason;
        use diesel::prelude::*;
        use kept::stored::dsl::*;

        let mut conn = stored_table();
        diesel::insert_into(stored)
            .values((id.eq(1), state.eq("lost"), reason.eq("misplaced")))
            .execute(&mut conn)
            .unwrap();
        let read = stored.select(state).first::<BuddyState>(&mut conn);
        let Err(diesel::result::Error::DeserializationError(e)) = read else {
            panic!("a corrupt state read as {read:?}");
        };
        // The query names the field; its cause, the value.
        let mut chain = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            chain = format!("{chain}: {c}");
            cause = c.source();
        }
        assert!(
            chain.contains("corrupt stored value: unknown BuddyState `lost`"),
            "{chain}"
        );
        let read = stored.select(reason).first::<Option<EndReason>>(&mut conn);
        assert!(
            matches!(read, Err(diesel::result::Error::DeserializationError(_))),
            "{read:?}"
        );
        // The text itself still reads.
        let text: String = stored.select(state).first(&mut conn).unwrap();
        assert_eq!(text, "lost");
    }

    /// Through the service's own connection and row types: a stored organisation reads back in
    /// its state; tampered with, reading it fails as a storage error (an internal error, 500).
    #[test]
    fn a_row_with_a_corrupt_state_does_not_read() {
        use crate::db::{run_migrations, DbConnection};
        use crate::domain::actor::Actor;
        use crate::domain::organisation::OrganisationState;
        use crate::store::organisations;
        use diesel::prelude::*;

        let sqlite = diesel::SqliteConnection::establish(":memory:").unwrap();
        let mut conn = DbConnection::Sqlite(sqlite);
        run_migrations(&mut conn).unwrap();
        let now = chrono::DateTime::UNIX_EPOCH.naive_utc();
        let created =
            organisations::create(&mut conn, "Instelling".into(), &Actor::System, now).unwrap();
        let found = organisations::find(&mut conn, &created.id).unwrap();
        assert_eq!(found.state, OrganisationState::Active);
        diesel::sql_query("UPDATE organisations SET state = 'dissolved'")
            .execute(&mut conn)
            .unwrap();
        match organisations::find(&mut conn, &created.id) {
            Err(crate::store::StoreError::Db(
                e @ diesel::result::Error::DeserializationError(_),
            )) => {
                assert_eq!(crate::db::classify(&e), crate::db::Failure::Other);
            }
            other => panic!("a corrupt organisation read as {other:?}"),
        }
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
