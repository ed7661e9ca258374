//! Logging through `tracing` to standard error (standard output is for what a command prints,
//! such as the id or API key of `maatje admin ...`): pretty for people or JSON for collectors,
//! filtered by config.
//! Handlers log ids and states, never names, contact details or free text of clients or buddies.

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber. Call once, from the binary.
///
/// The filter is `RUST_LOG` when that is set (the convention of every `tracing` program), else
/// `log.level`. Pretty logs are coloured only when standard error is a terminal and `NO_COLOR`
/// is not set, so a log file or a journal gets no escape codes.
pub fn init(settings: &LogSettings) -> anyhow::Result<()> {
    let level = filter_directives(std::env::var("RUST_LOG").ok(), &settings.level);
    let filter = EnvFilter::try_new(&level).map_err(|e| {
        anyhow::anyhow!("invalid log filter `{level}` (RUST_LOG or log.level): {e}")
    })?;
    let registry = tracing_subscriber::registry().with(filter);
    match settings.format {
        LogFormat::Pretty => registry
            .with(
                fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(colour(
                        std::io::stderr().is_terminal(),
                        std::env::var_os("NO_COLOR"),
                    ))
                    .with_target(false),
            )
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

/// `RUST_LOG` wins when it is set and not blank; otherwise the configured level.
fn filter_directives(rust_log: Option<String>, configured: &str) -> String {
    rust_log
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| configured.to_owned())
}

/// Colours only on a terminal, and never when `NO_COLOR` is set to anything non-empty
/// (<https://no-color.org>).
fn colour(terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_wins_over_the_configured_level() {
        assert_eq!(
            filter_directives(Some("maatje=debug".into()), "info"),
            "maatje=debug"
        );
        assert_eq!(filter_directives(None, "info"), "info");
        assert_eq!(filter_directives(Some(" ".into()), "warn"), "warn");
    }

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(!colour(false, None));
        assert!(!colour(true, Some("1".into())));
        assert!(colour(true, Some("".into())));
    }
}
