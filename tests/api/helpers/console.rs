//! Driving the staff console over HTTP as a browser would: a cookie jar of its own (the
//! session and language cookies), forms posted URL-encoded with the page's CSRF token, and
//! redirects not followed, so a test sees each `303`. Every answer is checked: a console page
//! is `text/html` with the console's Content-Security-Policy and `Cache-Control: no-store`.
//!
//! ```ignore
//! let app = spawn_app().await;
//! let console = app.console(StaffRole::Coordinator).await;
//! let page = console.get("/console").await;
//! assert_eq!(page.status, 200);
//! let done = console.post("/console/buddies/x/pause", &[("reason", "holiday")]).await;
//! assert_eq!(done.status, 303);
//! ```
//!
//! For the browser itself (axe-core, keyboard, 320 px), see the browser tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use maatje::auth::StaffRole;

use super::{TestApp, STAFF_PASSWORD};

/// What a console request got back.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Where a `303` goes.
    pub fn location(&self) -> &str {
        self.header("location")
            .unwrap_or_else(|| panic!("no Location in a {} answer: {}", self.status, self.text))
    }

    /// The value of the first `<input name="{name}" ... value="...">` (HTML-escaped as sent).
    pub fn input_value(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\"");
        let at = self.text.find(&marker)?;
        let tag_start = self.text[..at].rfind('<')?;
        let tag_end = at + self.text[at..].find('>')?;
        let tag = &self.text[tag_start..tag_end];
        let value = tag.split("value=\"").nth(1)?;
        Some(unescape(value.split('"').next()?))
    }

    /// The CSRF token of the page's forms.
    pub fn csrf(&self) -> String {
        self.input_value("_csrf")
            .unwrap_or_else(|| panic!("the page has no form with a CSRF token: {}", self.text))
    }

    /// The error shown next to field `name` (`<p class="error" id="e-{name}">`), if any.
    pub fn field_error(&self, name: &str) -> Option<String> {
        let marker = format!("id=\"e-{name}\">");
        let at = self.text.find(&marker)? + marker.len();
        let rest = &self.text[at..];
        let text = rest.split("</p>").next()?;
        // Without the "Error:" that only screen readers hear.
        let text = strip_tags(text);
        let text = text.trim();
        let text = text
            .strip_prefix("Fout:")
            .or_else(|| text.strip_prefix("Error:"))
            .unwrap_or(text);
        Some(text.trim().to_owned())
    }

    /// The page's text without tags, whitespace collapsed (for `contains` checks).
    pub fn plain(&self) -> String {
        strip_tags(&self.text)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Panics unless the page's plain text contains `needle`.
    #[track_caller]
    pub fn assert_shows(&self, needle: &str) {
        assert!(
            self.plain().contains(needle),
            "the page ({}) does not show `{needle}`:\n{}",
            self.status,
            self.plain()
        );
    }
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(&out)
}

/// The text an HTML-escaped attribute or text stands for.
pub fn unescape(text: &str) -> String {
    text.replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A browser-like client of the console, with its own cookies.
pub struct Console<'a> {
    pub app: &'a TestApp,
    client: reqwest::Client,
    cookies: Mutex<BTreeMap<String, String>>,
    /// The CSRF token of the session (the same on every page of it).
    pub csrf: Mutex<String>,
}

impl TestApp {
    /// Signs in to the console through its login form as a new member of staff of `role`.
    pub async fn console(&self, role: StaffRole) -> Console<'_> {
        let email = format!("console-{}@example.org", uuid::Uuid::now_v7().simple());
        self.create_staff(role, &email).await;
        let console = self.console_anonymous();
        console.log_in(&email, STAFF_PASSWORD).await;
        console
    }

    /// A console client that has not signed in.
    pub fn console_anonymous(&self) -> Console<'_> {
        Console {
            app: self,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Mutex::new(BTreeMap::new()),
            csrf: Mutex::new(String::new()),
        }
    }
}

impl Console<'_> {
    /// Logs in through the form; panics unless it succeeds.
    pub async fn log_in(&self, email: &str, password: &str) {
        let form = self.get("/console/login").await;
        assert_eq!(form.status, 200, "{}", form.text);
        let token = form.csrf();
        let done = self
            .post_raw(
                "/console/login",
                &[
                    ("_csrf", token.as_str()),
                    ("email", email),
                    ("password", password),
                    ("next", "/console"),
                ],
            )
            .await;
        assert_eq!(done.status, 303, "login failed: {}", done.plain());
        assert_eq!(done.location(), "/console");
        let home = self.get("/console").await;
        assert_eq!(home.status, 200, "{}", home.plain());
        *self.csrf.lock().unwrap() = home.csrf();
    }

    /// The session cookie's value, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .unwrap()
            .insert(name.to_owned(), value.to_owned());
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Page {
        let mut request = request;
        let cookies = self.cookie_header();
        if !cookies.is_empty() {
            request = request.header("cookie", cookies);
        }
        let response = request.send().await.expect("the console answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for value in headers.get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let removed = text.contains("Max-Age=0");
            let mut jar = self.cookies.lock().unwrap();
            if removed {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
        let text = response.text().await.unwrap_or_default();
        let page = Page {
            status,
            headers,
            text,
        };
        check_page(&page);
        page
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.client.get(format!("{}{path}", self.app.address)))
            .await
    }

    /// Posts a form with the session's CSRF token added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf.lock().unwrap().clone();
        let mut all: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts a form exactly as given (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.send(
            self.client
                .post(format!("{}{path}", self.app.address))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await
    }
}

/// What every console answer must be: a page (or a redirect) with the console's headers.
fn check_page(page: &Page) {
    if page.status == 303 {
        assert!(page.header("location").is_some(), "a 303 without Location");
        return;
    }
    let content_type = page.header("content-type").unwrap_or("");
    let download = page
        .header("content-disposition")
        .is_some_and(|d| d.starts_with("attachment"));
    assert!(
        download
            || content_type.starts_with("text/html")
            || content_type.starts_with("text/css")
            || content_type.starts_with("text/csv")
            || content_type.starts_with("image/svg+xml"),
        "a console answer ({}) of type `{content_type}`: {}",
        page.status,
        page.text
    );
    assert_eq!(
        page.header("content-security-policy"),
        Some(maatje::console::CSP),
        "every console answer carries the console's policy"
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));
    if content_type.starts_with("text/html") {
        assert!(
            page.text.starts_with("<!doctype html>") && page.text.contains("<html lang=\""),
            "a console page is a whole HTML document with its language: {}",
            page.text
        );
    }
}
