//! A loopback SMTP server for the mail tests, in-process on tokio: real SMTP (RFC 5321) on
//! 127.0.0.1 and a random port, so `cargo test` needs nothing but the Rust toolchain.
//!
//! It runs on a thread of its own with its own runtime, so that a test that blocks its own
//! runtime (a `std::thread::sleep` while the built binary sends) cannot stall it, and it stops
//! when the [`SmtpSink`] is dropped. Every accepted message is kept in memory. How it answers is
//! told by the recipient's local part:
//!
//! - `fail451x<N>...@...`: `451` (transient) to RCPT the first N times this address is seen
//!   (over all connections), then accepts;
//! - `reject550...@...`: always `550` (permanent) to RCPT;
//! - anything else: accepted.
//!
//! It speaks EHLO (advertising PIPELINING, 8BITMIME, SMTPUTF8 and SIZE) and HELO, MAIL FROM,
//! RCPT TO, DATA (dot-unstuffing, the message ends at `<CRLF>.<CRLF>`), RSET, NOOP and QUIT;
//! anything else, or a command out of sequence, gets a 5xx. Replies are written as each command
//! is read, in order, and input read ahead is never dropped: that is all PIPELINING asks of a
//! server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// RFC 5321 4.5.3.1.4: a command line is at most 512 octets with its CRLF.
const COMMAND_LINE_LIMIT: usize = 512;
/// RFC 5321 4.5.3.1.6: a text line is at most 1000 octets with its CRLF.
const TEXT_LINE_LIMIT: usize = 1000;
/// Past this a data line is not read on: the connection is closed.
const DATA_LINE_HARD_LIMIT: usize = 1 << 20;
/// The largest message accepted (advertised as SIZE).
const MAX_MESSAGE_BYTES: usize = 32 << 20;

const HOSTNAME: &str = "smtp-sink.maatje.test";

/// One accepted message: the envelope and the content as it arrived, dot-unstuffed, without the
/// final `.` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub from: String,
    pub rcpt: Vec<String>,
    pub content: Vec<u8>,
}

impl Received {
    /// The message as text, with an `X-Sink-Rcpt: a,b` line before it.
    pub fn text(&self) -> String {
        let content = String::from_utf8(self.content.clone()).expect("a UTF-8 message");
        format!("X-Sink-Rcpt: {}\r\n{content}", self.rcpt.join(","))
    }
}

/// What every connection shares: the messages and how often each `fail451x` address was seen.
#[derive(Default)]
pub struct Mailbox {
    messages: Mutex<Vec<Received>>,
    seen: Mutex<HashMap<String, u32>>,
}

impl Mailbox {
    /// The reply to `RCPT TO:<address>`; `true` if the address was accepted.
    fn rcpt(&self, address: &str) -> (bool, &'static str) {
        let local = address.split('@').next().unwrap_or_default().to_lowercase();
        if local.starts_with("reject550") {
            return (false, "550 5.1.1 mailbox unavailable\r\n");
        }
        if let Some(times) = local
            .strip_prefix("fail451x")
            .map(|rest| {
                rest.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            })
            .filter(|digits| !digits.is_empty())
        {
            let times: u32 = times.parse().unwrap_or(u32::MAX);
            let mut seen = self.seen.lock().unwrap();
            let count = seen.entry(address.to_owned()).or_insert(0);
            *count += 1;
            if *count <= times {
                return (false, "451 4.3.0 try again later\r\n");
            }
        }
        (true, "250 2.1.5 OK\r\n")
    }

    fn store(&self, message: Received) {
        self.messages.lock().unwrap().push(message);
    }
}

/// What a session does after a line.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Write this reply (one or more CRLF-terminated lines) and read on.
    Reply(String),
    /// Write this reply and close the connection.
    Close(String),
    /// A line of message content: nothing to answer yet.
    Continue,
}

enum State {
    /// Greeted, no EHLO/HELO yet.
    Fresh,
    /// Between transactions.
    Idle,
    Mail {
        from: String,
        rcpt: Vec<String>,
    },
    Data {
        from: String,
        rcpt: Vec<String>,
        content: Vec<u8>,
        /// The reply for a message that cannot be accepted, sent once its end is read.
        refusal: Option<&'static str>,
    },
}

