//! Shared by the spec-conformance tests (`tests/conformance/examples.rs`,
//! `tests/conformance/roundtrip.rs`, `tests/conformance/forward_compat.rs`).
//!
//! Everything is driven by the spec: it is read at run time from the path in
//! `IDENTIFAI_SPEC` when set (`cargo xtask mutate` points it at mutated
//! copies), else from `openapi/identifai.yaml`. The Rust types under test are
//! the ones `build.rs` generated from `openapi/identifai.yaml`, reached by
//! schema name through `identifai::api::conformance`; so a spec the client
//! was not generated from shows up as failures here.
//!
//! * [`Spec::schema`]: the OpenAPI 3.0 schemas as JSON Schema 2020-12
//!   (`nullable`, `$ref`s into `$defs`, OpenAPI-only keywords dropped), and
//!   [`Spec::validate`] with the `jsonschema` crate.
//! * [`Spec::normalise`]: the one documented normalisation under which a
//!   re-encoded value must equal its input.
//! * [`Spec::check_component`]: the conformance check of one JSON value
//!   against one component (validate, decode, re-encode, compare, re-decode).
//! * [`Spec::examples`] / [`Spec::check_example`]: every example the spec
//!   publishes, and its check.
//! * [`run_cases`]: proptest over a component with [`schema_strategy`].

pub mod schema_strategy;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};

use identifai::api::conformance;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::{json, Map, Value};

/// Prefix of the one-line failure summaries the tests print (and `cargo
/// xtask mutate` collects): `CONFORMANCE-FAIL <group> <subject>: <what>`.
pub const FAIL: &str = "CONFORMANCE-FAIL";

/// The spec under test, loaded once.
pub fn spec() -> &'static Spec {
    static SPEC: LazyLock<Spec> = LazyLock::new(Spec::load);
    &SPEC
}

