//! SMTP connections of our own, on lettre's SMTP client. lettre 0.11.23 (the latest release)
//! leaves Nagle's algorithm on: it writes a message's body and then the final `.` as two writes,
//! so every message waits for the server's delayed ACK, about 40 ms (fixed upstream in
//! lettre#1159, not released yet). Here each plain or STARTTLS connection is made with
//! `TCP_NODELAY` and handed to lettre ([`AsyncSmtpConnection::connect_with_transport`]).
//! Implicit TLS (`mail.smtp.tls = "tls"`) is connected by lettre itself, as before, until a
//! release sets the option.
//!
//! At most `pool_size` messages are sent at once, each on a connection of its own; idle
//! connections are kept for reuse for [`IDLE_FOR`]. A message that fails on a reused
//! connection because that connection broke (the server closed it while idle) is sent once more
//! on a fresh one.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::sync::Semaphore;

use crate::config::SmtpTls;

/// How long an idle connection is kept: well under the 5 minutes RFC 5321 lets a server wait
/// for the next command, so that a kept connection is rarely found closed.
pub const IDLE_FOR: Duration = Duration::from_secs(60);

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SmtpFailure {
    /// From lettre: the server's answer, or the session failed.
    #[error(transparent)]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    #[error("no answer within {} s", .0.as_secs())]
    TimedOut(Duration),
}

impl SmtpFailure {
    /// A 5xx answer: sending the message again will not help.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SmtpFailure::Smtp(e) if e.is_permanent())
    }

    /// The server answered (any code): the connection itself was fine.
    fn is_answer(&self) -> bool {
        matches!(self, SmtpFailure::Smtp(e) if e.is_response() || e.is_permanent() || e.is_transient())
    }
}

pub struct SmtpPool {
    host: String,
    port: u16,
    tls: SmtpTls,
    timeout: Duration,
    hello: ClientId,
    credentials: Option<Credentials>,
    idle: Mutex<Vec<(Instant, AsyncSmtpConnection)>>,
    sending: Semaphore,
    size: usize,
}

impl SmtpPool {
    pub fn new(
        host: String,
        port: u16,
        tls: SmtpTls,
        timeout: Duration,
        credentials: Option<Credentials>,
        pool_size: u32,
    ) -> Self {
        SmtpPool {
            host,
            port,
            tls,
            timeout,
            hello: ClientId::default(),
            credentials,
            idle: Mutex::new(Vec::new()),
            sending: Semaphore::new(pool_size.max(1) as usize),
            size: pool_size.max(1) as usize,
        }
    }

    /// How many messages may be sent at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Sends one message, waiting for a free place among the `pool_size` if need be.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), SmtpFailure> {
        let _sending = self.sending.acquire().await.expect("never closed");
        if let Some(mut reused) = self.take_idle() {
            match self.send_on(&mut reused, envelope, message).await {
                Ok(()) => {
                    self.put_back(reused);
                    return Ok(());
                }
                // The server answered: that is the answer, whatever the connection.
                Err(e) if e.is_answer() || !reused.has_broken() => {
                    reused.abort().await;
                    return Err(e);
                }
                Err(_) => reused.abort().await,
            }
        }
        let mut fresh = self.connect().await?;
        let sent = self.send_on(&mut fresh, envelope, message).await;
        match &sent {
            Ok(()) => self.put_back(fresh),
            Err(_) => fresh.abort().await,
        }
        sent
    }

    async fn send_on(
        &self,
        conn: &mut AsyncSmtpConnection,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<(), SmtpFailure> {
        match tokio::time::timeout(self.timeout, conn.send(envelope, message)).await {
            Ok(sent) => sent.map(|_| ()).map_err(SmtpFailure::from),
            Err(_) => {
                conn.abort().await;
                Err(SmtpFailure::TimedOut(self.timeout))
            }
        }
    }

    fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some((since, conn)) = idle.pop() {
            if since.elapsed() < IDLE_FOR && !conn.has_broken() {
                return Some(conn);
            }
            // Too old to trust: dropped (closing the socket; no QUIT, it may be dead anyway).
        }
        None
    }

    fn put_back(&self, conn: AsyncSmtpConnection) {
        if !conn.has_broken() {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.push((Instant::now(), conn));
        }
    }

    /// A new connection: greeted, encrypted as configured, logged in if credentials are set.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SmtpFailure> {
        let connecting = async {
            let tls = |host: &str| TlsParameters::new(host.to_owned()).map_err(SmtpFailure::from);
            let mut conn = match self.tls {
                SmtpTls::Tls => {
                    AsyncSmtpConnection::connect_tokio1(
                        (self.host.as_str(), self.port),
                        Some(self.timeout),
                        &self.hello,
                        Some(tls(&self.host)?),
                        None,
                    )
                    .await?
                }
                SmtpTls::None | SmtpTls::Starttls => {
                    let stream = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
                        .await
                        .map_err(SmtpFailure::Connect)?;
                    stream.set_nodelay(true).map_err(SmtpFailure::Connect)?;
                    AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello)
                        .await?
                }
            };
            if self.tls == SmtpTls::Starttls {
                conn.starttls(tls(&self.host)?, &self.hello).await?;
            }
            if let Some(credentials) = &self.credentials {
                conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                    .await?;
            }
            Ok::<_, SmtpFailure>(conn)
        };
        tokio::time::timeout(self.timeout, connecting)
            .await
            .unwrap_or(Err(SmtpFailure::TimedOut(self.timeout)))
    }
}
