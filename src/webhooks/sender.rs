//! Sends one webhook message: an HTTP POST with a short timeout, no redirects followed, at most
//! [`MAX_ANSWER_BYTES`] of the answer read, and only to public addresses (unless
//! `webhooks.allow_local_targets`). The URL is checked again before every attempt, and a host
//! name is resolved by [`PublicOnly`], which drops every address that is not public, so a name
//! that later resolves to the bureau's own network (DNS rebinding) reaches nothing.

use std::error::Error as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::domain::webhook::{check_url, is_public};

/// The most of an answer's body that is read; the rest is left unread and the connection closed.
pub const MAX_ANSWER_BYTES: usize = 4096;

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The answer's status, if one came.
    pub status: Option<u16>,
    /// Why the attempt failed, if it did: no URL, address or answer body in it.
    pub error: Option<String>,
    pub duration: Duration,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

/// The HTTP client of the webhook worker, built once.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_local: bool,
    timeout: Duration,
}

impl Sender {
    pub fn new(timeout: Duration, allow_local: bool) -> anyhow::Result<Sender> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            // A proxy would make the address checks meaningless.
            .no_proxy()
            .dns_resolver(Arc::new(PublicOnly { allow_local }))
            .user_agent(concat!("maatje-webhooks/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(2)
            .build()?;
        Ok(Sender {
            client,
            allow_local,
            timeout,
        })
    }

    /// POSTs `body` (JSON) with `headers` to `url`. A 2xx answer is a success; anything else,
    /// a redirect included, is a failure saying why.
    pub async fn send(&self, url: &str, headers: &[(&str, String)], body: String) -> Attempt {
        let started = Instant::now();
        let failed = |status: Option<u16>, error: String| Attempt {
            status,
            error: Some(error),
            duration: started.elapsed(),
        };
        if let Err(why) = check_url(url, self.allow_local) {
            return failed(None, format!("the endpoint URL {why}"));
        }
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(e) => return failed(None, self.describe(&e)),
        };
        let status = response.status();
        // Read a little of the answer, so that a receiver that answers before reading is not
        // cut off, and no more: a large or endless answer is not waited for.
        let mut read = 0;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    read += chunk.len();
                    if read >= MAX_ANSWER_BYTES {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) if status.is_success() => {
                    return failed(Some(status.as_u16()), self.describe(&e))
                }
                Err(_) => break,
            }
        }
        let code = Some(status.as_u16());
        if status.is_success() {
            Attempt {
                status: code,
                error: None,
                duration: started.elapsed(),
            }
        } else if status.is_redirection() {
            failed(
                code,
                format!("answered {status}: redirects are not followed"),
            )
        } else {
            failed(code, format!("answered {status}"))
        }
    }

    /// The error and its causes, without the URL (it may carry the receiver's own token).
    fn describe(&self, e: &reqwest::Error) -> String {
        if e.is_timeout() {
            return format!("no answer within {} s", self.timeout.as_secs());
        }
        let mut text = if e.is_connect() {
            "could not connect".to_owned()
        } else {
            "the request failed".to_owned()
        };
        let mut source = e.source();
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            if !text.contains(&cause_text) {
                text.push_str(": ");
                text.push_str(&cause_text);
            }
            source = cause.source();
        }
        text.chars().take(500).collect()
    }
}

/// Resolves host names like the system does, then keeps only public addresses (all of them when
/// `allow_local`); a name with none left does not resolve.
struct PublicOnly {
    allow_local: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_local = self.allow_local;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let usable: Vec<SocketAddr> = found
                .filter(|address| allow_local || is_public(address.ip()))
                .collect();
            if usable.is_empty() {
                return Err(
                    "the host name resolves to no public address (refused: loopback, private or \
                     link-local)"
                        .into(),
                );
            }
            Ok(Box::new(usable.into_iter()) as Addrs)
        })
    }
}
