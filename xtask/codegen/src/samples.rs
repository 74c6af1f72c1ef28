//! The one sample-value generator: a value of a schema, made from the spec
//! (as JSON, `$ref`s followed by pointer), for the mock's documented
//! answers and inputs (`mock_answers`) and the conformance dispatcher's
//! arguments (`dispatch`).
//!
//! The two purposes differ where their users need it: an answer has every
//! property its schema declares (so that each field is exercised) and
//! strings its `format` and `minLength` accept; a call's argument has the
//! schema's `example` or `default`, and only the required properties.

use serde_json::{Map, Value};

/// What a sample is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A documented answer or an input of the MockServer: every property.
    Answer,
    /// An argument of the conformance dispatcher's call: the schema's own
    /// example or default first, then the required properties only.
    Call,
}

/// How deep an answer's sample follows nested schemas (a self-referencing
/// schema, such as a user whose `partner` is a user, ends there).
pub(crate) const MAX_DEPTH: usize = 6;

/// How deep a call's sample follows nested schemas (`null` below).
const MAX_CALL_DEPTH: usize = 16;

/// A deterministic value of `schema` (a schema of `doc`, the spec as JSON)
/// for `purpose`.
pub(crate) fn sample(
    doc: &Value,
    schema: &Value,
    depth: usize,
    purpose: Purpose,
) -> Result<Value, String> {
    match purpose {
        Purpose::Answer => answer_sample(doc, schema, depth),
        Purpose::Call => Ok(call_sample(doc, schema, depth)),
    }
}

/// The target of a local `$ref` (`#/components/...`).
pub(crate) fn pointer<'a>(doc: &'a Value, reference: &str) -> Result<&'a Value, String> {
    let path = reference
        .strip_prefix('#')
        .ok_or_else(|| format!("{reference}: only local $refs are followed"))?;
    let path = path.replace("~1", "/").replace("~0", "~");
    doc.pointer(&path)
        .ok_or_else(|| format!("unresolved $ref {reference}"))
}

/// `v`, or what its `$ref` names (followed until it names no other).
pub(crate) fn deref<'a>(doc: &'a Value, mut v: &'a Value) -> Result<&'a Value, String> {
    for _ in 0..16 {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => v = pointer(doc, r)?,
            None => return Ok(v),
        }
    }
    Err("a $ref chain longer than 16 links".into())
}

/// A deterministic value of `schema`: every property of an object (so that
/// each field the schema declares is in it), else its `example` when it has
/// one, else the first of its `enum`, `oneOf` or `anyOf`, the merge of its
/// `allOf`, one item of an array, and a value of each scalar type that its
/// `format` and `minimum` accept.
fn answer_sample(doc: &Value, schema: &Value, depth: usize) -> Result<Value, String> {
    let nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
    let schema = deref(doc, schema)?;
    let nullable = nullable || schema.get("nullable").and_then(Value::as_bool) == Some(true);
    if depth > MAX_DEPTH {
        return Ok(if nullable {
            Value::Null
        } else {
            empty_of(schema)
        });
    }
    if let Some(example) = schema
        .get("example")
        .filter(|_| schema.get("properties").is_none())
    {
        return Ok(example.clone());
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.iter().find(|v| !v.is_null()))
    {
        return Ok(first.clone());
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = schema
            .get(key)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            return answer_sample(doc, first, depth + 1);
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        let mut last = Value::Null;
        for part in all {
            match answer_sample(doc, part, depth + 1)? {
                Value::Object(map) => merged.extend(map),
                other => last = other,
            }
        }
        // Properties beside the allOf (rare) join the merge.
        if let Value::Object(own) = object_sample(doc, schema, depth)? {
            merged.extend(own);
        }
        return Ok(if merged.is_empty() {
            last
        } else {
            Value::Object(merged)
        });
    }
    let ty = schema.get("type").and_then(Value::as_str);
    Ok(match ty {
        Some("string") => Value::String(string_sample(schema)),
        Some("integer") => {
            let min = schema.get("minimum").and_then(Value::as_i64).unwrap_or(1);
            Value::from(min.max(1))
        }
        Some("number") => {
            let min = schema.get("minimum").and_then(Value::as_f64);
            serde_json::Number::from_f64(min.unwrap_or(0.5))
                .map(Value::Number)
                .unwrap_or(Value::Null)
        }
        Some("boolean") => Value::Bool(false),
        Some("array") => match schema.get("items") {
            Some(items) => Value::Array(vec![answer_sample(doc, items, depth + 1)?]),
            None => Value::Array(Vec::new()),
        },
        _ => object_sample(doc, schema, depth)?,
    })
}

