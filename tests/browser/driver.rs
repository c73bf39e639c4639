//! The harness of the browser tests: a `keyflow serve --sandbox` on a temporary folder and store (the API
//! tests' [`Api`]), and a headless Chromium session on it through chromedriver ([`Session`]). Every step waits by polling
//! the page, never by sleeping a fixed time; a wait that runs out saves a screenshot and the page source
//! under `target/ui-screenshots/failed/` and says which condition it was.

use std::os::unix::fs::MetadataExt as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::webdriver::{Element, Session};
use crate::serve::api::client::Api;

/// How long a condition may take before the test fails (Chromium and the daemon share two busy cores).
const PATIENCE: Duration = Duration::from_secs(60);
/// How often a condition is asked again.
const POLL: Duration = Duration::from_millis(50);
/// The window: a laptop screen.
pub const WINDOW: (u32, u32) = (1280, 900);

/// chromedriver's URL from `KEYFLOW_CHROMEDRIVER_URL`, or `None` (with a note) when it is unset: the
/// browser tests are then skipped, except under `CI`, where a missing driver is a failure.
pub fn chromedriver() -> Option<String> {
    let Ok(url) = std::env::var("KEYFLOW_CHROMEDRIVER_URL") else {
        assert!(
            std::env::var("CI").is_err(),
            "KEYFLOW_CHROMEDRIVER_URL is not set under CI: run the tests with ./scripts/test, which starts chromedriver"
        );
        println!(
            "browser tests skipped: KEYFLOW_CHROMEDRIVER_URL is not set (./scripts/test starts chromedriver)"
        );
        return None;
    };
    Some(url)
}

/// Where the pages' screenshots go: `target/ui-screenshots/` (or under `CARGO_TARGET_DIR`).
pub fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::harness::root().join("target"));
    target.join("ui-screenshots")
}

/// The path of `http://HOST:PORT/PATH?QUERY#FRAGMENT`: `/PATH`.
fn path_of(url: &str) -> String {
    let rest = url.splitn(4, '/').nth(3).unwrap_or_default();
    let path = rest.split(['?', '#']).next().unwrap_or_default();
    format!("/{path}")
}

/// A daemon and a browser on it. Closing the browser's session when dropped, so that no Chromium outlives
/// its test.
pub struct Ui {
    pub api: Api,
    session: Session,
    /// The test's name, which names the files saved when it fails.
    test: &'static str,
    _profile: tempfile::TempDir,
}

