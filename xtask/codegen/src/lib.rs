//! `identifai-codegen`: turns the identifAI OpenAPI document
//! (`openapi/identifai.yaml`) into the Rust of the `identifai` crate's
//! generated module. The crate's `build.rs` calls [`write()`]; everything
//! else here is the generator, one module per job, each with unit tests on
//! small specs.
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
//!    schema's type (and then it asks for `Accept: application/json`); when
//!    the others have no body (an override's 200/201 JSON beside its 204),
//!    `Option` of it. An error status documented with another schema than
//!    the operation's others (Laravel's 422) is left to the layer by both
//!    generators (`partition::side_errors`).
//! 3. **open enums** (below): typify makes closed enums, so a value a newer
//!    server sends would fail to decode. Every named string enum of the
//!    components is generated here as a `#[non_exhaustive]` enum with a
//!    catch-all variant keeping the unknown value, and substituted for
//!    typify's with `with_replacement`.
//!
//! 4. **Laravel's empty maps** (below): the backend's `json_encode` writes an
//!    empty map as `[]`, so wherever the spec says `object` an empty JSON
//!    array decodes as the empty object. One pass over the generated types
//!    does it for every object type and every map field (`src/api/laravel.rs`
//!    holds the two serde adaptors it wires in).
//!
//!    **PHP's booleans** (`php_bools`): a MySQL boolean column without a
//!    Laravel cast is written `0`/`1`, so every field of type `bool` (also
//!    in an `Option` or a `Vec`) reads `0`/`1` as `false`/`true`
//!    (`src/api/php.rs` holds the adaptor it wires in).
//!
//!    The same pass list then implements `api::Answer` for every type
//!    (`answers`): a type whose fields are all optional is an empty answer
//!    when it equals its default, and the generated client refuses it.
//!
//! A component schema's `x-rust-name` extension renames its Rust type.
//!
//! An element's `x-evidence` below `published` (written by `cargo xtask
//! spec` from the overlay) is appended to its `description` (`evidence`),
//! so the generated item's doc says what backs it.
//!
//! 5. **media kinds** (below): the per-kind code of the layer (which
//!    operations submit, fetch, list and override each kind, its options,
//!    content types and size limit), from the operations marked
//!    `x-identifai: {kind, role}`; a kind the spec adds needs no hand-written
//!    code.
//!
//! 6. **the operation list** (`operations`): `Operation` and `OPERATIONS`,
//!    one entry per operation (name, method, path template, kind, role,
//!    request content type, documented statuses), which the mock's routes
//!    and the conformance tests iterate instead of hand lists; beside it
//!    (`inputs`), `OPERATION_INPUTS`: each operation's summary, parameters,
//!    body fields and answer types, which the CLI's `identifai api` reads.
//!
//! Beside the client, the **conformance registry** (below): a
//! `#[doc(hidden)] mod conformance` (behind the crate's `conformance`
//! feature) that reaches every component's Rust type
//! by schema name, for the spec-driven tests (the `conformance` test binary, `tests/conformance/`), so a
//! new schema is tested with no hand-written list; and `call_operation`
//! (`dispatch`), which calls any operation through its generated method with
//! sample arguments from the spec, so a new operation is called with no
//! hand-written arm.
//!
//! With the `mock` feature, the **typed httpmock helpers** (`mocks`, below)
//! of every operation: progenitor's for its operations, the generator's own
//! for the multipart submissions and the heatmap, and the 503 the pages do
//! not list, for all.
//!
//! The build fails, with a message naming the place, on anything in the spec
//! it cannot turn into Rust faithfully (an inline string enum in a response
//! schema, a form field of a type forms cannot carry). What progenitor would
//! panic on (a JSON answer with no schema, ...) is found first (`preflight`):
//! the error names the operation, the status and the overlay action to
//! write; a panic of progenitor's that gets past it is an error too.

#![warn(missing_docs)]

mod answers;
mod dispatch;
mod docs;
mod evidence;
mod fixes;
mod forms;
mod inputs;
mod kind_enum;
mod kinds;
mod laravel;
mod mock_answers;
mod mocks;
mod naming;
mod open_enums;
mod operations;
mod partition;
mod php_bools;
mod preflight;
mod registry;
mod resolve;
mod samples;
mod verdicts;

