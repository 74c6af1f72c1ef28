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
//!    of the same `Client`, going through the same hooks. Its answer is a
//!    stream, or, when every success answer is JSON of one schema, that
//!    schema's type (and then it asks for `Accept: application/json`).
//! 3. **open enums** (below): typify makes closed enums, so a value a newer
//!    server sends would fail to decode. Every named string enum of the
//!    components is generated here as a `#[non_exhaustive]` enum with a
//!    catch-all variant keeping the unknown value, and substituted for
//!    typify's with `with_replacement`.
//!
//! 4. **Laravel's empty maps** (below): the backend's `json_encode` writes an
//!    empty map as `[]`, so wherever the spec says `object` an empty JSON
//!    array decodes as the empty object. One pass over the generated types
//!    does it for every object type and every map field (`src/laravel.rs`
//!    holds the two serde adaptors it wires in).
//!
//! A component schema's `x-rust-name` extension renames its Rust type.
//!
//! 5. **media kinds** (below): the per-kind code of the layer (which
//!    operations submit, fetch, list and override each kind, its options,
//!    content types and size limit), from the operations marked
//!    `x-identifai: {kind, role}`; a kind the spec adds needs no hand-written
//!    code.
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
    laravel_empty_maps(content);
    let registry = conformance_registry(&spec, content, &enums)?;

    let mut forms = Forms::default();
    let mut methods = Vec::new();
    for op in &own_ops {
        methods.push(own_method(&spec, op, &mut forms, None)?);
    }
    let (kinds_mod, raw_methods) = media_kinds(&spec, &mut forms)?;
    methods.extend(raw_methods);
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

        #kinds_mod

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

// ------------------------------------------------------ Laravel's empty maps

/// The decoding rule "wherever the spec says `object`, `[]` is the empty
/// object", applied once to progenitor's (typify's) generated types:
///
/// * Every object type (a struct with named fields, or a newtype over a map,
///   i.e. every `type: object` schema, component or inline) gets
///   `#[serde(remote = "Self")]`, which turns its derived impls into
///   inherent functions, and a `Deserialize` impl that calls the derived one
///   through `crate::laravel::Object`: `[]` reads as `{}`, a non-empty array
///   is an error, anything else is the derived behaviour. Its `Serialize`
///   impl calls the derived one unchanged. Being on the type, the rule holds
///   wherever the type is used: a field, an `Option`, a `Vec` item, a map
///   value, a `oneOf` branch, a whole response body.
/// * Every field whose type holds a foreign map (`serde_json::Map` for a
///   free-form object, `HashMap` for `additionalProperties`), alone or inside
///   `Option`/`Vec`/another map, gets `deserialize_with =
///   "crate::laravel::deep"` (and `default` if it is an `Option`, which serde
///   then no longer defaults by itself). Flattened fields are left alone:
///   they are the object's own map, not a JSON value.
///
/// Types are recognised by their Rust shape, not their name, so a new schema
/// gets the rule by regeneration.
fn laravel_empty_maps(items: &mut Vec<syn::Item>) {
    let mut shims: Vec<syn::Item> = Vec::new();
    for item in items.iter_mut() {
        let syn::Item::Struct(s) = item else { continue };
        if !derives(&s.attrs, "Deserialize") {
            continue;
        }
        let object = match &mut s.fields {
            syn::Fields::Named(named) => {
                for f in named.named.iter_mut() {
                    if !holds_map(&f.ty) || serde_attr_has(&f.attrs, "flatten") {
                        continue;
                    }
                    f.attrs.push(
                        syn::parse_quote!(#[serde(deserialize_with = "crate::laravel::deep")]),
                    );
                    let ty = &f.ty;
                    let optional = quote!(#ty)
                        .to_string()
                        .starts_with(":: std :: option :: Option <");
                    if optional && !serde_attr_has(&f.attrs, "default") {
                        f.attrs.push(syn::parse_quote!(#[serde(default)]));
                    }
                }
                true
            }
            syn::Fields::Unnamed(t) => t.unnamed.len() == 1 && is_map(&t.unnamed[0].ty),
            syn::Fields::Unit => false,
        };
        if !object {
            continue;
        }
        s.attrs.push(syn::parse_quote!(#[serde(remote = "Self")]));
        let ident = &s.ident;
        shims.push(syn::parse_quote! {
            impl<'de> ::serde::Deserialize<'de> for #ident {
                fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
                where
                    D: ::serde::Deserializer<'de>,
                {
                    // The derived impl (inherent, `remote = "Self"`), through
                    // the rule of `crate::laravel`.
                    #ident::deserialize(crate::laravel::Object(deserializer))
                }
            }
        });
        if derives(&s.attrs, "Serialize") {
            shims.push(syn::parse_quote! {
                impl ::serde::Serialize for #ident {
                    fn serialize<S>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error>
                    where
                        S: ::serde::Serializer,
                    {
                        #ident::serialize(self, serializer)
                    }
                }
            });
        }
    }
    items.extend(shims);
}

/// Whether `attrs` derive the serde trait `name`.
fn derives(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("derive") && quote!(#a).to_string().contains(&format!("serde :: {name}"))
    })
}

/// Whether a `#[serde(...)]` attribute of `attrs` names `word`.
fn serde_attr_has(attrs: &[syn::Attribute], word: &str) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("serde")
            && quote!(#a)
                .to_string()
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|w| w == word)
    })
}

