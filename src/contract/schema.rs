//! The vendored spec and its response schemas, as a validator of raw
//! answers.
//!
//! The schemas are OpenAPI 3.0 Schema Objects (JSON Schema with `nullable`),
//! walked here directly rather than converted for a generic JSON Schema
//! validator, because every finding must name two places: the field of the
//! answer (`$.verdict.confidence`) and the schema in the spec that describes
//! it (a JSON pointer, from which [`super::report`] writes overlay targets).
//!
//! What is a **failure** (the client relies on it): a value of another type
//! than declared, a missing required field, `null` where not `nullable`, a
//! value no `oneOf`/`anyOf` branch accepts. What is **drift** (reported, not
//! failed): a field the schema's `properties` do not declare (when it has no
//! `additionalProperties`), a string outside an `enum` (the client's enums
//! are open), PHP's integer `0` or `1` where the schema says `boolean` (the
//! client reads them as `false`/`true`; a schema marked `x-php-bool: true`
//! expects them, and then they are no drift). Laravel's rule holds: `[]` is
//! accepted where an object is declared (see the crate's `laravel` module).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// The spec embedded in the crate: `openapi/identifai.yaml`, the file the
/// client is generated from.
pub const EMBEDDED_SPEC: &str = include_str!("../../openapi/identifai.yaml");

/// A parsed OpenAPI document.
#[derive(Clone, Debug)]
pub struct Spec {
    doc: Value,
}

/// An operation of the spec, found by its `operationId`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path template, e.g. `/api/classification/{identifier}`.
    pub path: String,
    /// JSON pointer of the operation object in the spec.
    pub pointer: String,
}

/// A mismatch the client relies on.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// Where in the answer, e.g. `$.verdict.confidence`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// JSON pointer of the schema in the spec.
    pub schema: String,
}

/// What was seen that the spec does not describe.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum DriftKind {
    /// A field the schema does not declare, with the value seen.
    UndeclaredField {
        /// The field's name.
        name: String,
        /// The value seen (its shape becomes the suggested schema).
        seen: Value,
    },
    /// A string outside the schema's `enum`.
    UnknownEnumValue {
        /// The value seen.
        value: Value,
    },
    /// PHP's integer `0` or `1` where the schema says `boolean` (a MySQL
    /// boolean column without a cast); the client reads it as
    /// `false`/`true`.
    PhpBoolean {
        /// The value seen: `0` or `1`.
        value: Value,
    },
    /// A mismatch with an element no published page shows: one the spec
    /// took from a sibling page (`analogy`) or made up (`none`), as its
    /// `x-evidence` says. The spec guessed there; the server may be right.
    Unpublished {
        /// `analogy` or `none`.
        level: String,
        /// Why the spec has the element anyway (its `x-evidence` reason).
        reason: String,
        /// The mismatch, as a failure would have said it.
        message: String,
    },
}

/// One drift finding.
#[derive(Clone, Debug, PartialEq)]
pub struct Drift {
    /// Where in the answer.
    pub field: String,
    /// JSON pointer of the schema that would have to change: the object
    /// schema (undeclared field), the enum schema or the boolean schema.
    pub schema: String,
    /// What was seen.
    pub kind: DriftKind,
}

impl Drift {
    /// Identifies the finding regardless of where in an answer (which array
    /// item) it was seen.
    pub fn key(&self) -> String {
        match &self.kind {
            DriftKind::UndeclaredField { name, .. } => format!("{}#field:{name}", self.schema),
            DriftKind::UnknownEnumValue { value } => format!("{}#enum:{value}", self.schema),
            // One finding per schema, whether `0` or `1` was seen.
            DriftKind::PhpBoolean { .. } => format!("{}#{PHP_BOOL}", self.schema),
            DriftKind::Unpublished { message, .. } => {
                format!("{}#unpublished:{message}", self.schema)
            }
        }
    }
}

/// The extension that marks a `boolean` schema as one the server writes as
/// PHP's `0`/`1` (what a drift overlay adds): then those are no drift.
pub const PHP_BOOL: &str = "x-php-bool";

