//! The overlay's evidence levels in the generated docs.
//!
//! `cargo xtask spec` writes `x-evidence: {level, reason}` (and
//! `x-evidence-required` for a `required` list) on the spec's elements. Before
//! anything is generated, [`evidence_into_descriptions`] appends a sentence
//! to the `description` of every element below `published`, so the doc
//! comment of its generated item (a type, a field, a form option, an
//! operation's parameter) says it: "Not on any published page: ..." or
//! "By analogy with ...". A bare `$ref` is left alone (a sibling
//! `description` would make it a different schema).

use serde_json::Value;

/// Appends the evidence sentence of every element below `published` to its
/// `description` (see the module docs).
pub(crate) fn evidence_into_descriptions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if !map.contains_key("$ref") {
                let mut sentences = Vec::new();
                for key in ["x-evidence", "x-evidence-required"] {
                    if let Some(s) = map.get(key).and_then(|ev| sentence(ev, key)) {
                        sentences.push(s);
                    }
                }
                if !sentences.is_empty() {
                    let old = map
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .trim_end()
                        .to_owned();
                    let mut text = old;
                    for s in sentences {
                        if !text.is_empty() {
                            text.push_str("\n\n");
                        }
                        text.push_str(&s);
                    }
                    map.insert("description".into(), Value::String(text));
                }
            }
            for v in map.values_mut() {
                evidence_into_descriptions(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(evidence_into_descriptions),
        _ => {}
    }
}

/// The sentence for one `x-evidence` value; `None` for `published`.
fn sentence(ev: &Value, key: &str) -> Option<String> {
    let level = ev.get("level").and_then(Value::as_str)?;
    let reason = ev
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    let reason = reason.trim_end_matches('.');
    let reason = &linked(reason);
    let required = key == "x-evidence-required";
    match (level, required) {
        ("none", false) => Some(format!("Not on any published page: {reason}.")),
        ("none", true) => Some(format!(
            "Not on any published page: which of its fields are required ({reason})."
        )),
        ("analogy", false) => Some(match reason.strip_prefix("by analogy with ") {
            Some(rest) => format!("By analogy with {rest}."),
            None => format!("Not on any published page; taken by analogy: {reason}."),
        }),
        ("analogy", true) => Some(format!(
            "By analogy with a sibling page: which of its fields are required ({reason})."
        )),
        _ => None,
    }
}

/// `text` with each bare `https://` URL in angle brackets, so that rustdoc
/// links it (and does not warn of a bare URL).
fn linked(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(at) = rest.find("https://") {
        let (before, url) = rest.split_at(at);
        out.push_str(before);
        let end = url
            .find(|c: char| c.is_whitespace() || "\"'()<>[],;".contains(c))
            .unwrap_or(url.len());
        // A sentence's `.` or `:` after the URL is not part of it.
        let end = url[..end].trim_end_matches(['.', ':']).len();
        if before.ends_with('<') {
            out.push_str(&url[..end]);
        } else {
            out.push('<');
            out.push_str(&url[..end]);
            out.push('>');
        }
        rest = &url[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_in_a_reason_are_linked() {
        assert_eq!(
            linked("see https://a.b/c: \"x\" and (https://d.e/f.md), <https://g.h>"),
            "see <https://a.b/c>: \"x\" and (<https://d.e/f.md>), <https://g.h>"
        );
    }

    #[test]
    fn levels_below_published_reach_the_description() {
        let mut doc = json!({
            "a": {"description": "A field.", "x-evidence": {"level": "none", "reason": "no page shows it"}},
            "b": {"x-evidence": {"level": "analogy", "reason": "by analogy with POST /x, whose page lists it"}},
            "c": {"description": "Kept.", "x-evidence": {"level": "published", "reason": "https://p"}},
            "d": {"$ref": "#/x", "x-evidence": {"level": "none", "reason": "r"}},
            "e": {"x-evidence-required": {"level": "none", "reason": "the list is ours"}}
        });
        evidence_into_descriptions(&mut doc);
        assert_eq!(
            doc["a"]["description"],
            "A field.\n\nNot on any published page: no page shows it."
        );
        assert_eq!(
            doc["b"]["description"],
            "By analogy with POST /x, whose page lists it."
        );
        assert_eq!(doc["c"]["description"], "Kept.");
        assert!(doc["d"].get("description").is_none());
        assert_eq!(
            doc["e"]["description"],
            "Not on any published page: which of its fields are required (the list is ours)."
        );
    }

    #[test]
    fn the_generated_docs_say_it() {
        let text = crate::test_support::repo_spec_text();
        let code = crate::generate(&text, false).expect("the repo spec generates");
        assert!(
            code.api.contains("Not on any published page: no capture of the video result page shows a top-level c2pa"),
            "VideoResponse.c2pa's doc"
        );
        assert!(
            code.api
                .contains("By analogy with POST /api/classification_video"),
            "video by URL's copied options"
        );
    }
}
