//! Pages in a real browser: headless Chromium driven through chromedriver (WebDriver) with
//! `fantoccini`, axe-core run in the page, keyboard use, a 320 px wide window, screenshots.
//!
//! ```ignore
//! let app = spawn_app().await;
//! let Some(browser) = Browser::start().await else { return }; // skipped: not configured
//! browser.goto(&format!("{}/respond/{token}", app.address)).await;
//! browser.check_view("respond-proposal-nl").await; // screenshot, axe-core, 320 px wide
//! browser.tab_to("button.primary", 10).await; // by keyboard, with a visible focus
//! browser.press_key(Key::Enter).await;
//! browser.wait_for_text("je bent maatje").await;
//! ```
//!
//! # Switching them on
//!
//! - `MAATJE_TEST_CHROMEDRIVER`: the chromedriver to run (Debian's `chromium-driver`:
//!   `/usr/bin/chromedriver`);
//! - `MAATJE_TEST_AXE`: axe-core's `axe.min.js` (`.ci/run` installs the version pinned in
//!   `.ci/browser-tools/` under `target/browser-tools/`);
//! - `MAATJE_TEST_CHROMIUM`: the browser, `/usr/bin/chromium` unless set; its version must be
//!   chromedriver's;
//! - `MAATJE_TEST_SCREENSHOTS`: a directory for [`Browser::screenshot`]'s PNG files; none are
//!   written unless it is set.
//!
//! Without the first two, [`Browser::start`] says on standard error that the test is skipped and
//! returns `None`, so that `cargo test` passes on a machine without Chromium; unless `CI` is
//! set, then it panics: CI never skips the browser tests silently. Setting only one of the two,
//! or a path that is not there, panics everywhere.
//!
//! # The browser
//!
//! One chromedriver per test process, started on first use on a free port of 127.0.0.1 and ended
//! when the process ends (a watchdog shell ends it and the Chromiums it started when this
//! process's end of a pipe closes, even if the process is killed). Each [`Browser`] is a WebDriver session of its own, so a
//! Chromium of its own with a fresh profile; at most [`MAX_SESSIONS`] run at once, the others
//! wait. Chromium runs headless, with its background networking off and every host name but
//! 127.0.0.1 unresolvable: the test server on loopback is all it reaches. The session ends when
//! the `Browser` is dropped, also when the test panics.
//!
//! Scripts run through WebDriver ([`Browser::axe`], [`Browser::script`]) are not subject to the
//! page's Content-Security-Policy, so the pages need not allow them.
//!
//! # Conventions
//!
//! Browser test modules are named `browser_*`: `cargo test --test api browser_` runs them all,
//! and the PostgreSQL step of `.ci/run` skips each of them (`--skip browser_<name>::`; they test
//! pages, not the database). Every view a test reaches gets a [`Browser::check_view`] under a name unique in the
//! suite (`<page>-<state>-<language>`), which is also the screenshot's file name. Every helper
//! panics with the current URL and the start of the page's text when it fails.

use std::fmt::Display;
use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::{Element, ElementRef};
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::sync::{Semaphore, SemaphorePermit};

pub use fantoccini::key::Key;

/// How many browser sessions (Chromium processes) a test process runs at once.
pub const MAX_SESSIONS: usize = 2;
/// The window of a new session, in CSS pixels.
pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 900;
/// The width [`Browser::narrow`] checks: WCAG 2.1's reflow criterion (1.4.10), 320 CSS pixels.
pub const NARROW_WIDTH: u32 = 320;
/// How long the waiting helpers wait.
pub const WAIT: Duration = Duration::from_secs(10);

/// The WCAG 2.1 A and AA rules of axe-core.
const AXE_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
/// The impacts that fail [`Browser::axe`]; `moderate` and `minor` ones are only reported.
const AXE_FAILING: [&str; 2] = ["serious", "critical"];

const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    // Nothing but loopback: a page that tried to load anything from elsewhere fails to.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];

static SESSIONS: Semaphore = Semaphore::const_new(MAX_SESSIONS);

