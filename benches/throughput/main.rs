//! Throughput of maatje next to a bare actix-web + diesel + r2d2 service (issue 11; see
//! BENCHMARKS.md). One command:
//!
//! ```sh
//! cargo bench --bench throughput
//! ```
//!
//! For each backend (SQLite, and PostgreSQL on a throwaway cluster it starts, or on the server
//! `MAATJE_BENCH_POSTGRES_URL` names) it starts `maatje serve` and the baseline ([`baseline`],
//! this same binary run with `--baseline-server`) on fresh databases, each as its own process,
//! and loads them in interleaved rounds ([`load`]): POST and GET of buddy requests as a case
//! system, against one insert and one select. It prints req/s, p50 and p99 of each, and the
//! ratios.
//!
//! Beside them it measures the floor ([`floor`]): the baseline plus exactly the writes the issue
//! requires of maatje (request, history, outbox row and chained audit record in one transaction
//! per POST; a group-committed audit record per GET), in the same rounds, and what is left
//! below it when the chain or the wait for a read's record is dropped.
//!
//! Then it drains 2000 queued mails through the outbox worker to a loopback SMTP server
//! ([`outbox`]) on each backend.
//!
//! With `soak` among the parts ([`soak`]; not by default, it takes five minutes a backend) it
//! reports the service's memory once a minute under a steady load.
//!
//! Settings (environment): `MAATJE_BENCH_SECONDS` per measurement (10), `MAATJE_BENCH_ROUNDS`
//! (3), `MAATJE_BENCH_CONNECTIONS` (32), `MAATJE_BENCH_THREADS` (2), `MAATJE_BENCH_BACKENDS`
//! (`sqlite,postgres`), `MAATJE_BENCH_PARTS` (`http,outbox`; add `soak`),
//! `MAATJE_BENCH_OPS` (`post,get`: which requests the HTTP part measures),
//! `MAATJE_BENCH_POSTGRES_URL`, and the soak's `MAATJE_BENCH_SOAK_MINUTES` (5) and
//! `MAATJE_BENCH_SOAK_RATE` (200 requests a second).

mod baseline;
mod floor;
mod load;
mod outbox;
mod postgres;
/// The loopback SMTP server of the test suite, shared with the outbox benchmark.
#[allow(dead_code)]
#[path = "../../tests/api/smtp.rs"]
mod smtp;
mod soak;

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;

use load::{Outcome, Work};

