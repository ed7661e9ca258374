//! Building and running the HTTP server. [`Application::build`] binds first (port 0 picks a free
//! port, which the tests use) and exposes the port, then [`Application::run_until_stopped`]
//! serves until a shutdown signal.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::KeepAlive;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use utoipa::openapi::OpenApi;
use utoipa::OpenApi as _;
use utoipa_actix_web::{scope, AppExt};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::api;
use crate::api::routes::{Collected, Routes};
use crate::auth::policy::{Policy, PUBLIC};
use crate::config::Settings;
use crate::db::{run_migrations, Database};
use crate::domain::clock::Clock;
use crate::error::ApiError;
use crate::http::cors::Cors;
use crate::http::extract::{path_config, BodyLimit};
use crate::http::rate_limit::RateLimiter;
use crate::http::{
    api_version, bare_errors, cors, header_values, methods, rate_limit, request_id,
    security_headers,
};
use crate::jobs::retention::RetentionJob;
use crate::jobs::scheduler::Scheduler;
use crate::mail::notices::Notices;
use crate::mail::transport::Transport;
use crate::mail::worker::MailWorker;
use crate::openapi::{
    add_common_responses, apply_access_policy, apply_design_rules, set_contact, ApiDoc,
};
use crate::ops::{AppState, Reactions};
use crate::respond::links::Links;
use crate::webhooks::worker::WebhookWorker;
use crate::{audit, auth};

pub struct Application {
    port: u16,
    /// The metrics listener (`[metrics]`), when enabled: its port and its server.
    metrics: Option<(u16, Server)>,
    /// The server's own database handle (its pool), for tests that act on its connections.
    db: Database,
    server: Server,
    /// Background work that runs as long as the server does.
    retention: Option<RetentionJob>,
    mail: Option<MailWorker>,
    scheduler: Option<Scheduler>,
    /// Delivers webhook messages (when `webhooks.worker_enabled`).
    webhooks: Option<WebhookWorker>,
    /// Reads the credential counter for the cache of verified credentials.
    credentials: auth::cache::Poller,
}