/// The extension the overlay engine writes on every element an action
/// touched: `{level: published | analogy | none, reason}`.
pub const EVIDENCE: &str = identifai_overlay::evidence::KEY;
/// The same, for an element's `required` list.
pub const EVIDENCE_REQUIRED: &str = identifai_overlay::evidence::KEY_REQUIRED;

/// `ev` when its level is below `published`.
fn below_published(ev: Option<&Value>) -> Option<&Value> {
    ev.filter(|e| {
        matches!(
            e.get("level").and_then(Value::as_str),
            Some("analogy" | "none")
        )
    })
}

/// Records a mismatch: a failure, or drift where the element is below
/// `published` (`ev`).
fn mismatch(out: &mut Findings, field: String, schema: &str, message: String, ev: Option<&Value>) {
    match ev {
        Some(ev) => out.drift.push(Drift {
            field,
            schema: schema.to_owned(),
            kind: DriftKind::Unpublished {
                level: ev
                    .get("level")
                    .and_then(Value::as_str)
                    .unwrap_or("none")
                    .to_owned(),
                reason: ev
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                message,
            },
        }),
        None => out.mismatches.push(Mismatch {
            field,
            message,
            schema: schema.to_owned(),
        }),
    }
}

/// Whether `value` is PHP's integer boolean: `0` or `1`.
fn is_php_bool(value: &Value) -> bool {
    matches!(value.as_u64(), Some(0 | 1))
}

/// The outcome of validating one answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Findings {
    /// Mismatches: the check fails.
    pub mismatches: Vec<Mismatch>,
    /// Drift: reported.
    pub drift: Vec<Drift>,
}

impl Spec {
    /// The spec this crate was generated from.
    pub fn embedded() -> Spec {
        Spec::from_yaml(EMBEDDED_SPEC).expect("the embedded spec parses (build.rs read it)")
    }

