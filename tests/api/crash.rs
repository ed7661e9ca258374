//! The audit trail survives `kill -9` of the service under load (issue 10): the real binary
//! serves concurrent writes (buddies created and patched) and reads on the test's database and is
//! killed with SIGKILL mid-load, a few times over. Then, read straight from the database:
//!
//! - every buddy that exists has its `create` record, and every buddy has as many allowed
//!   `update` records as `update` history entries (a change and its record commit together);
//! - every request that got an answer has a record with its `X-Server-Request-Id` and its status
//!   (a record is durable before its answer goes out);
//! - `maatje audit verify` accepts the chain.
//!
//! Requests in flight at the kill get no answer; they are counted, and must not be none, so that
//! the kill really hit the load. The requests are sent with a bare `reqwest` client, not the
//! harness's helpers: a request without an answer is the point here, not a failed test.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::fixtures::{candidate, organisation, profile};
use crate::helpers::{spawn_app, TestApp};

/// Tasks creating and patching buddies, and tasks reading them.
const WRITERS: usize = 4;
const READERS: usize = 4;
/// Rounds (start, load, kill) whose kill must hit requests in flight; at most [`MAX_ROUNDS`].
const HIT_ROUNDS: usize = 3;
const MAX_ROUNDS: usize = 6;
/// How long a round loads the service before the kill: between these, varying per round.
const LOAD_MIN_MS: u64 = 300;
const LOAD_MAX_MS: u64 = 900;
/// Fewer answered writes than this over all rounds would make the test say little.
const MIN_ANSWERED_WRITES: usize = 30;

#[tokio::test]
async fn kill_9_under_load_leaves_every_change_and_answer_recorded() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let mut seeded = Vec::new();
    for n in 1..=3 {
        seeded.push(candidate(&app, &org, n).await);
    }
    let shared = Arc::new(Shared {
        org,
        buddies: Mutex::new(seeded),
        next_buddy: AtomicU32::new(1000),
        seed: AtomicU64::new(seed()),
    });

    let started = Instant::now();
    let mut rounds: Vec<Round> = Vec::new();
    while rounds.iter().filter(|r| r.in_flight > 0).count() < HIT_ROUNDS
        && rounds.len() < MAX_ROUNDS
    {
        rounds.push(round(&app, &shared, rounds.len()).await);
    }
    for (i, r) in rounds.iter().enumerate() {
        eprintln!(
            "round {i}: killed after {} ms; answered {} writes, {} reads (by status: {:?}); \
             in flight at the kill: {}; refused after it: {}; answers withheld: {}",
            r.killed_after_ms,
            r.answers.iter().filter(|a| a.write).count(),
            r.answers.iter().filter(|a| !a.write).count(),
            r.answers
                .iter()
                .fold(BTreeMap::<u16, usize>::new(), |mut by, a| {
                    *by.entry(a.status).or_default() += 1;
                    by
                }),
            r.in_flight,
            r.refused,
            r.withheld,
        );
        if r.withheld > 0 {
            eprintln!("round {i}: the service's last log lines:\n{}", r.log_tail);
        }
    }
    let answers: Vec<&Answer> = rounds.iter().flat_map(|r| &r.answers).collect();
    let writes = answers.iter().filter(|a| a.write && a.status < 300).count();
    assert!(
        rounds.iter().filter(|r| r.in_flight > 0).count() >= HIT_ROUNDS,
        "no {HIT_ROUNDS} of {} kills hit a request in flight: {:?}",
        rounds.len(),
        rounds.iter().map(|r| r.in_flight).collect::<Vec<_>>()
    );
    assert!(
        writes >= MIN_ANSWERED_WRITES,
        "only {writes} successful writes answered: the load was too thin to say much"
    );

    let checked = check_trail(&app, &answers);
    eprintln!(
        "checked: {} buddies with their create record ({} created without an answer), {} \
         update records against as many history entries, {} answers against their records",
        checked.buddies, checked.unanswered_creates, checked.updates, checked.answers
    );
    let (code, output) = crate::audit::verify(&app).await;
    eprintln!("verify: {code:?} {}", output.trim());
    assert_eq!(code, Some(0), "maatje audit verify: {output}");
    eprintln!("crash test took {:?}", started.elapsed());
}

/// What the load tasks share.
struct Shared {
    org: String,
    /// Every buddy known to exist (seeded, or created with an answer).
    buddies: Mutex<Vec<String>>,
    /// Numbers the profiles of created buddies, so each is distinct.
    next_buddy: AtomicU32,
    /// A xorshift state, for picking buddies and the moment of the kill.
    seed: AtomicU64,
}

