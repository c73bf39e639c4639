//! Bad input never panics: random and mutated flow files go through load + validate (and the rendering
//! of whatever they report), which must return, not panic, hang or overflow the stack.

use keyflow_engine::diagnostic::render_each;
use keyflow_engine::source::SourceFile;
use keyflow_engine::validate::check;
use proptest::prelude::*;

use crate::harness::root;

/// Loads, validates and renders `text`; the test fails if any of it panics.
fn survive(text: &str) {
    let source = SourceFile::new("fuzz.yaml", text);
    let registry = keyflow_blocks::registry();
    if let Err(diagnostics) = check(source.clone(), &registry) {
        assert!(
            diagnostics.iter().any(|d| d.is_error()),
            "an invalid flow must say why"
        );
        let rendered = render_each(&diagnostics, &source, false);
        for (diagnostic, rendered) in diagnostics.iter().zip(&rendered) {
            let label = format!("{}[", diagnostic.severity().name());
            assert!(rendered.text.starts_with(&label), "{}", rendered.text);
        }
    }
}

/// Every flow file the project has: examples and fixtures, the seeds of the mutations.
fn seeds() -> Vec<String> {
    let mut files = Vec::new();
    let mut dirs = vec![root().join("flows"), root().join("tests/fixtures")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                files.push(std::fs::read_to_string(&path).expect("read seed"));
            }
        }
    }
    assert!(files.len() > 10, "too few seeds");
    files
}

/// Tokens from YAML, JSONPath and handlebars that tend to break parsers.
const TOKENS: &[&str] = &[
    "$.",
    "$[",
    "[*]",
    "..",
    "$..*",
    "{{",
    "}}",
    "{{#each steps}}",
    "{{/each}}",
    "{{#if",
    ": ",
    "- ",
    "&a ",
    "*a",
    "<<: *a",
    "!!str ",
    "!!binary ",
    "'",
    "\"",
    "?",
    "|",
    ">",
    "\t",
    "\r\n",
    "\n  ",
    "---\n",
    "...\n",
    "[[[[[[",
    "]]]",
    "{{{{",
    "99999999999999999999999",
    "-1e400",
    "\u{FEFF}",
    "é",
    "\u{200B}",
    "#",
    "$.steps.",
    "$.params.",
    "output",
    "for_each: ",
    "until:",
    "if:",
    "after: [",
    "id: ",
    "block: core.",
    "with: {",
    "$$",
    "[?@.a == $.params.x]",
    "['a','b']",
    "[-1]",
    "[0:2:0]",
];

/// A mutation of a seed.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    Truncate(usize),
    Insert(usize, usize),
    ReplaceScalar(usize, String),
}

