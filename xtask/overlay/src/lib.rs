//! A strict implementation of [OpenAPI Overlay 1.0.0].
//!
//! An overlay is a document of the form
//!
//! ```yaml
//! overlay: 1.0.0
//! info: { title: ..., version: ... }
//! actions:
//!   - target: $.paths['/api/health'].get   # RFC 9535 JSONPath
//!     description: why this change is needed  # REQUIRED here
//!     update: { operationId: health }          # or: remove: true
//! ```
//!
//! Actions are applied in order; each one sees the result of the previous ones.
//! For every action, `target` is evaluated against the current document
//! (with [`serde_json_path`]) and each matched node is changed:
//!
//! * `update` on an **object** node is deep-merged into it: keys of the update
//!   that are objects on both sides are merged recursively, any other value
//!   (scalar, array, or an object replacing a non-object) replaces the
//!   existing one, new keys are appended.
//! * `update` on an **array** node appends to it; if the update is itself an
//!   array its elements are appended one by one (concatenation).
//! * `update` on a scalar node is an error (Overlay 1.0 targets must be
//!   objects or arrays).
//! * `remove: true` deletes each matched node from its parent (object key or
//!   array element). Nodes are removed deepest / highest index first so that
//!   one removal never shifts the location of another.
//!
//! This implementation is deliberately stricter than the specification, so
//! that the overlay breaks loudly when upstream changes under it:
//!
//! * an action whose target matches **no node** is an error
//!   ("the overlay no longer applies to upstream");
//! * every action needs a non-empty `description` (the documented reason);
//! * an action must have exactly one of `update` and `remove: true`;
//! * unknown action fields (other than `x-*` extensions) are rejected, so a
//!   misspelt `update` cannot be silently ignored;
//! * every action declares what backs it (`x-evidence`, see
//!   [`crate::evidence`]), which is written on the elements it touches.
//!
//! `cargo xtask spec` builds `openapi/identifai.yaml` with it, and
//! `identifai::contract::Spec::apply_overlay` applies a drift overlay with it,
//! so the two can never disagree on what an overlay means.

pub mod evidence;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Value};
use serde_json_path::{JsonPath, PathElement};

/// One step of a normalized path, detached from the borrowed document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Key(String),
    Index(usize),
}

/// What an action does to each matched node.
enum Op<'a> {
    Update(&'a Value),
    Remove,
}

/// Applies `overlay` to `doc` in place and returns the number of actions applied.
///
/// On error `doc` may be partially modified; callers should discard it.
pub fn apply(doc: &mut Value, overlay: &Value) -> Result<usize> {
    let actions = validate_header(overlay)?;
    for (i, action) in actions.iter().enumerate() {
        let n = i + 1;
        let (target, description, op) =
            parse_action(action).with_context(|| format!("overlay action #{n} is invalid"))?;
        let evidence = action
            .as_object()
            .map(crate::evidence::Evidence::of_action)
            .transpose()
            .and_then(|e| e.ok_or_else(|| anyhow!("not a mapping")))
            .with_context(|| format!("overlay action #{n} ({description})"))?;
        let update = match &op {
            Op::Update(u) => Some(*u),
            Op::Remove => None,
        };
        let locations =
            locate(doc, target).with_context(|| format!("overlay action #{n} ({description})"))?;
        if locations.is_empty() {
            bail!(
                "overlay action #{n} ({description}) matched nothing: the overlay no longer applies to upstream \
                 [target: {target}]"
            );
        }
        let marked: Vec<Vec<String>> = locations.iter().map(|l| keys(l)).collect();
        apply_op(doc, locations, op)
            .with_context(|| format!("overlay action #{n} ({description})"))?;
        for target in &marked {
            crate::evidence::mark(doc, target, update, &evidence);
        }
    }
    Ok(actions.len())
}

/// Checks the `overlay` / `info` / `actions` fields and returns the actions.
fn validate_header(overlay: &Value) -> Result<&Vec<Value>> {
    let version = overlay
        .get("overlay")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("overlay document has no `overlay` version string"))?;
    if !version.starts_with("1.0.") {
        bail!("unsupported overlay version {version:?} (expected 1.0.x)");
    }
    let info = overlay.get("info").and_then(Value::as_object);
    let has = |k: &str| info.and_then(|i| i.get(k)).is_some_and(|v| v.is_string());
    if !has("title") || !has("version") {
        bail!("overlay `info` must have string `title` and `version`");
    }
    overlay
        .get("actions")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("overlay document has no `actions` array"))
}