use std::path::Path;

use openapiv3::{OpenAPI, ReferenceOr};
use proc_macro2::TokenStream;
use quote::quote;

use crate::answers::empty_answers;
use crate::dispatch::call_dispatcher;
use crate::docs::{ref_field_docs, type_summaries};
use crate::evidence::evidence_into_descriptions;
use crate::fixes::{ArrayQueryFix, CappedDecode, RequestFix};
use crate::forms::{options_group, own_method, Forms};
use crate::inputs::inputs_table;
use crate::kind_enum::{kind_enum, KIND_PATH};
use crate::kinds::media_kinds;
use crate::laravel::laravel_empty_maps;
use crate::mocks::extend_httpmock;
use crate::naming::typify_name;
use crate::open_enums::open_enums;
use crate::operations::operation_list;
use crate::partition::partition;
use crate::php_bools::php_bools;
use crate::preflight::preflight;
use crate::registry::conformance_registry;
use crate::verdicts::verdict_methods;

/// The generated Rust, as source text.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The generated module (`include!`d by `src/api/mod.rs`): types, the
    /// client, forms, the conformance registry. It names nothing of the
    /// crate outside `crate::api`.
    pub api: String,
    /// The per-kind layer code (`include!`d by `src/media_kind.rs`): `Kind`'s per-kind methods,
    /// `AnyResult`, the kinds' marker types and their trait impls.
    pub kinds: String,
    /// The per-kind `Client` methods (`include!`d by `src/client.rs`).
    pub kinds_client: String,
    /// The typed httpmock helpers of every operation, when asked for.
    pub httpmock: Option<String>,
    /// The MockServer's documented answer of every operation (`ANSWERS`,
    /// `include!`d by `src/mock/documented.rs`), with the helpers.
    pub mock_answers: Option<String>,
}

/// The file names [`write()`] writes in the output directory.
pub const API_FILE: &str = "identifai_api.rs";
/// See [`API_FILE`].
pub const KINDS_FILE: &str = "identifai_kinds.rs";
/// See [`API_FILE`].
pub const KINDS_CLIENT_FILE: &str = "identifai_kinds_client.rs";
/// See [`API_FILE`].
pub const HTTPMOCK_FILE: &str = "identifai_httpmock.rs";
/// See [`API_FILE`].
pub const MOCK_ANSWERS_FILE: &str = "identifai_mock_answers.rs";

/// Reads the spec at `spec_path`, generates, and writes [`API_FILE`],
/// [`KINDS_FILE`] (and,
/// with `httpmock`, [`HTTPMOCK_FILE`]) into `out_dir`. The error names the
/// place in the spec to fix.
pub fn write(spec_path: &Path, out_dir: &Path, httpmock: bool) -> Result<(), String> {
    let shown = spec_path.display();
    let text = std::fs::read_to_string(spec_path).map_err(|e| format!("reading {shown}: {e}"))?;
    // A panic inside the generators becomes the error below; keep its own
    // report (a "panicked at" line and a backtrace hint) out of the build's.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let generated = generate(&text, httpmock);
    std::panic::set_hook(hook);
    let generated = generated.map_err(|e| format!("{shown}: {e}"))?;
    std::fs::write(out_dir.join(API_FILE), generated.api)
        .map_err(|e| format!("writing generated code: {e}"))?;
    std::fs::write(out_dir.join(KINDS_FILE), generated.kinds)
        .map_err(|e| format!("writing generated kinds: {e}"))?;
    std::fs::write(out_dir.join(KINDS_CLIENT_FILE), generated.kinds_client)
        .map_err(|e| format!("writing generated kinds: {e}"))?;
    if let Some(mock) = generated.httpmock {
        std::fs::write(out_dir.join(HTTPMOCK_FILE), mock)
            .map_err(|e| format!("writing generated httpmock helpers: {e}"))?;
    }
    if let Some(answers) = generated.mock_answers {
        std::fs::write(out_dir.join(MOCK_ANSWERS_FILE), answers)
            .map_err(|e| format!("writing the generated mock answers: {e}"))?;
    }
    Ok(())
}

