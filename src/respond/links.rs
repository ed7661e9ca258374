//! Response links: `<public base URL>/respond/<token>`.
//!
//! A token is never stored. Its row in `response_tokens` holds an id of 128 random bits and the
//! SHA-256 of the token; the token itself is `HMAC-SHA256(link secret, id)`, 256 bits in
//! base64url. A mail is written to the outbox with a marker `@@respond:<id>:<answer>@@` where the
//! link goes, and the worker puts the link in when it sends the mail. So neither the database
//! (a backup, a pending or dead outbox row, `GET /v1/outbox`) nor the logs hold a usable link:
//! that takes the secret, which lives in the configuration or a file beside the database.

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use diesel::prelude::*;

use crate::config::MailSettings;
use crate::db::DbConnection;

/// Length of a token in the URL: 32 bytes in base64url without padding.
pub const TOKEN_LEN: usize = 43;

const MARKER_START: &str = "@@respond:";
/// Where a client feedback link goes: `@@feedback:<token id>@@`.
const FEEDBACK_MARKER_START: &str = "@@feedback:";

/// The row of `shared_settings` that holds the link secret's check value.
pub const SHARED_SETTING: &str = "link_secret";
const MARKER_END: &str = "@@";
/// What a sign-in link's marker names instead of an answer.
const SIGN_IN: &str = "sign-in";

/// What a link asks the page to offer first. Both answers of its page are on it either way:
/// accept or decline a proposal (`/respond/…`), or answer the check-in of a running pairing
/// (`/check-in/…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Decline,
    Fine,
    NeedsHelp,
}

impl Answer {
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Accept => "accept",
            Answer::Decline => "decline",
            Answer::Fine => "fine",
            Answer::NeedsHelp => "needs_help",
        }
    }

    pub fn parse(s: &str) -> Option<Answer> {
        match s {
            "accept" => Some(Answer::Accept),
            "decline" => Some(Answer::Decline),
            "fine" => Some(Answer::Fine),
            "needs_help" => Some(Answer::NeedsHelp),
            _ => None,
        }
    }

    /// An answer to a proposal (accept or decline), not to a check-in.
    pub fn to_proposal(self) -> bool {
        matches!(self, Answer::Accept | Answer::Decline)
    }

    /// The page the link opens.
    fn path(self) -> &'static str {
        match self {
            Answer::Accept | Answer::Decline => "respond",
            Answer::Fine | Answer::NeedsHelp => "check-in",
        }
    }
}

/// The marker a template prints where the link to `token_id` goes.
pub fn marker(token_id: &str, answer: Answer) -> String {
    format!("{MARKER_START}{token_id}:{}{MARKER_END}", answer.as_str())
}

/// The marker a template prints where the sign-in link of token `token_id` goes
/// (see [`crate::portal`]).
pub fn sign_in_marker(token_id: &str) -> String {
    format!("{MARKER_START}{token_id}:{SIGN_IN}{MARKER_END}")
}

/// [`sign_in_marker`] as a template value, marked safe as [`marker_value`]'s.
pub fn sign_in_marker_value(token_id: &str) -> minijinja::Value {
    minijinja::Value::from_safe_string(sign_in_marker(token_id))
}

/// The marker of [`marker`] as a template value: marked safe, which tells the mail templates'
/// formatter that the service placed it (see [`crate::templates`]), so it is the only kind of
/// marker that becomes a link.
pub fn marker_value(token_id: &str, answer: Answer) -> minijinja::Value {
    minijinja::Value::from_safe_string(marker(token_id, answer))
}

/// The marker of a client feedback invitation's link, as a template value (see [`marker_value`]).
pub fn feedback_marker_value(token_id: &str) -> minijinja::Value {
    minijinja::Value::from_safe_string(format!("{FEEDBACK_MARKER_START}{token_id}{MARKER_END}"))
}

/// Makes text from user input (names, reasons, notes) unable to form a marker, alone or with
/// what is printed next to it: a zero-width space goes between two `@`, and before a leading or
/// after a trailing `@`. An e-mail address (`a@b`) is left as it is.
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    const BREAK: char = '\u{200B}';
    if !text.contains('@') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut previous = None;
    for c in text.chars() {
        if c == '@' && matches!(previous, None | Some('@')) {
            out.push(BREAK);
        }
        out.push(c);
        previous = Some(c);
    }
    if text.ends_with('@') {
        out.push(BREAK);
    }
    std::borrow::Cow::Owned(out)
}

/// The SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh token id: 128 random bits, hex.
pub fn new_token_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    hex::encode(bytes)
}

