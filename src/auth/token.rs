//! Bearer tokens: `mtj_ak_<id>_<secret>` for API keys, `mtj_st_<id>_<secret>` for staff
//! sessions; the console's session cookie holds `mtj_cs_<id>_<secret>`. The id finds the stored record; the secret (256 random bits) is stored only as a
//! SHA-256 hash, which suffices for secrets of this entropy, and compared in constant time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    ApiKey,
    StaffSession,
    /// The browser console's session cookie: never a bearer token.
    ConsoleSession,
    /// The buddy portal's session cookie (`mtj_bs_...`): never a bearer token.
    BuddySession,
}

impl TokenKind {
    fn tag(self) -> &'static str {
        match self {
            TokenKind::ApiKey => "ak",
            TokenKind::StaffSession => "st",
            TokenKind::ConsoleSession => "cs",
            TokenKind::BuddySession => "bs",
        }
    }
}

/// A freshly minted token: the full text is shown once; only `secret_hash` is stored.
pub struct Minted {
    pub id: String,
    pub token: String,
    pub secret_hash: String,
}

/// A token as presented by a caller.
#[derive(Debug, PartialEq, Eq)]
pub struct Presented {
    pub kind: TokenKind,
    pub id: String,
    secret: String,
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes
}

pub fn mint(kind: TokenKind) -> Minted {
    let id = Uuid::now_v7();
    let secret = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    Minted {
        id: id.to_string(),
        token: format!("mtj_{}_{}_{secret}", kind.tag(), id.simple()),
        secret_hash: hash_secret(&secret),
    }
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Parses `mtj_<kind>_<32 hex id>_<43 char secret>`; anything else is `None`.
pub fn parse(text: &str) -> Option<Presented> {
    let mut parts = text.splitn(4, '_');
    if parts.next()? != "mtj" {
        return None;
    }
    let kind = match parts.next()? {
        "ak" => TokenKind::ApiKey,
        "st" => TokenKind::StaffSession,
        "cs" => TokenKind::ConsoleSession,
        "bs" => TokenKind::BuddySession,
        _ => return None,
    };
    let id = Uuid::try_parse(parts.next()?).ok()?;
    let secret = parts.next()?;
    let valid_secret = secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    valid_secret.then(|| Presented {
        kind,
        id: id.to_string(),
        secret: secret.to_owned(),
    })
}

impl Presented {
    /// True when this token's secret hashes to `stored_hash`.
    pub fn matches(&self, stored_hash: &str) -> bool {
        hash_secret(&self.secret)
            .as_bytes()
            .ct_eq(stored_hash.as_bytes())
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_parse_and_match_only_their_hash() {
        let minted = mint(TokenKind::ApiKey);
        assert!(minted.token.starts_with("mtj_ak_"));
        let presented = parse(&minted.token).unwrap();
        assert_eq!(presented.kind, TokenKind::ApiKey);
        assert_eq!(presented.id, minted.id);
        assert!(presented.matches(&minted.secret_hash));
        let other = mint(TokenKind::ApiKey);
        assert!(!presented.matches(&other.secret_hash));
        assert!(!minted.token.contains(&minted.secret_hash));
    }

    #[test]
    fn secrets_carry_256_random_bits() {
        let a = mint(TokenKind::StaffSession);
        let b = mint(TokenKind::StaffSession);
        assert_ne!(a.token, b.token);
        let secret = a.token.rsplit_once('_').map(|(_, s)| s).unwrap();
        // 43 base64url characters encode 32 bytes; '_' may occur in the secret itself.
        assert!(a.token.len() >= "mtj_st_".len() + 32 + 1 + 43, "{secret}");
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let good = mint(TokenKind::ApiKey).token;
        for bad in [
            "",
            "mtj",
            "Bearer x",
            "mtj_xx_0193e5a0c0a07c3a9f2b5e1d2c3b4a59_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "mtj_ak_nothex_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            &good[..good.len() - 1],
            &format!("{good}x"),
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
