//! A closed-loop HTTP/1.1 load generator in the manner of wrk: a fixed number of keep-alive
//! connections spread over a few threads, each sending its next request as soon as the answer to
//! the last one is read. It writes each request in one `write` on a `TCP_NODELAY` socket and reads
//! answers by `Content-Length`, which is all the two services under test send.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What each connection sends.
pub enum Work {
    /// A POST whose body is made per request from a number unique within the run, so that no two
    /// requests are the same (a buddy request's `client_ref` must be unique).
    Post {
        path: String,
        authorization: Option<String>,
        body: fn(u64) -> String,
    },
    /// A GET of each path in turn.
    Get {
        paths: Vec<String>,
        authorization: Option<String>,
    },
}

impl Work {
    fn request(&self, n: u64, host: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        let authorization = |out: &mut Vec<u8>, value: &Option<String>| {
            if let Some(value) = value {
                out.extend_from_slice(b"Authorization: ");
                out.extend_from_slice(value.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
        };
        match self {
            Work::Post {
                path,
                authorization: auth,
                body,
            } => {
                let body = body(n);
                out.extend_from_slice(
                    format!("POST {path} HTTP/1.1\r\nHost: {host}\r\n").as_bytes(),
                );
                authorization(&mut out, auth);
                out.extend_from_slice(
                    format!(
                        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(body.as_bytes());
            }
            Work::Get {
                paths,
                authorization: auth,
            } => {
                let path = &paths[(n % paths.len() as u64) as usize];
                out.extend_from_slice(
                    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n").as_bytes(),
                );
                authorization(&mut out, auth);
                out.extend_from_slice(b"Accept: application/json\r\n\r\n");
            }
        }
        out
    }
}

/// What one run measured.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// Answers with a 2xx status.
    pub ok: u64,
    /// Answers with any other status, by status.
    pub failed: std::collections::BTreeMap<u16, u64>,
    /// Connections that broke (reset, closed early, unparsable answer).
    pub broken: u64,
    pub elapsed: Duration,
    /// Latency of every 2xx answer, in microseconds.
    pub latencies_us: Vec<u32>,
    /// The body of the first answer of each failed status, to say what went wrong.
    pub samples: std::collections::BTreeMap<u16, String>,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency at quantile `q` (0..=1) of the 2xx answers, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_us.len() - 1) as f64 * q).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }

    fn merge(&mut self, other: Outcome) {
        self.ok += other.ok;
        for (status, n) in other.failed {
            *self.failed.entry(status).or_default() += n;
        }
        self.broken += other.broken;
        self.latencies_us.extend(other.latencies_us);
        for (status, sample) in other.samples {
            self.samples.entry(status).or_insert(sample);
        }
    }
}

/// Runs `work` against `addr` over `connections` connections on `threads` threads for `duration`,
/// each connection sending its next request as soon as it has the answer.
pub fn run(
    addr: SocketAddr,
    work: Arc<Work>,
    connections: usize,
    threads: usize,
    duration: Duration,
) -> Outcome {
    run_paced(addr, work, connections, threads, duration, None)
}

/// As [`run`], at a steady `per_second` in all: each connection sends a request every
/// `connections / per_second` (or as soon as it has the answer, when the server is slower).
pub fn run_at_rate(
    addr: SocketAddr,
    work: Arc<Work>,
    connections: usize,
    duration: Duration,
    per_second: f64,
) -> Outcome {
    let interval = Duration::from_secs_f64(connections as f64 / per_second);
    run_paced(addr, work, connections, 1, duration, Some(interval))
}

fn run_paced(
    addr: SocketAddr,
    work: Arc<Work>,
    connections: usize,
    threads: usize,
    duration: Duration,
    interval: Option<Duration>,
) -> Outcome {
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let started = Instant::now();
    let deadline = started + duration;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let work = work.clone();
            let mine = connections / threads + usize::from(t < connections % threads);
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime");
                runtime.block_on(async move {
                    let tasks: Vec<_> = (0..mine)
                        .map(|c| {
                            let work = work.clone();
                            // Numbers unique across all runs, connections and threads.
                            let first = (run << 48) | (((t * 1_000 + c) as u64) << 32);
                            tokio::spawn(connection(addr, work, first, deadline, interval))
                        })
                        .collect();
                    let mut outcome = Outcome::default();
                    for task in tasks {
                        outcome.merge(task.await.expect("a connection task"));
                    }
                    outcome
                })
            })
        })
        .collect();
    let mut outcome = Outcome::default();
    for handle in handles {
        outcome.merge(handle.join().expect("a load thread"));
    }
    outcome.elapsed = started.elapsed();
    outcome.latencies_us.sort_unstable();
    outcome
}

async fn connection(
    addr: SocketAddr,
    work: Arc<Work>,
    first: u64,
    deadline: Instant,
    interval: Option<Duration>,
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut next = Instant::now();
    let host = addr.to_string();
    let mut n = first;
    let mut buffer = Vec::with_capacity(16 * 1024);
    'connect: while Instant::now() < deadline {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            outcome.broken += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        buffer.clear();
        while Instant::now() < deadline {
            if let Some(interval) = interval {
                tokio::time::sleep_until(next.into()).await;
                next += interval;
            }
            let request = work.request(n, &host);
            n += 1;
            let sent = Instant::now();
            if stream.write_all(&request).await.is_err() {
                outcome.broken += 1;
                continue 'connect;
            }
            let Some((status, keep_alive, body)) = read_answer(&mut stream, &mut buffer).await
            else {
                outcome.broken += 1;
                continue 'connect;
            };
            let took = sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
            if (200..300).contains(&status) {
                outcome.ok += 1;
                outcome.latencies_us.push(took);
            } else {
                *outcome.failed.entry(status).or_default() += 1;
                outcome.samples.entry(status).or_insert(body);
            }
            if !keep_alive {
                continue 'connect;
            }
        }
    }
    outcome
}

/// Reads one answer; returns its status, whether the connection stays open, and (for a failure)
/// the start of its body.
async fn read_answer(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<(u16, bool, String)> {
    let header_end = loop {
        if let Some(end) = find(buffer, b"\r\n\r\n") {
            break end + 4;
        }
        if !fill(stream, buffer).await {
            return None;
        }
    };
    let head = std::str::from_utf8(&buffer[..header_end]).ok()?;
    let status: u16 = head.get(9..12)?.parse().ok()?;
    let mut length = 0usize;
    let mut keep_alive = true;
    for line in head.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().ok()?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // Neither service chunks a JSON answer; a chunked one cannot be read here.
            return None;
        } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
            keep_alive = false;
        }
    }
    while buffer.len() < header_end + length {
        if !fill(stream, buffer).await {
            return None;
        }
    }
    let body = if (200..300).contains(&status) {
        String::new()
    } else {
        let end = header_end + length.min(300);
        String::from_utf8_lossy(&buffer[header_end..end]).into_owned()
    };
    buffer.drain(..header_end + length);
    Some((status, keep_alive, body))
}

async fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 8192];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buffer.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
