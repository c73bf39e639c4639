//! Live progress on stderr: a spinner or bar per running step on a terminal, then one line per step with
//! its status, duration and attempts; plain lines when stderr is not a terminal.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use keyflow_engine::block::LogLevel;
use keyflow_engine::exec::events::{RunEvent, RunObserver};
use keyflow_engine::exec::report::{Status, StepReport};

use crate::style;

/// Draws run events on stderr.
pub struct Progress {
    color: bool,
    quiet: bool,
    live: Option<MultiProgress>,
    bars: Mutex<HashMap<String, ProgressBar>>,
    width: usize,
    block_width: usize,
}

impl Progress {
    /// `live` draws spinners (stderr is a terminal); `width` aligns step ids, `block_width` block ids.
    pub fn new(color: bool, quiet: bool, live: bool, width: usize, block_width: usize) -> Progress {
        Progress {
            color,
            quiet,
            live: (live && !quiet)
                .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            bars: Mutex::new(HashMap::new()),
            width,
            block_width,
        }
    }

    fn print(&self, line: String) {
        if self.quiet {
            return;
        }
        match &self.live {
            Some(multi) => {
                if multi.println(&line).is_err() {
                    errln!("{line}");
                }
            }
            None => errln!("{line}"),
        }
    }

    fn bar(&self, step: &str, items: Option<usize>) {
        let Some(multi) = &self.live else { return };
        let bar = match items {
            Some(total) => {
                let bar = multi.add(ProgressBar::new(total as u64));
                bar.set_style(
                    ProgressStyle::with_template(
                        "  {spinner} {prefix} [{bar:24}] {pos}/{len} {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar
            }
            None => {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("  {spinner} {prefix} {elapsed} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar
            }
        };
        bar.set_prefix(format!("{step:<width$}", width = self.width));
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut bars) = self.bars.lock() {
            bars.insert(step.to_string(), bar);
        }
    }

    fn with_bar(&self, step: &str, f: impl FnOnce(&ProgressBar)) {
        if let Ok(bars) = self.bars.lock()
            && let Some(bar) = bars.get(step)
        {
            f(bar);
        }
    }

    /// The line a finished step leaves.
    pub fn step_line(&self, report: &StepReport) -> String {
        let c = self.color;
        let (mark, status) = match report.status {
            // Done before a resume: its recorded result stands.
            Status::Succeeded if report.reused => (style::green(c, "✓"), style::dim(c, "reused")),
            Status::Succeeded => (style::green(c, "✓"), style::green(c, "succeeded")),
            Status::Failed => (style::red(c, "✗"), style::red(c, "failed")),
            Status::Skipped => (style::dim(c, "-"), style::dim(c, "skipped")),
            Status::Cancelled => (style::yellow(c, "⊘"), style::yellow(c, "cancelled")),
            Status::Pending | Status::Running => (" ".into(), report.status.name().into()),
        };
        let ran = report.attempts > 0 && !report.reused;
        let duration = if ran {
            format_ms(report.duration_ms)
        } else {
            String::new()
        };
        let mut line = format!(
            "  {mark} {:<width$}  {} {status:<w2$} {duration:>7}",
            report.id,
            // Padded before styling: escape codes would count as width.
            style::dim(c, &format!("{:<bw$}", report.block, bw = self.block_width)),
            width = self.width,
            w2 = if c { 18 } else { 9 },
        );
        if let Some(items) = report.items {
            line.push_str(&format!("  {items} items"));
        }
        if report.attempts > report.items.unwrap_or(1).max(1) as u32 {
            line.push_str(&format!("  {} attempts", report.attempts));
        }
        if let Some(error) = &report.error {
            line.push_str(&format!(
                "\n      {} {}: {}",
                style::red(c, "error"),
                error.code,
                error.message
            ));
        }
        if let Some(reason) = &report.reason {
            line.push_str(&format!("  {}", style::dim(c, reason)));
        }
        line
    }
}

impl RunObserver for Progress {
    fn event(&self, event: &RunEvent) {
        match event {
            RunEvent::StepStarted { step, items } => {
                self.bar(step, *items);
                if self.live.is_none() && items.is_some() {
                    self.print(format!("  … {step}: {} items", items.unwrap_or_default()));
                }
            }
            RunEvent::ItemsDone { step, done, .. } => {
                self.with_bar(step, |bar| bar.set_position(*done as u64))
            }
            RunEvent::Polling {
                step,
                polls,
                summary,
                elapsed,
                ..
            } => {
                let text = format!("poll {polls}: {}", summary.as_deref().unwrap_or(""));
                if self.live.is_some() {
                    self.with_bar(step, |bar| bar.set_message(text));
                } else {
                    self.print(format!(
                        "  … {step}: {text} ({})",
                        format_ms(elapsed.as_millis() as u64)
                    ));
                }
            }
            RunEvent::Retrying {
                step,
                item,
                attempt,
                delay,
                error,
            } => {
                let item = item.map(|i| format!(" item {i}")).unwrap_or_default();
                self.print(format!(
                    "  {} {step}{item}: attempt {attempt} failed ({error}); retrying in {}",
                    style::yellow(self.color, "↻"),
                    format_ms(delay.as_millis() as u64)
                ));
            }
            RunEvent::Log {
                step,
                item,
                level,
                message,
            } => {
                let item = item.map(|i| format!("[{i}]")).unwrap_or_default();
                let tag = match level {
                    LogLevel::Error => style::red(self.color, "error"),
                    LogLevel::Warn => style::yellow(self.color, "warn"),
                    LogLevel::Info => style::dim(self.color, "log"),
                    LogLevel::Debug => style::dim(self.color, "debug"),
                };
                self.print(format!("    {tag} {step}{item}: {message}"));
            }
            RunEvent::StepFinished { report } => {
                if let Ok(mut bars) = self.bars.lock()
                    && let Some(bar) = bars.remove(&report.id)
                {
                    bar.finish_and_clear();
                }
                self.print(self.step_line(report));
            }
        }
    }
}

/// `41ms`, `1.2s`, `3m05s`.
pub fn format_ms(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms}ms"),
        1000..=59_999 => format!("{:.1}s", ms as f64 / 1000.0),
        _ => format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000),
    }
}