/// The spec, in OpenAPI and in JSON Schema form.
pub struct Spec {
    /// Where it was read from.
    pub path: PathBuf,
    /// The OpenAPI document, as JSON.
    pub doc: Value,
    /// `components.schemas`, each converted to JSON Schema 2020-12.
    pub defs: Map<String, Value>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl Spec {
    fn load() -> Spec {
        // The one loader of the tests (`tests/support/spec.rs`).
        Spec::from_doc(
            crate::support::spec::path(),
            crate::support::spec::doc().clone(),
        )
    }

    /// A spec of `doc` (e.g. the spec under test with a change made in
    /// memory, to show that a check fails on it).
    pub fn from_doc(path: PathBuf, doc: Value) -> Spec {
        let defs = doc["components"]["schemas"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), to_json_schema(v)))
                    .collect()
            })
            .unwrap_or_default();
        Spec {
            path,
            doc,
            defs,
            validators: Mutex::default(),
        }
    }

    /// Every component schema name of the spec.
    pub fn components(&self) -> Vec<String> {
        self.defs.keys().cloned().collect()
    }

    /// The JSON Schema form of component `name`: a `$ref` into `$defs`.
    pub fn component(&self, name: &str) -> Value {
        json!({ "$ref": format!("#/$defs/{name}") })
    }

    /// The JSON Schema form of an OpenAPI schema of this spec.
    pub fn schema(&self, openapi: &Value) -> Value {
        to_json_schema(openapi)
    }

    /// The schema `$ref` points at (or `schema` itself).
    pub fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match ref_name(schema) {
            Some(name) => {
                let target = self
                    .defs
                    .get(name)
                    .unwrap_or_else(|| panic!("unresolved $ref {name}"));
                self.resolve(target)
            }
            None => schema,
        }
    }

    /// Validates `instance` against `schema` (JSON Schema form, `$ref`s into
    /// this spec's `$defs`), formats included.
    pub fn validate(&self, schema: &Value, instance: &Value) -> Result<(), String> {
        let validator = self.validator(schema);
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("at `{}`: {e}", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    fn validator(&self, schema: &Value) -> Arc<jsonschema::Validator> {
        let key = schema.to_string();
        if let Some(v) = self.validators.lock().unwrap().get(&key) {
            return v.clone();
        }
        let mut root = match schema {
            Value::Object(m) => m.clone(),
            Value::Bool(b) => {
                let mut m = Map::new();
                if !b {
                    m.insert("not".into(), json!({}));
                }
                m
            }
            other => panic!("not a schema: {other}"),
        };
        root.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        root.insert("$defs".into(), Value::Object(self.defs.clone()));
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&Value::Object(root))
            .unwrap_or_else(|e| panic!("the JSON Schema form of {schema} does not compile: {e}"));
        let validator = Arc::new(validator);
        self.validators
            .lock()
            .unwrap()
            .insert(key, validator.clone());
        validator
    }

    /// The concrete schemas that apply to `value` at `schema`: `$ref`s
    /// followed, `allOf` flattened, and of `anyOf`/`oneOf` the first branch
    /// `value` validates against.
    fn effective<'a>(&'a self, schema: &'a Value, value: &Value) -> Vec<&'a Value> {
        let schema = self.resolve(schema);
        let mut out = vec![schema];
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for s in all {
                out.extend(self.effective(s, value));
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                if let Some(b) = branches.iter().find(|b| self.validate(b, value).is_ok()) {
                    out.extend(self.effective(b, value));
                }
            }
        }
        out
    }

    /// THE normalisation: a value re-encoded by the generated client must
    /// equal its input after both went through this. Each rule is something
    /// the spec leaves open or something the generated (typify) types do by
    /// design, and nothing else:
    ///
    /// 1. An **optional** property (not in `required`) whose value is `null`,
    ///    `[]`, or `{}` where its schema is a free-form object or a map (no
    ///    `properties`), is dropped: typify reads all three as "absent"
    ///    (`Option::None`, an empty `Vec`, an empty `Map`/`HashMap`) and skips
    ///    them when encoding. Required properties keep them.
    /// 2. A property the object's schema does not declare is dropped when the
    ///    schema declares `properties` and has no `additionalProperties`:
    ///    JSON Schema allows it, typify structs ignore it (forward
    ///    compatibility). With an `additionalProperties` schema (kept in a
    ///    flattened map, e.g. `ErrorBody`'s validation map) or no declared
    ///    `properties` at all (a free-form object) it is kept.
    /// 3. Numbers compare numerically: a float with an integral value of
    ///    magnitude at most 2^53 (e.g. `1.0` from an `f64` field whose input
    ///    was `1`) is written as that integer.
    /// 4. A string where the schema says `format: date-time` is the instant
    ///    it names (`2025-03-12T11:30:25.000000Z` = `2025-03-12T11:30:25Z`):
    ///    the generated type holds a `chrono::DateTime<Utc>`, which writes
    ///    it back without the zero fraction.
    ///
    /// `schema` is in JSON Schema form; `anyOf`/`oneOf` take the first branch
    /// `value` is valid against.
    pub fn normalise(&self, schema: &Value, value: &Value) -> Value {
        match value {
            Value::Number(_) => canonical_number(value),
            Value::Array(items) => {
                let effective = self.effective(schema, value);
                let item_schema = effective.iter().find_map(|s| s.get("items"));
                Value::Array(
                    items
                        .iter()
                        .map(|v| match item_schema {
                            Some(s) => self.normalise(s, v),
                            None => self.normalise(&json!({}), v),
                        })
                        .collect(),
                )
            }
            Value::Object(map) => {
                let effective = self.effective(schema, value);
                let mut properties: BTreeMap<&str, &Value> = BTreeMap::new();
                let mut required: BTreeSet<&str> = BTreeSet::new();
                let mut additional: Option<&Value> = None;
                for s in &effective {
                    if let Some(props) = s.get("properties").and_then(Value::as_object) {
                        properties.extend(props.iter().map(|(k, v)| (k.as_str(), v)));
                    }
                    if let Some(req) = s.get("required").and_then(Value::as_array) {
                        required.extend(req.iter().filter_map(Value::as_str));
                    }
                    additional = additional.or(s.get("additionalProperties"));
                }
                let free_form = properties.is_empty();
                let mut out = Map::new();
                for (k, v) in map {
                    if let Some(prop) = properties.get(k.as_str()) {
                        let optional = !required.contains(k.as_str());
                        if optional && self.reads_as_absent(prop, v) {
                            continue; // rule 1
                        }
                        out.insert(k.clone(), self.normalise(prop, v));
                    } else {
                        match additional {
                            Some(ap @ Value::Object(_)) => {
                                out.insert(k.clone(), self.normalise(ap, v));
                            }
                            Some(Value::Bool(false)) => {
                                // Invalid anyway; keep it so the difference shows.
                                out.insert(k.clone(), v.clone());
                            }
                            _ if free_form => {
                                out.insert(k.clone(), self.normalise(&json!({}), v));
                            }
                            _ => {} // rule 2
                        }
                    }
                }
                Value::Object(out)
            }
            Value::String(text) if self.is_date_time(schema, value) => {
                // Rule 4: a date-time is the instant it names.
                match chrono::DateTime::parse_from_rfc3339(text) {
                    Ok(t) => Value::String(
                        t.with_timezone(&chrono::Utc)
                            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                    ),
                    Err(_) => value.clone(),
                }
            }
            _ => value.clone(),
        }
    }

    /// Whether `schema` (or an effective branch of it) says `format: date-time`.
    fn is_date_time(&self, schema: &Value, value: &Value) -> bool {
        self.effective(schema, value)
            .iter()
            .any(|s| s.get("format").and_then(Value::as_str) == Some("date-time"))
    }

    /// Rule 1 of [`Spec::normalise`]: `null`, `[]`, or `{}` at a free-form
    /// object or map schema.
    fn reads_as_absent(&self, schema: &Value, value: &Value) -> bool {
        match value {
            Value::Null => true,
            Value::Array(a) => a.is_empty(),
            Value::Object(m) if m.is_empty() => self
                .effective(schema, value)
                .iter()
                .all(|s| s.get("properties").is_none()),
            _ => false,
        }
    }

    /// Properties of `value` that [`Spec::normalise`]'s rule 2 would drop:
    /// present in the value, declared nowhere in the schema of their object
    /// (which declares `properties` and no `additionalProperties`). A typed
    /// decode drops them, so an example that has one would lose data.
    pub fn undeclared(&self, schema: &Value, value: &Value, at: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.undeclared_walk(schema, value, at, &mut out);
        out
    }

    fn undeclared_walk(&self, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
        match value {
            Value::Array(items) => {
                let effective = self.effective(schema, value);
                let item_schema = effective.iter().find_map(|s| s.get("items"));
                for (i, v) in items.iter().enumerate() {
                    if let Some(s) = item_schema {
                        self.undeclared_walk(s, v, &format!("{at}[{i}]"), out);
                    }
                }
            }
            Value::Object(map) => {
                let effective = self.effective(schema, value);
                let mut properties: BTreeMap<&str, &Value> = BTreeMap::new();
                let mut additional: Option<&Value> = None;
                for s in &effective {
                    if let Some(props) = s.get("properties").and_then(Value::as_object) {
                        properties.extend(props.iter().map(|(k, v)| (k.as_str(), v)));
                    }
                    additional = additional.or(s.get("additionalProperties"));
                }
                for (k, v) in map {
                    let at = format!("{at}.{k}");
                    match (properties.get(k.as_str()), additional) {
                        (Some(prop), _) => self.undeclared_walk(prop, v, &at, out),
                        (None, Some(ap @ Value::Object(_))) => {
                            self.undeclared_walk(ap, v, &at, out)
                        }
                        (None, _) if properties.is_empty() => {} // free-form: kept whole
                        (None, _) => out.push(at),
                    }
                }
            }
            _ => {}
        }
    }

    /// Spec enum values at `schema` in `value` that the generated open enum
    /// does not know (it would decode them into its catch-all variant). Only
    /// named enum components are checked (`build.rs` refuses inline enums in
    /// responses).
    pub fn unknown_enum_values(&self, schema: &Value, value: &Value, at: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.enum_walk(schema, value, at, &mut out);
        out
    }

    fn enum_walk(&self, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
        if let Some(name) = ref_name(schema) {
            if self.defs.get(name).is_some_and(|d| d.get("enum").is_some()) {
                if let Some(s) = value.as_str() {
                    match enum_values(name) {
                        Some(known) if known.contains(&s) => {}
                        Some(known) => out.push(format!(
                            "{at}: `{s}` is a value of enum {name} in the spec, but the generated \
                             type knows only {known:?} (it decodes `{s}` into its catch-all)"
                        )),
                        None => out.push(format!("{at}: enum {name} has no generated open enum")),
                    }
                }
                return;
            }
            return self.enum_walk(&self.defs[name], value, at, out);
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for s in all {
                self.enum_walk(s, value, at, out);
            }
        }
        for key in ["anyOf", "oneOf"] {
            for b in schema
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if self.validate(b, value).is_ok() {
                    self.enum_walk(b, value, at, out);
                }
            }
        }
        match value {
            Value::Object(map) => {
                let props = schema.get("properties").and_then(Value::as_object);
                for (k, v) in map {
                    let sub = props
                        .and_then(|p| p.get(k))
                        .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
                    if let Some(sub) = sub {
                        self.enum_walk(sub, v, &format!("{at}.{k}"), out);
                    }
                }
            }
            Value::Array(items) => {
                if let Some(sub) = schema.get("items") {
                    for (i, v) in items.iter().enumerate() {
                        self.enum_walk(sub, v, &format!("{at}[{i}]"), out);
                    }
                }
            }
            _ => {}
        }
    }

    /// The conformance check of `value` against component `name`:
    /// (a) it validates against the component's schema and every spec enum
    /// value in it is known to the generated type, (b) it decodes into the
    /// component's Rust type, (c) the re-encoded JSON validates and equals
    /// the input under [`Spec::normalise`], and (d) decode -> encode ->
    /// decode gives an equal Rust value. Returns the re-encoded JSON.
    pub fn check_component(&self, name: &str, value: &Value) -> Result<Value, String> {
        let schema = self.component(name);
        self.validate(&schema, value).map_err(|e| {
            format!("input does not validate against {name}: {e}\n  input: {value}")
        })?;
        let unknown = self.unknown_enum_values(&schema, value, name);
        if !unknown.is_empty() {
            return Err(unknown.join("; "));
        }
        let out = match conformance::roundtrip(name, value) {
            None => return Err(format!("no generated Rust type for component {name}")),
            Some(Err(e)) => {
                return Err(format!(
                    "does not decode into {}: {e}\n  input: {value}",
                    rust_type(name)
                ))
            }
            Some(Ok(out)) => out,
        };
        self.validate(&schema, &out).map_err(|e| {
            format!(
                "re-encoded {} does not validate: {e}\n  input:      {value}\n  re-encoded: {out}",
                rust_type(name)
            )
        })?;
        let (a, b) = (
            self.normalise(&schema, value),
            self.normalise(&schema, &out),
        );
        if a != b {
            return Err(format!(
                "re-encoded {} differs from the input (after normalisation)\n  input:      {a}\n  re-encoded: {b}",
                rust_type(name)
            ));
        }
        match conformance::redecode(name, value) {
            Some(Ok(())) => Ok(out),
            Some(Err(e)) => Err(format!("{}: {e}", rust_type(name))),
            None => Err(format!("no generated Rust type for component {name}")),
        }
    }

    /// Every example of the spec: of every response media type (operations'
    /// and `components.responses`, each listed once with every operation that
    /// answers with it) and of every schema (components and inline response
    /// schemas, recursively through properties, items, additional properties
    /// and `allOf`/`anyOf`/`oneOf`).
    pub fn examples(&self) -> Vec<Example> {
        let mut found: BTreeMap<String, Example> = BTreeMap::new();
        let empty = Map::new();
        let paths = self.doc["paths"].as_object().unwrap_or(&empty);
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap_or(&empty) {
                let Some(op_id) = op.get("operationId").and_then(Value::as_str) else {
                    continue;
                };
                let responses = op
                    .get("responses")
                    .and_then(Value::as_object)
                    .unwrap_or(&empty);
                for (status, resp) in responses {
                    let (resp, at) = match resp.get("$ref").and_then(Value::as_str) {
                        Some(r) => {
                            let name = r.rsplit('/').next().unwrap();
                            (
                                &self.doc["components"]["responses"][name],
                                format!("components.responses.{name}"),
                            )
                        }
                        None => (resp, format!("paths.{path}.{method}.responses.{status}")),
                    };
                    self.response_examples(resp, &at, status, Some(op_id), &mut found);
                }
            }
        }
        let responses = self.doc["components"]["responses"]
            .as_object()
            .unwrap_or(&empty);
        for (name, resp) in responses {
            self.response_examples(
                resp,
                &format!("components.responses.{name}"),
                "",
                None,
                &mut found,
            );
        }
        for (name, schema) in self.doc["components"]["schemas"]
            .as_object()
            .unwrap_or(&empty)
        {
            let target = Target::Component(name.clone());
            schema_examples(
                schema,
                &format!("components.schemas.{name}"),
                target,
                &mut found,
            );
        }
        found.into_values().collect()
    }

    fn response_examples(
        &self,
        resp: &Value,
        at: &str,
        status: &str,
        op: Option<&str>,
        found: &mut BTreeMap<String, Example>,
    ) {
        let Some(content) = resp.get("content").and_then(Value::as_object) else {
            return;
        };
        for (media, mt) in content {
            let schema = mt.get("schema").cloned().unwrap_or(json!({}));
            let mut values = Vec::new();
            if let Some(v) = mt.get("example") {
                values.push((format!("{at}.content.{media}.example"), v.clone()));
            }
            for (k, ex) in mt
                .get("examples")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if let Some(v) = ex.get("value") {
                    values.push((format!("{at}.content.{media}.examples.{k}"), v.clone()));
                }
            }
            for (location, value) in values {
                let entry = found.entry(location.clone()).or_insert_with(|| Example {
                    location,
                    response: Some(ResponseExample {
                        media: media.clone(),
                        statuses: BTreeSet::new(),
                    }),
                    operations: BTreeSet::new(),
                    target: Target::of_schema(&schema),
                    schema: schema.clone(),
                    value,
                });
                if let Some(r) = &mut entry.response {
                    if !status.is_empty() {
                        r.statuses.insert(status.to_string());
                    }
                }
                entry.operations.extend(op.map(str::to_string));
            }
            if schema.get("$ref").is_none() {
                schema_examples(
                    &schema,
                    &format!("{at}.content.{media}.schema"),
                    Target::of_schema(&schema),
                    found,
                );
            }
        }
    }

    /// Checks one example (see `tests/conformance/examples.rs`); returns what
    /// it was decoded into.
    pub fn check_example(&self, ex: &Example) -> Result<String, String> {
        let schema = self.schema(&ex.schema);
        self.validate(&schema, &ex.value)
            .map_err(|e| format!("does not validate against its schema: {e}"))?;
        // Nothing dropped: every property of a published example is one the
        // spec names, so the typed value keeps it (only rule 1 of
        // `normalise`, absent-equivalent values, may differ).
        let undeclared = self.undeclared(&schema, &ex.value, "example");
        if !undeclared.is_empty() {
            return Err(format!(
                "the spec does not name {} (a typed decode would drop it): name it in openapi/overlay.yaml",
                undeclared.join(", ")
            ));
        }
        if let Some(r) = &ex.response {
            if r.media.starts_with("text/") {
                let s = ex
                    .value
                    .as_str()
                    .ok_or("a text/* example must be a string")?;
                let identifier = !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                return if identifier {
                    Ok("text identifier".into())
                } else {
                    Err(format!(
                        "text/plain example {s:?} is not a non-empty identifier"
                    ))
                };
            }
            if r.statuses.iter().any(|s| !s.starts_with('2'))
                && ex.target.components() != ["ValidationErrorBody"]
            {
                // (A ValidationErrorBody example is checked against its own
                // component below: it requires its message.)
                let out = self
                    .check_component("ErrorBody", &ex.value)
                    .map_err(|e| format!("error example as ErrorBody: {e}"))?;
                if out.as_object().is_none_or(|m| m.is_empty()) {
                    return Err(format!(
                        "error example decodes into an ErrorBody with no message: {out}"
                    ));
                }
            }
        }
        match &ex.target {
            Target::Component(name) => self
                .check_component(name, &ex.value)
                .map(|_| rust_type(name)),
            Target::ArrayOf(name) => {
                let items = ex
                    .value
                    .as_array()
                    .ok_or("an array-of-component example must be an array")?;
                for (i, item) in items.iter().enumerate() {
                    self.check_component(name, item)
                        .map_err(|e| format!("[{i}]: {e}"))?;
                }
                Ok(format!("Vec<{}>", rust_type(name)))
            }
            Target::Primitive => Ok("validated (primitive)".into()),
            Target::Inline(why) => {
                if ex.response.is_some() {
                    Err(format!(
                        "{why}: a response body needs a component schema (name it in openapi/overlay.yaml) \
                         so that it has a Rust type to decode into"
                    ))
                } else {
                    Ok(format!("validated ({why})"))
                }
            }
        }
    }
}

