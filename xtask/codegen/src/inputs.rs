//! What each operation takes, as data: `OperationInputs` (summary, every
//! path, query and header parameter, JSON body property and form field with
//! its type, whether it is required, its description and allowed values, and
//! the content types of the success answers), one per operation, for
//! callers that build requests from text: the CLI's `identifai api` reads
//! it, so a new operation reaches the command line by regeneration alone.

use openapiv3::{OpenAPI, Parameter, ReferenceOr, Schema, SchemaKind, Type};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::naming::pascal;
use crate::resolve::{ref_name, resolve_body, resolve_parameter, resolve_response};

/// Where an input goes in the request (the generated `InputLocation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    Path,
    Query,
    Header,
    Json,
    Form,
    File,
}

/// What the generator records of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InputEntry {
    pub(crate) name: String,
    pub(crate) location: Location,
    /// `string`, `integer`, `number`, `boolean` or `json` (anything else).
    pub(crate) value: &'static str,
    /// An array: the input is given once per element.
    pub(crate) repeated: bool,
    pub(crate) required: bool,
    pub(crate) nullable: bool,
    pub(crate) description: String,
    /// The enum's values, if it is one.
    pub(crate) values: Vec<String>,
    /// A file part's allowed content types (its `encoding`).
    pub(crate) content_types: Vec<String>,
}

/// What the generator records of one operation's inputs and answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InputsEntry {
    pub(crate) name: String,
    pub(crate) summary: String,
    pub(crate) description: String,
    pub(crate) inputs: Vec<InputEntry>,
    /// The content types of the success (2xx) answers, in spec order.
    pub(crate) answers: Vec<String>,
}

/// The component schema a `$ref` names.
fn component<'a>(spec: &'a OpenAPI, reference: &str) -> Result<&'a Schema, String> {
    spec.components
        .as_ref()
        .and_then(|c| c.schemas.get(ref_name(reference)))
        .and_then(|s| s.as_item())
        .ok_or_else(|| format!("unresolved schema {reference}"))
}

/// A schema, followed through a `$ref` to a component.
fn schema_of<'a>(spec: &'a OpenAPI, s: &'a ReferenceOr<Schema>) -> Result<&'a Schema, String> {
    match s {
        ReferenceOr::Item(s) => Ok(s),
        ReferenceOr::Reference { reference } => component(spec, reference),
    }
}

/// A property or item schema, followed through a `$ref` to a component.
fn boxed_schema_of<'a>(
    spec: &'a OpenAPI,
    s: &'a ReferenceOr<Box<Schema>>,
) -> Result<&'a Schema, String> {
    match s {
        ReferenceOr::Item(s) => Ok(s),
        ReferenceOr::Reference { reference } => component(spec, reference),
    }
}

/// The value type, array-ness, enum values and nullability of `schema`.
fn value_of(
    spec: &OpenAPI,
    schema: &Schema,
) -> Result<(&'static str, bool, Vec<String>, bool), String> {
    let nullable = schema.schema_data.nullable;
    Ok(match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => {
            let values = s.enumeration.iter().flatten().cloned().collect();
            ("string", false, values, nullable)
        }
        SchemaKind::Type(Type::Integer(i)) => {
            let values = i
                .enumeration
                .iter()
                .flatten()
                .map(|v| v.to_string())
                .collect();
            ("integer", false, values, nullable)
        }
        SchemaKind::Type(Type::Number(_)) => ("number", false, vec![], nullable),
        SchemaKind::Type(Type::Boolean(_)) => ("boolean", false, vec![], nullable),
        SchemaKind::Type(Type::Array(a)) => match &a.items {
            Some(items) => {
                let (value, _, values, _) = value_of(spec, boxed_schema_of(spec, items)?)?;
                (value, true, values, nullable)
            }
            None => ("json", false, vec![], nullable),
        },
        _ => ("json", false, vec![], nullable),
    })
}

