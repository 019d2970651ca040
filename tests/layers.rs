//! The layer rules of docs/ARCHITECTURE.md, read off the source: the
//! service layer and the workers never name actix or the HTTP layer, the
//! store crate depends on no workspace crate but the matcher, the store's
//! aggregate modules never call each other, the import graph of `api/src`
//! has no cycle across modules, and route handlers are thin (no database
//! closure, at most 30 lines).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// Every `.rs` file under `dir`, with its module path relative to `dir`
/// (`http::routes` for `http/routes/mod.rs`, `` for `lib.rs`).
fn modules(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(root).expect("under root").with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    parts.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    parts.pop();
                }
                let text = std::fs::read_to_string(&p).expect("read source");
                out.insert(parts.join("::"), code_of(&text));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The code of a file without comments (doc links name modules too) and
/// without its `#[cfg(test)]` module (tests may reach anywhere).
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            // A `//` inside a string literal (a URL) keeps the line.
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths a file names after `prefix::` (`crate::a::b`, and each item
/// of `crate::{a::b, c}`), as `a::b`.
fn named_paths(code: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let pat = format!("{prefix}::");
    let mut rest = code;
    while let Some(i) = rest.find(&pat) {
        let before = rest[..i].chars().last();
        rest = &rest[i + pat.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find("};").or_else(|| group.find('}')).unwrap_or(0);
            for item in group[..end].split([',', '{', '}']) {
                let item = item.trim();
                if !item.is_empty() && item != "self" {
                    out.push(path_head(item));
                }
            }
        } else {
            out.push(path_head(rest));
        }
    }
    out
}

fn path_head(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect::<String>()
        .trim_end_matches(':')
        .to_string()
}

/// The module a path names: its longest prefix that is a module.
fn resolve(path: &str, known: &BTreeMap<String, String>) -> Option<String> {
    let segs: Vec<&str> = path.split("::").collect();
    (1..=segs.len())
        .rev()
        .map(|n| segs[..n].join("::"))
        .find(|m| known.contains_key(m))
}

/// Module → modules it imports (itself excluded).
fn import_graph(mods: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut g = BTreeMap::new();
    for (m, code) in mods {
        let mut to = BTreeSet::new();
        for p in named_paths(code, "crate") {
            if let Some(t) = resolve(&p, mods) {
                to.insert(t);
            }
        }
        let parent = m.rsplit_once("::").map_or("", |(p, _)| p);
        for p in named_paths(code, "super") {
            let full = if parent.is_empty() {
                p
            } else {
                format!("{parent}::{p}")
            };
            if let Some(t) = resolve(&full, mods) {
                to.insert(t);
            }
        }
        to.remove(m);
        g.insert(m.clone(), to);
    }
    g
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    impl<'a> T<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on.insert(v);
            for w in &self.g[v] {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if self.on.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(w);
                    comp.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out
}

/// A cycle between a module and its own children (a `mod.rs` and the
/// files beside it) is how Rust modules are written; any other is not.
fn module_and_children(comp: &[String]) -> bool {
    comp.iter().any(|parent| {
        comp.iter()
            .all(|m| m == parent || m.starts_with(&format!("{parent}::")))
    })
}

#[test]
fn the_api_import_graph_has_no_cycle_across_modules() {
    let mods = modules(&repo().join("api/src"));
    assert!(mods.len() > 40, "found only {} modules", mods.len());
    let bad: Vec<_> = cycles(&import_graph(&mods))
        .into_iter()
        .filter(|c| !module_and_children(c))
        .collect();
    assert!(bad.is_empty(), "import cycles in api/src: {bad:?}");
}

#[test]
fn the_store_import_graph_has_no_cycle() {
    let mods = modules(&repo().join("store/src"));
    let bad = cycles(&import_graph(&mods));
    assert!(bad.is_empty(), "import cycles in store/src: {bad:?}");
}

#[test]
fn services_and_workers_never_name_actix_or_the_http_layer() {
    let mods = modules(&repo().join("api/src"));
    let mut checked = 0;
    for (m, code) in &mods {
        if !(m.starts_with("service") || m.starts_with("worker")) {
            continue;
        }
        checked += 1;
        for banned in ["actix_web", "actix_http", "actix_cors", "crate::http"] {
            assert!(!code.contains(banned), "{m} names {banned}");
        }
    }
    assert!(checked >= 15, "only {checked} service and worker modules");
}

#[test]
fn the_store_depends_on_the_matcher_alone_and_never_on_actix() {
    let toml = std::fs::read_to_string(repo().join("store/Cargo.toml")).expect("store/Cargo.toml");
    let deps = toml
        .split("[dependencies]")
        .nth(1)
        .expect("a [dependencies] table")
        .split("\n[")
        .next()
        .unwrap_or("");
    let names: Vec<&str> = deps
        .lines()
        .filter_map(|l| l.split(['=', '.']).next())
        .map(str::trim)
        .filter(|n| !n.is_empty() && !n.starts_with('#'))
        .collect();
    assert!(names.contains(&"zhiqilian-matcher"), "{names:?}");
    for n in &names {
        assert!(
            !n.starts_with("zhiqilian") || *n == "zhiqilian-matcher",
            "the store depends on {n}"
        );
        assert!(!n.starts_with("actix"), "the store depends on {n}");
    }
    for (m, code) in modules(&repo().join("store/src")) {
        assert!(!code.contains("actix"), "store module {m} names actix");
    }
}

/// The store's aggregates (one table-access module each) never call one
/// another: a write that spans aggregates is a service's transaction. The
/// shared journals (change log, event log, audit log, notifications) and
/// the typed rows are what they may all use.
#[test]
fn store_aggregates_never_call_each_other() {
    const AGGREGATES: [&str; 8] = [
        "accounts", "cases", "clients", "listings", "matches", "threads", "webhooks", "wechat",
    ];
    let mods = modules(&repo().join("store/src"));
    let g = import_graph(&mods);
    for a in AGGREGATES {
        let to = g.get(a).unwrap_or_else(|| panic!("no store module {a}"));
        let calls: Vec<_> = to
            .iter()
            .filter(|t| AGGREGATES.contains(&t.as_str()))
            .collect();
        assert!(calls.is_empty(), "store::{a} uses {calls:?}");
    }
}

#[test]
fn the_checks_see_a_cycle_when_there_is_one() {
    let mut mods = BTreeMap::new();
    mods.insert("a".to_string(), "use crate::b::X;".to_string());
    mods.insert("b".to_string(), "use crate::{c::Y, d};".to_string());
    mods.insert("c".to_string(), "fn f() { crate::a::g() }".to_string());
    mods.insert("d".to_string(), String::new());
    mods.insert("p".to_string(), "use crate::p::q::Z;".to_string());
    mods.insert("p::q".to_string(), "use super::W;".to_string());
    let found = cycles(&import_graph(&mods));
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.contains(&vec!["a".into(), "b".into(), "c".into()]));
    let bad: Vec<_> = found.iter().filter(|c| !module_and_children(c)).collect();
    assert_eq!(bad, vec![&vec!["a".to_string(), "b".into(), "c".into()]]);
}

/// Each function of a file, whether it is a handler (`pub async fn`), and
/// its length in lines (signature to closing brace).
fn functions(code: &str) -> Vec<(String, bool, usize)> {
    let lines: Vec<&str> = code.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i].trim_start();
        let handler = l.starts_with("pub async fn ");
        let head = l
            .strip_prefix("pub ")
            .unwrap_or(l)
            .trim_start_matches("async ");
        let Some(rest) = head.strip_prefix("fn ") else {
            i += 1;
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let (mut depth, mut opened, mut j) = (0i64, false, i);
        while j < lines.len() {
            for ch in lines[j].chars() {
                match ch {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if opened && depth <= 0 {
                break;
            }
            j += 1;
        }
        out.push((name, handler, j - i + 1));
        i = j + 1;
    }
    out
}

/// The most lines a route handler may take: it parses, calls one use case
/// and maps the answer.
const HANDLER_MAX_LINES: usize = 30;
/// The most lines any other function of a route file may take (the event
/// stream's body, the metrics' gauges: HTTP work that is not a rule).
const HELPER_MAX_LINES: usize = 80;

/// The reasons a route file is not thin: a database closure, a handler
/// over [`HANDLER_MAX_LINES`] or another function over [`HELPER_MAX_LINES`].
fn thickness(file: &str, code: &str) -> Vec<String> {
    let mut why = Vec::new();
    if code.contains(".run(") || code.contains("db.run") {
        why.push(format!("{file} opens a database closure"));
    }
    for (name, handler, n) in functions(code) {
        let max = if handler {
            HANDLER_MAX_LINES
        } else {
            HELPER_MAX_LINES
        };
        if n > max {
            why.push(format!("{file}: {name} has {n} lines (at most {max})"));
        }
    }
    why
}

#[test]
fn route_handlers_are_thin() {
    let dir = repo().join("api/src/http/routes");
    let mut files = 0;
    let mut why = Vec::new();
    for e in std::fs::read_dir(&dir).expect("routes") {
        let p = e.expect("entry").path();
        if p.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        files += 1;
        let code = code_of(&std::fs::read_to_string(&p).expect("read"));
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        why.extend(thickness(&name, &code));
    }
    assert!(files >= 15, "only {files} route files");
    assert!(why.is_empty(), "{why:#?}");
}

#[test]
fn the_thinness_check_sees_a_thick_handler() {
    let mut body = String::from("pub async fn list(state: Data) -> R {\n");
    for _ in 0..HANDLER_MAX_LINES {
        body.push_str("    let x = 1;\n");
    }
    body.push_str("}\n");
    assert_eq!(thickness("a.rs", &body).len(), 1);
    assert!(thickness("a.rs", &body.replacen("pub async fn", "fn", 1)).is_empty());
    let closure = "pub async fn get(s: S) -> R {\n    s.db.run(move |c| f(c)).await\n}\n";
    assert_eq!(thickness("b.rs", closure).len(), 1);
    let thin = "pub async fn get(s: S) -> R {\n    Ok(svc::get(&s.db).await?)\n}\n";
    assert!(thickness("c.rs", thin).is_empty());
}