/// The SMTP state machine of one connection, fed one line (with its line ending) at a time.
pub struct Session {
    mailbox: Arc<Mailbox>,
    state: State,
}

impl Session {
    pub const GREETING: &'static str = "220 smtp-sink.maatje.test ESMTP maatje test sink\r\n";

    pub fn new(mailbox: Arc<Mailbox>) -> Session {
        Session {
            mailbox,
            state: State::Fresh,
        }
    }

    pub fn in_data(&self) -> bool {
        matches!(self.state, State::Data { .. })
    }

    pub fn feed(&mut self, line: &[u8]) -> Step {
        if let State::Data {
            content, refusal, ..
        } = &mut self.state
        {
            if line == b".\r\n" {
                return Step::Reply(self.end_of_data().to_owned());
            }
            if line.len() > TEXT_LINE_LIMIT {
                refusal.get_or_insert("500 5.5.2 line too long\r\n");
            }
            // Dot-unstuffing (RFC 5321 4.5.2): a leading dot was doubled by the client.
            let line = line.strip_prefix(b".").unwrap_or(line);
            if content.len() + line.len() > MAX_MESSAGE_BYTES {
                refusal.get_or_insert("552 5.3.4 message too big\r\n");
            } else if refusal.is_none() {
                content.extend_from_slice(line);
            }
            return Step::Continue;
        }
        let line = line
            .strip_suffix(b"\r\n")
            .or_else(|| line.strip_suffix(b"\n"))
            .unwrap_or(line);
        let Ok(line) = std::str::from_utf8(line) else {
            return reply("500 5.5.2 syntax error (not UTF-8)");
        };
        let (verb, args) = match line.split_once(' ') {
            Some((verb, args)) => (verb, args.trim()),
            None => (line, ""),
        };
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" | "HELO" if args.is_empty() => reply("501 5.5.4 a domain or address is needed"),
            "EHLO" => {
                self.state = State::Idle;
                Step::Reply(format!(
                    "250-{HOSTNAME} greets {args}\r\n250-PIPELINING\r\n250-8BITMIME\r\n\
                     250-SMTPUTF8\r\n250 SIZE {MAX_MESSAGE_BYTES}\r\n"
                ))
            }
            "HELO" => {
                self.state = State::Idle;
                Step::Reply(format!("250 {HOSTNAME}\r\n"))
            }
            "MAIL" => self.mail(args),
            "RCPT" => self.rcpt_to(args),
            "DATA" if !args.is_empty() => reply("501 5.5.4 DATA takes no arguments"),
            "DATA" => match &mut self.state {
                State::Mail { rcpt, .. } if rcpt.is_empty() => {
                    reply("554 5.5.1 no valid recipients")
                }
                State::Mail { from, rcpt } => {
                    self.state = State::Data {
                        from: std::mem::take(from),
                        rcpt: std::mem::take(rcpt),
                        content: Vec::new(),
                        refusal: None,
                    };
                    reply("354 end data with <CR><LF>.<CR><LF>")
                }
                _ => reply("503 5.5.1 bad sequence of commands: MAIL and RCPT first"),
            },
            "RSET" if !args.is_empty() => reply("501 5.5.4 RSET takes no arguments"),
            "RSET" => {
                if !matches!(self.state, State::Fresh) {
                    self.state = State::Idle;
                }
                reply("250 2.0.0 OK")
            }
            "NOOP" => reply("250 2.0.0 OK"),
            "QUIT" => Step::Close("221 2.0.0 bye\r\n".to_owned()),
            "VRFY" | "EXPN" | "HELP" | "STARTTLS" | "AUTH" | "BDAT" | "ETRN" | "TURN" => {
                reply("502 5.5.1 command not implemented")
            }
            _ => reply("500 5.5.2 command not recognized"),
        }
    }

    fn mail(&mut self, args: &str) -> Step {
        match self.state {
            State::Fresh => return reply("503 5.5.1 bad sequence of commands: EHLO first"),
            State::Mail { .. } => return reply("503 5.5.1 bad sequence of commands: nested MAIL"),
            _ => {}
        }
        let Some((from, params)) = path_after(args, "FROM:") else {
            return reply("501 5.5.4 syntax: MAIL FROM:<address>");
        };
        for param in params {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            match (key.to_ascii_uppercase().as_str(), value) {
                ("BODY", v)
                    if v.eq_ignore_ascii_case("7BIT") || v.eq_ignore_ascii_case("8BITMIME") => {}
                ("SMTPUTF8", "") => {}
                ("SIZE", v) => match v.parse::<usize>() {
                    Ok(size) if size <= MAX_MESSAGE_BYTES => {}
                    Ok(_) => return reply("552 5.3.4 message too big"),
                    Err(_) => return reply("501 5.5.4 syntax: SIZE=<octets>"),
                },
                _ => return reply("555 5.5.4 parameter not recognized"),
            }
        }
        self.state = State::Mail {
            from: from.to_owned(),
            rcpt: Vec::new(),
        };
        reply("250 2.1.0 OK")
    }

    fn rcpt_to(&mut self, args: &str) -> Step {
        let State::Mail { rcpt, .. } = &mut self.state else {
            return reply("503 5.5.1 bad sequence of commands: MAIL first");
        };
        let Some((address, mut params)) = path_after(args, "TO:") else {
            return reply("501 5.5.4 syntax: RCPT TO:<address>");
        };
        if address.is_empty() {
            return reply("501 5.1.3 a recipient is needed");
        }
        if params.next().is_some() {
            return reply("555 5.5.4 parameter not recognized");
        }
        let (accepted, text) = self.mailbox.rcpt(address);
        if accepted {
            rcpt.push(address.to_owned());
        }
        Step::Reply(text.to_owned())
    }

    fn end_of_data(&mut self) -> &'static str {
        let State::Data {
            from,
            rcpt,
            content,
            refusal,
        } = std::mem::replace(&mut self.state, State::Idle)
        else {
            unreachable!("only called in DATA")
        };
        if let Some(refusal) = refusal {
            return refusal;
        }
        self.mailbox.store(Received {
            from,
            rcpt,
            content,
        });
        "250 2.0.0 message accepted\r\n"
    }
}

