//! The MockServer's documented answers: for every operation, the answer the
//! spec documents (its success status and content type, the documented
//! example or else a value generated from the schema), the inputs it
//! requires (validated by the mock, refused in the published error shape)
//! and a sample request, so that a new operation is answered by
//! regeneration alone.
//!
//! Works on the spec as JSON (the answers are JSON texts), following
//! `$ref`s by pointer.

use serde_json::{Map, Value};

use quote::{format_ident, quote};

use crate::samples::{deref, required, sample, sample_named, Purpose};

/// The methods an OpenAPI path item can hold, in its order.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// What the generator records of one input (a query or path parameter, a
/// field of the request body).
struct InputEntry {
    name: String,
    location: &'static str,
    required: bool,
    nullable: bool,
    kind: &'static str,
    values: Vec<String>,
    sample: String,
    content_type: Option<String>,
}

/// The kind of an input's value, as the mock checks it.
fn input_kind(doc: &Value, schema: &Value) -> Result<&'static str, String> {
    let schema = deref(doc, schema)?;
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        if let Some(first) = all.first() {
            return input_kind(doc, first);
        }
    }
    Ok(match schema.get("type").and_then(Value::as_str) {
        Some("integer") => "Integer",
        Some("number") => "Number",
        Some("boolean") => "Boolean",
        Some("array") => "List",
        Some("string")
            if matches!(
                schema.get("format").and_then(Value::as_str),
                Some("binary" | "byte")
            ) =>
        {
            "File"
        }
        _ => "Text",
    })
}

/// The enum values of a schema (followed through `$ref` and `allOf`).
fn enum_values(doc: &Value, schema: &Value) -> Result<Vec<String>, String> {
    let schema = deref(doc, schema)?;
    if let Some(first) = schema
        .get("allOf")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        return enum_values(doc, first);
    }
    Ok(schema
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        })
        .collect())
}

/// A sample value as the text a form or query carries.
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items.first().map(as_text).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// A concrete content type of an `encoding.contentType` list (the first;
/// a wildcard subtype becomes `octet-stream`).
fn concrete_content_type(list: &str) -> String {
    let first = list.split(',').next().unwrap_or("").trim();
    match first.split_once('/') {
        Some((top, "*")) if top != "*" => format!("{top}/octet-stream"),
        Some(("*", _)) | None => "application/octet-stream".to_string(),
        _ => first.to_string(),
    }
}

/// What the generator records of one operation's answer.
struct AnswerEntry {
    operation: String,
    status: u16,
    content_type: Option<String>,
    body: String,
    generated: String,
    schema: Option<String>,
    items: bool,
    validation_status: Option<u16>,
    request_content_type: Option<String>,
    inputs: Vec<InputEntry>,
    sample_body: Option<String>,
}

/// The component a schema names (`$ref`), if any.
fn component_name(schema: &Value) -> Option<String> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .map(str::to_string)
}

/// The documented example of a media type object: `example`, else the
/// first of `examples` (its `value`, following a `$ref`), else the
/// schema's own example.
fn media_example(doc: &Value, media: &Value) -> Result<Option<Value>, String> {
    if let Some(example) = media.get("example") {
        return Ok(Some(example.clone()));
    }
    if let Some((_, first)) = media
        .get("examples")
        .and_then(Value::as_object)
        .and_then(|e| e.iter().next())
    {
        if let Some(value) = deref(doc, first)?.get("value") {
            return Ok(Some(value.clone()));
        }
    }
    match media.get("schema") {
        Some(schema) => Ok(deref(doc, schema)?.get("example").cloned()),
        None => Ok(None),
    }
}

/// Parameters of an operation (the path item's and its own, the
/// operation's winning on the same name and place).
fn parameters<'a>(
    doc: &'a Value,
    item: &'a Value,
    op: &'a Value,
) -> Result<Vec<&'a Value>, String> {
    let mut out: Vec<&Value> = Vec::new();
    for list in [item.get("parameters"), op.get("parameters")] {
        for p in list.and_then(Value::as_array).into_iter().flatten() {
            let p = deref(doc, p)?;
            let key = |v: &Value| (v.get("name").cloned(), v.get("in").cloned());
            out.retain(|q| key(q) != key(p));
            out.push(p);
        }
    }
    Ok(out)
}