/// Derives tokens and builds links. Holds the secret; its `Debug` does not show it.
#[derive(Clone)]
pub struct Links {
    secret: Vec<u8>,
    base_url: String,
}

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Links")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Links {
    pub fn new(secret: impl Into<Vec<u8>>, base_url: &str) -> Links {
        Links {
            secret: secret.into(),
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// From `[mail]`: `link_secret` when set, else the secret in `link_secret_file`, created
    /// with 256 random bits (readable by the owner only) on first use.
    pub fn from_settings(mail: &MailSettings) -> anyhow::Result<Links> {
        let secret = if mail.link_secret.is_empty() {
            load_or_create_secret(&mail.link_secret_file)?
        } else {
            mail.link_secret.as_bytes().to_vec()
        };
        Ok(Links::new(secret, &mail.public_base_url))
    }

    /// A value that shows whether two instances hold the same secret, without showing it.
    pub fn check_value(&self) -> String {
        hex::encode(self.mac(b"maatje link secret check v1", b""))
    }

    /// HMAC-SHA256 under the secret of `label` followed by `data`: also how other secrets are
    /// derived from this one (a webhook endpoint's signing secret).
    pub fn mac(&self, label: &[u8], data: &[u8]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key");
        mac.update(label);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// Makes sure every instance on the database derives links with the same secret: the first
    /// to start records [`Links::check_value`], the others must match it. An instance with
    /// another secret would send links that answer 404.
    pub fn ensure_shared(&self, conn: &mut DbConnection) -> anyhow::Result<()> {
        use crate::db::schema::shared_settings as s;
        let mine = self.check_value();
        // Not in a transaction: a unique violation (another instance was first) aborts nothing.
        match diesel::insert_into(s::table)
            .values((s::name.eq(SHARED_SETTING), s::value.eq(&mine)))
            .execute(conn)
        {
            Err(e) if crate::db::is_unique_violation(&e) => {}
            other => {
                other?;
            }
        }
        let recorded: String = s::table.find(SHARED_SETTING).select(s::value).first(conn)?;
        anyhow::ensure!(
            recorded == mine,
            "mail.link_secret: this instance's response-link secret differs from the one this \
             database's other instances use, so its links would not work there. Give every \
             instance the same secret (MAATJE__MAIL__LINK_SECRET). To change the secret on \
             purpose, stop every instance and delete the row `{SHARED_SETTING}` of the table \
             shared_settings (the links of pending proposals stop working)."
        );
        Ok(())
    }

    /// The token of the row `token_id`.
    pub fn token(&self, token_id: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(b"maatje response link v1\0", token_id.as_bytes()))
    }

    /// The link to the page of `token_id` that `answer` belongs to, offering `answer` first.
    pub fn link(&self, token_id: &str, answer: Answer) -> String {
        format!(
            "{}/{}/{}?answer={}",
            self.base_url,
            answer.path(),
            self.token(token_id),
            answer.as_str()
        )
    }

    /// The link to the buddy portal's sign-in page of token `token_id`.
    pub fn sign_in_link(&self, token_id: &str) -> String {
        format!("{}/buddy/sign-in/{}", self.base_url, self.token(token_id))
    }

    /// Replaces every marker in `body` by its link (response links and feedback links). A marker
    /// names its token id in hex, so anything else between the delimiters is left as it is.
    pub fn expand(&self, body: &str) -> String {
        let body = expand_markers(body, MARKER_START, |inner| {
            let (id, target) = inner.split_once(':')?;
            if !is_token_id(id) {
                return None;
            }
            if target == SIGN_IN {
                Some(self.sign_in_link(id))
            } else {
                Some(self.link(id, Answer::parse(target)?))
            }
        });
        expand_markers(&body, FEEDBACK_MARKER_START, |id| {
            is_token_id(id).then(|| self.feedback_link(id))
        })
    }

    /// The token of the client feedback invitation `token_id`: derived as a response link's
    /// token is, under a label of its own, so neither kind of token opens the other's page.
    pub fn feedback_token(&self, token_id: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(b"maatje feedback link v1\0", token_id.as_bytes()))
    }

    /// The link to the feedback page of invitation `token_id`.
    pub fn feedback_link(&self, token_id: &str) -> String {
        format!(
            "{}/feedback/{}",
            self.base_url,
            self.feedback_token(token_id)
        )
    }
}

