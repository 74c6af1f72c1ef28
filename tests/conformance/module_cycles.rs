//! The crate's module graph has no import circle except the builder trio
//! `client`/`submit`/`wait` (issue 11).
//!
//! Reads `src/**/*.rs` (not `src/bin/`, a separate crate) and the generated
//! files they `include!` from `OUT_DIR`, as token streams (so comments and
//! doc lines are ignored and strings never count), and draws an edge from
//! a file's top-level module (the `mod` items of `src/lib.rs`; `api`,
//! `mock`, `contract` count as one each) to every top-level module it names
//! through `crate::X` (or `crate::{X, ..}`). A name re-exported at the root
//! (`crate::Source`) counts as the module it comes from. Then it asserts
//! the only strongly connected component of more than one module is the
//! trio ([`ALLOWED`]), and that `api` names nothing above it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use proc_macro2::{Delimiter, TokenStream, TokenTree};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const OUT_DIR: Option<&str> = option_env!("OUT_DIR");
/// The one circle allowed: the builder trio (the builders call back into
/// the client). The generated per-kind code is split so that `media_kind`
/// stays below it: `AnyResult` and `impl MediaKind for Image` in
/// `media_kind` (`Kind` itself at the bottom, in `api`), `impl Client { fn
/// classify_image .. }` in `client`.
const ALLOWED: [&str; 3] = ["client", "submit", "wait"];

fn tokens(path: &Path) -> Vec<TokenTree> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    TokenStream::from_str(&text)
        .unwrap_or_else(|e| panic!("{} does not lex: {e:?}", path.display()))
        .into_iter()
        .collect()
}

/// The files `include!`d by `tts` (`include!(concat!(env!("OUT_DIR"), "/x.rs"))`).
fn includes(tts: &[TokenTree], out: &mut Vec<PathBuf>) {
    for (i, tt) in tts.iter().enumerate() {
        if let TokenTree::Group(g) = tt {
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            let is_include = i >= 2
                && matches!(&tts[i - 2], TokenTree::Ident(id) if id == "include")
                && matches!(&tts[i - 1], TokenTree::Punct(p) if p.as_char() == '!');
            if is_include && g.to_string().contains("OUT_DIR") {
                let name = g
                    .to_string()
                    .split('"')
                    .find(|s| s.ends_with(".rs"))
                    .map(|s| s.trim_start_matches('/').to_string())
                    .unwrap_or_else(|| panic!("an include! with no file: {g}"));
                let dir = OUT_DIR.expect("OUT_DIR is set for the package's tests");
                out.push(Path::new(dir).join(name));
            } else {
                includes(&inner, out);
            }
        }
    }
}

