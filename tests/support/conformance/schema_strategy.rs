//! A proptest [`Strategy`] of JSON values valid against a JSON Schema
//! (2020-12, as produced by `to_json_schema`): objects (required properties
//! always, optional ones present or absent, additional or unknown
//! properties), strings (enums, `format` uri/binary/byte/date-time/date/uuid,
//! `pattern`, lengths), numbers, integers, booleans, arrays (bounded length),
//! `null`, `oneOf`/`anyOf`/`allOf`, `$ref` with a recursion depth limit.
//!
//! A keyword it does not know panics with the schema path, so a spec that
//! starts using one is noticed instead of generating invalid values.

use std::collections::BTreeSet;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{BoxedStrategy, Just, Union};
use serde_json::{Map, Number, Value};

/// Whether objects get properties their schema does not declare (only where
/// the schema leaves them open: declared `properties` and no
/// `additionalProperties`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unknown {
    /// Never.
    Never,
    /// At random (about half the objects).
    Sometimes,
    /// Every such object has one or two.
    Always,
}

/// How values are generated.
#[derive(Clone, Debug)]
pub struct Options {
    /// `$ref` expansions on one path before values get minimal (required
    /// properties only, shortest arrays); past 8 more, recursion panics.
    pub ref_depth: i32,
    /// Array elements generated beyond `minItems`, at most.
    pub max_extra_items: usize,
    /// Unknown properties at open objects.
    pub unknown: Unknown,
    /// Minimal values everywhere: required properties only, shortest arrays.
    pub minimal: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ref_depth: 6,
            max_extra_items: 3,
            unknown: Unknown::Sometimes,
            minimal: false,
        }
    }
}

/// Values valid against `schema`, whose `$ref`s point into `defs`
/// (`#/$defs/<name>`).
pub fn strategy(
    defs: &Map<String, Value>,
    schema: &Value,
    options: &Options,
) -> BoxedStrategy<Value> {
    Gen { defs, options }.build(schema, options.ref_depth, "#")
}

/// Any JSON value (small).
pub fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1000i64..1000).prop_map(Value::from),
        finite_f64().prop_map(float),
        "\\PC{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(Value::Array),
            btree_map("[a-z_]{1,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

fn finite_f64() -> impl Strategy<Value = f64> {
    use proptest::num::f64::{NORMAL, SUBNORMAL, ZERO};
    prop_oneof![NORMAL | SUBNORMAL | ZERO, 0.0f64..=1.0]
}

fn float(f: f64) -> Value {
    Value::Number(Number::from_f64(f).expect("finite"))
}

/// Keywords that only annotate.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "default",
    "examples",
    "readOnly",
    "writeOnly",
    "deprecated",
    "$comment",
    "$schema",
    "$id",
    "contentMediaType",
    "contentEncoding",
];

/// Keywords the generator honours.
const HANDLED: &[&str] = &[
    "$ref",
    "$defs",
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "allOf",
    "anyOf",
    "oneOf",
];

struct Gen<'a> {
    defs: &'a Map<String, Value>,
    options: &'a Options,
}

