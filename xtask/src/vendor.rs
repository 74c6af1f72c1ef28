//! Extracting the OpenAPI fragments from the published API reference pages.
//!
//! Each page (`<seeds>/0*.txt`) contains one block
//!
//! `````text
//! ````yaml <method> <path>
//! ...OpenAPI document...
//! ````
//! `````
//!
//! whose body is copied verbatim to
//! `openapi/upstream/<method>-<path without leading '/', '/' -> '-', no braces>.yaml`.
//! This mirrors `re.search(r'^````yaml (\w+) (\S+)\n(.*?)^````', text, re.S | re.M)`
//! on a file read in Python text mode (so `\r\n` and `\r` become `\n`).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

const FENCE: &str = "````";

/// One fragment found in a seed page.
#[derive(Debug, PartialEq, Eq)]
pub struct Fragment {
    /// Output file name, e.g. `get-api-classification-identifier.yaml`.
    pub file_name: String,
    /// The fenced text, verbatim (ends with the newline before the closing fence).
    pub body: String,
}

/// Finds the first `````yaml <method> <path>` block in `text`.
pub fn extract(text: &str) -> Option<Fragment> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let Some(header) = line
            .strip_prefix(FENCE)
            .and_then(|l| l.strip_prefix("yaml "))
        else {
            continue;
        };
        let Some(header) = header.strip_suffix('\n') else {
            continue; // the header line must be terminated
        };
        let Some((method, path)) = header.split_once(' ') else {
            continue;
        };
        let is_word = |c: char| c.is_alphanumeric() || c == '_';
        if method.is_empty()
            || !method.chars().all(is_word)
            || path.is_empty()
            || path.chars().any(char::is_whitespace)
        {
            continue;
        }
        // The body runs to the next line that starts with the fence.
        let body_start = start + line.len();
        let mut end = None;
        let mut pos = body_start;
        for l in text[body_start..].split_inclusive('\n') {
            if l.starts_with(FENCE) {
                end = Some(pos);
                break;
            }
            pos += l.len();
        }
        let end = end?;
        return Some(Fragment {
            file_name: file_name(method, path),
            body: text[body_start..end].to_owned(),
        });
    }
    None
}

/// `get`, `/api/classification/{identifier}` -> `get-api-classification-identifier.yaml`.
pub fn file_name(method: &str, path: &str) -> String {
    let path: String = path
        .trim_start_matches('/')
        .chars()
        .filter(|c| !matches!(c, '{' | '}'))
        .map(|c| if c == '/' { '-' } else { c })
        .collect();
    format!("{method}-{path}.yaml")
}

/// Reads every `<seeds>/0*.txt` (sorted) and returns its fragment.
pub fn collect(seeds: &Path) -> Result<Vec<(PathBuf, Fragment)>> {
    let mut pages: Vec<PathBuf> = fs::read_dir(seeds)
        .with_context(|| format!("reading seeds directory {}", seeds.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("listing {}", seeds.display()))?;
    pages.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        name.starts_with('0') && name.ends_with(".txt")
    });
    pages.sort();
    if pages.is_empty() {
        bail!("no 0*.txt pages in {}", seeds.display());
    }
    let mut out: Vec<(PathBuf, Fragment)> = Vec::new();
    for page in pages {
        let text =
            fs::read_to_string(&page).with_context(|| format!("reading {}", page.display()))?;
        let Some(fragment) = extract(&text) else {
            bail!(
                "{}: no ````yaml <method> <path> ... ```` block",
                page.display()
            );
        };
        if let Some((other, _)) = out.iter().find(|(_, f)| f.file_name == fragment.file_name) {
            bail!(
                "{} and {} both produce {}",
                other.display(),
                page.display(),
                fragment.file_name
            );
        }
        out.push((page, fragment));
    }
    Ok(out)
}

/// Writes (or with `check`, compares) the fragments into `upstream`.
///
/// Returns the list of problems found in check mode (empty = up to date).
pub fn run(seeds: &Path, upstream: &Path, check: bool) -> Result<Vec<String>> {
    let fragments = collect(seeds)?;
    let mut problems = Vec::new();
    for (page, fragment) in &fragments {
        let dest = upstream.join(&fragment.file_name);
        let current = fs::read_to_string(&dest).ok();
        if current.as_deref() == Some(fragment.body.as_str()) {
            continue;
        }
        if check {
            let what = if current.is_some() {
                "differs from"
            } else {
                "is missing for"
            };
            problems.push(format!("{} {what} {}", dest.display(), page.display()));
        } else {
            fs::create_dir_all(upstream)
                .with_context(|| format!("creating {}", upstream.display()))?;
            fs::write(&dest, &fragment.body)
                .with_context(|| format!("writing {}", dest.display()))?;
            eprintln!("wrote {}", dest.display());
        }
    }
    // Files nobody produces would still be merged by `cargo xtask spec`.
    if let Ok(entries) = fs::read_dir(upstream) {
        let mut stale: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".yaml") && !fragments.iter().any(|(_, f)| &f.file_name == n))
            .collect();
        stale.sort();
        for name in stale {
            let msg = format!(
                "{} is not produced by any seed page",
                upstream.join(name).display()
            );
            if check {
                problems.push(msg);
            } else {
                eprintln!("warning: {msg} (left in place)");
            }
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_first_block_verbatim() {
        let page = "intro\n````yaml get /api/a/{id}\nopenapi: 3.0.0\n\n  x: |\n    ```\n````\nafter\n````yaml post /b\nno\n````\n";
        let f = extract(page).unwrap();
        assert_eq!(f.file_name, "get-api-a-id.yaml");
        assert_eq!(f.body, "openapi: 3.0.0\n\n  x: |\n    ```\n");
    }

    #[test]
    fn header_must_be_exact() {
        assert_eq!(extract(" ````yaml get /a\nx\n````\n"), None);
        assert_eq!(extract("````yaml get /a \nx\n````\n"), None);
        assert_eq!(extract("````yaml get /a\nunterminated\n"), None);
        // CRLF pages behave as in Python text mode.
        assert_eq!(
            extract("````yaml get /a\r\nx\r\n````\r\n").unwrap().body,
            "x\n"
        );
    }

    #[test]
    fn file_names() {
        assert_eq!(
            file_name("post", "/api/classification_video"),
            "post-api-classification_video.yaml"
        );
        assert_eq!(
            file_name("get", "/api/classification/heatmap/{identifier}"),
            "get-api-classification-heatmap-identifier.yaml"
        );
    }
}
