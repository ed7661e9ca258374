//! Prometheus metrics, served in the Prometheus text format (version 0.0.4) on a listener of their
//! own (`[metrics]`: by default 127.0.0.1:9464), never on the public port.
//!
//! The instruments ([`Metrics`]) are made with the database handle ([`Database::metrics`]), which
//! every part of the service already holds (requests, workers, jobs, the audit writer), so each
//! counts where its work happens without a handle of its own to pass around; each server (and so
//! each test server) has its own. What is a state rather than an event (the pool, the queues, the
//! overdue requests) is read when Prometheus scrapes ([`Metrics::render`]): a few counts on
//! indexed columns.
//!
//! No label carries personal data or an id: requests are labelled by their route *pattern*
//! (`/v1/requests/{id}`, never the path asked for; `unmatched` when no route matched), their
//! method (one of the standard ones, else `other`) and their status.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::db::Database;
use crate::domain::clock::Clock;
use crate::domain::request::ServiceLevel;

/// The route label of a request no route matched (a 404 of the default service).
pub const UNMATCHED: &str = "unmatched";

/// Latency buckets, in seconds, for requests and audit appends: 1 ms to 10 s.
const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Buckets, in seconds, for the wait for a pooled connection: 50 µs (one free at once) up to the
/// longest `database.connect_timeout_seconds` worth telling apart.
const WAIT_BUCKETS: [f64; 12] = [
    0.00005, 0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1.0, 5.0,
];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

fn wait_histogram() -> Histogram {
    Histogram::new(WAIT_BUCKETS)
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// A floating-point gauge (ages in seconds).
type SecondsGauge = Gauge<f64, AtomicU64>;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route pattern, or [`UNMATCHED`].
    pub route: String,
    pub method: &'static str,
    pub status: u16,
}

