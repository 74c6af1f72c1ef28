//! Doc summaries for the generated types the spec says nothing about.
//!
//! typify documents a type by its schema's `description` (or `title`); a
//! schema without either gets only its own name as a summary. This pass
//! gives every such struct of `types` a summary read from the spec: a
//! component schema says so and names the operations that use it; an inline
//! schema names the field of the type it lives in.

#[allow(unused_imports)]
use crate::prelude::*;

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
    // Type name -> the first (struct, field, is an item of a list) holding it.
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
                        words.contains(&"Vec"),
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
        (Some((schema, users)), _) => {
            let mut out = format!("The `{schema}` schema of `openapi/identifai.yaml`");
            if !users.is_empty() {
                let users: Vec<String> = users.iter().map(|u| format!("`{u}`")).collect();
                out.push_str(&format!(", used by {}", users.join(", ")));
            } else if let Some((parent, field, _)) = parent {
                out.push_str(&format!(", the `{field}` of [`{parent}`]"));
            }
            out.push('.');
            out
        }
        (None, Some((parent, field, true))) => {
            format!("An item of `{field}` in [`{parent}`] (an inline schema of `openapi/identifai.yaml`).")
        }
        (None, Some((parent, field, false))) => {
            format!("The `{field}` of [`{parent}`] (an inline schema of `openapi/identifai.yaml`).")
        }
        (None, None) => format!("`{name}`, a schema of `openapi/identifai.yaml`."),
    }
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
        assert!(
            text.contains("The `A` schema of `openapi/identifai.yaml`, used by `get_a`."),
            "{text}"
        );
        assert!(text.contains("An item of `items` in [`A`]"), "{text}");
        assert!(text.contains("The `inner` of [`A`]"), "{text}");
        assert!(text.contains("Said by the spec"), "{text}");
        assert!(!text.contains("///`AInner`"), "{text}");
    }
}
