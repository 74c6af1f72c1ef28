//! `cargo xtask vendor` fetches every listed page (from a loopback server
//! serving copies of the published pages, or `--from DIR`), rewrites exactly
//! the files whose page changed or is new, and names them.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use xtask::repo_root;

const ORIGIN: &str = "https://docs.identifai.net";

/// The listed pages, their copies (URL path -> text), with the heatmap page
/// changed and one page added (a made-up audio-from-URL block).
fn site() -> (String, BTreeMap<String, String>) {
    let root = repo_root();
    let seeds = root.join("../shared/seeds");
    let list = std::fs::read_to_string(root.join("openapi/pages.txt")).unwrap();
    let mut pages = BTreeMap::new();
    let mut lines = String::new();
    for line in list.lines().filter(|l| l.starts_with("https://")) {
        let mut f = line.split_whitespace();
        let url = f.next().unwrap();
        let copy = f.next().unwrap();
        let mut text = std::fs::read_to_string(seeds.join(copy)).unwrap();
        if url.ends_with("get-classification-heatmap") {
            text = text.replacen(
                "openapi: 3.0.0\n",
                "openapi: 3.0.0\n# changed upstream\n",
                1,
            );
            assert!(text.contains("# changed upstream"));
        }
        pages.insert(url.trim_start_matches(ORIGIN).to_owned(), text);
        // No copy names: the pages are found by their URLs.
        lines.push_str(url);
        lines.push('\n');
    }
    let added = "/api-reference/classification/submit-speech-from-url";
    pages.insert(
        added.into(),
        "# Submit speech from URL\n\n````yaml post /api/audio_fromurl\nopenapi: 3.0.0\npaths: {}\n````\n"
            .into(),
    );
    lines.push_str(&format!("{ORIGIN}{added}\n"));
    (lines, pages)
}

/// How many pages `openapi/pages.txt` lists.
fn listed() -> usize {
    let list = std::fs::read_to_string(repo_root().join("openapi/pages.txt")).unwrap();
    list.lines().filter(|l| l.starts_with("https://")).count()
}

/// Serves `pages` as `<path>.md` on loopback until the test ends.
fn serve(pages: BTreeMap<String, String>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let page = path.strip_suffix(".md").and_then(|p| pages.get(p));
            let (status, body) = match page {
                Some(text) => ("200 OK", text.clone()),
                None => ("404 Not Found", "not found".to_string()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: text/markdown\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let up = dir.path().join("upstream");
    std::fs::create_dir(&up).unwrap();
    for e in std::fs::read_dir(repo_root().join("openapi/upstream")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), up.join(e.file_name())).unwrap();
    }
    (dir, up)
}

fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect()
}

fn vendor(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("vendor")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_exactly_two_rewritten(before: &BTreeMap<String, String>, up: &Path, stdout: &str) {
    let after = snapshot(up);
    let touched: Vec<&String> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        touched,
        [
            "get-api-classification-heatmap-identifier.yaml",
            "post-api-audio_fromurl.yaml"
        ],
        "{stdout}"
    );
    assert!(
        stdout.contains("changed: ")
            && stdout.contains("get-api-classification-heatmap-identifier.yaml"),
        "{stdout}"
    );
    assert!(
        stdout.contains("added: ") && stdout.contains("post-api-audio_fromurl.yaml"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("changed: ").count(), 1, "{stdout}");
    assert_eq!(stdout.matches("added: ").count(), 1, "{stdout}");
    let n = listed();
    assert!(
        stdout.contains(&format!(
            "{} pages: 1 changed, 1 added, {} unchanged",
            n + 1,
            n - 1
        )),
        "{stdout}"
    );
    assert!(after["get-api-classification-heatmap-identifier.yaml"].contains("# changed upstream"));
}

#[test]
fn fetches_from_a_loopback_server_and_names_what_changed() {
    let (list, pages) = site();
    let origin = serve(pages);
    let (dir, up) = scratch();
    let list_file = dir.path().join("pages.txt");
    std::fs::write(&list_file, list).unwrap();
    let before = snapshot(&up);
    let pages_arg = list_file.to_str().unwrap();
    let up_arg = up.to_str().unwrap();

    // --check says what would change and writes nothing.
    let (ok, _, stderr) = vendor(&[
        "--pages",
        pages_arg,
        "--origin",
        &origin,
        "--upstream",
        up_arg,
        "--check",
    ]);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("post-api-audio_fromurl.yaml"), "{stderr}");
    assert_eq!(snapshot(&up), before);

    let (ok, stdout, stderr) = vendor(&[
        "--pages",
        pages_arg,
        "--origin",
        &origin,
        "--upstream",
        up_arg,
    ]);
    assert!(ok, "{stderr}");
    assert_exactly_two_rewritten(&before, &up, &stdout);

    // Again: nothing to do.
    let (ok, stdout, _) = vendor(&[
        "--pages",
        pages_arg,
        "--origin",
        &origin,
        "--upstream",
        up_arg,
        "--check",
    ]);
    assert!(ok);
    assert!(
        stdout.contains(&format!("0 changed, 0 added, {} unchanged", listed() + 1)),
        "{stdout}"
    );
}

