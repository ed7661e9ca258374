//! How long ranking the candidates of one request takes with 10,000 active buddies.
//!
//! Seeds a fresh SQLite file (and, when `MAATJE_BENCH_POSTGRES_URL` is set, a fresh database on
//! that PostgreSQL server, dropped afterwards) with 10,000 active buddies of varied languages,
//! regions, experience and capacity, 1,000 buddies in other states, 6,000 earlier requests with
//! live, ended and declined pairings, and one open request with declined, expired and excluded
//! buddies. Then calls `ops::pairings::candidates`, exactly what `GET
//! /v1/buddy-requests/{id}/candidates` calls (database loads, scoring, ordering, explanation),
//! and prints the 50th, 90th and 99th percentile and the maximum: with the facts about every
//! buddy cached (no buddy or pairing changed since the last ranking, the usual case), right after
//! one buddy changed (the cache catches up by reading that buddy), while another connection
//! changes a buddy every 5 ms (mixed), and with an empty cache (the first ranking of an instance).
//!
//! Run: `cargo bench --bench candidates` (see BENCHMARKS.md). A benchmark, not a test: it
//! asserts nothing about time.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use maatje::config::{DatabaseSettings, DatabaseTarget, Settings};
use maatje::db::schema::{buddies, buddy_requests, organisations, pairings, request_exclusions};
use maatje::db::{run_migrations, write_transaction, Database, DbConnection};
use maatje::domain::buddy::{MailLanguage, MeasureKind};
use maatje::domain::ids::RequestId;
use maatje::domain::pairing::EndReason;
use maatje::domain::request::{ContactChannel, Trigger};
use maatje::error::ApiResult;
use maatje::matching::Weights;
use maatje::store::buddies::BuddyRow;
use maatje::store::candidates::{self, FactsCache};
use maatje::store::exclusions::ExclusionRow;
use maatje::store::pairings::PairingRow;
use maatje::store::requests::RequestRow;

const ACTIVE_BUDDIES: usize = 10_000;
const OTHER_BUDDIES: usize = 1_000;
const EARLIER_REQUESTS: usize = 6_000;
const WARM_UP: usize = 50;
const ROUNDS: usize = 1_000;

const LANGUAGES: &[&str] = &[
    "nl", "nl", "nl", "nl", "en", "en", "ar", "tr", "pl", "so", "ti", "fr", "de", "es", "uk", "fa",
];
const MEASURES: &[&str] = &[
    "supervision_order",
    "out_of_home_placement",
    "guardianship",
    "youth_probation",
];
const OTHER_STATES: &[&str] = &["candidate", "screening", "paused", "retired"];

fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 22)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap()
}

fn id(rng: &mut fastrand::Rng, at: NaiveDateTime) -> String {
    // UUIDv7-shaped: time-ordered, random tail (deterministic for a seeded run).
    let ms = at.and_utc().timestamp_millis() as u64;
    let rand: u128 = rng.u128(..);
    let value = (u128::from(ms) << 80) | (0x7u128 << 76) | (rand & ((1u128 << 76) - 1));
    let value = (value & !(0b11u128 << 62)) | (0b10u128 << 62);
    uuid::Uuid::from_u128(value).to_string()
}

fn list(items: &[&str]) -> String {
    maatje::domain::values::list_to_json(items)
}