fn reply(line: &str) -> Step {
    Step::Reply(format!("{line}\r\n"))
}

/// `FROM:<a@b> PARAM ...` (the keyword case-insensitive, a space after the colon tolerated) as
/// the address between the brackets and the parameters after them.
fn path_after<'a>(
    args: &'a str,
    keyword: &str,
) -> Option<(&'a str, impl Iterator<Item = &'a str>)> {
    let head = args.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = args[keyword.len()..].trim_start().strip_prefix('<')?;
    let (address, params) = rest.split_once('>')?;
    if address.contains(['<', ' ']) || !(params.is_empty() || params.starts_with(' ')) {
        return None;
    }
    Some((address, params.split_whitespace()))
}

enum Line {
    Complete,
    TooLong,
    End,
}

/// Reads one line with its line ending into `buf`, reading no more than `limit` bytes.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<Line> {
    buf.clear();
    let n = (&mut *reader)
        .take(limit as u64)
        .read_until(b'\n', buf)
        .await?;
    Ok(if buf.ends_with(b"\n") {
        Line::Complete
    } else if n == limit {
        Line::TooLong
    } else {
        Line::End // the peer closed the connection, maybe mid-line
    })
}

async fn serve(stream: TcpStream, mailbox: Arc<Mailbox>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    write.write_all(Session::GREETING.as_bytes()).await?;
    let mut session = Session::new(mailbox);
    let mut line = Vec::with_capacity(1024);
    loop {
        let limit = if session.in_data() {
            DATA_LINE_HARD_LIMIT
        } else {
            COMMAND_LINE_LIMIT
        };
        match read_line(&mut reader, &mut line, limit).await? {
            Line::End => return Ok(()),
            Line::TooLong => {
                write.write_all(b"500 5.5.2 line too long\r\n").await?;
                return Ok(());
            }
            Line::Complete => match session.feed(&line) {
                Step::Continue => {}
                Step::Reply(text) => write.write_all(text.as_bytes()).await?,
                Step::Close(text) => {
                    write.write_all(text.as_bytes()).await?;
                    return write.shutdown().await;
                }
            },
        }
    }
}