/// Splits one action into its target, description and operation.
fn parse_action(action: &Value) -> Result<(&str, &str, Op<'_>)> {
    let obj = action
        .as_object()
        .ok_or_else(|| anyhow!("action is not a mapping"))?;
    if let Some(key) = obj.keys().find(|k| {
        !matches!(k.as_str(), "target" | "description" | "update" | "remove")
            && !k.starts_with("x-")
    }) {
        bail!("unknown field `{key}`");
    }
    let target = obj
        .get("target")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("missing string `target`"))?;
    let description = obj
        .get("description")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .ok_or_else(|| {
            anyhow!(
                "target {target:?} has no `description`; every action must document why it exists"
            )
        })?;
    let remove = match obj.get("remove") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => bail!("`remove` must be a boolean, got {other}"),
    };
    let op = match (obj.get("update"), remove) {
        (Some(update), false) => Op::Update(update),
        (None, true) => Op::Remove,
        (Some(_), true) => bail!("({description}) has both `update` and `remove: true`"),
        (None, false) => bail!("({description}) has neither `update` nor `remove: true`"),
    };
    Ok((target, description, op))
}

/// The JSON pointers (`/paths/~1api~1health/get`) of the distinct nodes
/// `target` matches in `doc`, in query order; an error if `target` is no
/// valid JSONPath.
pub fn pointers(doc: &Value, target: &str) -> Result<Vec<String>> {
    Ok(locate(doc, target)?
        .iter()
        .map(|loc| {
            keys(loc)
                .iter()
                .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
                .collect()
        })
        .collect())
}

/// Evaluates `target` on `doc`; returns the distinct matched locations in query order.
fn locate(doc: &Value, target: &str) -> Result<Vec<Vec<Step>>> {
    let path =
        JsonPath::parse(target).with_context(|| format!("invalid JSONPath target {target:?}"))?;
    // Detach the matched locations from `doc` so we can mutate it afterwards.
    let mut locations: Vec<Vec<Step>> = Vec::new();
    for loc in path.query_located(doc).locations() {
        let steps: Vec<Step> = loc
            .iter()
            .map(|e| match e {
                PathElement::Name(k) => Step::Key((*k).to_owned()),
                PathElement::Index(i) => Step::Index(*i),
            })
            .collect();
        if !locations.contains(&steps) {
            locations.push(steps);
        }
    }
    Ok(locations)
}

/// Applies `op` to every location (as returned by [`locate`]).
fn apply_op(doc: &mut Value, mut locations: Vec<Vec<Step>>, op: Op<'_>) -> Result<()> {
    match op {
        Op::Update(update) => {
            for loc in &locations {
                let node = node_mut(doc, loc)?;
                update_node(node, update).with_context(|| format!("at {}", display(loc)))?;
            }
        }
        Op::Remove => {
            // Deepest / highest index first: removing one never moves another.
            locations.sort_unstable_by(|a, b| b.cmp(a));
            for loc in &locations {
                remove_node(doc, loc)?;
            }
        }
    }
    Ok(())
}

/// Applies one `update` value to one matched node.
fn update_node(node: &mut Value, update: &Value) -> Result<()> {
    match (node, update) {
        (Value::Object(target), Value::Object(update)) => {
            deep_merge(target, update);
            Ok(())
        }
        (Value::Object(_), other) => bail!(
            "update for an object must be an object, got {}",
            kind(other)
        ),
        (Value::Array(target), Value::Array(items)) => {
            target.extend(items.iter().cloned());
            Ok(())
        }
        (Value::Array(target), item) => {
            target.push(item.clone());
            Ok(())
        }
        (scalar, _) => bail!(
            "cannot update a {} (targets must be objects or arrays)",
            kind(scalar)
        ),
    }
}

/// Recursively merges `update` into `target` (objects merge, everything else replaces).
pub fn deep_merge(target: &mut Map<String, Value>, update: &Map<String, Value>) {
    for (key, new) in update {
        match (target.get_mut(key), new) {
            (Some(Value::Object(old)), Value::Object(new)) => deep_merge(old, new),
            (Some(old), _) => *old = new.clone(),
            (None, _) => {
                target.insert(key.clone(), new.clone());
            }
        }
    }
}