impl Application {
    /// Connects to the database, migrates it if configured, binds the listener and prepares the
    /// server. Fails with a clear message when any of that cannot be done.
    pub fn build(settings: &Settings, clock: Clock) -> anyhow::Result<Self> {
        let target = settings.database_target();
        let db = Database::connect(&settings.database, target)?;
        if settings.database.migrate_on_start {
            migrate(&db)?;
        }
        let address = (settings.server.host.as_str(), settings.server.port);
        let listener = TcpListener::bind(address).with_context(|| {
            format!(
                "cannot listen on {}:{} (server.host, server.port)",
                address.0, address.1
            )
        })?;
        let port = listener.local_addr()?.port();
        let retention = settings.privacy.retention_enabled.then(|| RetentionJob {
            db: db.clone(),
            clock: clock.clone(),
            retention: settings.retention(),
            interval: std::time::Duration::from_secs(
                settings.privacy.retention_check_interval_seconds,
            ),
        });
        // Built once: the SMTP transport keeps its connection pool for the life of the process.
        let transport = std::sync::Arc::new(Transport::from_settings(&settings.mail)?);
        let links = Links::from_settings(&settings.mail)?;
        {
            let mut conn = db.blocking().map_err(|e| anyhow::anyhow!("{e}"))?;
            links.ensure_shared(&mut conn)?;
        }
        let console = web::Data::new(
            crate::console::Console::new(
                links.clone(),
                settings.mail.public_base_url.starts_with("https://"),
                settings.console.policy(),
            )
            .with_bureau(&settings.bureau),
        );
        let portal = web::Data::new(crate::portal::Portal {
            policy: settings.portal.policy(),
            secure: settings.mail.public_base_url.starts_with("https://"),
        });
        let notices = Notices::new(settings, links);
        let mail = settings.mail.worker_enabled.then(|| {
            MailWorker::new(
                db.clone(),
                clock.clone(),
                transport,
                notices.clone(),
                settings,
            )
        });
        let reactions = Reactions::new(settings, notices);
        let scheduler = settings.workflow.scheduler_enabled.then(|| {
            let mut scheduler = Scheduler::new(
                db.clone(),
                clock.clone(),
                reactions.clone(),
                &settings.workflow,
            );
            scheduler.idempotency_keep = settings.api.idempotency().keep;
            scheduler.event_keep = chrono::Duration::days(i64::from(settings.api.event_keep_days));
            scheduler.webhook_keep = chrono::Duration::days(i64::from(settings.webhooks.keep_days));
            scheduler
        });
        let webhooks = if settings.webhooks.worker_enabled {
            Some(WebhookWorker::new(
                db.clone(),
                clock.clone(),
                reactions.clone(),
                &settings.webhooks,
            )?)
        } else {
            None
        };
        let credentials = std::sync::Arc::new(auth::cache::CredentialCache::default());
        {
            // Trusted from the start, so that the first poll does not empty it for nothing.
            let began = std::time::Instant::now();
            let mut conn = db.blocking().map_err(|e| anyhow::anyhow!("{e}"))?;
            credentials.observe(crate::store::credential_version::read(&mut conn)?, began);
        }
        let poller = auth::cache::Poller {
            db: db.clone(),
            cache: credentials.clone(),
        };
        let state = web::Data::new(AppState {
            audit: audit::writer::AuditWriter::start(db.clone(), clock.clone()),
            db: db.clone(),
            clock: clock.clone(),
            login: settings.login_policy(),
            verifications: settings.verifications(),
            retention: settings.retention(),
            reactions: reactions.clone(),
            service_level: settings.service_level(),
            matching: settings.matching.clone(),
            candidates: reactions.candidates.clone(),
            credentials,
            idempotency: settings.api.idempotency(),
        });
        let limit = BodyLimit(settings.server.max_body_bytes);
        // One limiter for all workers, so a caller cannot multiply its budget by their number.
        let limiter = web::Data::new(
            RateLimiter::new(&settings.limits).counting_in(db.metrics().rate_limited.clone()),
        );
        let metrics = web::Data::new(db.metrics().clone());
        let contract = Contract::new(published_spec(&settings.api));
        let cors = web::Data::new(Cors::from_settings(&settings.api));
        let trusted = web::Data::new(settings.server.trusted_proxies());
        let mut server = HttpServer::new(move || {
            app(
                state.clone(),
                limit,
                limiter.clone(),
                contract.clone(),
                cors.clone(),
                console.clone(),
                portal.clone(),
            )
            .app_data(trusted.clone())
            .app_data(metrics.clone())
            // Outermost: every answer counts, the refusals of the wraps inside too.
            .wrap(from_fn(crate::metrics::middleware))
        })
        .keep_alive(keep_alive(settings.server.keep_alive_seconds))
        .client_request_timeout(Duration::from_millis(
            settings.server.client_request_timeout_ms,
        ))
        .client_disconnect_timeout(Duration::from_millis(
            settings.server.client_disconnect_timeout_ms,
        ))
        .max_connections(settings.server.max_connections)
        .listen(listener)?
        .shutdown_timeout(10);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        for warning in settings.warnings() {
            tracing::warn!("configuration: {warning}");
        }
        tracing::info!(
            port,
            database = %settings.database_target(),
            "maatje is listening on http://{}:{port}",
            settings.server.host
        );
        let metrics = match settings.metrics.enabled {
            true => Some(metrics_server(
                settings,
                crate::metrics::Endpoint {
                    db: db.clone(),
                    clock,
                    service_level: settings.service_level(),
                },
            )?),
            false => None,
        };
        Ok(Application {
            port,
            metrics,
            db,
            server: server.run(),
            retention,
            mail,
            scheduler,
            webhooks,
            credentials: poller,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics listener, when `metrics.enabled`.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// The database handle the server uses (the same pool, not a second one).
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Serves until the server stops; the background jobs run alongside, on the same runtime,
    /// and stop with it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let retention = async {
            match self.retention {
                Some(job) => job.run().await,
                None => std::future::pending().await,
            }
        };
        let mail = async {
            match self.mail {
                Some(worker) => worker.run().await,
                None => std::future::pending().await,
            }
        };
        let scheduler = async {
            match self.scheduler {
                Some(scheduler) => scheduler.run().await,
                None => std::future::pending().await,
            }
        };
        let webhooks = async {
            match self.webhooks {
                Some(worker) => worker.run().await,
                None => std::future::pending().await,
            }
        };
        let credentials = self.credentials.run();
        let metrics = async {
            match self.metrics {
                Some((_, server)) => server.await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            stopped = self.server => stopped,
            stopped = metrics => stopped,
            () = credentials => unreachable!("the credential poller runs until dropped"),
            () = scheduler => unreachable!("the scheduler runs until dropped"),
            () = retention => unreachable!("the retention job runs until dropped"),
            () = mail => unreachable!("the mail worker runs until dropped"),
            () = webhooks => unreachable!("the webhook worker runs until dropped"),
        }
    }
}

/// `server.keep_alive_seconds`: 0 turns keep-alive off.
fn keep_alive(seconds: u64) -> KeepAlive {
    match seconds {
        0 => KeepAlive::Disabled,
        s => KeepAlive::Timeout(Duration::from_secs(s)),
    }
}

/// The metrics listener: `GET /metrics` on `metrics.host:metrics.port`, one worker, apart from
/// the public server.
fn metrics_server(
    settings: &Settings,
    endpoint: crate::metrics::Endpoint,
) -> anyhow::Result<(u16, Server)> {
    let address = (settings.metrics.host.as_str(), settings.metrics.port);
    let listener = TcpListener::bind(address).with_context(|| {
        format!(
            "cannot listen on {}:{} (metrics.host, metrics.port)",
            address.0, address.1
        )
    })?;
    let port = listener.local_addr()?.port();
    let endpoint = web::Data::new(endpoint);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(endpoint.clone())
            .configure(crate::metrics::configure)
    })
    .listen(listener)?
    .workers(1)
    .shutdown_timeout(1)
    .run();
    tracing::info!(
        port,
        "metrics at http://{}:{port}/metrics",
        settings.metrics.host
    );
    Ok((port, server))
}

