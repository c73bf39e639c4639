//! A `keyflow serve` process for a test: its stderr collected line by line, waited on with a deadline,
//! stopped with SIGTERM or SIGKILL, and killed by its PID when the test ends any other way.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a test waits for what it expects before it fails.
const PATIENCE: Duration = Duration::from_secs(60);

pub struct Daemon {
    child: Option<Child>,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Daemon {
    /// `keyflow serve FLOWS --store STORE --listen 127.0.0.1:0 EXTRA…`.
    pub fn start(flows: &Path, store: &str, extra: &[&str]) -> Daemon {
        let mut child = crate::sandbox::bare_process()
            .args(["serve", crate::harness::path_str(flows), "--store", store])
            .args(["--listen", "127.0.0.1:0", "--reload", "200ms"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start keyflow serve");
        let stderr = child.stderr.take().expect("stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
        Daemon {
            child: Some(child),
            lines,
            reader: Some(reader),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Everything it wrote on stderr so far.
    pub fn log(&self) -> String {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("\n")
    }

    /// The lines so far that match.
    pub fn lines(&self, matches: impl Fn(&str) -> bool) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|l| matches(l))
            .cloned()
            .collect()
    }

    /// Waits until a line matches.
    pub fn wait_for(&mut self, what: &str, matches: impl Fn(&str) -> bool) {
        self.wait_until(what, |lines| lines.iter().any(|l| matches(l)));
    }

    /// Waits until the lines so far satisfy `done`.
    pub fn wait_until(&mut self, what: &str, done: impl Fn(&[String]) -> bool) {
        let start = Instant::now();
        loop {
            if done(&self.lines.lock().unwrap_or_else(|e| e.into_inner())) {
                return;
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            assert!(
                exited.is_none() && start.elapsed() < PATIENCE,
                "waiting for {what}: {}\n{}",
                match exited {
                    Some(status) => format!("keyflow serve exited ({status})"),
                    None => format!("nothing after {PATIENCE:?}"),
                },
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then its exit code once it exits.
    pub fn terminate(&mut self) -> Option<i32> {
        let child = self.child.as_mut()?;
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(sent.success());
        let start = Instant::now();
        let code = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status.code();
            }
            assert!(
                start.elapsed() < PATIENCE,
                "keyflow serve did not stop after SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        self.child = None;
        self.join_reader();
        code
    }

    /// SIGKILL, and reaped.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.join_reader();
    }

    fn join_reader(&mut self) {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}