impl Gen<'_> {
    fn build(&self, schema: &Value, depth: i32, path: &str) -> BoxedStrategy<Value> {
        let obj = match schema {
            Value::Bool(true) => return any_json(),
            Value::Object(o) => o,
            other => {
                panic!("schema_strategy: {path}: cannot generate values for the schema {other}")
            }
        };
        for k in obj.keys() {
            if !ANNOTATIONS.contains(&k.as_str()) && !HANDLED.contains(&k.as_str()) {
                panic!("schema_strategy: {path}: keyword `{k}` is not supported; teach tests/common/schema_strategy.rs");
            }
        }
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            let name = r
                .strip_prefix("#/$defs/")
                .unwrap_or_else(|| panic!("schema_strategy: {path}: unsupported $ref {r}"));
            assert!(
                depth > -8,
                "schema_strategy: {path}: $ref {name} recurses without a minimal value"
            );
            let target = self
                .defs
                .get(name)
                .unwrap_or_else(|| panic!("schema_strategy: unresolved $ref {r}"));
            return self.build(target, depth - 1, &format!("#/$defs/{name}"));
        }
        if let Some(c) = obj.get("const") {
            return Just(c.clone()).boxed();
        }
        if let Some(values) = obj.get("enum").and_then(Value::as_array) {
            return select(values.clone()).boxed();
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = obj.get(key).and_then(Value::as_array) {
                let others: Vec<&String> = obj
                    .keys()
                    .filter(|k| *k != key && !ANNOTATIONS.contains(&k.as_str()))
                    .collect();
                assert!(
                    others.is_empty(),
                    "schema_strategy: {path}: {key} next to {others:?} is not supported"
                );
                let branches: Vec<BoxedStrategy<Value>> = branches
                    .iter()
                    .enumerate()
                    .map(|(i, b)| self.build(b, depth, &format!("{path}/{key}/{i}")))
                    .collect();
                return Union::new(branches).boxed();
            }
        }
        if obj.contains_key("allOf") {
            assert!(
                depth > -8,
                "schema_strategy: {path}: allOf recurses without a minimal value"
            );
            let merged = self.merge_all_of(schema, path);
            return self.build(&merged, depth - 1, path);
        }
        let types: Vec<&str> = match obj.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            Some(other) => panic!("schema_strategy: {path}: bad type {other}"),
            None if obj.contains_key("properties") || obj.contains_key("required") => {
                vec!["object"]
            }
            None if obj.contains_key("items") => vec!["array"],
            None => return any_json(),
        };
        let per_type: Vec<BoxedStrategy<Value>> = types
            .iter()
            .map(|t| match *t {
                "null" => Just(Value::Null).boxed(),
                "boolean" => any::<bool>().prop_map(Value::Bool).boxed(),
                "integer" => integer(obj, path),
                "number" => number(obj, path),
                "string" => string(obj, path),
                "array" => self.array(obj, depth, path),
                "object" => self.object(obj, depth, path),
                other => panic!("schema_strategy: {path}: unknown type {other}"),
            })
            .collect();
        Union::new(per_type).boxed()
    }

    fn minimal(&self, depth: i32) -> bool {
        self.options.minimal || depth <= 0
    }

    /// One object schema from an `allOf` (and the keywords beside it):
    /// properties and `required` are united; anything else must agree.
    fn merge_all_of(&self, schema: &Value, path: &str) -> Value {
        let mut merged = Map::new();
        let mut add = |s: &Map<String, Value>| {
            for (k, v) in s {
                match k.as_str() {
                    "allOf" => {}
                    "properties" => {
                        let into = merged
                            .entry(k.clone())
                            .or_insert_with(|| Value::Object(Map::new()));
                        for (name, p) in v.as_object().expect("properties") {
                            let into = into.as_object_mut().unwrap();
                            if into.get(name).is_some_and(|old| old != p) {
                                panic!("schema_strategy: {path}: allOf members disagree on property {name}");
                            }
                            into.insert(name.clone(), p.clone());
                        }
                    }
                    "required" => {
                        let into = merged
                            .entry(k.clone())
                            .or_insert_with(|| Value::Array(vec![]));
                        let into = into.as_array_mut().unwrap();
                        for r in v.as_array().expect("required") {
                            if !into.contains(r) {
                                into.push(r.clone());
                            }
                        }
                    }
                    k if ANNOTATIONS.contains(&k) => {}
                    _ => {
                        if merged.get(k).is_some_and(|old| old != v) {
                            panic!("schema_strategy: {path}: allOf members disagree on `{k}`");
                        }
                        merged.insert(k.to_string(), v.clone());
                    }
                }
            }
        };
        let mut stack = vec![schema.clone()];
        while let Some(s) = stack.pop() {
            let s = match s.get("$ref").and_then(Value::as_str) {
                Some(r) => self.defs[r.trim_start_matches("#/$defs/")].clone(),
                None => s,
            };
            let obj = s.as_object().expect("an allOf member is an object");
            stack.extend(
                obj.get("allOf")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
            add(obj);
        }
        Value::Object(merged)
    }

    fn array(&self, obj: &Map<String, Value>, depth: i32, path: &str) -> BoxedStrategy<Value> {
        let min = obj.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = obj
            .get("maxItems")
            .and_then(Value::as_u64)
            .map_or(usize::MAX, |m| m as usize);
        let upper = if self.minimal(depth) {
            min
        } else {
            max.min(min + self.options.max_extra_items)
        };
        let items = match obj.get("items") {
            Some(s) => self.build(s, depth, &format!("{path}/items")),
            None => any_json(),
        };
        vec(items, min..=upper).prop_map(Value::Array).boxed()
    }

    fn object(&self, obj: &Map<String, Value>, depth: i32, path: &str) -> BoxedStrategy<Value> {
        let empty = Map::new();
        let props = obj
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let required: BTreeSet<String> = obj
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let minimal = self.minimal(depth);
        let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
        for (name, s) in props {
            let key = name.clone();
            if required.contains(name) {
                let value = self.build(s, depth, &format!("{path}/properties/{name}"));
                fields.push(value.prop_map(move |v| Some((key.clone(), v))).boxed());
            } else if !minimal {
                // Built only when used, so that a recursive schema (a user's
                // `partner` is a user) ends at its minimal value.
                let value = self.build(s, depth, &format!("{path}/properties/{name}"));
                fields.push(
                    proptest::option::of(value)
                        .prop_map(move |v| v.map(|v| (key.clone(), v)))
                        .boxed(),
                );
            }
        }
        // Required but not declared: any value will do.
        for name in required.iter().filter(|r| !props.contains_key(*r)) {
            let key = name.clone();
            fields.push(any_json().prop_map(move |v| Some((key.clone(), v))).boxed());
        }
        let declared: BTreeSet<String> = props
            .keys()
            .cloned()
            .chain(required.iter().cloned())
            .collect();
        let key = {
            let declared = declared.clone();
            "[a-z][a-z0-9_]{0,10}"
                .prop_filter("a name the schema does not declare", move |k: &String| {
                    !declared.contains(k)
                })
        };
        let extras: BoxedStrategy<Vec<(String, Value)>> = match obj.get("additionalProperties") {
            Some(Value::Bool(false)) => Just(vec![]).boxed(),
            Some(ap @ Value::Object(_)) => {
                let n = if minimal { 0 } else { 2 };
                btree_map(
                    key,
                    self.build(ap, depth, &format!("{path}/additionalProperties")),
                    0..=n,
                )
                .prop_map(|m| m.into_iter().collect())
                .boxed()
            }
            _ if props.is_empty() => {
                let n = if minimal { 0 } else { 3 };
                btree_map(key, any_json(), 0..=n)
                    .prop_map(|m| m.into_iter().collect())
                    .boxed()
            }
            _ => {
                let range = match self.options.unknown {
                    Unknown::Always => 1..=2,
                    Unknown::Sometimes if !minimal => 0..=1,
                    _ => 0..=0,
                };
                btree_map(key, any_json(), range)
                    .prop_map(|m| m.into_iter().collect())
                    .boxed()
            }
        };
        for k in obj.keys() {
            if [
                "minProperties",
                "maxProperties",
                "patternProperties",
                "propertyNames",
            ]
            .contains(&k.as_str())
            {
                panic!("schema_strategy: {path}: `{k}` is not supported");
            }
        }
        (fields, extras)
            .prop_map(|(fields, extras)| {
                let mut m: Map<String, Value> = extras.into_iter().collect();
                m.extend(fields.into_iter().flatten());
                Value::Object(m)
            })
            .boxed()
    }
}