impl Shared {
    /// A number below `n` (`n > 0`).
    fn pick(&self, n: usize) -> usize {
        let mut x = self.seed.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.seed.store(x, Ordering::Relaxed);
        (x % n as u64) as usize
    }

    fn some_buddy(&self) -> String {
        let buddies = self.buddies.lock().unwrap();
        buddies[self.pick(buddies.len())].clone()
    }
}

fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    nanos | 1
}

/// A request that got its answer (status and headers: the service sent it, so its record must
/// have been written).
#[derive(Debug, Clone)]
struct Answer {
    what: String,
    write: bool,
    status: u16,
    server_request_id: String,
}

/// One start, load and kill of the service.
struct Round {
    answers: Vec<Answer>,
    /// Requests sent before the kill that got no answer.
    in_flight: usize,
    /// Requests sent after the kill (refused: nothing listens).
    refused: usize,
    killed_after_ms: u64,
    /// Answers the service withheld because their record could not be written (logged).
    withheld: usize,
    log_tail: String,
}

#[derive(Default)]
struct Tally {
    answers: Vec<Answer>,
    in_flight: usize,
    refused: usize,
}

async fn round(app: &TestApp, shared: &Arc<Shared>, n: usize) -> Round {
    let mut service = Service::start(app).await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let killed = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let load = Load {
        client,
        address: service.address.clone(),
        token: app.admin_token.clone(),
        shared: shared.clone(),
        killed: killed.clone(),
        tally: tally.clone(),
        warm: tokio::sync::Barrier::new(WRITERS + READERS + 1),
    };
    let load = Arc::new(load);
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let load = load.clone();
        tasks.push(tokio::spawn(async move { load.writer(w).await }));
    }
    for r in 0..READERS {
        let load = load.clone();
        tasks.push(tokio::spawn(async move { load.reader(r).await }));
    }
    // The first requests of a fresh service are slow (each worker's first request takes most of
    // a second in a debug build): the kill is timed from the end of every task's first requests.
    tokio::time::timeout(Duration::from_secs(30), load.warm.wait())
        .await
        .expect("the service answers its first requests");
    let wait = LOAD_MIN_MS + shared.pick((LOAD_MAX_MS - LOAD_MIN_MS) as usize) as u64;
    let begun = Instant::now();
    tokio::time::sleep(Duration::from_millis(wait)).await;
    killed.store(true, Ordering::SeqCst);
    service.child.start_kill().expect("SIGKILL sent");
    let killed_after_ms = begun.elapsed().as_millis() as u64;
    let status = service.child.wait().await.expect("the service is reaped");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "round {n}: the service ended otherwise than by SIGKILL: {status}"
    );
    for task in tasks {
        task.await.expect("a load task panicked");
    }
    let log = service.log.lock().unwrap().clone();
    let tally = std::mem::take(&mut *tally.lock().unwrap());
    Round {
        answers: tally.answers,
        in_flight: tally.in_flight,
        refused: tally.refused,
        killed_after_ms,
        withheld: log
            .iter()
            .filter(|l| l.contains("audit record not written"))
            .count(),
        log_tail: log[log.len().saturating_sub(20)..].join("\n"),
    }
}

/// The load of one round, shared by its tasks.
struct Load {
    client: reqwest::Client,
    address: String,
    token: String,
    shared: Arc<Shared>,
    killed: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
    /// Passed by every task after its first requests, and by the round before it times the kill.
    warm: tokio::sync::Barrier,
}

impl Load {
    /// Creates a buddy, patches it a few times, and patches other buddies (which may be patched
    /// concurrently: a 409 is an answer too), until a request goes unanswered.
    async fn writer(&self, w: usize) {
        let warmed = self.write(w).await;
        self.warm.wait().await;
        if warmed {
            while self.write(w).await {}
        }
    }

    /// One create and three patches; `false` as soon as a request goes unanswered.
    async fn write(&self, w: usize) -> bool {
        let n = self.shared.next_buddy.fetch_add(1, Ordering::Relaxed);
        let mut body = profile(n);
        body["organisation_id"] = json!(self.shared.org);
        let Some((_, own)) = self
            .send(Method::POST, "/v1/buddies".into(), Some(body), true)
            .await
        else {
            return false;
        };
        if let Some(id) = &own {
            self.shared.buddies.lock().unwrap().push(id.clone());
        }
        for k in 0..3 {
            let id = match (&own, k) {
                (Some(id), 0 | 1) => id.clone(),
                _ => self.shared.some_buddy(),
            };
            let patch = json!({ "region": format!("Regio {w}-{n}-{k}") });
            let path = format!("/v1/buddies/{id}");
            if self
                .send(Method::PATCH, path, Some(patch), true)
                .await
                .is_none()
            {
                return false;
            }
        }
        true
    }

