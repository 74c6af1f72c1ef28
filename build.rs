//! Turns `openapi/identifai.yaml` into Rust, in `$OUT_DIR/identifai_api.rs`
//! (included by `src/api.rs`).
//!
//! Three generators share the work, all driven by the spec alone, so that a
//! spec change reaches the client by regeneration:
//!
//! 1. **progenitor** generates the client and `types` for every operation it
//!    can take.
//! 2. **forms** (below): progenitor 0.15 rejects `multipart/form-data` bodies
//!    and operations whose success responses have different body kinds (the
//!    heatmap's 200 PNG next to a 204). Those operations are taken out of the
//!    spec handed to progenitor and generated here instead: each multipart
//!    schema becomes a documented form struct (file parts carry the content
//!    types of the schema's `encoding`), and each operation becomes a method
//!    of the same `Client`, going through the same hooks.
//! 3. **open enums** (below): typify makes closed enums, so a value a newer
//!    server sends would fail to decode. Every named string enum of the
//!    components is generated here as a `#[non_exhaustive]` enum with a
//!    catch-all variant keeping the unknown value, and substituted for
//!    typify's with `with_replacement`.
//!
//! A component schema's `x-rust-name` extension renames its Rust type.
//!
//! Beside the client, the **conformance registry** (below): a
//! `#[doc(hidden)] mod conformance` that reaches every component's Rust type
//! by schema name, for the spec-driven tests (`tests/conformance_*.rs`), so a
//! new schema is tested with no hand-written list.
//!
//! The build fails, with a message naming the place, on anything in the spec
//! it cannot turn into Rust faithfully (an inline string enum in a response
//! schema, a form field of a type forms cannot carry).

use std::collections::BTreeMap;
use std::{env, fs, path::PathBuf};

use openapiv3::{
    OpenAPI, Operation, Parameter, ReferenceOr, RequestBody, Response, Schema, SchemaKind,
    StringType, Type,
};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

const SPEC: &str = "openapi/identifai.yaml";

fn main() {
    println!("cargo:rerun-if-changed=openapi");
    println!("cargo:rerun-if-changed=build.rs");
    if let Err(e) = run() {
        // A build script reports by failing; the message names what to fix.
        eprintln!("error: generating the identifAI client from {SPEC}: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let text = fs::read_to_string(SPEC).map_err(|e| format!("reading {SPEC}: {e}"))?;
    let value: serde_json::Value =
        serde_yaml_ng::from_str(&text).map_err(|e| format!("parsing {SPEC}: {e}"))?;
    let spec: OpenAPI =
        serde_json::from_value(value).map_err(|e| format!("reading {SPEC} as OpenAPI 3.0: {e}"))?;

    let enums = open_enums(&spec)?;
    let (progenitor_spec, own_ops) = partition(&spec)?;

    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Positional)
        .with_tag(progenitor::TagStyle::Merged)
        .with_inner_type(quote! { crate::transport::Transport })
        .with_hooks(progenitor::HooksMode::Expected)
        .with_derive("PartialEq");
    // `x-rust-name` on a component schema renames its Rust type (for names
    // that read badly in Rust, like `Result`).
    for (name, schema) in spec.components.iter().flat_map(|c| &c.schemas) {
        let rename = schema
            .as_item()
            .and_then(|s| s.schema_data.extensions.get("x-rust-name"));
        if let Some(rename) = rename.and_then(|v| v.as_str()) {
            let mut patch = progenitor::TypePatch::default();
            patch.with_rename(rename);
            settings.with_patch(name, &patch);
        }
    }
    for e in &enums {
        // typify looks replacements up by its own (sanitized) name.
        settings.with_replacement(
            typify_name(&e.name),
            format!("crate::api::types::{}", e.ident),
            [
                progenitor::TypeImpl::Display,
                progenitor::TypeImpl::FromStr,
                progenitor::TypeImpl::FromStringIrrefutable,
            ]
            .into_iter(),
        );
    }
    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&progenitor_spec)
        .map_err(|e| format!("progenitor: {e}"))?;
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor output does not parse: {e}"))?;
    syn::visit_mut::VisitMut::visit_file_mut(&mut CappedDecode, &mut file);

    // Open enums go into progenitor's `types` module, where typify's would be.
    let types_mod = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "types" => Some(m),
            _ => None,
        })
        .ok_or("progenitor output has no `types` module")?;
    let content = &mut types_mod.content.as_mut().ok_or("empty `types` module")?.1;
    for e in &enums {
        let item: syn::File = syn::parse2(e.tokens.clone()).map_err(|e| e.to_string())?;
        content.extend(item.items);
    }
    let registry = conformance_registry(&spec, content, &enums)?;

    let mut forms = Forms::default();
    let mut methods = Vec::new();
    for op in &own_ops {
        methods.push(own_method(&spec, op, &mut forms)?);
    }
    let groups = std::mem::take(&mut forms.groups);
    for (group, members) in &groups {
        forms.items.push(options_group(group, members)?);
    }
    let form_items = forms.items;
    let secured = secured_operations(&spec);
    let own: syn::File = syn::parse2(quote! {
        /// The operations whose spec `security` asks for the API key; the
        /// transport sends `X-Api-Key` with these only (not with `health`).
        pub const API_KEY_OPERATIONS: &[&str] = &[#(#secured),*];

        /// Form bodies of the `multipart/form-data` operations, generated by
        /// `build.rs` from the spec's schemas (progenitor does not take
        /// multipart bodies).
        pub mod forms {
            #[allow(unused_imports)]
            use super::types;
            #(#form_items)*
        }

        impl Client {
            #(#methods)*
        }

        #registry
    })
    .map_err(|e| format!("generated forms do not parse: {e}"))?;
    file.items.extend(own.items);

    let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    fs::write(out.join("identifai_api.rs"), prettyplease::unparse(&file))
        .map_err(|e| format!("writing generated code: {e}"))?;

    // progenitor's typed httpmock helpers, for the `mock` feature only (the
    // operations build.rs generates itself have none: their bodies are
    // multipart, which these helpers do not describe).
    if env::var_os("CARGO_FEATURE_MOCK").is_some() {
        let mut generator = progenitor::Generator::new(&settings);
        let tokens = generator
            .httpmock(&progenitor_spec, "crate::api")
            .map_err(|e| format!("progenitor httpmock: {e}"))?;
        let mut file: syn::File =
            syn::parse2(tokens).map_err(|e| format!("httpmock output does not parse: {e}"))?;
        syn::visit_mut::VisitMut::visit_file_mut(&mut ArrayQueryFix, &mut file);
        fs::write(
            out.join("identifai_httpmock.rs"),
            prettyplease::unparse(&file),
        )
        .map_err(|e| format!("writing generated httpmock helpers: {e}"))?;
    }
    Ok(())
}

