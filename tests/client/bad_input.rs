//! Bad input from a user gets a typed error and sends nothing: a table of
//! cases run against a loopback mock that counts every request.

use crate::support::*;
use identifai::{config::UploadLimits, Client, Error, Identifier, InputError, Source};

/// What a case must fail with.
type Check = fn(&InputError) -> bool;

fn file(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[tokio::test]
async fn every_bad_input_is_refused_before_sending() {
    let server = mock();
    let client = builder(&server)
        .upload_limits(
            UploadLimits::default()
                .with_max_image_bytes(1_000)
                .with_max_video_bytes(2_000),
        )
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let png_ok = file(d, "ok.png", &png(1));
    let mut big = png(2);
    big.resize(1_001, 0);
    let big_png = file(d, "big.png", &big);
    let empty = file(d, "empty.png", b"");
    let text_png = file(d, "notes.png", b"just some text, not an image at all");
    let svg = file(d, "x.svg", br#"<svg xmlns="http://www.w3.org/2000/svg"/>"#);
    let pdf = file(d, "doc.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj");
    let mystery_video = file(d, "clip.xyz", &[3u8; 100]);
    let mut big_video = mp4(3);
    big_video.resize(2_001, 0);
    let big_mp4 = file(d, "big.mp4", &big_video);
    #[cfg(unix)]
    let unreadable = {
        use std::os::unix::fs::PermissionsExt;
        let p = file(d, "locked.png", &png(4));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
        p
    };

    let is_id: Check = |e| matches!(e, InputError::InvalidIdentifier { .. });
    let is_url: Check = |e| matches!(e, InputError::InvalidUrl { .. });
    let is_type: Check = |e| matches!(e, InputError::UnsupportedType { .. });
    let is_large: Check = |e| matches!(e, InputError::TooLarge { .. });
    let is_empty: Check = |e| matches!(e, InputError::Empty { .. });

    // (case, outcome, check)
    let mut cases: Vec<(&str, Result<(), Error>, Check)> = Vec::new();
    macro_rules! case {
        ($name:expr, $fut:expr, $check:expr) => {
            cases.push(($name, $fut.await.map(|_| ()), $check));
        };
    }
    case!(
        "missing file",
        client
            .classify_image(Source::path(d.join("nope.png")))
            .send(),
        |e| matches!(e, InputError::FileNotFound { .. })
    );
    case!(
        "a directory",
        client.classify_image(Source::path(d)).send(),
        |e| matches!(e, InputError::NotAFile { .. })
    );
    case!(
        "empty file",
        client.classify_image(Source::path(&empty)).send(),
        is_empty
    );
    case!(
        "text named .png",
        client.classify_image(Source::path(&text_png)).send(),
        is_type
    );
    case!(
        "svg image",
        client.classify_image(Source::path(&svg)).send(),
        is_type
    );
    case!(
        "pdf as image",
        client.classify_image(Source::path(&pdf)).send(),
        is_type
    );
    case!(
        "png as video",
        client.classify_video(Source::path(&png_ok)).send(),
        is_type
    );
    case!(
        "video of unknown type",
        client.classify_video(Source::path(&mystery_video)).send(),
        is_type
    );
    case!(
        "mp4 as image",
        client.classify_image(Source::bytes("v.mp4", mp4(1))).send(),
        is_type
    );
    case!(
        "forced svg type",
        client
            .classify_image(Source::path(&png_ok).content_type("image/svg+xml"))
            .send(),
        is_type
    );
    case!(
        "oversize image file",
        client.classify_image(Source::path(&big_png)).send(),
        is_large
    );
    case!(
        "oversize video file",
        client.classify_video(Source::path(&big_mp4)).send(),
        is_large
    );
    case!(
        "oversize image bytes",
        client
            .classify_image(Source::bytes("b.png", big.clone()))
            .send(),
        is_large
    );
    case!(
        "oversize reader of known length",
        client
            .classify_image(Source::reader("r.png", std::io::Cursor::new(png(5))).with_len(5_000))
            .send(),
        is_large
    );
    case!(
        "empty bytes",
        client
            .classify_image(Source::bytes("e.png", Vec::new()))
            .send(),
        is_empty
    );
    case!(
        "empty reader",
        client
            .classify_image(Source::reader("e.png", tokio::io::empty()))
            .send(),
        is_empty
    );
    #[cfg(unix)]
    if !nix_is_root() {
        case!(
            "unreadable file",
            client.classify_image(Source::path(&unreadable)).send(),
            |e| matches!(e, InputError::Unreadable { .. })
        );
    }
    case!(
        "ftp URL",
        client
            .classify_image(Source::url("ftp://example.com/a.png"))
            .send(),
        is_url
    );
    case!(
        "file URL",
        client
            .classify_image(Source::url("file:///etc/passwd"))
            .send(),
        is_url
    );
    case!(
        "javascript URL",
        client
            .classify_video(Source::url("javascript:alert(1)"))
            .send(),
        is_url
    );
    case!(
        "not a URL",
        client.classify_image(Source::url("not a url")).send(),
        is_url
    );
    case!(
        "URL without host",
        client.classify_image(Source::url("https://")).send(),
        is_url
    );
    case!(
        "relative URL",
        client.classify_video(Source::url("/videos/a.mp4")).send(),
        is_url
    );
    for (name, id) in [
        ("empty identifier", ""),
        ("identifier with /", "abc/def"),
        ("identifier with ?", "abc?x=1"),
        ("identifier with #", "abc#frag"),
        ("identifier with %", "abc%2Fdef"),
        ("identifier with space", "abc def"),
        ("identifier ..", ".."),
        ("identifier with newline", "abc\ndef"),
        ("identifier with unicode", "abcé"),
    ] {
        cases.push((name, Identifier::new(id).map(|_| ()), is_id));
    }
    case!(
        "too long identifier",
        async { Identifier::new("a".repeat(300)) },
        is_id
    );
    case!(
        "no identifiers for the list",
        client.image_results(&[]),
        |e| matches!(e, InputError::IdentifierCount { count: 0 })
    );
    let many: Vec<Identifier> = (0..101)
        .map(|i| Identifier::new(format!("id{i}")).unwrap())
        .collect();
    case!(
        "101 identifiers for the list",
        client.image_results(&many),
        |e| matches!(e, InputError::IdentifierCount { count: 101 })
    );
    cases.push((
        "frames 7",
        identifai::api::forms::Frames::try_from(7)
            .map(|_| ())
            .map_err(Error::from),
        |e| matches!(e, InputError::Form(_)),
    ));
    cases.push((
        "frames 0",
        identifai::api::forms::Frames::try_from(0)
            .map(|_| ())
            .map_err(Error::from),
        |e| matches!(e, InputError::Form(_)),
    ));
    let build = |b: identifai::ClientBuilder| b.build().map(|_| ());
    cases.push(("no API key", build(Client::builder()), |e| {
        matches!(e, InputError::MissingApiKey)
    }));
    cases.push((
        "API key with a newline",
        build(Client::builder().api_key("a\nb")),
        |e| matches!(e, InputError::InvalidApiKey),
    ));
    cases.push((
        "http to a remote host",
        build(
            Client::builder()
                .api_key("k")
                .base_url("http://example.com"),
        ),
        |e| matches!(e, InputError::InsecureBaseUrl { .. }),
    ));
    cases.push((
        "ftp base URL",
        build(Client::builder().api_key("k").base_url("ftp://example.com")),
        |e| matches!(e, InputError::InvalidBaseUrl { .. }),
    ));
    cases.push((
        "base URL with credentials",
        build(
            Client::builder()
                .api_key("k")
                .base_url("https://u:p@example.com"),
        ),
        |e| matches!(e, InputError::InvalidBaseUrl { .. }),
    ));

    assert!(cases.len() >= 25, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (name, outcome, check) in &cases {
        match outcome {
            Err(Error::InvalidInput(e)) if check(e) => {
                let text = e.to_string();
                assert!(
                    !text.is_empty() && !text.contains("Error {"),
                    "{name}: unclear message {text:?}"
                );
            }
            other => failures.push(format!("{name}: {other:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "cases with the wrong outcome:\n{}",
        failures.join("\n")
    );
    assert_eq!(server.stats().requests, 0, "nothing was sent");
    println!(
        "{} bad-input cases, each refused with its typed error, 0 requests sent",
        cases.len()
    );
}

/// Root reads files whatever their mode.
#[cfg(unix)]
fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}
