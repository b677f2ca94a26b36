//! The layers, checked on the source: every `crate::…` path in `src/**` (outside comments) must
//! point to a module its layer may use. Dependencies point down: the leaves (`api`, `store`,
//! `sim`, `s3`, `sanitize`, `text`, `backoff`, `file_download`) import no upper layer; `engine`
//! no `app`/`ui`/`runtime`/`cli`; `app` no `ui`/`runtime`/`cli`; `ui` no `runtime`/`cli`;
//! `runtime` no `cli`. Within `app` and `cli` no file imports a file that imports it back
//! (directly or through others), and neither do `config`, `destination` and `s3` one another.
//! A path through a re-export (`crate::app::State`) names the file that defines the item.

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

/// The code with comments, string and character literals blanked (newlines kept): doc links
/// name modules without depending on them, and a brace in a string would miscount scopes.
fn code(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
        } else if c == 'r'
            && matches!(next, Some('"' | '#'))
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_'))
        {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let hashes = j - i - 1;
            j += 1;
            while j < chars.len()
                && !(chars[j] == '"' && (1..=hashes).all(|h| chars.get(j + h) == Some(&'#')))
            {
                blank(&mut out, chars[j]);
                j += 1;
            }
            out.push_str("\"\"");
            i = j + 1 + hashes;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if let Some(&c) = chars.get(i) {
                    blank(&mut out, c);
                }
                i += 1;
            }
            out.push_str("\"\"");
            i += 1;
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal ('x', '\n', '\u{7f}'); a lifetime ('a) is left alone.
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            out.push_str("' '");
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Path,
    Punct(char),
}

fn tokens(code: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            let mut word = c.to_string();
            while let Some(&n) = chars.peek() {
                if !(n.is_alphanumeric() || n == '_') {
                    break;
                }
                word.push(n);
                chars.next();
            }
            out.push(Token::Word(word));
        } else if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            out.push(Token::Path);
        } else if !c.is_whitespace() {
            out.push(Token::Punct(c));
        }
    }
    out
}

/// What one file names of the crate, from its module path and its code (see `code`).
#[derive(Default)]
struct Names {
    /// Every crate path the file names, from the crate root: `crate::a::b`, `super::x`
    /// (against the file's module, or the inline module it is written in), `self::x`, a child
    /// module's `child::x`, and each item of a `use` group.
    paths: Vec<Vec<String>>,
    /// What the file's own `use` items bind (`pub use msg::Msg` binds `Msg`), so a path through
    /// a re-export resolves to the file the item lives in.
    binds: BTreeMap<String, Vec<String>>,
}