    /// Parses an OpenAPI document (YAML or JSON).
    pub fn from_yaml(text: &str) -> Result<Spec, String> {
        let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| format!("the spec: {e}"))?;
        if !doc.get("paths").is_some_and(Value::is_object) {
            return Err("the spec has no `paths`".into());
        }
        Ok(Spec { doc })
    }

    /// The document.
    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// The document as YAML.
    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(&self.doc).unwrap_or_default()
    }

    /// The operation whose `operationId` is `id`.
    pub fn operation(&self, id: &str) -> Option<Operation> {
        let paths = self.doc.get("paths")?.as_object()?;
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                if op.get("operationId").and_then(Value::as_str) == Some(id) {
                    return Some(Operation {
                        method: method.to_uppercase(),
                        path: path.clone(),
                        pointer: format!("/paths/{}/{}", escape(path), escape(method)),
                    });
                }
            }
        }
        None
    }

    /// The JSON schema of `status`'s answer of operation `id` (exact status,
    /// then `NXX`, then `default`), with its pointer; `None` when the spec
    /// declares no JSON body for it.
    pub fn response_schema(&self, id: &str, status: u16) -> Option<(String, &Value)> {
        let op = self.operation(id)?;
        let responses = self
            .doc
            .pointer(&op.pointer)?
            .get("responses")?
            .as_object()?;
        let keys = [
            status.to_string(),
            format!("{}XX", status / 100),
            "default".into(),
        ];
        let key = keys.iter().find(|k| responses.contains_key(k.as_str()))?;
        let mut pointer = format!("{}/responses/{}", op.pointer, escape(key));
        let mut response = responses.get(key.as_str())?;
        if let Some(r) = response.get("$ref").and_then(Value::as_str) {
            pointer = r.trim_start_matches('#').to_owned();
            response = self.doc.pointer(&pointer)?;
        }
        let content = response.get("content")?.as_object()?;
        let (media, body) = content
            .iter()
            .find(|(m, _)| m.starts_with("application/json"))?;
        let schema = body.get("schema")?;
        Some((
            format!("{pointer}/content/{}/schema", escape(media)),
            schema,
        ))
    }

    /// Whether `status` is a declared answer of operation `id`.
    pub fn declares_status(&self, id: &str, status: u16) -> bool {
        let Some(op) = self.operation(id) else {
            return false;
        };
        self.doc
            .pointer(&format!("{}/responses", op.pointer))
            .and_then(Value::as_object)
            .is_some_and(|r| {
                r.contains_key(&status.to_string())
                    || r.contains_key(&format!("{}XX", status / 100))
                    || r.contains_key("default")
            })
    }

    /// Validates `value`, the answer `status` of operation `id`.
    pub fn validate(&self, id: &str, status: u16, value: &Value) -> Findings {
        let mut out = Findings::default();
        match self.response_schema(id, status) {
            Some((pointer, schema)) => {
                let ev = self.response_evidence(id, status);
                self.walk(&pointer, schema, value, "$", &[], ev, &mut out)
            }
            None => out.mismatches.push(Mismatch {
                field: "$".into(),
                message: format!("the spec declares no JSON answer {status} for `{id}`"),
                schema: self
                    .operation(id)
                    .map(|o| o.pointer + "/responses")
                    .unwrap_or_default(),
            }),
        }
        out
    }

    /// The `x-evidence` below `published` of operation `id`'s answer
    /// `status` (the response object, or the component it refers to).
    fn response_evidence(&self, id: &str, status: u16) -> Option<&Value> {
        let op = self.operation(id)?;
        let responses = self.doc.pointer(&op.pointer)?.get("responses")?;
        let response = [
            status.to_string(),
            format!("{}XX", status / 100),
            "default".into(),
        ]
        .iter()
        .find_map(|k| responses.get(k.as_str()))?;
        let referred = response
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| self.resolve(r))
            .map(|(_, v)| v);
        [Some(response), referred]
            .into_iter()
            .flatten()
            .find_map(|r| below_published(r.get(EVIDENCE)))
    }

    fn resolve(&self, reference: &str) -> Option<(String, &Value)> {
        let pointer = reference.strip_prefix('#')?;
        Some((pointer.to_owned(), self.doc.pointer(pointer)?))
    }

    /// The property names `schema` declares, through `$ref` and `allOf`.
    fn declared(&self, schema: &Value, into: &mut BTreeSet<String>, depth: u32) {
        if depth > 32 {
            return;
        }
        if let Some((_, target)) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| self.resolve(r))
        {
            return self.declared(target, into, depth + 1);
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            into.extend(props.keys().cloned());
        }
        for member in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.declared(member, into, depth + 1);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn walk<'a>(
        &'a self,
        ptr: &str,
        schema: &'a Value,
        value: &Value,
        field: &str,
        siblings: &[String],
        ev: Option<&'a Value>,
        out: &mut Findings,
    ) {
        if field.len() > 4096 {
            return; // absurdly deep answers: the body cap bounds them anyway
        }
        // An element below `published` (its own `x-evidence`, or one it lies
        // in): a mismatch there is drift.
        let ev = below_published(schema.get(EVIDENCE)).or(ev);
        let fail = |out: &mut Findings, message: String| {
            mismatch(out, field.to_owned(), ptr, message, ev);
        };
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            match self.resolve(reference) {
                Some((p, target)) => self.walk(&p, target, value, field, siblings, ev, out),
                None => fail(out, format!("unresolvable $ref {reference}")),
            }
            return;
        }
        let nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
        if value.is_null() {
            let typed = schema.get("type").is_some()
                || schema.get("allOf").is_some()
                || schema.get("oneOf").is_some()
                || schema.get("anyOf").is_some();
            if !nullable && typed {
                fail(
                    out,
                    format!("null, but {} is not nullable", describe(schema)),
                );
            }
            return;
        }
        if let Some(members) = schema.get("allOf").and_then(Value::as_array) {
            let mut all = BTreeSet::new();
            self.declared(schema, &mut all, 0);
            all.extend(siblings.iter().cloned());
            let all: Vec<String> = all.into_iter().collect();
            for (i, m) in members.iter().enumerate() {
                self.walk(&format!("{ptr}/allOf/{i}"), m, value, field, &all, ev, out);
            }
        }
        for keyword in ["oneOf", "anyOf"] {
            let Some(branches) = schema.get(keyword).and_then(Value::as_array) else {
                continue;
            };
            let mut best: Option<Findings> = None;
            for (i, b) in branches.iter().enumerate() {
                let mut f = Findings::default();
                self.walk(
                    &format!("{ptr}/{keyword}/{i}"),
                    b,
                    value,
                    field,
                    siblings,
                    ev,
                    &mut f,
                );
                if f.mismatches.is_empty() {
                    best = Some(f);
                    break;
                }
            }
            match best {
                Some(f) => out.drift.extend(f.drift),
                None => fail(
                    out,
                    format!("{} matches none of the {keyword} branches", kind(value)),
                ),
            }
        }
        let ty = schema.get("type").and_then(Value::as_str);
        let ok = match ty {
            None => true,
            Some("object") => value.is_object() || value.as_array().is_some_and(Vec::is_empty),
            Some("array") => value.is_array(),
            Some("string") => value.is_string(),
            Some("integer") => value.is_i64() || value.is_u64(),
            Some("number") => value.is_number(),
            // PHP's 0/1: the client reads them (drift, below).
            Some("boolean") => value.is_boolean() || is_php_bool(value),
            Some(_) => true,
        };
        if !ok {
            fail(
                out,
                format!(
                    "expected {}, found {} {}",
                    ty.unwrap_or("?"),
                    kind(value),
                    short(value)
                ),
            );
            return;
        }
        let expected = schema.get(PHP_BOOL).and_then(Value::as_bool) == Some(true);
        if ty == Some("boolean") && !value.is_boolean() && !expected {
            out.drift.push(Drift {
                field: field.to_owned(),
                schema: ptr.to_owned(),
                kind: DriftKind::PhpBoolean {
                    value: value.clone(),
                },
            });
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            if !values.contains(value) {
                out.drift.push(Drift {
                    field: field.to_owned(),
                    schema: ptr.to_owned(),
                    kind: DriftKind::UnknownEnumValue {
                        value: value.clone(),
                    },
                });
            }
        }
        if let Some(items) = value.as_array() {
            if ty == Some("array") {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.walk(
                            &format!("{ptr}/items"),
                            item_schema,
                            item,
                            &format!("{field}[{i}]"),
                            &[],
                            ev,
                            out,
                        );
                    }
                }
            }
        }
        let empty = Map::new();
        let object = match value {
            Value::Object(m) => m,
            Value::Array(a) if a.is_empty() && ty == Some("object") => &empty,
            _ => return,
        };
        let props = schema.get("properties").and_then(Value::as_object);
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(name) {
                // A `required` list no page states is drift too.
                let ev = below_published(schema.get(EVIDENCE_REQUIRED)).or(ev);
                mismatch(
                    out,
                    child(field, name),
                    ptr,
                    format!("required field `{name}` is missing"),
                    ev,
                );
            }
        }
        let additional = schema.get("additionalProperties");
        for (name, v) in object {
            if let Some(p) = props.and_then(|p| p.get(name)) {
                self.walk(
                    &format!("{ptr}/properties/{}", escape(name)),
                    p,
                    v,
                    &child(field, name),
                    &[],
                    ev,
                    out,
                );
            } else if let Some(ap) = additional.filter(|a| a.is_object()) {
                self.walk(
                    &format!("{ptr}/additionalProperties"),
                    ap,
                    v,
                    &child(field, name),
                    &[],
                    ev,
                    out,
                );
            } else if additional.is_none() && props.is_some() && !siblings.contains(name) {
                out.drift.push(Drift {
                    field: child(field, name),
                    schema: ptr.to_owned(),
                    kind: DriftKind::UndeclaredField {
                        name: name.clone(),
                        seen: v.clone(),
                    },
                });
            }
        }
    }

    /// Applies an Overlay 1.0 document (YAML text; or just its list of
    /// actions) to this document with the engine `cargo xtask spec` uses
    /// (`identifai-overlay`), so both read an overlay the same way: `update`
    /// deep-merges into an object and appends to an array, `remove: true`
    /// deletes, every action needs a `description` and an `x-evidence`
    /// (which it writes on what it touches), and a target that matches
    /// nothing is an error. [`super::Report::drift_overlay`] writes such a
    /// document. Returns how many actions applied.
    pub fn apply_overlay(&mut self, overlay: &str) -> Result<usize, String> {
        let parsed: Value =
            serde_yaml_ng::from_str(overlay).map_err(|e| format!("the overlay: {e}"))?;
        // A bare list of actions gets the header the engine requires.
        let parsed = match parsed {
            Value::Array(actions) => serde_json::json!({
                "overlay": "1.0.0",
                "info": { "title": "actions", "version": "1.0.0" },
                "actions": actions,
            }),
            other => other,
        };
        // On error the engine may have changed part of the document: work on a copy.
        let mut doc = self.doc.clone();
        let applied = identifai_overlay::apply(&mut doc, &parsed).map_err(|e| format!("{e:#}"))?;
        self.doc = doc;
        Ok(applied)
    }
}

