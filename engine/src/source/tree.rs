//! The YAML span tree: every node of the document with where it is written.
//!
//! serde (through `serde_yaml`) is the single source of truth for *values*; this tree exists only so that
//! diagnostics found after deserialization can point at the exact line and column of a key or value. It is
//! built from saphyr's event parser, whose events carry source markers.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, Span as SaphyrSpan};

use super::saphyr::{parsable, pos};
use super::{PathSeg, Span, YamlPath};

/// A node of the document.
#[derive(Debug, Clone)]
pub struct Node {
    /// Where the node is written (for a quoted scalar, including its quotes).
    pub span: Span,
    /// What the node is.
    pub kind: NodeKind,
}

/// The shape of a [`Node`].
#[derive(Debug, Clone)]
pub enum NodeKind {
    /// A scalar, with its text after YAML unquoting.
    Scalar(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, as its key and value nodes in order.
    Map(Vec<(Node, Node)>),
    /// An alias (`*name`) of the anchored node with this id: kept as a reference, never expanded, so that
    /// an alias bomb costs nothing.
    Alias(usize),
}

/// The span tree of the first document in a file.
#[derive(Debug, Clone, Default)]
pub struct YamlTree {
    root: Option<Node>,
    anchors: HashMap<usize, Node>,
    /// For each large mapping (by where it starts), the position of each key among its entries, so that
    /// locating many diagnostics in one mapping does not walk it once per diagnostic.
    keys: HashMap<(usize, String), usize>,
}

/// Mappings with more entries than this are indexed; smaller ones are searched.
const INDEXED: usize = 16;

impl YamlTree {
    /// Parses `text`; a document that does not parse, or nests deeper than [`super::depth::MAX_DEPTH`],
    /// gives an empty tree (serde reports the syntax error; the loader, the depth).
    pub fn parse(text: &str) -> YamlTree {
        if super::depth::check(text).is_err() {
            return YamlTree::default();
        }
        let (text, stand_in) = parsable(text);
        let mut builder = Builder {
            stand_in,
            ..Builder::default()
        };
        for event in Parser::new_from_str(&text) {
            let Ok((event, span)) = event else {
                return YamlTree::default();
            };
            if builder.push(event, span) {
                break;
            }
        }
        let mut keys = HashMap::new();
        if let Some(root) = &builder.root {
            index_keys(root, &mut keys);
        }
        YamlTree {
            root: builder.root,
            anchors: builder.anchors,
            keys,
        }
    }

    /// The root node, when the document parsed.
    pub fn root(&self) -> Option<&Node> {
        self.root.as_ref()
    }

    /// The value node at `path`.
    pub fn value(&self, path: &YamlPath) -> Option<&Node> {
        let mut node = self.root.as_ref()?;
        for seg in &path.0 {
            node = self.child(self.target(node), seg)?.1;
        }
        Some(node)
    }

    /// The key node of the mapping entry at `path` (`None` for the root and for sequence items).
    pub fn key(&self, path: &YamlPath) -> Option<&Node> {
        let (last, parent) = path.0.split_last()?;
        let parent = self.value(&YamlPath(parent.to_vec()))?;
        self.child(self.target(parent), last)?.0
    }
}

impl YamlTree {
    /// The node an alias stands for (any other node is itself).
    fn target<'a>(&'a self, node: &'a Node) -> &'a Node {
        match node.kind {
            NodeKind::Alias(id) => self.anchors.get(&id).unwrap_or(node),
            _ => node,
        }
    }
}

impl YamlTree {
    /// The key (for a mapping entry) and value of `node`'s child at `seg`.
    fn child<'a>(&self, node: &'a Node, seg: &PathSeg) -> Option<(Option<&'a Node>, &'a Node)> {
        match (&node.kind, seg) {
            (NodeKind::Map(entries), PathSeg::Key(key)) if entries.len() > INDEXED => {
                let at = self.keys.get(&(node.span.start.offset, key.clone()))?;
                entries.get(*at).map(|(k, v)| (Some(k), v))
            }
            (NodeKind::Map(entries), PathSeg::Key(key)) => entries
                .iter()
                .find(|(k, _)| matches!(&k.kind, NodeKind::Scalar(s) if s == key))
                .map(|(k, v)| (Some(k), v)),
            (NodeKind::Seq(items), PathSeg::Index(index)) => items.get(*index).map(|v| (None, v)),
            _ => None,
        }
    }
}

/// Indexes the keys of every large mapping under `node` (the first entry of a key, as a search finds).
/// An anchored mapping and its copies start at the same place and have the same keys.
fn index_keys(node: &Node, keys: &mut HashMap<(usize, String), usize>) {
    match &node.kind {
        NodeKind::Map(entries) => {
            for (i, (key, value)) in entries.iter().enumerate() {
                if let (true, NodeKind::Scalar(name)) = (entries.len() > INDEXED, &key.kind) {
                    keys.entry((node.span.start.offset, name.clone()))
                        .or_insert(i);
                }
                index_keys(value, keys);
            }
        }
        NodeKind::Seq(items) => items.iter().for_each(|item| index_keys(item, keys)),
        NodeKind::Scalar(_) | NodeKind::Alias(_) => {}
    }
}