impl Ui {
    /// `keyflow serve --sandbox` on `flows` (file name, text; with `token`, given by `--token-file`), and a
    /// new Chromium session; `None` when the browser tests are skipped.
    pub fn start(test: &'static str, flows: &[(&str, &str)], token: Option<&str>) -> Option<Ui> {
        let driver = chromedriver()?;
        // What an earlier failure of this test saved is not this run's.
        for stale in ["png", "html"] {
            let _ = std::fs::remove_file(screenshots().join(format!("failed/{test}.{stale}")));
        }
        let api = Api::start_with(flows, token, &["--sandbox"]);
        let profile = tempfile::tempdir().expect("a profile folder");
        let mut args = vec![
            "--headless=new".to_string(),
            format!("--window-size={},{}", WINDOW.0, WINDOW.1),
            format!("--user-data-dir={}", profile.path().display()),
            "--no-first-run".to_string(),
            "--lang=en-US".to_string(),
        ];
        // Chromium's own sandbox cannot start as root (as in a container); the browser opens only the
        // daemon of the test.
        if std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0) {
            args.push("--no-sandbox".to_string());
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "args": args },
        });
        let session = Session::open(&driver, capabilities).unwrap_or_else(|e| {
            panic!("no Chromium session from chromedriver at {driver}: {e} (scripts/chromium start runs one)")
        });
        Some(Ui {
            api,
            session,
            test,
            _profile: profile,
        })
    }

    /// Opens the daemon's `path` (`/ui/runs`).
    pub fn open(&self, path: &str) {
        let url = format!("{}{path}", self.api.base());
        if let Err(e) = self.session.goto(&url) {
            self.fail(&format!("opening {url}: {e}"));
        }
    }

    /// The path of the page shown (`/ui/runs/ID`).
    pub fn path(&self) -> String {
        match self.session.url() {
            Ok(url) => path_of(&url),
            Err(e) => self.fail(&format!("reading the page's URL: {e}")),
        }
    }

    /// Runs `script` (a function body: `return …;`, with `arguments`) in the page; its value.
    pub fn js(&self, script: &str, args: &[Value]) -> Value {
        match self.session.execute(script, args) {
            Ok(value) => value,
            Err(e) => self.fail(&format!("running `{script}`: {e}")),
        }
    }

    /// Asks `ready` every 50 ms until it gives a value; after [`PATIENCE`] the test fails, saying `what`.
    /// An error counts as "not yet": the page may be between two documents when asked.
    pub fn poll<T>(
        &self,
        what: &str,
        mut ready: impl FnMut(&Session) -> Result<Option<T>, String>,
    ) -> T {
        let start = Instant::now();
        let mut error = None;
        loop {
            match ready(&self.session) {
                Ok(Some(value)) => return value,
                Ok(None) => {}
                Err(e) => error = Some(e),
            }
            if start.elapsed() > PATIENCE {
                let error = error.map_or_else(String::new, |e| format!(" (last error: {e})"));
                self.fail(&format!("waited {PATIENCE:?} for {what}{error}"));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the JavaScript expression `condition` is true in the page.
    pub fn wait_until(&self, what: &str, condition: &str) {
        let script = format!("return !!({condition});");
        self.poll(&format!("{what} (`{condition}`)"), |session| {
            Ok((session.execute(&script, &[])? == json!(true)).then_some(()))
        });
    }

    /// Waits until an element matches the CSS selector `css`.
    pub fn wait_for(&self, css: &str) {
        self.poll(&format!("an element matching `{css}`"), |session| {
            let found = session.execute(
                "return document.querySelector(arguments[0]) !== null;",
                &[json!(css)],
            )?;
            Ok((found == json!(true)).then_some(()))
        });
    }

    /// Waits until the page shown is at a path that `matches` and has loaded; the path.
    pub fn wait_for_path(&self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        self.poll(what, |session| {
            let path = path_of(&session.url()?);
            let loaded = session.execute(
                "return document.readyState === 'complete' && document.querySelector('main') !== null;",
                &[],
            )?;
            Ok((matches(&path) && loaded == json!(true)).then_some(path))
        })
    }

    /// How many elements match `css`.
    pub fn count(&self, css: &str) -> usize {
        let count = self.js(
            "return document.querySelectorAll(arguments[0]).length;",
            &[json!(css)],
        );
        count
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
    }

    /// The text of the first element matching `css` (`textContent`, so a closed `<details>`'s too).
    pub fn text(&self, css: &str) -> String {
        let text = self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
            &[json!(css)],
        );
        match text {
            Value::String(text) => text,
            _ => self.fail(&format!("no element matches `{css}`")),
        }
    }

    /// An attribute of every element matching `css`, in document order (`null` where one has none).
    pub fn attrs(&self, css: &str, name: &str) -> Vec<Value> {
        let values = self.js(
            "return Array.from(document.querySelectorAll(arguments[0]), e => e.getAttribute(arguments[1]));",
            &[json!(css), json!(name)],
        );
        values.as_array().cloned().unwrap_or_default()
    }

    /// One attribute of the first element matching `css`.
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.attrs(css, name)
            .first()
            .and_then(|v| v.as_str().map(str::to_string))
    }

    fn element(&self, css: &str) -> Element {
        self.session
            .find(css)
            .unwrap_or_else(|e| self.fail(&format!("finding `{css}`: {e}")))
    }

    /// Clicks the first element matching `css`, as a user would (it must be visible).
    pub fn click(&self, css: &str) {
        let element = self.element(css);
        if let Err(e) = self.session.click(&element) {
            self.fail(&format!("clicking `{css}`: {e}"));
        }
    }

    /// Sets the form field matching `css` to `value` as a user would: types into a text field (emptied
    /// first), clicks the option of a `<select>`.
    pub fn fill(&self, css: &str, value: &str) {
        let select = self.js(
            "const e = document.querySelector(arguments[0]); return e && e.tagName === 'SELECT';",
            &[json!(css)],
        );
        if select == json!(true) {
            let option = format!("{css} option[value=\"{value}\"]");
            return self.click(&option);
        }
        let element = self.element(css);
        let done = self
            .session
            .clear(&element)
            .and_then(|()| self.session.type_into(&element, value));
        if let Err(e) = done {
            self.fail(&format!("filling `{css}` with `{value}`: {e}"));
        }
    }

    /// Presses `key` (a character, or [`super::webdriver::TAB`]…) wherever the focus is.
    pub fn press(&self, key: char) {
        if let Err(e) = self.session.press(key) {
            self.fail(&format!("pressing {key:?}: {e}"));
        }
    }

    /// The page's HTML as the browser holds it now.
    pub fn source(&self) -> String {
        match self.session.source() {
            Ok(html) => html,
            Err(e) => self.fail(&format!("reading the page source: {e}")),
        }
    }

    /// Resizes the window (from [`WINDOW`], a laptop screen).
    pub fn resize(&self, width: u32, height: u32) {
        if let Err(e) = self.session.resize(width, height) {
            self.fail(&format!("resizing the window to {width}×{height}: {e}"));
        }
    }

    /// Saves the window as `target/ui-screenshots/NAME.png` and says where.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let path = screenshots().join(format!("{name}.png"));
        self.save_screenshot(&path)
            .unwrap_or_else(|e| self.fail(&format!("saving {}: {e}", path.display())));
        println!("screenshot of {}: {}", self.path(), path.display());
        path
    }

    fn save_screenshot(&self, path: &std::path::Path) -> Result<(), String> {
        let png = self.session.screenshot()?;
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|e| e.to_string())?;
        }
        std::fs::write(path, png).map_err(|e| e.to_string())
    }

    /// Fails the test saying `what`, with a screenshot and the page source saved beside the others, and
    /// what the daemon logged.
    pub fn fail(&self, what: &str) -> ! {
        let folder = screenshots().join("failed");
        let png = folder.join(format!("{}.png", self.test));
        let html = folder.join(format!("{}.html", self.test));
        let saved = self.save_screenshot(&png).and_then(|()| {
            let source = self.session.source()?;
            std::fs::write(&html, source).map_err(|e| e.to_string())
        });
        let saved = match saved {
            Ok(()) => format!(
                "the page is saved as {} and {}",
                png.display(),
                html.display()
            ),
            Err(e) => format!("the page could not be saved: {e}"),
        };
        panic!(
            "{}: {what}; {saved}\nthe daemon said:\n{}",
            self.test,
            self.api.log()
        );
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        let _ = self.session.close();
    }
}
