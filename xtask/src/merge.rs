//! Merging the per-operation OpenAPI fragments into one document.
//!
//! Each published API page embeds a complete OpenAPI 3.0 document holding a
//! single operation and the components it uses. They are merged as follows
//! (inputs in sorted file-name order):
//!
//! * `openapi`, `info`, `servers`, `security`: taken from the first file;
//! * `tags`: union by `name`, in order of first appearance;
//! * `paths.<path>.<key>` (operations and path-level fields): union;
//! * `components.<section>.<name>`: union;
//! * any other top-level key: union by key.
//!
//! In every union an identical duplicate is fine, while a differing one is an
//! error naming both files.

use std::collections::HashMap;

use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};

/// Keys taken verbatim from the first file.
const FROM_FIRST: [&str; 4] = ["openapi", "info", "servers", "security"];

/// Which file first defined each merged entry (`paths./a.get` -> file), for error messages.
type Origins = HashMap<String, String>;

/// Merges `(file name, document)` pairs into one OpenAPI document.
pub fn merge(files: &[(String, Value)]) -> Result<Value> {
    let Some((_, first)) = files.first() else {
        bail!("no upstream OpenAPI files to merge");
    };
    let mut out = Map::new();
    for key in FROM_FIRST {
        if let Some(v) = first.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    let mut tags: Vec<Value> = Vec::new();
    let mut paths = Map::new();
    let mut components = Map::new();
    let mut origins = Origins::new();

    for (file, doc) in files {
        let doc = doc
            .as_object()
            .ok_or_else(|| anyhow!("{file}: top level is not a mapping"))?;
        for (key, value) in doc {
            match key.as_str() {
                k if FROM_FIRST.contains(&k) => {}
                "tags" => {
                    for tag in as_array(value, file, "tags")? {
                        let name = tag
                            .get("name")
                            .and_then(Value::as_str)
                            .ok_or_else(|| anyhow!("{file}: a tag has no string `name`"))?;
                        let id = format!("tags[name={name}]");
                        match tags.iter().find(|t| t.get("name") == tag.get("name")) {
                            None => {
                                origins.insert(id, file.clone());
                                tags.push(tag.clone());
                            }
                            Some(old) if old == tag => {}
                            Some(_) => conflict(&origins, &id, file)?,
                        }
                    }
                }
                "paths" => {
                    for (path, item) in as_object(value, file, "paths")? {
                        let item = as_object(item, file, &format!("paths.{path}"))?;
                        let slot = paths
                            .entry(path.clone())
                            .or_insert_with(|| Value::Object(Map::new()))
                            .as_object_mut()
                            .ok_or_else(|| anyhow!("paths.{path} is not a mapping"))?;
                        union_into(slot, item, &format!("paths.{path}"), file, &mut origins)?;
                    }
                }
                "components" => {
                    for (section, entries) in as_object(value, file, "components")? {
                        let entries = as_object(entries, file, &format!("components.{section}"))?;
                        let slot = components
                            .entry(section.clone())
                            .or_insert_with(|| Value::Object(Map::new()))
                            .as_object_mut()
                            .ok_or_else(|| anyhow!("components.{section} is not a mapping"))?;
                        union_into(
                            slot,
                            entries,
                            &format!("components.{section}"),
                            file,
                            &mut origins,
                        )?;
                    }
                }
                _ => {
                    let single = Map::from_iter([(key.clone(), value.clone())]);
                    union_into(&mut out, &single, "", file, &mut origins)?;
                }
            }
        }
    }
    // Conventional key order: header, tags, paths, components, then the rest.
    let rest = std::mem::take(&mut out);
    for key in FROM_FIRST {
        if let Some(v) = rest.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    if !tags.is_empty() {
        out.insert("tags".into(), Value::Array(tags));
    }
    out.insert("paths".into(), Value::Object(paths));
    if !components.is_empty() {
        out.insert("components".into(), Value::Object(components));
    }
    for (k, v) in rest {
        if !FROM_FIRST.contains(&k.as_str()) {
            out.insert(k, v);
        }
    }
    Ok(Value::Object(out))
}

/// Adds each `(name, value)` of `from` to `into`; identical duplicates are fine.
fn union_into(
    into: &mut Map<String, Value>,
    from: &Map<String, Value>,
    prefix: &str,
    file: &str,
    origins: &mut Origins,
) -> Result<()> {
    for (name, value) in from {
        let id = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match into.get(name) {
            None => {
                origins.insert(id, file.to_owned());
                into.insert(name.clone(), value.clone());
            }
            Some(old) if old == value => {}
            Some(_) => conflict(origins, &id, file)?,
        }
    }
    Ok(())
}

fn conflict(origins: &Origins, id: &str, file: &str) -> Result<()> {
    bail!(
        "`{id}` is defined differently in {} and {file}; fix upstream or vendor again",
        origins.get(id).map_or("?", String::as_str)
    )
}

fn as_object<'a>(v: &'a Value, file: &str, what: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| anyhow!("{file}: `{what}` is not a mapping"))
}

