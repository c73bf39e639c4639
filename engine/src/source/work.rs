//! A count of the checker's work, so that tests can hold `validate` to time in proportion to the size of
//! the flow without timing it: every loop whose length depends on the input adds what it walks (bytes
//! scanned, nodes visited, candidates compared), and a library call adds what it costs by its own
//! documented behaviour. The count is per thread, as a check runs on one thread.

use std::cell::Cell;

thread_local! {
    static UNITS: Cell<u64> = const { Cell::new(0) };
}

/// Adds `units` of work to this thread's count.
pub fn count(units: usize) {
    UNITS.with(|total| total.set(total.get().saturating_add(units as u64)));
}

/// Runs `f` and returns what it returned with the units of work it counted.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = UNITS.with(Cell::get);
    let result = f();
    (result, UNITS.with(Cell::get).saturating_sub(before))
}
