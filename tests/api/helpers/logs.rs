//! The tracing subscriber of the test process: the in-memory capture of [`capture_logs`], and
//! the servers' logs on standard error with `TEST_LOG` set.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// What [`capture_logs`] keeps: everything the service and actix log, down to debug level.
pub const CAPTURE_FILTER: &str = "maatje=debug,actix_web=debug,actix_http=debug,actix_server=debug";

/// The log lines captured since the first [`capture_logs`] of this process.
static CAPTURED: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// How many [`LogCapture`]s are alive; lines are kept only while there is one.
static CAPTURING: AtomicUsize = AtomicUsize::new(0);

struct CaptureWriter;

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if CAPTURING.load(Ordering::SeqCst) > 0 {
            CAPTURED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What the servers of this test process log while the capture lives, at the levels of
/// [`CAPTURE_FILTER`] whatever their `log.level`, as plain text.
///
/// Tests run in parallel and the subscriber is global, so the text holds the lines of every
/// server running meanwhile: look for values only your test uses.
pub struct LogCapture {
    start: usize,
}

impl LogCapture {
    /// Everything captured since this capture began.
    pub fn text(&self) -> String {
        let captured = CAPTURED.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&captured[self.start.min(captured.len())..]).into_owned()
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        CAPTURING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Starts capturing the logs of every server in this process; see [`LogCapture`].
pub fn capture_logs() -> LogCapture {
    init_test_log();
    let start = CAPTURED.lock().unwrap_or_else(|e| e.into_inner()).len();
    CAPTURING.fetch_add(1, Ordering::SeqCst);
    LogCapture { start }
}

/// Installs the process's subscriber once: the in-memory capture of [`capture_logs`], and with
/// `TEST_LOG` set, standard error at that level (`1` means `info`).
pub(super) fn init_test_log() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{fmt, EnvFilter, Layer};

    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        let capture = fmt::layer()
            .with_ansi(false)
            .with_writer(|| CaptureWriter)
            .with_filter(EnvFilter::new(CAPTURE_FILTER));
        let stderr = std::env::var("TEST_LOG").ok().map(|level| {
            let level = if level == "1" || level == "true" {
                "info".to_owned()
            } else {
                level
            };
            fmt::layer()
                .with_target(false)
                .with_writer(std::io::stderr)
                .with_filter(EnvFilter::new(level))
        });
        let _ = tracing_subscriber::registry()
            .with(capture)
            .with(stderr)
            .try_init();
    });
}
