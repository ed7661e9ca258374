//! Memory under a steady load: `maatje serve` on a fresh database, its resident set size (RSS)
//! idle, then once a minute while POSTs and GETs of buddy requests arrive at a steady rate, then
//! idle again. Settings: `MAATJE_BENCH_SOAK_MINUTES` (5), `MAATJE_BENCH_SOAK_RATE` (requests a
//! second in all, half POST and half GET: 200).

use std::sync::Arc;
use std::time::Duration;

use crate::load::{self, Work};
use crate::{env_or, request_body, seed, start_maatje};

/// The resident set size of process `pid`, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib / 1024.0
}

pub fn soak(name: &str, url: &str) {
    let minutes = env_or("MAATJE_BENCH_SOAK_MINUTES", 5u32);
    let rate = env_or("MAATJE_BENCH_SOAK_RATE", 200f64);
    let (server, key) = start_maatje(url);
    let pid = server.child.id();
    std::thread::sleep(Duration::from_secs(5));
    let idle = rss_mib(pid);
    let paths = seed(&server, "/v1/buddy-requests", Some(&key), 1000);
    let post = Arc::new(Work::Post {
        path: "/v1/buddy-requests".into(),
        authorization: Some(key.clone()),
        body: request_body,
    });
    let get = Arc::new(Work::Get {
        paths,
        authorization: Some(key),
    });
    println!("\n{name}: soak at {rate:.0} requests/s (half POST, half GET), RSS of `maatje serve`");
    println!("| minute | RSS MiB | since minute 1 | answered | p99 POST | p99 GET | failed |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    println!("| idle, before | {idle:.1} | | | | | |");
    let mut first = None;
    for minute in 1..=minutes {
        let addr = server.addr;
        let (p, g) = (post.clone(), get.clone());
        let posting = std::thread::spawn(move || {
            load::run_at_rate(addr, p, 4, Duration::from_secs(60), rate / 2.0)
        });
        let getting = std::thread::spawn(move || {
            load::run_at_rate(addr, g, 4, Duration::from_secs(60), rate / 2.0)
        });
        let (posted, got) = (posting.join().unwrap(), getting.join().unwrap());
        let rss = rss_mib(pid);
        let base = *first.get_or_insert(rss);
        let failed: u64 = posted
            .failed
            .values()
            .chain(got.failed.values())
            .sum::<u64>()
            + posted.broken
            + got.broken;
        println!(
            "| {minute} | {rss:.1} | {:+.1} | {} | {:.1} ms | {:.1} ms | {failed} |",
            rss - base,
            posted.ok + got.ok,
            posted.quantile_ms(0.99),
            got.quantile_ms(0.99),
        );
    }
    std::thread::sleep(Duration::from_secs(10));
    println!("| idle, 10 s after | {:.1} | | | | | |", rss_mib(pid));
}