const MAATJE: &str = env!("CARGO_BIN_EXE_maatje");
const LINK_SECRET: &str = "bench-link-secret-bench-link-secret-0123";
/// maatje's default pool size, given to both services.
const POOL_SIZE: u32 = 8;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A server process, killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn wait_ready(self, probe: &str) -> Server {
        let deadline = Instant::now() + Duration::from_secs(60);
        let request = format!(
            "GET {probe} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        );
        while Instant::now() < deadline {
            if let Ok(mut stream) = std::net::TcpStream::connect(self.addr) {
                use std::io::{Read, Write};
                let mut answer = String::new();
                if stream.write_all(request.as_bytes()).is_ok()
                    && stream.read_to_string(&mut answer).is_ok()
                    && answer.starts_with("HTTP/1.1 2")
                {
                    return self;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server on {} did not become ready", self.addr);
    }
}

/// The environment maatje runs with: defaults, except what a benchmark must not measure (the
/// abuse limits, the mail worker's sending, background jobs) and quiet logs.
fn maatje_env(url: &str, port: u16) -> Vec<(String, String)> {
    [
        ("MAATJE__DATABASE__URL", url),
        ("MAATJE__SERVER__HOST", "127.0.0.1"),
        ("MAATJE__SERVER__PORT", &port.to_string()),
        ("MAATJE__LOG__LEVEL", "warn"),
        ("MAATJE__LIMITS__PER_ADDRESS_PER_MINUTE", "1000000"),
        ("MAATJE__LIMITS__PER_CLIENT_PER_MINUTE", "1000000"),
        ("MAATJE__MAIL__WORKER_ENABLED", "false"),
        ("MAATJE__MAIL__LINK_SECRET", LINK_SECRET),
        ("MAATJE__PRIVACY__RETENTION_ENABLED", "false"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn maatje_cli(url: &str, args: &[&str]) -> String {
    let output = Command::new(MAATJE)
        .args(args)
        .envs(maatje_env(url, 0))
        .stdin(Stdio::null())
        .output()
        .expect("maatje runs");
    assert!(
        output.status.success(),
        "maatje {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// A fresh maatje with one organisation and a case system's key.
fn start_maatje(url: &str) -> (Server, String) {
    maatje_cli(url, &["migrate"]);
    let organisation = maatje_cli(url, &["admin", "create-organisation", "--name", "Bench GI"]);
    let key = maatje_cli(
        url,
        &[
            "admin",
            "create-api-client",
            "--organisation",
            &organisation,
            "--name",
            "Bench case system",
        ],
    );
    (start_serve(url, &[]), format!("Bearer {key}"))
}

/// `maatje serve` on `url` and a free port, with `extra` settings, once it is ready.
fn start_serve(url: &str, extra: &[(String, String)]) -> Server {
    let port = free_port();
    let child = Command::new(MAATJE)
        .arg("serve")
        .envs(maatje_env(url, port))
        .envs(extra.iter().cloned())
        .stdout(Stdio::null())
        .spawn()
        .expect("maatje serve starts");
    let server = Server {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    };
    server.wait_ready("/health/ready")
}

fn start_baseline(url: &str) -> Server {
    let port = free_port();
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--baseline-server",
            url,
            &port.to_string(),
            &POOL_SIZE.to_string(),
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("the baseline starts");
    let server = Server {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    };
    // Any answer to an unknown id means it is up (404 is not 2xx, so probe with a POST first).
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(server.addr).is_err() {
        assert!(Instant::now() < deadline, "the baseline did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// `n` in letters only: a reference with a run of digits could look like a BSN, which maatje
/// refuses (the elfproef guard).
fn letters(mut n: u64) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'a' + (n % 26) as u8);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    String::from_utf8(out).expect("ASCII")
}

/// A buddy request as a case system files it (the organisation comes from the key).
fn request_body(n: u64) -> String {
    serde_json::json!({
        "client_ref": format!("bench-{}", letters(n)),
        "trigger": "discontent",
        "trigger_note": "Wants someone who has been through it.",
        "client": {
            "first_name": "Client",
            "email": "client@example.org",
            "phone": "06-87654321",
            "preferred_channel": "email",
            "languages": ["nl"],
        },
        "region": "Utrecht",
        "preferences": "A parent, if possible.",
        "consent_to_share_contact": true,
    })
    .to_string()
}

/// Files `n` requests one by one and returns their paths (for the GET rounds).
fn seed(server: &Server, path: &str, authorization: Option<&str>, n: usize) -> Vec<String> {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut paths = Vec::with_capacity(n);
    for i in 0..n {
        let body = request_body(u64::MAX - i as u64);
        let auth = authorization
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        // One write: the request in pieces on a socket without TCP_NODELAY would wait for the
        // server's delayed ACK (~40 ms) each time.
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            server.addr,
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut length = 0;
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.starts_with("HTTP/1.1 201"), "seeding: {status}");
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
        paths.push(format!("{path}/{}", answer["id"].as_str().unwrap()));
    }
    paths
}

struct Subject {
    name: &'static str,
    server: Server,
    post: Arc<Work>,
    get: Arc<Work>,
}

fn subjects(
    maatje_url: &str,
    baseline_url: &str,
    floor_url: &str,
    loose_url: &str,
) -> [Subject; 4] {
    let (maatje, key) = start_maatje(maatje_url);
    let baseline = start_baseline(baseline_url);
    let floor = start_baseline(floor_url);
    let loose = start_baseline(loose_url);
    let maatje_paths = seed(&maatje, "/v1/buddy-requests", Some(&key), 1000);
    let baseline_paths = seed(&baseline, "/requests", None, 1000);
    let floor_paths = seed(&floor, "/floor/requests", None, 1000);
    let loose_paths = seed(&loose, "/floor/requests", None, 1000)
        .into_iter()
        .map(|path| path.replace("/floor/requests/", "/floor/unwaited/"))
        .collect();
    [
        Subject {
            name: "maatje",
            server: maatje,
            post: Arc::new(Work::Post {
                path: "/v1/buddy-requests".into(),
                authorization: Some(key.clone()),
                body: request_body,
            }),
            get: Arc::new(Work::Get {
                paths: maatje_paths,
                authorization: Some(key),
            }),
        },
        Subject {
            name: "baseline",
            server: baseline,
            post: Arc::new(Work::Post {
                path: "/requests".into(),
                authorization: None,
                body: request_body,
            }),
            get: Arc::new(Work::Get {
                paths: baseline_paths,
                authorization: None,
            }),
        },
        Subject {
            name: "floor",
            server: floor,
            post: Arc::new(Work::Post {
                path: "/floor/requests".into(),
                authorization: None,
                body: request_body,
            }),
            get: Arc::new(Work::Get {
                paths: floor_paths,
                authorization: None,
            }),
        },
        Subject {
            name: "below the floor",
            server: loose,
            post: Arc::new(Work::Post {
                path: "/floor/unchained".into(),
                authorization: None,
                body: request_body,
            }),
            get: Arc::new(Work::Get {
                paths: loose_paths,
                authorization: None,
            }),
        },
    ]
}

#[derive(Default)]
struct Tally {
    rounds: Vec<Outcome>,
}

impl Tally {
    /// All rounds as one: the answers and the latencies together, over the total time.
    fn total(&self) -> Outcome {
        let mut all = Outcome::default();
        for round in &self.rounds {
            all.ok += round.ok;
            all.broken += round.broken;
            for (status, n) in &round.failed {
                *all.failed.entry(*status).or_default() += n;
            }
            all.elapsed += round.elapsed;
            all.latencies_us.extend(&round.latencies_us);
        }
        all.latencies_us.sort_unstable();
        all
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The rows of the floor's table (see [`floor`]), printed after the main table.
fn bench_backend(name: &str, urls: [&str; 4]) -> Vec<String> {
    let seconds = env_or("MAATJE_BENCH_SECONDS", 10u64);
    let rounds = env_or("MAATJE_BENCH_ROUNDS", 3usize);
    let connections = env_or("MAATJE_BENCH_CONNECTIONS", 32usize);
    let threads = env_or("MAATJE_BENCH_THREADS", 2usize);
    let ops = std::env::var("MAATJE_BENCH_OPS").unwrap_or_else(|_| "post,get".into());
    let measured = |op: usize| ops.contains(["post", "get"][op]);
    let [maatje_url, baseline_url, floor_url, loose_url] = urls;
    let subjects = subjects(maatje_url, baseline_url, floor_url, loose_url);
    let duration = Duration::from_secs(seconds);
    // Warm up each path (connections, caches, the JIT of the page cache) for a second.
    for subject in &subjects {
        for work in [&subject.post, &subject.get] {
            load::run(
                subject.server.addr,
                work.clone(),
                connections,
                threads,
                Duration::from_secs(1),
            );
        }
    }
    let mut tallies: Vec<[Tally; 4]> = (0..2).map(|_| Default::default()).collect();
    for round in 1..=rounds {
        for (op, tally) in tallies.iter_mut().enumerate() {
            if !measured(op) {
                continue;
            }
            for (i, subject) in subjects.iter().enumerate() {
                let work = if op == 0 { &subject.post } else { &subject.get };
                let outcome = load::run(
                    subject.server.addr,
                    work.clone(),
                    connections,
                    threads,
                    duration,
                );
                eprintln!(
                    "  {name} round {round} {} {}: {:.0} req/s, p99 {:.1} ms{}",
                    ["POST", "GET"][op],
                    subject.name,
                    outcome.per_second(),
                    outcome.quantile_ms(0.99),
                    failures(&outcome),
                );
                tally[i].rounds.push(outcome);
            }
        }
    }
    let mut floor_rows = Vec::new();
    for (op, tally) in tallies.iter().enumerate() {
        if !measured(op) {
            continue;
        }
        let (m, b, f, l) = (
            tally[0].total(),
            tally[1].total(),
            tally[2].total(),
            tally[3].total(),
        );
        println!(
            "| {name} | {} | {:.0} | {:.1} ms | {:.1} ms | {:.0} | {:.1} ms | {:.1} ms | {:.2} | {:.1} |{}",
            ["POST /v1/buddy-requests", "GET /v1/buddy-requests/{id}"][op],
            m.per_second(),
            m.quantile_ms(0.5),
            m.quantile_ms(0.99),
            b.per_second(),
            b.quantile_ms(0.5),
            b.quantile_ms(0.99),
            m.per_second() / b.per_second(),
            m.quantile_ms(0.99) / b.quantile_ms(0.99),
            failures(&m) + &failures(&b),
        );
        floor_rows.push(format!(
            "| {name} | {} | {:.0} | {:.1} ms | {:.1} ms | {:.2} | {:.1} | {:.2} |{}",
            ["POST", "GET"][op],
            f.per_second(),
            f.quantile_ms(0.5),
            f.quantile_ms(0.99),
            f.per_second() / b.per_second(),
            f.quantile_ms(0.99) / b.quantile_ms(0.99),
            m.per_second() / f.per_second(),
            failures(&f),
        ));
        floor_rows.push(format!(
            "| {name} | {} | {:.0} | {:.1} ms | {:.1} ms | {:.2} | {:.1} | |{}",
            [
                "POST, audit record not chained",
                "GET, answered before its record commits"
            ][op],
            l.per_second(),
            l.quantile_ms(0.5),
            l.quantile_ms(0.99),
            l.per_second() / b.per_second(),
            l.quantile_ms(0.99) / b.quantile_ms(0.99),
            failures(&l),
        ));
    }
    floor_rows
}

fn failures(outcome: &Outcome) -> String {
    let mut out = String::new();
    for (status, n) in &outcome.failed {
        out.push_str(&format!(" {n}×{status}"));
    }
    if outcome.broken > 0 {
        out.push_str(&format!(" {} broken", outcome.broken));
    }
    for (status, sample) in &outcome.samples {
        out.push_str(&format!("\n    first {status}: {sample}"));
    }
    out
}

/// Creates a database on the server `admin_url` names; returns its URL.
fn create_database(admin_url: &str, name: &str) -> String {
    let mut conn = PgConnection::establish(admin_url).expect("the PostgreSQL server");
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .unwrap();
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
    format!("{base}/{name}")
}

fn drop_database(admin_url: &str, name: &str) {
    if let Ok(mut conn) = PgConnection::establish(admin_url) {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn);
    }
}

/// The PostgreSQL parts, on databases made next to the one `admin_url` names.
fn bench_postgres(
    admin_url: &str,
    parts: &str,
    drained: &mut Vec<(&'static str, f64)>,
    floors: &mut Vec<String>,
) {
    let names = [
        "maatje_bench_throughput",
        "bare_bench_throughput",
        "maatje_bench_outbox",
        "maatje_bench_soak",
        "floor_bench_throughput",
        "loose_bench_throughput",
    ];
    if parts.contains("http") {
        let maatje_url = create_database(admin_url, names[0]);
        let baseline_url = create_database(admin_url, names[1]);
        let floor_url = create_database(admin_url, names[4]);
        let loose_url = create_database(admin_url, names[5]);
        floors.extend(bench_backend(
            "PostgreSQL",
            [&maatje_url, &baseline_url, &floor_url, &loose_url],
        ));
    }
    if parts.contains("outbox") {
        let url = create_database(admin_url, names[2]);
        drained.push(("PostgreSQL", outbox::drain(&url)));
    }
    if parts.contains("soak") {
        let url = create_database(admin_url, names[3]);
        soak::soak("PostgreSQL", &url);
    }
    for name in names {
        drop_database(admin_url, name);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--baseline-server") {
        baseline::serve(&args[2], args[3].parse().unwrap(), args[4].parse().unwrap());
        return;
    }
    let backends = std::env::var("MAATJE_BENCH_BACKENDS").unwrap_or("sqlite,postgres".into());
    println!(
        "load average before: {} ({} cores)",
        load_average(),
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let parts = std::env::var("MAATJE_BENCH_PARTS").unwrap_or("http,outbox".into());
    if parts.contains("http") {
        println!(
            "\n| backend | operation | maatje req/s | p50 | p99 | baseline req/s | p50 | p99 | ratio | p99 ratio |"
        );
        println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    }
    let mut drained = Vec::new();
    let mut floors = Vec::new();
    if backends.contains("sqlite") {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
        if parts.contains("http") {
            floors.extend(bench_backend(
                "SQLite",
                [
                    &file("maatje.sqlite3"),
                    &file("baseline.sqlite3"),
                    &file("floor.sqlite3"),
                    &file("loose.sqlite3"),
                ],
            ));
        }
        if parts.contains("outbox") {
            drained.push(("SQLite", outbox::drain(&file("outbox.sqlite3"))));
        }
        if parts.contains("soak") {
            soak::soak("SQLite", &file("soak.sqlite3"));
        }
    }
    if backends.contains("postgres") {
        let cluster;
        let admin_url = match std::env::var("MAATJE_BENCH_POSTGRES_URL") {
            Ok(url) => Some(url),
            Err(_) => match postgres::Cluster::start(free_port()) {
                Ok(started) => {
                    cluster = started;
                    Some(cluster.url("postgres"))
                }
                Err(why) => {
                    println!("| PostgreSQL | skipped: {why} |");
                    None
                }
            },
        };
        if let Some(admin_url) = admin_url {
            bench_postgres(&admin_url, &parts, &mut drained, &mut floors);
        }
    }
    if !floors.is_empty() {
        println!(
            "\n| backend | floor (baseline + the required writes) | req/s | p50 | p99 | floor / baseline | p99 ratio | maatje / floor |"
        );
        println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
        for row in floors {
            println!("{row}");
        }
    }
    if !drained.is_empty() {
        println!("\n| backend | outbox: 2000 queued mails to loopback SMTP, mails/s |");
        println!("| --- | --- |");
        for (backend, rate) in drained {
            println!("| {backend} | {rate:.0} |");
        }
    }
    println!("\nload average after: {}", load_average());
}