/// One example the spec publishes.
#[derive(Clone, Debug)]
pub struct Example {
    /// Where it is, as a dotted path into the spec.
    pub location: String,
    /// For a response example: its media type and status codes.
    pub response: Option<ResponseExample>,
    /// The operations that answer with it.
    pub operations: BTreeSet<String>,
    /// Its schema (OpenAPI form).
    pub schema: Value,
    /// The Rust type it must decode into.
    pub target: Target,
    pub value: Value,
}

#[derive(Clone, Debug)]
pub struct ResponseExample {
    pub media: String,
    pub statuses: BTreeSet<String>,
}

/// What an example's schema decodes into.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A `$ref` to a component: its generated type.
    Component(String),
    /// An inline array of `$ref`s: a `Vec` of the component's type.
    ArrayOf(String),
    /// An inline string, number, integer or boolean.
    Primitive,
    /// An inline object or other construct: no named Rust type.
    Inline(String),
}

impl Target {
    /// What a value of the OpenAPI `schema` decodes into.
    pub fn of_schema(schema: &Value) -> Target {
        if let Some(name) = openapi_ref(schema) {
            return Target::Component(name.to_string());
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("array") => match schema.get("items").and_then(openapi_ref) {
                Some(name) => Target::ArrayOf(name.to_string()),
                None => Target::Inline("inline array".into()),
            },
            Some("string" | "number" | "integer" | "boolean") => Target::Primitive,
            Some(t) => Target::Inline(format!("inline {t}")),
            None => Target::Inline("untyped inline schema".into()),
        }
    }

