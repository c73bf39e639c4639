//! "Did you mean" within a budget: each suggestion compares a word with every candidate, so a flow with
//! thousands of mistakes among thousands of names would cost the square of its size. The checker of one
//! file may spend on suggestions a fixed amount plus an amount in proportion to the file's length;
//! mistakes found after that are still reported, without a suggestion.

use std::cell::Cell;

use crate::diagnostic::suggest;
use crate::source::work;

/// What suggestions may cost for any file, in character pairs compared (an edit distance compares every
/// character of the word with every character of the candidate).
const BASE: u64 = 1 << 20;

/// What suggestions may cost in addition per byte of the file.
const PER_BYTE: u64 = 16;

/// Suggestions for the diagnostics of one file.
pub(crate) struct Suggester {
    left: Cell<u64>,
}

impl Suggester {
    /// A budget for a file of `len` bytes.
    pub fn for_len(len: usize) -> Suggester {
        Suggester {
            left: Cell::new(BASE.saturating_add(PER_BYTE.saturating_mul(len as u64))),
        }
    }

    /// The candidate closest to `word` (see [`suggest`]), among those the budget affords.
    pub fn suggest<S: AsRef<str>>(
        &self,
        word: &str,
        candidates: impl IntoIterator<Item = S>,
    ) -> Option<String> {
        let mut affordable = Vec::new();
        for candidate in candidates {
            let cost = (word.len() as u64).saturating_mul(candidate.as_ref().len().max(1) as u64);
            let Some(left) = self.left.get().checked_sub(cost) else {
                self.left.set(0);
                break;
            };
            self.left.set(left);
            work::count(usize::try_from(cost).unwrap_or(usize::MAX));
            affordable.push(candidate);
        }
        suggest(word, affordable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_stop_when_the_budget_is_spent() {
        let suggester = Suggester::for_len(0);
        assert_eq!(
            suggester.suggest("create_kye", ["create_key", "put_policy"]),
            Some("create_key".into())
        );
        let names: Vec<String> = (0..20_000).map(|i| format!("step_{i:05}")).collect();
        let mut suggested = 0;
        for i in 0..100 {
            if suggester
                .suggest(&format!("step_{i:05}x"), &names)
                .is_some()
            {
                suggested += 1;
            }
        }
        assert!((1..100).contains(&suggested), "{suggested}");
        assert_eq!(suggester.suggest("create_kye", ["create_key"]), None);
    }
}