    /// Reads buddies, lists them, reads one that does not exist (404) and one without
    /// credentials (401), until a request goes unanswered.
    async fn reader(&self, r: usize) {
        let warmed = self.read(r).await && self.read(r + 1).await;
        self.warm.wait().await;
        if warmed {
            for i in (r + 2).. {
                if !self.read(i).await {
                    return;
                }
            }
        }
    }

    /// The `i`th read; `false` when it goes unanswered.
    async fn read(&self, i: usize) -> bool {
        let path = match i % 6 {
            0 => "/v1/buddies?limit=5".to_owned(),
            1 => format!("/v1/buddies/{}", uuid::Uuid::now_v7()),
            _ => format!("/v1/buddies/{}", self.shared.some_buddy()),
        };
        let answered = if i % 11 == 5 {
            self.send_as(Method::GET, path, None, false, None).await
        } else {
            self.send(Method::GET, path, None, false).await
        };
        answered.is_some()
    }

    async fn send(
        &self,
        method: Method,
        path: String,
        body: Option<serde_json::Value>,
        write: bool,
    ) -> Option<(u16, Option<String>)> {
        let token = self.token.clone();
        self.send_as(method, path, body, write, Some(&token)).await
    }

    /// Sends one request; `None` when it got no answer (or the round is over). Returns the status
    /// and, for a 201, the id in its `Location`.
    async fn send_as(
        &self,
        method: Method,
        path: String,
        body: Option<serde_json::Value>,
        write: bool,
        token: Option<&str>,
    ) -> Option<(u16, Option<String>)> {
        if self.killed.load(Ordering::SeqCst) {
            return None;
        }
        let what = format!("{method} {path}");
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let sent_before_kill = !self.killed.load(Ordering::SeqCst);
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let header = |name: &str| {
                    response
                        .headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let server_request_id = header("x-server-request-id")
                    .unwrap_or_else(|| panic!("{what} -> {status}: no X-Server-Request-Id"));
                let created = (status == 201)
                    .then(|| header("location"))
                    .flatten()
                    .and_then(|l| l.rsplit('/').next().map(str::to_owned));
                // The body may be cut off by the kill; the answer (its head) was sent all the same.
                let _ = response.bytes().await;
                self.tally.lock().unwrap().answers.push(Answer {
                    what,
                    write,
                    status,
                    server_request_id,
                });
                Some((status, created))
            }
            Err(error) => {
                let mut tally = self.tally.lock().unwrap();
                if sent_before_kill && !error.is_connect() {
                    tally.in_flight += 1;
                } else {
                    tally.refused += 1;
                }
                None
            }
        }
    }
}

/// The real `maatje serve`, on the test's database.
pub(crate) struct Service {
    pub(crate) child: Child,
    pub(crate) address: String,
    pub(crate) log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Service {
    async fn start(app: &TestApp) -> Service {
        Service::start_with(app, &[]).await
    }

    /// As [`Service::start`], with `extra` settings on top (they win).
    pub(crate) async fn start_with(app: &TestApp, extra: &[(&str, &str)]) -> Service {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|probe| probe.local_addr())
            .expect("a free port")
            .port();
        let port_text = port.to_string();
        let mut env: BTreeMap<&str, &str> = [
            ("MAATJE__DATABASE__URL", app.settings.database.url.as_str()),
            ("MAATJE__DATABASE__POOL_SIZE", "6"),
            ("MAATJE__DATABASE__SQLITE_BUSY_TIMEOUT_MS", "5000"),
            ("MAATJE__SERVER__HOST", "127.0.0.1"),
            ("MAATJE__SERVER__PORT", &port_text),
            ("MAATJE__SERVER__WORKERS", "4"),
            ("MAATJE__LIMITS__ENABLED", "false"),
            ("MAATJE__MAIL__WORKER_ENABLED", "false"),
            (
                "MAATJE__MAIL__LINK_SECRET",
                crate::helpers::TEST_LINK_SECRET,
            ),
            ("MAATJE__WORKFLOW__SCHEDULER_ENABLED", "false"),
            ("MAATJE__PRIVACY__RETENTION_ENABLED", "false"),
            ("MAATJE__MATCHING__AUTO_PROPOSE", "false"),
            ("MAATJE__LOG__FORMAT", "json"),
            ("MAATJE__LOG__LEVEL", "warn,maatje::startup=info"),
            ("MAATJE__WEBHOOKS__WORKER_ENABLED", "false"),
            // Several services at once: each its own free metrics port.
            ("MAATJE__METRICS__PORT", "0"),
        ]
        .into_iter()
        .collect();
        env.extend(extra.iter().copied());
        let mut child = Command::new(env!("CARGO_BIN_EXE_maatje"))
            .arg("serve")
            .current_dir(dir.path())
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("maatje starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let wanted = format!("listening on http://127.0.0.1:{port}");
        let mut seen = Vec::new();
        let listening = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("readable stderr") {
                let found = line.contains(&wanted);
                seen.push(line);
                if found {
                    return true;
                }
            }
            false
        })
        .await
        .expect("the service reports it is listening");
        assert!(listening, "maatje serve exited:\n{}", seen.join("\n"));
        // Keep reading standard error, so the service never blocks on a full pipe.
        let log = Arc::new(Mutex::new(seen));
        let kept = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                kept.lock().unwrap().push(line);
            }
        });
        Service {
            child,
            address: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        }
    }
}