/// operationIds whose effective security requirement (the operation's, else
/// the document's) names at least one scheme.
fn secured_operations(spec: &OpenAPI) -> Vec<String> {
    let mut out = Vec::new();
    for (_, _, op) in spec.operations() {
        let security = op.security.as_ref().or(spec.security.as_ref());
        let needs_key = security.is_some_and(|reqs| reqs.iter().any(|r| !r.is_empty()));
        if needs_key {
            out.extend(op.operation_id.clone());
        }
    }
    out.sort();
    out
}

/// progenitor 0.15's httpmock helpers match an array query parameter with
/// `value.to_string()`, which does not compile for a `Vec`. This rewrites
/// such matchers to expect one `name=value` pair per element (how the client
/// sends `identifiers[]`).
struct ArrayQueryFix;

impl syn::visit_mut::VisitMut for ArrayQueryFix {
    fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
        let takes_vec = f.sig.inputs.iter().any(|arg| {
            matches!(arg, syn::FnArg::Typed(t) if quote!(#t).to_string().contains(":: vec :: Vec <"))
        });
        let body = quote!(#f).to_string();
        if takes_vec && body.contains("query_param") && body.contains("value . to_string ()") {
            if let Some(name) = body
                .split("query_param (")
                .nth(1)
                .and_then(|r| r.split(',').next())
            {
                let name: TokenStream = name.trim().parse().unwrap_or_default();
                f.block = syn::parse_quote!({
                    let mut inner = self.0;
                    for v in value {
                        inner = inner.query_param(#name, v.to_string());
                    }
                    Self(inner)
                });
            }
        }
        syn::visit_mut::visit_impl_item_fn_mut(self, f);
    }
}

/// progenitor-client's `ResponseValue::from_response` reads a body whole
/// with `bytes()` and decodes it with `from_slice`. This points every call
/// of the generated code at `crate::body::from_response` instead: one read
/// through the transport's capped reader, one UTF-8 check, `from_str`.
struct CappedDecode;

impl syn::visit_mut::VisitMut for CappedDecode {
    fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
        if let syn::Expr::Path(p) = &*call.func {
            let segs: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            if segs.ends_with(&["ResponseValue".to_string(), "from_response".to_string()]) {
                *call.func = syn::parse_quote!(crate::body::from_response);
            }
        }
        syn::visit_mut::visit_expr_call_mut(self, call);
    }
}

// ------------------------------------------------------------------ partition

/// An operation generated here rather than by progenitor.
struct OwnOp {
    path: String,
    method: &'static str,
    op: Operation,
}

/// Splits the spec: a copy for progenitor without the operations it cannot
/// take, and those operations.
fn partition(spec: &OpenAPI) -> Result<(OpenAPI, Vec<OwnOp>), String> {
    let mut for_progenitor = spec.clone();
    let mut own = Vec::new();
    for (path, item) in for_progenitor.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else {
            return Err(format!("path {path}: $ref path items are not supported"));
        };
        let slots: [(&'static str, &mut Option<Operation>); 5] = [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ];
        for (method, slot) in slots {
            let Some(op) = slot.as_ref() else { continue };
            if progenitor_cannot_take(spec, op)? {
                own.push(OwnOp {
                    path: path.clone(),
                    method,
                    op: slot.take().expect("checked above"),
                });
            }
        }
    }
    for_progenitor.paths.paths.retain(|_, item| match item {
        ReferenceOr::Item(i) => i.iter().next().is_some(),
        ReferenceOr::Reference { .. } => true,
    });
    Ok((for_progenitor, own))
}

/// True for multipart bodies and for success responses of different body
/// kinds (progenitor asserts on both).
fn progenitor_cannot_take(spec: &OpenAPI, op: &Operation) -> Result<bool, String> {
    if let Some(body) = &op.request_body {
        let body = resolve_body(spec, body)?;
        if body.content.contains_key("multipart/form-data") {
            return Ok(true);
        }
    }
    let mut kinds = std::collections::BTreeSet::new();
    for (status, resp) in &op.responses.responses {
        if matches!(status, openapiv3::StatusCode::Code(200..=299)) {
            let resp = resolve_response(spec, resp)?;
            kinds.insert(body_kind(resp));
        }
    }
    Ok(kinds.len() > 1)
}

fn body_kind(resp: &Response) -> &'static str {
    if resp
        .content
        .keys()
        .any(|k| k.starts_with("application/json"))
    {
        "json"
    } else if resp.content.is_empty() {
        "none"
    } else {
        "raw"
    }
}

fn resolve_body<'a>(
    spec: &'a OpenAPI,
    r: &'a ReferenceOr<RequestBody>,
) -> Result<&'a RequestBody, String> {
    match r {
        ReferenceOr::Item(b) => Ok(b),
        ReferenceOr::Reference { reference } => spec
            .components
            .as_ref()
            .and_then(|c| c.request_bodies.get(ref_name(reference)))
            .and_then(|b| b.as_item())
            .ok_or_else(|| format!("unresolved request body {reference}")),
    }
}

