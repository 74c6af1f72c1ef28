//! Doc comments the generated types would otherwise lack.
//!
//! typify documents a type by its schema's `description` (or `title`); a
//! schema without either gets only its own name as a summary. This pass
//! gives every such struct of `types` a summary saying where it appears
//! (the field of the type that holds it, or the operations that use it).
//!
//! It also documents the fields whose property is a `$ref` with a
//! `description` beside it ([`ref_field_docs`]): OpenAPI 3.0 ignores a
//! `$ref`'s siblings, so typify leaves such a field bare, yet the description
//! is what the spec says of that field.

use openapiv3::{OpenAPI, ReferenceOr};
use quote::ToTokens;
use std::collections::BTreeMap;

use crate::naming::rust_type_name;

/// Replaces the bare-name summary (`` `Name` ``) of every struct in `items`
/// with one made from the spec (see the module docs).
pub(crate) fn type_summaries(spec: &OpenAPI, items: &mut [syn::Item]) {
    // Rust name -> (schema name, operations whose answers or bodies use it).
    let mut components: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for (name, schema) in spec.components.iter().flat_map(|c| &c.schemas) {
        let ReferenceOr::Item(schema) = schema else {
            continue;
        };
        let reference = format!("\"#/components/schemas/{name}\"");
        let users = spec
            .operations()
            .filter(|(_, _, op)| {
                serde_json::to_string(op).is_ok_and(|text| text.contains(&reference))
            })
            .filter_map(|(_, _, op)| op.operation_id.clone())
            .collect();
        components.insert(rust_type_name(name, schema), (name.clone(), users));
    }
    // Type name -> the first (struct, field, is an item of a list or map) holding it.
    let mut parents: BTreeMap<String, (String, String, bool)> = BTreeMap::new();
    for item in items.iter() {
        let syn::Item::Struct(s) = item else { continue };
        for field in &s.fields {
            let Some(ident) = &field.ident else { continue };
            let ty = field.ty.to_token_stream().to_string();
            let words: Vec<&str> = ty
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .collect();
            for word in &words {
                if word.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
                    parents.entry(word.to_string()).or_insert((
                        s.ident.to_string(),
                        ident.to_string().trim_start_matches("r#").to_string(),
                        words.iter().any(|w| *w == "Vec" || w.ends_with("Map")),
                    ));
                }
            }
        }
    }
    for item in items.iter_mut() {
        let syn::Item::Struct(s) = item else { continue };
        let name = s.ident.to_string();
        let bare = format!("`{name}`");
        let Some(first) = s.attrs.iter_mut().find(|a| a.path().is_ident("doc")) else {
            continue;
        };
        let syn::Meta::NameValue(nv) = &mut first.meta else {
            continue;
        };
        let is_bare = matches!(&nv.value,
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(l), .. }) if l.value().trim() == bare);
        if !is_bare {
            continue;
        }
        let summary = summary(&name, components.get(&name), parents.get(&name));
        nv.value = syn::parse_quote!(#summary);
    }
}

fn summary(
    name: &str,
    component: Option<&(String, Vec<String>)>,
    parent: Option<&(String, String, bool)>,
) -> String {
    match (component, parent) {
        (_, Some((parent, field, true))) => format!("An item of [`{parent}::{field}`]."),
        (_, Some((parent, field, false))) => format!("The value of [`{parent}::{field}`]."),
        (Some((_, users)), None) if !users.is_empty() => {
            let users: Vec<String> = users.iter().map(|u| format!("`{u}`")).collect();
            format!("Sent or answered by {}.", users.join(", "))
        }
        _ => format!("`{name}`."),
    }
}