/// What the environment says (see the module's docs).
struct Setup {
    chromedriver: PathBuf,
    chromium: PathBuf,
    axe: PathBuf,
    screenshots: Option<PathBuf>,
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn setup() -> Option<&'static Setup> {
    static SETUP: OnceLock<Option<Setup>> = OnceLock::new();
    SETUP
        .get_or_init(|| {
            let chromedriver = env_path("MAATJE_TEST_CHROMEDRIVER");
            let axe = env_path("MAATJE_TEST_AXE");
            let (chromedriver, axe) = match (chromedriver, axe) {
                (None, None) => return None,
                (Some(chromedriver), Some(axe)) => (chromedriver, axe),
                _ => panic!(
                    "the browser tests need both MAATJE_TEST_CHROMEDRIVER and MAATJE_TEST_AXE \
                     (or neither, to skip them)"
                ),
            };
            let chromium =
                env_path("MAATJE_TEST_CHROMIUM").unwrap_or_else(|| "/usr/bin/chromium".into());
            for (name, path) in [
                ("MAATJE_TEST_CHROMEDRIVER", &chromedriver),
                ("MAATJE_TEST_AXE", &axe),
                (
                    "MAATJE_TEST_CHROMIUM (default /usr/bin/chromium)",
                    &chromium,
                ),
            ] {
                assert!(path.is_file(), "{name}: {} is not a file", path.display());
            }
            Some(Setup {
                chromedriver,
                chromium,
                axe,
                screenshots: env_path("MAATJE_TEST_SCREENSHOTS"),
            })
        })
        .as_ref()
}

/// Whether this runs in CI, where a browser test must not be skipped.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// axe-core's source, read once.
fn axe_source(setup: &Setup) -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        std::fs::read_to_string(&setup.axe)
            .unwrap_or_else(|e| panic!("MAATJE_TEST_AXE: reading {}: {e}", setup.axe.display()))
    })
}

/// The chromedriver of this test process.
struct Driver {
    port: u16,
    /// Its directory: its log, and the profiles of the sessions; removed when it ends.
    dir: PathBuf,
    /// Its log (standard output and error).
    log: PathBuf,
    /// The watchdog shell: chromedriver is ended when its standard input (this end of the pipe,
    /// never written to, held until the process exits) closes.
    _watchdog: Child,
}

/// Starts chromedriver (`$0`) on port `$1` in a process group of its own, which its Chromiums
/// join, logging into `$2/chromedriver.log`. When standard input closes (this process ended,
/// however), ends the whole group, so also the Chromiums of sessions never ended, and removes
/// `$2`. Ctrl-C and the like are for the test process: the watchdog waits for its end.
const WATCHDOG: &str = r#"dir="$2"
setsid sh -c 'echo $$ > "$2/group"; exec "$0" --port="$1"' "$0" "$1" "$dir" \
    > "$dir/chromedriver.log" 2>&1 < /dev/null &
trap '' INT TERM HUP
read -r _ignored
group=$(cat "$dir/group" 2> /dev/null)
if [ -n "$group" ]; then
    kill -TERM "-$group" 2> /dev/null
    sleep 1
    kill -KILL "-$group" 2> /dev/null
fi
rm -rf "$dir""#;

fn chromedriver(setup: &Setup) -> &'static Driver {
    static DRIVER: OnceLock<Result<Driver, String>> = OnceLock::new();
    match DRIVER.get_or_init(|| start_driver(&setup.chromedriver)) {
        Ok(driver) => driver,
        Err(e) => panic!("{e}"),
    }
}

