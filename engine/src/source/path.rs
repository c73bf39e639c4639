//! Paths into a YAML document: `steps[2].with.key_id`.

use std::fmt;

/// One step of a [`YamlPath`]: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSeg {
    /// A key of a mapping.
    Key(String),
    /// A position in a sequence.
    Index(usize),
}

/// Where a value sits in a YAML document, from the root.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct YamlPath(pub Vec<PathSeg>);

impl YamlPath {
    /// The document root.
    pub fn root() -> YamlPath {
        YamlPath(Vec::new())
    }

    /// This path extended by a mapping key.
    pub fn key(&self, key: impl Into<String>) -> YamlPath {
        let mut segs = self.0.clone();
        segs.push(PathSeg::Key(key.into()));
        YamlPath(segs)
    }

    /// This path extended by a sequence index.
    pub fn index(&self, index: usize) -> YamlPath {
        let mut segs = self.0.clone();
        segs.push(PathSeg::Index(index));
        YamlPath(segs)
    }

    /// The path without its last segment.
    pub fn parent(&self) -> Option<YamlPath> {
        let (_, rest) = self.0.split_last()?;
        Some(YamlPath(rest.to_vec()))
    }

    /// Parses the path syntax that `serde_path_to_error` prints (`steps[0].with.x`); a `?` segment (an
    /// unknown position) ends the path.
    pub fn from_serde(text: &str) -> YamlPath {
        let mut segs = Vec::new();
        for part in text.split('.') {
            if part == "?" || part.is_empty() {
                break;
            }
            let (name, indices) = match part.find('[') {
                Some(at) => part.split_at(at),
                None => (part, ""),
            };
            if !name.is_empty() {
                segs.push(PathSeg::Key(name.to_string()));
            }
            for index in indices.split(['[', ']']).filter(|s| !s.is_empty()) {
                match index.parse() {
                    Ok(i) => segs.push(PathSeg::Index(i)),
                    Err(_) => return YamlPath(segs),
                }
            }
        }
        YamlPath(segs)
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                PathSeg::Key(key) if i == 0 => write!(f, "{key}")?,
                PathSeg::Key(key) => write!(f, ".{key}")?,
                PathSeg::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_paths_round_trip() {
        let path = YamlPath::from_serde("steps[2].with.key_id");
        assert_eq!(path.to_string(), "steps[2].with.key_id");
        assert_eq!(path.0.len(), 4);
        assert_eq!(
            YamlPath::from_serde("steps[0].with.tpl.?").to_string(),
            "steps[0].with.tpl"
        );
        assert_eq!(YamlPath::from_serde("").0.len(), 0);
        assert_eq!(YamlPath::from_serde("a[1][2]").to_string(), "a[1][2]");
    }
}
