//! Vendoring the OpenAPI fragments of the published API reference pages,
//! and the copies of the rendered pages ([`run_rendered`]).
//!
//! The pages are listed in `openapi/pages.txt` (one URL a line, optionally
//! followed by the name of the page's copy in `../shared/seeds`). Each page
//! is read, whatever its file name: from a folder of copies (`../shared/seeds`
//! unless `--from DIR`), or fetched as `<URL>.md` with `--origin` (with
//! `curl`: bounded in time and size, redirects followed). A page of the
//! folder that the list does not name is an error ([`unlisted`]). Each page
//! contains one block
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

/// Finds the first fenced block of four backticks, `yaml METHOD PATH`, in `text`.
pub fn extract(text: &str) -> Option<Fragment> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let Some((method, path)) = block_header(line) else {
            continue;
        };
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

/// The method and path of a block's opening line (`````yaml get /api/x\n`,
/// terminated).
fn block_header(line: &str) -> Option<(&str, &str)> {
    let header = line.strip_prefix(FENCE)?.strip_prefix("yaml ")?;
    let header = header.strip_suffix('\n')?;
    let (method, path) = header.split_once(' ')?;
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let valid = !method.is_empty()
        && method.chars().all(is_word)
        && !path.is_empty()
        && !path.chars().any(char::is_whitespace);
    valid.then_some((method, path))
}

/// The upstream file name the first block of `text` makes, from its opening
/// line alone (a page whose block is cut short still names it).
pub fn block_file_name(text: &str) -> Option<String> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.split_inclusive('\n')
        .find_map(block_header)
        .map(|(method, path)| file_name(method, path))
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

/// One page of the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// Its URL, e.g. `https://docs.identifai.net/api-reference/infrastructure/health`.
    pub url: String,
    /// The name of its copy in a seeds folder, if it has one.
    pub copy: Option<String>,
}

/// Reads a page list: one URL a line, then optionally a file name; `#`
/// starts a comment.
pub fn read_list(path: &Path) -> Result<Vec<Page>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_list(&text).with_context(|| format!("in {}", path.display()))
}

/// [`read_list`] on text.
pub fn parse_list(text: &str) -> Result<Vec<Page>> {
    let mut pages: Vec<Page> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut fields = line.split_whitespace();
        let url = fields.next().unwrap_or_default().to_owned();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            bail!("line {}: {url:?} is not an http(s) URL", n + 1);
        }
        let copy = fields.next().map(str::to_owned);
        if let Some(extra) = fields.next() {
            bail!("line {}: unexpected {extra:?}", n + 1);
        }
        if pages.iter().any(|p| p.url == url) {
            bail!("line {}: {url} is listed twice", n + 1);
        }
        pages.push(Page { url, copy });
    }
    if pages.is_empty() {
        bail!("no pages listed");
    }
    Ok(pages)
}

/// Where the pages are read from.
#[derive(Clone, Debug)]
pub enum Source {
    /// Fetched over HTTP(S) as `<URL>.md`; with `origin`, the URL's scheme
    /// and host are replaced by it (a mirror, or a test's loopback server).
    Http {
        /// e.g. `http://127.0.0.1:8080`.
        origin: Option<String>,
    },
    /// Local copies in a directory: `<DIR>/<URL path>.md` (a mirror's
    /// layout), `<DIR>/<URL path with '/' as '__'>` with `.md`, `.md.txt` or
    /// `.txt`, or the page's listed copy name.
    Dir(PathBuf),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Http { origin: None } => f.write_str("the published pages"),
            Source::Http { origin: Some(o) } => write!(f, "{o}"),
            Source::Dir(d) => write!(f, "{}", d.display()),
        }
    }
}

/// The largest page accepted, in bytes.
pub const MAX_PAGE_BYTES: u64 = 10 * 1024 * 1024;

/// `https://host/a/b` -> `a/b`.
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.split_once('/').map_or("", |(_, p)| p);
    path.split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_end_matches('/')
}