fn start_driver(chromedriver: &Path) -> Result<Driver, String> {
    let mut failures = Vec::new();
    for _ in 0..3 {
        // A free port, released for chromedriver to bind; another process may take it meanwhile,
        // so a failed start is tried again on another one.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port for chromedriver: {e}"))?
            .port();
        let dir =
            std::env::temp_dir().join(format!("maatje-chromedriver-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let log = dir.join("chromedriver.log");
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg(chromedriver)
            .arg(port.to_string())
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting sh for {}: {e}", chromedriver.display()))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let ready = http(port, "GET", "/status", Duration::from_secs(2))
                .is_ok_and(|answer| answer.contains("\"ready\":true"));
            if ready {
                return Ok(Driver {
                    port,
                    dir,
                    log,
                    _watchdog: watchdog,
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        failures.push(format!("port {port}: {}", log_tail(&log)));
        drop(watchdog.stdin.take());
        let _ = watchdog.wait();
    }
    Err(format!(
        "{} did not answer on loopback: {}",
        chromedriver.display(),
        failures.join("; ")
    ))
}

/// The last lines of a log, for a failure message.
fn log_tail(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(20)..].join("\n");
            format!("{} says:\n{tail}", path.display())
        }
        Err(e) => format!("(no log at {}: {e})", path.display()),
    }
}

/// A blocking HTTP/1.1 request to chromedriver on loopback, for its status and for ending a
/// session from `Drop` (where no async runtime may be left to run fantoccini's own).
fn http(port: u16, method: &str, path: &str, timeout: Duration) -> std::io::Result<String> {
    let mut stream =
        TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    )?;
    // chromedriver keeps the connection open: read the head, then as much body as it announces.
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&answer);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
                .and_then(|(_, value)| value.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if answer.len() >= end + 4 + length {
                break;
            }
        }
    }
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// A WebDriver session: a Chromium of its own, for one test. See the module's docs.
pub struct Browser {
    client: Client,
    session: String,
    driver: &'static Driver,
    setup: &'static Setup,
    // Dropped after `drop` has ended the session (and so Chromium): first the profile, then the
    // permit that lets the next session start.
    _profile: TempDir,
    _permit: SemaphorePermit<'static>,
}

impl Browser {
    /// A new session with Dutch as the browser's language (`Accept-Language: nl`), or `None`
    /// (after saying so) when the browser tests are not configured; see the module's docs.
    pub async fn start() -> Option<Browser> {
        Self::start_in("nl").await
    }

