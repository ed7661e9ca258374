//! Logging through `tracing` to standard error (standard output is for what a command prints,
//! such as the id or API key of `maatje admin ...`): pretty for people or JSON for collectors,
//! filtered by config.
//! Handlers log ids and states, never names, contact details or free text of clients or buddies.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber. Call once, from the binary.
pub fn init(settings: &LogSettings) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&settings.level)?;
    let registry = tracing_subscriber::registry().with(filter);
    match settings.format {
        LogFormat::Pretty => registry
            .with(fmt::layer().with_writer(std::io::stderr).with_target(false))
            .try_init()?,
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .with_writer(std::io::stderr)
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init()?,
    }
    Ok(())
}