fn as_array<'a>(v: &'a Value, file: &str, what: &str) -> Result<&'a Vec<Value>> {
    v.as_array()
        .ok_or_else(|| anyhow!("{file}: `{what}` is not a sequence"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn files(docs: Vec<Value>) -> Vec<(String, Value)> {
        docs.into_iter()
            .enumerate()
            .map(|(i, d)| (format!("f{i}.yaml"), d))
            .collect()
    }

    #[test]
    fn unions_tags_paths_and_components() {
        let a = json!({
            "openapi": "3.0.0", "info": {"title": "A"}, "servers": [], "security": [],
            "tags": [{"name": "X"}, {"name": "Y"}],
            "paths": {"/a": {"get": {"o": 1}}},
            "components": {"schemas": {"S": {"type": "string"}}}
        });
        let b = json!({
            "openapi": "3.0.1", "info": {"title": "B"},
            "tags": [{"name": "Z"}, {"name": "X"}],
            "paths": {"/a": {"post": {"o": 2}}, "/b": {"get": {}}},
            "components": {"schemas": {"S": {"type": "string"}, "T": {}},
                           "securitySchemes": {"k": {}}}
        });
        let out = merge(&files(vec![a, b])).unwrap();
        assert_eq!(
            out,
            json!({
                "openapi": "3.0.0", "info": {"title": "A"}, "servers": [], "security": [],
                "tags": [{"name": "X"}, {"name": "Y"}, {"name": "Z"}],
                "paths": {"/a": {"get": {"o": 1}, "post": {"o": 2}}, "/b": {"get": {}}},
                "components": {"schemas": {"S": {"type": "string"}, "T": {}},
                               "securitySchemes": {"k": {}}}
            })
        );
    }

    #[test]
    fn conflicting_duplicates_name_both_files() {
        let a = json!({"paths": {}, "components": {"schemas": {"S": {"type": "string"}}}});
        let b = json!({"paths": {}, "components": {"schemas": {"S": {"type": "integer"}}}});
        let e = merge(&files(vec![a, b])).unwrap_err().to_string();
        assert!(
            e.contains("components.schemas.S") && e.contains("f0.yaml") && e.contains("f1.yaml"),
            "{e}"
        );

        let a = json!({"paths": {"/a": {"get": {"x": 1}}}});
        let b = json!({"paths": {"/a": {"get": {"x": 2}}}});
        let e = merge(&files(vec![a, b])).unwrap_err().to_string();
        assert!(
            e.contains("paths./a.get") && e.contains("f0.yaml and f1.yaml"),
            "{e}"
        );

        let a = json!({"tags": [{"name": "T", "description": "1"}], "paths": {}});
        let b = json!({"tags": [{"name": "T", "description": "2"}], "paths": {}});
        let e = merge(&files(vec![a, b])).unwrap_err().to_string();
        assert!(e.contains("tags[name=T]"), "{e}");
    }
}