/// progenitor's settings: positional calls, the transport's hooks, the
/// `x-rust-name` renames, and the open enums and `Kind` in place of
/// typify's closed enums.
fn progenitor_settings(
    spec: &OpenAPI,
    enums: &[open_enums::OpenEnum],
    kind: &kind_enum::KindEnum,
) -> progenitor_impl::GenerationSettings {
    let mut settings = progenitor_impl::GenerationSettings::default();
    settings
        .with_interface(progenitor_impl::InterfaceStyle::Positional)
        .with_tag(progenitor_impl::TagStyle::Merged)
        .with_inner_type(quote! { crate::api::Hooks })
        .with_hooks(progenitor_impl::HooksMode::Expected)
        .with_derive("PartialEq");
    // `x-rust-name` on a component schema renames its Rust type (for names
    // that read badly in Rust, like `Result`).
    for (name, schema) in spec.components.iter().flat_map(|c| &c.schemas) {
        let rename = schema
            .as_item()
            .and_then(|s| s.schema_data.extensions.get("x-rust-name"));
        if let Some(rename) = rename.and_then(|v| v.as_str()) {
            let mut patch = progenitor_impl::TypePatch::default();
            patch.with_rename(rename);
            settings.with_patch(name, &patch);
        }
    }
    for e in enums {
        // typify looks replacements up by its own (sanitized) name.
        settings.with_replacement(
            typify_name(&e.name),
            format!("crate::api::types::{}", e.ident),
            [
                progenitor_impl::TypeImpl::Display,
                progenitor_impl::TypeImpl::FromStr,
                progenitor_impl::TypeImpl::FromStringIrrefutable,
            ]
            .into_iter(),
        );
    }
    if let Some(schema) = &kind.schema {
        settings.with_replacement(
            typify_name(schema),
            KIND_PATH,
            [
                progenitor_impl::TypeImpl::Display,
                progenitor_impl::TypeImpl::FromStr,
            ]
            .into_iter(),
        );
    }
    settings
}

/// Parses spec text (YAML, or JSON which is YAML) as OpenAPI 3.0.
pub fn parse(spec_text: &str) -> Result<OpenAPI, String> {
    let mut value: serde_json::Value =
        serde_yaml_ng::from_str(spec_text).map_err(|e| format!("parsing: {e}"))?;
    // The overlay's evidence levels below `published` go into the docs.
    evidence_into_descriptions(&mut value);
    serde_json::from_value(value).map_err(|e| format!("reading as OpenAPI 3.0: {e}"))
}