    /// The component names this target decodes into.
    pub fn components(&self) -> Vec<&str> {
        match self {
            Target::Component(n) | Target::ArrayOf(n) => vec![n.as_str()],
            _ => vec![],
        }
    }
}

fn schema_examples(
    schema: &Value,
    at: &str,
    target: Target,
    found: &mut BTreeMap<String, Example>,
) {
    let Some(obj) = schema.as_object() else {
        return;
    };
    if let Some(v) = obj.get("example") {
        let location = format!("{at}.example");
        found.entry(location.clone()).or_insert_with(|| Example {
            location,
            response: None,
            operations: BTreeSet::new(),
            schema: schema.clone(),
            target: target.clone(),
            value: v.clone(),
        });
    }
    let sub = |s: &Value, at: String, found: &mut BTreeMap<String, Example>| {
        schema_examples(s, &at, Target::of_schema(s), found);
    };
    for (k, s) in obj
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        sub(s, format!("{at}.properties.{k}"), found);
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(s) = obj.get(key).filter(|s| s.is_object()) {
            sub(s, format!("{at}.{key}"), found);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for (i, s) in obj
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            sub(s, format!("{at}.{key}[{i}]"), found);
        }
    }
}

/// The Rust type name of component `name` (for messages).
pub fn rust_type(name: &str) -> String {
    conformance::RUST_TYPES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or_else(
            || format!("<no type for {name}>"),
            |(_, t)| format!("types::{t}"),
        )
}