fn node_mut<'a>(doc: &'a mut Value, loc: &[Step]) -> Result<&'a mut Value> {
    let mut node = doc;
    for step in loc {
        node = match (node, step) {
            (Value::Object(map), Step::Key(k)) => map.get_mut(k),
            (Value::Array(arr), Step::Index(i)) => arr.get_mut(*i),
            _ => None,
        }
        .ok_or_else(|| {
            anyhow!(
                "location {} vanished while applying the action",
                display(loc)
            )
        })?;
    }
    Ok(node)
}

fn remove_node(doc: &mut Value, loc: &[Step]) -> Result<()> {
    let Some((last, parent)) = loc.split_last() else {
        bail!("cannot remove the document root");
    };
    let removed = match (node_mut(doc, parent)?, last) {
        // `retain` keeps the order of the other keys with serde_json's
        // `preserve_order` (as `shift_remove` does) and builds without it.
        (Value::Object(map), Step::Key(k)) => {
            let before = map.len();
            map.retain(|key, _| key != k);
            map.len() < before
        }
        (Value::Array(arr), Step::Index(i)) if *i < arr.len() => {
            arr.remove(*i);
            true
        }
        _ => false,
    };
    if !removed {
        bail!(
            "location {} vanished while applying the action",
            display(loc)
        );
    }
    Ok(())
}

/// A location as its keys (array indices in text).
fn keys(loc: &[Step]) -> Vec<String> {
    loc.iter()
        .map(|s| match s {
            Step::Key(k) => k.clone(),
            Step::Index(i) => i.to_string(),
        })
        .collect()
}

