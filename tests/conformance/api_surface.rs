//! The public surface of the generated client, as an insta snapshot: every
//! operation's signature and every generated type's name. A spec change
//! shows up here as a reviewable snapshot diff (`cargo insta review`).

use quote::ToTokens;

const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/identifai_api.rs"));
/// The per-kind layer code (`identifai::Kind`, ...), generated beside it.
const KINDS: &str = include_str!(concat!(env!("OUT_DIR"), "/identifai_kinds.rs"));
/// Its other half, the per-kind `Client` methods and `AnyClassify`.
const KINDS_CLIENT: &str = include_str!(concat!(env!("OUT_DIR"), "/identifai_kinds_client.rs"));

fn surface() -> String {
    let file = syn::parse_file(GENERATED).expect("generated code parses");
    let mut out = Vec::new();
    let walk = |prefix: &str, items: &[syn::Item], out: &mut Vec<String>| {
        for item in items {
            match item {
                syn::Item::Struct(s) if matches!(s.vis, syn::Visibility::Public(_)) => {
                    out.push(format!("struct {prefix}{}", s.ident))
                }
                syn::Item::Enum(e) if matches!(e.vis, syn::Visibility::Public(_)) => {
                    let variants: Vec<String> =
                        e.variants.iter().map(|v| v.ident.to_string()).collect();
                    out.push(format!(
                        "enum {prefix}{} {{ {} }}",
                        e.ident,
                        variants.join(", ")
                    ))
                }
                syn::Item::Const(c) if matches!(c.vis, syn::Visibility::Public(_)) => {
                    out.push(format!("const {prefix}{}", c.ident))
                }
                syn::Item::Impl(i) if i.trait_.is_none() => {
                    let self_ty = i.self_ty.to_token_stream().to_string();
                    for it in &i.items {
                        if let syn::ImplItem::Fn(f) = it {
                            if matches!(f.vis, syn::Visibility::Public(_)) && self_ty == "Client" {
                                let sig = f.sig.to_token_stream().to_string();
                                out.push(format!("fn Client::{}", squash(&sig)));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    };
    walk("", &file.items, &mut out);
    for item in &file.items {
        if let syn::Item::Mod(m) = item {
            if let Some((_, items)) = &m.content {
                let prefix = format!("{}::", m.ident);
                walk(&prefix, items, &mut out);
            }
        }
    }
    let kinds = syn::parse_file(KINDS).expect("generated kinds parse");
    walk("kinds::", &kinds.items, &mut out);
    let kinds_client = syn::parse_file(KINDS_CLIENT).expect("generated client methods parse");
    walk("kinds::", &kinds_client.items, &mut out);
    out.sort();
    out.join("\n")
}

/// Token streams print with spaces everywhere; keep it readable.
fn squash(s: &str) -> String {
    s.replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" < ", "<")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace("& '", "&'")
        .replace("& ", "&")
        .replace(" :", ":")
}

#[test]
fn generated_public_api() {
    insta::assert_snapshot!(surface());
}

#[test]
fn every_spec_operation_is_a_client_method() {
    // The operations of the spec under test are the generated list's
    // (`api::OPERATIONS`), and each is a method of the generated client.
    let spec = crate::support::spec::doc();
    let surface = surface();
    let mut in_spec: Vec<&str> = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op.get("operationId").and_then(|v| v.as_str()))
        .collect();
    in_spec.sort_unstable();
    let generated: Vec<&str> = identifai::api::OPERATIONS
        .iter()
        .map(|op| op.name)
        .collect();
    assert_eq!(
        in_spec, generated,
        "the generated operation list is the spec's"
    );
    for id in generated {
        assert!(
            surface.contains(&format!("fn Client::async fn {id}<")),
            "{id} is not a method"
        );
    }
}

#[test]
fn every_kind_and_role_names_one_operation() {
    // `x-identifai: {kind, role}` drives the per-kind code: exactly a kind
    // and a role, the role one the generator knows, and no two operations
    // share a (kind, role). Which roles a kind has is the spec's to say.
    let spec = crate::support::spec::doc();
    let mut seen = std::collections::BTreeMap::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (_, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            let Some(ext) = op.get("x-identifai") else {
                continue;
            };
            assert!(
                !id.ends_with("_alias"),
                "{id} ({path}): an alias path has no x-identifai (its original has)"
            );
            let kind = ext["kind"].as_str().unwrap_or_else(|| panic!("{id}: kind"));
            let role = ext["role"].as_str().unwrap_or_else(|| panic!("{id}: role"));
            assert!(
                [
                    "submit",
                    "submit_url",
                    "result",
                    "list",
                    "override",
                    "heatmap"
                ]
                .contains(&role),
                "{id}: role {role}"
            );
            assert_eq!(
                ext.as_object().unwrap().len(),
                2,
                "{id}: only kind and role"
            );
            if let Some(other) = seen.insert((kind.to_string(), role.to_string()), id.to_string()) {
                panic!("{id} and {other} are both ({kind}, {role})");
            }
        }
    }
    // The generated list carries the same kinds and roles.
    for op in identifai::api::OPERATIONS {
        if let (Some(kind), Some(role)) = (op.kind, op.role) {
            assert_eq!(
                seen.get(&(kind.to_string(), role.to_string()))
                    .map(String::as_str),
                Some(op.name),
                "{}",
                op.name
            );
        }
    }
    assert!(
        !seen.is_empty(),
        "no operation names its kind: is this the spec?"
    );
}