fn resolve_response<'a>(
    spec: &'a OpenAPI,
    r: &'a ReferenceOr<Response>,
) -> Result<&'a Response, String> {
    match r {
        ReferenceOr::Item(b) => Ok(b),
        ReferenceOr::Reference { reference } => spec
            .components
            .as_ref()
            .and_then(|c| c.responses.get(ref_name(reference)))
            .and_then(|b| b.as_item())
            .ok_or_else(|| format!("unresolved response {reference}")),
    }
}

fn resolve_parameter<'a>(
    spec: &'a OpenAPI,
    r: &'a ReferenceOr<Parameter>,
) -> Result<&'a Parameter, String> {
    match r {
        ReferenceOr::Item(b) => Ok(b),
        ReferenceOr::Reference { reference } => spec
            .components
            .as_ref()
            .and_then(|c| c.parameters.get(ref_name(reference)))
            .and_then(|b| b.as_item())
            .ok_or_else(|| format!("unresolved parameter {reference}")),
    }
}

fn ref_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

// ----------------------------------------------------------------- open enums

struct OpenEnum {
    /// The component schema name.
    name: String,
    /// The Rust type name ([`rust_type_name`]).
    ident: String,
    tokens: TokenStream,
}

/// One open enum per named string enum of `components.schemas`; and a check
/// that no response schema hides an inline string enum (those would be
/// generated closed: name them in the overlay).
fn open_enums(spec: &OpenAPI) -> Result<Vec<OpenEnum>, String> {
    let mut out = Vec::new();
    let Some(components) = &spec.components else {
        return Ok(out);
    };
    for (name, schema) in &components.schemas {
        let ReferenceOr::Item(schema) = schema else {
            continue;
        };
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(StringType { enumeration, .. }))
                if !enumeration.is_empty() =>
            {
                let values: Vec<String> = enumeration.iter().flatten().cloned().collect();
                let doc = schema.schema_data.description.clone().unwrap_or_default();
                let ident = rust_type_name(name, schema);
                out.push(OpenEnum {
                    name: name.clone(),
                    tokens: open_enum_tokens(&ident, name, &doc, &values),
                    ident,
                });
            }
            _ => find_inline_enums(schema, name)?,
        }
    }
    Ok(out)
}