    /// As [`Browser::start`], with `language` as the browser's language (e.g. `"en"`).
    pub async fn start_in(language: &str) -> Option<Browser> {
        let Some(setup) = setup() else {
            let test = std::thread::current()
                .name()
                .unwrap_or("a browser test")
                .to_owned();
            if in_ci() {
                panic!(
                    "{test}: CI is set but the browser tests are not configured: set \
                     MAATJE_TEST_CHROMEDRIVER and MAATJE_TEST_AXE (see .ci/run)"
                );
            }
            eprintln!(
                "skipped {test}: set MAATJE_TEST_CHROMEDRIVER and MAATJE_TEST_AXE to run the \
                 browser tests (README, Tests and CI)"
            );
            return None;
        };
        let driver = tokio::task::spawn_blocking(move || chromedriver(setup))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        let permit = SESSIONS
            .acquire()
            .await
            .expect("the semaphore is never closed");
        // In chromedriver's directory, so that the watchdog removes it if this process cannot.
        let profile = tempfile::Builder::new()
            .prefix("profile-")
            .tempdir_in(&driver.dir)
            .expect("a temporary directory for Chromium's profile");
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| (*a).to_owned()).collect();
        args.push(format!("--window-size={WIDTH},{HEIGHT}"));
        args.push(format!("--lang={language}"));
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let capabilities = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": { "implicit": 0, "pageLoad": 30_000, "script": 30_000 },
            "goog:chromeOptions": {
                "binary": setup.chromium,
                "args": args,
                "prefs": { "intl.accept_languages": language },
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("an object")
        };
        let url = format!("http://127.0.0.1:{}", driver.port);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver at {url} started no Chromium ({}): {e}\n{}",
                    setup.chromium.display(),
                    log_tail(&driver.log)
                )
            });
        // The session is ended by `drop`, synchronously; fantoccini's own ending would need the
        // test's runtime, which may be gone by then.
        let session = client
            .session_id()
            .await
            .ok()
            .flatten()
            .expect("a new WebDriver session has an id");
        let browser = Browser {
            client,
            session,
            driver,
            setup,
            _profile: profile,
            _permit: permit,
        };
        browser
            .must("keeping the session", browser.client.persist())
            .await;
        browser
            .must(
                "sizing the window",
                browser.client.set_window_size(WIDTH, HEIGHT),
            )
            .await;
        Some(browser)
    }

    /// The WebDriver client, for what the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Where the browser is and the start of what the page says, for failure messages.
    pub async fn context(&self) -> String {
        let url = match self.client.current_url().await {
            Ok(url) => {
                let url = url.to_string();
                match url.char_indices().nth(200) {
                    Some((cut, _)) => format!("{}…", &url[..cut]),
                    None => url,
                }
            }
            Err(e) => format!("(no URL: {e})"),
        };
        let text = match self
            .client
            .execute(
                "return document.body ? document.body.innerText : '(no body)'",
                vec![],
            )
            .await
        {
            Ok(Value::String(text)) => text.split_whitespace().collect::<Vec<_>>().join(" "),
            Ok(other) => other.to_string(),
            Err(e) => format!("(no text: {e})"),
        };
        let snippet: String = text.chars().take(600).collect();
        let more = if snippet.len() < text.len() {
            "…"
        } else {
            ""
        };
        format!("at {url}; the page says: {snippet}{more}")
    }

    /// The value of a WebDriver command, or a panic saying what was being done and where.
    async fn must<T>(
        &self,
        what: impl Display,
        result: impl Future<Output = Result<T, CmdError>>,
    ) -> T {
        match result.await {
            Ok(value) => value,
            Err(e) => panic!("{what}: {e}\n{}", self.context().await),
        }
    }

    /// Panics with `message` and where the browser is.
    async fn fail(&self, message: impl Display) -> ! {
        panic!("{message}\n{}", self.context().await)
    }

    /// Opens `url` (absolute: `format!("{}{path}", app.address)`) and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.must(format!("opening {url}"), self.client.goto(url))
            .await;
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.must("reading the URL", self.client.current_url())
            .await
            .to_string()
    }

    /// The current URL's path and query, e.g. `/respond/abc?answer=accept`.
    pub async fn path(&self) -> String {
        let url = self
            .must("reading the URL", self.client.current_url())
            .await;
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The document's title.
    pub async fn title(&self) -> String {
        self.must("reading the title", self.client.title()).await
    }

    /// The page's text as it is shown (`document.body.innerText`).
    pub async fn text(&self) -> String {
        let text = self
            .script(
                "return document.body ? document.body.innerText : ''",
                vec![],
            )
            .await;
        text.as_str().unwrap_or_default().to_owned()
    }

    /// The text shown by the first element matching `css`.
    pub async fn text_of(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.must(format!("reading the text of {css}"), element.text())
            .await
    }

    /// Runs `script` (a function body: `return ...`; `arguments` holds `args`) in the page and
    /// returns its value; a promise it returns is awaited.
    pub async fn script(&self, script: &str, args: Vec<Value>) -> Value {
        let head: String = script.trim().chars().take(80).collect();
        self.must(
            format!("running the script {head:?}"),
            self.client.execute(script, args),
        )
        .await
    }

    /// The first element matching `css`, waiting up to [`WAIT`] for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        self.must(
            format!("finding {css} (waited {WAIT:?})"),
            self.client
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Css(css)),
        )
        .await
    }

    /// Every element matching `css` now (none is no failure).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.must(
            format!("finding all of {css}"),
            self.client.find_all(Locator::Css(css)),
        )
        .await
    }

    /// Whether an element matches `css` now.
    pub async fn exists(&self, css: &str) -> bool {
        !self.find_all(css).await.is_empty()
    }

    /// Clicks the first element matching `css`, as a mouse would (it must be visible and not
    /// covered); a navigation it starts is waited for.
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.must(format!("clicking {css}"), element.click()).await;
    }

    /// Empties the field matching `css` and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.fill_element(&element, css, text).await;
    }

    async fn fill_element(&self, element: &Element, name: &str, text: &str) {
        self.must(format!("emptying {name}"), element.clear()).await;
        self.must(format!("typing into {name}"), element.send_keys(text))
            .await;
    }

    /// The element an element reference from [`Browser::script`] stands for, if it is one.
    pub fn element_of(&self, value: &Value) -> Option<Element> {
        let id = value.get("element-6066-11e4-a52e-4f735466cecf")?.as_str()?;
        Some(Element::from_element_id(
            self.client.clone(),
            ElementRef::from(id.to_owned()),
        ))
    }

    /// The form field whose `<label>` (or `aria-label`) reads `label`, whitespace collapsed: a
    /// field found this way is labelled for assistive technology too.
    pub async fn field(&self, label: &str) -> Element {
        let found = self
            .script(
                r#"const [wanted] = arguments;
                const norm = s => (s || '').replace(/\s+/g, ' ').trim();
                for (const label of document.querySelectorAll('label')) {
                    if (norm(label.textContent) === wanted && label.control) return label.control;
                }
                for (const el of document.querySelectorAll('[aria-label]')) {
                    if (norm(el.getAttribute('aria-label')) === wanted) return el;
                }
                return null;"#,
                vec![json!(label)],
            )
            .await;
        match self.element_of(&found) {
            Some(element) => element,
            None => self.fail(format!("no field labelled {label:?}")).await,
        }
    }

    /// Empties the field labelled `label` (see [`Browser::field`]) and types `text` into it.
    pub async fn fill_field(&self, label: &str, text: &str) {
        let element = self.field(label).await;
        self.fill_element(&element, &format!("the field {label:?}"), text)
            .await;
    }

    /// The button (or link, or submit input) whose shown text is `name`, whitespace collapsed.
    pub async fn button(&self, name: &str) -> Element {
        let found = self
            .script(
                r#"const [wanted] = arguments;
                const norm = s => (s || '').replace(/\s+/g, ' ').trim();
                for (const el of document.querySelectorAll('button, a[href], input[type=submit], input[type=button]')) {
                    const text = el.tagName === 'INPUT' ? el.value : el.innerText;
                    if (norm(text) === wanted) return el;
                }
                return null;"#,
                vec![json!(name)],
            )
            .await;
        match self.element_of(&found) {
            Some(element) => element,
            None => self.fail(format!("no button or link {name:?}")).await,
        }
    }

    /// Clicks the button (or link) `name` (see [`Browser::button`]).
    pub async fn click_button(&self, name: &str) {
        let element = self.button(name).await;
        self.must(format!("clicking {name:?}"), element.click())
            .await;
    }

    /// Submits the form matching `css` by clicking its first submit button, as a person would.
    pub async fn submit(&self, form_css: &str) {
        let form = self.find(form_css).await;
        let button = self
            .must(
                format!("finding the submit button of {form_css}"),
                form.find(Locator::Css(
                    "button:not([type]), button[type=submit], input[type=submit]",
                )),
            )
            .await;
        self.must(format!("submitting {form_css}"), button.click())
            .await;
    }

    /// Presses and releases `key` where the focus is (e.g. [`Key::Tab`], [`Key::Enter`]).
    pub async fn press_key(&self, key: Key) {
        let value = char::from(key);
        let keys = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value })
            .then(KeyAction::Up { value });
        self.must(
            format!("pressing {key:?}"),
            self.client.perform_actions(keys),
        )
        .await;
    }

    /// Types `text` where the focus is, key by key.
    pub async fn type_text(&self, text: &str) {
        let mut keys = KeyActions::new("keyboard".to_owned());
        for value in text.chars() {
            keys = keys
                .then(KeyAction::Down { value })
                .then(KeyAction::Up { value });
        }
        self.must(
            format!("typing {text:?}"),
            self.client.perform_actions(keys),
        )
        .await;
    }

    /// The focused element, described as `tag#id.class "text"`, or `None` when nothing (the
    /// body) has the focus.
    pub async fn focused(&self) -> Option<String> {
        let value = self
            .script(
                &format!("{DESCRIBE}\nconst el = document.activeElement;\nreturn el && el !== document.body ? describe(el) : null;"),
                vec![],
            )
            .await;
        value.as_str().map(str::to_owned)
    }

    /// Presses Tab until the focus is on an element matching `css`, at most `max_tabs` times,
    /// and checks that the focus can be seen there (`:focus-visible` with an outline or a
    /// shadow). Returns what the focus went through on the way, the last one matching `css`.
    pub async fn tab_to(&self, css: &str, max_tabs: usize) -> Vec<String> {
        let mut path = Vec::new();
        for _ in 0..max_tabs {
            self.press_key(Key::Tab).await;
            let focus = self
                .script(
                    &format!(
                        "{DESCRIBE}
                        const el = document.activeElement;
                        if (!el || el === document.body) return null;
                        const s = getComputedStyle(el);
                        const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
                        return {{
                            name: describe(el),
                            matches: el.matches(arguments[0]),
                            visible: el.matches(':focus-visible') && (outline || s.boxShadow !== 'none'),
                        }};"
                    ),
                    vec![json!(css)],
                )
                .await;
            let name = focus["name"].as_str().unwrap_or("(nothing)").to_owned();
            path.push(name.clone());
            if focus["matches"] == true {
                if focus["visible"] != true {
                    self.fail(format!(
                        "the keyboard focus on {name} cannot be seen (no :focus-visible outline \
                         or shadow)"
                    ))
                    .await;
                }
                return path;
            }
        }
        self.fail(format!(
            "{css} got no keyboard focus in {max_tabs} presses of Tab; the focus went: {}",
            path.join(" → ")
        ))
        .await
    }

    /// Waits up to [`WAIT`] until the page's shown text contains `text`.
    pub async fn wait_for_text(&self, text: &str) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            // A navigation in progress can fail a read; the next try sees the new page.
            let shown = self
                .client
                .execute(
                    "return document.body ? document.body.innerText : ''",
                    vec![],
                )
                .await;
            if matches!(&shown, Ok(Value::String(shown)) if shown.contains(text)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.fail(format!("the page did not show {text:?} within {WAIT:?}"))
            .await
    }

    /// Checks the page with axe-core against WCAG 2.1 A and AA: it fails on any violation of
    /// impact `serious` or `critical`, naming every violation with the elements concerned;
    /// `moderate` and `minor` ones are printed only. `label` names the view in the messages.
    pub async fn axe(&self, label: &str) {
        let loaded = self.script("return typeof window.axe", vec![]).await;
        if loaded != "object" {
            let source = axe_source(self.setup);
            self.must(
                format!("{label}: loading axe-core"),
                self.client.execute(source, vec![]),
            )
            .await;
        }
        let results = self
            .script(
                r#"const [tags] = arguments;
                return axe.run(document, {
                    runOnly: { type: 'tag', values: tags },
                    resultTypes: ['violations'],
                }).then(r => ({
                    passes: r.passes.length,
                    incomplete: r.incomplete.map(v => v.id),
                    violations: r.violations.map(v => ({
                        id: v.id,
                        impact: v.impact,
                        help: v.help,
                        url: v.helpUrl,
                        nodes: v.nodes.map(n => ({
                            target: n.target.join(' '),
                            html: n.html,
                            summary: n.failureSummary,
                        })),
                    })),
                }));"#,
                vec![json!(AXE_TAGS)],
            )
            .await;
        let violations = results["violations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let report: Vec<String> = violations.iter().map(describe_violation).collect();
        let failing = violations
            .iter()
            .filter(|v| AXE_FAILING.contains(&v["impact"].as_str().unwrap_or("")))
            .count();
        if failing > 0 {
            self.fail(format!(
                "{label}: axe-core found {failing} serious or critical WCAG 2.1 AA violation(s):\n{}",
                report.join("\n")
            ))
            .await;
        }
        assert!(
            results["passes"].as_u64().unwrap_or(0) > 0,
            "{label}: axe-core passed no rule at all: {results}"
        );
        if !report.is_empty() {
            eprintln!("{label}: axe-core, not failing:\n{}", report.join("\n"));
        }
    }

    /// Checks that the page reads at [`NARROW_WIDTH`] CSS pixels wide without scrolling
    /// sideways (`document.documentElement.scrollWidth` within the width the page is shown in,
    /// `window.innerWidth` less a scroll bar; Chromium runs with `--hide-scrollbars`, as a
    /// phone's scroll bars take no room either), naming the elements that stick out if not;
    /// takes a screenshot `<label>-320px` there, and restores the window.
    pub async fn narrow(&self, label: &str) {
        self.must(
            format!("{label}: narrowing the window"),
            self.client.set_window_size(NARROW_WIDTH, HEIGHT),
        )
        .await;
        let measured = self
            .script(
                &format!(
                    "{DESCRIBE}
                    const inner = window.innerWidth;
                    const client = document.documentElement.clientWidth;
                    const wide = [...document.body.querySelectorAll('*')]
                        .filter(el => el.getBoundingClientRect().right > client + 0.5)
                        .slice(0, 10)
                        .map(el => describe(el) + ' to ' + Math.round(el.getBoundingClientRect().right) + 'px');
                    return {{ inner, client, scroll: document.documentElement.scrollWidth, wide }};"
                ),
                vec![],
            )
            .await;
        self.screenshot(&format!("{label}-{NARROW_WIDTH}px")).await;
        self.must(
            format!("{label}: restoring the window"),
            self.client.set_window_size(WIDTH, HEIGHT),
        )
        .await;
        let inner = measured["inner"].as_u64().unwrap_or(u64::MAX);
        let client = measured["client"].as_u64().unwrap_or(0);
        let scroll = measured["scroll"].as_u64().unwrap_or(u64::MAX);
        if inner > u64::from(NARROW_WIDTH) {
            self.fail(format!(
                "{label}: the window did not narrow to {NARROW_WIDTH}px (it is {inner}px wide)"
            ))
            .await;
        }
        if scroll > client {
            self.fail(format!(
                "{label}: at {client}px wide the page scrolls sideways ({scroll}px wide); \
                 sticking out: {}",
                measured["wide"]
            ))
            .await;
        }
    }

    /// Saves the whole page, at the window's width, as `<MAATJE_TEST_SCREENSHOTS>/<name>.png`
    /// (name reduced to letters, digits, `.`, `_` and `-`); does nothing when that variable is
    /// not set.
    pub async fn screenshot(&self, name: &str) {
        let Some(dir) = &self.setup.screenshots else {
            return;
        };
        // The whole page, not only the window: the window grows to the page's height (up to
        // 5,000 px) for the picture, and shrinks back.
        let (width, height) = self
            .must("reading the window size", self.client.get_window_size())
            .await;
        let sizes = self
            .script(
                "return [window.innerHeight, document.documentElement.scrollHeight]",
                vec![],
            )
            .await;
        let inner = sizes[0].as_u64().unwrap_or(height);
        let page = sizes[1].as_u64().unwrap_or(inner);
        let taller = page > inner;
        if taller {
            let full = (height - inner.min(height) + page).min(5_000);
            self.must(
                "growing the window to the page",
                self.client.set_window_size(width as u32, full as u32),
            )
            .await;
        }
        let png = self
            .must(
                format!("taking the screenshot {name}"),
                self.client.screenshot(),
            )
            .await;
        if taller {
            self.must(
                "restoring the window",
                self.client.set_window_size(width as u32, height as u32),
            )
            .await;
        }
        let file: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let path = dir.join(format!("{file}.png"));
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&path, png))
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    /// The checks every view gets: a screenshot `label`, [`Browser::axe`] and
    /// [`Browser::narrow`] (with its screenshot `<label>-320px`).
    pub async fn check_view(&self, label: &str) {
        self.screenshot(label).await;
        self.axe(label).await;
        self.narrow(label).await;
    }
}