fn answer_entry(
    doc: &Value,
    path: &str,
    method: &str,
    item: &Value,
    op: &Value,
) -> Result<AnswerEntry, String> {
    let where_ = format!("{} {path}", method.to_uppercase());
    let name = op
        .get("operationId")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{where_}: an operation needs an operationId"))?
        .to_string();
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("{name}: no responses"))?;
    let documented = |code: u16| responses.contains_key(&code.to_string());
    let Success {
        status,
        content_type,
        body,
        generated,
        schema_name,
        items,
    } = success_answer(doc, &name, responses)?;
    let validation_status = [422, 400].into_iter().find(|c| documented(*c));
    let mut inputs = parameter_inputs(doc, item, op)?;
    let (request_content_type, sample_body) = body_inputs(doc, op, &mut inputs)?;
    Ok(AnswerEntry {
        operation: name,
        status,
        content_type,
        body,
        generated,
        schema: schema_name,
        items,
        validation_status,
        request_content_type,
        inputs,
        sample_body,
    })
}

/// An operation's documented success answer.
struct Success {
    status: u16,
    content_type: Option<String>,
    /// The answer's body: the documented example, else the sample.
    body: String,
    /// The sample made from the schema (JSON answers only).
    generated: String,
    /// The component schema of the answer (of its items when `items`).
    schema_name: Option<String>,
    items: bool,
}

/// The success answer of operation `name`.
fn success_answer(
    doc: &Value,
    name: &str,
    responses: &Map<String, Value>,
) -> Result<Success, String> {
    // The success answer: the lowest 2xx the spec documents (else 200
    // with no body).
    let mut success: Vec<(u16, &Value)> = responses
        .iter()
        .filter_map(|(code, r)| code.parse::<u16>().ok().map(|c| (c, r)))
        .filter(|(c, _)| (200..300).contains(c))
        .collect();
    success.sort_by_key(|(c, _)| *c);
    let (status, response) = match success.first() {
        Some((c, r)) => (*c, Some(deref(doc, r)?)),
        None => (200, None),
    };
    let content = response
        .and_then(|r| r.get("content"))
        .and_then(Value::as_object);
    // JSON when the spec offers it, else the first content type.
    let media = content.and_then(|c| {
        c.iter()
            .find(|(ct, _)| ct.starts_with("application/json"))
            .or_else(|| c.iter().next())
    });
    let (mut content_type, mut body, mut schema_name, mut items) =
        (None, String::new(), None, false);
    let mut generated = String::new();
    if let Some((ct, media)) = media {
        content_type = Some(ct.clone());
        let json = ct.starts_with("application/json") || ct.ends_with("+json");
        let schema = media.get("schema");
        if let Some(schema) = schema {
            schema_name = component_name(schema);
            let array = deref(doc, schema)?.get("type").and_then(Value::as_str) == Some("array");
            if schema_name.is_none() && array {
                schema_name = deref(doc, schema)?.get("items").and_then(component_name);
                items = schema_name.is_some();
            }
        }
        let from_schema = match schema {
            Some(schema) => Some(sample(doc, schema, 0, Purpose::Answer)?),
            None => None,
        };
        if let (Some(v), true) = (&from_schema, json) {
            generated = v.to_string();
        }
        let value = match media_example(doc, media)? {
            Some(example) => Some(example),
            None => from_schema,
        };
        body = match (value, json) {
            (Some(v), true) => {
                serde_json::to_string(&v).map_err(|e| format!("{name}: {status}: {e}"))?
            }
            // A text answer is its string; a binary one has no sample.
            (Some(Value::String(s)), false) if ct.starts_with("text/") => s,
            _ => String::new(),
        };
    }
    Ok(Success {
        status,
        content_type,
        body,
        generated,
        schema_name,
        items,
    })
}

