//! The layers, checked on the source: every `crate::…` path in `src/**` (outside comments) must
//! point to a module its layer may use. Dependencies point down: the leaves (`api`, `store`,
//! `sim`, `s3`, `sanitize`, `text`, `backoff`, `file_download`) import no upper layer; `engine`
//! no `app`/`ui`/`runtime`/`cli`; `app` no `ui`/`runtime`/`cli`; `ui` no `runtime`/`cli`;
//! `runtime` no `cli`. Within `app`, `cli` and between `config`, `destination` and `s3`, no
//! file imports a file that imports it back (directly or through others).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The leaves: they may import each other, nothing else of the crate.
const LEAVES: &[&str] = &[
    "api",
    "store",
    "sim",
    "s3",
    "sanitize",
    "text",
    "backoff",
    "file_download",
];

/// What each upper module may not import (the table in `docs/architecture.md`).
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "theme",
        &["engine", "app", "ui", "runtime", "cli", "context", "config"],
    ),
    (
        "destination",
        &["engine", "app", "ui", "runtime", "cli", "context", "config"],
    ),
    (
        "config",
        &["engine", "app", "ui", "runtime", "cli", "context"],
    ),
    ("engine", &["app", "ui", "runtime", "cli", "context"]),
    ("context", &["app", "ui", "runtime", "cli"]),
    ("app", &["ui", "runtime", "cli", "context"]),
    ("ui", &["runtime", "cli", "context"]),
    ("runtime", &["cli"]),
];

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file: `src/app/composer/mod.rs` is `["app", "composer"]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file
        .strip_prefix(src)
        .expect("under src")
        .with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts
}

/// The code without comments (doc links name modules without depending on them).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            // Not inside a string: good enough for this crate's code, whose strings with `//`
            // (URLs) name no `crate::` path on the same line.
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path a file names from the crate root: `crate::a::b`, `super::x` (resolved against
/// the file's module), and each item of a `crate::a::{b, c::d}` group.
fn paths(module: &[String], is_mod_file: bool, text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let starts = rest.starts_with("crate::") || rest.starts_with("super::");
        let boundary = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b'$');
        if !(starts && boundary) {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let head: Vec<&str> = rest[..end].split("::").filter(|s| !s.is_empty()).collect();
        let mut base: Vec<String> = Vec::new();
        let mut words = head.iter().peekable();
        if words.peek() == Some(&&"crate") {
            words.next();
        } else {
            // `super` from `a/b.rs` (module a::b) is `a`; from `a/b/mod.rs` (also a::b) too.
            base = module.to_vec();
            let _ = is_mod_file;
            while words.peek() == Some(&&"super") {
                words.next();
                base.pop();
            }
        }
        base.extend(words.map(|w| w.to_string()));
        let after = &rest[end..];
        if let Some(group) = after.strip_prefix('{') {
            let close = group.find('}').unwrap_or(group.len());
            for item in group[..close].split(',') {
                let item = item.split(" as ").next().unwrap_or("").trim();
                let mut p = base.clone();
                p.extend(
                    item.split("::")
                        .filter(|s| !s.is_empty() && *s != "self" && *s != "*")
                        .map(str::to_string),
                );
                out.push(p);
            }
        } else {
            out.push(base);
        }
        i += end.max(1);
    }
    out
}

struct Crate {
    /// Module path of each file.
    files: BTreeMap<Vec<String>, PathBuf>,
    /// File → the files it names.
    edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
}

fn read_crate() -> Crate {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    sources(&src, &mut all);
    let files: BTreeMap<Vec<String>, PathBuf> = all
        .iter()
        .map(|f| (module_of(&src, f), f.clone()))
        .collect();
    let mut edges = BTreeMap::new();
    for (module, file) in &files {
        let text = std::fs::read_to_string(file).expect("read source");
        let is_mod = file.ends_with("mod.rs");
        let mut to = BTreeSet::new();
        for p in paths(module, is_mod, &code(&text)) {
            // The longest prefix that is a file.
            let target = (1..=p.len())
                .rev()
                .map(|n| p[..n].to_vec())
                .find(|m| files.contains_key(m));
            if let Some(t) = target
                && &t != module
            {
                to.insert(t);
            }
        }
        edges.insert(module.clone(), to);
    }
    Crate { files, edges }
}

