//! `cargo xtask surface [--check]`: the crate's whole public surface, the
//! hand-written and the generated parts, one line per item, in
//! `tests/public-api.txt`.
//!
//! It reads rustdoc's JSON of the crate with every feature (`cargo rustdoc
//! -- --output-format json`, on stable through `RUSTC_BOOTSTRAP=1`), walks
//! the public modules from the root, follows re-exports, and prints each
//! item under the first public path that reaches it: structs with their
//! public fields, enums with their variants, traits with their items, every
//! public inherent method, the trait impls written in the crate and the
//! auto traits (`Send`, `Sync`, ...). Blanket impls are left out. `--check`
//! writes nothing and fails when the committed file differs, printing the
//! difference: a public change is then a reviewed diff of that file.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::bench::cargo;

/// Where the surface is kept, relative to the repository root.
pub const FILE: &str = "tests/public-api.txt";

const HEADER: &str = "\
# The public API of the identifai crate with every feature, one item a line.
# Written by `cargo xtask surface`; CI runs `cargo xtask surface --check`.
# A change here is a change of the public API: say it in CHANGELOG.md.
";

/// Auto traits whose impls are part of the surface (stable ones only, so a
/// toolchain that adds one does not change the file).
const AUTO_TRAITS: [&str; 5] = ["Send", "Sync", "Unpin", "UnwindSafe", "RefUnwindSafe"];

/// Builds the rustdoc JSON and writes (or, with `check`, compares) the file.
pub fn run(root: &Path, check: bool) -> Result<()> {
    let json = rustdoc_json(root)?;
    let text = format!("{HEADER}{}", render(&json)?.join("\n") + "\n");
    let path = root.join(FILE);
    if check {
        let old = fs::read_to_string(&path).unwrap_or_default();
        if old != text {
            let diff = similar::TextDiff::from_lines(&old, &text);
            let mut shown = String::new();
            for change in diff.iter_all_changes() {
                match change.tag() {
                    similar::ChangeTag::Delete => shown.push_str(&format!("-{change}")),
                    similar::ChangeTag::Insert => shown.push_str(&format!("+{change}")),
                    similar::ChangeTag::Equal => {}
                }
            }
            bail!(
                "{FILE} is not the crate's public API; run `cargo xtask surface` and review:\n{shown}"
            );
        }
        println!("surface: {FILE} is up to date");
    } else {
        fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
        println!("surface: wrote {FILE} ({} lines)", text.lines().count());
    }
    Ok(())
}