fn span(s: SaphyrSpan) -> Span {
    Span {
        start: pos(s.start),
        end: pos(s.end),
    }
}

/// Builds nodes from the event stream with a stack of open collections.
#[derive(Default)]
struct Builder {
    /// The character that stands for U+FEFF in the parsed text, if any.
    stand_in: Option<char>,
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
}

struct Open {
    node: Node,
    anchor: usize,
    /// For a mapping: the key read, waiting for its value.
    pending_key: Option<Node>,
}

impl Builder {
    /// Feeds one event; returns true once the first document's root is complete.
    fn push(&mut self, event: Event<'_>, at: SaphyrSpan) -> bool {
        super::work::count(1);
        let node = match event {
            Event::Scalar(value, _, anchor, _) => {
                let value = match self.stand_in {
                    Some(c) if value.contains(c) => value.replace(c, "\u{FEFF}"),
                    _ => value.into_owned(),
                };
                let node = Node {
                    span: span(at),
                    kind: NodeKind::Scalar(value),
                };
                self.remember(anchor, &node);
                node
            }
            Event::Alias(anchor) => Node {
                span: span(at),
                kind: NodeKind::Alias(anchor),
            },
            Event::SequenceStart(anchor, _) => {
                self.open(at, anchor, NodeKind::Seq(Vec::new()));
                return false;
            }
            Event::MappingStart(anchor, _) => {
                self.open(at, anchor, NodeKind::Map(Vec::new()));
                return false;
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(open) => {
                    let mut node = open.node;
                    node.span.end = span(at).end;
                    self.remember(open.anchor, &node);
                    node
                }
                None => return false,
            },
            _ => return false,
        };
        self.attach(node)
    }

    fn open(&mut self, at: SaphyrSpan, anchor: usize, kind: NodeKind) {
        self.stack.push(Open {
            node: Node {
                span: span(at),
                kind,
            },
            anchor,
            pending_key: None,
        });
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }

    /// Places a finished node into the collection that is open, or makes it the root.
    fn attach(&mut self, node: Node) -> bool {
        let Some(open) = self.stack.last_mut() else {
            self.root = Some(node);
            return true;
        };
        match &mut open.node.kind {
            NodeKind::Seq(items) => items.push(node),
            NodeKind::Map(entries) => match open.pending_key.take() {
                Some(key) => entries.push((key, node)),
                None => open.pending_key = Some(node),
            },
            NodeKind::Scalar(_) | NodeKind::Alias(_) => {}
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str =
        "name: demo\nsteps:\n  - id: a\n    with:\n      msg: \"hi\"\n  - id: b\n    after: [a]\n";

    fn at(tree: &YamlTree, path: &str) -> (usize, usize) {
        let node = tree.value(&YamlPath::from_serde(path)).expect(path);
        (node.span.start.line, node.span.start.col)
    }

    #[test]
    fn values_and_keys_have_positions() {
        let tree = YamlTree::parse(DOC);
        assert_eq!(at(&tree, "name"), (1, 7));
        assert_eq!(at(&tree, "steps[0].with.msg"), (5, 12));
        assert_eq!(at(&tree, "steps[1].after[0]"), (7, 13));
        let key = tree
            .key(&YamlPath::from_serde("steps[1].after"))
            .expect("key");
        assert_eq!((key.span.start.line, key.span.start.col), (7, 5));
        assert!(tree.value(&YamlPath::from_serde("steps[2]")).is_none());
    }

    #[test]
    fn broken_yaml_gives_an_empty_tree() {
        assert!(YamlTree::parse("a: [1, 2").root().is_none());
    }

    #[test]
    fn a_byte_order_mark_inside_the_document_keeps_every_position() {
        let tree = YamlTree::parse("name: x\u{FEFF}y\nsteps:\n  - id: a \u{FEFF}\n# \u{FEFF}\n");
        assert_eq!(at(&tree, "steps[0].id"), (3, 9));
        let name = tree.value(&YamlPath::from_serde("name")).expect("name");
        assert!(matches!(&name.kind, NodeKind::Scalar(s) if s == "x\u{FEFF}y"));
    }

    #[test]
    fn large_mappings_are_found_by_key() {
        let doc: String = (0..100).map(|i| format!("k{i}: {i}\n")).collect();
        let tree = YamlTree::parse(&format!("m:\n{}", doc.replace("k", "  k")));
        assert_eq!(at(&tree, "m.k0"), (2, 7));
        assert_eq!(at(&tree, "m.k99"), (101, 8));
        assert!(tree.value(&YamlPath::from_serde("m.k100")).is_none());
        let key = tree.key(&YamlPath::from_serde("m.k42")).expect("key");
        assert_eq!((key.span.start.line, key.span.start.col), (44, 3));
    }

    #[test]
    fn aliases_resolve_to_their_anchor() {
        let tree = YamlTree::parse("base: &b {x: 1}\nother: *b\n");
        assert!(tree.value(&YamlPath::from_serde("other.x")).is_some());
    }
}
