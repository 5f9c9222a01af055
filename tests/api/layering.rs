//! The layering of `src/` (ARCHITECTURE.md, "Layering"), checked from the
//! code: every `crate::…`, `super::…` and `self::…` path (in `use` trees,
//! grouped ones included, and inline in code; comments and string contents
//! excluded, test code included) becomes an edge between the top-level
//! modules of `src/`, and between the files of `src/http/`. The test fails,
//! naming file:line, on
//! (a) a cycle between top-level modules,
//! (b) an edge from a floor to a higher one ([`FLOORS`]),
//! (c) a cycle between the files of `src/http/`,
//! and on a top-level module that has no floor yet.
//!
//! A `#[path]` file is part of the module that includes it; `super::` in an
//! inline `mod tests { … }` is the file's own module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Bottom up. Modules on one floor may use each other (without a cycle).
const FLOORS: &[&[&str]] = &[
    &["domain"],
    &["config", "auth", "metrics", "telemetry"],
    &["store"],
    &["storage"],
    &["export", "import", "backup", "seed"],
    &["jobs"],
    &["service"],
    &["http", "web", "router"],
    &["app"],
    &["cli"],
    &["main", "lib", "bin"],
];

fn floor(top: &str) -> Option<usize> {
    FLOORS.iter().position(|f| f.contains(&top))
}

/// One use of a path: from a file (the one that owns the module) to the
/// file of the module it names.
#[derive(Debug, Clone)]
struct Edge {
    from_file: String,
    line: usize,
    from_top: String,
    to_file: String,
    to_top: String,
    path: String,
}

impl Edge {
    fn at(&self) -> String {
        format!(
            "src/{}:{} ({} → {}: {})",
            self.from_file, self.line, self.from_top, self.to_top, self.path
        )
    }
}

/// What is wrong, one line each.
#[derive(Debug, Default)]
struct Findings {
    cycles: Vec<String>,
    upward: Vec<String>,
    http_cycles: Vec<String>,
    unknown: Vec<String>,
}

impl Findings {
    fn is_clean(&self) -> bool {
        self.cycles.is_empty()
            && self.upward.is_empty()
            && self.http_cycles.is_empty()
            && self.unknown.is_empty()
    }
}

// ---- lexing: comments out, string and char contents blanked ----