/// The sample of an object schema: every property it declares.
fn object_sample(doc: &Value, schema: &Value, depth: usize) -> Result<Value, String> {
    let mut out = Map::new();
    for (name, property) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        out.insert(name.clone(), sample_named(doc, name, property, depth + 1)?);
    }
    Ok(Value::Object(out))
}

/// [`Purpose::Answer`]'s sample of a property or field called `name`: a plain string whose
/// name says it is a URL (`file_url`, `webhook_url`) or an email is one.
pub(crate) fn sample_named(
    doc: &Value,
    name: &str,
    schema: &Value,
    depth: usize,
) -> Result<Value, String> {
    let value = answer_sample(doc, schema, depth)?;
    let resolved = deref(doc, schema)?;
    let plain = resolved.get("type").and_then(Value::as_str) == Some("string")
        && resolved.get("format").is_none()
        && resolved.get("enum").is_none()
        && resolved.get("example").is_none();
    let name = name.to_ascii_lowercase();
    let format = if !plain {
        None
    } else if name == "url" || name.ends_with("_url") {
        Some("uri")
    } else if name.ends_with("email") {
        Some("email")
    } else {
        None
    };
    Ok(match format {
        Some(format) => Value::String(string_sample(&serde_json::json!({ "format": format }))),
        None => value,
    })
}

/// The least value of a schema's type, where nesting stops.
fn empty_of(schema: &Value) -> Value {
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => Value::Array(Vec::new()),
        Some("string") => Value::String(string_sample(schema)),
        Some("integer") => Value::from(1),
        Some("boolean") => Value::Bool(false),
        _ => Value::Object(Map::new()),
    }
}

/// A string its `format` accepts.
fn string_sample(schema: &Value) -> String {
    let text = match schema.get("format").and_then(Value::as_str) {
        Some("date-time") => "2025-01-01T00:00:00Z",
        Some("date") => "2025-01-01",
        Some("uri" | "url") => "https://example.com/sample.jpg",
        Some("email") => "user@example.com",
        Some("uuid") => "00000000-0000-4000-8000-000000000000",
        Some("binary" | "byte") => "",
        Some("password") => "sample-password",
        _ => "sample",
    };
    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let mut text = text.to_string();
    while text.len() < min {
        text.push('x');
    }
    text
}

/// A call's sample: its example, else its default, else the first enum
/// value, else one made from its type (every required property of an
/// object, one item of an array); `null` where a `$ref` does not resolve.
fn call_sample(doc: &Value, schema: &Value, depth: usize) -> Value {
    use serde_json::json;
    if depth > MAX_CALL_DEPTH {
        return Value::Null;
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return match pointer(doc, reference) {
            Ok(target) => call_sample(doc, target, depth + 1),
            Err(_) => Value::Null,
        };
    }
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    if let Some(default) = schema.get("default") {
        return default.clone();
    }
    let first_of = |key: &str| {
        schema
            .get(key)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
    };
    let first_enum = || {
        schema
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|e| e.iter().find(|v| !v.is_null()))
            .cloned()
    };
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => first_enum().unwrap_or_else(|| {
            json!(match schema.get("format").and_then(Value::as_str) {
                Some("date-time") => "2024-01-02T03:04:05Z",
                Some("date") => "2024-01-02",
                Some("uri" | "url") => "https://example.com/sample",
                Some("email") => "user@example.com",
                _ => "sample",
            })
        }),
        Some("integer") => first_enum().unwrap_or_else(|| {
            json!(schema
                .get("minimum")
                .and_then(Value::as_i64)
                .unwrap_or(1)
                .max(1))
        }),
        Some("number") => json!(0.5),
        Some("boolean") => json!(false),
        Some("array") => match schema.get("items") {
            Some(items) => json!([call_sample(doc, items, depth + 1)]),
            None => json!([]),
        },
        Some("object") => {
            let required = required(schema);
            let mut out = Map::new();
            for (name, prop) in schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if required.contains(&name.as_str()) {
                    out.insert(name.clone(), call_sample(doc, prop, depth + 1));
                }
            }
            Value::Object(out)
        }
        _ => {
            if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
                let mut out = Map::new();
                for part in all {
                    match call_sample(doc, part, depth + 1) {
                        Value::Object(m) => out.extend(m),
                        other => return other,
                    }
                }
                return Value::Object(out);
            }
            match first_of("oneOf").or_else(|| first_of("anyOf")) {
                Some(first) => call_sample(doc, first, depth + 1),
                None if schema.get("oneOf").is_some() || schema.get("anyOf").is_some() => {
                    Value::Null
                }
                None => json!({}),
            }
        }
    }
}

/// The names an object schema lists as `required`.
pub(crate) fn required(schema: &Value) -> Vec<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}