/// How much [`check_trail`] compared.
struct Checked {
    buddies: usize,
    unanswered_creates: usize,
    updates: i64,
    answers: usize,
}

#[derive(QueryableByName)]
struct BuddyRecords {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = BigInt)]
    creates: i64,
    #[diesel(sql_type = BigInt)]
    history_updates: i64,
    #[diesel(sql_type = BigInt)]
    update_records: i64,
}

#[derive(QueryableByName)]
struct RequestRecord {
    #[diesel(sql_type = Nullable<Text>)]
    request_id: Option<String>,
    #[diesel(sql_type = Integer)]
    status: i32,
}

/// Checks the database against the answers (see the module docs); panics on the first gap.
fn check_trail(app: &TestApp, answers: &[&Answer]) -> Checked {
    let (buddies, records) = app.with_connection(|conn| {
        let buddies: Vec<BuddyRecords> = diesel::sql_query(
            "SELECT b.id AS id, \
               (SELECT COUNT(*) FROM audit_log a WHERE a.action = 'create' \
                  AND a.object_type = 'buddy' AND a.object_id = b.id \
                  AND a.outcome = 'allowed') AS creates, \
               (SELECT COUNT(*) FROM history h WHERE h.entity_type = 'buddy' \
                  AND h.action = 'update' AND h.entity_id = b.id) AS history_updates, \
               (SELECT COUNT(*) FROM audit_log a WHERE a.action = 'update' \
                  AND a.object_type = 'buddy' AND a.object_id = b.id \
                  AND a.outcome = 'allowed') AS update_records \
             FROM buddies b ORDER BY b.id",
        )
        .load(conn)
        .expect("buddies and their records");
        let records: Vec<RequestRecord> =
            diesel::sql_query("SELECT request_id, status FROM audit_log")
                .load(conn)
                .expect("the trail");
        (buddies, records)
    });
    let mut gaps = Vec::new();
    for b in &buddies {
        if b.creates != 1 {
            gaps.push(format!(
                "buddy {} exists with {} create records",
                b.id, b.creates
            ));
        }
        if b.history_updates != b.update_records {
            gaps.push(format!(
                "buddy {}: {} updates in its history, {} allowed update records",
                b.id, b.history_updates, b.update_records
            ));
        }
    }
    let mut statuses: HashMap<String, HashSet<u16>> = HashMap::new();
    for record in records {
        if let Some(id) = record.request_id {
            statuses.entry(id).or_default().insert(record.status as u16);
        }
    }
    for answer in answers {
        match statuses.get(&answer.server_request_id) {
            None => gaps.push(format!(
                "{} answered {} (request {}) without a record",
                answer.what, answer.status, answer.server_request_id
            )),
            Some(recorded) if !recorded.contains(&answer.status) => gaps.push(format!(
                "{} answered {} (request {}), recorded as {recorded:?}",
                answer.what, answer.status, answer.server_request_id
            )),
            Some(_) => {}
        }
    }
    assert!(
        gaps.is_empty(),
        "{} gaps in the audit trail:\n{}",
        gaps.len(),
        gaps.join("\n")
    );
    let answered_creates = answers
        .iter()
        .filter(|a| a.write && a.status == 201)
        .count();
    Checked {
        buddies: buddies.len(),
        // Three buddies were seeded by the in-process server.
        unanswered_creates: buddies.len().saturating_sub(answered_creates + 3),
        updates: buddies.iter().map(|b| b.update_records).sum(),
        answers: answers.len(),
    }
}