fn apply(seed: &str, mutation: &Mutation) -> String {
    let mut lines: Vec<String> = seed.lines().map(str::to_string).collect();
    let n = lines.len().max(1);
    match mutation {
        Mutation::DeleteLine(i) => {
            if !lines.is_empty() {
                lines.remove(i % n);
            }
        }
        Mutation::DuplicateLine(i) => {
            if let Some(line) = lines.get(i % n).cloned() {
                lines.insert(i % n, line);
            }
        }
        Mutation::SwapLines(i, j) => {
            if !lines.is_empty() {
                lines.swap(i % n, j % n);
            }
        }
        Mutation::Truncate(at) => {
            let text = lines.join("\n");
            let mut cut = at % (text.len() + 1);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            return text[..cut].to_string();
        }
        Mutation::Insert(at, token) => {
            let text = lines.join("\n");
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            return format!(
                "{}{}{}",
                &text[..at],
                TOKENS[token % TOKENS.len()],
                &text[at..]
            );
        }
        Mutation::ReplaceScalar(i, replacement) => {
            if let Some(line) = lines.get_mut(i % n)
                && let Some(colon) = line.find(": ")
            {
                line.truncate(colon + 2);
                line.push_str(replacement);
            }
        }
    }
    lines.join("\n")
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let reference = prop::collection::vec(
        prop_oneof![
            Just("steps"),
            Just("params"),
            Just("output"),
            Just("names"),
            Just("[0]"),
            Just("item"),
            Just("x")
        ],
        1..6,
    )
    .prop_map(|parts| format!("$.{}", parts.join(".")));
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Mutation::SwapLines(i, j)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<usize>()).prop_map(|(i, t)| Mutation::Insert(i, t)),
        (any::<usize>(), reference).prop_map(|(i, r)| Mutation::ReplaceScalar(i, r)),
        (any::<usize>(), "\\PC{0,40}").prop_map(|(i, s)| Mutation::ReplaceScalar(i, s)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        survive(&text);
    }

    #[test]
    fn yaml_like_text_never_panics(parts in prop::collection::vec(prop::sample::select(TOKENS), 0..60)) {
        survive(&format!("name: x\nsteps:\n  - id: a\n    block: core.log\n    with:\n      message: {}\n", parts.concat()));
        survive(&parts.concat());
    }

    #[test]
    fn mutated_flows_never_panic(seed in any::<prop::sample::Index>(), mutations in prop::collection::vec(mutation(), 1..4)) {
        let seeds = seeds();
        let mut text = seeds[seed.index(seeds.len())].clone();
        for m in &mutations {
            text = apply(&text, m);
        }
        survive(&text);
    }
}

#[test]
fn hand_picked_nasty_inputs_do_not_panic_or_hang() {
    let deep_sequence = format!(
        "name: x\nsteps: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let deep_mapping = format!(
        "name: x\nsteps:\n{}\n",
        (0..2_000)
            .map(|i| format!("{}a:", " ".repeat(i)))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let deep_reference = format!(
        "name: x\nsteps:\n  - id: a\n    block: core.log\n    with:\n      message: \"$.params{}\"\n",
        "[?@[".repeat(500)
    );
    let deep_template = format!(
        "name: x\nsteps:\n  - id: a\n    block: core.log\n    with:\n      message: \"{}\"\n",
        "{{#if x}}".repeat(2_000)
    );
    let huge_scalar = format!(
        "name: x\nsteps:\n  - id: a\n    block: core.log\n    with:\n      message: \"{}\"\n",
        "a".repeat(1 << 20)
    );
    let laughs = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
                  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nname: x\nsteps: *g\n";
    let mut bomb = String::from("name: x\noutputs:\n  a: &a [x, x, x, x, x, x, x, x, x]\n");
    for (prev, name) in "abcdefghi".chars().zip("bcdefghij".chars()) {
        bomb.push_str(&format!(
            "  {name}: &{name} [{}]\n",
            vec![format!("*{prev}"); 9].join(", ")
        ));
    }
    bomb.push_str("steps:\n  - id: s\n    block: core.log\n    with:\n      message: *j\n");
    let inputs = [
        String::new(),
        "---".into(),
        "~".into(),
        "- a\n- b".into(),
        "name: x".into(),
        "name: x\nsteps: []\n".into(),
        "name: x\nsteps:\n  - id: a\n    block: core.log\n    with: { message: $.steps.a.output }\n".into(),
        "name: x\nsteps:\n  - id: a\n    block: core.set\n    with: { v: $.steps.b.output.v }\n  - id: b\n    block: core.set\n    with: { v: $.steps.a.output.v }\n".into(),
        deep_sequence,
        deep_mapping,
        deep_reference,
        deep_template,
        huge_scalar,
        laughs.into(),
        bomb,
    ];
    for input in &inputs {
        let started = std::time::Instant::now();
        let handle = std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn({
                let input = input.clone();
                move || survive(&input)
            })
            .expect("thread");
        let result = handle.join();
        assert!(
            result.is_ok(),
            "panicked on input starting {:?}",
            &input[..input.len().min(60)]
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "took {:?} on input starting {:?}",
            started.elapsed(),
            &input[..input.len().min(60)]
        );
    }
}