fn find_inline_enums(schema: &Schema, at: &str) -> Result<(), String> {
    let check = |s: &ReferenceOr<Box<Schema>>, at: String| match s {
        ReferenceOr::Item(s) => find_inline_enums(s, &at),
        ReferenceOr::Reference { .. } => Ok(()),
    };
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(StringType { enumeration, .. }))
            if !enumeration.is_empty() =>
        {
            Err(format!(
                "{at} is an inline string enum: it would decode closed (an unknown value \
                 fails). Name it as a component schema in openapi/overlay.yaml."
            ))
        }
        SchemaKind::Type(Type::Object(o)) => {
            for (k, v) in &o.properties {
                check(v, format!("{at}.{k}"))?;
            }
            match &o.additional_properties {
                Some(openapiv3::AdditionalProperties::Schema(s)) => match &**s {
                    ReferenceOr::Item(s) => find_inline_enums(s, &format!("{at}.*")),
                    ReferenceOr::Reference { .. } => Ok(()),
                },
                _ => Ok(()),
            }
        }
        SchemaKind::Type(Type::Array(a)) => match &a.items {
            Some(items) => check(items, format!("{at}[]")),
            None => Ok(()),
        },
        SchemaKind::AllOf { all_of: v }
        | SchemaKind::AnyOf { any_of: v }
        | SchemaKind::OneOf { one_of: v } => {
            for s in v {
                if let ReferenceOr::Item(s) = s {
                    find_inline_enums(s, at)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn open_enum_tokens(name: &str, schema_name: &str, doc: &str, values: &[String]) -> TokenStream {
    let ident = format_ident!("{}", name);
    let variants: Vec<syn::Ident> = values
        .iter()
        .map(|v| format_ident!("{}", pascal(v)))
        .collect();
    let catch_all = if variants.iter().any(|v| v == "Unknown") {
        format_ident!("UnknownValue")
    } else {
        format_ident!("Unknown")
    };
    let docs: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    let enum_doc = format!(
        "{doc}\n\nOpen enum generated from the spec: a value this version does not know \
         decodes as [`{name}::{catch_all}`] and encodes back unchanged."
    );
    let known = values.len();
    quote! {
        #[doc = #enum_doc]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum #ident {
            #( #[doc = #docs] #variants, )*
            /// A value the spec this client was generated from does not name, kept verbatim.
            #catch_all(::std::string::String),
        }

        impl #ident {
            /// The values the spec names, as sent on the wire.
            pub const KNOWN: [&'static str; #known] = [#(#values),*];

            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #values, )*
                    Self::#catch_all(v) => v.as_str(),
                }
            }

            /// Whether the spec names this value.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::#catch_all(_))
            }
        }

        impl ::std::convert::From<&str> for #ident {
            fn from(value: &str) -> Self {
                match value {
                    #( #values => Self::#variants, )*
                    other => Self::#catch_all(other.to_string()),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for #ident {
            fn from(value: ::std::string::String) -> Self {
                Self::from(value.as_str())
            }
        }

        impl ::std::str::FromStr for #ident {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for #ident {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #ident {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let s: ::std::borrow::Cow<'de, str> = ::serde::Deserialize::deserialize(d)?;
                Ok(Self::from(s.as_ref()))
            }
        }

        impl ::schemars::JsonSchema for #ident {
            fn schema_name() -> ::std::string::String {
                #schema_name.to_string()
            }
            fn json_schema(_: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                ::schemars::schema::SchemaObject {
                    instance_type: Some(::schemars::schema::InstanceType::String.into()),
                    enum_values: Some(vec![#( #values.into() ),*]),
                    ..Default::default()
                }
                .into()
            }
        }
    }
}

// ------------------------------------------------------- conformance registry

/// The Rust type of component schema `name`: its `x-rust-name`, else the name
/// typify gives it ([`typify_name`]).
fn rust_type_name(name: &str, schema: &Schema) -> String {
    match schema
        .schema_data
        .extensions
        .get("x-rust-name")
        .and_then(|v| v.as_str())
    {
        Some(rename) => rename.to_string(),
        None => typify_name(name),
    }
}

/// typify 0.8's `sanitize(name, Case::Pascal)`: heck's PascalCase, with `'`
/// dropped and other characters that cannot continue an identifier made word
/// breaks; `X` in front if the result cannot start one, `_` after a keyword.
/// (`C2PA` -> `C2pa`.) The registry checks the result against the generated
/// code, so a typify that names differently fails the build here.
fn typify_name(name: &str) -> String {
    use heck::ToPascalCase;
    let cleaned: String = name
        .replace('\'', "")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut out = cleaned.to_pascal_case();
    if !out.starts_with(char::is_alphabetic) {
        out.insert(0, 'X');
    }
    if syn::parse_str::<syn::Ident>(&out).is_err() {
        out.push('_');
    }
    out
}