/// Applies pending migrations and logs which ones ran.
pub fn migrate(db: &Database) -> anyhow::Result<Vec<String>> {
    let mut conn = db.blocking().map_err(|e| anyhow::anyhow!("{e}"))?;
    let applied = run_migrations(&mut conn)?;
    for name in &applied {
        tracing::info!(migration = %name, "applied migration");
    }
    Ok(applied)
}

/// The OpenAPI document collected from the routes as they are registered ([`collect_routes`]),
/// then completed. One source for the server and the spec, so the spec cannot list an operation
/// the server lacks or miss one it has.
fn routes_spec() -> OpenApi {
    let (_, mut spec, policy) = collect_routes(ApiDoc::openapi());
    api::document_optional_bodies(&mut spec);
    crate::openapi::add_answer_examples(&mut spec);
    add_common_responses(&mut spec);
    apply_access_policy(&mut spec, &policy);
    crate::openapi::add_idempotency_keys(&mut spec);
    crate::openapi::add_webhooks(&mut spec);
    crate::openapi::add_conditional_requests(&mut spec, &policy);
    apply_design_rules(&mut spec);
    spec
}

/// The routes registered on an app whose OpenAPI document starts from `base`, with their rules.
/// The workers build their app this way from an empty document and drop what it collected: the
/// document is built once ([`routes_spec`]), for the contract the service serves.
fn collect_routes(
    base: OpenApi,
) -> (
    App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<impl MessageBody>,
            Error = actix_web::Error,
            InitError = (),
        >,
    >,
    OpenApi,
    Policy,
) {
    let collected = Collected::default();
    let v1 = collected.clone();
    let (app, spec) = App::new()
        .into_utoipa_app()
        .openapi(base)
        .service(
            scope("/v1")
                .configure(move |cfg| {
                    let mut routes = Routes::new(cfg, "/v1", v1);
                    // The probes too: the whole contract lies under its one server, `/v1`.
                    routes
                        .add(api::health::live, PUBLIC)
                        .add(api::health::ready, PUBLIC);
                    api::configure(&mut routes);
                })
                // The contract under the base path as well (ADR `/core/publish-openapi`); not
                // an operation of the contract itself.
                .route("/openapi.json", web::get().to(serve_contract)),
        )
        .split_for_parts();
    let mut policy = collected.take();
    policy.allow("GET", "/v1/openapi.json", PUBLIC);
    // The routes `app` adds outside the contract, each module naming its own.
    policy.allow("GET", "/openapi.json", PUBLIC);
    policy.allow("GET", "/docs", PUBLIC);
    policy.allow("GET", "/docs/{_:.*}", PUBLIC);
    api::health::root_rules(&mut policy);
    crate::respond::rules(&mut policy);
    crate::respond::check_in::rules(&mut policy);
    crate::feedback::rules(&mut policy);
    crate::console::rules(&mut policy);
    crate::portal::rules(&mut policy);
    (app, spec, policy)
}

