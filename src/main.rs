//! The `maatje` command: `serve` (default), `migrate`, `openapi`, `admin ...`, `audit verify`,
//! `audit head`, `backup`, `healthcheck`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use maatje::config::Settings;
use maatje::db::Database;
use maatje::domain::clock::Clock;
use maatje::startup::{migrate, openapi_json, Application};

#[derive(Debug, Parser)]
#[command(
    name = "maatje",
    version,
    about = "Coordinates the volunteer buddy (maatje) programme"
)]
struct Cli {
    /// A TOML file with settings that override config/default.toml and config/local.toml
    /// (environment variables MAATJE__SECTION__KEY override it in turn).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the HTTP service (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document on standard output, as committed in openapi/openapi.json
    /// (with the built-in contact; the service serves the configured one).
    Openapi,
    /// Bootstrap and manage a fresh install from the command line.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write a consistent copy of the SQLite database to FILE while the service runs (SQLite's
    /// `VACUUM INTO`). FILE must not exist; it is created readable by its owner only. On
    /// PostgreSQL use `pg_dump` instead (see the README, "Backups and restore").
    Backup {
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Ask the running service on this machine whether it is ready (`GET /health/ready` on
    /// loopback at `server.port`, 5 s at most): exits 0 when it answers 200, 1 otherwise. For
    /// a container's health check, where there is no curl.
    Healthcheck,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the hash chain of the audit trail: recompute every record's hash and check every
    /// link and the head. Exits 0 when intact, 2 naming the first broken record, 1 when the
    /// database cannot be read. Changes nothing.
    Verify {
        /// A head printed earlier by `maatje audit head` (or `verify`), as SEQ:HASH, kept outside
        /// the database: the chain must still hold that record at that place, which proves that
        /// nothing up to it was cut off or rewritten.
        #[arg(long, value_name = "SEQ:HASH")]
        expect_head: Option<String>,
    },
    /// Print the current head of the chain as SEQ:HASH, to keep outside the database and check
    /// later with `maatje audit verify --expect-head`. Reads only the head; changes nothing.
    Head,
}

/// The exit status of `maatje audit verify` when the chain is broken.
const CHAIN_BROKEN: u8 = 2;

// The variants are the sub-commands `create-staff`, `create-organisation`, ...
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a staff account. The password is read from the first line of standard input
    /// (e.g. `printf '%s\n' "$PASSWORD" | maatje admin create-staff ...`).
    CreateStaff {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// `admin` or `coordinator`.
        #[arg(long, default_value = "admin")]
        role: String,
    },
    /// Register an organisation taking part in the programme; prints its id.
    CreateOrganisation {
        #[arg(long)]
        name: String,
    },
    /// Register a case-management system for an organisation; prints its API key once.
    CreateApiClient {
        /// The organisation's id.
        #[arg(long)]
        organisation: uuid::Uuid,
        #[arg(long)]
        name: String,
        /// Days until the key expires; without it the key lasts until revoked.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let done = |result: anyhow::Result<()>| result.map(|()| ExitCode::SUCCESS);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            print!("{}", openapi_json());
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => done(load(cli.config.as_deref()).and_then(|settings| {
            let db = Database::connect(&settings.database, settings.database_target())?;
            let applied = migrate(&db)?;
            println!("{} migration(s) applied to {}", applied.len(), db.target());
            Ok(())
        })),
        Command::Serve => done(load(cli.config.as_deref()).and_then(serve)),
        Command::Admin(command) => {
            done(load(cli.config.as_deref()).and_then(|settings| admin(settings, command)))
        }
        Command::Audit(AuditCommand::Verify { expect_head }) => {
            load(cli.config.as_deref()).and_then(|settings| verify(settings, expect_head))
        }
        Command::Audit(AuditCommand::Head) => done(load(cli.config.as_deref()).and_then(head)),
        Command::Backup { to } => {
            done(load(cli.config.as_deref()).and_then(|settings| backup(settings, &to)))
        }
        Command::Healthcheck => done(
            Settings::load(cli.config.as_deref())
                .map_err(anyhow::Error::from)
                .and_then(|settings| healthcheck(&settings)),
        ),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load(file: Option<&std::path::Path>) -> anyhow::Result<Settings> {
    let settings = Settings::load(file)?;
    maatje::telemetry::init(&settings.log)?;
    Ok(settings)
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(&settings, Clock::System)?;
        app.run_until_stopped().await?;
        Ok(())
    })
}

/// `maatje healthcheck`: one plain HTTP/1.1 request to the readiness probe on loopback (or on
/// `server.host` when the service listens on one address only).
fn healthcheck(settings: &Settings) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, ToSocketAddrs};
    use std::time::Duration;
    let timeout = Duration::from_secs(5);
    let host = match settings.server.host.parse::<IpAddr>() {
        Ok(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        Ok(ip) => ip,
        Err(_) => (settings.server.host.as_str(), settings.server.port)
            .to_socket_addrs()?
            .next()
            .map(|a| a.ip())
            .ok_or_else(|| anyhow::anyhow!("server.host does not resolve"))?,
    };
    let address = SocketAddr::new(host, settings.server.port);
    let mut stream = TcpStream::connect_timeout(&address, timeout)
        .map_err(|e| anyhow::anyhow!("cannot connect to {address}: {e}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET /health/ready HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    stream.take(64 * 1024).read_to_end(&mut answer)?;
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.lines().next().unwrap_or("");
    if status.split(' ').nth(1) == Some("200") {
        println!("ready ({address})");
        Ok(())
    } else {
        anyhow::bail!("not ready ({address}): {status}")
    }
}

/// `maatje audit verify`: reads the trail in one snapshot, never migrates or writes.
fn verify(settings: Settings, expect_head: Option<String>) -> anyhow::Result<ExitCode> {
    use maatje::audit::chain::{self, Anchor};
    let expected = expect_head
        .map(|text| text.parse::<Anchor>())
        .transpose()
        .map_err(|why| anyhow::anyhow!("--expect-head: {why}"))?;
    let db = Database::connect(&settings.database, settings.database_target())?;
    let mut conn = db.blocking().map_err(|e| anyhow::anyhow!("{e}"))?;
    let verdict = chain::verify(&mut conn, expected.clone()).map_err(|e| {
        anyhow::anyhow!("cannot read the audit trail (is the database migrated?): {e:?}")
    })?;
    match verdict {
        Ok(intact) => {
            println!("audit chain intact: {} records", intact.records);
            println!("head hash: {}", intact.head_hash);
            println!("head: {}", intact.head());
            if let Some(expected) = expected {
                println!("expected head {expected} is in the chain");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(broken) => {
            eprintln!("audit chain BROKEN at {broken}");
            Ok(ExitCode::from(CHAIN_BROKEN))
        }
    }
}

/// `maatje backup --to FILE`: see [`maatje::db::backup`].
fn backup(settings: Settings, to: &std::path::Path) -> anyhow::Result<()> {
    let target = settings.database_target();
    let written = maatje::db::backup::to_file(&settings.database, &target, to)?;
    println!(
        "backup of {target} written to {} ({written} bytes)",
        to.display()
    );
    Ok(())
}

/// `maatje audit head`: prints the head as SEQ:HASH; never migrates or writes.
fn head(settings: Settings) -> anyhow::Result<()> {
    let db = Database::connect(&settings.database, settings.database_target())?;
    let mut conn = db.blocking().map_err(|e| anyhow::anyhow!("{e}"))?;
    let head = maatje::audit::chain::head(&mut conn).map_err(|e| {
        anyhow::anyhow!("cannot read the audit head (is the database migrated?): {e:?}")
    })?;
    println!("{head}");
    Ok(())
}

fn admin(settings: Settings, command: AdminCommand) -> anyhow::Result<()> {
    use maatje::auth::{password, StaffRole};
    use maatje::ops::{self, change_on, Ctx};
    let db = Database::connect(&settings.database, settings.database_target())?;
    migrate(&db)?;
    let mut conn = db.blocking().map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = Clock::System.now_naive();
    // The same operations as the API's; none of these has a reaction, but they run as changes.
    let links = maatje::respond::links::Links::from_settings(&settings.mail)?;
    let reactions = ops::Reactions::new(
        &settings,
        maatje::mail::notices::Notices::new(&settings, links),
    );
    let failed = |e: maatje::domain::error::DomainError| {
        let e = maatje::error::ApiError::from(e);
        anyhow::anyhow!("{}", e.to_problem().detail.unwrap_or_default())
    };
    match command {
        AdminCommand::CreateStaff { email, name, role } => {
            let role: StaffRole = role
                .parse()
                .map_err(|_| anyhow::anyhow!("--role must be admin or coordinator"))?;
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let plain = line.trim_end_matches(['\r', '\n']).to_owned();
            let input = maatje::api::staff::NewStaff {
                email,
                name,
                role,
                password: plain,
            };
            let (email, name, role, plain) = maatje::api::staff::validate_new_staff(input)
                .map_err(|e| {
                    let problem = e.to_problem();
                    let fields: Vec<String> = problem
                        .errors
                        .iter()
                        .map(|f| format!("{}: {}", f.field, f.message))
                        .collect();
                    anyhow::anyhow!("{}", fields.join("; "))
                })?;
            let hash = password::hash(&plain);
            let row = change_on(&mut conn, &reactions, Ctx::system(now), |tx| {
                ops::admin::create_staff(tx, email, name, role, hash)
            })
            .map_err(failed)?;
            println!("created {} account {} ({})", row.role, row.id, row.email);
        }
        AdminCommand::CreateOrganisation { name } => {
            let row = change_on(&mut conn, &reactions, Ctx::system(now), |tx| {
                ops::admin::create_organisation(tx, name.trim().to_owned())
            })
            .map_err(failed)?;
            println!("{}", row.id);
        }
        AdminCommand::CreateApiClient {
            organisation,
            name,
            expires_in_days,
        } => {
            let expires_at = expires_in_days.map(|d| now + chrono::Duration::days(i64::from(d)));
            let (client, key) = change_on(&mut conn, &reactions, Ctx::system(now), |tx| {
                ops::admin::create_api_client(
                    tx,
                    &maatje::domain::ids::OrganisationId::from(organisation),
                    name.trim().to_owned(),
                    expires_at,
                )
            })
            .map_err(failed)?;
            eprintln!(
                "API client {} created; its key is shown only now:",
                client.id
            );
            println!("{}", key.token);
        }
    }
    Ok(())
}