/// Reads one page: its text and where it came from.
pub fn read_page(page: &Page, source: &Source) -> Result<(String, String)> {
    match source {
        Source::Dir(dir) => {
            let path = url_path(&page.url);
            let flat = path.replace('/', "__");
            let mut candidates = vec![
                dir.join(format!("{path}.md")),
                dir.join(path),
                dir.join(format!("{flat}.md")),
                dir.join(format!("{flat}.md.txt")),
                dir.join(format!("{flat}.txt")),
            ];
            if let Some(copy) = &page.copy {
                candidates.push(dir.join(copy));
            }
            let found = candidates.iter().find(|c| c.is_file()).ok_or_else(|| {
                anyhow::anyhow!(
                    "no copy of {} in {} (looked for {})",
                    page.url,
                    dir.display(),
                    candidates
                        .iter()
                        .map(|c| c.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            let len = fs::metadata(found)?.len();
            if len > MAX_PAGE_BYTES {
                bail!("{} is larger than {MAX_PAGE_BYTES} bytes", found.display());
            }
            let text = fs::read_to_string(found)
                .with_context(|| format!("reading {}", found.display()))?;
            Ok((text, found.display().to_string()))
        }
        Source::Http { origin } => {
            let mut url = format!("{}.md", page.url.trim_end_matches('/'));
            if let Some(origin) = origin {
                url = format!(
                    "{}/{}.md",
                    origin.trim_end_matches('/'),
                    url_path(&page.url)
                );
            }
            let out = std::process::Command::new("curl")
                .args([
                    "--silent",
                    "--show-error",
                    "--fail",
                    "--location",
                    "--max-redirs",
                    "5",
                    "--proto",
                    "=http,https",
                    "--connect-timeout",
                    "20",
                    "--max-time",
                    "60",
                    "--max-filesize",
                    &MAX_PAGE_BYTES.to_string(),
                ])
                .arg(&url)
                .output()
                .context("running curl (needed to fetch the pages)")?;
            if !out.status.success() {
                bail!(
                    "fetching {url}: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
            let text = String::from_utf8(out.stdout)
                .map_err(|_| anyhow::anyhow!("{url}: the page is not UTF-8"))?;
            Ok((text, url))
        }
    }
}

/// Reads every listed page and returns its fragment, with where it came from.
pub fn collect(pages: &[Page], source: &Source) -> Result<Vec<(String, Fragment)>> {
    let mut out: Vec<(String, Fragment)> = Vec::new();
    for page in pages {
        let (text, from) = read_page(page, source)?;
        let Some(fragment) = extract(&text) else {
            bail!("{from}: no ````yaml <method> <path> ... ```` block");
        };
        if let Some((other, _)) = out.iter().find(|(_, f)| f.file_name == fragment.file_name) {
            bail!("{other} and {from} both produce {}", fragment.file_name);
        }
        out.push((from, fragment));
    }
    Ok(out)
}

/// The files under `dir` (a local source) that hold an API page (a
/// ````yaml block, complete or not) but that none of `read` (the files the listed pages were
/// read from) is: each with the name of the upstream file its block makes.
/// Sorted; hidden files, `README.md` and files over [`MAX_PAGE_BYTES`] are
/// not pages.
pub fn unlisted(dir: &Path, read: &[PathBuf]) -> Result<Vec<(PathBuf, String)>> {
    let read: Vec<PathBuf> = read.iter().filter_map(|p| p.canonicalize().ok()).collect();
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))?;
        for e in entries {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name == "README.md" {
                continue;
            }
            let path = e.path();
            let kind = e.file_type()?;
            if kind.is_dir() {
                stack.push(path);
                continue;
            }
            if !kind.is_file() || e.metadata()?.len() > MAX_PAGE_BYTES {
                continue;
            }
            if path.canonicalize().is_ok_and(|c| read.contains(&c)) {
                continue;
            }
            let Ok(text) = fs::read_to_string(&path) else {
                continue;
            };
            if let Some(made) = block_file_name(&text) {
                out.push((path, made));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The URL of the rendered page in `docs` (the evidence folder: one file a
/// page, its first line the page's URL) whose OpenAPI block makes
/// `file_name`, without a trailing `.md`.
pub fn rendered_url(docs: &Path, file_name: &str) -> Option<String> {
    let mut names: Vec<PathBuf> = fs::read_dir(docs)
        .ok()?
        .filter_map(|e| Some(e.ok()?.path()))
        .collect();
    names.sort();
    names.into_iter().find_map(|path| {
        if fs::metadata(&path).ok()?.len() > MAX_PAGE_BYTES {
            return None;
        }
        let text = fs::read_to_string(&path).ok()?;
        let url = text.lines().next()?.trim();
        if !url.starts_with("https://") || block_file_name(&text)? != file_name {
            return None;
        }
        Some(url.strip_suffix(".md").unwrap_or(url).to_string())
    })
}

/// The error for pages a local source has but the list does not name.
pub fn unlisted_error(dir: &Path, list: &Path, pages: &[(PathBuf, String)]) -> anyhow::Error {
    let lines: Vec<String> = pages
        .iter()
        .map(|(path, made)| {
            let name = path.strip_prefix(dir).unwrap_or(path).display();
            format!("  {name} (would make {made})")
        })
        .collect();
    anyhow::anyhow!(
        "{} page(s) in {} are not listed in {}, so nothing of them would be vendored:\n{}\n\
         List each as a line `<page URL> <file name>` in {}, or run `cargo xtask vendor \
         --add-unlisted` (it lists those whose rendered copy in ../shared/docs names the URL), \
         then vendor again",
        pages.len(),
        dir.display(),
        list.display(),
        lines.join("\n"),
        list.display(),
    )
}

/// What a run did (or, with `check`, would do).
#[derive(Debug, Default)]
pub struct Outcome {
    /// Files rewritten because their page changed.
    pub changed: Vec<String>,
    /// Files written for pages new to `upstream`.
    pub added: Vec<String>,
    /// Files already up to date.
    pub unchanged: Vec<String>,
    /// Files in `upstream` that no listed page produces (left in place).
    pub stale: Vec<String>,
}

impl Outcome {
    /// Whether `upstream` matched the pages (nothing changed, added or stale).
    pub fn up_to_date(&self) -> bool {
        self.changed.is_empty() && self.added.is_empty() && self.stale.is_empty()
    }
}

/// Writes (or with `check`, compares) the fragments of `pages` into
/// `upstream`, saying which changed.
///
/// From a local source, a page there that `pages` does not list is an error
/// ([`unlisted_error`]; `list` names the list in it), before anything is
/// written.
pub fn run(
    pages: &[Page],
    source: &Source,
    upstream: &Path,
    check: bool,
    list: &Path,
) -> Result<Outcome> {
    let fragments = collect(pages, source)?;
    if let Source::Dir(dir) = source {
        let read: Vec<PathBuf> = fragments
            .iter()
            .map(|(from, _)| PathBuf::from(from))
            .collect();
        let extra = unlisted(dir, &read)?;
        if !extra.is_empty() {
            return Err(unlisted_error(dir, list, &extra));
        }
    }
    let mut outcome = Outcome::default();
    for (from, fragment) in &fragments {
        let dest = upstream.join(&fragment.file_name);
        let current = fs::read_to_string(&dest).ok();
        if current.as_deref() == Some(fragment.body.as_str()) {
            outcome.unchanged.push(fragment.file_name.clone());
            continue;
        }
        let (list, verb) = if current.is_some() {
            (&mut outcome.changed, "changed")
        } else {
            (&mut outcome.added, "added")
        };
        list.push(fragment.file_name.clone());
        if check {
            eprintln!("{verb}: {} (from {from})", dest.display());
        } else {
            fs::create_dir_all(upstream)
                .with_context(|| format!("creating {}", upstream.display()))?;
            fs::write(&dest, &fragment.body)
                .with_context(|| format!("writing {}", dest.display()))?;
            println!("{verb}: {} (from {from})", dest.display());
        }
    }
    // Files nobody produces would still be merged by `cargo xtask spec`.
    if let Ok(entries) = fs::read_dir(upstream) {
        let mut stale: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".yaml") && !fragments.iter().any(|(_, f)| &f.file_name == n))
            .collect();
        stale.sort();
        for name in &stale {
            eprintln!(
                "warning: {} is not produced by any listed page (left in place)",
                upstream.join(name).display()
            );
        }
        outcome.stale = stale;
    }
    Ok(outcome)
}

/// Copies (or, with `check`, compares) the rendered pages of `docs` (the
/// evidence folder `../shared/docs`: one file a page, its first line the
/// URL) into `pages` (`openapi/pages/`), file for file, verbatim: the page
/// examples test reads them there. A file of `pages` that `docs` lacks is
/// stale (left in place).
pub fn run_rendered(docs: &Path, pages: &Path, check: bool) -> Result<Outcome> {
    let names = |dir: &Path| -> Result<Vec<String>> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .filter_map(|e| {
                let e = e.ok()?;
                e.file_type()
                    .ok()?
                    .is_file()
                    .then(|| e.file_name().into_string().ok())?
            })
            .collect();
        names.sort();
        Ok(names)
    };
    let mut outcome = Outcome::default();
    let wanted = names(docs)?;
    for name in &wanted {
        let from = docs.join(name);
        if fs::metadata(&from)?.len() > MAX_PAGE_BYTES {
            bail!("{} is larger than {MAX_PAGE_BYTES} bytes", from.display());
        }
        let text = fs::read(&from).with_context(|| format!("reading {}", from.display()))?;
        let dest = pages.join(name);
        let current = fs::read(&dest).ok();
        if current.as_deref() == Some(text.as_slice()) {
            outcome.unchanged.push(name.clone());
            continue;
        }
        let (list, verb) = if current.is_some() {
            (&mut outcome.changed, "changed")
        } else {
            (&mut outcome.added, "added")
        };
        list.push(name.clone());
        if check {
            eprintln!("{verb}: {} (from {})", dest.display(), from.display());
        } else {
            fs::create_dir_all(pages).with_context(|| format!("creating {}", pages.display()))?;
            fs::write(&dest, &text).with_context(|| format!("writing {}", dest.display()))?;
            println!("{verb}: {} (from {})", dest.display(), from.display());
        }
    }
    if pages.is_dir() {
        for name in names(pages)? {
            if !wanted.contains(&name) {
                eprintln!(
                    "warning: {} has no copy in {} (left in place)",
                    pages.join(&name).display(),
                    docs.display()
                );
                outcome.stale.push(name);
            }
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_pages_are_copied_verbatim_and_checked() {
        let tmp = std::env::temp_dir().join(format!("xtask-rendered-{}", std::process::id()));
        let (docs, pages) = (tmp.join("docs"), tmp.join("pages"));
        fs::create_dir_all(&docs).unwrap();
        fs::write(docs.join("a.txt"), "https://x/a\n{\n}\n").unwrap();
        fs::write(docs.join("b.txt"), "https://x/b\n").unwrap();
        // Checking an empty copy: both would be added, nothing written.
        let o = run_rendered(&docs, &pages, true).unwrap();
        assert_eq!(o.added, ["a.txt", "b.txt"]);
        assert!(!pages.exists());
        let o = run_rendered(&docs, &pages, false).unwrap();
        assert_eq!(o.added.len(), 2);
        assert!(run_rendered(&docs, &pages, true).unwrap().up_to_date());
        // A page edited on either side, or one only the copy has, is out of date.
        fs::write(pages.join("b.txt"), "https://x/b\nedited\n").unwrap();
        fs::write(pages.join("c.txt"), "https://x/c\n").unwrap();
        let o = run_rendered(&docs, &pages, true).unwrap();
        assert_eq!(
            (o.changed.clone(), o.stale.clone()),
            (vec!["b.txt".to_string()], vec!["c.txt".to_string()])
        );
        assert!(!o.up_to_date());
        fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn pages_of_a_folder_that_the_list_does_not_name_are_found() {
        let tmp = std::env::temp_dir().join(format!("xtask-unlisted-{}", std::process::id()));
        let (seeds, docs) = (tmp.join("seeds"), tmp.join("docs"));
        fs::create_dir_all(seeds.join("sub")).unwrap();
        fs::create_dir_all(&docs).unwrap();
        let page = |method: &str, path: &str| {
            format!("# t\n\n````yaml {method} {path}\nopenapi: 3.0.0\n````\n")
        };
        fs::write(seeds.join("a.txt"), page("get", "/api/a")).unwrap();
        fs::write(seeds.join("sub/b.md"), page("post", "/api/b")).unwrap();
        fs::write(seeds.join("README.md"), page("get", "/api/readme")).unwrap();
        fs::write(seeds.join("notes.txt"), "no block here\n").unwrap();
        let found = unlisted(&seeds, &[seeds.join("a.txt")]).unwrap();
        assert_eq!(
            found,
            vec![(seeds.join("sub/b.md"), "post-api-b.yaml".to_string())]
        );
        let e = unlisted_error(&seeds, Path::new("openapi/pages.txt"), &found).to_string();
        assert!(
            e.contains("1 page(s)") && e.contains("sub/b.md (would make post-api-b.yaml)"),
            "{e}"
        );
        assert!(
            e.contains("--add-unlisted") && e.contains("<page URL> <file name>"),
            "{e}"
        );
        // The rendered copy with the same block names the URL.
        fs::write(
            docs.join("x.md.txt"),
            format!("https://h/api-reference/b.md\n{}", page("post", "/api/b")),
        )
        .unwrap();
        // A capture cut inside its block still names it.
        fs::write(
            docs.join("y.txt"),
            "https://h/api-reference/a\n````yaml get /api/a\nopenapi: 3.0.0\n",
        )
        .unwrap();
        assert_eq!(
            rendered_url(&docs, "get-api-a.yaml").as_deref(),
            Some("https://h/api-reference/a")
        );
        assert_eq!(
            rendered_url(&docs, "post-api-b.yaml").as_deref(),
            Some("https://h/api-reference/b")
        );
        assert_eq!(rendered_url(&docs, "get-api-c.yaml"), None);
        fs::remove_dir_all(&tmp).unwrap();
    }

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
    fn lists_and_paths() {
        let pages = parse_list("# c\nhttps://h/a/b x.txt\n\nhttps://h/c # d\n").unwrap();
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0].copy.as_deref(), Some("x.txt"));
        assert_eq!(pages[1].copy, None);
        assert!(parse_list("ftp://x\n").is_err());
        assert!(parse_list("https://h/a\nhttps://h/a\n").is_err());
        assert!(parse_list("# nothing\n").is_err());
        assert_eq!(
            url_path("https://docs.x.net/api-reference/a/b"),
            "api-reference/a/b"
        );
        assert_eq!(url_path("https://docs.x.net/a/?q#f"), "a");
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