/// Every operation's inputs, sorted by operationId (as `OPERATIONS`).
pub(crate) fn inputs_entries(spec: &OpenAPI) -> Result<Vec<InputsEntry>, String> {
    let mut out = Vec::new();
    for (path, method, op) in spec.operations() {
        let name = op
            .operation_id
            .clone()
            .ok_or_else(|| format!("{method} {path}: an operation needs an operationId"))?;
        let mut inputs = Vec::new();
        // Path-level parameters first, then the operation's (which win).
        let item_params = spec
            .paths
            .paths
            .get(path)
            .and_then(|p| p.as_item())
            .map(|p| p.parameters.as_slice())
            .unwrap_or_default();
        let mut params: Vec<&Parameter> = Vec::new();
        for p in item_params.iter().chain(&op.parameters) {
            let p = resolve_parameter(spec, p).map_err(|e| format!("{name}: {e}"))?;
            params.retain(|q| q.parameter_data_ref().name != p.parameter_data_ref().name);
            params.push(p);
        }
        for p in params {
            let (location, data) = match p {
                Parameter::Path { parameter_data, .. } => (Location::Path, parameter_data),
                Parameter::Query { parameter_data, .. } => (Location::Query, parameter_data),
                Parameter::Header { parameter_data, .. } => (Location::Header, parameter_data),
                // Cookies are not part of this API: left out.
                Parameter::Cookie { .. } => continue,
            };
            let (value, repeated, values, nullable) = match &data.format {
                openapiv3::ParameterSchemaOrContent::Schema(s) => value_of(
                    spec,
                    schema_of(spec, s).map_err(|e| format!("{name}: {e}"))?,
                )?,
                openapiv3::ParameterSchemaOrContent::Content(_) => ("json", false, vec![], false),
            };
            inputs.push(InputEntry {
                name: data.name.clone(),
                location,
                value,
                repeated,
                required: data.required || location == Location::Path,
                nullable,
                description: data.description.clone().unwrap_or_default(),
                values,
                content_types: vec![],
            });
        }
        if let Some(body) = &op.request_body {
            let body = resolve_body(spec, body).map_err(|e| format!("{name}: {e}"))?;
            if let Some((content_type, media)) = body.content.iter().next() {
                let form = content_type.starts_with("multipart/");
                if let Some(schema) = &media.schema {
                    let schema = schema_of(spec, schema).map_err(|e| format!("{name}: {e}"))?;
                    if let SchemaKind::Type(Type::Object(obj)) = &schema.schema_kind {
                        for (field, prop) in &obj.properties {
                            let prop = boxed_schema_of(spec, prop)
                                .map_err(|e| format!("{name}.{field}: {e}"))?;
                            let (value, repeated, values, nullable) = value_of(spec, prop)?;
                            let binary = matches!(
                                &prop.schema_kind,
                                SchemaKind::Type(Type::String(s)) if s.format
                                    == openapiv3::VariantOrUnknownOrEmpty::Item(
                                        openapiv3::StringFormat::Binary
                                    )
                            );
                            let content_types = media
                                .encoding
                                .get(field)
                                .and_then(|e| e.content_type.clone())
                                .map(|t| {
                                    t.split(',')
                                        .map(|t| t.trim().to_string())
                                        .filter(|t| !t.is_empty())
                                        .collect()
                                })
                                // As the generated forms: no encoding is octet-stream.
                                .unwrap_or_else(|| vec!["application/octet-stream".to_string()]);
                            inputs.push(InputEntry {
                                name: field.clone(),
                                location: match (form, binary) {
                                    (true, true) => Location::File,
                                    (true, false) => Location::Form,
                                    (false, _) => Location::Json,
                                },
                                value,
                                repeated,
                                required: obj.required.contains(field),
                                nullable,
                                description: prop
                                    .schema_data
                                    .description
                                    .clone()
                                    .unwrap_or_default(),
                                values,
                                content_types: if binary { content_types } else { vec![] },
                            });
                        }
                    }
                }
            }
        }
        let mut answers: Vec<String> = Vec::new();
        for (code, response) in &op.responses.responses {
            let success = matches!(code, openapiv3::StatusCode::Code(c) if (200..300).contains(c));
            if !success {
                continue;
            }
            let response = resolve_response(spec, response).map_err(|e| format!("{name}: {e}"))?;
            for content_type in response.content.keys() {
                if !answers.contains(content_type) {
                    answers.push(content_type.clone());
                }
            }
        }
        out.push(InputsEntry {
            name,
            summary: op.summary.clone().unwrap_or_default(),
            description: op.description.clone().unwrap_or_default(),
            inputs,
            answers,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The generated `OperationInputs`, `Input`, `InputLocation` and
/// `InputValue` types, the `OPERATION_INPUTS` table and
/// `Operation::inputs`.
pub(crate) fn inputs_table(spec: &OpenAPI) -> Result<TokenStream, String> {
    let entries = inputs_entries(spec)?;
    let items = entries.iter().map(|e| {
        let (name, summary, description) = (&e.name, &e.summary, &e.description);
        let answers = &e.answers;
        let inputs = e.inputs.iter().map(|i| {
            let name = &i.name;
            let location = format_ident!("{}", format!("{:?}", i.location));
            let value = format_ident!("{}", pascal(i.value));
            let (repeated, required, nullable) = (i.repeated, i.required, i.nullable);
            let description = &i.description;
            let values = &i.values;
            let content_types = &i.content_types;
            quote! {
                Input {
                    name: #name,
                    location: InputLocation::#location,
                    value: InputValue::#value,
                    repeated: #repeated,
                    required: #required,
                    nullable: #nullable,
                    description: #description,
                    values: &[#(#values),*],
                    content_types: &[#(#content_types),*],
                }
            }
        });
        quote! {
            OperationInputs {
                name: #name,
                summary: #summary,
                description: #description,
                inputs: &[#(#inputs),*],
                answer_content_types: &[#(#answers),*],
            }
        }
    });
    Ok(quote! {
        /// What an operation takes and answers, as the spec describes it:
        /// for callers that build a request from text (the command line's
        /// `identifai api`), so a new operation reaches them by
        /// regeneration alone.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct OperationInputs {
            /// The operationId.
            pub name: &'static str,
            /// The spec's one-line summary (may be empty).
            pub summary: &'static str,
            /// The spec's description (may be empty).
            pub description: &'static str,
            /// Its parameters, then its body's fields, in spec order.
            pub inputs: &'static [Input],
            /// The content types of its success answers (`application/json`,
            /// `image/png`, ...), in spec order.
            pub answer_content_types: &'static [&'static str],
        }

        /// One input of an operation: a parameter or a body field.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct Input {
            /// Its name in the request.
            pub name: &'static str,
            /// Where it goes.
            pub location: InputLocation,
            /// Its type (of each element, when `repeated`).
            pub value: InputValue,
            /// An array: given once per element.
            pub repeated: bool,
            /// Whether the spec requires it (path parameters always).
            pub required: bool,
            /// Whether it may be null (sent empty in a form).
            pub nullable: bool,
            /// The spec's description (may be empty).
            pub description: &'static str,
            /// The values it allows, if the spec lists them.
            pub values: &'static [&'static str],
            /// A file part's allowed content types (`type/*` for any subtype).
            pub content_types: &'static [&'static str],
        }

        /// Where an [`Input`] goes in the request.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum InputLocation {
            /// A `{segment}` of the path.
            Path,
            /// A query parameter.
            Query,
            /// A header.
            Header,
            /// A property of the JSON body.
            Json,
            /// A text field of the multipart form.
            Form,
            /// A file part of the multipart form.
            File,
        }

        /// The type of an [`Input`]'s value.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum InputValue {
            /// Text.
            String,
            /// A whole number.
            Integer,
            /// A number.
            Number,
            /// `true` or `false`.
            Boolean,
            /// Any JSON value (an object, a nested array).
            Json,
        }

        /// The inputs of every operation of the spec, sorted by name (as
        /// [`OPERATIONS`]).
        pub const OPERATION_INPUTS: &[OperationInputs] = &[#(#items),*];

        impl Operation {
            /// What this operation takes and answers, from the spec.
            pub fn inputs(&self) -> Option<&'static OperationInputs> {
                OPERATION_INPUTS.iter().find(|i| i.name == self.name)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::operation_entries;
    use crate::test_support::*;

    const SMALL: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
components:
  schemas:
    Dir: {type: string, enum: [asc, desc]}
    Override:
      type: object
      required: [classification]
      properties:
        classification: {type: string, enum: [human, artificial]}
        note: {type: string, nullable: true}
  parameters:
    Id: {name: id, in: path, required: true, schema: {type: string}, description: The id.}
paths:
  /x/{id}:
    parameters: [{$ref: "#/components/parameters/Id"}]
    get:
      operationId: get_x
      summary: Get one x
      parameters:
        - {name: "ids[]", in: query, schema: {type: array, items: {type: string}}}
        - {name: per_page, in: query, schema: {type: integer}}
        - {name: direction, in: query, schema: {$ref: "#/components/schemas/Dir"}}
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: object}}}}
        "404": {description: no, content: {application/json: {schema: {type: object}}}}
    post:
      operationId: override_x
      requestBody: {content: {application/json: {schema: {$ref: "#/components/schemas/Override"}}}}
      responses: {"204": {description: ok}}
  /up:
    post:
      operationId: upload
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              required: [image]
              properties:
                image: {type: string, format: binary, description: The image.}
                with_heatmap: {type: boolean}
            encoding: {image: {contentType: "image/png, image/jpeg"}}
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: object}}, text/plain: {schema: {type: string}}}}
"##;

    #[test]
    fn parameters_fields_and_files_are_listed_with_their_types() {
        let ops = inputs_entries(&spec(SMALL)).unwrap();
        let names: Vec<&str> = ops.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["get_x", "override_x", "upload"]);
        let get = &ops[0];
        assert_eq!(get.summary, "Get one x");
        assert_eq!(get.answers, ["application/json"], "only 2xx answers");
        let by = |n: &str| get.inputs.iter().find(|i| i.name == n).unwrap();
        assert_eq!(by("id").location, Location::Path);
        assert!(by("id").required, "path-level parameter, through its $ref");
        assert_eq!(by("id").description, "The id.");
        assert!(by("ids[]").repeated);
        assert_eq!(by("per_page").value, "integer");
        assert_eq!(by("direction").values, ["asc", "desc"]);
        let over = &ops[1];
        assert_eq!(over.inputs[0].name, "id", "the path item's parameter");
        let class = &over.inputs[1];
        assert_eq!((class.location, class.required), (Location::Json, true));
        assert_eq!(class.values, ["human", "artificial"]);
        assert!(over.inputs[2].nullable && !over.inputs[2].required);
        assert!(over.answers.is_empty(), "a 204 has no content");
        let up = &ops[2];
        assert_eq!(up.inputs[0].location, Location::File);
        assert_eq!(up.inputs[0].content_types, ["image/png", "image/jpeg"]);
        assert_eq!(
            (up.inputs[1].location, up.inputs[1].value),
            (Location::Form, "boolean")
        );
        assert_eq!(up.answers, ["application/json", "text/plain"]);
    }

    #[test]
    fn the_generated_table_parses_and_names_every_input() {
        let tokens = inputs_table(&spec(SMALL)).unwrap();
        let file: syn::File = syn::parse2(tokens).unwrap();
        let text = prettyplease::unparse(&file);
        assert!(text.contains("location: InputLocation::File"), "{text}");
        assert!(text.contains("value: InputValue::Integer"), "{text}");
        assert!(text.contains("name: \"ids[]\""), "{text}");
    }

    #[test]
    fn the_repo_spec_has_inputs_for_every_operation() {
        let s = crate::parse(&repo_spec_text()).unwrap();
        let inputs = inputs_entries(&s).unwrap();
        let ops = operation_entries(&s).unwrap();
        assert_eq!(inputs.len(), ops.len());
        let users = inputs
            .iter()
            .find(|i| i.name == "list_partner_users")
            .unwrap();
        assert!(users
            .inputs
            .iter()
            .any(|i| i.name == "per_page" && i.value == "integer"));
        let image = inputs.iter().find(|i| i.name == "classify_image").unwrap();
        assert!(image
            .inputs
            .iter()
            .any(|i| i.name == "image" && i.location == Location::File && i.required));
    }
}