fn names(module: &[String], code: &str) -> Names {
    let toks = tokens(code);
    let word = |i: usize| match toks.get(i) {
        Some(Token::Word(w)) => Some(w.as_str()),
        _ => None,
    };
    // Child modules declared by the file (`mod x;`), named without a prefix.
    let children: BTreeSet<&str> = (0..toks.len())
        .filter(|&i| word(i) == Some("mod") && toks.get(i + 2) == Some(&Token::Punct(';')))
        .filter_map(|i| word(i + 1))
        .collect();
    let mut found = Names::default();
    // Inline modules (`mod tests { … }`) and the brace depth inside each.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        let scope: Vec<String> = module
            .iter()
            .cloned()
            .chain(inline.iter().map(|(m, _)| m.clone()))
            .collect();
        // The absolute start of a path whose first word is at `j`, if it is the crate's.
        let root = |j: usize| -> Option<Vec<String>> {
            match word(j)? {
                "crate" => Some(Vec::new()),
                "self" => Some(scope.clone()),
                "super" => {
                    let mut base = scope.clone();
                    let mut k = j;
                    while word(k) == Some("super") {
                        base.pop();
                        k += 2;
                    }
                    Some(base)
                }
                w if inline.is_empty() && children.contains(w) => Some(module.to_vec()),
                _ => None,
            }
        };
        match &toks[i] {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d > depth) {
                    inline.pop();
                }
            }
            Token::Word(w) if w == "mod" => {
                if let (Some(name), Some(Token::Punct('{'))) = (word(i + 1), toks.get(i + 2)) {
                    depth += 1;
                    inline.push((name.to_string(), depth));
                    i += 3;
                    continue;
                }
            }
            Token::Word(w) if w == "use" => {
                let end = (i..toks.len())
                    .find(|&k| toks[k] == Token::Punct(';'))
                    .unwrap_or(toks.len());
                let mut items = Vec::new();
                use_tree(&toks[i + 1..end], Vec::new(), &mut items);
                for (path, bound) in items {
                    let Some(first) = path.first() else { continue };
                    let at = toks[i + 1..end]
                        .iter()
                        .position(|t| t == &Token::Word(first.clone()))
                        .map_or(i + 1, |p| p + i + 1);
                    let Some(mut abs) = root(at) else { continue };
                    let skip = match first.as_str() {
                        "crate" | "self" => 1,
                        "super" => path.iter().take_while(|w| *w == "super").count(),
                        _ => 0,
                    };
                    abs.extend(path[skip..].iter().cloned());
                    if let Some(bound) = bound
                        && inline.is_empty()
                    {
                        found.binds.insert(bound, abs.clone());
                    }
                    found.paths.push(abs);
                }
                i = end;
                continue;
            }
            Token::Word(_)
                if toks.get(i + 1) == Some(&Token::Path)
                    && !matches!(
                        toks.get(i.wrapping_sub(1)),
                        Some(Token::Path | Token::Punct('$'))
                    ) =>
            {
                if let Some(mut abs) = root(i) {
                    let mut k = i;
                    while matches!(word(k), Some("crate" | "self" | "super")) {
                        k += 2;
                    }
                    if matches!(word(i), Some(w) if children.contains(w)) && inline.is_empty() {
                        k = i;
                    }
                    while let Some(w) = word(k) {
                        abs.push(w.to_string());
                        if toks.get(k + 1) != Some(&Token::Path) {
                            break;
                        }
                        k += 2;
                    }
                    found.paths.push(abs);
                    i = k + 1;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// The items of a `use` tree: each path (as written) and the name it binds, if one.
fn use_tree(toks: &[Token], prefix: Vec<String>, out: &mut Vec<(Vec<String>, Option<String>)>) {
    let mut path = prefix;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Token::Word(w) if w == "pub" => {
                // `pub(crate) use` has its visibility before `use`; nothing to do here.
            }
            Token::Word(w) if w == "as" => {
                let alias = match toks.get(i + 1) {
                    Some(Token::Word(a)) if a != "_" => Some(a.clone()),
                    _ => None,
                };
                out.push((path.clone(), alias));
                return;
            }
            Token::Word(w) => path.push(w.clone()),
            Token::Path => {}
            Token::Punct('*') => {
                out.push((path.clone(), None));
                return;
            }
            Token::Punct('{') => {
                // Split the group's items at the commas of its own level.
                let mut level = 0;
                let mut start = i + 1;
                for k in i + 1..toks.len() {
                    match toks[k] {
                        Token::Punct('{') => level += 1,
                        Token::Punct('}') if level == 0 => {
                            if start < k {
                                use_tree(&toks[start..k], path.clone(), out);
                            }
                            return;
                        }
                        Token::Punct('}') => level -= 1,
                        Token::Punct(',') if level == 0 => {
                            if start < k {
                                use_tree(&toks[start..k], path.clone(), out);
                            }
                            start = k + 1;
                        }
                        _ => {}
                    }
                }
                return;
            }
            Token::Punct(_) => {}
        }
        i += 1;
    }
    if path.last().is_some_and(|w| w == "self") {
        path.pop();
    }
    let bound = path.last().cloned();
    out.push((path, bound));
}

/// Every path a file names from the crate root (see `Names::paths`).
fn paths(module: &[String], text: &str) -> Vec<Vec<String>> {
    names(module, &code(text)).paths
}

struct Crate {
    /// Module path of each file.
    files: BTreeMap<Vec<String>, PathBuf>,
    /// File → the files it names.
    edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
}

/// The file a crate path lands in: the longest prefix that is a file, followed through that
/// file's `use` if the next word is a name it binds (a re-export, or a `super::Name`).
fn resolve(
    files: &BTreeMap<Vec<String>, PathBuf>,
    binds: &BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>>,
    path: &[String],
    hops: usize,
) -> Option<Vec<String>> {
    let file = (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|m| files.contains_key(m))?;
    let rest = &path[file.len()..];
    if hops < 16
        && let Some(first) = rest.first()
        && let Some(target) = binds.get(&file).and_then(|b| b.get(first))
        && target.as_slice() != path
    {
        let mut next = target.clone();
        next.extend(rest[1..].iter().cloned());
        return resolve(files, binds, &next, hops + 1).or(Some(file));
    }
    Some(file)
}