/// Documents, in `items`, every field whose property in a component schema
/// of `spec_text` is a `$ref` with a `description` beside it and that has no
/// doc of its own (see the module docs). The field's type is left alone.
pub(crate) fn ref_field_docs(
    spec_text: &str,
    spec: &OpenAPI,
    items: &mut [syn::Item],
) -> Result<(), String> {
    let value: serde_json::Value =
        serde_yaml_ng::from_str(spec_text).map_err(|e| format!("parsing: {e}"))?;
    // (Rust type name, JSON property name) -> the description beside its $ref.
    let mut docs: BTreeMap<(String, String), String> = BTreeMap::new();
    let schemas = value
        .pointer("/components/schemas")
        .and_then(serde_json::Value::as_object);
    for (name, raw) in schemas.into_iter().flatten() {
        let parsed = spec.components.as_ref().and_then(|c| c.schemas.get(name));
        let Some(ReferenceOr::Item(parsed)) = parsed else {
            continue;
        };
        let properties = raw.get("properties").and_then(serde_json::Value::as_object);
        for (property, p) in properties.into_iter().flatten() {
            let text = p.get("description").and_then(serde_json::Value::as_str);
            if let (Some(_), Some(text)) = (p.get("$ref"), text) {
                let key = (rust_type_name(name, parsed), property.clone());
                docs.insert(key, text.trim().to_owned());
            }
        }
    }
    for item in items.iter_mut() {
        let syn::Item::Struct(s) = item else { continue };
        let type_name = s.ident.to_string();
        for field in s.fields.iter_mut() {
            let Some(ident) = &field.ident else { continue };
            if field.attrs.iter().any(|a| a.path().is_ident("doc")) {
                continue;
            }
            let json = serde_rename(&field.attrs)
                .unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_owned());
            if let Some(text) = docs.get(&(type_name.clone(), json)) {
                field.attrs.insert(0, syn::parse_quote!(#[doc = #text]));
            }
        }
    }
    Ok(())
}

/// The name in `#[serde(rename = "...")]` among `attrs`, if any.
fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                found = Some(lit.value());
            } else if meta.input.peek(syn::Token![=]) {
                // Skip the value of any other `key = value`.
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_summaries_are_replaced_from_the_spec() {
        let spec = crate::test_support::spec(
            r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a:
    get:
      operationId: get_a
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/A"}}}
components:
  schemas:
    A: {type: object, properties: {x: {type: string}}}
"##,
        );
        let mut file: syn::File = syn::parse_quote! {
            ///`A`
            pub struct A { pub items: Vec<AItemsItem>, pub inner: Option<AInner> }
            ///`AItemsItem`
            pub struct AItemsItem {}
            ///`AInner`
            pub struct AInner {}
            ///Said by the spec
            pub struct B {}
        };
        type_summaries(&spec, &mut file.items);
        let text = prettyplease::unparse(&file);
        assert!(text.contains("Sent or answered by `get_a`."), "{text}");
        assert!(text.contains("An item of [`A::items`]."), "{text}");
        assert!(text.contains("The value of [`A::inner`]."), "{text}");
        assert!(!text.contains("openapi/identifai.yaml"), "{text}");
        assert!(text.contains("Said by the spec"), "{text}");
        assert!(!text.contains("///`AInner`"), "{text}");
    }

    #[test]
    fn a_description_beside_a_ref_documents_its_field() {
        let text = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    S: {type: string, enum: [a, b]}
    A:
      type: object
      properties:
        state: {$ref: "#/components/schemas/S", description: What state it is in}
        otherState: {$ref: "#/components/schemas/S", description: The other one}
        bare: {$ref: "#/components/schemas/S"}
        own: {$ref: "#/components/schemas/S", description: Not this}
"##;
        let spec = crate::test_support::spec(text);
        let mut file: syn::File = syn::parse_quote! {
            pub struct A {
                pub state: Option<S>,
                #[serde(default, rename = "otherState")]
                pub other_state: Option<S>,
                pub bare: Option<S>,
                ///Its own
                pub own: Option<S>,
            }
        };
        ref_field_docs(text, &spec, &mut file.items).unwrap();
        let text = prettyplease::unparse(&file);
        assert!(
            text.contains("///What state it is in\n    pub state: Option<S>"),
            "{text}"
        );
        assert!(text.contains("///The other one\n"), "{text}");
        assert!(!text.contains("Not this"), "{text}");
        assert_eq!(text.matches("///").count(), 3, "{text}");
    }

    /// The repository's spec, generated: `ImageResponse`'s `status` and
    /// `verdict` carry the descriptions beside their `$ref`s, and keep their
    /// types.
    #[test]
    fn the_repo_spec_documents_image_response_status_and_verdict() {
        let generated = crate::generate(&crate::test_support::repo_spec_text(), false).unwrap();
        let mut file: syn::File = syn::parse_str(&generated.api).unwrap();
        let types = crate::types_module(&mut file.items).unwrap();
        let image = types
            .iter()
            .find_map(|i| match i {
                syn::Item::Struct(s) if s.ident == "ImageResponse" => Some(s),
                _ => None,
            })
            .unwrap();
        for (name, ty) in [("status", "Status"), ("verdict", "Verdict")] {
            let field = image
                .fields
                .iter()
                .find(|f| f.ident.as_ref().is_some_and(|i| i == name))
                .unwrap();
            assert!(
                field.attrs.iter().any(|a| a.path().is_ident("doc")),
                "ImageResponse.{name} has no doc"
            );
            let shown = field.ty.to_token_stream().to_string().replace(' ', "");
            assert!(shown.ends_with(&format!("{ty}>")), "{name}: {shown}");
        }
    }
}