/// The server on a free loopback port; stopped when dropped.
pub struct SmtpSink {
    pub port: u16,
    mailbox: Arc<Mailbox>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking socket");
        let port = listener.local_addr().expect("its address").port();
        let mailbox = Arc::new(Mailbox::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let shared = mailbox.clone();
        let thread = std::thread::Builder::new()
            .name(format!("smtp-sink-{port}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the SMTP sink");
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("a tokio listener");
                    let accept = async {
                        loop {
                            match listener.accept().await {
                                Ok((stream, _)) => {
                                    tokio::spawn(serve(stream, shared.clone()));
                                }
                                Err(e) => eprintln!("smtp sink: accept failed: {e}"),
                            }
                        }
                    };
                    tokio::select! {
                        _ = accept => {}
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime ends the open connections.
            })
            .expect("a thread for the SMTP sink");
        SmtpSink {
            port,
            mailbox,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The settings that make a test app send through this sink.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("MAATJE__MAIL__WORKER_ENABLED", "true".into()),
            ("MAATJE__MAIL__TRANSPORT", "smtp".into()),
            ("MAATJE__MAIL__SMTP__HOST", "127.0.0.1".into()),
            ("MAATJE__MAIL__SMTP__PORT", self.port.to_string()),
            ("MAATJE__MAIL__SMTP__TLS", "none".into()),
            ("MAATJE__MAIL__SMTP__TIMEOUT_SECONDS", "10".into()),
            ("MAATJE__MAIL__POLL_INTERVAL_MS", "20".into()),
        ]
    }

    /// Every message accepted so far, in the order they were accepted.
    pub fn messages(&self) -> Vec<Received> {
        self.mailbox.messages.lock().unwrap().clone()
    }

