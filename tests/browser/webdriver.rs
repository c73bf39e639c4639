//! A thin W3C WebDriver client on the `reqwest` the tests already build: WebDriver is JSON over HTTP, and
//! the browser tests need a dozen of its commands. (fantoccini, the maintained crate for this, would add
//! 23 crates to the build — a second `http`, two `cookie`s, a second ICU stack through `webdriver` — for
//! about 50 s more compiling on a clean build.) Each command blocks on the session's own runtime.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

/// The key W3C WebDriver names an element reference by.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The WebDriver code of the Tab key.
pub const TAB: char = '\u{E004}';
/// The WebDriver code of the Enter key.
pub const ENTER: char = '\u{E007}';

/// A browser session opened through a WebDriver server (chromedriver).
pub struct Session {
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    /// `DRIVER/session/ID`.
    url: String,
}

/// An element of the page, by its WebDriver reference.
pub struct Element(String);

impl Session {
    /// A new session of a browser with `capabilities` (W3C `alwaysMatch`).
    pub fn open(driver: &str, capabilities: Value) -> Result<Session, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let http = reqwest::Client::builder()
            // A command that hangs fails the test rather than holding it for ever.
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| e.to_string())?;
        let driver = driver.trim_end_matches('/');
        let mut session = Session {
            http,
            runtime,
            url: format!("{driver}/session"),
        };
        let created = session.command(
            reqwest::Method::POST,
            "",
            Some(json!({ "capabilities": { "alwaysMatch": capabilities } })),
        )?;
        let id = created["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no session id in {created}"))?;
        session.url = format!("{driver}/session/{id}");
        Ok(session)
    }

    /// Sends a command (`path` below the session's URL) and gives its `value`, or the driver's error.
    fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}{path}", self.url);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.runtime.block_on(async {
            let response = request
                .send()
                .await
                .map_err(|e| format!("{method} {url}: {e}"))?;
            let status = response.status();
            let answer: Value = response
                .json()
                .await
                .map_err(|e| format!("{method} {url}: {e}"))?;
            let value = answer["value"].clone();
            if status.is_success() {
                Ok(value)
            } else {
                Err(format!(
                    "{} ({status}): {}",
                    value["error"].as_str().unwrap_or("error"),
                    value["message"].as_str().unwrap_or_default()
                ))
            }
        })
    }

    fn get(&self, path: &str) -> Result<Value, String> {
        self.command(reqwest::Method::GET, path, None)
    }

    fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        self.command(reqwest::Method::POST, path, Some(body))
    }

    /// Navigates to `url` and waits for the page to load.
    pub fn goto(&self, url: &str) -> Result<(), String> {
        self.post("/url", json!({ "url": url })).map(drop)
    }

    /// The URL of the page shown.
    pub fn url(&self) -> Result<String, String> {
        let url = self.get("/url")?;
        url.as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("not a URL: {url}"))
    }

    /// Runs `script`, a function body (`return …;`) given `args` as `arguments`; its value.
    pub fn execute(&self, script: &str, args: &[Value]) -> Result<Value, String> {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
    }

    /// The first element matching the CSS selector `css`.
    pub fn find(&self, css: &str) -> Result<Element, String> {
        let found = self.post("/element", json!({ "using": "css selector", "value": css }))?;
        found[ELEMENT]
            .as_str()
            .map(|id| Element(id.to_string()))
            .ok_or_else(|| format!("no element reference in {found}"))
    }

    /// Clicks `element` in its middle, scrolled into view, as a user would.
    pub fn click(&self, element: &Element) -> Result<(), String> {
        self.post(&format!("/element/{}/click", element.0), json!({}))
            .map(drop)
    }

    /// Empties a text field.
    pub fn clear(&self, element: &Element) -> Result<(), String> {
        self.post(&format!("/element/{}/clear", element.0), json!({}))
            .map(drop)
    }

    /// Types `text` into `element` (focused first).
    pub fn type_into(&self, element: &Element, text: &str) -> Result<(), String> {
        self.post(
            &format!("/element/{}/value", element.0),
            json!({ "text": text }),
        )
        .map(drop)
    }

    /// Presses and releases `key` wherever the focus is.
    pub fn press(&self, key: char) -> Result<(), String> {
        let key = key.to_string();
        self.post(
            "/actions",
            json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": [
                { "type": "keyDown", "value": key },
                { "type": "keyUp", "value": key },
            ]}]}),
        )
        .map(drop)
    }

    /// Resizes the window to `width` × `height` pixels (the page's viewport is smaller by the window's
    /// frame).
    pub fn resize(&self, width: u32, height: u32) -> Result<(), String> {
        self.post("/window/rect", json!({ "width": width, "height": height }))
            .map(drop)
    }

    /// The page's HTML as the browser holds it now.
    pub fn source(&self) -> Result<String, String> {
        let source = self.get("/source")?;
        source
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("not a page source: {source}"))
    }

    /// The window's content as PNG.
    pub fn screenshot(&self) -> Result<Vec<u8>, String> {
        let png = self.get("/screenshot")?;
        base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .map_err(|e| format!("a screenshot that is not base64: {e}"))
    }

    /// Ends the session: the browser closes.
    pub fn close(&self) -> Result<(), String> {
        self.command(reqwest::Method::DELETE, "", None).map(drop)
    }
}