#[test]
fn from_dir_reads_every_listed_page_whatever_its_file_name() {
    let (list, pages) = site();
    let (dir, up) = scratch();
    let copies = dir.path().join("copies");
    for (i, (path, text)) in pages.iter().enumerate() {
        // Some in a mirror's layout, some flat with '__', none starting with 0.
        let file = if i % 2 == 0 {
            copies.join(format!("{}.md", path.trim_start_matches('/')))
        } else {
            copies.join(format!(
                "{}.md.txt",
                path.trim_start_matches('/').replace('/', "__")
            ))
        };
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    let list_file = dir.path().join("pages.txt");
    std::fs::write(&list_file, list).unwrap();
    let before = snapshot(&up);
    let (ok, stdout, stderr) = vendor(&[
        "--pages",
        list_file.to_str().unwrap(),
        "--from",
        copies.to_str().unwrap(),
        "--upstream",
        up.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert_exactly_two_rewritten(&before, &up, &stdout);
}

#[test]
fn a_listed_page_without_a_copy_is_an_error_not_skipped() {
    let (dir, up) = scratch();
    let list_file = dir.path().join("pages.txt");
    std::fs::write(&list_file, format!("{ORIGIN}/api-reference/nowhere\n")).unwrap();
    let (ok, _, stderr) = vendor(&[
        "--pages",
        list_file.to_str().unwrap(),
        "--from",
        dir.path().to_str().unwrap(),
        "--upstream",
        up.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("no copy of https://docs.identifai.net/api-reference/nowhere"),
        "{stderr}"
    );
}

#[test]
fn the_default_source_is_the_seeds_folder_with_and_without_check() {
    let seeds = repo_root().join("../shared/seeds");
    if !seeds.is_dir() {
        eprintln!("skipping: {} does not exist", seeds.display());
        return;
    }
    let (_dir, up) = scratch();
    let up_arg = up.to_str().unwrap();
    let (ok, stdout, stderr) = vendor(&["--upstream", up_arg, "--check"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("up to date with") && stdout.contains("shared/seeds"),
        "{stdout}"
    );
    // Stale: the advice is the plain command, which reads the same folder.
    std::fs::write(up.join("get-api-health.yaml"), "stale\n").unwrap();
    let (ok, _, stderr) = vendor(&["--upstream", up_arg, "--check"]);
    assert!(!ok);
    assert!(
        stderr.contains("shared/seeds: run `cargo xtask vendor` and commit"),
        "{stderr}"
    );
    let (ok, stdout, stderr) = vendor(&["--upstream", up_arg]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("changed: ")
            && stdout.contains("vendored from")
            && stdout.contains("shared/seeds"),
        "{stdout}"
    );
}

#[test]
fn a_page_in_the_folder_that_the_list_does_not_name_is_an_error_until_listed() {
    let root = repo_root();
    let (seeds, docs) = (root.join("../shared/seeds"), root.join("../shared/docs"));
    let rendered = docs.join("api-reference__partner__get-pricings.md.txt");
    if !seeds.is_dir() || !rendered.is_file() {
        eprintln!("skipping: no seeds or rendered pages beside the repository");
        return;
    }
    let (dir, up) = scratch();
    let copies = dir.path().join("copies");
    std::fs::create_dir(&copies).unwrap();
    for e in std::fs::read_dir(&seeds).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), copies.join(e.file_name())).unwrap();
    }
    // A new page in the folder: the pricings page (its rendered copy's
    // first line is its URL; the capture is cut inside its block, which a
    // seed page closes), under a seed-like name.
    let text = std::fs::read_to_string(&rendered).unwrap();
    let mut page = text.split_once('\n').unwrap().1.to_string();
    if !page.trim_end().ends_with("````") {
        page.push_str("\n````\n");
    }
    std::fs::write(copies.join("005_new.txt"), page).unwrap();
    let list = dir.path().join("pages.txt");
    std::fs::copy(root.join("openapi/pages.txt"), &list).unwrap();
    let before = snapshot(&up);
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "--pages",
            list.to_str().unwrap(),
            "--from",
            copies.to_str().unwrap(),
            "--upstream",
            up.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |a: Vec<String>| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        vendor(&refs)
    };
    for extra in [&[][..], &["--check"][..]] {
        let (ok, _, stderr) = run(args(extra));
        assert!(!ok, "{extra:?}");
        assert!(
            stderr.contains("1 page(s)")
                && stderr.contains("005_new.txt (would make get-api-partner-pricings.yaml)")
                && stderr.contains("--add-unlisted"),
            "{stderr}"
        );
        assert_eq!(snapshot(&up), before, "nothing written");
    }
    let (ok, stdout, stderr) = run(args(&["--add-unlisted"]));
    assert!(ok, "{stderr}");
    let listed = std::fs::read_to_string(&list).unwrap();
    assert!(
        listed.ends_with(
            "https://docs.identifai.net/api-reference/partner/get-pricings 005_new.txt\n"
        ),
        "{listed}"
    );
    assert!(
        stdout.contains("added: ") && stdout.contains("get-api-partner-pricings.yaml"),
        "{stdout}"
    );
    // Listed now: a plain run is up to date.
    let (ok, _, stderr) = run(args(&["--check"]));
    assert!(ok, "{stderr}");
}
