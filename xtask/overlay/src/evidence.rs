//! What backs each change of the overlay: its `x-evidence`.
//!
//! Every action of `openapi/overlay.yaml` declares one level:
//!
//! ```yaml
//! x-evidence:
//!   level: published   # or: analogy, none
//!   reason: https://docs.identifai.net/api-reference/... shows it
//! ```
//!
//! * `published`: a published page shows it; the reason names the page's URL.
//! * `analogy`: copied from a sibling page (the reason names it); no page of
//!   its own shows it.
//! * `none`: no page shows it (the reason says why the spec has it anyway).
//!
//! [`crate::apply`] refuses an action without a valid one, and
//! writes it into the spec as `x-evidence: {level, reason}` on the elements
//! the action touches ([`mark`]): the schemas, properties, operations,
//! parameters and responses its `update` adds or changes, or the element its
//! target lies in. A later action's evidence replaces an earlier one's, so an
//! action that added elements of several levels is split by later actions
//! that restate the level of the elements below `published` (an `update: {}`
//! with its own `x-evidence`). A target that is an element's `required` list
//! marks the element with `x-evidence-required` (the element itself keeps
//! its level); `$.info` marks `x-evidence-api-version` (progenitor sends
//! `info.version` as an `api-version` header).
//!
//! [`table`] lists every element below `published`: CONFORMANCE.md holds it
//! between [`TABLE_BEGIN`] and [`TABLE_END`], rewritten by `cargo xtask
//! spec` and checked by `cargo xtask spec --check`.

use anyhow::{anyhow, bail, Result};
use serde_json::{json, Map, Value};

/// The extension on an action and on the elements it touches.
pub const KEY: &str = "x-evidence";
/// The extension for an element's `required` list.
pub const KEY_REQUIRED: &str = "x-evidence-required";
/// The extension for the `api-version` header (on `info`).
pub const KEY_API_VERSION: &str = "x-evidence-api-version";

/// The line before the table in CONFORMANCE.md.
pub const TABLE_BEGIN: &str = "<!-- evidence table: written by `cargo xtask spec` -->";
/// The line after it.
pub const TABLE_END: &str = "<!-- end of evidence table -->";

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// How well a change is backed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// A published page shows it.
    Published,
    /// Copied from a sibling page.
    Analogy,
    /// No page shows it.
    None,
}

impl Level {
    fn parse(s: &str) -> Option<Level> {
        match s {
            "published" => Some(Level::Published),
            "analogy" => Some(Level::Analogy),
            "none" => Some(Level::None),
            _ => None,
        }
    }

    /// The name in the spec.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Published => "published",
            Level::Analogy => "analogy",
            Level::None => "none",
        }
    }
}

/// An action's evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    pub level: Level,
    pub reason: String,
}

impl Evidence {
    /// Reads and checks an action's `x-evidence`.
    pub fn of_action(action: &Map<String, Value>) -> Result<Evidence> {
        let ev = action.get(KEY).ok_or_else(|| {
            anyhow!("no `{KEY}`: every action declares what backs it (level: published, analogy or none; reason)")
        })?;
        let level = ev
            .get("level")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("`{KEY}` has no string `level`"))?;
        let level = Level::parse(level).ok_or_else(|| {
            anyhow!("`{KEY}.level` is {level:?}: expected published, analogy or none")
        })?;
        let reason = ev
            .get("reason")
            .and_then(Value::as_str)
            .map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|r| !r.is_empty())
            .ok_or_else(|| anyhow!("`{KEY}` has no `reason`"))?;
        if let Some(k) = ev
            .as_object()
            .and_then(|o| o.keys().find(|k| !matches!(k.as_str(), "level" | "reason")))
        {
            bail!("`{KEY}` has an unknown field `{k}`");
        }
        if level == Level::Published && !reason.contains("https://") {
            bail!("`{KEY}` is published but its reason names no page URL (https://...)");
        }
        Ok(Evidence { level, reason })
    }

    fn to_value(&self) -> Value {
        json!({ "level": self.level.as_str(), "reason": self.reason })
    }
}

/// A path in the document, as keys (array indices as numbers in text).
type Path = Vec<String>;

/// Whether the node at `path` is an element that carries evidence: a
/// component (schema, response, parameter), a property, a path's
/// operation, an operation's parameter or response.
fn is_element(path: &[String]) -> bool {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        ["components", "schemas" | "responses" | "parameters", _] => true,
        ["paths", _, m] => METHODS.contains(m),
        ["paths", _, m, "responses" | "parameters", _] => METHODS.contains(m),
        [.., parent, "properties", _] => *parent != "properties",
        _ => false,
    }
}