/// `mod conformance`: every component schema's Rust type reachable by schema
/// name, so the spec-driven tests (`tests/conformance_*.rs`) cover a new
/// schema with no hand-written list. Fails if a component's type is missing
/// from the generated `types`.
fn conformance_registry(
    spec: &OpenAPI,
    types: &[syn::Item],
    enums: &[OpenEnum],
) -> Result<TokenStream, String> {
    let defined: std::collections::BTreeSet<String> = types
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            syn::Item::Enum(e) => Some(e.ident.to_string()),
            syn::Item::Type(t) => Some(t.ident.to_string()),
            _ => None,
        })
        .collect();
    let (mut names, mut tys) = (Vec::new(), Vec::new());
    for (name, schema) in spec.components.iter().flat_map(|c| &c.schemas) {
        let ReferenceOr::Item(schema) = schema else {
            return Err(format!(
                "components.schemas.{name}: a $ref alias has no type of its own"
            ));
        };
        let ty = rust_type_name(name, schema);
        if !defined.contains(&ty) {
            return Err(format!(
                "components.schemas.{name}: the conformance registry expects its Rust type at \
                 `api::types::{ty}` (its x-rust-name, else typify's name), but the generated \
                 `types` has no such type: teach build.rs's `typify_name` the new naming"
            ));
        }
        names.push(name.clone());
        tys.push(ty);
    }
    let idents: Vec<syn::Ident> = tys.iter().map(|t| format_ident!("{}", t)).collect();
    let enum_names: Vec<&String> = enums.iter().map(|e| &e.name).collect();
    let enum_idents: Vec<syn::Ident> = enums.iter().map(|e| format_ident!("{}", e.ident)).collect();
    Ok(quote! {
        /// Every component schema's Rust type, by schema name, for the
        /// spec-driven conformance tests. Generated by `build.rs`; not API.
        #[doc(hidden)]
        pub mod conformance {
            use super::types;
            use ::serde_json::{Error, Value};

            /// Every component schema name, in spec order.
            pub const COMPONENTS: &[&str] = &[#(#names),*];

            /// (component schema name, Rust type name in `api::types`).
            pub const RUST_TYPES: &[(&str, &str)] = &[#((#names, #tys)),*];

            /// (string-enum component, the values its open enum knows).
            pub const ENUM_VALUES: &[(&str, &[&str])] = &[#((#enum_names, &types::#enum_idents::KNOWN)),*];

            /// Decodes `json` into the Rust type of component `name` and
            /// encodes it again; `None` if no component has that name.
            pub fn roundtrip(name: &str, json: &Value) -> Option<Result<Value, Error>> {
                Some(match name {
                    #( #names => reencode::<types::#idents>(json), )*
                    _ => return None,
                })
            }

            /// Decodes `json` into the Rust type of component `name`, encodes
            /// that and decodes the result again: `Err` unless both decodes
            /// succeed and give equal Rust values (`None`: no such component).
            pub fn redecode(name: &str, json: &Value) -> Option<Result<(), String>> {
                Some(match name {
                    #( #names => redecode_as::<types::#idents>(json), )*
                    _ => return None,
                })
            }

            fn reencode<T>(json: &Value) -> Result<Value, Error>
            where
                T: ::serde::de::DeserializeOwned + ::serde::Serialize,
            {
                let value = T::deserialize(json)?;
                ::serde_json::to_value(&value)
            }

            fn redecode_as<T>(json: &Value) -> Result<(), String>
            where
                T: ::serde::de::DeserializeOwned + ::serde::Serialize + PartialEq + ::std::fmt::Debug,
            {
                let first = T::deserialize(json).map_err(|e| format!("decode: {e}"))?;
                let encoded = ::serde_json::to_value(&first).map_err(|e| format!("encode: {e}"))?;
                let second = T::deserialize(&encoded).map_err(|e| format!("re-decode of {encoded}: {e}"))?;
                if first == second {
                    Ok(())
                } else {
                    Err(format!("decode -> encode -> decode changed the value: {first:?} became {second:?}"))
                }
            }
        }
    })
}

// ---------------------------------------------------------------------- forms

/// An `x-options-group` member: the form and its optional non-file fields
/// (name, type, doc).
type GroupMember = (syn::Ident, Vec<(String, TokenStream, String)>);

#[derive(Default)]
struct Forms {
    items: Vec<TokenStream>,
    /// `x-options-group` name -> the member forms and their optional,
    /// non-file fields (name -> (type, doc)).
    groups: BTreeMap<String, Vec<GroupMember>>,
    /// Closed enums of form fields, by type name, with their values (so two
    /// forms with the same field share one type).
    enums: BTreeMap<String, Vec<String>>,
}

/// How one form field travels.
enum FieldKind {
    File { content_types: Vec<String> },
    Text(TokenStream),
    Enum(syn::Ident),
}

fn own_method(spec: &OpenAPI, own: &OwnOp, forms: &mut Forms) -> Result<TokenStream, String> {
    let op = &own.op;
    let op_id = op
        .operation_id
        .as_deref()
        .ok_or_else(|| format!("{} {}: no operationId", own.method, own.path))?;
    let fn_ident = format_ident!("{}", op_id);
    let mut doc = String::new();
    if let Some(s) = &op.summary {
        doc.push_str(s);
        doc.push_str("\n\n");
    }
    if let Some(d) = &op.description {
        doc.push_str(d);
        doc.push_str("\n\n");
    }
    doc.push_str(&format!(
        "Sends `{} {}`. Generated by `build.rs` (progenitor does not take this operation).",
        own.method.to_uppercase(),
        own.path
    ));

    // Parameters: path parameters, and the Accept header.
    let mut args = Vec::new();
    let mut path_fmt = own.path.clone();
    let mut path_args = Vec::new();
    let mut header_stmts = Vec::new();
    for p in &op.parameters {
        let p = resolve_parameter(spec, p)?;
        let data = p.parameter_data_ref();
        match p {
            Parameter::Path { .. } => {
                let ident = format_ident!("{}", snake(&data.name));
                path_fmt = path_fmt.replace(&format!("{{{}}}", data.name), "{}");
                args.push(quote! { #ident: &str });
                path_args.push(quote! { encode_path(#ident) });
            }
            Parameter::Header { .. } => {
                let ident = format_ident!("{}", snake(&data.name));
                let ty = param_type(data)?;
                let name = data.name.to_ascii_lowercase();
                args.push(quote! { #ident: Option<#ty> });
                header_stmts.push(quote! {
                    if let Some(v) = #ident {
                        header_map.append(
                            ::reqwest::header::HeaderName::from_static(#name),
                            ::reqwest::header::HeaderValue::try_from(v.to_string())?,
                        );
                    }
                });
            }
            _ => {
                return Err(format!(
                    "{op_id}: parameter {} ({:?}) is not supported by build.rs's generator",
                    data.name, p
                ))
            }
        }
    }

    let mut body_stmt = quote! {};
    if let Some(body) = &op.request_body {
        let body = resolve_body(spec, body)?;
        let media = body.content.get("multipart/form-data").ok_or_else(|| {
            format!("{op_id}: only multipart/form-data bodies are generated here")
        })?;
        let form_ident = format_ident!("{}Form", pascal(op_id));
        let form = form_struct(spec, op_id, &form_ident, media, forms)?;
        forms.items.push(form);
        args.push(quote! { body: forms::#form_ident });
        body_stmt = quote! { .multipart(body.into_multipart()?) };
    }

    // Responses: success statuses hand back the body as a stream (the layer
    // above decides by content type); documented errors decode ErrorBody.
    let mut success = Vec::new();
    let mut errors = Vec::new();
    let mut error_type: Option<TokenStream> = None;
    for (status, resp) in &op.responses.responses {
        let openapiv3::StatusCode::Code(code) = status else {
            return Err(format!("{op_id}: status ranges are not supported here"));
        };
        let resp = resolve_response(spec, resp)?;
        if (200..300).contains(code) {
            success.push(quote! { #code => Ok(ResponseValue::stream(response)), });
        } else {
            let schema = resp
                .content
                .get("application/json")
                .and_then(|m| m.schema.as_ref())
                .ok_or_else(|| format!("{op_id}: error {code} has no JSON schema"))?;
            let ReferenceOr::Reference { reference } = schema else {
                return Err(format!(
                    "{op_id}: error {code} must use a $ref error schema"
                ));
            };
            let ty = format_ident!("{}", ref_name(reference));
            let ty = quote! { types::#ty };
            match &error_type {
                Some(t) if t.to_string() != ty.to_string() => {
                    return Err(format!("{op_id}: all error bodies must share one schema"))
                }
                _ => error_type = Some(ty),
            }
            errors.push(quote! {
                #code => Err(Error::ErrorResponse(crate::body::from_response(response).await?)),
            });
        }
    }
    let error_type = error_type.unwrap_or(quote! { () });
    let method_ident = format_ident!("{}", own.method);
    let header_count = header_stmts.len() + 1;

    Ok(quote! {
        #[doc = #doc]
        pub async fn #fn_ident<'a>(
            &'a self,
            #(#args,)*
        ) -> Result<ResponseValue<ByteStream>, Error<#error_type>> {
            let url = format!(concat!("{}", #path_fmt), self.baseurl, #(#path_args,)*);
            let mut header_map = ::reqwest::header::HeaderMap::with_capacity(#header_count);
            header_map.append(
                ::reqwest::header::HeaderName::from_static("api-version"),
                ::reqwest::header::HeaderValue::from_static(Self::api_version()),
            );
            #(#header_stmts)*
            #[allow(unused_mut)]
            let mut request = self
                .client
                .#method_ident(url)
                #body_stmt
                .headers(header_map)
                .build()?;
            let info = OperationInfo { operation_id: #op_id };
            self.pre(&mut request, &info).await?;
            let result = self.exec(request, &info).await;
            self.post(&result, &info).await?;
            let response = result?;
            match response.status().as_u16() {
                #(#success)*
                #(#errors)*
                _ => Err(Error::UnexpectedResponse(response)),
            }
        }
    })
}

fn param_type(data: &openapiv3::ParameterData) -> Result<TokenStream, String> {
    match &data.format {
        openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Reference { reference }) => {
            let ty = format_ident!("{}", ref_name(reference));
            Ok(quote! { types::#ty })
        }
        openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Item(s))
            if matches!(s.schema_kind, SchemaKind::Type(Type::String(_))) =>
        {
            Ok(quote! { &str })
        }
        _ => Err(format!(
            "parameter {}: only $ref and string schemas are supported here",
            data.name
        )),
    }
}

fn form_struct(
    spec: &OpenAPI,
    op_id: &str,
    ident: &syn::Ident,
    media: &openapiv3::MediaType,
    forms: &mut Forms,
) -> Result<TokenStream, String> {
    let schema = match media.schema.as_ref() {
        Some(ReferenceOr::Item(s)) => s,
        Some(ReferenceOr::Reference { reference }) => spec
            .components
            .as_ref()
            .and_then(|c| c.schemas.get(ref_name(reference)))
            .and_then(|s| s.as_item())
            .ok_or_else(|| format!("{op_id}: unresolved {reference}"))?,
        None => return Err(format!("{op_id}: multipart body without schema")),
    };
    let SchemaKind::Type(Type::Object(obj)) = &schema.schema_kind else {
        return Err(format!("{op_id}: multipart schema must be an object"));
    };

    let mut fields = Vec::new();
    let mut setters = Vec::new();
    let mut ctor_args = Vec::new();
    let mut ctor_fields = Vec::new();
    let mut parts = Vec::new();
    let mut consts = Vec::new();
    let mut optional = Vec::new();
    for (name, prop) in &obj.properties {
        let field = format_ident!("{}", snake(name));
        let required = obj.required.contains(name);
        let (prop_schema, doc) = match prop {
            ReferenceOr::Item(s) => (&**s, s.schema_data.description.clone().unwrap_or_default()),
            ReferenceOr::Reference { .. } => {
                return Err(format!(
                    "{op_id}.{name}: $ref form fields are not supported"
                ))
            }
        };
        let kind = field_kind(op_id, name, prop_schema, media, forms)?;
        let (ty, part) = match &kind {
            FieldKind::File { content_types } => {
                let konst = format_ident!("{}_CONTENT_TYPES", name.to_ascii_uppercase());
                let const_doc = format!(
                    "Content types the spec's `encoding` allows for `{name}` (`*` matches any subtype)."
                );
                consts.push(quote! {
                    #[doc = #const_doc]
                    pub const #konst: &'static [&'static str] = &[#(#content_types),*];
                });
                (
                    quote! { crate::upload::FilePart },
                    quote! { form = form.part(#name, v.into_part(#name, Self::#konst)?); },
                )
            }
            FieldKind::Text(ty) => (
                ty.clone(),
                quote! { form = form.text(#name, v.to_string()); },
            ),
            FieldKind::Enum(e) => (
                quote! { #e },
                quote! { form = form.text(#name, v.to_string()); },
            ),
        };
        if required {
            fields.push(quote! { #[doc = #doc] pub #field: #ty, });
            ctor_args.push(quote! { #field: #ty });
            ctor_fields.push(quote! { #field, });
            parts.push(quote! { { let v = self.#field; #part } });
        } else {
            if !matches!(kind, FieldKind::File { .. }) {
                optional.push((name.clone(), ty.clone(), doc.clone()));
            }
            fields.push(quote! { #[doc = #doc] pub #field: Option<#ty>, });
            ctor_fields.push(quote! { #field: None, });
            let setter_doc = format!("Sets `{name}`: {doc}");
            let (arg_ty, conv) = match &kind {
                FieldKind::Text(t) if t.to_string() == quote! { String }.to_string() => {
                    (quote! { impl Into<String> }, quote! { value.into() })
                }
                _ => (ty.clone(), quote! { value }),
            };
            setters.push(quote! {
                #[doc = #setter_doc]
                pub fn #field(mut self, value: #arg_ty) -> Self {
                    self.#field = Some(#conv);
                    self
                }
            });
            parts.push(quote! { if let Some(v) = self.#field { #part } });
        }
    }
    if let Some(group) = schema.schema_data.extensions.get("x-options-group") {
        let group = group
            .as_str()
            .ok_or_else(|| format!("{op_id}: x-options-group must be a string"))?;
        forms
            .groups
            .entry(group.to_string())
            .or_default()
            .push((ident.clone(), optional));
    }
    let struct_doc = format!(
        "The `multipart/form-data` body of `{op_id}`, generated from the spec's schema. \
         Build it with [`{ident}::new`] (the required fields) and the setters."
    );
    Ok(quote! {
        #[doc = #struct_doc]
        #[derive(Debug)]
        #[non_exhaustive]
        pub struct #ident {
            #(#fields)*
        }

        impl #ident {
            #(#consts)*

            /// A form with the required fields set and every optional one unset.
            pub fn new(#(#ctor_args),*) -> Self {
                Self { #(#ctor_fields)* }
            }

            #(#setters)*

            /// The multipart form sent on the wire (file parts are streamed).
            pub fn into_multipart(self) -> Result<::reqwest::multipart::Form, crate::upload::PartError> {
                let mut form = ::reqwest::multipart::Form::new();
                #(#parts)*
                Ok(form)
            }
        }
    })
}

/// The options struct of an `x-options-group`: the optional fields every
/// member form has (same name, same type), and `with_options` on each form.
fn options_group(group: &str, members: &[GroupMember]) -> Result<TokenStream, String> {
    let (_, first) = members.first().ok_or("empty options group")?;
    let shared: Vec<&(String, TokenStream, String)> = first
        .iter()
        .filter(|(name, ty, _)| {
            members.iter().all(|(_, fields)| {
                fields
                    .iter()
                    .any(|(n, t, _)| n == name && t.to_string() == ty.to_string())
            })
        })
        .collect();
    let ident = format_ident!("{}", group);
    let idents: Vec<syn::Ident> = shared
        .iter()
        .map(|(n, _, _)| format_ident!("{}", snake(n)))
        .collect();
    let tys: Vec<&TokenStream> = shared.iter().map(|(_, t, _)| t).collect();
    let docs: Vec<&String> = shared.iter().map(|(_, _, d)| d).collect();
    let setter_docs: Vec<String> = shared
        .iter()
        .map(|(n, _, d)| format!("Sets `{n}`: {d}"))
        .collect();
    let (arg_tys, convs): (Vec<TokenStream>, Vec<TokenStream>) = tys
        .iter()
        .map(|t| {
            if t.to_string() == "String" {
                (quote! { impl Into<String> }, quote! { value.into() })
            } else {
                (quote! { #t }, quote! { value })
            }
        })
        .unzip();
    let names: Vec<String> = members.iter().map(|(m, _)| format!("[`{m}`]")).collect();
    let doc = format!(
        "The options shared by {} (generated from the spec: the optional fields all of them \
         have). Every field starts unset; unset fields are not sent.",
        names.join(", ")
    );
    let member_impls: Vec<TokenStream> = members
        .iter()
        .map(|(m, _)| {
            quote! {
                impl #m {
                    /// Replaces every shared option of this form with `options`' value.
                    pub fn with_options(mut self, options: #ident) -> Self {
                        #( self.#idents = options.#idents; )*
                        self
                    }
                }
            }
        })
        .collect();
    Ok(quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, Default, PartialEq)]
        #[non_exhaustive]
        pub struct #ident {
            #( #[doc = #docs] pub #idents: Option<#tys>, )*
        }

        impl #ident {
            /// No option set.
            pub fn new() -> Self {
                Self::default()
            }
            #(
                #[doc = #setter_docs]
                pub fn #idents(mut self, value: #arg_tys) -> Self {
                    self.#idents = Some(#convs);
                    self
                }
            )*
        }

        #(#member_impls)*
    })
}

fn field_kind(
    op_id: &str,
    name: &str,
    s: &Schema,
    media: &openapiv3::MediaType,
    forms: &mut Forms,
) -> Result<FieldKind, String> {
    let unsupported = || format!("{op_id}.{name}: form field type not supported by build.rs");
    let SchemaKind::Type(t) = &s.schema_kind else {
        return Err(unsupported());
    };
    Ok(match t {
        Type::String(st)
            if st.format
                == openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Binary) =>
        {
            let content_types = media
                .encoding
                .get(name)
                .and_then(|e| e.content_type.clone())
                .unwrap_or_else(|| "application/octet-stream".to_string())
                .split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect();
            FieldKind::File { content_types }
        }
        Type::String(st) if !st.enumeration.is_empty() => {
            let values = st.enumeration.iter().flatten().cloned().collect();
            FieldKind::Enum(form_enum(op_id, name, values, false, forms))
        }
        Type::String(_) => FieldKind::Text(quote! { String }),
        Type::Boolean(_) => FieldKind::Text(quote! { bool }),
        Type::Integer(it) if !it.enumeration.is_empty() => {
            let values = it
                .enumeration
                .iter()
                .flatten()
                .map(|v| v.to_string())
                .collect();
            FieldKind::Enum(form_enum(op_id, name, values, true, forms))
        }
        Type::Integer(_) => FieldKind::Text(quote! { i64 }),
        Type::Number(_) => FieldKind::Text(quote! { f64 }),
        _ => return Err(unsupported()),
    })
}

/// A closed enum for a form field (the client only sends these, so a closed
/// set is what catches a typo at compile time). Shared across forms when the
/// field name and values agree.
fn form_enum(
    op_id: &str,
    name: &str,
    values: Vec<String>,
    integer: bool,
    forms: &mut Forms,
) -> syn::Ident {
    let mut type_name = pascal(name);
    if let Some(existing) = forms.enums.get(&type_name) {
        if existing == &values {
            return format_ident!("{}", type_name);
        }
        type_name = format!("{}{}", pascal(op_id), pascal(name));
    }
    forms.enums.insert(type_name.clone(), values.clone());
    let ident = format_ident!("{}", type_name);
    let variants: Vec<syn::Ident> = values
        .iter()
        .map(|v| {
            if integer {
                format_ident!("V{}", v)
            } else {
                format_ident!("{}", pascal(v))
            }
        })
        .collect();
    let docs: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    let doc = format!("Allowed values of the form field `{name}` (from the spec's enum).");
    let try_from = if integer {
        let nums: Vec<i64> = values
            .iter()
            .map(|v| v.parse().unwrap_or_default())
            .collect();
        let err = format!("{name} must be one of {}", values.join(", "));
        quote! {
            impl ::std::convert::TryFrom<i64> for #ident {
                type Error = crate::upload::PartError;
                fn try_from(value: i64) -> Result<Self, Self::Error> {
                    match value {
                        #( #nums => Ok(Self::#variants), )*
                        _ => Err(crate::upload::PartError::InvalidValue { field: #name, message: #err.to_string() }),
                    }
                }
            }
        }
    } else {
        let err = format!("{name} must be one of {}", values.join(", "));
        quote! {
            impl ::std::str::FromStr for #ident {
                type Err = crate::upload::PartError;
                fn from_str(value: &str) -> Result<Self, Self::Err> {
                    match value {
                        #( #values => Ok(Self::#variants), )*
                        _ => Err(crate::upload::PartError::InvalidValue { field: #name, message: #err.to_string() }),
                    }
                }
            }
        }
    };
    forms.items.push(quote! {
        #[doc = #doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum #ident {
            #( #[doc = #docs] #variants, )*
        }

        impl #ident {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &'static str {
                match self { #( Self::#variants => #values, )* }
            }
        }

        impl ::std::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #try_from
    });
    ident
}

// --------------------------------------------------------------------- naming

fn pascal(s: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.extend(c.to_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

fn snake(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    out
}