fn read_crate() -> Crate {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    sources(&src, &mut all);
    let files: BTreeMap<Vec<String>, PathBuf> = all
        .iter()
        .map(|f| (module_of(&src, f), f.clone()))
        .collect();
    let named: BTreeMap<Vec<String>, Names> = files
        .iter()
        .map(|(module, file)| {
            let text = std::fs::read_to_string(file).expect("read source");
            (module.clone(), names(module, &code(&text)))
        })
        .collect();
    let binds = named
        .iter()
        .map(|(m, n)| (m.clone(), n.binds.clone()))
        .collect();
    let edges = named
        .iter()
        .map(|(module, n)| {
            let to = n
                .paths
                .iter()
                .filter_map(|p| resolve(&files, &binds, p, 0))
                .filter(|t| t != module && !t.is_empty())
                .collect();
            (module.clone(), to)
        })
        .collect();
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

/// Circles among the nodes `node` maps files to (files outside the group map to `None`):
/// strongly connected parts of two nodes or more, each sorted.
fn circles(krate: &Crate, node: impl Fn(&[String]) -> Option<String>) -> Vec<Vec<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in &krate.edges {
        let Some(a) = node(from) else { continue };
        let out = edges.entry(a.clone()).or_default();
        for b in tos.iter().filter_map(|t| node(t)) {
            if b != a {
                out.insert(b);
            }
        }
    }
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(n) = todo.pop() {
            for t in edges.get(&n).into_iter().flatten() {
                if seen.insert(t.clone()) {
                    todo.push(t.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        edges.keys().map(|n| (n, reach(n))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for (n, from_n) in &reaches {
        let mut part: Vec<String> = from_n
            .iter()
            .filter(|m| *m != *n && reaches.get(m).is_some_and(|r| r.contains(*n)))
            .cloned()
            .collect();
        if !part.is_empty() {
            part.push((*n).clone());
            part.sort();
            if !out.contains(&part) {
                out.push(part);
            }
        }
    }
    out
}

/// Each file of the top module `top` as a node of its own.
fn files_of(top: &'static str) -> impl Fn(&[String]) -> Option<String> {
    move |m| (m.first().is_some_and(|t| t == top)).then(|| m.join("::"))
}

#[test]
fn config_destination_and_s3_form_no_circle() {
    let krate = read_crate();
    // Between the three modules (`s3`'s own files are one node here).
    let found = circles(&krate, |m| {
        m.first()
            .filter(|t| matches!(t.as_str(), "config" | "destination" | "s3"))
            .cloned()
    });
    assert!(found.is_empty(), "import circles: {found:?}");
}

/// The circles of `group` as the failure says them: each part's size and its files.
fn circle_report(found: &[Vec<String>]) -> String {
    found
        .iter()
        .map(|part| format!("{} files: {}", part.len(), part.join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_files_of_app_form_no_circle() {
    let krate = read_crate();
    let found = circles(&krate, files_of("app"));
    assert!(
        found.is_empty(),
        "import circles in app:\n{}",
        circle_report(&found)
    );
}

#[test]
fn the_files_of_cli_form_no_circle() {
    let krate = read_crate();
    let found = circles(&krate, files_of("cli"));
    assert!(
        found.is_empty(),
        "import circles in cli:\n{}",
        circle_report(&found)
    );
}

#[test]
fn the_circle_check_sees_a_back_edge() {
    let mut krate = read_crate();
    let module = |s: &str| s.split("::").map(str::to_string).collect::<Vec<_>>();
    let mut add = |from: &str, to: &str| {
        krate
            .edges
            .get_mut(&module(from))
            .unwrap_or_else(|| panic!("{from} is read"))
            .insert(module(to));
    };
    // `msg` naming the reducer that reads it: `update` imports `msg`, so this closes a circle.
    add("app::msg", "app::update");
    // The composer's data naming its dispatcher.
    add("app::types::composer", "app::composer::dispatch");
    // `cli::exit` naming `cli/mod.rs`, which imports it.
    add("cli::exit", "cli");
    let app = circles(&krate, files_of("app"));
    let has = |found: &[Vec<String>], a: &str, b: &str| {
        found
            .iter()
            .any(|part| part.iter().any(|m| m == a) && part.iter().any(|m| m == b))
    };
    assert!(has(&app, "app::msg", "app::update"), "{app:?}");
    assert!(
        has(&app, "app::types::composer", "app::composer::dispatch"),
        "{app:?}"
    );
    let cli = circles(&krate, files_of("cli"));
    assert!(has(&cli, "cli::exit", "cli"), "{cli:?}");
}

#[test]
fn a_re_export_is_followed_to_the_file_that_defines_the_item() {
    // `app/mod.rs` binds `State` to `app::state`: naming `crate::app::State` depends on that
    // file, not on `app/mod.rs` (which imports every reducer).
    let krate = read_crate();
    let module = |s: &str| s.split("::").map(str::to_string).collect::<Vec<_>>();
    let tos = &krate.edges[&module("app::navigation")];
    assert!(tos.contains(&module("app::state")), "{tos:?}");
    assert!(tos.contains(&module("app::types::sort")), "{tos:?}");
    // And a `use` inside an inline `mod tests { … }` resolves `super` against that module.
    let found = paths(
        &module("app::state"),
        "mod tests {\n    use super::*;\n    use super::super::msg::Msg;\n}\nuse super::layout;",
    );
    assert!(found.contains(&module("app::state")), "{found:?}");
    assert!(found.contains(&module("app::msg::Msg")), "{found:?}");
    assert!(found.contains(&module("app::layout")), "{found:?}");
}