/// The JSONPath (`$.components.schemas.X['properties']`) of a JSON pointer
/// into `doc` (array indices as `[i]`).
pub fn jsonpath(doc: &Value, pointer: &str) -> String {
    let mut out = String::from("$");
    let mut node = Some(doc);
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        let is_array = node.is_some_and(Value::is_array);
        if is_array {
            out.push_str(&format!("[{seg}]"));
            node = node.and_then(|n| n.get(seg.parse::<usize>().unwrap_or(usize::MAX)));
        } else {
            let plain = !seg.is_empty()
                && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !seg.starts_with(|c: char| c.is_ascii_digit());
            if plain {
                out.push('.');
                out.push_str(&seg);
            } else {
                out.push_str(&format!(
                    "['{}']",
                    seg.replace('\\', "\\\\").replace('\'', "\\'")
                ));
            }
            node = node.and_then(|n| n.get(&seg));
        }
    }
    out
}

/// JSON pointer escaping of one segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn child(field: &str, name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !name.is_empty() {
        format!("{field}.{name}")
    } else {
        format!("{field}[{}]", Value::from(name))
    }
}

fn describe(schema: &Value) -> String {
    match schema.get("type").and_then(Value::as_str) {
        Some(t) => format!("the {t}"),
        None => "the value".into(),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn short(v: &Value) -> String {
    let mut s = v.to_string();
    if s.len() > 60 {
        let mut cut = 57;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

/// A schema describing `v`'s shape: what a drift action suggests for a
/// field nobody declared.
pub fn infer(v: &Value) -> Value {
    use serde_json::json;
    match v {
        Value::Null => json!({ "nullable": true }),
        Value::Bool(_) => json!({ "type": "boolean" }),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({ "type": "integer" }),
        Value::Number(_) => json!({ "type": "number" }),
        Value::String(_) => json!({ "type": "string" }),
        Value::Array(items) => match items.first() {
            Some(first) => json!({ "type": "array", "items": infer(first) }),
            None => json!({ "type": "array", "items": {} }),
        },
        Value::Object(m) => {
            let props: Map<String, Value> = m.iter().map(|(k, v)| (k.clone(), infer(v))).collect();
            json!({ "type": "object", "properties": props })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Spec {
        Spec::embedded()
    }

    #[test]
    fn finds_operations_and_schemas() {
        let s = spec();
        let op = s.operation("get_image_classification").unwrap();
        assert_eq!(op.method, "GET");
        assert_eq!(op.path, "/api/classification/{identifier}");
        assert!(s.response_schema("get_image_classification", 200).is_some());
        assert!(s.response_schema("health", 200).is_some());
        assert!(s.operation("nope").is_none());
    }

    #[test]
    fn type_and_required_mismatches_fail_extra_fields_drift() {
        let s = spec();
        let f = s.validate(
            "get_image_classification",
            200,
            &json!({"identifier": "x", "verdict": {"classification": "human", "confidence": "high"}, "brand_new": 1}),
        );
        assert!(
            f.mismatches
                .iter()
                .any(|m| m.field == "$.verdict.confidence" && m.message.contains("expected number")),
            "{f:?}"
        );
        assert!(f.drift.iter().any(|d| d.field == "$.brand_new"), "{f:?}");
        let f = s.validate(
            "get_image_classification",
            200,
            &json!({"status": "paused"}),
        );
        assert!(f.mismatches.is_empty(), "{f:?}");
        assert!(matches!(
            f.drift[0].kind,
            DriftKind::UnknownEnumValue { .. }
        ));
        // Laravel's [] where an object is declared is no mismatch.
        let f = s.validate("get_image_classification", 200, &json!([]));
        assert!(f.mismatches.is_empty(), "{f:?}");
        let f = s.validate("get_image_classification", 200, &json!("text"));
        assert_eq!(f.mismatches.len(), 1, "{f:?}");
    }

    #[test]
    fn php_integer_booleans_drift_other_numbers_fail() {
        let s = spec();
        let body = json!({"has_heatmap": 1, "is_nsfw": 0, "results": [{"unknown": 0}]});
        let f = s.validate("get_image_classification", 200, &body);
        assert!(f.mismatches.is_empty(), "{f:?}");
        let seen: Vec<(&str, &DriftKind)> = f
            .drift
            .iter()
            .map(|d| (d.field.as_str(), &d.kind))
            .collect();
        assert_eq!(
            seen,
            [
                ("$.has_heatmap", &DriftKind::PhpBoolean { value: json!(1) }),
                ("$.is_nsfw", &DriftKind::PhpBoolean { value: json!(0) }),
                (
                    "$.results[0].unknown",
                    &DriftKind::PhpBoolean { value: json!(0) }
                ),
            ]
        );
        assert!(f.drift[2].schema.ends_with("/properties/unknown"), "{f:?}");
        for bad in [json!(2), json!(-1), json!(0.0), json!("1")] {
            let f = s.validate(
                "get_image_classification",
                200,
                &json!({ "has_heatmap": bad }),
            );
            assert_eq!(f.mismatches.len(), 1, "{bad}: {f:?}");
            assert!(
                f.mismatches[0].message.contains("expected boolean"),
                "{f:?}"
            );
        }
        // A schema marked as PHP's expects them.
        let mut marked = spec();
        let (ptr, _) = marked
            .response_schema("get_image_classification", 200)
            .unwrap();
        let doc = &marked.doc;
        let target = doc.pointer(&ptr).unwrap()["$ref"].as_str().unwrap();
        let pointer = format!("{}/properties/has_heatmap", &target[1..]);
        marked.doc.pointer_mut(&pointer).unwrap()[PHP_BOOL] = json!(true);
        let f = marked.validate("get_image_classification", 200, &json!({"has_heatmap": 1}));
        assert_eq!(f, Findings::default());
    }

    #[test]
    fn jsonpaths_round_trip() {
        let s = spec();
        let (ptr, _) = s.response_schema("health", 200).unwrap();
        let path = jsonpath(s.document(), &ptr);
        assert_eq!(
            identifai_overlay::pointers(s.document(), &path).unwrap(),
            vec![ptr]
        );
        let doc = json!({"a": {"b c": [{"d'e": 1}]}});
        let path = jsonpath(&doc, "/a/b c/0/d'e");
        assert_eq!(path, "$.a['b c'][0]['d\\'e']");
        assert_eq!(
            identifai_overlay::pointers(&doc, &path).unwrap(),
            vec!["/a/b c/0/d'e"]
        );
        assert!(identifai_overlay::pointers(&doc, "a").is_err());
    }
}