/// The rules of every route the application serves.
pub fn policy() -> Policy {
    collect_routes(OpenApi::default()).2
}

/// The OpenAPI document as committed at `openapi/openapi.json` and printed by `maatje openapi`:
/// with the contact of the built-in configuration, whatever the local one says, so that
/// generating it gives the same file everywhere.
pub fn openapi_spec() -> OpenApi {
    published_spec(&Settings::built_in().api)
}

/// The OpenAPI document as served at `/openapi.json` and `/v1/openapi.json`: the committed one
/// with the configured contact.
pub fn published_spec(settings: &crate::config::ApiSettings) -> OpenApi {
    let mut spec = routes_spec();
    set_contact(&mut spec, settings);
    spec
}

/// The served contract, serialised once and shared by the workers (the document itself is not
/// kept: `/docs` reads it from `/openapi.json` like any client).
#[derive(Clone)]
struct Contract {
    json: web::Data<String>,
}

impl Contract {
    fn new(spec: OpenApi) -> Self {
        let json = spec.to_json().expect("the spec serialises");
        Contract {
            json: web::Data::new(json),
        }
    }
}

async fn serve_contract(json: web::Data<String>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(json.get_ref().clone())
}

/// The JSON text of the spec, exactly as committed (pretty, trailing newline).
pub fn openapi_json() -> String {
    let mut text = openapi_spec()
        .to_pretty_json()
        .expect("the spec serialises");
    text.push('\n');
    text
}

fn app(
    state: web::Data<AppState>,
    limit: BodyLimit,
    limiter: web::Data<RateLimiter>,
    contract: Contract,
    cors: web::Data<Cors>,
    console: web::Data<crate::console::Console>,
    portal: web::Data<crate::portal::Portal>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, _, policy) = collect_routes(OpenApi::default());
    app.app_data(web::Data::new(policy))
        .app_data(web::Data::new(state.audit.clone()))
        .app_data(state)
        .app_data(limit)
        .app_data(limiter)
        .app_data(path_config())
        .app_data(contract.json)
        .app_data(cors)
        .app_data(console)
        .app_data(portal)
        .route("/openapi.json", web::get().to(serve_contract))
        .service(SwaggerUi::new("/docs/{_:.*}").config(Config::new(["/openapi.json"])))
        .route(
            "/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header(("Location", "/docs/"))
                    .finish()
            }),
        )
        .configure(api::health::configure_root)
        .configure(crate::respond::configure)
        .configure(crate::respond::check_in::configure)
        .configure(crate::feedback::configure)
        .configure(crate::console::configure)
        .configure(crate::portal::configure)
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ApiError::NoRoute)
        }))
        // The last wrap is the outermost: the API version, security headers and CORS go on
        // every answer, the request id is known to the rate limiter's 429, which is already a
        // problem document, and the limiter turns a flood away before authentication touches
        // the database. Header values are checked, and methods decided (405, HEAD, OPTIONS),
        // before authentication, which sees a HEAD as the GET it stands for. The audit trail
        // sits inside authentication, which records its own refusals (see `audit`). The
        // conditional requests sit inside the audit trail, which records their 304 and 412, and
        // outside the idempotency keys, so that a replayed answer carries its body's `ETag`.
        .wrap(from_fn(crate::http::idempotency::middleware))
        .wrap(from_fn(crate::http::conditional::middleware))
        .wrap(from_fn(audit::middleware::middleware))
        .wrap(from_fn(auth::middleware::middleware))
        .wrap(from_fn(bare_errors::middleware))
        .wrap(from_fn(methods::middleware))
        .wrap(from_fn(header_values::middleware))
        .wrap(from_fn(rate_limit::middleware))
        .wrap(from_fn(request_id::middleware))
        .wrap(from_fn(cors::middleware))
        .wrap(from_fn(security_headers::middleware))
        .wrap(from_fn(api_version::middleware))
        // Outermost: after a 413 from any layer the connection is closed without reading the
        // rest of the body (see `http::oversized`).
        .wrap(from_fn(crate::http::oversized::middleware))
}