/// Generates the crate's code from the spec text (YAML or JSON); with
/// `httpmock`, also the typed httpmock helpers of every operation.
pub fn generate(spec_text: &str, httpmock: bool) -> Result<Generated, String> {
    let spec = parse(spec_text)?;
    preflight(&spec)?;

    // The one `Kind`, which the spec's kind enum (if marked) becomes.
    let kind = kind_enum(&spec)?;
    let enums = open_enums(&spec, kind.schema.as_deref())?;
    let (progenitor_spec, own_ops) = partition(&spec)?;

    let settings = progenitor_settings(&spec, &enums, &kind);
    let tokens = unpanicked(&progenitor_spec, "progenitor", |spec| {
        progenitor_impl::Generator::new(&settings).generate_tokens(spec)
    })?;
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor output does not parse: {e}"))?;
    syn::visit_mut::VisitMut::visit_file_mut(&mut CappedDecode, &mut file);
    syn::visit_mut::VisitMut::visit_file_mut(&mut RequestFix, &mut file);

    // Open enums go into progenitor's `types` module, where typify's would be.
    let content = types_module(&mut file.items)?;
    for e in &enums {
        let item: syn::File = syn::parse2(e.tokens.clone()).map_err(|e| e.to_string())?;
        content.extend(item.items);
    }
    laravel_empty_maps(content);
    php_bools(content)?;
    empty_answers(content);
    verdict_methods(content)?;
    type_summaries(&spec, content);
    ref_field_docs(spec_text, &spec, content)?;
    let registry = conformance_registry(&spec, content, &enums, &kind)?;

    let mut forms = Forms::default();
    let mut methods = Vec::new();
    for op in &own_ops {
        methods.push(own_method(&spec, op, &mut forms, None)?);
    }
    let kinds_code = media_kinds(&spec, &mut forms)?;
    methods.extend(kinds_code.raw_methods);
    let groups = std::mem::take(&mut forms.groups);
    for (group, members) in &groups {
        forms.items.push(options_group(group, members)?);
    }
    let form_items = forms.items;
    let secured = secured_operations(&spec);
    let operations = operation_list(&spec)?;
    let kind_tokens = &kind.tokens;
    let inputs = inputs_table(&spec)?;
    let own: syn::File = syn::parse2(quote! {
        /// The operations whose spec `security` asks for the API key; the
        /// transport sends `X-Api-Key` with these only (not with `health`).
        pub const API_KEY_OPERATIONS: &[&str] = &[#(#secured),*];

        /// Form bodies of the `multipart/form-data` operations, generated by
        /// `identifai-codegen` from the spec's schemas (progenitor does not take
        /// multipart bodies).
        pub mod forms {
            #[allow(unused_imports)]
            use super::types;
            #(#form_items)*
        }

        impl Client {
            #(#methods)*
        }

        #kind_tokens

        #operations

        #inputs

        #registry
    })
    .map_err(|e| format!("generated forms do not parse: {e}"))?;
    file.items.extend(own.items);
    // The conformance tests' dispatcher, read off every generated method.
    let calls: syn::File = syn::parse2(call_dispatcher(&spec, &file.items)?)
        .map_err(|e| format!("the generated dispatcher does not parse: {e}"))?;
    module_items(&mut file.items, "conformance")?.extend(calls.items);

    let api = prettyplease::unparse(&file);
    let unparse = |tokens| -> Result<String, String> {
        let file: syn::File =
            syn::parse2(tokens).map_err(|e| format!("generated kinds do not parse: {e}"))?;
        Ok(prettyplease::unparse(&file))
    };
    let kinds = unparse(kinds_code.kinds)?;
    let kinds_client = unparse(kinds_code.client)?;

    // The typed httpmock helpers, for the `mock` feature only: progenitor's
    // for its operations, `mocks`' for the ones generated here (multipart
    // forms, the heatmap), the undocumented 503 for all.
    let mut mock = None;
    if httpmock {
        let tokens = unpanicked(&progenitor_spec, "progenitor httpmock", |spec| {
            progenitor_impl::Generator::new(&settings).httpmock(spec, "crate::api")
        })?;
        let mut file: syn::File =
            syn::parse2(tokens).map_err(|e| format!("httpmock output does not parse: {e}"))?;
        syn::visit_mut::VisitMut::visit_file_mut(&mut ArrayQueryFix, &mut file);
        extend_httpmock(&spec, &own_ops, &mut file)?;
        mock = Some(prettyplease::unparse(&file));
    }
    // The MockServer's documented answers, for the `mock` feature too.
    let mock_answers = if httpmock {
        Some(mock_answers::mock_answers(spec_text)?)
    } else {
        None
    };
    Ok(Generated {
        api,
        kinds,
        kinds_client,
        httpmock: mock,
        mock_answers,
    })
}

/// The items of progenitor's `types` module among the generated `items`.
pub(crate) fn types_module(items: &mut [syn::Item]) -> Result<&mut Vec<syn::Item>, String> {
    module_items(items, "types")
}

/// The items of the inline module `name` among `items`.
fn module_items<'a>(
    items: &'a mut [syn::Item],
    name: &str,
) -> Result<&'a mut Vec<syn::Item>, String> {
    items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == name => m.content.as_mut(),
            _ => None,
        })
        .map(|(_, items)| items)
        .ok_or_else(|| format!("the generated code has no `{name}` module"))
}