/// `cargo rustdoc --lib --all-features` with JSON output, in a target dir of
/// its own (the flags differ from a normal doc build's).
fn rustdoc_json(root: &Path) -> Result<Value> {
    let target: PathBuf = crate::bench::target_dir(root).join("surface");
    let status = Command::new(cargo())
        .current_dir(root)
        .args(["rustdoc", "--lib", "--all-features", "-p", "identifai"])
        .arg("--target-dir")
        .arg(&target)
        .args(["--", "-Zunstable-options", "--output-format", "json"])
        .env("RUSTC_BOOTSTRAP", "1")
        .status()
        .context("running cargo rustdoc")?;
    if !status.success() {
        bail!("cargo rustdoc --output-format json failed");
    }
    let path = target.join("doc/identifai.json");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The surface's lines, sorted, from rustdoc's JSON.
pub fn render(doc: &Value) -> Result<Vec<String>> {
    let index = doc["index"].as_object().context("no index")?;
    let item = |id: &Value| -> Option<&Value> { index.get(&id_key(id)) };
    let root = item(&doc["root"]).context("no root item")?;

    // Every public item by the first public path that reaches it (breadth
    // first, so the shortest path wins).
    let mut public: HashMap<String, String> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut queue: VecDeque<(&Value, String)> = VecDeque::new();
    let mut seen_mods: HashSet<String> = HashSet::new();
    queue.push_back((root, "identifai".to_string()));
    while let Some((module, path)) = queue.pop_front() {
        let Some(items) = module["inner"]["module"]["items"].as_array() else {
            continue;
        };
        for id in items {
            let Some(it) = item(id) else { continue };
            if it["visibility"] != "public" {
                continue;
            }
            let (target_id, name, glob) = match it["inner"].get("use") {
                Some(u) => (
                    u["id"].clone(),
                    u["name"].as_str().unwrap_or_default().to_string(),
                    u["is_glob"].as_bool().unwrap_or(false),
                ),
                None => (
                    it["id"].clone(),
                    it["name"].as_str().unwrap_or_default().to_string(),
                    false,
                ),
            };
            let Some(target) = item(&target_id) else {
                continue; // a re-export of another crate's item
            };
            if glob {
                // `pub use m::*`: m's public items, under this module's path.
                queue.push_front((target, path.clone()));
                continue;
            }
            let full = format!("{path}::{name}");
            let key = id_key(&target_id);
            if target["inner"].get("module").is_some() {
                if seen_mods.insert(key.clone()) {
                    public.entry(key).or_insert_with(|| full.clone());
                    queue.push_back((target, full));
                }
                continue;
            }
            if !public.contains_key(&key) {
                public.insert(key.clone(), full);
                order.push(key);
            }
        }
    }

    let names = Names {
        public: &public,
        paths: doc["paths"].as_object(),
    };
    let mut lines = BTreeSet::new();
    for key in &order {
        let it = &index[key];
        let path = &public[key];
        item_lines(index, &names, it, path, &mut lines);
    }
    for (key, path) in &public {
        if index[key]["inner"].get("module").is_some() {
            lines.insert(format!("pub mod {path}"));
        }
    }
    // Grouped by the item a line is about: its declaration, its impls, then
    // its members and variants.
    let mut lines: Vec<String> = lines.into_iter().collect();
    lines.sort_by_cached_key(|l| sort_key(l));
    Ok(lines)
}

/// The crate path a line is about (an impl's: its type's), and whether it
/// declares the item (0), implements a trait for it (1) or is a member (2).
fn sort_key(line: &str) -> (String, u8, String) {
    let (about, rank) = match line.strip_prefix("impl") {
        Some(rest) => match rest.rsplit_once(" for ") {
            Some((_, ty)) => (ty, 1),
            None => (skip_generics(rest), 1),
        },
        None if line.contains("pub struct ")
            || line.contains("pub enum ")
            || line.contains("pub trait ")
            || line.contains("pub union ")
            || line.starts_with("pub mod ") =>
        {
            (line, 0)
        }
        None => (line, 2),
    };
    let path = about
        .find("identifai::")
        .map(|at| {
            about[at..]
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .trim_end_matches(':')
                .to_string()
        })
        .unwrap_or_default();
    (path, rank, line.to_string())
}

/// `rest` past a leading `<...>` (an inherent impl's own generics).
fn skip_generics(rest: &str) -> &str {
    if !rest.starts_with('<') {
        return rest;
    }
    let mut depth = 0;
    for (i, c) in rest.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => {
                depth -= 1;
                if depth == 0 {
                    return &rest[i + 1..];
                }
            }
            _ => {}
        }
    }
    rest
}

