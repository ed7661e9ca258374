//! The client bureau as buddies and clients see it: its name, phone, e-mail address and postal
//! address, configured once (`[bureau]`) and shown in every mail and every page for buddies and
//! clients (see [`crate::templates`]); and who the mails come from (`mail.from`, named after
//! the bureau unless it names itself) and whom a reply reaches (the bureau's address).

use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};

use super::{ConfigError, Settings};
use crate::domain::values::Check;

/// The longest bureau name.
pub const MAX_BUREAU_NAME: usize = 100;
/// The longest postal address.
pub const MAX_POSTAL_ADDRESS: usize = 200;

/// `[bureau]`: the details every mail and page for buddies and clients shows. Templates see it
/// as `bureau` (`bureau.name`, `bureau.phone`, `bureau.email`, `bureau.postal_address`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BureauSettings {
    /// As people know the bureau, e.g. "Cliëntenbureau Utrecht"; 1 to 100 characters.
    pub name: String,
    /// A phone number people can call, e.g. "030 123 4567" or "+31 30 123 4567".
    pub phone: String,
    /// The address people can write to; replies to every mail go here.
    pub email: String,
    /// One line, e.g. "Postbus 123, 3500 AA Utrecht"; 1 to 200 characters.
    pub postal_address: String,
}

impl BureauSettings {
    /// The bureau as a mailbox: `name <email>`.
    pub fn mailbox(&self) -> Mailbox {
        Mailbox::new(
            Some(self.name.clone()),
            self.email
                .parse()
                .expect("bureau.email is validated at load"),
        )
    }
}

impl Settings {
    /// The sender of every mail: `mail.from`, named after the bureau when it gives no name.
    pub fn sender(&self) -> Mailbox {
        let mut from: Mailbox = self
            .mail
            .from
            .parse()
            .expect("mail.from is validated at load");
        if from.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
            from.name = Some(self.bureau.name.clone());
        }
        from
    }

    /// Where a reply to any mail goes: the bureau, by name.
    pub fn reply_to(&self) -> Mailbox {
        self.bureau.mailbox()
    }

    pub(super) fn validate_bureau(&self) -> Result<(), ConfigError> {
        let b = &self.bureau;
        let mut check = Check::new();
        check.text("bureau.name", &b.name, MAX_BUREAU_NAME);
        check.phone("bureau.phone", &b.phone);
        check.email("bureau.email", &b.email);
        check.text(
            "bureau.postal_address",
            &b.postal_address,
            MAX_POSTAL_ADDRESS,
        );
        if let Err(crate::domain::error::DomainError::Invalid(errors)) = check.finish() {
            let list: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            return Err(ConfigError(list.join("; ")));
        }
        Ok(())
    }

    /// What is allowed but probably wrong: in production (`mail.public_base_url` is https) the
    /// sender, the bureau's address or its other details still the built-in examples. Logged as
    /// warnings at start-up; the service runs regardless.
    pub fn warnings(&self) -> Vec<String> {
        if !self.mail.public_base_url.starts_with("https://") {
            return Vec::new();
        }
        let defaults = Settings::built_in();
        let mut out = Vec::new();
        let example = |address: &str| {
            address
                .rsplit('@')
                .next()
                .map(str::to_ascii_lowercase)
                .is_some_and(|domain| {
                    domain
                        .trim_end_matches('>')
                        .split('.')
                        .any(|label| label == "example")
                })
        };
        for (key, address) in [
            ("mail.from", self.sender().email.to_string()),
            ("mail.bureau_address", self.mail.bureau_address.clone()),
            ("bureau.email", self.bureau.email.clone()),
        ] {
            if example(&address) {
                out.push(format!(
                    "{key} is still an example address ({address}): mails to buddies and \
                     clients would come from or point to it"
                ));
            }
        }
        for (key, value, default) in [
            ("bureau.name", &self.bureau.name, &defaults.bureau.name),
            ("bureau.phone", &self.bureau.phone, &defaults.bureau.phone),
            (
                "bureau.postal_address",
                &self.bureau.postal_address,
                &defaults.bureau.postal_address,
            ),
        ] {
            if value == default {
                out.push(format!(
                    "{key} is still the built-in example ({value:?}): every mail and page shows it"
                ));
            }
        }
        out
    }
}
