//! `uses: platform:tenant/rotate-key@^1.2`: a template of a library, by library name, template path and
//! a semver range; and the versions templates carry.

use semver::{Version, VersionReq};

/// A `uses:` that names a library's template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryUse {
    /// The library, as `keyflow.yaml` names it.
    pub library: String,
    /// The template's path in the library, without `.yaml`: `tenant/rotate-key`.
    pub template: String,
    /// The versions the caller accepts (`^1.2`, `~1.2.3`, `>=1.1, <2`, `*`).
    pub range: VersionReq,
}

impl LibraryUse {
    /// Reads `uses`: `None` when it is a file path (`./x.yaml`), else the library use or why it is
    /// malformed. A library use is `NAME:PATH@RANGE` where NAME is a library name (letters, digits, `_`
    /// and `-`, starting with a letter); a path never starts that way, since a file path has no `:`
    /// before its first `/`.
    pub fn parse(uses: &str) -> Option<Result<LibraryUse, String>> {
        let (library, rest) = uses.split_once(':')?;
        if !is_library_name(library) {
            return None;
        }
        Some(Self::parse_rest(library, rest, uses))
    }

    fn parse_rest(library: &str, rest: &str, uses: &str) -> Result<LibraryUse, String> {
        let Some((template, range)) = rest.rsplit_once('@') else {
            return Err(format!(
                "`{uses}` says no version: write the versions it was reviewed with, e.g. `{uses}@^1.0`"
            ));
        };
        let template = template.strip_suffix(".yaml").unwrap_or(template);
        let well_formed = !template.is_empty()
            && !template.starts_with('/')
            && template
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        if !well_formed {
            return Err(format!(
                "`{template}` is not a template path: write it relative to the library's root, without `..`, e.g. `tenant/rotate-key`"
            ));
        }
        let range = VersionReq::parse(range.trim()).map_err(|e| {
            format!(
                "`{range}` is not a version range ({e}): write e.g. `^1.2`, `~1.2.3` or `>=1.1, <2`"
            )
        })?;
        Ok(LibraryUse {
            library: library.to_string(),
            template: template.to_string(),
            range,
        })
    }

    /// The template file's path relative to the library's root.
    pub fn file(&self) -> String {
        format!("{}.yaml", self.template)
    }
}

/// Whether `name` can name a library in `keyflow.yaml`.
pub fn is_library_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A template's `version:` as a semantic version. `1` and `1.2` read as `1.0.0` and `1.2.0`, so that the
/// `version: "1.0"` flows already carry keeps working.
pub fn parse_version(text: &str) -> Result<Version, String> {
    let text = text.trim().trim_start_matches('v');
    let parts = text
        .split(['-', '+'])
        .next()
        .unwrap_or("")
        .split('.')
        .count();
    let padded = match parts {
        1 => pad(text, ".0.0"),
        2 => pad(text, ".0"),
        _ => text.to_string(),
    };
    Version::parse(&padded)
        .map_err(|e| format!("`{text}` is not a semantic version ({e}): write e.g. `1.2.0`"))
}

/// `1.2-rc.1` with `.0` → `1.2.0-rc.1`.
fn pad(text: &str, zeros: &str) -> String {
    match text.find(['-', '+']) {
        Some(at) => format!("{}{zeros}{}", &text[..at], &text[at..]),
        None => format!("{text}{zeros}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_uses_and_paths_are_told_apart() {
        assert_eq!(LibraryUse::parse("./x.yaml"), None);
        assert_eq!(LibraryUse::parse("templates/x.yaml"), None);
        assert_eq!(LibraryUse::parse("/abs/x.yaml"), None);
        let parsed = LibraryUse::parse("platform:tenant/rotate-key@^1.2")
            .expect("a library use")
            .expect("well formed");
        assert_eq!(parsed.library, "platform");
        assert_eq!(parsed.template, "tenant/rotate-key");
        assert_eq!(parsed.file(), "tenant/rotate-key.yaml");
        assert!(parsed.range.matches(&Version::new(1, 4, 0)));
        assert!(!parsed.range.matches(&Version::new(2, 0, 0)));
        let missing = LibraryUse::parse("platform:x").expect("a library use");
        assert!(missing.unwrap_err().contains("says no version"));
        let escaping = LibraryUse::parse("platform:../x@1").expect("a library use");
        assert!(escaping.unwrap_err().contains("without `..`"));
        let bad = LibraryUse::parse("platform:x@one").expect("a library use");
        assert!(bad.unwrap_err().contains("not a version range"));
    }

    #[test]
    fn short_versions_are_padded() {
        assert_eq!(parse_version("1.0"), Ok(Version::new(1, 0, 0)));
        assert_eq!(parse_version("2"), Ok(Version::new(2, 0, 0)));
        assert_eq!(parse_version("1.2.3"), Ok(Version::new(1, 2, 3)));
        assert_eq!(
            parse_version("1.2-rc.1").map(|v| v.to_string()),
            Ok("1.2.0-rc.1".to_string())
        );
        assert!(parse_version("one").is_err());
    }
}
