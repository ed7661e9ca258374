//! The `maatje` command: `serve` (default), `migrate`, `openapi`.

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
    /// Print the OpenAPI document on standard output.
    Openapi,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            print!("{}", openapi_json());
            Ok(())
        }
        Command::Migrate => load(cli.config.as_deref()).and_then(|settings| {
            let db = Database::connect(&settings.database, settings.database_target())?;
            let applied = migrate(&db)?;
            println!("{} migration(s) applied to {}", applied.len(), db.target());
            Ok(())
        }),
        Command::Serve => load(cli.config.as_deref()).and_then(serve),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
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