/// Every `X` of `crate::X` and of `crate::{X, Y::z}` in `tts`, recursively.
fn crate_refs(tts: &[TokenTree], out: &mut Vec<String>) {
    for (i, tt) in tts.iter().enumerate() {
        match tt {
            TokenTree::Group(g) => crate_refs(&g.stream().into_iter().collect::<Vec<_>>(), out),
            TokenTree::Ident(id) if id == "crate" => {
                let colons = tts.get(i + 1..i + 3).is_some_and(|p| {
                    p.iter()
                        .all(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ':'))
                });
                if !colons {
                    continue;
                }
                match tts.get(i + 3) {
                    Some(TokenTree::Ident(name)) => out.push(name.to_string()),
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                        // The first name of each comma-separated item.
                        let mut first = true;
                        for t in g.stream() {
                            match &t {
                                TokenTree::Punct(p) if p.as_char() == ',' => first = true,
                                TokenTree::Ident(name) if first => {
                                    out.push(name.to_string());
                                    first = false;
                                }
                                _ => first = false,
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

/// `pub <kw> Name` items of `tts` (for the root's glob re-exports).
fn pub_items(tts: &[TokenTree], out: &mut BTreeSet<String>) {
    const KW: [&str; 8] = [
        "struct", "enum", "trait", "fn", "type", "const", "static", "mod",
    ];
    for w in tts.windows(3) {
        if let [TokenTree::Ident(p), TokenTree::Ident(kw), TokenTree::Ident(name)] = w {
            if p == "pub" && KW.iter().any(|k| kw == k) {
                out.insert(name.to_string());
            }
        }
    }
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every module's tokens: its files and the generated files they include.
fn module_tokens(
    src: &Path,
    modules: &BTreeSet<String>,
) -> BTreeMap<String, Vec<(PathBuf, Vec<TokenTree>)>> {
    let mut files = Vec::new();
    rs_files(src, &mut files);
    let mut by_module: BTreeMap<String, Vec<(PathBuf, Vec<TokenTree>)>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "bin" || module == "lib" {
            continue;
        }
        assert!(
            modules.contains(&module),
            "{} is in no module of src/lib.rs",
            rel.display()
        );
        let tts = tokens(&file);
        let mut inc = Vec::new();
        includes(&tts, &mut inc);
        let entry = by_module.entry(module).or_default();
        for path in inc {
            let t = tokens(&path);
            entry.push((path, t));
        }
        entry.push((rel.to_path_buf(), tts));
    }
    by_module
}

/// The module graph: edges with one file naming each.
fn graph() -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let src = Path::new(ROOT).join("src");
    let lib = tokens(&src.join("lib.rs"));
    // Top-level modules: `mod x;` / `pub mod x;` at the root of lib.rs.
    let modules: BTreeSet<String> = lib
        .windows(3)
        .filter_map(|w| match w {
            [TokenTree::Ident(m), TokenTree::Ident(name), TokenTree::Punct(p)]
                if m == "mod" && p.as_char() == ';' =>
            {
                Some(name.to_string())
            }
            _ => None,
        })
        .collect();
    assert!(
        modules.len() > 10 && modules.contains("api"),
        "modules of lib.rs: {modules:?}"
    );
    let per_module = module_tokens(&src, &modules);

    // Root re-exports: `pub use m::{A, B}` / `pub use m::A` / `pub use m::*`.
    let mut reexport: BTreeMap<String, String> = BTreeMap::new();
    for (i, tt) in lib.iter().enumerate() {
        let TokenTree::Ident(u) = tt else { continue };
        if u != "use"
            || !matches!(lib.get(i.wrapping_sub(1)), Some(TokenTree::Ident(p)) if p == "pub")
        {
            continue;
        }
        let Some(TokenTree::Ident(m)) = lib.get(i + 1) else {
            continue;
        };
        let m = m.to_string();
        let end = lib[i..]
            .iter()
            .position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ';'))
            .unwrap()
            + i;
        let stmt: TokenStream = lib[i + 1..end].iter().cloned().collect();
        let text = stmt.to_string();
        if text.contains('*') {
            let mut names = BTreeSet::new();
            for (_, tts) in &per_module[&m] {
                pub_items(tts, &mut names);
            }
            for n in names {
                reexport.entry(n).or_insert_with(|| m.clone());
            }
        }
        // The last segment of each path (`a::b::{C, D}` -> C, D; `a::E` -> E).
        for part in text.split([',', '{', '}']) {
            if let Some(last) = part.rsplit("::").next().map(str::trim) {
                if !last.is_empty() && last != "*" && last != m {
                    reexport.insert(last.to_string(), m.clone());
                }
            }
        }
    }

    let mut edges: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for (module, files) in &per_module {
        let node = edges.entry(module.clone()).or_default();
        for (file, tts) in files {
            let mut refs = Vec::new();
            crate_refs(tts, &mut refs);
            for name in refs {
                let target = if modules.contains(&name) {
                    name.clone()
                } else if let Some(m) = reexport.get(&name) {
                    m.clone()
                } else {
                    panic!(
                        "{}: `crate::{name}` is neither a module nor a root re-export",
                        file.display()
                    )
                };
                if &target != module {
                    node.entry(target).or_insert_with(|| file.clone());
                }
            }
        }
    }
    edges
}

/// Tarjan's strongly connected components.
fn components(edges: &BTreeMap<String, BTreeMap<String, PathBuf>>) -> Vec<BTreeSet<String>> {
    struct St<'a> {
        edges: &'a BTreeMap<String, BTreeMap<String, PathBuf>>,
        index: BTreeMap<&'a str, (usize, usize)>,
        stack: Vec<&'a str>,
        out: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(s: &mut St<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, (i, i));
        s.stack.push(v);
        let edges = s.edges;
        for w in edges.get(v).into_iter().flat_map(|e| e.keys()) {
            let w = w.as_str();
            match s.index.get(w).copied() {
                None => {
                    visit(s, w);
                    let low = s.index[w].1.min(s.index[v].1);
                    s.index.get_mut(v).unwrap().1 = low;
                }
                Some((wi, _)) if s.stack.contains(&w) => {
                    let low = wi.min(s.index[v].1);
                    s.index.get_mut(v).unwrap().1 = low;
                }
                _ => {}
            }
        }
        let (vi, vl) = s.index[v];
        if vi == vl {
            let mut comp = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                comp.insert(w.to_string());
                if w == v {
                    break;
                }
            }
            s.out.push(comp);
        }
    }
    let mut s = St {
        edges,
        index: BTreeMap::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

/// A circle through `comp` starting at its first module, each step with
/// the file that makes it.
fn describe(
    comp: &BTreeSet<String>,
    edges: &BTreeMap<String, BTreeMap<String, PathBuf>>,
) -> String {
    let start = comp.iter().next().unwrap();
    // Breadth-first inside the component back to `start`.
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.as_str()]);
    'bfs: while let Some(v) = queue.pop_front() {
        for w in edges[v].keys().filter(|w| comp.contains(*w)) {
            if w == start {
                prev.insert("", v);
                break 'bfs;
            }
            if !prev.contains_key(w.as_str()) {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    let mut path = vec![start.as_str()];
    let mut v = prev[""];
    while v != start {
        path.push(v);
        v = prev[v];
    }
    path.push(start);
    path.reverse();
    path.windows(2)
        .map(|w| format!("{} -> {} ({})", w[0], w[1], edges[w[0]][w[1]].display()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn no_import_circle_but_the_builder_trio() {
    let edges = graph();
    let allowed: BTreeSet<String> = ALLOWED.iter().map(|s| s.to_string()).collect();
    let bad: Vec<String> = components(&edges)
        .into_iter()
        .filter(|c| c.len() > 1 && *c != allowed)
        .map(|c| format!("{c:?}: {}", describe(&c, &edges)))
        .collect();
    assert!(
        bad.is_empty(),
        "import circles between modules:\n{}",
        bad.join("\n")
    );
    // The trio is still what the test is about (it would pass vacuously
    // if the modules were renamed).
    for m in ALLOWED {
        assert!(edges.contains_key(m), "no module {m}");
    }
}

#[test]
fn api_names_nothing_above_it() {
    let edges = graph();
    assert!(
        edges["api"].is_empty(),
        "api imports from the layer: {:?}",
        edges["api"]
    );
}

#[test]
fn the_graph_sees_a_known_edge() {
    // The reader works: `source` checks files into the generated `FilePart`.
    let edges = graph();
    assert!(edges["source"].contains_key("api"), "{:?}", edges["source"]);
    assert!(
        edges["client"].contains_key("submit"),
        "{:?}",
        edges["client"]
    );
}