fn integer(obj: &Map<String, Value>, path: &str) -> BoxedStrategy<Value> {
    // Without a `format`, OpenAPI leaves the range open; int64 is the widest
    // range it names (and what the generated types use).
    let (mut lo, mut hi) = match obj.get("format").and_then(Value::as_str) {
        Some("int32") => (i64::from(i32::MIN), i64::from(i32::MAX)),
        Some("int64") | None => (i64::MIN, i64::MAX),
        Some(f) => panic!("schema_strategy: {path}: integer format {f} is not supported"),
    };
    let bound = |k: &str| obj.get(k).and_then(Value::as_f64);
    if let Some(m) = bound("minimum") {
        lo = lo.max(m.ceil() as i64);
    }
    if let Some(m) = bound("exclusiveMinimum") {
        lo = lo.max(m.floor() as i64 + 1);
    }
    if let Some(m) = bound("maximum") {
        hi = hi.min(m.floor() as i64);
    }
    if let Some(m) = bound("exclusiveMaximum") {
        hi = hi.min(m.ceil() as i64 - 1);
    }
    assert!(lo <= hi, "schema_strategy: {path}: empty integer range");
    let near_zero = lo.max(-100).min(hi);
    let small = near_zero..=hi.min(100).max(near_zero);
    prop_oneof![small, lo..=hi].prop_map(Value::from).boxed()
}