/// The source with comments (line, block, doc) and the insides of string
/// and char literals replaced by spaces; newlines are kept, so lines count.
fn clean(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if ch == 'r'
            && (i == 0 || !ident(c[i - 1]) || (c[i - 1] == 'b' && (i < 2 || !ident(c[i - 2]))))
            && matches!(next, Some('"') | Some('#'))
            && {
                let mut j = i + 1;
                while c.get(j) == Some(&'#') {
                    j += 1;
                }
                c.get(j) == Some(&'"')
            }
        {
            // r"…", r#"…"#: no escapes inside.
            let mut hashes = 0;
            out.push('r');
            i += 1;
            while c[i] == '#' {
                hashes += 1;
                out.push('#');
                i += 1;
            }
            out.push('"');
            i += 1;
            while i < c.len() {
                if c[i] == '"' && (1..=hashes).all(|k| c.get(i + k) == Some(&'#')) {
                    out.push('"');
                    out.extend(std::iter::repeat_n('#', hashes));
                    i += 1 + hashes;
                    break;
                }
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if ch == '"' {
            out.push('"');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    blank(&mut out, c[i]);
                    i += 1;
                }
                if i < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            out.push('"');
            i += 1;
        } else if ch == '\'' {
            // A char literal ('x', '\n', '\u{1F600}') or a lifetime ('a).
            let close = if next == Some('\\') {
                (i + 3..c.len()).find(|&j| c[j] == '\'')
            } else if c.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match close {
                Some(end) => {
                    out.push('\'');
                    for &x in &c[i + 1..end] {
                        blank(&mut out, x);
                    }
                    out.push('\'');
                    i = end + 1;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(ch);
            i += 1;
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
struct Tok {
    text: String,
    line: usize,
}

fn tokens(clean: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let c: Vec<char> = clean.chars().collect();
    let (mut i, mut line) = (0, 1);
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(Tok {
                text: c[start..i].iter().collect(),
                line,
            });
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push(Tok {
                text: "::".into(),
                line,
            });
            i += 2;
        } else {
            out.push(Tok {
                text: ch.to_string(),
                line,
            });
            i += 1;
        }
    }
    out
}

// ---- paths ----

/// A path as written, where, and in which (file + inline) module.
#[derive(Debug, Clone)]
struct Use {
    segments: Vec<String>,
    line: usize,
    module: Vec<String>,
}

/// `use` trees expanded, plus inline `crate::`/`super::`/`self::` paths.
fn paths(toks: &[Tok], file_module: &[String]) -> Vec<Use> {
    let mut out = Vec::new();
    // Inline modules: (name, brace depth outside them).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let module = |inline: &[(String, usize)]| {
        let mut m = file_module.to_vec();
        m.extend(inline.iter().map(|(n, _)| n.clone()));
        m
    };
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i].text.as_str();
        let prev = |k: usize| i.checked_sub(k).map(|j| toks[j].text.as_str());
        match t {
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            "mod" if toks.get(i + 2).is_some_and(|x| x.text == "{") => {
                inline.push((toks[i + 1].text.clone(), depth));
            }
            "use" if prev(1) != Some("$") => {
                let m = module(&inline);
                let mut j = i + 1;
                let mut found = Vec::new();
                use_tree(toks, &mut j, Vec::new(), &mut found);
                for (segments, line) in found {
                    out.push(Use {
                        segments,
                        line,
                        module: m.clone(),
                    });
                }
                i = j;
                continue;
            }
            // `crate::…`, `super::…`, `self::…`, and `child::…` (a child
            // module of this one, told apart when resolved).
            t if is_ident(t)
                && toks.get(i + 1).is_some_and(|x| x.text == "::")
                && prev(1) != Some("$")
                && prev(1) != Some("::")
                && !(prev(1) == Some("in") && prev(2) == Some("(")) =>
            {
                let mut segments = vec![t.to_string()];
                let mut j = i + 1;
                while toks.get(j).is_some_and(|x| x.text == "::")
                    && toks.get(j + 1).is_some_and(|x| is_ident(&x.text))
                {
                    segments.push(toks[j + 1].text.clone());
                    j += 2;
                }
                out.push(Use {
                    segments,
                    line: toks[i].line,
                    module: module(&inline),
                });
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn is_ident(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Expands one use tree at `toks[*j]` (until `;`, `,` or `}` of the
/// enclosing group) into full paths with their lines.
fn use_tree(toks: &[Tok], j: &mut usize, prefix: Vec<String>, out: &mut Vec<(Vec<String>, usize)>) {
    let mut path = prefix;
    let mut line = toks.get(*j).map_or(0, |t| t.line);
    if toks.get(*j).is_some_and(|t| t.text == "::") {
        *j += 1; // `use ::extern_crate::…`
    }
    loop {
        let Some(t) = toks.get(*j) else { return };
        match t.text.as_str() {
            "{" => {
                *j += 1;
                loop {
                    match toks.get(*j).map(|t| t.text.as_str()) {
                        None => return,
                        Some("}") => {
                            *j += 1;
                            break;
                        }
                        Some(",") => *j += 1,
                        Some(_) => use_tree(toks, j, path.clone(), out),
                    }
                }
                return;
            }
            "*" => {
                *j += 1;
                out.push((path, line));
                return;
            }
            s if is_ident(s) => {
                if path.is_empty() {
                    line = t.line;
                }
                if s != "self" || path.is_empty() {
                    path.push(s.to_string());
                }
                *j += 1;
                match toks.get(*j).map(|t| t.text.as_str()) {
                    Some("::") => *j += 1,
                    Some("as") => {
                        *j += 2;
                        out.push((path, line));
                        return;
                    }
                    _ => {
                        out.push((path, line));
                        return;
                    }
                }
            }
            _ => {
                // `;` or anything unexpected ends the tree.
                if !path.is_empty() {
                    out.push((path, line));
                }
                return;
            }
        }
    }
}

// ---- the graph ----

/// The module a file defines, by its place under `src/`.
fn module_of(rel: &str) -> Vec<String> {
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut parts: Vec<String> = rel.split('/').map(String::from).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] {
        parts.clear();
    }
    parts
}

fn top_of(rel: &str, module: &[String]) -> String {
    if rel == "main.rs" {
        "main".into()
    } else if rel.starts_with("bin/") {
        "bin".into()
    } else {
        module.first().cloned().unwrap_or_else(|| "lib".into())
    }
}

/// `#[path = "x.rs"] mod name;` in `src`: (file relative to `src/`, name).
fn path_attrs(rel: &str, src: &str) -> Vec<(String, String)> {
    let dir = Path::new(rel).parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(at) = rest.find("#[path") {
        rest = &rest[at + 6..];
        let Some(q1) = rest.find('"') else { break };
        let Some(q2) = rest[q1 + 1..].find('"') else {
            break;
        };
        let target = &rest[q1 + 1..q1 + 1 + q2];
        let after = &rest[q1 + 2 + q2..];
        let Some(m) = after.find("mod ") else { break };
        let name: String = after[m + 4..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let file = dir.join(target).to_string_lossy().replace('\\', "/");
        out.push((file, name));
    }
    out
}

/// Checks `files` (path relative to `src/`, source).
fn analyze(files: &[(String, String)]) -> Findings {
    // File → (module, owning file): a #[path] file belongs to its includer.
    let mut modules: BTreeMap<String, (Vec<String>, String)> = files
        .iter()
        .map(|(rel, _)| (rel.clone(), (module_of(rel), rel.clone())))
        .collect();
    for (rel, src) in files {
        for (target, name) in path_attrs(rel, src) {
            let (mut m, owner) = modules[rel].clone();
            m.push(name);
            modules.insert(target, (m, owner));
        }
    }
    // Module → the file that owns it (#[path] children excluded: they are
    // inside their includer's module).
    let by_module: BTreeMap<Vec<String>, String> = modules
        .values()
        .map(|(m, owner)| (m.clone(), owner.clone()))
        .collect();
    let mut edges = Vec::new();
    for (rel, src) in files {
        let (module, owner) = &modules[rel];
        let from_top = top_of(owner, &modules[owner].0);
        // main.rs and bin/ are other crates: they reach the library as `pulse::…`.
        let other_crate = rel == "main.rs" || rel.starts_with("bin/");
        for u in paths(&tokens(&clean(src)), module) {
            let Some(abs) = resolve(&u, &by_module, other_crate) else {
                continue;
            };
            let to_file = (0..=abs.len())
                .rev()
                .find_map(|n| by_module.get(&abs[..n]))
                .cloned()
                .unwrap_or_else(|| "lib.rs".into());
            let to_top = abs.first().cloned().unwrap_or_else(|| "lib".into());
            if to_file == *owner {
                continue;
            }
            edges.push(Edge {
                from_file: owner.clone(),
                line: u.line,
                from_top: from_top.clone(),
                to_file,
                to_top,
                path: u.segments.join("::"),
            });
        }
    }
    check(&edges, files)
}

/// The absolute module path a use names, if it names one of ours.
fn resolve(
    u: &Use,
    by_module: &BTreeMap<Vec<String>, String>,
    other_crate: bool,
) -> Option<Vec<String>> {
    let s = &u.segments;
    let first = s.first()?.as_str();
    let (mut base, rest): (Vec<String>, &[String]) = match first {
        "pulse" if other_crate => (Vec::new(), &s[1..]),
        "crate" | "self" | "super" if other_crate => return None,
        "crate" => (Vec::new(), &s[1..]),
        "self" => (u.module.clone(), &s[1..]),
        "super" => {
            let mut m = u.module.clone();
            let mut k = 0;
            while s.get(k).is_some_and(|x| x == "super") {
                m.pop()?;
                k += 1;
            }
            (m, &s[k..])
        }
        // `child::…` (in a use tree: uniform paths): a child module of this one.
        name if !other_crate => {
            let mut m = u.module.clone();
            m.push(name.to_string());
            if !by_module.contains_key(&m) {
                return None;
            }
            (u.module.clone(), &s[..])
        }
        _ => return None,
    };
    base.extend(rest.iter().cloned());
    Some(base)
}

fn check(edges: &[Edge], files: &[(String, String)]) -> Findings {
    let mut f = Findings::default();
    let tops: BTreeSet<String> = files
        .iter()
        .map(|(rel, _)| top_of(rel, &module_of(rel)))
        .collect();
    for t in &tops {
        if floor(t).is_none() {
            f.unknown.push(format!(
                "src/{t}: a top-level module with no floor in tests/api/layering.rs FLOORS"
            ));
        }
    }
    for e in edges {
        if let (Some(a), Some(b)) = (floor(&e.from_top), floor(&e.to_top))
            && a < b
        {
            f.upward.push(e.at());
        }
    }
    let top_edges: Vec<(&str, &str, &Edge)> = edges
        .iter()
        .filter(|e| e.from_top != e.to_top)
        .map(|e| (e.from_top.as_str(), e.to_top.as_str(), e))
        .collect();
    f.cycles = cycles(&top_edges);
    let http_edges: Vec<(&str, &str, &Edge)> = edges
        .iter()
        .filter(|e| e.from_file.starts_with("http/") && e.to_file.starts_with("http/"))
        .map(|e| (e.from_file.as_str(), e.to_file.as_str(), e))
        .collect();
    f.http_cycles = cycles(&http_edges);
    f
}

/// Every strongly connected component of more than one node, with the
/// edges inside it (Tarjan's algorithm).
fn cycles(edges: &[(&str, &str, &Edge)]) -> Vec<String> {
    let mut adj: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for &(a, b, _) in edges {
        adj.entry(a).or_default().insert(b);
        adj.entry(b).or_default();
    }
    struct T<'a> {
        adj: &'a BTreeMap<&'a str, BTreeSet<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        sccs: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        for &w in &t.adj[v] {
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                scc.push(w);
                if w == v {
                    break;
                }
            }
            t.sccs.push(scc);
        }
    }
    let mut t = T {
        adj: &adj,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        sccs: Vec::new(),
    };
    for &v in adj.keys() {
        if !t.index.contains_key(v) {
            visit(&mut t, v);
        }
    }
    let mut out = Vec::new();
    for mut scc in t.sccs.into_iter().filter(|s| s.len() > 1) {
        scc.sort();
        let inside: BTreeSet<&str> = scc.iter().copied().collect();
        let mut lines = vec![format!("cycle through {}:", scc.join(", "))];
        for (a, b, e) in edges {
            if inside.contains(a) && inside.contains(b) {
                lines.push(format!("    {}", e.at()));
            }
        }
        out.push(lines.join("\n"));
    }
    out
}

fn read_src() -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, root, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out
}

#[test]
fn src_keeps_its_floors_without_cycles() {
    let files = read_src();
    assert!(files.len() > 50, "src/ not found: {} files", files.len());
    let f = analyze(&files);
    let mut report = String::new();
    for (title, items) in [
        ("top-level modules without a floor", &f.unknown),
        ("cycles between top-level modules of src/", &f.cycles),
        ("edges from a lower floor to a higher one", &f.upward),
        ("cycles between the files of src/http/", &f.http_cycles),
    ] {
        if !items.is_empty() {
            report.push_str(&format!("\n{title}:\n"));
            for i in items {
                report.push_str(&format!("  {i}\n"));
            }
        }
    }
    assert!(
        f.is_clean(),
        "the layering of ARCHITECTURE.md does not hold (floors bottom up: {FLOORS:?}):{report}"
    );
}

#[test]
fn the_checker_finds_cycles_and_upward_edges() {
    let file = |p: &str, s: &str| (p.to_string(), s.to_string());
    let files = vec![
        file("lib.rs", "pub mod domain;\npub mod store;\npub mod http;\n"),
        file(
            "domain/mod.rs",
            "// use crate::http::X;\n/* crate::http::Y /* nested */ crate::cli::Z */\n/// crate::http::Z\nuse crate::store::Thing;\npub mod lead;\n",
        ),
        file(
            "domain/lead.rs",
            "pub fn f() { let c = '\"'; let s = \"crate::http::x\"; }\nfn g<'a>(x: &'a str) -> &'a str { x }\n",
        ),
        file(
            "store/mod.rs",
            "use crate::{\n    domain::{Lead, lead::f},\n    config::Y,\n};\nmod filter;\nfn f() { let s = r#\"crate::http::q\"#; crate::domain::lead::f(); }\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
        ),
        file(
            "store/filter.rs",
            "#[cfg(test)]\n#[path = \"filter_tests.rs\"]\nmod tests;\n",
        ),
        file(
            "store/filter_tests.rs",
            "use super::*;\nuse super::super::Thing;\n",
        ),
        file("config.rs", "pub struct Y;\n"),
        file(
            "http/mod.rs",
            "mod a;\nmod b;\nmod c;\npub(in crate::http) fn shared() {}\nfn router() { c::routes() }\n",
        ),
        file("http/a.rs", "use super::b::g;\npub fn f() {}\n"),
        file("http/b.rs", "pub fn g() {\n    super::a::f()\n}\n"),
        file("http/c.rs", "use super::shared;\npub fn routes() {}\n"),
        file("cli/mod.rs", "use crate::http::shared;\n"),
        file("gadget/mod.rs", "use crate::domain::Lead;\n"),
    ];
    let f = analyze(&files);
    assert_eq!(
        f.upward,
        vec!["src/domain/mod.rs:4 (domain → store: crate::store::Thing)"],
        "{f:#?}"
    );
    assert_eq!(f.cycles.len(), 1, "{f:#?}");
    assert!(
        f.cycles[0].starts_with("cycle through domain, store:")
            && f.cycles[0].contains("src/domain/mod.rs:4")
            && f.cycles[0].contains("src/store/mod.rs:2"),
        "{f:#?}"
    );
    assert_eq!(f.http_cycles.len(), 2, "{f:#?}");
    assert!(
        f.http_cycles[0].starts_with("cycle through http/a.rs, http/b.rs:")
            && f.http_cycles[0].contains("src/http/a.rs:1")
            && f.http_cycles[0].contains("src/http/b.rs:2"),
        "{f:#?}"
    );
    // mod.rs names its child by a relative path (`c::routes()`).
    assert!(
        f.http_cycles[1].starts_with("cycle through http/c.rs, http/mod.rs:")
            && f.http_cycles[1].contains("src/http/mod.rs:5 (http → http: c::routes)")
            && f.http_cycles[1].contains("src/http/c.rs:1"),
        "{f:#?}"
    );
    assert_eq!(f.unknown.len(), 1, "{f:#?}");
    assert!(f.unknown[0].starts_with("src/gadget"), "{f:#?}");
    // The clean parts stay clean: the same house without its bad lines.
    let fixed: Vec<(String, String)> = files
        .into_iter()
        .filter(|(p, _)| p != "gadget/mod.rs")
        .map(|(p, s)| match p.as_str() {
            "domain/mod.rs" => (p, s.replace("use crate::store::Thing;", "")),
            "http/b.rs" => (p, s.replace("super::a::f()", "")),
            "http/mod.rs" => (p, s.replace("c::routes()", "")),
            _ => (p, s),
        })
        .collect();
    let f = analyze(&fixed);
    assert!(f.is_clean(), "{f:#?}");
}
