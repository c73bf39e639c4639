//! Locking the twins' shared state.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks, going on after a panic elsewhere: every update leaves the state consistent.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