/// Writes `ev` on the elements an action touched at `target` (a matched
/// location) with `update` (`None` for a removal, which marks nothing: the
/// element is gone).
pub fn mark(doc: &mut Value, target: &[String], update: Option<&Value>, ev: &Evidence) {
    let Some(update) = update else { return };
    if target == ["info"] {
        set(doc, target, KEY_API_VERSION, ev);
        return;
    }
    if target.last().is_some_and(|k| k == "required") {
        if let Some(parent) = nearest_element(&target[..target.len() - 1]) {
            set(doc, &parent, KEY_REQUIRED, ev);
        }
        return;
    }
    let mut found = Vec::new();
    if is_element(target) {
        found.push(target.to_vec());
    }
    let mut path = target.to_vec();
    walk_update(update, &mut path, &mut found);
    if found.is_empty() {
        if let Some(parent) = nearest_element(target) {
            found.push(parent);
        }
    }
    for p in found {
        set(doc, &p, KEY, ev);
    }
}

fn walk_update(update: &Value, path: &mut Path, found: &mut Vec<Path>) {
    let Value::Object(map) = update else { return };
    for (k, v) in map {
        if k.starts_with("x-") {
            continue;
        }
        path.push(k.clone());
        if v.is_object() && is_element(path) {
            found.push(path.clone());
        }
        walk_update(v, path, found);
        path.pop();
    }
}

fn nearest_element(path: &[String]) -> Option<Path> {
    (1..=path.len())
        .rev()
        .map(|n| &path[..n])
        .find(|p| is_element(p))
        .map(<[String]>::to_vec)
}

fn set(doc: &mut Value, path: &[String], key: &str, ev: &Evidence) {
    let mut node = doc;
    for step in path {
        node = match node {
            Value::Object(m) => match m.get_mut(step) {
                Some(n) => n,
                None => return,
            },
            Value::Array(a) => match step.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(n) => n,
                None => return,
            },
            _ => return,
        };
    }
    if let Value::Object(m) = node {
        m.insert(key.to_owned(), ev.to_value());
    }
}

/// One element below `published`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// What it is, e.g. `VideoResponse.c2pa`, `GET /api/partner/users ?page`.
    pub element: String,
    pub level: Level,
    pub reason: String,
}

/// Every element of `doc` whose evidence is below `published`, in document
/// order.
pub fn rows(doc: &Value) -> Vec<Row> {
    let mut out = Vec::new();
    collect(doc, &mut Vec::new(), &mut out);
    out
}