/// Which of the database pools: `read` (every query; on PostgreSQL the writes too) or `write`
/// (SQLite's one writer connection).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    pub pool: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    /// `scheduler` or `retention`.
    pub job: &'static str,
    /// `ok` or `failed`.
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ItemLabels {
    pub job: &'static str,
    /// What was done: `expired`, `reminded`, `overdue_reported` (scheduler), `anonymised`
    /// (retention).
    pub kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabels {
    /// The limit that refused: `address`, `login` or `client`.
    pub limit: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChannelLabels {
    /// Where the login came from: `api` or `console`.
    pub channel: &'static str,
}

/// Every instrument of one server. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

pub struct Inner {
    pub requests: Family<RequestLabels, Counter>,
    pub request_duration: HistogramFamily<RequestLabels>,
    pub pool_wait: HistogramFamily<PoolLabels>,
    pub mail_sent: Counter,
    pub mail_retried: Counter,
    pub mail_dead: Counter,
    pub webhook_delivered: Counter,
    pub webhook_retried: Counter,
    pub webhook_dead: Counter,
    pub job_runs: Family<JobLabels, Counter>,
    pub job_items: Family<ItemLabels, Counter>,
    pub audit_append: Histogram,
    pub audit_records: Counter,
    pub login_failures: Family<ChannelLabels, Counter>,
    pub login_lockouts: Family<ChannelLabels, Counter>,
    pub rate_limited: Family<LimitLabels, Counter>,
    state: StateGauges,
    registry: Registry,
}

/// The gauges set at each scrape.
#[derive(Default)]
struct StateGauges {
    pool_max: Family<PoolLabels, Gauge>,
    pool_open: Family<PoolLabels, Gauge>,
    pool_idle: Family<PoolLabels, Gauge>,
    pool_in_use: Family<PoolLabels, Gauge>,
    outbox_depth: Gauge,
    outbox_oldest: SecondsGauge,
    outbox_dead: Gauge,
    webhook_depth: Gauge,
    webhook_oldest: SecondsGauge,
    webhook_dead: Gauge,
    overdue: Gauge,
    database_up: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl std::ops::Deref for Metrics {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut inner = Inner {
            requests: Family::default(),
            request_duration: Family::new_with_constructor(latency_histogram),
            pool_wait: Family::new_with_constructor(wait_histogram),
            mail_sent: Counter::default(),
            mail_retried: Counter::default(),
            mail_dead: Counter::default(),
            webhook_delivered: Counter::default(),
            webhook_retried: Counter::default(),
            webhook_dead: Counter::default(),
            job_runs: Family::default(),
            job_items: Family::default(),
            audit_append: latency_histogram(),
            audit_records: Counter::default(),
            login_failures: Family::default(),
            login_lockouts: Family::default(),
            rate_limited: Family::default(),
            state: StateGauges::default(),
            registry: Registry::with_prefix("maatje"),
        };
        inner.register();
        Metrics(Arc::new(inner))
    }

    /// The exposition: the state gauges read now, then every series.
    pub async fn render(
        &self,
        db: &Database,
        clock: &Clock,
        service_level: ServiceLevel,
    ) -> String {
        self.read_state(db, clock, service_level).await;
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
            .expect("writing to a String does not fail");
        text
    }

    async fn read_state(&self, db: &Database, clock: &Clock, service_level: ServiceLevel) {
        let s = &self.state;
        for pool in db.pool_states() {
            let labels = PoolLabels { pool: pool.name };
            s.pool_max.get_or_create(&labels).set(i64::from(pool.max));
            s.pool_open
                .get_or_create(&labels)
                .set(i64::from(pool.connections));
            s.pool_idle.get_or_create(&labels).set(i64::from(pool.idle));
            s.pool_in_use
                .get_or_create(&labels)
                .set(i64::from(pool.connections.saturating_sub(pool.idle)));
        }
        let now = clock.now_naive();
        let cutoff = service_level.cutoff(now);
        match db
            .run(move |conn| -> crate::domain::error::DomainResult<_> {
                Ok(crate::store::queues::read(conn, cutoff)?)
            })
            .await
        {
            Ok(q) => {
                let age = |oldest: Option<chrono::NaiveDateTime>| {
                    oldest.map_or(0.0, |at| {
                        (now - at).num_milliseconds().max(0) as f64 / 1000.0
                    })
                };
                s.outbox_depth.set(q.outbox_waiting);
                s.outbox_oldest.set(age(q.outbox_oldest));
                s.outbox_dead.set(q.outbox_dead);
                s.webhook_depth.set(q.webhooks_waiting);
                s.webhook_oldest.set(age(q.webhooks_oldest));
                s.webhook_dead.set(q.webhooks_dead);
                s.overdue.set(q.overdue_requests);
                s.database_up.set(1);
            }
            Err(error) => {
                tracing::warn!(error = %error, "metrics: cannot read the queues");
                s.database_up.set(0);
            }
        }
    }

    /// Counts a request answered with `status` after `elapsed`.
    pub fn observe_request(
        &self,
        route: Option<String>,
        method: &str,
        status: u16,
        elapsed: Duration,
    ) {
        let labels = RequestLabels {
            route: route.unwrap_or_else(|| UNMATCHED.to_owned()),
            method: method_label(method),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.request_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a run of a background job and what it handled (`None`: the run failed).
    pub fn job_run(&self, job: &'static str, items: Option<&[(&'static str, u64)]>) {
        let outcome = if items.is_some() { "ok" } else { "failed" };
        self.job_runs
            .get_or_create(&JobLabels { job, outcome })
            .inc();
        for &(kind, n) in items.unwrap_or_default() {
            self.job_items
                .get_or_create(&ItemLabels { job, kind })
                .inc_by(n);
        }
    }
}

impl Inner {
    fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "http_requests",
            "HTTP requests answered, by route pattern, method and status",
            self.requests.clone(),
        );
        r.register_with_unit(
            "http_request_duration",
            "Time from receiving a request to its answer, by route pattern, method and status",
            Unit::Seconds,
            self.request_duration.clone(),
        );
        r.register_with_unit(
            "db_pool_wait",
            "Time to check out a database connection (failed checkouts included)",
            Unit::Seconds,
            self.pool_wait.clone(),
        );
        r.register(
            "db_pool_max_connections",
            "Connections a database pool may open (database.pool_size; 1 for SQLite's writer)",
            self.state.pool_max.clone(),
        );
        r.register(
            "db_pool_connections",
            "Connections a database pool has open",
            self.state.pool_open.clone(),
        );
        r.register(
            "db_pool_idle_connections",
            "Open connections of a database pool not in use",
            self.state.pool_idle.clone(),
        );
        r.register(
            "db_pool_in_use_connections",
            "Connections of a database pool checked out",
            self.state.pool_in_use.clone(),
        );
        r.register(
            "database_up",
            "1 when the last scrape could read the queues from the database, else 0",
            self.state.database_up.clone(),
        );
        r.register(
            "outbox_queue_depth",
            "Mails waiting to be sent (pending or being sent)",
            self.state.outbox_depth.clone(),
        );
        r.register_with_unit(
            "outbox_oldest_age",
            "Age of the oldest mail waiting to be sent (0 when none waits)",
            Unit::Seconds,
            self.state.outbox_oldest.clone(),
        );
        r.register(
            "outbox_dead_messages",
            "Mails given up on (dead letters) still in the outbox",
            self.state.outbox_dead.clone(),
        );
        r.register(
            "outbox_sent",
            "Mails accepted by the transport",
            self.mail_sent.clone(),
        );
        r.register(
            "outbox_retried",
            "Failed mail attempts that will be tried again",
            self.mail_retried.clone(),
        );
        r.register(
            "outbox_dead",
            "Mails given up on (dead-lettered)",
            self.mail_dead.clone(),
        );
        r.register(
            "webhook_queue_depth",
            "Webhook deliveries waiting (pending or being sent)",
            self.state.webhook_depth.clone(),
        );
        r.register_with_unit(
            "webhook_oldest_age",
            "Age of the oldest webhook delivery waiting (0 when none waits)",
            Unit::Seconds,
            self.state.webhook_oldest.clone(),
        );
        r.register(
            "webhook_dead_deliveries",
            "Webhook deliveries given up on, still kept",
            self.state.webhook_dead.clone(),
        );
        r.register(
            "webhook_delivered",
            "Webhook deliveries the receiver accepted",
            self.webhook_delivered.clone(),
        );
        r.register(
            "webhook_retried",
            "Failed webhook attempts that will be tried again",
            self.webhook_retried.clone(),
        );
        r.register(
            "webhook_dead",
            "Webhook deliveries given up on",
            self.webhook_dead.clone(),
        );
        r.register(
            "job_runs",
            "Runs of a background job, by job and outcome",
            self.job_runs.clone(),
        );
        r.register(
            "job_items",
            "Items a background job handled, by job and kind",
            self.job_items.clone(),
        );
        r.register_with_unit(
            "audit_append_duration",
            "Time to commit one batch of audit records (the audit writer's group commit)",
            Unit::Seconds,
            self.audit_append.clone(),
        );
        r.register(
            "audit_records_appended",
            "Audit records appended by the audit writer",
            self.audit_records.clone(),
        );
        r.register(
            "login_failures",
            "Refused staff logins (wrong address or password, inactive or locked out)",
            self.login_failures.clone(),
        );
        r.register(
            "login_lockouts",
            "Source addresses locked out of a staff account after failed logins",
            self.login_lockouts.clone(),
        );
        r.register(
            "rate_limited",
            "Requests refused with 429 by a rate limit",
            self.rate_limited.clone(),
        );
        r.register(
            "requests_overdue",
            "Open buddy requests past the service level (workflow.overdue_after_days)",
            self.state.overdue.clone(),
        );
    }
}