/// The values the generated open enum for component `name` knows.
pub fn enum_values(name: &str) -> Option<&'static [&'static str]> {
    conformance::ENUM_VALUES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix("#/$defs/")
}

fn openapi_ref(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")?
        .as_str()?
        .strip_prefix("#/components/schemas/")
}

/// Rule 3 of [`Spec::normalise`].
fn canonical_number(value: &Value) -> Value {
    match value.as_f64() {
        Some(f) if value.is_f64() && f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 => {
            Value::from(f as i64)
        }
        _ => value.clone(),
    }
}

/// The JSON Schema 2020-12 form of an OpenAPI 3.0 schema object:
///
/// * `nullable: true` adds `"null"` to `type` (and `null` to an `enum`);
///   without a `type` (a `$ref`/`allOf`/`anyOf`/`oneOf`) the schema becomes
///   `anyOf: [<schema>, {type: null}]`.
/// * `$ref: '#/components/schemas/X'` becomes `#/$defs/X` (the validator puts
///   every component under `$defs`); as in OpenAPI 3.0, keywords next to a
///   `$ref` are ignored.
/// * OpenAPI-only keywords go: `example`, `xml`, `discriminator`,
///   `externalDocs`, `x-*`. The boolean `exclusiveMinimum`/`exclusiveMaximum`
///   become 2020-12's numeric ones. `format: binary` stays (an unknown format
///   is an annotation).
pub fn to_json_schema(schema: &Value) -> Value {
    let Some(obj) = schema.as_object() else {
        return schema.clone();
    };
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("only component schema $refs are supported, not {r}"));
        return json!({ "$ref": format!("#/$defs/{name}") });
    }
    let mut out = Map::new();
    for (k, v) in obj {
        let v = match k.as_str() {
            "nullable" | "example" | "xml" | "discriminator" | "externalDocs" => continue,
            k if k.starts_with("x-") => continue,
            "properties" => Value::Object(
                v.as_object()
                    .expect("properties is a map")
                    .iter()
                    .map(|(name, s)| (name.clone(), to_json_schema(s)))
                    .collect(),
            ),
            "items" | "additionalProperties" | "not" => to_json_schema(v),
            "allOf" | "anyOf" | "oneOf" => Value::Array(
                v.as_array()
                    .expect("a list of schemas")
                    .iter()
                    .map(to_json_schema)
                    .collect(),
            ),
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    for (flag, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(Value::Bool(exclusive)) = out.remove(flag) {
            if exclusive {
                if let Some(b) = out.remove(bound) {
                    out.insert(flag.into(), b);
                }
            }
        }
    }
    if obj.get("nullable") == Some(&Value::Bool(true)) {
        match out.get_mut("type") {
            Some(Value::String(t)) => {
                let t = t.clone();
                out.insert("type".into(), json!([t, "null"]));
                if let Some(Value::Array(values)) = out.get_mut("enum") {
                    if !values.contains(&Value::Null) {
                        values.push(Value::Null);
                    }
                }
            }
            Some(_) => panic!("`type` must be a string in OpenAPI 3.0: {schema}"),
            None => {
                let annotations: Map<String, Value> = [
                    "description",
                    "title",
                    "default",
                    "readOnly",
                    "writeOnly",
                    "deprecated",
                ]
                .into_iter()
                .filter_map(|k| out.remove(k).map(|v| (k.to_string(), v)))
                .collect();
                let mut wrapped = annotations;
                wrapped.insert(
                    "anyOf".into(),
                    json!([Value::Object(out), { "type": "null" }]),
                );
                return Value::Object(wrapped);
            }
        }
    }
    Value::Object(out)
}

/// Proptest cases per schema: `PROPTEST_CASES`, else 64.
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64)
}