/// The rule `from` breaks by naming `to`, if any.
fn broken_rule(from: &str, to: &str) -> Option<String> {
    if from == to || to.is_empty() {
        return None;
    }
    if LEAVES.contains(&from) && !LEAVES.contains(&to) {
        return Some(format!("`{from}` is a leaf and may import only leaves"));
    }
    FORBIDDEN
        .iter()
        .find(|(m, _)| *m == from)
        .filter(|(_, no)| no.contains(&to))
        .map(|_| format!("`{from}` may not import `{to}`"))
}

#[test]
fn every_crate_path_points_down_the_layer_table() {
    let krate = read_crate();
    let mut wrong = Vec::new();
    for (from, tos) in &krate.edges {
        let Some(top) = from.first() else { continue };
        for to in tos {
            if let Some(rule) = broken_rule(top, &to[0]) {
                wrong.push(format!(
                    "{} uses {}: {rule}",
                    from.join("::"),
                    to.join("::")
                ));
            }
        }
    }
    assert!(krate.files.len() > 100, "the source was read");
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_layer_check_sees_a_wrong_import() {
    // The rules themselves: each of these would fail the test above.
    for (from, to) in [
        ("api", "engine"),
        ("s3", "config"),
        ("engine", "app"),
        ("app", "ui"),
        ("app", "runtime"),
        ("ui", "runtime"),
        ("runtime", "cli"),
    ] {
        assert!(broken_rule(from, to).is_some(), "{from} -> {to} passes");
    }
    for (from, to) in [
        ("cli", "runtime"),
        ("runtime", "app"),
        ("ui", "app"),
        ("api", "backoff"),
    ] {
        assert!(broken_rule(from, to).is_none(), "{from} -> {to} is refused");
    }
    // And the reading: a `use` group and a `super` path are seen.
    let module = vec!["app".to_string(), "queue".to_string()];
    let found = paths(
        &module,
        false,
        "use crate::{ui::table, runtime};\nlet x = super::state::State;",
    );
    assert!(found.contains(&vec!["ui".to_string(), "table".to_string()]));
    assert!(found.contains(&vec!["runtime".to_string()]));
    assert!(found.contains(&vec![
        "app".to_string(),
        "state".to_string(),
        "State".to_string()
    ]));
}

/// Circles among the files of `group` (strongly connected parts of two files or more).
fn circles(krate: &Crate, group: impl Fn(&[String]) -> bool) -> Vec<Vec<String>> {
    let nodes: Vec<&Vec<String>> = krate.files.keys().filter(|m| group(m)).collect();
    let reach = |from: &Vec<String>| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(n) = todo.pop() {
            for t in krate.edges.get(&n).into_iter().flatten() {
                if group(t) && seen.insert(t.clone()) {
                    todo.push(t.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&Vec<String>, BTreeSet<Vec<String>>> =
        nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for n in &nodes {
        let mut part: Vec<String> = nodes
            .iter()
            .filter(|m| m != &n && reaches[*n].contains(**m) && reaches[*m].contains(*n))
            .map(|m| m.join("::"))
            .collect();
        if !part.is_empty() {
            part.push(n.join("::"));
            part.sort();
            if !out.contains(&part) {
                out.push(part);
            }
        }
    }
    out
}

#[test]
fn config_destination_and_s3_form_no_circle() {
    let krate = read_crate();
    let found = circles(&krate, |m| {
        matches!(
            m.first().map(String::as_str),
            Some("config" | "destination" | "s3")
        )
    });
    assert!(found.is_empty(), "import circles: {found:?}");
}
