//! "Did you mean": the closest candidate by edit distance, when it is close enough.

/// The candidate closest to `word`, if it is a plausible typo of it.
pub fn suggest<'a, I, S>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str> + 'a,
{
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .filter_map(|candidate| {
            let candidate = candidate.as_ref();
            let other = candidate.to_lowercase();
            let distance = if other == lower {
                0
            } else if lower.len() >= 4 && (other.starts_with(&lower) || lower.starts_with(&other)) {
                1
            } else {
                strsim::damerau_levenshtein(&lower, &other)
            };
            let len = word.chars().count();
            let limit = (len / 3).clamp(1, 3);
            (distance <= limit && distance < len && candidate != word)
                .then(|| (distance, candidate.to_string()))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_typos_are_suggested() {
        assert_eq!(
            suggest("create_kye", ["create_key", "put_policy"]),
            Some("create_key".into())
        );
        assert_eq!(suggest("wiht", ["with", "id"]), Some("with".into()));
        assert_eq!(suggest("Arn", ["ARN", "KeyId"]), Some("ARN".into()));
        assert_eq!(
            suggest("core.lgo", ["core.log", "core.set"]),
            Some("core.log".into())
        );
    }

    #[test]
    fn distant_words_are_not() {
        assert_eq!(suggest("xyz", ["create_key"]), None);
        assert_eq!(suggest("id", ["if"]), Some("if".into()));
        assert_eq!(suggest("a", ["b", "c"]), None);
        assert_eq!(suggest("steps", ["steps"]), None);
    }
}