fn id_key(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The lines of one item found at `path`.
fn item_lines(
    index: &serde_json::Map<String, Value>,
    names: &Names,
    it: &Value,
    path: &str,
    out: &mut BTreeSet<String>,
) {
    let inner = &it["inner"];
    let attrs = attributes(it);
    if let Some(s) = inner.get("struct") {
        out.insert(format!(
            "{attrs}pub struct {path}{}",
            names.generics(&s["generics"])
        ));
        for field in s["kind"]["plain"]["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(s["kind"]["tuple"].as_array().into_iter().flatten())
        {
            let Some(f) = index.get(&id_key(field)) else {
                continue;
            };
            if f["visibility"] == "public" {
                out.insert(format!(
                    "pub {path}::{}: {}",
                    f["name"].as_str().unwrap_or("_"),
                    names.ty(&f["inner"]["struct_field"])
                ));
            }
        }
        impl_lines(index, names, &s["impls"], path, out);
    } else if let Some(e) = inner.get("enum") {
        out.insert(format!(
            "{attrs}pub enum {path}{}",
            names.generics(&e["generics"])
        ));
        for v in e["variants"].as_array().into_iter().flatten() {
            if let Some(v) = index.get(&id_key(v)) {
                out.insert(format!(
                    "{}{path}::{}",
                    attributes(v),
                    variant(index, names, v)
                ));
            }
        }
        impl_lines(index, names, &e["impls"], path, out);
    } else if let Some(u) = inner.get("union") {
        out.insert(format!(
            "pub union {path}{}",
            names.generics(&u["generics"])
        ));
        impl_lines(index, names, &u["impls"], path, out);
    } else if let Some(t) = inner.get("trait") {
        out.insert(format!(
            "{attrs}pub trait {path}{}{}",
            names.generics(&t["generics"]),
            names.bounds_after(&t["bounds"])
        ));
        for id in t["items"].as_array().into_iter().flatten() {
            if let Some(m) = index.get(&id_key(id)) {
                out.insert(member(names, m, path));
            }
        }
    } else if let Some(f) = inner.get("function") {
        out.insert(format!("{attrs}{}", names.function(f, path)));
    } else if let Some(c) = inner.get("constant") {
        out.insert(format!("pub const {path}: {}", names.ty(&c["type"])));
    } else if let Some(s) = inner.get("static") {
        out.insert(format!("pub static {path}: {}", names.ty(&s["type"])));
    } else if let Some(t) = inner.get("type_alias") {
        out.insert(format!(
            "pub type {path}{} = {}",
            names.generics(&t["generics"]),
            names.ty(&t["type"])
        ));
    } else if inner.get("macro").is_some() {
        out.insert(format!("macro {path}!"));
    } else if let Some(kind) = inner.as_object().and_then(|o| o.keys().next()) {
        out.insert(format!("{kind} {path}"));
    }
}

/// `#[non_exhaustive]` and `#[doc(hidden)]`, the attributes that change
/// what users may write.
fn attributes(it: &Value) -> String {
    let mut out = String::new();
    for a in it["attrs"].as_array().into_iter().flatten() {
        let text = match a {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if text.contains("non_exhaustive") {
            out.push_str("#[non_exhaustive] ");
        } else if text.contains("hidden") && text.contains("doc") {
            out.push_str("#[doc(hidden)] ");
        }
    }
    out
}

fn variant(index: &serde_json::Map<String, Value>, names: &Names, v: &Value) -> String {
    let name = v["name"].as_str().unwrap_or("_");
    let kind = &v["inner"]["variant"]["kind"];
    let field = |id: &Value| {
        index
            .get(&id_key(id))
            .map(|f| {
                (
                    f["name"].as_str().unwrap_or("_").to_string(),
                    names.ty(&f["inner"]["struct_field"]),
                )
            })
            .unwrap_or_else(|| ("_".into(), "_".into()))
    };
    if let Some(fields) = kind["tuple"].as_array() {
        let tys: Vec<String> = fields
            .iter()
            .map(|id| {
                if id.is_null() {
                    "_".to_string()
                } else {
                    field(id).1
                }
            })
            .collect();
        format!("{name}({})", tys.join(", "))
    } else if let Some(fields) = kind["struct"]["fields"].as_array() {
        let fs: Vec<String> = fields
            .iter()
            .map(|id| {
                let (n, t) = field(id);
                format!("{n}: {t}")
            })
            .collect();
        format!("{name} {{ {} }}", fs.join(", "))
    } else {
        name.to_string()
    }
}

/// The impls of a type: inherent methods, trait impls written in the
/// crate, and the stable auto traits; blanket impls are left out.
fn impl_lines(
    index: &serde_json::Map<String, Value>,
    names: &Names,
    impls: &Value,
    path: &str,
    out: &mut BTreeSet<String>,
) {
    for id in impls.as_array().into_iter().flatten() {
        let Some(imp) = index.get(&id_key(id)) else {
            continue;
        };
        let i = &imp["inner"]["impl"];
        if !i["blanket_impl"].is_null() {
            continue;
        }
        let generics = names.generics(&i["generics"]);
        let self_ty = names.ty(&i["for"]);
        match i["trait"].as_object() {
            None => {
                // An inherent impl's own bounds apply to all its methods.
                let bounds = format!("{generics}{}", names.where_clause(&i["generics"]));
                if !bounds.is_empty() {
                    out.insert(format!("impl{bounds} {self_ty}"));
                }
                for m in i["items"].as_array().into_iter().flatten() {
                    if let Some(m) = index.get(&id_key(m)) {
                        if m["visibility"] == "public" {
                            out.insert(member(names, m, path));
                        }
                    }
                }
            }
            Some(t) => {
                let name = t["path"].as_str().unwrap_or("?");
                let last = name.rsplit("::").next().unwrap_or(name);
                if i["is_synthetic"] == true && !AUTO_TRAITS.contains(&last) {
                    continue;
                }
                let negative = if i["is_negative"] == true { "!" } else { "" };
                let tr = names.path(&Value::Object(t.clone()));
                out.insert(format!("impl{generics} {negative}{tr} for {self_ty}"));
            }
        }
    }
}

/// A method, associated type or constant of a type or trait at `path`.
fn member(names: &Names, m: &Value, path: &str) -> String {
    let name = m["name"].as_str().unwrap_or("_");
    let inner = &m["inner"];
    let attrs = attributes(m);
    if let Some(f) = inner.get("function") {
        format!("{attrs}{}", names.function(f, &format!("{path}::{name}")))
    } else if let Some(t) = inner.get("assoc_type") {
        format!(
            "{attrs}type {path}::{name}{}",
            names.bounds_after(&t["bounds"])
        )
    } else if let Some(c) = inner.get("assoc_const") {
        format!("{attrs}const {path}::{name}: {}", names.ty(&c["type"]))
    } else {
        format!("{attrs}{path}::{name}")
    }
}

/// Turns rustdoc's types into text, naming the crate's items by their
/// public paths.
struct Names<'a> {
    public: &'a HashMap<String, String>,
    paths: Option<&'a serde_json::Map<String, Value>>,
}

impl Names<'_> {
    fn function(&self, f: &Value, path: &str) -> String {
        let header = &f["header"];
        let mut quals = String::new();
        for (flag, word) in [
            ("is_const", "const "),
            ("is_async", "async "),
            ("is_unsafe", "unsafe "),
        ] {
            if header[flag] == true {
                quals.push_str(word);
            }
        }
        let inputs: Vec<String> = f["sig"]["inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|pair| {
                let name = pair[0].as_str().unwrap_or("_");
                let ty = self.ty(&pair[1]);
                match name {
                    "self" => match ty.as_str() {
                        "Self" => "self".to_string(),
                        "&Self" => "&self".to_string(),
                        "&mut Self" => "&mut self".to_string(),
                        _ => format!("self: {ty}"),
                    },
                    _ => format!("{name}: {ty}"),
                }
            })
            .collect();
        let output = match &f["sig"]["output"] {
            Value::Null => String::new(),
            t => format!(" -> {}", self.ty(t)),
        };
        format!(
            "pub {quals}fn {path}{}({}){output}{}",
            self.generics(&f["generics"]),
            inputs.join(", "),
            self.where_clause(&f["generics"])
        )
    }

    /// `<T: Bound, 'a>`, or nothing; synthetic `impl Trait` parameters are
    /// shown where they are used.
    fn generics(&self, g: &Value) -> String {
        let params: Vec<String> = g["params"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let name = p["name"].as_str().unwrap_or("_");
                let kind = &p["kind"];
                if let Some(t) = kind.get("type") {
                    if t["is_synthetic"] == true {
                        return None;
                    }
                    Some(format!("{name}{}", self.bounds_after(&t["bounds"])))
                } else if let Some(c) = kind.get("const") {
                    Some(format!("const {name}: {}", self.ty(&c["type"])))
                } else {
                    Some(name.to_string())
                }
            })
            .collect();
        if params.is_empty() {
            String::new()
        } else {
            format!("<{}>", params.join(", "))
        }
    }

    fn where_clause(&self, g: &Value) -> String {
        let preds: Vec<String> = g["where_predicates"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let b = p.get("bound_predicate")?;
                Some(format!(
                    "{}{}",
                    self.ty(&b["type"]),
                    self.bounds_after(&b["bounds"])
                ))
            })
            .collect();
        if preds.is_empty() {
            String::new()
        } else {
            format!(" where {}", preds.join(", "))
        }
    }

    /// `: A + B` or nothing.
    fn bounds_after(&self, bounds: &Value) -> String {
        let b = self.bounds(bounds);
        if b.is_empty() {
            String::new()
        } else {
            format!(": {b}")
        }
    }

    fn bounds(&self, bounds: &Value) -> String {
        let parts: Vec<String> = bounds
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| {
                if let Some(t) = b.get("trait_bound") {
                    let maybe = if t["modifier"] == "maybe" { "?" } else { "" };
                    format!("{maybe}{}", self.path(&t["trait"]))
                } else if let Some(l) = b.get("outlives") {
                    l.as_str().unwrap_or("'_").to_string()
                } else {
                    "use<..>".to_string()
                }
            })
            .collect();
        parts.join(" + ")
    }

    /// A path with its generic arguments: the crate's items by public path,
    /// others by their own path.
    fn path(&self, p: &Value) -> String {
        let written = p["path"].as_str().unwrap_or("?");
        let key = id_key(&p["id"]);
        let name = match self.public.get(&key) {
            Some(public) => public.clone(),
            None => self
                .paths
                .and_then(|ps| ps.get(&key))
                .filter(|s| s["crate_id"] != 0)
                .and_then(|s| s["path"].as_array())
                .map(|segs| {
                    segs.iter()
                        .filter_map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join("::")
                })
                .unwrap_or_else(|| written.to_string()),
        };
        format!("{name}{}", self.args(&p["args"]))
    }

    fn args(&self, a: &Value) -> String {
        if let Some(ab) = a.get("angle_bracketed") {
            let mut parts: Vec<String> = ab["args"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|g| {
                    if let Some(t) = g.get("type") {
                        self.ty(t)
                    } else if let Some(l) = g.get("lifetime") {
                        l.as_str().unwrap_or("'_").to_string()
                    } else if let Some(c) = g.get("const") {
                        c["expr"].as_str().unwrap_or("_").to_string()
                    } else {
                        "_".to_string()
                    }
                })
                .collect();
            for c in ab["constraints"].as_array().into_iter().flatten() {
                let name = c["name"].as_str().unwrap_or("_");
                if let Some(t) = c["binding"].get("equality").and_then(|e| e.get("type")) {
                    parts.push(format!("{name} = {}", self.ty(t)));
                } else if let Some(b) = c["binding"].get("constraint") {
                    parts.push(format!("{name}: {}", self.bounds(b)));
                }
            }
            if parts.is_empty() {
                String::new()
            } else {
                format!("<{}>", parts.join(", "))
            }
        } else if let Some(p) = a.get("parenthesized") {
            let inputs: Vec<String> = p["inputs"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| self.ty(t))
                .collect();
            let output = match &p["output"] {
                Value::Null => String::new(),
                t => format!(" -> {}", self.ty(t)),
            };
            format!("({}){output}", inputs.join(", "))
        } else {
            String::new()
        }
    }

    fn ty(&self, t: &Value) -> String {
        let Some((kind, v)) = t.as_object().and_then(|o| o.iter().next()) else {
            return "_".to_string();
        };
        match kind.as_str() {
            "resolved_path" => self.path(v),
            "generic" | "primitive" => v.as_str().unwrap_or("_").to_string(),
            "borrowed_ref" => {
                let lt = v["lifetime"]
                    .as_str()
                    .map(|l| format!("{l} "))
                    .unwrap_or_default();
                let m = if v["is_mutable"] == true { "mut " } else { "" };
                format!("&{lt}{m}{}", self.ty(&v["type"]))
            }
            "raw_pointer" => {
                let m = if v["is_mutable"] == true {
                    "mut"
                } else {
                    "const"
                };
                format!("*{m} {}", self.ty(&v["type"]))
            }
            "tuple" => {
                let parts: Vec<String> = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| self.ty(t))
                    .collect();
                if parts.len() == 1 {
                    format!("({},)", parts[0])
                } else {
                    format!("({})", parts.join(", "))
                }
            }
            "slice" => format!("[{}]", self.ty(v)),
            "array" => format!(
                "[{}; {}]",
                self.ty(&v["type"]),
                v["len"].as_str().unwrap_or("_")
            ),
            "impl_trait" => format!("impl {}", self.bounds(v)),
            "dyn_trait" => {
                let mut parts: Vec<String> = v["traits"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| self.path(&p["trait"]))
                    .collect();
                if let Some(l) = v["lifetime"].as_str() {
                    parts.push(l.to_string());
                }
                format!("dyn {}", parts.join(" + "))
            }
            "qualified_path" => {
                let self_ty = self.ty(&v["self_type"]);
                let name = v["name"].as_str().unwrap_or("_");
                match v["trait"].as_object() {
                    Some(tr) => format!(
                        "<{self_ty} as {}>::{name}",
                        self.path(&Value::Object(tr.clone()))
                    ),
                    None => format!("{self_ty}::{name}"),
                }
            }
            "function_pointer" => {
                let inputs: Vec<String> = v["sig"]["inputs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|pair| self.ty(&pair[1]))
                    .collect();
                let output = match &v["sig"]["output"] {
                    Value::Null => String::new(),
                    t => format!(" -> {}", self.ty(t)),
                };
                format!("fn({}){output}", inputs.join(", "))
            }
            "infer" => "_".to_string(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names() -> (HashMap<String, String>, serde_json::Map<String, Value>) {
        let mut public = HashMap::new();
        public.insert("7".to_string(), "identifai::Source".to_string());
        let paths = json!({"9": {"crate_id": 3, "path": ["std", "path", "Path"]}});
        (public, paths.as_object().unwrap().clone())
    }

    #[test]
    fn types_read_as_rust() {
        let (public, paths) = names();
        let n = Names {
            public: &public,
            paths: Some(&paths),
        };
        let source = json!({"resolved_path": {"path": "Source", "id": 7, "args": null}});
        assert_eq!(n.ty(&source), "identifai::Source");
        let r = json!({"borrowed_ref": {"lifetime": null, "is_mutable": false,
            "type": {"resolved_path": {"path": "Path", "id": 9, "args": null}}}});
        assert_eq!(n.ty(&r), "&std::path::Path");
        let v = json!({"resolved_path": {"path": "Vec", "id": 99, "args": {"angle_bracketed": {
            "args": [{"type": {"primitive": "u8"}}], "constraints": []}}}});
        assert_eq!(n.ty(&v), "Vec<u8>");
        let i = json!({"impl_trait": [{"trait_bound": {"trait": {"path": "AsRef", "id": 98,
            "args": {"angle_bracketed": {"args": [{"type": {"resolved_path": {"path": "Path",
            "id": 9, "args": null}}}], "constraints": []}}}, "generic_params": [], "modifier": "none"}}]});
        assert_eq!(n.ty(&i), "impl AsRef<std::path::Path>");
        assert_eq!(n.ty(&json!({"tuple": []})), "()");
        assert_eq!(
            n.ty(&json!({"slice": {"primitive": "u8"}})),
            "[u8]",
            "a slice"
        );
    }

    #[test]
    fn re_exports_are_followed_and_the_first_public_path_names_an_item() {
        let doc = json!({
            "root": 1,
            "paths": {},
            "index": {
                "1": {"id": 1, "name": "identifai", "visibility": "public", "attrs": [],
                      "inner": {"module": {"items": [2, 3, 5]}}},
                "2": {"id": 2, "name": null, "visibility": "public", "attrs": [],
                      "inner": {"use": {"source": "a::Thing", "name": "Thing", "id": 4, "is_glob": false}}},
                "3": {"id": 3, "name": "a", "visibility": "public", "attrs": [],
                      "inner": {"module": {"items": [4]}}},
                "4": {"id": 4, "name": "Thing", "visibility": "public", "attrs": ["#[non_exhaustive]"],
                      "inner": {"struct": {"kind": {"plain": {"fields": [], "has_stripped_fields": true}},
                                "generics": {"params": [], "where_predicates": []}, "impls": []}}},
                "5": {"id": 5, "name": "hidden", "visibility": "crate", "attrs": [],
                      "inner": {"module": {"items": []}}}
            }
        });
        let lines = render(&doc).unwrap();
        assert_eq!(
            lines,
            [
                "#[non_exhaustive] pub struct identifai::Thing",
                "pub mod identifai::a"
            ]
        );
    }
}