/// The standard methods as themselves, anything else as `other` (a label must not take any
/// value a caller sends).
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// Counts every request with its route pattern, method, status and time; the outermost wrap of
/// the public app, so that refusals (429, 405, 401) count too.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let began = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().clone();
    // The pattern from the app's resource map (the request must not be cloned: routing needs it
    // as the only owner); an error of a wrap inside keeps it, the answer's request tells it
    // after routing.
    let pattern = metrics.as_ref().and_then(|_| req.match_pattern());
    let result = next.call(req).await;
    if let Some(metrics) = metrics {
        let (status, route) = match &result {
            Ok(res) => (res.status(), res.request().match_pattern().or(pattern)),
            Err(e) => (e.as_response_error().status_code(), pattern),
        };
        metrics.observe_request(route, method.as_str(), status.as_u16(), began.elapsed());
    }
    result
}

/// What the metrics listener needs to answer a scrape.
#[derive(Clone)]
pub struct Endpoint {
    pub db: Database,
    pub clock: Clock,
    pub service_level: ServiceLevel,
}

/// `GET /metrics` on the metrics listener.
pub async fn scrape(endpoint: web::Data<Endpoint>) -> HttpResponse {
    let text = endpoint
        .db
        .metrics()
        .render(&endpoint.db, &endpoint.clock, endpoint.service_level)
        .await;
    HttpResponse::Ok()
        .content_type(prometheus_client::encoding::prometheus_text::CONTENT_TYPE)
        .body(text)
}

/// The metrics listener's app: `GET /metrics`, and 404 for anything else.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(scrape));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_are_one_label() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("BREW"), "other");
    }

    #[test]
    fn an_unmatched_request_is_labelled_unmatched() {
        let metrics = Metrics::new();
        metrics.observe_request(None, "GET", 404, Duration::from_millis(3));
        metrics.observe_request(
            Some("/v1/requests/{id}".to_owned()),
            "BREW",
            405,
            Duration::from_millis(3),
        );
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &metrics.registry).unwrap();
        assert!(
            text.contains(
                "maatje_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "maatje_http_requests_total{route=\"/v1/requests/{id}\",method=\"other\",status=\"405\"} 1"
            ),
            "{text}"
        );
    }
}