    /// Every message accepted so far as text, each with its `X-Sink-Rcpt:` line first.
    pub fn received(&self) -> Vec<String> {
        self.messages().iter().map(Received::text).collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line-by-line SMTP client for the sink's own tests.
    struct Client {
        reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
        write: tokio::net::tcp::OwnedWriteHalf,
    }

    impl Client {
        async fn connect(sink: &SmtpSink) -> Client {
            let stream = TcpStream::connect(("127.0.0.1", sink.port)).await.unwrap();
            let (read, write) = stream.into_split();
            let mut client = Client {
                reader: BufReader::new(read),
                write,
            };
            assert!(client.reply().await.starts_with("220 "));
            client
        }

        async fn send(&mut self, text: &str) {
            self.write.write_all(text.as_bytes()).await.unwrap();
        }

        /// One reply, all its lines.
        async fn reply(&mut self) -> String {
            let mut text = String::new();
            loop {
                let mut line = String::new();
                let n = self.reader.read_line(&mut line).await.unwrap();
                assert!(n > 0, "the connection closed after {text:?}");
                text.push_str(&line);
                if line.as_bytes().get(3) == Some(&b' ') {
                    return text;
                }
            }
        }

        async fn command(&mut self, line: &str) -> String {
            self.send(&format!("{line}\r\n")).await;
            self.reply().await
        }

        async fn code(&mut self, line: &str) -> u16 {
            self.command(line).await[..3].parse().unwrap()
        }
    }

    #[tokio::test]
    async fn data_is_dot_unstuffed_and_ends_at_a_lone_dot() {
        let sink = SmtpSink::start();
        let mut c = Client::connect(&sink).await;
        let ehlo = c.command("EHLO client.example").await;
        assert!(ehlo.starts_with("250-"), "{ehlo}");
        for ext in ["PIPELINING", "8BITMIME", "SMTPUTF8"] {
            assert!(ehlo.contains(&format!("250-{ext}\r\n")), "{ehlo}");
        }
        assert!(ehlo.ends_with(&format!("250 SIZE {MAX_MESSAGE_BYTES}\r\n")));
        assert_eq!(
            c.code("MAIL FROM:<from@example.org> BODY=8BITMIME").await,
            250
        );
        assert_eq!(c.code("RCPT TO:<to@example.org>").await, 250);
        assert_eq!(c.code("DATA").await, 354);
        c.send("Subject: dots\r\n\r\n..\r\n..leading\r\n...\r\nmid.dle .\r\n.\r\n")
            .await;
        assert!(c.reply().await.starts_with("250 "));
        assert_eq!(c.code("QUIT").await, 221);
        let messages = sink.messages();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].from, "from@example.org");
        assert_eq!(messages[0].rcpt, ["to@example.org"]);
        assert_eq!(
            String::from_utf8_lossy(&messages[0].content),
            "Subject: dots\r\n\r\n.\r\n.leading\r\n..\r\nmid.dle .\r\n"
        );
        assert_eq!(
            sink.received(),
            ["X-Sink-Rcpt: to@example.org\r\nSubject: dots\r\n\r\n.\r\n.leading\r\n..\r\nmid.dle .\r\n"]
        );
    }

    #[tokio::test]
    async fn fail451x_answers_451_the_first_n_times_an_address_is_seen_over_all_connections() {
        let sink = SmtpSink::start();
        let mut first = Client::connect(&sink).await;
        first.command("HELO client.example").await;
        first.command("MAIL FROM:<>").await;
        assert_eq!(first.code("RCPT TO:<fail451x2@example.org>").await, 451);
        // Another address of the same kind counts on its own.
        assert_eq!(
            first.code("RCPT TO:<FAIL451x1-other@example.org>").await,
            451
        );
        assert_eq!(
            first.code("RCPT TO:<FAIL451x1-other@example.org>").await,
            250
        );
        let mut second = Client::connect(&sink).await;
        second.command("HELO client.example").await;
        second.command("MAIL FROM:<>").await;
        assert_eq!(second.code("RCPT TO:<fail451x2@example.org>").await, 451);
        let reply = second.command("RCPT TO:<fail451x2@example.org>").await;
        assert_eq!(reply, "250 2.1.5 OK\r\n");
        assert_eq!(second.code("RCPT TO:<fail451x2@example.org>").await, 250);
        // No digits: an ordinary address.
        assert_eq!(second.code("RCPT TO:<fail451x@example.org>").await, 250);
        assert_eq!(second.code("DATA").await, 354);
        second.send("Subject: x\r\n\r\nx\r\n.\r\n").await;
        assert!(second.reply().await.starts_with("250 "));
        assert_eq!(
            sink.messages()[0].rcpt,
            [
                "fail451x2@example.org",
                "fail451x2@example.org",
                "fail451x@example.org"
            ]
        );
    }

    #[tokio::test]
    async fn reject550_is_refused_every_time_and_only_accepted_recipients_get_the_message() {
        let sink = SmtpSink::start();
        let mut c = Client::connect(&sink).await;
        c.command("EHLO client.example").await;
        c.command("MAIL FROM:<from@example.org>").await;
        for _ in 0..3 {
            let reply = c.command("RCPT TO:<Reject550-bureau@example.org>").await;
            assert_eq!(reply, "550 5.1.1 mailbox unavailable\r\n");
        }
        assert_eq!(c.code("DATA").await, 554, "no valid recipient yet");
        assert_eq!(c.code("RCPT TO:<ok@example.org>").await, 250);
        assert_eq!(c.code("DATA").await, 354);
        c.send("x\r\n.\r\n").await;
        assert!(c.reply().await.starts_with("250 "));
        assert_eq!(sink.messages()[0].rcpt, ["ok@example.org"]);
    }

    #[tokio::test]
    async fn commands_out_of_sequence_or_unknown_get_5xx_and_change_nothing() {
        let sink = SmtpSink::start();
        let mut c = Client::connect(&sink).await;
        assert_eq!(c.code("MAIL FROM:<a@example.org>").await, 503, "EHLO first");
        assert_eq!(c.code("EHLO").await, 501);
        assert_eq!(c.code("EHLO client.example").await, 250);
        assert_eq!(c.code("RCPT TO:<b@example.org>").await, 503);
        assert_eq!(c.code("DATA").await, 503);
        assert_eq!(c.code("FROB").await, 500);
        assert_eq!(c.code("VRFY someone").await, 502);
        assert_eq!(c.code("STARTTLS").await, 502);
        assert_eq!(c.code("MAIL TO:<a@example.org>").await, 501);
        assert_eq!(c.code("MAIL FROM:a@example.org").await, 501);
        assert_eq!(c.code("MAIL FROM:<a@example.org> SPEED=FAST").await, 555);
        assert_eq!(
            c.code("MAIL FROM:<a@example.org> SIZE=999999999999").await,
            552
        );
        assert_eq!(c.code("mail from: <a@example.org> size=10").await, 250);
        assert_eq!(c.code("MAIL FROM:<a@example.org>").await, 503, "nested");
        assert_eq!(c.code("RCPT TO:<>").await, 501);
        assert_eq!(c.code("RCPT TO:<b@example.org>").await, 250);
        assert_eq!(c.code("NOOP").await, 250);
        assert_eq!(c.code("RSET").await, 250);
        assert_eq!(c.code("DATA").await, 503, "RSET ended the transaction");
        assert_eq!(c.code("QUIT").await, 221);
        let mut rest = Vec::new();
        c.reader.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "closed after QUIT");
        assert!(sink.messages().is_empty());
    }

    #[tokio::test]
    async fn pipelined_commands_are_answered_in_order() {
        let sink = SmtpSink::start();
        let mut c = Client::connect(&sink).await;
        c.command("EHLO client.example").await;
        c.send(
            "MAIL FROM:<a@example.org>\r\nRCPT TO:<reject550@example.org>\r\n\
             RCPT TO:<b@example.org>\r\nDATA\r\n",
        )
        .await;
        assert!(c.reply().await.starts_with("250 2.1.0"));
        assert!(c.reply().await.starts_with("550 "));
        assert!(c.reply().await.starts_with("250 2.1.5"));
        assert!(c.reply().await.starts_with("354 "));
        c.send("one\r\n.\r\nRSET\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<reject550@example.org>\r\nDATA\r\nNOOP\r\n")
            .await;
        assert!(c.reply().await.starts_with("250 2.0.0 message"));
        assert!(c.reply().await.starts_with("250 2.0.0 OK"));
        assert!(c.reply().await.starts_with("250 2.1.0"));
        assert!(c.reply().await.starts_with("550 "));
        assert!(
            c.reply().await.starts_with("554 "),
            "DATA without a valid recipient"
        );
        assert!(c.reply().await.starts_with("250 2.0.0 OK"), "NOOP");
        assert_eq!(sink.messages().len(), 1);
    }

    #[tokio::test]
    async fn a_long_command_line_is_refused_and_a_long_text_line_refuses_the_message() {
        let sink = SmtpSink::start();
        let mut c = Client::connect(&sink).await;
        c.command("EHLO client.example").await;
        c.command("MAIL FROM:<a@example.org>").await;
        c.command("RCPT TO:<b@example.org>").await;
        c.command("DATA").await;
        c.send(&format!("{}\r\n.\r\n", "x".repeat(TEXT_LINE_LIMIT)))
            .await;
        assert!(c.reply().await.starts_with("500 5.5.2 line too long"));
        assert_eq!(c.code("NOOP").await, 250, "the connection goes on");
        let reply = c.command(&"NOOP ".repeat(200)).await;
        assert!(reply.starts_with("500 5.5.2 line too long"), "{reply}");
        assert!(sink.messages().is_empty());
    }

    #[tokio::test]
    async fn lettre_delivers_through_it_as_the_service_does() {
        use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
        let sink = SmtpSink::start();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(sink.port)
            .build();
        let email = lettre::Message::builder()
            .from("maatje@example.org".parse().unwrap())
            .to("fail451x1@example.org".parse().unwrap())
            .subject("Punten")
            // 8bit, so lettre must send BODY=8BITMIME; the lines starting with a dot are
            // dot-stuffed by lettre and unstuffed by the sink.
            .body(
                lettre::message::Body::new_with_encoding(
                    "Eén regel\n.\n..twee\nklaar\n".to_owned(),
                    lettre::message::header::ContentTransferEncoding::EightBit,
                )
                .unwrap(),
            )
            .unwrap();
        let error = transport.send(email.clone()).await.unwrap_err();
        assert!(error.is_transient(), "{error}");
        transport.send(email).await.unwrap();
        let received = sink.received();
        assert_eq!(received.len(), 1);
        assert!(received[0].starts_with("X-Sink-Rcpt: fail451x1@example.org\r\n"));
        assert!(
            received[0].contains("Subject: Punten\r\n"),
            "{}",
            received[0]
        );
        assert!(
            received[0].contains("\r\n\r\nEén regel\r\n.\r\n..twee\r\nklaar\r\n"),
            "{}",
            received[0]
        );
    }
}