/// Runs a progenitor generation on `spec`, turning a panic (its `todo!`s and
/// asserts on what it cannot take) into an error naming the operation: on a
/// panic, each operation is tried alone to find the one that panics.
fn unpanicked(
    spec: &OpenAPI,
    what: &str,
    run: impl Fn(&OpenAPI) -> Result<TokenStream, progenitor_impl::Error>,
) -> Result<TokenStream, String> {
    let attempt = |spec: &OpenAPI| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(spec)))
            .map_err(|p| panic_text(&*p))
    };
    match attempt(spec) {
        Ok(result) => result.map_err(|e| format!("{what}: {e}")),
        Err(message) => {
            // Find the operation: the spec with that one alone panics too.
            for (path, method, op) in spec.operations() {
                let mut alone = spec.clone();
                for (p, item) in alone.paths.paths.iter_mut() {
                    if let ReferenceOr::Item(item) = item {
                        for m in [
                            "get", "put", "post", "delete", "options", "head", "patch", "trace",
                        ] {
                            if p != path || m != method {
                                clear_method(item, m);
                            }
                        }
                    }
                }
                if let Err(m) = attempt(&alone) {
                    return Err(format!(
                        "{} {path} (operationId {}): {what} cannot generate this operation \
                         ({m}). Change what it rejects with an overlay action in \
                         openapi/overlay.yaml (target $.paths['{path}'].{method}).",
                        method.to_uppercase(),
                        op.operation_id.as_deref().unwrap_or("none"),
                    ));
                }
            }
            Err(format!("{what} cannot generate the spec ({message})"))
        }
    }
}

fn clear_method(item: &mut openapiv3::PathItem, method: &str) {
    let slot = match method {
        "get" => &mut item.get,
        "put" => &mut item.put,
        "post" => &mut item.post,
        "delete" => &mut item.delete,
        "options" => &mut item.options,
        "head" => &mut item.head,
        "patch" => &mut item.patch,
        _ => &mut item.trace,
    };
    *slot = None;
}

/// A panic's message.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    match (
        payload.downcast_ref::<&str>(),
        payload.downcast_ref::<String>(),
    ) {
        (Some(s), _) => s.to_string(),
        (_, Some(s)) => s.clone(),
        _ => "a panic".to_string(),
    }
    .lines()
    .next()
    .unwrap_or_default()
    .to_string()
}