/// The query and path parameters an operation takes.
fn parameter_inputs(doc: &Value, item: &Value, op: &Value) -> Result<Vec<InputEntry>, String> {
    let mut inputs = Vec::new();
    for p in parameters(doc, item, op)? {
        let location = match p.get("in").and_then(Value::as_str) {
            Some("query") => "Query",
            Some("path") => "Path",
            _ => continue,
        };
        let pname = p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let schema = p.get("schema").cloned().unwrap_or(Value::Null);
        let sample_value = match p.get("example") {
            Some(e) => e.clone(),
            None => sample_named(doc, &pname, &schema, 0)?,
        };
        inputs.push(InputEntry {
            name: pname,
            location,
            required: p.get("required").and_then(Value::as_bool) == Some(true),
            nullable: deref(doc, &schema)?
                .get("nullable")
                .and_then(Value::as_bool)
                == Some(true),
            kind: input_kind(doc, &schema)?,
            values: enum_values(doc, &schema)?,
            sample: as_text(&sample_value),
            content_type: None,
        });
    }

    Ok(inputs)
}

/// The fields of an operation's request body (into `inputs`), and its
/// content type and sample body (JSON bodies only).
fn body_inputs(
    doc: &Value,
    op: &Value,
    inputs: &mut Vec<InputEntry>,
) -> Result<(Option<String>, Option<String>), String> {
    let mut request_content_type = None;
    let mut sample_body = None;
    if let Some(rb) = op.get("requestBody") {
        let rb = deref(doc, rb)?;
        if let Some((ct, media)) = rb
            .get("content")
            .and_then(Value::as_object)
            .and_then(|c| c.iter().next())
        {
            request_content_type = Some(ct.clone());
            let schema = media.get("schema").cloned().unwrap_or(Value::Null);
            let resolved = deref(doc, &schema)?;
            let required = required(resolved);
            let encoding = media.get("encoding").and_then(Value::as_object);
            let mut body_sample = Map::new();
            for (field, property) in resolved
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let value = sample_named(doc, field, property, 1)?;
                let kind = input_kind(doc, property)?;
                let content_type = (kind == "File").then(|| {
                    encoding
                        .and_then(|e| e.get(field))
                        .and_then(|e| e.get("contentType"))
                        .and_then(Value::as_str)
                        .map(concrete_content_type)
                        .unwrap_or_else(|| "application/octet-stream".to_string())
                });
                let is_required = required.contains(&field.as_str());
                let nullable = deref(doc, property)?
                    .get("nullable")
                    .and_then(Value::as_bool)
                    == Some(true);
                if is_required {
                    body_sample.insert(
                        field.clone(),
                        if nullable { Value::Null } else { value.clone() },
                    );
                }
                inputs.push(InputEntry {
                    name: field.clone(),
                    location: "Body",
                    required: is_required,
                    nullable,
                    kind,
                    values: enum_values(doc, property)?,
                    // A required nullable field is sent empty (Laravel's null).
                    sample: if nullable && is_required {
                        String::new()
                    } else {
                        as_text(&value)
                    },
                    content_type,
                });
            }
            if ct.starts_with("application/json") {
                let value = match media_example(doc, media)? {
                    Some(example) => example,
                    None => Value::Object(body_sample),
                };
                sample_body = Some(value.to_string());
            }
        }
    }
    Ok((request_content_type, sample_body))
}

/// Every operation's answer entry, sorted by operationId.
fn answer_entries(doc: &Value) -> Result<Vec<AnswerEntry>, String> {
    let mut out = Vec::new();
    for (path, item) in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push(answer_entry(doc, path, method, item, op)?);
            }
        }
    }
    out.sort_by(|a, b| a.operation.cmp(&b.operation));
    Ok(out)
}

