//! The probe the test blocks write to.

use super::*;

/// One finished call.
#[derive(Debug, Clone)]
pub(crate) struct Span {
    pub(crate) label: String,
    pub(crate) start: Instant,
    pub(crate) end: Instant,
}

#[derive(Default)]
pub(crate) struct Probe {
    /// Calls that started: label and time, in start order.
    pub(crate) starts: Mutex<Vec<(String, Instant)>>,
    /// Calls that finished, in end order.
    pub(crate) spans: Mutex<Vec<Span>>,
    /// Calls running now, and the most at once.
    pub(crate) current: AtomicUsize,
    pub(crate) max: AtomicUsize,
    /// Calls per key (flaky and polling blocks).
    pub(crate) counts: Mutex<HashMap<String, u32>>,
    /// Values blocks received, by label.
    pub(crate) seen: Mutex<Vec<(String, Value)>>,
    /// The run's cancellation, for `test.cancel-run`.
    pub(crate) cancel: CancellationToken,
}

/// A call in progress; leaves the running count when dropped (also when the executor drops the call).
pub(crate) struct Running<'a> {
    pub(crate) probe: &'a Probe,
    pub(crate) label: String,
    pub(crate) start: Instant,
}

impl Probe {
    pub(crate) fn enter(&self, label: &str) -> Running<'_> {
        let now = self.current.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        let start = Instant::now();
        lock(&self.starts).push((label.to_string(), start));
        Running {
            probe: self,
            label: label.to_string(),
            start,
        }
    }

    pub(crate) fn count(&self, key: &str) -> u32 {
        let mut counts = lock(&self.counts);
        let n = counts.entry(key.to_string()).or_insert(0);
        *n += 1;
        *n
    }

    pub(crate) fn calls(&self, key: &str) -> u32 {
        lock(&self.counts).get(key).copied().unwrap_or(0)
    }

    pub(crate) fn span(&self, label: &str) -> Span {
        lock(&self.spans)
            .iter()
            .find(|s| s.label == label)
            .cloned()
            .unwrap_or_else(|| panic!("no finished call labelled `{label}`"))
    }

    pub(crate) fn started(&self, label: &str) -> Vec<Instant> {
        lock(&self.starts)
            .iter()
            .filter(|(l, _)| l == label)
            .map(|(_, at)| *at)
            .collect()
    }

    pub(crate) fn finished_labels(&self) -> Vec<String> {
        lock(&self.spans).iter().map(|s| s.label.clone()).collect()
    }
}

impl Running<'_> {
    pub(crate) fn finish(self) {
        let span = Span {
            label: self.label.clone(),
            start: self.start,
            end: Instant::now(),
        };
        lock(&self.probe.spans).push(span);
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.probe.current.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Locks one of the probe's or the harness's mutexes (poisoned only if a test block panicked).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().expect("a test block panicked holding a lock")
}

pub(crate) fn spec(id: &'static str, title: &'static str) -> BlockSpec {
    BlockSpec {
        id,
        title,
        connector: None,
        description: "a block for the executor tests",
        effect: Effect::Read,
        secret_outputs: &[],
        secret_inputs: &[],
        output_mirrors_input: false,
        destructive_when: None,
        recovery: Recovery::Repeat,
    }
}