/// A token id as markers carry it: 32 hex digits.
fn is_token_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Replaces every `<start>inner@@` in `body` by what `link` makes of `inner`; a marker `link`
/// does not take is left as it is.
fn expand_markers(body: &str, start: &str, link: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find(start) {
        out.push_str(&rest[..at]);
        let after = &rest[at + start.len()..];
        let made = after
            .find(MARKER_END)
            .and_then(|end| Some((link(&after[..end])?, end)));
        match made {
            Some((url, end)) => {
                out.push_str(&url);
                rest = &after[end + MARKER_END.len()..];
            }
            None => {
                out.push_str(start);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Reads the secret in `path`, or writes a new one there. Two processes starting at once on
/// one machine agree: the file is created exclusively, and the loser reads the winner's.
fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context;
    let read = |path: &Path| -> anyhow::Result<Vec<u8>> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the link secret {}", path.display()))?;
        let secret = text.trim();
        anyhow::ensure!(
            secret.len() >= 32,
            "the link secret in {} is shorter than 32 characters",
            path.display()
        );
        Ok(secret.as_bytes().to_vec())
    };
    if path.exists() {
        return read(path);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    let secret = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(secret.as_bytes())
                .and_then(|_| file.sync_all())
                .with_context(|| format!("cannot write the link secret {}", path.display()))?;
            tracing::info!(file = %path.display(), "generated a new link secret");
            Ok(secret.into_bytes())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> Links {
        Links::new("s".repeat(32), "https://maatje.example.org/")
    }

    #[test]
    fn a_token_is_256_bits_and_depends_on_id_and_secret() {
        let id = new_token_id();
        assert_eq!(id.len(), 32);
        let token = links().token(&id);
        assert_eq!(token.len(), TOKEN_LEN);
        assert_eq!(token, links().token(&id), "derivation is stable");
        assert_ne!(token, links().token(&new_token_id()));
        let other = Links::new("t".repeat(32), "https://maatje.example.org");
        assert_ne!(token, other.token(&id));
        assert_eq!(token_hash(&token).len(), 64);
    }

    #[test]
    fn markers_become_links_from_the_base_url() {
        let id = "0123456789abcdef0123456789abcdef";
        let body = format!(
            "accept: {}\ndecline: <a href=\"{}\">x</a>",
            marker(id, Answer::Accept),
            marker(id, Answer::Decline)
        );
        let token = links().token(id);
        assert_eq!(
            links().expand(&body),
            format!(
                "accept: https://maatje.example.org/respond/{token}?answer=accept\n\
                 decline: <a href=\"https://maatje.example.org/respond/{token}?answer=decline\">x</a>"
            )
        );
    }

    #[test]
    fn a_sign_in_marker_becomes_the_portal_link() {
        let id = "0123456789abcdef0123456789abcdef";
        let token = links().token(id);
        assert_eq!(
            links().expand(&format!("open: {}", sign_in_marker(id))),
            format!("open: https://maatje.example.org/buddy/sign-in/{token}")
        );
        let hostile = format!("x{}", neutralise(&sign_in_marker(id)));
        assert_eq!(links().expand(&hostile), hostile);
    }

    #[test]
    fn feedback_markers_become_feedback_links_with_their_own_tokens() {
        let id = "0123456789abcdef0123456789abcdef";
        let body = format!("go: {}", feedback_marker_value(id));
        let token = links().feedback_token(id);
        assert_eq!(token.len(), TOKEN_LEN);
        assert_ne!(
            token,
            links().token(id),
            "a feedback token is no response token"
        );
        assert_eq!(
            links().expand(&body),
            format!("go: https://maatje.example.org/feedback/{token}")
        );
        assert_eq!(links().expand("@@feedback:nothex@@"), "@@feedback:nothex@@");
        let hostile = format!("@@feedback:{id}@@");
        assert_eq!(links().expand(&neutralise(&hostile)), neutralise(&hostile));
    }

    #[test]
    fn text_that_only_looks_like_a_marker_stays() {
        for body in [
            "@@respond:nothex:accept@@",
            "@@respond:0123456789abcdef0123456789abcdef:maybe@@",
            "@@respond:unterminated",
            "plain text",
        ] {
            assert_eq!(links().expand(body), body);
        }
    }

    #[test]
    fn neutralised_text_never_forms_a_marker_however_it_is_joined() {
        let id = "0123456789abcdef0123456789abcdef";
        let hostile = [
            format!("@@respond:{id}:accept@@"),
            format!("Jan @@respond:{id}:accept@@ de Vries"),
            "@".to_owned(),
            format!("@respond:{id}:accept@@"),
            "x@@".to_owned(),
        ];
        for a in &hostile {
            let alone = neutralise(a);
            assert_eq!(links().expand(&alone), alone, "{a}");
            for b in &hostile {
                let joined = format!("{}{}", neutralise(a), neutralise(b));
                assert_eq!(links().expand(&joined), joined, "{a} + {b}");
            }
        }
        assert_eq!(neutralise("jan@example.org"), "jan@example.org");
        assert_eq!(neutralise("plain"), "plain");
    }

    #[test]
    fn the_secret_file_is_created_once_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/link-secret");
        let first = load_or_create_secret(&path).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(load_or_create_secret(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "short").unwrap();
        assert!(load_or_create_secret(&path).is_err());
    }
}