/// Runs `check` on `cases` values of `strategy`, with a fixed seed per
/// `subject` (reproducible; independent of test order). On failure returns
/// the shrunk input and the reason.
pub fn run_cases(
    subject: &str,
    cases: u32,
    strategy: impl proptest::strategy::Strategy<Value = Value>,
    check: impl Fn(&Value) -> Result<(), String>,
) -> Result<(), String> {
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 512,
        ..Config::default()
    };
    let mut seed = [0u8; 32];
    for (i, b) in subject.bytes().enumerate() {
        seed[i % 32] = seed[i % 32].wrapping_mul(31).wrapping_add(b);
    }
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    runner
        .run(&strategy, |v| check(&v).map_err(TestCaseError::fail))
        .map_err(|e| match e {
            TestError::Fail(reason, value) => format!("{reason}\n  minimal failing input: {value}"),
            TestError::Abort(reason) => format!("aborted: {reason}"),
        })
}

/// Proptest over component `name`: `cases` values from
/// [`schema_strategy::strategy`] with `options`, each through
/// [`Spec::check_component`].
pub fn check_component_cases(
    name: &str,
    options: &schema_strategy::Options,
    cases: u32,
) -> Result<(), String> {
    let spec = spec();
    let strategy = schema_strategy::strategy(&spec.defs, &spec.component(name), options);
    run_cases(name, cases, strategy, |v| {
        spec.check_component(name, v).map(|_| ())
    })
}

/// The forward-compatibility check of component `name`: values with unknown
/// properties at every object that does not close them, and minimal values
/// (required properties only), conform.
pub fn check_forward_compat(name: &str, cases: u32) -> Result<(), String> {
    use schema_strategy::{Options, Unknown};
    let unknown = Options {
        unknown: Unknown::Always,
        ..Options::default()
    };
    check_component_cases(name, &unknown, cases)
        .map_err(|e| format!("with unknown properties: {e}"))?;
    let minimal = Options {
        minimal: true,
        unknown: Unknown::Never,
        ..Options::default()
    };
    check_component_cases(name, &minimal, cases.min(8))
        .map_err(|e| format!("minimal (optional fields missing): {e}"))
}