/// Renders a location as a normalized JSONPath, e.g. `$['paths']['/x'][0]`.
fn display(loc: &[Step]) -> String {
    let mut s = String::from("$");
    for step in loc {
        match step {
            Step::Key(k) => s.push_str(&format!("[{}]", Value::String(k.clone()))),
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The overlay of `actions`, each given an `x-evidence` if it has none.
    fn overlay(mut actions: Value) -> Value {
        for a in actions.as_array_mut().into_iter().flatten() {
            if let Some(a) = a.as_object_mut() {
                a.entry("x-evidence")
                    .or_insert(json!({"level": "none", "reason": "a test"}));
            }
        }
        json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": actions})
    }

    fn run(doc: Value, actions: Value) -> Result<Value> {
        let mut doc = doc;
        apply(&mut doc, &overlay(actions))?;
        Ok(doc)
    }

    fn err(doc: Value, actions: Value) -> String {
        format!("{:#}", run(doc, actions).expect_err("expected an error"))
    }

    #[test]
    fn update_deep_merges_objects() {
        let doc = json!({"a": {"b": {"c": 1, "d": [1]}, "e": "x"}});
        let out = run(
            doc,
            json!([{"target": "$.a", "description": "d",
                    "update": {"b": {"d": [2], "f": true}, "e": {"now": "object"}, "g": null}}]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"a": {"b": {"c": 1, "d": [2], "f": true}, "e": {"now": "object"}, "g": null}})
        );
    }

    #[test]
    fn update_keeps_key_order_and_appends_new_keys() {
        let out = run(
            json!({"z": 1, "a": 2}),
            json!([{"target": "$", "description": "d", "update": {"m": 3, "z": 9}}]),
        )
        .unwrap();
        let keys: Vec<_> = out.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["z", "a", "m"]);
        assert_eq!(out["z"], 9);
    }

    #[test]
    fn update_appends_to_arrays() {
        let doc = json!({"list": [1, 2]});
        let out = run(
            doc,
            json!([
                {"target": "$.list", "description": "one item", "update": {"x": 3}},
                {"target": "$.list", "description": "concat", "update": [4, 5]}
            ]),
        )
        .unwrap();
        assert_eq!(out, json!({"list": [1, 2, {"x": 3}, 4, 5]}));
    }

    #[test]
    fn update_every_match() {
        let doc = json!({"p": {"a": {"get": {}}, "b": {"get": {"x": 1}}}});
        let out = run(
            doc,
            json!([{"target": "$.p.*.get", "description": "d", "update": {"y": 2}}]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"p": {"a": {"get": {"y": 2}}, "b": {"get": {"x": 1, "y": 2}}}})
        );
    }

    #[test]
    fn update_scalar_target_is_an_error() {
        let e = err(
            json!({"a": 1}),
            json!([{"target": "$.a", "description": "d", "update": 2}]),
        );
        assert!(e.contains("cannot update a number"), "{e}");
        let e = err(
            json!({"a": {}}),
            json!([{"target": "$.a", "description": "d", "update": 2}]),
        );
        assert!(e.contains("must be an object"), "{e}");
    }

    #[test]
    fn remove_from_object() {
        let doc = json!({"a": {"b": 1, "c": 2, "d": 3}});
        let out = run(
            doc,
            json!([{"target": "$.a['b','d']", "description": "d", "remove": true}]),
        )
        .unwrap();
        assert_eq!(out, json!({"a": {"c": 2}}));
    }

    #[test]
    fn remove_from_array_highest_index_first() {
        let doc = json!({"l": [{"k": 1}, {"k": 2}, {"k": 1}, {"k": 3}]});
        let out = run(
            doc,
            json!([{"target": "$.l[?@.k == 1]", "description": "d", "remove": true}]),
        )
        .unwrap();
        assert_eq!(out, json!({"l": [{"k": 2}, {"k": 3}]}));
    }

    #[test]
    fn remove_nested_and_ancestor_together() {
        let doc = json!({"a": {"b": {"c": 1}}, "k": 0});
        let out = run(
            doc,
            json!([{"target": "$..['b','c']", "description": "d", "remove": true}]),
        )
        .unwrap();
        assert_eq!(out, json!({"a": {}, "k": 0}));
    }

    #[test]
    fn remove_root_is_an_error() {
        let e = err(
            json!({}),
            json!([{"target": "$", "description": "d", "remove": true}]),
        );
        assert!(e.contains("document root"), "{e}");
    }

    #[test]
    fn actions_see_previous_results() {
        let out = run(
            json!({}),
            json!([
                {"target": "$", "description": "add", "update": {"a": {"b": 1}}},
                {"target": "$.a", "description": "extend", "update": {"c": 2}},
                {"target": "$.a.b", "description": "drop", "remove": true}
            ]),
        )
        .unwrap();
        assert_eq!(out, json!({"a": {"c": 2}}));
    }

    #[test]
    fn zero_matches_is_an_error() {
        let e = err(
            json!({"a": 1}),
            json!([
                {"target": "$", "description": "fine", "update": {}},
                {"target": "$.missing", "description": "stale fix", "remove": true}
            ]),
        );
        assert!(
            e.contains("overlay action #2 (stale fix)")
                && e.contains("matched nothing: the overlay no longer applies to upstream"),
            "{e}"
        );
    }

    #[test]
    fn description_is_required() {
        for action in [
            json!({"target": "$", "update": {}}),
            json!({"target": "$", "description": "  ", "update": {}}),
        ] {
            let e = err(json!({}), json!([action]));
            assert!(
                e.contains("overlay action #1") && e.contains("no `description`"),
                "{e}"
            );
        }
    }

    #[test]
    fn exactly_one_of_update_and_remove() {
        let e = err(
            json!({"a": 1}),
            json!([{"target": "$.a", "description": "d"}]),
        );
        assert!(e.contains("neither"), "{e}");
        let e = err(
            json!({"a": 1}),
            json!([{"target": "$.a", "description": "d", "update": {}, "remove": true}]),
        );
        assert!(e.contains("both"), "{e}");
        let e = err(
            json!({"a": 1}),
            json!([{"target": "$.a", "description": "d", "updte": {}}]),
        );
        assert!(e.contains("unknown field `updte`"), "{e}");
    }

    #[test]
    fn bad_jsonpath_and_header_are_errors() {
        let e = err(
            json!({}),
            json!([{"target": "$[", "description": "d", "remove": true}]),
        );
        assert!(e.contains("invalid JSONPath"), "{e}");
        let mut doc = json!({});
        let e = apply(
            &mut doc,
            &json!({"overlay": "2.0.0", "info": {}, "actions": []}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("unsupported overlay version"), "{e}");
    }

    #[test]
    fn an_action_without_evidence_is_an_error() {
        let mut doc = json!({"a": {}});
        let e = apply(
            &mut doc,
            &json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"},
                    "actions": [{"target": "$.a", "description": "d", "update": {}}]}),
        )
        .unwrap_err();
        let e = format!("{e:#}");
        assert!(
            e.contains("overlay action #1 (d)") && e.contains("no `x-evidence`"),
            "{e}"
        );
    }
}