/// The generated `ANSWERS` table (`include!`d by `src/mock/documented.rs`,
/// which defines `DocumentedAnswer`, `Input`, `InputKind` and `InputLocation`).
pub(crate) fn mock_answers(spec_text: &str) -> Result<String, String> {
    let doc: Value = serde_yaml_ng::from_str(spec_text).map_err(|e| format!("parsing: {e}"))?;
    let entries = answer_entries(&doc)?;
    let opt = |v: &Option<String>| match v {
        Some(s) => quote! { Some(#s) },
        None => quote! { None },
    };
    let items = entries.iter().map(|e| {
        let (operation, status, body, generated) = (&e.operation, e.status, &e.body, &e.generated);
        let content_type = opt(&e.content_type);
        let schema = opt(&e.schema);
        let items = e.items;
        let validation = match e.validation_status {
            Some(s) => quote! { Some(#s) },
            None => quote! { None },
        };
        let request_ct = opt(&e.request_content_type);
        let sample_body = opt(&e.sample_body);
        let inputs = e.inputs.iter().map(|i| {
            let (name, required, nullable, sample) = (&i.name, i.required, i.nullable, &i.sample);
            let location = format_ident!("{}", i.location);
            let kind = format_ident!("{}", i.kind);
            let values = &i.values;
            let ct = opt(&i.content_type);
            quote! {
                Input {
                    name: #name,
                    location: InputLocation::#location,
                    required: #required,
                    nullable: #nullable,
                    kind: InputKind::#kind,
                    values: &[#(#values),*],
                    sample: #sample,
                    content_type: #ct,
                }
            }
        });
        quote! {
            DocumentedAnswer {
                operation: #operation,
                status: #status,
                content_type: #content_type,
                body: #body,
                generated: #generated,
                schema: #schema,
                items: #items,
                validation_status: #validation,
                request_content_type: #request_ct,
                inputs: &[#(#inputs),*],
                sample_body: #sample_body,
            }
        }
    });
    let tokens = quote! {
        /// Every operation's documented answer, sorted by operationId
        /// (generated from the spec by `identifai-codegen`).
        pub(crate) const ANSWERS: &[DocumentedAnswer] = &[#(#items),*];
    };
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("generated mock answers do not parse: {e}"))?;
    Ok(prettyplease::unparse(&file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::MAX_DEPTH;
    use crate::test_support::repo_spec_text;

    const SMALL: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
components:
  schemas:
    User:
      type: object
      required: [id]
      properties:
        id: {type: integer}
        email: {type: string, format: email}
        seen: {type: string, format: date-time}
        friend: {$ref: "#/components/schemas/User", nullable: true}
        level: {type: string, enum: [gold, silver]}
    Plans:
      oneOf:
        - {type: array, items: {type: object, properties: {id: {type: integer}}}}
        - {type: object, additionalProperties: {type: integer}}
  responses:
    Invalid:
      description: bad
      content: {application/json: {schema: {type: object}}}
paths:
  /users:
    get:
      operationId: list_users
      parameters:
        - {name: per_page, in: query, required: true, schema: {type: integer}}
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/User"}}}}}
        "400": {$ref: "#/components/responses/Invalid"}
  /user:
    post:
      operationId: save_user
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              required: [id, name, photo]
              properties:
                id: {type: integer, nullable: true}
                name: {type: string}
                photo: {type: string, format: binary}
                level: {type: string, enum: [gold, silver]}
            encoding: {photo: {contentType: "image/*"}}
      responses:
        "201":
          description: made
          content: {application/json: {schema: {$ref: "#/components/schemas/User"}, example: {id: 7}}}
        "422": {$ref: "#/components/responses/Invalid"}
  /plans:
    get:
      operationId: plans
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Plans"}}}}
        "204": {description: none}
"##;

    fn entries() -> Vec<AnswerEntry> {
        let doc: Value = serde_yaml_ng::from_str(SMALL).unwrap();
        answer_entries(&doc).unwrap()
    }

    #[test]
    fn an_example_is_the_answer_else_a_value_of_the_schema() {
        let e = entries();
        let names: Vec<&str> = e.iter().map(|e| e.operation.as_str()).collect();
        assert_eq!(names, ["list_users", "plans", "save_user"]);
        let save = &e[2];
        assert_eq!((save.status, save.body.as_str()), (201, r#"{"id":7}"#));
        // Beside the example, a value of the schema naming every field.
        let generated: Value = serde_json::from_str(&save.generated).unwrap();
        assert_eq!(generated["email"], "user@example.com");
        assert_eq!(save.schema.as_deref(), Some("User"));
        let list: Value = serde_json::from_str(&e[0].body).unwrap();
        let user = &list[0];
        assert_eq!(user["id"], 1);
        assert_eq!(user["email"], "user@example.com");
        assert_eq!(user["seen"], "2025-01-01T00:00:00Z");
        assert_eq!(user["level"], "gold");
        assert!(user["friend"].is_object(), "a nested user: {user}");
        assert_eq!((e[0].schema.as_deref(), e[0].items), (Some("User"), true));
        // oneOf: the first variant; the lowest 2xx is the answer.
        let plans: Value = serde_json::from_str(&e[1].body).unwrap();
        assert_eq!(plans, serde_json::json!([{ "id": 1 }]));
        assert_eq!(e[1].status, 200);
    }

    #[test]
    fn a_self_referencing_schema_ends() {
        let doc: Value = serde_yaml_ng::from_str(SMALL).unwrap();
        let user = sample(
            &doc,
            &serde_json::json!({"$ref": "#/components/schemas/User"}),
            0,
            Purpose::Answer,
        )
        .unwrap();
        let mut depth = 0;
        let mut node = &user;
        while let Some(next) = node.get("friend").filter(|f| f.is_object()) {
            node = next;
            depth += 1;
        }
        assert!((1..=MAX_DEPTH).contains(&depth), "{depth}");
    }

    #[test]
    fn inputs_say_what_is_required_and_how_it_is_checked() {
        let e = entries();
        assert_eq!(e[0].validation_status, Some(400));
        assert_eq!(e[2].validation_status, Some(422));
        assert_eq!(e[1].validation_status, None);
        let per_page = &e[0].inputs[0];
        assert_eq!(
            (
                per_page.name.as_str(),
                per_page.location,
                per_page.required,
                per_page.kind
            ),
            ("per_page", "Query", true, "Integer")
        );
        let save = &e[2];
        assert_eq!(
            save.request_content_type.as_deref(),
            Some("multipart/form-data")
        );
        let by_name = |n: &str| save.inputs.iter().find(|i| i.name == n).unwrap();
        assert!(by_name("id").nullable && by_name("id").required);
        assert_eq!(by_name("id").sample, "", "a required null is sent empty");
        assert_eq!(by_name("photo").kind, "File");
        assert_eq!(
            by_name("photo").content_type.as_deref(),
            Some("image/octet-stream")
        );
        assert_eq!(by_name("level").values, ["gold", "silver"]);
        assert!(!by_name("level").required);
    }

    #[test]
    fn the_repo_spec_gives_every_operation_an_answer_that_parses() {
        let text = repo_spec_text();
        let code = mock_answers(&text).unwrap();
        let doc: Value = serde_yaml_ng::from_str(&text).unwrap();
        for e in answer_entries(&doc).unwrap() {
            if e.content_type
                .as_deref()
                .is_some_and(|c| c.starts_with("application/json"))
            {
                serde_json::from_str::<Value>(&e.body)
                    .unwrap_or_else(|err| panic!("{}: {err}", e.operation));
            }
            assert!(code.contains(&format!("operation: \"{}\"", e.operation)));
        }
        let pricings = answer_entries(&doc)
            .unwrap()
            .into_iter()
            .find(|e| e.operation == "get_partner_pricings")
            .unwrap();
        assert!(pricings.body.starts_with("[{"), "{}", pricings.body);
    }
}