impl Drop for Browser {
    /// Ends the session (chromedriver quits its Chromium) before the profile is removed and the
    /// next session may start.
    fn drop(&mut self) {
        let session = &self.session;
        let ended = http(
            self.driver.port,
            "DELETE",
            &format!("/session/{session}"),
            Duration::from_secs(30),
        );
        if let Err(e) = ended {
            eprintln!("ending browser session {session}: {e}");
        }
    }
}

/// A JavaScript function naming an element for messages: `tag#id.class "text"`.
const DESCRIBE: &str = r#"const describe = el => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += '#' + el.id;
    if (typeof el.className === 'string' && el.className.trim()) name += '.' + el.className.trim().split(/\s+/).join('.');
    const text = (el.innerText || el.value || '').replace(/\s+/g, ' ').trim().slice(0, 40);
    return text ? name + ' "' + text + '"' : name;
};"#;

fn describe_violation(v: &Value) -> String {
    let nodes: Vec<String> = v["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| {
            format!(
                "    - {} {}\n      {}",
                n["target"].as_str().unwrap_or("?"),
                n["html"].as_str().unwrap_or(""),
                n["summary"]
                    .as_str()
                    .unwrap_or("")
                    .replace('\n', "\n      ")
            )
        })
        .collect();
    format!(
        "  [{}] {}: {} ({})\n{}",
        v["impact"].as_str().unwrap_or("?"),
        v["id"].as_str().unwrap_or("?"),
        v["help"].as_str().unwrap_or(""),
        v["url"].as_str().unwrap_or(""),
        nodes.join("\n")
    )
}