const MAP_TYPES: [&str; 3] = [
    ":: serde_json :: Map <",
    ":: std :: collections :: HashMap <",
    ":: std :: collections :: BTreeMap <",
];

/// Whether `ty` is a map type.
fn is_map(ty: &syn::Type) -> bool {
    let t = quote!(#ty).to_string();
    MAP_TYPES.iter().any(|m| t.starts_with(m))
}

/// Whether `ty` holds a map type anywhere.
fn holds_map(ty: &syn::Type) -> bool {
    let t = quote!(#ty).to_string();
    MAP_TYPES.iter().any(|m| t.contains(m))
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

fn own_method(
    spec: &OpenAPI,
    own: &OwnOp,
    forms: &mut Forms,
    fn_name: Option<&str>,
) -> Result<TokenStream, String> {
    let op = &own.op;
    let op_id = op
        .operation_id
        .as_deref()
        .ok_or_else(|| format!("{} {}: no operationId", own.method, own.path))?;
    let fn_ident = format_ident!("{}", fn_name.unwrap_or(op_id));
    let mut doc = String::new();
    if let Some(s) = &op.summary {
        doc.push_str(s);
        doc.push_str("\n\n");
    }
    if let Some(d) = &op.description {
        doc.push_str(d);
        doc.push_str("\n\n");
    }
    match fn_name {
        None => doc.push_str(&format!(
            "Sends `{} {}`. Generated by `build.rs` (progenitor does not take this operation).",
            own.method.to_uppercase(),
            own.path
        )),
        Some(_) => doc.push_str(&format!(
            "Sends `{} {}` like [`Client::{op_id}`], but hands back the success body \\
             undecoded (generated by `build.rs`'s `media_kinds`, for the layer's \\
             whole answers: [`crate::answer::Classified`]).",
            own.method.to_uppercase(),
            own.path
        )),
    }

    // Parameters: path parameters, and the Accept header.
    let mut args = Vec::new();
    let mut path_fmt = own.path.clone();
    let mut path_args = Vec::new();
    let mut header_stmts = Vec::new();
    let mut query_stmts = Vec::new();
    let mut has_accept = false;
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
            Parameter::Query { .. } => {
                let ident = format_ident!("{}", snake(data.name.trim_end_matches("[]")));
                let name = &data.name;
                let is_array = matches!(
                    &data.format,
                    openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Item(s))
                        if matches!(s.schema_kind, SchemaKind::Type(Type::Array(_)))
                );
                if is_array {
                    args.push(quote! { #ident: &[::std::string::String] });
                    query_stmts.push(quote! {
                        .query(&progenitor_client::QueryParam::new(#name, &#ident))
                    });
                } else {
                    args.push(quote! { #ident: Option<&str> });
                    query_stmts.push(quote! {
                        .query(&progenitor_client::QueryParam::new(#name, &#ident))
                    });
                }
            }
            Parameter::Header { .. } => {
                has_accept |= data.name.eq_ignore_ascii_case("accept");
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
    // above decides by content type), unless every one is JSON of one
    // component schema: then it is decoded into that type, as progenitor
    // does; documented errors decode ErrorBody.
    // A `*_raw` twin (`fn_name`) always hands back the body undecoded: the
    // layer keeps the JSON text beside the typed value.
    let json_type = match fn_name {
        Some(_) => None,
        None => json_success_type(spec, op)?,
    };
    let mut success = Vec::new();
    let mut errors = Vec::new();
    let mut error_type: Option<TokenStream> = None;
    for (status, resp) in &op.responses.responses {
        let openapiv3::StatusCode::Code(code) = status else {
            return Err(format!("{op_id}: status ranges are not supported here"));
        };
        let resp = resolve_response(spec, resp)?;
        if (200..300).contains(code) {
            success.push(match &json_type {
                Some(_) => quote! { #code => ResponseValue::from_response(response).await, },
                None => quote! { #code => Ok(ResponseValue::stream(response)), },
            });
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
    // Without an Accept parameter, an operation whose every success answer
    // is JSON asks for JSON, as progenitor's operations do (exactly one
    // Accept: reqwest adds `*/*` only when none is set).
    if !has_accept && answers_only_json(spec, op)? {
        header_stmts.push(quote! {
            header_map.append(
                ::reqwest::header::ACCEPT,
                ::reqwest::header::HeaderValue::from_static("application/json"),
            );
        });
    }
    let header_count = header_stmts.len() + 1;
    let success_type = match &json_type {
        Some(ty) => quote! { types::#ty },
        None => quote! { ByteStream },
    };

    Ok(quote! {
        #[doc = #doc]
        pub async fn #fn_ident<'a>(
            &'a self,
            #(#args,)*
        ) -> Result<ResponseValue<#success_type>, Error<#error_type>> {
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
                #(#query_stmts)*
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

/// The Rust type of the one component schema every success response of `op`
/// answers with as JSON (and nothing else), if there is one.
fn json_success_type(spec: &OpenAPI, op: &Operation) -> Result<Option<syn::Ident>, String> {
    if !answers_only_json(spec, op)? {
        return Ok(None);
    }
    let mut names = std::collections::BTreeSet::new();
    for (status, resp) in &op.responses.responses {
        if matches!(status, openapiv3::StatusCode::Code(200..=299)) {
            let resp = resolve_response(spec, resp)?;
            for media in resp.content.values() {
                match &media.schema {
                    Some(ReferenceOr::Reference { reference }) => {
                        names.insert(ref_name(reference).to_string());
                    }
                    _ => return Ok(None),
                }
            }
        }
    }
    let names: Vec<String> = names.into_iter().collect();
    let [name] = &names[..] else {
        return Ok(None);
    };
    let schema = spec
        .components
        .as_ref()
        .and_then(|c| c.schemas.get(name))
        .and_then(|s| s.as_item())
        .ok_or_else(|| format!("unresolved schema {name}"))?;
    Ok(Some(format_ident!("{}", rust_type_name(name, schema))))
}

/// Whether every success response of `op` has a body, all of it JSON.
fn answers_only_json(spec: &OpenAPI, op: &Operation) -> Result<bool, String> {
    let mut any = false;
    for (status, resp) in &op.responses.responses {
        if matches!(status, openapiv3::StatusCode::Code(200..=299)) {
            let resp = resolve_response(spec, resp)?;
            if resp.content.is_empty()
                || !resp
                    .content
                    .keys()
                    .all(|k| k.starts_with("application/json"))
            {
                return Ok(false);
            }
            any = true;
        }
    }
    Ok(any)
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

// ---------------------------------------------------------------- media kinds

/// The kinds in the order `Client::result` tries them (image, then video,
/// then audio); a kind the spec adds later comes after these, by name.
const KIND_ORDER: [&str; 3] = ["image", "video", "audio"];

/// One operation of a kind, from its `x-identifai: {kind, role}`.
struct KindOp {
    path: String,
    method: &'static str,
    op: Operation,
    op_id: String,
}

/// What the generator knows of one media kind.
#[derive(Default)]
struct KindSpec {
    ops: BTreeMap<String, KindOp>,
}

/// The per-kind code, generated from the operations the spec marks with
/// `x-identifai: {kind: image|video|audio, role: ...}`:
///
/// - a marker type per kind (`kinds::Image`, ...) implementing
///   `crate::submit::MediaKind`: its options group (the submit form's
///   `x-options-group`), result type (the `result` operation's 200 schema),
///   accepted content types (the file part's `encoding`), size limit
///   (`x-identifai.max_bytes`, else the file field's `maxLength`, else the
///   "Maximum file size" its description states) and which operations submit,
///   fetch, list and override;
/// - `Kind` (every kind, in [`KIND_ORDER`]) and `AnyResult` (one variant per
///   kind);
/// - `Client` methods per kind (`classify_<kind>`, `<kind>_result`,
///   `<kind>_results`, `wait_<kind>`) and the dispatch by `Kind` the layer
///   needs (`result`, `wait_all`, `override_classification`);
/// - and, for each `result`/`list` operation, a `<operation>_raw` method
///   that hands back the body undecoded, so the layer keeps the server's
///   JSON beside the typed value.
///
/// A kind missing one of `submit`, `submit_url`, `result`, `list` fails the
/// build, naming it.
fn media_kinds(
    spec: &OpenAPI,
    forms: &mut Forms,
) -> Result<(TokenStream, Vec<TokenStream>), String> {
    let mut kinds: BTreeMap<String, KindSpec> = BTreeMap::new();
    for (path, item) in &spec.paths.paths {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let slots: [(&'static str, &Option<Operation>); 5] = [
            ("get", &item.get),
            ("post", &item.post),
            ("put", &item.put),
            ("patch", &item.patch),
            ("delete", &item.delete),
        ];
        for (method, op) in slots {
            let Some(op) = op else { continue };
            let Some(ext) = op.extensions.get("x-identifai") else {
                continue;
            };
            let op_id = op
                .operation_id
                .clone()
                .ok_or_else(|| format!("{method} {path}: x-identifai without operationId"))?;
            let kind = ext
                .get("kind")
                .and_then(|v| v.as_str())
                .ok_or_else(|| format!("{op_id}: x-identifai.kind must be a string"))?;
            let role = ext
                .get("role")
                .and_then(|v| v.as_str())
                .ok_or_else(|| format!("{op_id}: x-identifai.role must be a string"))?;
            let entry = kinds.entry(kind.to_string()).or_default();
            if entry.ops.contains_key(role) {
                // An alias path (e.g. /api/classification_image/...) of a
                // role already seen: the first in the spec is the one called.
                continue;
            }
            entry.ops.insert(
                role.to_string(),
                KindOp {
                    path: path.clone(),
                    method,
                    op: op.clone(),
                    op_id,
                },
            );
        }
    }
    let mut order: Vec<String> = KIND_ORDER
        .iter()
        .filter(|k| kinds.contains_key(**k))
        .map(|k| k.to_string())
        .collect();
    order.extend(
        kinds
            .keys()
            .filter(|k| !KIND_ORDER.contains(&k.as_str()))
            .cloned(),
    );

    let mut items = Vec::new();
    let mut raw_methods = Vec::new();
    let mut variants = Vec::new();
    let mut kind_strs = Vec::new();
    let mut outputs = Vec::new();
    let mut override_types = Vec::new();
    for kind in &order {
        let k = &kinds[kind];
        let need = |role: &str| {
            k.ops.get(role).ok_or_else(|| {
                format!("kind {kind}: no operation with x-identifai role `{role}` in the spec")
            })
        };
        let submit = need("submit")?;
        let submit_url = need("submit_url")?;
        let result = need("result")?;
        let list = need("list")?;
        let ident = format_ident!("{}", pascal(kind));
        let what = format!(
            "{} {kind}",
            if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            }
        );

        // The file form: its part, content types, options group and limit.
        let (file_field, content_types, group, max_bytes) = file_form(spec, kind, submit)?;
        let (_, url_group) = form_group(spec, submit_url)?;
        if url_group.as_deref() != Some(group.as_str()) {
            return Err(format!(
                "kind {kind}: {} and {} must share one x-options-group",
                submit.op_id, submit_url.op_id
            ));
        }
        let form = format_ident!("{}Form", pascal(&submit.op_id));
        let url_form = format_ident!("{}Form", pascal(&submit_url.op_id));
        let submit_fn = format_ident!("{}", submit.op_id);
        let submit_url_fn = format_ident!("{}", submit_url.op_id);
        let konst = format_ident!("{}_CONTENT_TYPES", file_field.to_ascii_uppercase());
        let group_ident = format_ident!("{}", group);
        // `infer` tells every image format apart by content; video and
        // audio containers it may not, so there the file name may tell.
        let extension_fallback = !content_types.iter().all(|t| t.starts_with("image/"));

        let output = json_ref_type(spec, result, false)?;
        let list_output = json_ref_type(spec, list, true)?;
        if output != list_output {
            return Err(format!(
                "kind {kind}: {} answers items of another type than {}",
                list.op_id, result.op_id
            ));
        }
        check_pollable(spec, result)?;
        let get_raw = format_ident!("{}_raw", result.op_id);
        let list_raw = format_ident!("{}_raw", list.op_id);
        for op in [result, list] {
            let own = OwnOp {
                path: op.path.clone(),
                method: op.method,
                op: op.op.clone(),
            };
            raw_methods.push(own_method(
                spec,
                &own,
                forms,
                Some(&format!("{}_raw", op.op_id)),
            )?);
        }
        let override_body = match k.ops.get("override") {
            Some(o) => {
                let f = format_ident!("{}", o.op_id);
                let body = json_body_type(spec, o)?;
                override_types.push(json_ref_type(spec, o, false)?);
                quote! {
                    let body: types::#body = ::serde_json::from_value(body).map_err(|e| {
                        crate::error::InputError::InvalidSetting { setting: "classification", reason: e.to_string() }
                    })?;
                    match api.#f(hash, &body).await {
                        Ok(v) => Ok(v.into_inner()),
                        Err(e) => Err(crate::Error::from_api(e).await),
                    }
                }
            }
            None => {
                let reason = format!("the spec has no override operation for {kind}s");
                quote! {
                    let _ = (api, hash, body);
                    Err(crate::error::InputError::InvalidSetting { setting: "kind", reason: #reason.into() }.into())
                }
            }
        };

        let kind_doc = format!(
            "{}s: `{} {}` (file), `{} {}` (URL), results from `{} {}` and `{} {}`. \
             Generated from the spec's `x-identifai` operations.",
            pascal(kind),
            submit.method.to_uppercase(),
            submit.path,
            submit_url.method.to_uppercase(),
            submit_url.path,
            result.method.to_uppercase(),
            result.path,
            list.method.to_uppercase(),
            list.path,
        );
        let max_doc = format!("{max_bytes} bytes: the limit the spec states for {kind}s.");
        items.push(quote! {
            #[doc = #kind_doc]
            #[derive(Debug)]
            pub enum #ident {}

            impl crate::submit::MediaKind for #ident {
                type Options = forms::#group_ident;
                type Output = types::#output;
                const KIND: Kind = Kind::#ident;
                const NAME: &'static str = #kind;
                const WHAT: &'static str = #what;
                const CONTENT_TYPES: &'static [&'static str] = forms::#form::#konst;
                #[doc = #max_doc]
                const MAX_BYTES: u64 = #max_bytes;
                const EXTENSION_FALLBACK: bool = #extension_fallback;
                fn wrap(result: crate::answer::Classified<Self::Output>) -> AnyResult {
                    AnyResult::#ident(result)
                }
                fn state(result: &Self::Output) -> crate::wait::State {
                    crate::wait::state_of(result.status.as_ref(), result.errors.as_ref(), result.verdict.is_some())
                }
                async fn submit_file(
                    api: &super::Client,
                    accept: types::ResponseFormat,
                    file: crate::upload::FilePart,
                    options: Self::Options,
                ) -> crate::submit::ApiResult {
                    let form = forms::#form::new(file).with_options(options);
                    api.#submit_fn(Some(accept), form).await
                }
                async fn submit_url(
                    api: &super::Client,
                    accept: types::ResponseFormat,
                    url: ::std::string::String,
                    options: Self::Options,
                ) -> crate::submit::ApiResult {
                    let form = forms::#url_form::new(url).with_options(options);
                    api.#submit_url_fn(Some(accept), form).await
                }
                async fn get(api: &super::Client, id: &str) -> crate::submit::RawResult {
                    api.#get_raw(id).await
                }
                async fn list(api: &super::Client, ids: &[::std::string::String]) -> crate::submit::RawResult {
                    api.#list_raw(ids).await
                }
                async fn override_classification(
                    api: &super::Client,
                    hash: &str,
                    body: ::serde_json::Value,
                ) -> crate::Result<OverrideAnswer> {
                    #override_body
                }
            }
        });
        variants.push(ident);
        kind_strs.push(kind.clone());
        outputs.push(output);
    }
    if variants.is_empty() {
        return Err("no operation carries x-identifai: the layer has no media kinds".into());
    }
    let override_type = match override_types.first() {
        Some(t) if override_types.iter().all(|o| o == t) => {
            quote! { types::#t }
        }
        Some(_) => return Err("the override operations answer different schemas".into()),
        None => quote! { ::serde_json::Value },
    };
    let count = variants.len();
    let classify_fns: Vec<syn::Ident> = kind_strs
        .iter()
        .map(|k| format_ident!("classify_{}", k))
        .collect();
    let result_fns: Vec<syn::Ident> = kind_strs
        .iter()
        .map(|k| format_ident!("{}_result", k))
        .collect();
    let results_fns: Vec<syn::Ident> = kind_strs
        .iter()
        .map(|k| format_ident!("{}_results", k))
        .collect();
    let wait_fns: Vec<syn::Ident> = kind_strs
        .iter()
        .map(|k| format_ident!("wait_{}", k))
        .collect();
    let as_fns: Vec<syn::Ident> = kind_strs
        .iter()
        .map(|k| format_ident!("as_{}", k))
        .collect();
    let into_fns: Vec<syn::Ident> = kind_strs
        .iter()
        .map(|k| format_ident!("into_{}", k))
        .collect();
    let classify_docs: Vec<String> = kind_strs.iter().map(|k| format!("Starts {} submission: a path, bytes, a reader, a stream or a URL, checked before anything is sent.", if k.starts_with(['a','e','i','o','u']) { format!("an {k}") } else { format!("a {k}") })).collect();
    let result_docs: Vec<String> = kind_strs.iter().map(|k| format!("The current result of {k} classification `id` (one GET, no waiting), typed and with the server's JSON.")).collect();
    let results_docs: Vec<String> = kind_strs.iter().map(|k| format!("The current results of 1 to 100 {k} classifications, in one GET. Identifiers the server does not know are left out of the answer.")).collect();
    let wait_docs: Vec<String> = kind_strs.iter().map(|k| format!("Waits for {k} classification `id` to finish; `.await` the returned wait, after tuning it if needed.")).collect();
    let as_docs: Vec<String> = kind_strs
        .iter()
        .map(|k| format!("The {k} result, if this is one."))
        .collect();
    let variant_docs: Vec<String> = kind_strs.iter().map(|k| format!("`{k}`")).collect();
    Ok((
        quote! {
            /// The media kinds of the API and their per-kind code, generated by
            /// `build.rs` from the operations the spec marks with `x-identifai`.
            pub mod kinds {
                #[allow(unused_imports)]
                use super::{forms, types};

                /// A media kind of the API. Generated from the spec's `x-identifai`
                /// operations, in the order [`crate::Client::result`] tries them.
                #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
                #[non_exhaustive]
                pub enum Kind {
                    #( #[doc = #variant_docs] #variants, )*
                }

                impl Kind {
                    /// Every kind, in the order [`crate::Client::result`] tries them.
                    pub const ALL: [Kind; #count] = [#(Kind::#variants),*];

                    /// The kind's name (`image`, ...).
                    pub fn as_str(&self) -> &'static str {
                        match self { #( Kind::#variants => #kind_strs, )* }
                    }

                    /// The size limit the spec states for this kind, in bytes.
                    pub fn spec_max_bytes(&self) -> u64 {
                        use crate::submit::MediaKind;
                        match self { #( Kind::#variants => <#variants as MediaKind>::MAX_BYTES, )* }
                    }

                    /// The content types the spec allows for this kind's file part.
                    pub fn content_types(&self) -> &'static [&'static str] {
                        use crate::submit::MediaKind;
                        match self { #( Kind::#variants => <#variants as MediaKind>::CONTENT_TYPES, )* }
                    }

                    /// The kind's position in [`Kind::ALL`].
                    pub fn index(&self) -> usize {
                        Self::ALL.iter().position(|k| k == self).unwrap_or(0)
                    }
                }

                impl ::std::fmt::Display for Kind {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(self.as_str())
                    }
                }

                impl ::std::str::FromStr for Kind {
                    type Err = ::std::string::String;
                    fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                        match s {
                            #( #kind_strs => Ok(Kind::#variants), )*
                            other => Err(format!("unknown media kind `{other}` (one of: {})", [#(#kind_strs),*].join(", "))),
                        }
                    }
                }

                /// The answer of an override (the same schema for every kind).
                pub type OverrideAnswer = #override_type;

                /// A result of any kind, typed, with the server's JSON. Returned by
                /// [`crate::Client::result`] and [`crate::Client::wait_all`].
                #[derive(Clone, Debug, PartialEq)]
                #[non_exhaustive]
                pub enum AnyResult {
                    #( #[doc = #variant_docs] #variants(crate::answer::Classified<types::#outputs>), )*
                }

                impl AnyResult {
                    /// Decodes `json` as a result of `kind`, keeping the text as its raw JSON.
                    pub fn from_json(kind: Kind, json: &str) -> ::serde_json::Result<AnyResult> {
                        match kind { #( Kind::#variants => crate::answer::Classified::from_json(json).map(AnyResult::#variants), )* }
                    }

                    /// Which kind this is.
                    pub fn kind(&self) -> Kind {
                        match self { #( AnyResult::#variants(_) => Kind::#variants, )* }
                    }

                    /// The JSON the server sent, verbatim.
                    pub fn raw(&self) -> &::serde_json::value::RawValue {
                        match self { #( AnyResult::#variants(r) => r.raw(), )* }
                    }

                    /// The JSON the server sent, as a value.
                    pub fn raw_value(&self) -> ::serde_json::Value {
                        match self { #( AnyResult::#variants(r) => r.raw_value(), )* }
                    }

                    /// The classification's identifier, when the answer has one.
                    pub fn identifier(&self) -> Option<&str> {
                        match self { #( AnyResult::#variants(r) => r.identifier.as_deref(), )* }
                    }

                    /// The file's SHA-256 (what overrides take), when the answer has one.
                    pub fn hash(&self) -> Option<&str> {
                        match self { #( AnyResult::#variants(r) => r.hash.as_deref(), )* }
                    }

                    /// The classification's status, when the answer has one.
                    pub fn status(&self) -> Option<&types::Status> {
                        match self { #( AnyResult::#variants(r) => r.status.as_ref(), )* }
                    }

                    /// The default verdict: classification and confidence, when there is one.
                    pub fn verdict(&self) -> Option<(&types::Classification, f64)> {
                        match self { #( AnyResult::#variants(r) => r.verdict.as_ref().map(|v| (&v.classification, v.confidence)), )* }
                    }

                    #(
                        #[doc = #as_docs]
                        pub fn #as_fns(&self) -> Option<&crate::answer::Classified<types::#outputs>> {
                            #[allow(unreachable_patterns)]
                            match self { AnyResult::#variants(r) => Some(r), _ => None }
                        }

                        #[doc = #as_docs]
                        pub fn #into_fns(self) -> Option<crate::answer::Classified<types::#outputs>> {
                            #[allow(unreachable_patterns)]
                            match self { AnyResult::#variants(r) => Some(r), _ => None }
                        }
                    )*

                    pub(crate) fn state(&self) -> crate::wait::State {
                        use crate::submit::MediaKind;
                        match self { #( AnyResult::#variants(r) => #variants::state(r), )* }
                    }
                }

                impl ::serde::Serialize for AnyResult {
                    /// The server's JSON, verbatim.
                    fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                        self.raw().serialize(s)
                    }
                }

                #(#items)*

                impl crate::Client {
                    #(
                        #[doc = #classify_docs]
                        pub fn #classify_fns(&self, source: impl Into<crate::Source>) -> crate::submit::Classify<'_, #variants> {
                            crate::submit::Classify::new(self, source.into())
                        }

                        #[doc = #result_docs]
                        pub async fn #result_fns(&self, id: &crate::Identifier) -> crate::Result<crate::answer::Classified<types::#outputs>> {
                            self.result_of::<#variants>(id).await
                        }

                        #[doc = #results_docs]
                        pub async fn #results_fns(&self, ids: &[crate::Identifier]) -> crate::Result<Vec<crate::answer::Classified<types::#outputs>>> {
                            self.results_of::<#variants>(ids).await
                        }

                        #[doc = #wait_docs]
                        pub fn #wait_fns(&self, id: &crate::Identifier) -> crate::wait::Wait<'_, #variants> {
                            crate::wait::Wait::new(self, id)
                        }
                    )*

                    /// The current result of `id` as kind `kind` (one GET).
                    pub async fn result_as(&self, kind: Kind, id: &crate::Identifier) -> crate::Result<AnyResult> {
                        use crate::submit::MediaKind;
                        match kind { #( Kind::#variants => self.result_of::<#variants>(id).await.map(#variants::wrap), )* }
                    }

                    /// The current results of 1 to 100 classifications of kind `kind` (one GET).
                    pub async fn results_as(&self, kind: Kind, ids: &[crate::Identifier]) -> crate::Result<Vec<AnyResult>> {
                        use crate::submit::MediaKind;
                        match kind { #( Kind::#variants => Ok(self.results_of::<#variants>(ids).await?.into_iter().map(#variants::wrap).collect()), )* }
                    }

                    /// Overrides the verdict of the `kind` file whose SHA-256 is `hash`
                    /// (the `hash` of its result, not its identifier): later answers
                    /// carry `classification` as their `force_classification`.
                    pub async fn override_classification(
                        &self,
                        kind: Kind,
                        hash: &str,
                        classification: types::Classification,
                    ) -> crate::Result<OverrideAnswer> {
                        match kind { #( Kind::#variants => self.override_of::<#variants>(hash, classification).await, )* }
                    }
                }
            }
        },
        raw_methods,
    ))
}

/// The submit form of a kind: its file field, that field's content types,
/// its options group and its size limit.
fn file_form(
    spec: &OpenAPI,
    kind: &str,
    submit: &KindOp,
) -> Result<(String, Vec<String>, String, u64), String> {
    let op_id = &submit.op_id;
    let (schema, group) = form_group(spec, submit)?;
    let group =
        group.ok_or_else(|| format!("{op_id}: the submit form needs an x-options-group"))?;
    let SchemaKind::Type(Type::Object(obj)) = &schema.schema_kind else {
        return Err(format!("{op_id}: multipart schema must be an object"));
    };
    let media = multipart_media(spec, submit)?;
    for (name, prop) in &obj.properties {
        let ReferenceOr::Item(prop) = prop else {
            continue;
        };
        let SchemaKind::Type(Type::String(st)) = &prop.schema_kind else {
            continue;
        };
        if st.format != openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Binary) {
            continue;
        }
        let content_types: Vec<String> = media
            .encoding
            .get(name)
            .and_then(|e| e.content_type.clone())
            .ok_or_else(|| {
                format!("{op_id}.{name}: the file part needs its content types in `encoding`")
            })?
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        let ext = submit.op.extensions.get("x-identifai");
        let max = ext
            .and_then(|e| e.get("max_bytes"))
            .and_then(|v| v.as_u64())
            .or(st.max_length.map(|m| m as u64))
            .or_else(|| stated_max_size(prop.schema_data.description.as_deref().unwrap_or("")))
            .ok_or_else(|| {
                format!(
                    "{op_id}.{name}: no size limit for {kind}s (x-identifai.max_bytes, maxLength, \
                     or \"Maximum file size: N MB\" in the description)"
                )
            })?;
        return Ok((name.clone(), content_types, group, max));
    }
    Err(format!(
        "{op_id}: the submit form has no file (format: binary) field"
    ))
}

/// "Maximum file size: 50MB" / "**Maximum file size:** 5GB" in a
/// description, in bytes (MB = 2^20, GB = 2^30, as the API counts).
fn stated_max_size(description: &str) -> Option<u64> {
    let lower = description.to_ascii_lowercase();
    let at = lower.find("maximum file size")? + "maximum file size".len();
    let rest = lower[at..].trim_start_matches(|c: char| c == ':' || c == '*' || c.is_whitespace());
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let n: u64 = digits.parse().ok()?;
    let unit = rest[digits.len()..].trim_start();
    let scale = if unit.starts_with("gb") {
        1 << 30
    } else if unit.starts_with("mb") {
        1 << 20
    } else if unit.starts_with("kb") {
        1 << 10
    } else {
        return None;
    };
    Some(n * scale)
}

fn multipart_media<'a>(
    spec: &'a OpenAPI,
    op: &'a KindOp,
) -> Result<&'a openapiv3::MediaType, String> {
    let body = op
        .op
        .request_body
        .as_ref()
        .ok_or_else(|| format!("{}: no request body", op.op_id))?;
    resolve_body(spec, body)?
        .content
        .get("multipart/form-data")
        .ok_or_else(|| format!("{}: a submission must be multipart/form-data", op.op_id))
}

/// A multipart operation's schema and its `x-options-group`.
fn form_group<'a>(
    spec: &'a OpenAPI,
    op: &'a KindOp,
) -> Result<(&'a Schema, Option<String>), String> {
    let media = multipart_media(spec, op)?;
    let schema = match media.schema.as_ref() {
        Some(ReferenceOr::Item(s)) => s,
        Some(ReferenceOr::Reference { reference }) => spec
            .components
            .as_ref()
            .and_then(|c| c.schemas.get(ref_name(reference)))
            .and_then(|s| s.as_item())
            .ok_or_else(|| format!("{}: unresolved {reference}", op.op_id))?,
        None => return Err(format!("{}: multipart body without schema", op.op_id)),
    };
    let group = schema
        .schema_data
        .extensions
        .get("x-options-group")
        .and_then(|g| g.as_str())
        .map(str::to_string);
    Ok((schema, group))
}

/// The Rust type of an operation's 200 JSON answer (`list`: of its items),
/// which must be a component `$ref`.
fn json_ref_type(spec: &OpenAPI, op: &KindOp, list: bool) -> Result<syn::Ident, String> {
    let resp = op
        .op
        .responses
        .responses
        .get(&openapiv3::StatusCode::Code(200))
        .ok_or_else(|| format!("{}: no 200 answer", op.op_id))?;
    let resp = resolve_response(spec, resp)?;
    let schema = resp
        .content
        .get("application/json")
        .and_then(|m| m.schema.as_ref())
        .ok_or_else(|| format!("{}: the 200 answer has no JSON schema", op.op_id))?;
    let schema = if list {
        let item = match schema {
            ReferenceOr::Item(s) => s,
            ReferenceOr::Reference { reference } => spec
                .components
                .as_ref()
                .and_then(|c| c.schemas.get(ref_name(reference)))
                .and_then(|s| s.as_item())
                .ok_or_else(|| format!("{}: unresolved {reference}", op.op_id))?,
        };
        match &item.schema_kind {
            SchemaKind::Type(Type::Array(a)) => match &a.items {
                Some(ReferenceOr::Reference { reference }) => {
                    return component_type(spec, reference, &op.op_id)
                }
                _ => return Err(format!("{}: list items must be a component $ref", op.op_id)),
            },
            _ => return Err(format!("{}: a list answer must be an array", op.op_id)),
        }
    } else {
        schema
    };
    match schema {
        ReferenceOr::Reference { reference } => component_type(spec, reference, &op.op_id),
        ReferenceOr::Item(_) => Err(format!(
            "{}: the 200 answer must be a component $ref",
            op.op_id
        )),
    }
}

fn component_type(spec: &OpenAPI, reference: &str, op_id: &str) -> Result<syn::Ident, String> {
    let name = ref_name(reference);
    let schema = spec
        .components
        .as_ref()
        .and_then(|c| c.schemas.get(name))
        .and_then(|s| s.as_item())
        .ok_or_else(|| format!("{op_id}: unresolved {reference}"))?;
    Ok(format_ident!("{}", rust_type_name(name, schema)))
}

/// The Rust type of an operation's JSON request body (a component `$ref`,
/// else progenitor's `<OperationId>Body`).
fn json_body_type(spec: &OpenAPI, op: &KindOp) -> Result<syn::Ident, String> {
    let body = op
        .op
        .request_body
        .as_ref()
        .ok_or_else(|| format!("{}: an override needs a JSON body", op.op_id))?;
    let schema = resolve_body(spec, body)?
        .content
        .get("application/json")
        .and_then(|m| m.schema.as_ref())
        .ok_or_else(|| format!("{}: an override needs a JSON body", op.op_id))?;
    match schema {
        ReferenceOr::Reference { reference } => component_type(spec, reference, &op.op_id),
        ReferenceOr::Item(_) => Ok(format_ident!("{}Body", pascal(&op.op_id))),
    }
}

/// A result schema must have `status`, `errors` and `verdict` for waiting.
fn check_pollable(spec: &OpenAPI, op: &KindOp) -> Result<(), String> {
    let ty = json_ref_type(spec, op, false)?;
    let resp = resolve_response(
        spec,
        op.op
            .responses
            .responses
            .get(&openapiv3::StatusCode::Code(200))
            .ok_or("no 200")?,
    )?;
    let Some(ReferenceOr::Reference { reference }) = resp
        .content
        .get("application/json")
        .and_then(|m| m.schema.as_ref())
    else {
        return Err(format!(
            "{}: the 200 answer must be a component $ref",
            op.op_id
        ));
    };
    let schema = spec
        .components
        .as_ref()
        .and_then(|c| c.schemas.get(ref_name(reference)))
        .and_then(|s| s.as_item())
        .ok_or_else(|| format!("{}: unresolved {reference}", op.op_id))?;
    let props: Vec<&String> = match &schema.schema_kind {
        SchemaKind::Type(Type::Object(o)) => o.properties.keys().collect(),
        _ => Vec::new(),
    };
    for field in ["status", "errors", "verdict", "identifier", "hash"] {
        if !props.iter().any(|p| *p == field) {
            return Err(format!(
                "{ty} (answer of {}): a result needs `{field}` for the layer to wait on it",
                op.op_id
            ));
        }
    }
    Ok(())
}
