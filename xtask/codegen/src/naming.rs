//! Rust names from spec names.

use openapiv3::{OpenAPI, Schema};
use quote::format_ident;

use crate::resolve::ref_name;

pub(crate) fn pascal(s: &str) -> String {
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

pub(crate) fn snake(s: &str) -> String {
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

/// The Rust type of component schema `name`: its `x-rust-name`, else the name
/// typify gives it ([`typify_name`]).
pub(crate) fn rust_type_name(name: &str, schema: &Schema) -> String {
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

/// The Rust type (in `types`) of the component schema `reference` names
/// (`#/components/schemas/X`); `op_id` is the operation the error names.
pub(crate) fn component_type(
    spec: &OpenAPI,
    reference: &str,
    op_id: &str,
) -> Result<syn::Ident, String> {
    let name = ref_name(reference);
    let schema = spec
        .components
        .as_ref()
        .and_then(|c| c.schemas.get(name))
        .and_then(|s| s.as_item())
        .ok_or_else(|| format!("{op_id}: unresolved {reference}"))?;
    Ok(format_ident!("{}", rust_type_name(name, schema)))
}

/// typify 0.8's `sanitize(name, Case::Pascal)`: heck's PascalCase, with `'`
/// dropped and other characters that cannot continue an identifier made word
/// breaks; `X` in front if the result cannot start one, `_` after a keyword.
/// (`C2PA` -> `C2pa`.) The registry checks the result against the generated
/// code, so a typify that names differently fails the build here.
pub(crate) fn typify_name(name: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pascal_and_snake() {
        assert_eq!(pascal("image-result"), "ImageResult");
        assert_eq!(pascal("force_classification"), "ForceClassification");
        assert_eq!(pascal("3d"), "V3d");
        assert_eq!(snake("ImageResult"), "image_result");
        assert_eq!(snake("a-b"), "a_b");
    }

    /// The names typify itself gives: the re-implementation is checked
    /// against the library, not only by a failed build.
    #[test]
    fn typify_name_is_typifys_name() {
        let names = [
            "C2PA",
            "image-result",
            "Result",
            "2fa",
            "type",
            "it's",
            "a.b c",
        ];
        let mut space = typify::TypeSpace::default();
        let defs = names.iter().map(|n| {
            let schema: schemars::schema::Schema = serde_json::from_value(
                serde_json::json!({"type": "object", "properties": {"x": {"type": "string"}}}),
            )
            .unwrap();
            (n.to_string(), schema)
        });
        space.add_ref_types(defs).unwrap();
        let mut theirs: Vec<String> = space
            .iter_types()
            .map(|t| t.name())
            .filter(|n| !n.starts_with("::"))
            .collect();
        let mut ours: Vec<String> = names.iter().map(|n| typify_name(n)).collect();
        theirs.sort();
        ours.sort();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn x_rust_name_wins() {
        let schema: Schema = serde_json::from_value(serde_json::json!({
            "type": "object", "x-rust-name": "ImageResult"
        }))
        .unwrap();
        assert_eq!(rust_type_name("Result", &schema), "ImageResult");
        let plain: Schema = serde_json::from_value(serde_json::json!({"type": "object"})).unwrap();
        assert_eq!(rust_type_name("C2PA", &plain), "C2pa");
    }
}