/// operationIds whose effective security requirement (the operation's, else
/// the document's) names at least one scheme.
pub(crate) fn secured_operations(spec: &OpenAPI) -> Vec<String> {
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

/// Helpers of the unit tests: small specs written inline.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A spec from YAML text; panics (the test fails) if it does not parse.
    pub(crate) fn spec(yaml: &str) -> OpenAPI {
        parse(yaml).expect("test spec parses")
    }

    /// `items` as Rust source text, as the generator writes it.
    pub(crate) fn unparse(items: Vec<syn::Item>) -> String {
        prettyplease::unparse(&syn::File {
            shebang: None,
            attrs: vec![],
            items,
        })
    }

    /// The repository's spec, the generator's real input.
    pub(crate) fn repo_spec_text() -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/identifai.yaml");
        std::fs::read_to_string(&path).expect("openapi/identifai.yaml beside xtask/")
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn the_repo_spec_generates_code_that_parses() {
        let generated = generate(&repo_spec_text(), true).unwrap();
        let api: syn::File = syn::parse_str(&generated.api).unwrap();
        let top: Vec<String> = api
            .items
            .iter()
            .filter_map(|i| match i {
                syn::Item::Mod(m) => Some(m.ident.to_string()),
                syn::Item::Struct(s) => Some(s.ident.to_string()),
                _ => None,
            })
            .collect();
        for expected in ["types", "forms", "conformance", "Client"] {
            assert!(top.contains(&expected.to_string()), "{expected} in {top:?}");
        }
        // The generated module names nothing of the crate outside `api`;
        // the per-kind layer code is a file of its own.
        let outside: Vec<&str> = generated
            .api
            .match_indices("crate::")
            .map(|(i, _)| &generated.api[i..(i + 24).min(generated.api.len())])
            .filter(|s| !s.starts_with("crate::api::"))
            .collect();
        assert!(outside.is_empty(), "{outside:?}");
        // The one `Kind` is at the bottom (`api::kind`); its per-kind
        // methods are in the layer's file.
        assert!(generated.api.contains("pub enum Kind {"));
        let kinds: syn::File = syn::parse_str(&generated.kinds).unwrap();
        assert!(kinds
            .items
            .iter()
            .any(|i| matches!(i, syn::Item::Impl(b) if quote::ToTokens::to_token_stream(&b.self_ty).to_string() == "Kind")));
        // The capped reader replaces progenitor-client's whole-body read.
        assert!(!generated.api.contains("ResponseValue::from_response"));
        assert!(!generated.api.contains("ResponseValue::stream"));
        assert!(generated.api.contains("crate::api::body::from_response"));
        syn::parse_str::<syn::File>(&generated.httpmock.unwrap()).unwrap();
    }

    #[test]
    fn forms_that_differ_share_the_union_of_their_options() {
        // The repo spec: an audio upload takes `prevent_c2pa_forces`, an
        // audio URL does not; the one AudioOptions has it, and the URL
        // form names it as not taken.
        let api = generate(&repo_spec_text(), false).unwrap().api;
        let options = &api[api.find("pub struct AudioOptions").unwrap()..];
        let options = &options[..options.find('}').unwrap()];
        assert!(options.contains("pub prevent_c2pa_forces"), "{options}");
        let url = &api[api.find("impl ClassifyAudioFromUrlForm {").unwrap()..];
        let not_taken = &url[url.find("fn options_not_taken").unwrap()..];
        let not_taken = &not_taken[..not_taken.find("out\n").unwrap_or(not_taken.len().min(400))];
        assert!(not_taken.contains("\"prevent_c2pa_forces\""), "{not_taken}");
    }

    #[test]
    fn a_required_nullable_form_field_is_an_option_sent_empty() {
        let api = generate(&repo_spec_text(), false).unwrap().api;
        let form = &api[api.find("pub struct SavePartnerUserForm").unwrap()..];
        assert!(form.contains("pub id: Option<i64>"), "{}", &form[..600]);
        assert!(
            form.contains("form = form.text(\"id\", \"\")"),
            "None is sent empty"
        );
    }

    #[test]
    fn an_operation_answering_json_or_nothing_answers_an_option() {
        let api = generate(&repo_spec_text(), false).unwrap().api;
        let sig = &api[api
            .find("pub async fn override_image_classification")
            .unwrap()..];
        let sig = &sig[..sig.find('{').unwrap()];
        assert!(
            sig.contains("ResponseValue<Option<types::OverrideResponse>>"),
            "{sig}"
        );
    }

    #[test]
    fn no_httpmock_unless_asked() {
        assert!(generate(&repo_spec_text(), false)
            .unwrap()
            .httpmock
            .is_none());
    }

    #[test]
    fn a_spec_that_is_not_openapi_is_an_error_not_a_panic() {
        assert!(parse("openapi: [").unwrap_err().starts_with("parsing"));
        assert!(parse("just: text").unwrap_err().contains("OpenAPI"));
    }

    #[test]
    fn a_generator_panic_is_an_error_naming_the_operation() {
        let s = spec(
            r#"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a: {get: {operationId: a, responses: {"200": {description: ok}}}}
  /b/{id}: {post: {operationId: b, responses: {"200": {description: ok}}}}
"#,
        );
        let e = unpanicked(&s, "progenitor", |spec| {
            let has_b = spec
                .operations()
                .any(|(_, _, o)| o.operation_id.as_deref() == Some("b"));
            assert!(!has_b, "not yet implemented: something about b");
            Ok(TokenStream::new())
        })
        .unwrap_err();
        assert!(
            e.starts_with("POST /b/{id} (operationId b): progenitor cannot generate"),
            "{e}"
        );
        assert!(
            e.contains("something about b") && e.contains("openapi/overlay.yaml"),
            "{e}"
        );
        assert!(unpanicked(&s, "progenitor", |_| Ok(TokenStream::new())).is_ok());
    }

    #[test]
    fn secured_operations_follow_the_operation_else_the_document() {
        let s = spec(
            r#"
openapi: 3.0.3
info: {title: t, version: "1"}
security: [{key: []}]
paths:
  /a: {get: {operationId: a, responses: {"200": {description: ok}}}}
  /b: {get: {operationId: b, security: [], responses: {"200": {description: ok}}}}
  /c: {get: {operationId: c, security: [{}], responses: {"200": {description: ok}}}}
"#,
        );
        assert_eq!(secured_operations(&s), vec!["a".to_string()]);
    }
}