fn collect(node: &Value, path: &mut Path, out: &mut Vec<Row>) {
    match node {
        Value::Object(map) => {
            for (key, suffix) in [
                (KEY, ""),
                (KEY_REQUIRED, " (its `required` list)"),
                (KEY_API_VERSION, ""),
            ] {
                let Some(ev) = map.get(key) else { continue };
                let level = ev
                    .get("level")
                    .and_then(Value::as_str)
                    .and_then(Level::parse);
                let reason = ev.get("reason").and_then(Value::as_str).unwrap_or("");
                if let Some(level) = level.filter(|l| *l != Level::Published) {
                    let element = if key == KEY_API_VERSION {
                        "the `api-version` header (`info.version`)".to_owned()
                    } else {
                        format!("{}{suffix}", name(path, node))
                    };
                    out.push(Row {
                        element,
                        level,
                        reason: reason.to_owned(),
                    });
                }
            }
            for (k, v) in map {
                path.push(k.clone());
                collect(v, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(i.to_string());
                collect(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// A readable name for the element at `path`.
fn name(path: &[String], node: &Value) -> String {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    let props = |rest: &[&str]| -> String {
        rest.iter()
            .enumerate()
            .filter(|(i, s)| *i > 0 && rest[i - 1] == "properties" && **s != "properties")
            .map(|(_, s)| *s)
            .collect::<Vec<_>>()
            .join(".")
    };
    match p.as_slice() {
        ["components", "schemas", schema] => format!("`{schema}`"),
        ["components", "schemas", schema, rest @ ..] => format!("`{schema}.{}`", props(rest)),
        ["components", kind, n] => format!("`components.{kind}.{n}`"),
        ["paths", route, method, rest @ ..] => {
            let op = format!("{} {route}", method.to_uppercase());
            match rest {
                [] => format!("`{op}`"),
                ["responses", status] => format!("`{op}` answer {status}"),
                ["parameters", _] => format!(
                    "`{op}` parameter `{}`",
                    node.get("name").and_then(Value::as_str).unwrap_or("?")
                ),
                [.., "schema", _, _] | [..] => format!("`{op}` field `{}`", props(rest)),
            }
        }
        _ => format!("`{}`", p.join(".")),
    }
}

/// The markdown table of [`rows`], between its markers: one row per level
/// and reason (in order of first appearance), naming its elements; an
/// operation's answers are named together (`answers 400, 401`).
pub fn table(doc: &Value) -> String {
    // (level, reason) -> elements, with answers of one operation merged.
    let mut groups: Vec<(Level, String, Vec<String>)> = Vec::new();
    for r in rows(doc) {
        let i = match groups
            .iter()
            .position(|(l, reason, _)| *l == r.level && *reason == r.reason)
        {
            Some(i) => i,
            None => {
                groups.push((r.level, r.reason.clone(), Vec::new()));
                groups.len() - 1
            }
        };
        let elements = &mut groups[i].2;
        match r.element.split_once(" answer ") {
            Some((op, status)) => {
                let prefix = format!("{op} answers ");
                match elements.iter_mut().find(|e| e.starts_with(&prefix)) {
                    Some(e) => e.push_str(&format!(", {status}")),
                    None => elements.push(format!("{prefix}{status}")),
                }
            }
            None => elements.push(r.element),
        }
    }
    let mut out = format!("{TABLE_BEGIN}\n\n| elements | evidence | why |\n|---|---|---|\n");
    for (level, reason, elements) in groups {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            elements.join("; "),
            level.as_str(),
            reason.replace('|', "\\|")
        ));
    }
    out.push_str(&format!("\n{TABLE_END}"));
    out
}

/// `markdown` with its table (between the markers) replaced by `table`;
/// an error if the markers are missing.
pub fn splice(markdown: &str, table: &str) -> Result<String> {
    let start = markdown
        .find(TABLE_BEGIN)
        .ok_or_else(|| anyhow!("no `{TABLE_BEGIN}` line"))?;
    let end = markdown[start..]
        .find(TABLE_END)
        .map(|e| start + e + TABLE_END.len())
        .ok_or_else(|| anyhow!("no `{TABLE_END}` line after the table's start"))?;
    Ok(format!("{}{table}{}", &markdown[..start], &markdown[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(level: &str, reason: &str) -> Map<String, Value> {
        json!({ "x-evidence": { "level": level, "reason": reason } })
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn levels_and_reasons_are_checked() {
        assert!(Evidence::of_action(&ev("published", "https://docs.example/page")).is_ok());
        let e = Evidence::of_action(&ev("published", "the page says so")).unwrap_err();
        assert!(e.to_string().contains("no page URL"), "{e}");
        let e = Evidence::of_action(&ev("guess", "x")).unwrap_err();
        assert!(
            e.to_string()
                .contains("expected published, analogy or none"),
            "{e}"
        );
        let e = Evidence::of_action(&ev("none", "  ")).unwrap_err();
        assert!(e.to_string().contains("no `reason`"), "{e}");
        let e = Evidence::of_action(&Map::new()).unwrap_err();
        assert!(e.to_string().contains("no `x-evidence`"), "{e}");
    }

    fn s(path: &[&str]) -> Vec<String> {
        path.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn marks_the_elements_an_update_adds_and_lists_those_below_published() {
        let mut doc = json!({
            "components": {"schemas": {"A": {"properties": {"x": {"type": "string"}}}}},
            "paths": {"/p": {"get": {"responses": {"400": {"$ref": "#/r"}}}}}
        });
        let update = json!({"schemas": {"A": {"properties": {"x": {"type": "string"}}}}});
        let none = Evidence {
            level: Level::None,
            reason: "no page".into(),
        };
        mark(&mut doc, &s(&["components"]), Some(&update), &none);
        assert_eq!(
            doc["components"]["schemas"]["A"]["x-evidence"]["level"],
            "none"
        );
        assert_eq!(
            doc["components"]["schemas"]["A"]["properties"]["x"]["x-evidence"]["level"],
            "none"
        );
        // A later action restates one element's level.
        let published = Evidence {
            level: Level::Published,
            reason: "https://docs.example/a".into(),
        };
        mark(
            &mut doc,
            &s(&["components", "schemas", "A"]),
            Some(&json!({})),
            &published,
        );
        // A non-element target marks the element it lies in; `required` its own key.
        let analogy = Evidence {
            level: Level::Analogy,
            reason: "as the sibling".into(),
        };
        mark(
            &mut doc,
            &s(&["paths", "/p", "get", "responses", "400", "content"]),
            Some(&json!({"schema": {}})),
            &analogy,
        );
        mark(
            &mut doc,
            &s(&["components", "schemas", "A", "required"]),
            Some(&json!([])),
            &none,
        );
        let rows = rows(&doc);
        let names: Vec<(&str, Level)> =
            rows.iter().map(|r| (r.element.as_str(), r.level)).collect();
        assert_eq!(
            names,
            [
                ("`A` (its `required` list)", Level::None),
                ("`A.x`", Level::None),
                ("`GET /p` answer 400", Level::Analogy),
            ]
        );
        let t = table(&doc);
        assert!(
            t.contains("| `A` (its `required` list); `A.x` | none | no page |"),
            "{t}"
        );
        assert!(
            t.contains("| `GET /p` answers 400 | analogy | as the sibling |"),
            "{t}"
        );
        let md = format!("intro\n{TABLE_BEGIN}\nold\n{TABLE_END}\nafter\n");
        let spliced = splice(&md, &t).unwrap();
        assert!(spliced.starts_with("intro\n") && spliced.ends_with("\nafter\n"));
        assert!(spliced.contains("`GET /p` answers 400"));
        assert!(!spliced.contains("old"));
        assert!(splice("no markers", &t).is_err());
    }
}