fn pick<'a>(rng: &mut fastrand::Rng, from: &[&'a str], n: usize) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    while out.len() < n {
        let item = from[rng.usize(..from.len())];
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn buddy(
    rng: &mut fastrand::Rng,
    org: &str,
    n: usize,
    state: &str,
    regions: &[String],
) -> BuddyRow {
    let created = now() - chrono::Duration::days(400 + rng.i64(0..400));
    let spoken = 1 + rng.usize(0..3);
    let languages = pick(rng, LANGUAGES, spoken);
    let lived = 1 + rng.usize(0..2);
    let experience = pick(rng, MEASURES, lived);
    BuddyRow {
        id: id(rng, created).into(),
        organisation_id: org.into(),
        state: state.parse().expect("a buddy state"),
        full_name: format!("Buddy Voorbeeld {n}"),
        email: format!("buddy{n}@example.org"),
        phone: Some("+31 6 1234 5678".to_owned()),
        mail_language: MailLanguage::Nl,
        languages: list(&languages),
        region: regions[rng.usize(..regions.len())].clone(),
        experience: list(&experience),
        topics: list(&["school"]),
        capacity: rng.i32(1..=4),
        vog_issued_on: None,
        training_completed_on: None,
        agreement_signed_on: None,
        created_at: created,
        updated_at: created,
        erased_at: None,
        paused_until: None,
        availability_notes: None,
        retirement_requested_at: None,
    }
}

fn request(
    rng: &mut fastrand::Rng,
    org: &str,
    n: usize,
    state: &str,
    at: NaiveDateTime,
    region: &str,
) -> RequestRow {
    RequestRow {
        id: id(rng, at).into(),
        organisation_id: org.into(),
        client_ref: format!("CASE-{n:06}"),
        trigger_kind: Trigger::Discontent,
        trigger_note: None,
        client_first_name: "Client".to_owned(),
        client_phone: None,
        client_email: Some("client@example.org".to_owned()),
        client_preferred_channel: ContactChannel::Email,
        client_languages: list(&["nl", "ar"]),
        region: region.to_owned(),
        preferences: None,
        consent_recorded_at: at,
        state: state.parse().expect("a request state"),
        created_at: at,
        updated_at: at,
        closed_at: (state == "closed").then_some(at),
        legal_hold: false,
        anonymised_at: None,
        measure: Some(
            MEASURES[rng.usize(..MEASURES.len())]
                .parse()
                .expect("a measure kind"),
        ),
    }
}

fn pairing(
    rng: &mut fastrand::Rng,
    request: &str,
    buddy: &str,
    state: &str,
    at: NaiveDateTime,
) -> PairingRow {
    PairingRow {
        id: id(rng, at).into(),
        request_id: request.into(),
        buddy_id: buddy.into(),
        state: state.parse().expect("a pairing state"),
        proposed_at: at,
        responded_at: (state != "proposed" && state != "expired").then_some(at),
        activated_at: (state == "active" || state == "ended").then_some(at),
        ended_at: (state == "ended").then_some(at),
        decline_reason: None,
        end_reason: (state == "ended").then_some(EndReason::GoalReached),
        end_note: None,
        evaluation_client_score: None,
        evaluation_buddy_score: None,
        evaluation_comment: None,
        created_at: at,
        updated_at: at,
        last_contact_on: None,
        quiet_since: (state == "active").then_some(at),
        contact_reminded_for: None,
        contact_alerted_for: None,
        check_in_sent_at: None,
        check_in_answer: None,
        check_in_answered_at: None,
    }
}

/// What was seeded, for the report.
struct Seeded {
    request_id: RequestId,
    pairings: usize,
}

/// Seeds the scenario in one transaction; deterministic (a fixed seed).
fn seed(conn: &mut DbConnection) -> ApiResult<Seeded> {
    write_transaction(conn, |conn| {
        let mut rng = fastrand::Rng::with_seed(20_261_122);
        let org = id(&mut rng, now());
        diesel::insert_into(organisations::table)
            .values((
                organisations::id.eq(&org),
                organisations::name.eq("Gecertificeerde Instelling Bench"),
                organisations::state.eq("active"),
                organisations::created_at.eq(now()),
                organisations::updated_at.eq(now()),
            ))
            .execute(conn)?;
        let regions: Vec<String> = (0..40)
            .map(|i| match i {
                0 => "Utrecht".to_owned(),
                1 => "Amsterdam".to_owned(),
                i => format!("Regio {i}"),
            })
            .collect();
        let mut active: Vec<(String, i32)> = Vec::with_capacity(ACTIVE_BUDDIES);
        for n in 0..ACTIVE_BUDDIES {
            let row = buddy(&mut rng, &org, n, "active", &regions);
            diesel::insert_into(buddies::table)
                .values(&row)
                .execute(conn)?;
            active.push((row.id.to_string(), row.capacity));
        }
        for n in 0..OTHER_BUDDIES {
            let state = OTHER_STATES[n % OTHER_STATES.len()];
            let row = buddy(&mut rng, &org, ACTIVE_BUDDIES + n, state, &regions);
            diesel::insert_into(buddies::table)
                .values(&row)
                .execute(conn)?;
        }

        // Earlier requests: matched ones with a live pairing (within capacity), closed ones with
        // an ended pairing, some after a declined proposal.
        let mut load: HashMap<usize, i32> = HashMap::new();
        let mut pairing_count = 0;
        for n in 0..EARLIER_REQUESTS {
            let at = now() - chrono::Duration::minutes(rng.i64(60..365 * 24 * 60));
            let matched = n % 12 < 5;
            let state = if matched { "matched" } else { "closed" };
            let region = regions[rng.usize(..regions.len())].clone();
            let row = request(&mut rng, &org, n, state, at, &region);
            diesel::insert_into(buddy_requests::table)
                .values(&row)
                .execute(conn)?;
            if n % 3 == 0 {
                let b = rng.usize(..active.len());
                let declined = pairing(&mut rng, &row.id, &active[b].0, "declined", at);
                diesel::insert_into(pairings::table)
                    .values(&declined)
                    .execute(conn)?;
                pairing_count += 1;
            }
            let b = loop {
                let b = rng.usize(..active.len());
                if !matched || load.get(&b).copied().unwrap_or(0) < active[b].1 {
                    break b;
                }
            };
            if matched {
                *load.entry(b).or_default() += 1;
            }
            let later = at + chrono::Duration::minutes(30);
            let state = if matched { "active" } else { "ended" };
            let p = pairing(&mut rng, &row.id, &active[b].0, state, later);
            diesel::insert_into(pairings::table)
                .values(&p)
                .execute(conn)?;
            pairing_count += 1;
        }

        // The request being ranked: open, after three declines and an expiry, with five
        // exclusions.
        let at = now() - chrono::Duration::days(3);
        let mut target = request(&mut rng, &org, EARLIER_REQUESTS, "open", at, "Utrecht");
        target.measure = Some(MeasureKind::Guardianship);
        diesel::insert_into(buddy_requests::table)
            .values(&target)
            .execute(conn)?;
        for (i, state) in ["declined", "declined", "declined", "expired"]
            .iter()
            .enumerate()
        {
            let b = &active[i * 7].0;
            let at = at + chrono::Duration::hours(i as i64 * 12);
            let p = pairing(&mut rng, &target.id, b, state, at);
            diesel::insert_into(pairings::table)
                .values(&p)
                .execute(conn)?;
            pairing_count += 1;
        }
        for i in 0..5 {
            let row = ExclusionRow {
                request_id: target.id.clone(),
                buddy_id: active[100 + i * 13].0.as_str().into(),
                reason: "Knows the family".to_owned(),
                created_at: at,
            };
            diesel::insert_into(request_exclusions::table)
                .values(&row)
                .execute(conn)?;
        }
        Ok(Seeded {
            request_id: target.id,
            pairings: pairing_count,
        })
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// Where the facts about every buddy come from in a measured ranking.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Facts {
    /// The service's cache, nothing changed since the last ranking: the usual case.
    Cached,
    /// The service's cache, right after one buddy changed: it is caught up by reading that one
    /// buddy (`matching_changes`).
    AfterChange,
    /// The service's cache while another connection changes a buddy every 5 ms (about 200
    /// changes a second): some rankings find it current, others catch it up.
    Mixed,
    /// An empty cache, as the first ranking of an instance (or one too far behind) reads.
    Empty,
}

impl Facts {
    fn label(self) -> &'static str {
        match self {
            Facts::Cached => "cached facts",
            Facts::AfterChange => "after a change",
            Facts::Mixed => "mixed load",
            Facts::Empty => "empty cache",
        }
    }
}

/// Changes buddy `id` as the service's writes would for the ranking: the triggers move
/// `matching_version` and note the buddy. The facts the score reads stay as they were, so every
/// round ranks the same candidates.
fn touch(conn: &mut DbConnection, id: &str) {
    diesel::update(buddies::table.find(id))
        .set(buddies::updated_at.eq(now()))
        .execute(conn)
        .expect("a buddy changes");
}

/// Ranks `rounds` times with `limit` and prints the distribution, with the facts as `facts` says.
#[allow(clippy::too_many_arguments)]
fn measure(
    db: &Database,
    conn: &mut DbConnection,
    request: &RequestId,
    changing: &[String],
    weights: &Weights,
    limit: usize,
    facts: Facts,
    rounds: usize,
) {
    let shared = FactsCache::default();
    let mut eligible = 0;
    for _ in 0..WARM_UP {
        eligible = maatje::ops::pairings::candidates(conn, &shared, request, weights, now(), limit)
            .expect("ranking works")
            .eligible;
    }
    let before = shared.reads();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut times = Vec::with_capacity(rounds);
    std::thread::scope(|scope| {
        if facts == Facts::Mixed {
            let mut writer = db.blocking().expect("a second connection");
            let stop = &stop;
            scope.spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    touch(&mut writer, &changing[n % changing.len()]);
                    n += 1;
                    std::thread::sleep(Duration::from_millis(5));
                }
            });
        }
        for round in 0..rounds {
            let fresh = FactsCache::default();
            let cache = if facts == Facts::Empty {
                &fresh
            } else {
                &shared
            };
            if facts == Facts::AfterChange {
                touch(conn, &changing[round % changing.len()]);
            }
            let start = Instant::now();
            let ranking =
                maatje::ops::pairings::candidates(conn, cache, request, weights, now(), limit)
                    .expect("ranking works");
            times.push(start.elapsed());
            assert_eq!(ranking.candidates.len(), limit.min(eligible));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    times.sort();
    let after = shared.reads();
    let how = match facts {
        Facts::Empty => "every round read all buddies".to_owned(),
        _ => format!(
            "{} patched, {} read all",
            after.1 - before.1,
            after.0 - before.0
        ),
    };
    println!(
        "  {:>14}, limit {limit:>3}: p50 {}  p90 {}  p99 {}  max {}  ({rounds} rounds, {eligible} eligible; {how})",
        facts.label(),
        ms(percentile(&times, 50.0)),
        ms(percentile(&times, 90.0)),
        ms(percentile(&times, 99.0)),
        ms(*times.last().expect("rounds")),
    );
}

fn run(label: &str, db: &Database, weights: &Weights, analyze: bool) {
    let mut conn = db.blocking().expect("a connection");
    run_migrations(&mut conn).expect("migrations run");
    let started = Instant::now();
    let seeded = seed(&mut conn).expect("seeding works");
    if analyze {
        conn.batch_execute("ANALYZE").expect("ANALYZE runs");
    }
    println!(
        "{label}: seeded {ACTIVE_BUDDIES} active and {OTHER_BUDDIES} other buddies, \
         {} requests, {} pairings in {:.1} s",
        EARLIER_REQUESTS + 1,
        seeded.pairings,
        started.elapsed().as_secs_f64()
    );
    let request_row =
        maatje::store::requests::find(&mut conn, &seeded.request_id).expect("the request");
    let best = candidates::best_candidate(
        &mut conn,
        &FactsCache::default(),
        &request_row,
        weights,
        now(),
    )
    .expect("ranking works")
    .expect("a candidate");
    println!("  best candidate scores {:.4}", best.score);
    let request = &seeded.request_id;
    // Buddies the changing lines touch: active ones, spread over the pool.
    let changing: Vec<String> = buddies::table
        .filter(buddies::state.eq("active"))
        .order(buddies::id.asc())
        .select(buddies::id)
        .load::<String>(&mut conn)
        .expect("active buddies")
        .into_iter()
        .step_by(37)
        .collect();
    let mut line = |limit, facts, rounds| {
        measure(
            db, &mut conn, request, &changing, weights, limit, facts, rounds,
        )
    };
    line(20, Facts::Cached, ROUNDS);
    line(100, Facts::Cached, ROUNDS);
    line(1, Facts::Cached, ROUNDS);
    line(20, Facts::AfterChange, ROUNDS);
    line(1, Facts::AfterChange, ROUNDS);
    line(20, Facts::Mixed, ROUNDS);
    line(20, Facts::Empty, ROUNDS / 5);
}

fn database(url: &str) -> Database {
    let settings = DatabaseSettings {
        url: url.to_owned(),
        pool_size: 2,
        connect_timeout_seconds: 10,
        migrate_on_start: true,
        sqlite_busy_timeout_ms: 5_000,
        sqlite_synchronous: maatje::config::SqliteSynchronous::Full,
    };
    let target = DatabaseTarget::parse(url).expect("a database URL");
    Database::connect(&settings, target).expect("the database connects")
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported and ignored.
    let weights = Settings::load_from(None, std::iter::empty::<(String, String)>())
        .expect("the default configuration loads")
        .matching
        .weights();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("bench.db");
    let sqlite = database(&format!("sqlite://{}", path.display()));
    run("SQLite", &sqlite, &weights, false);

    if let Ok(url) = std::env::var("MAATJE_BENCH_POSTGRES_URL") {
        let name = format!("maatje_bench_{}", std::process::id());
        let mut admin =
            diesel::PgConnection::establish(&url).expect("the PostgreSQL server connects");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("CREATE DATABASE");
        let mut fresh = url::Url::parse(&url).expect("a PostgreSQL URL");
        fresh.set_path(&name);
        {
            let pg = database(fresh.as_str());
            // Autovacuum would analyse the tables soon after such a load; do it now.
            run("PostgreSQL", &pg, &weights, true);
        }
        admin
            .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .expect("DROP DATABASE");
    }
}