fn number(obj: &Map<String, Value>, path: &str) -> BoxedStrategy<Value> {
    let bound = |k: &str| obj.get(k).and_then(Value::as_f64);
    let (min, max) = (bound("minimum"), bound("maximum"));
    let (xmin, xmax) = (bound("exclusiveMinimum"), bound("exclusiveMaximum"));
    let unbounded = min.is_none() && max.is_none() && xmin.is_none() && xmax.is_none();
    match obj.get("format").and_then(Value::as_str) {
        None | Some("double") => {}
        // Single precision: values an f32 holds exactly.
        Some("float") if unbounded => {
            use proptest::num::f32::{NORMAL, SUBNORMAL, ZERO};
            return (NORMAL | SUBNORMAL | ZERO)
                .prop_map(|f| float(f64::from(f)))
                .boxed();
        }
        Some(f) => panic!("schema_strategy: {path}: number format {f} is not supported here"),
    }
    if unbounded {
        // JSON integers too (a server may send `1` for a number), within the
        // ±2^53 every JSON implementation reads exactly (I-JSON).
        const EXACT: i64 = 1 << 53;
        return prop_oneof![
            (-EXACT..=EXACT).prop_map(Value::from),
            (-10i64..=10).prop_map(Value::from),
            finite_f64().prop_map(float),
        ]
        .boxed();
    }
    let lo = min.or(xmin).unwrap_or(-1e12);
    let hi = max.or(xmax).unwrap_or(1e12);
    (lo..=hi)
        .prop_filter("exclusive bounds", move |v| {
            xmin.is_none_or(|m| *v > m) && xmax.is_none_or(|m| *v < m)
        })
        .prop_map(float)
        .boxed()
}

fn string(obj: &Map<String, Value>, path: &str) -> BoxedStrategy<Value> {
    let regex = |r: &str| -> BoxedStrategy<Value> {
        proptest::string::string_regex(r)
            .unwrap_or_else(|e| panic!("schema_strategy: {path}: regex {r}: {e}"))
            .prop_map(Value::String)
            .boxed()
    };
    let format = obj.get("format").and_then(Value::as_str);
    if format.is_some()
        && (obj.contains_key("pattern")
            || obj.contains_key("minLength")
            || obj.contains_key("maxLength"))
    {
        panic!("schema_strategy: {path}: `format` together with pattern/length is not supported");
    }
    match format {
        Some("uri") => regex("(https|http)://[a-z]{1,10}\\.(com|net|ai)(/[A-Za-z0-9_.~-]{1,8}){0,3}(\\?[a-z]{1,5}=[a-z0-9]{1,5})?"),
        // A JSON string of any content (binary payloads never travel in JSON
        // bodies here; multipart file parts are tested in wire_requests).
        Some("binary") => regex("\\PC{0,16}"),
        Some("byte") => regex("([A-Za-z0-9+/]{4}){0,4}"),
        Some("date-time") => regex("20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-]0[0-9]:00)"),
        Some("date") => regex("20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"),
        Some("email") => regex("[a-z][a-z0-9]{0,7}@[a-z]{1,8}\\.(com|net|ai)"),
        Some("password") => regex("\\PC{0,16}"),
        Some("uuid") => regex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
        Some(f) => panic!("schema_strategy: {path}: string format {f} is not supported"),
        None => match obj.get("pattern").and_then(Value::as_str) {
            Some(p) => regex(p),
            None => {
                let min = obj.get("minLength").and_then(Value::as_u64).unwrap_or(0);
                let max = obj.get("maxLength").and_then(Value::as_u64).unwrap_or(min + 24).min(min + 24);
                regex(&format!("\\PC{{{min},{max}}}"))
            }
        },
    }
}
