//! A new user's first run: README's main command, run as a user runs it
//! (a fresh directory holding the shipped sample as the current
//! directory), saves the heatmap and its overlay there and prints their
//! paths; the picture README shows is exactly the overlay it writes
//! (`UPDATE_README_PNG=1 cargo test --features cli --test cli first_run`
//! rewrites it); nothing is ever overwritten; a video gets no heatmap, said
//! once; the one-shot `--mock` server's empty state is explained on a 404;
//! and the mock's verdicts never follow ordinary words in a name.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use identifai::mock::{MockConfig, MockServer};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The picture README shows, made by README's main command.
const README_PNG: &str = "docs/first-run-overlay.png";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The binary, with no identifAI variables from the environment.
fn bare() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_identifai"));
    cmd.env_remove("IDENTIFAI_API_KEY")
        .env_remove("IDENTIFAI_BASE_URL")
        .env_remove("IDENTIFAI_RATE_SCALE")
        .env("NO_COLOR", "1")
        .timeout(std::time::Duration::from_secs(60));
    cmd
}

/// A fresh directory with `examples/media/<name>` copied in, as in a clone.
fn clone_with(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("examples/media");
    std::fs::create_dir_all(&media).unwrap();
    for name in names {
        std::fs::copy(repo().join("examples/media").join(name), media.join(name)).unwrap();
    }
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "examples")
        .collect();
    names.sort();
    names
}

/// README's main command: the arguments after `--` of its first `cargo run
/// --features cli` line, up to its comment.
fn readme_main_command() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.contains("cargo run") && l.contains("--features cli") && l.contains(" -- "))
        .expect("README has a `cargo run --features cli -- ...` line");
    let args = line.split_once(" -- ").unwrap().1;
    let args = args.split_once('#').map_or(args, |(a, _)| a);
    args.split_whitespace().map(str::to_string).collect()
}

#[test]
fn readme_main_command_saves_the_heatmap_and_overlay_that_readme_shows() {
    let args = readme_main_command();
    assert!(
        args.iter().any(|a| a == "--mock") && args.iter().any(|a| a == "--heatmap"),
        "README's main command is no longer `--mock ... --heatmap`: {args:?}"
    );
    let input = args
        .iter()
        .find(|a| a.starts_with("examples/media/"))
        .expect("README's main command classifies a shipped sample");
    let name = Path::new(input).file_name().unwrap().to_str().unwrap();
    let stem = Path::new(name).file_stem().unwrap().to_str().unwrap();
    let dir = clone_with(&[name]);
    let out = bare().current_dir(dir.path()).args(&args).output().unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");

    let (heatmap, overlay) = (format!("{stem}.heatmap.png"), format!("{stem}.overlay.png"));
    assert_eq!(files_in(dir.path()), [heatmap.clone(), overlay.clone()]);
    assert!(
        stdout.contains(&format!("heatmap     saved to {heatmap}")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("overlay     saved to {overlay}")),
        "{stdout}"
    );
    // The mock serves no dashboard: no link to one.
    assert!(!stdout.contains("dashboard"), "{stdout}");

    let original = image::open(dir.path().join("examples/media").join(name)).unwrap();
    let made = image::open(dir.path().join(&overlay)).unwrap();
    assert_eq!(made.width(), original.width());
    assert_eq!(made.height(), original.height());
    assert_ne!(made.to_rgb8(), original.to_rgb8());

    // README shows this very file.
    let made = std::fs::read(dir.path().join(&overlay)).unwrap();
    let shown = repo().join(README_PNG);
    if std::env::var_os("UPDATE_README_PNG").is_some() {
        std::fs::write(&shown, &made).unwrap();
    }
    let committed = std::fs::read(&shown).unwrap_or_default();
    assert!(
        committed == made,
        "{README_PNG} is not what README's main command writes today; \
         UPDATE_README_PNG=1 cargo test --features cli --test cli first_run rewrites it"
    );
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("]({README_PNG})")),
        "README does not show {README_PNG}"
    );
}

/// A test-owned mock, and the binary pointed at it as the hint says.
fn server() -> MockServer {
    MockServer::start_with(
        MockConfig::default()
            .with_time_scale(0.01)
            .with_polls_until_done(1),
    )
}

fn cli(server: &MockServer, dir: &Path) -> Command {
    let mut cmd = bare();
    cmd.current_dir(dir)
        .env("IDENTIFAI_RATE_SCALE", "0.01")
        .args([
            "--base-url",
            &server.base_url(),
            "--api-key",
            server.api_key(),
        ]);
    cmd
}

#[test]
fn a_second_run_never_overwrites_and_json_names_both_files() {
    let server = server();
    let dir = clone_with(&["sunset.png"]);
    let run = |json: bool| {
        let mut cmd = cli(&server, dir.path());
        if json {
            cmd.arg("--json");
        }
        let out = cmd
            .args(["classify", "examples/media/sunset.png", "--heatmap"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let stdout = run(false);
    assert!(stdout.contains("saved to sunset.heatmap.png"), "{stdout}");
    // The user's own file of that name is kept: the pair moves to -2.
    std::fs::write(dir.path().join("sunset.heatmap.png"), b"mine").unwrap();
    let stdout = run(false);
    assert!(
        stdout.contains("saved to sunset-2.heatmap.png (sunset.heatmap.png exists, kept)"),
        "{stdout}"
    );
    assert!(stdout.contains("saved to sunset-2.overlay.png"), "{stdout}");
    assert_eq!(
        std::fs::read(dir.path().join("sunset.heatmap.png")).unwrap(),
        b"mine"
    );

    let v: Value = serde_json::from_str(run(true).trim()).unwrap();
    assert_eq!(v["heatmap"], "sunset-3.heatmap.png");
    assert_eq!(v["overlay"], "sunset-3.overlay.png");
    let hash = v["result"]["hash"].as_str().unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("sunset-3.heatmap.png")).unwrap(),
        identifai::mock::heatmap_png_for(hash)
    );
    let overlay = image::open(dir.path().join("sunset-3.overlay.png")).unwrap();
    assert_eq!((overlay.width(), overlay.height()), (96, 96));
    assert_eq!(
        files_in(dir.path()),
        [
            "sunset-2.heatmap.png",
            "sunset-2.overlay.png",
            "sunset-3.heatmap.png",
            "sunset-3.overlay.png",
            "sunset.heatmap.png",
            "sunset.overlay.png"
        ]
    );
}

/// Bytes that start like a PNG whose SHA-256 begins with an even byte (the
/// mock's verdict without a word in the name: `human`), distinct per `n`.
fn human_png(n: u32) -> Vec<u8> {
    (n * 1000..)
        .map(|i| {
            let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
            v.extend_from_slice(&i.to_be_bytes());
            v.extend_from_slice(&[7u8; 64]);
            v
        })
        .find(|v| Sha256::digest(v)[0] % 2 == 0)
        .unwrap()
}

/// PNG's chunk checksum.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

#[test]
fn pictures_that_do_not_decode_still_get_their_heatmap() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.png"), human_png(1)).unwrap();
    // A valid header that claims 100000×100000 pixels.
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut huge = b"\x89PNG\r\n\x1a\n\0\0\0\r".to_vec();
    huge.extend_from_slice(&ihdr);
    huge.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    huge.extend_from_slice(b"\0\0\0\0IDAT");
    huge.extend_from_slice(&crc32(b"IDAT").to_be_bytes());
    std::fs::write(dir.path().join("huge.png"), huge).unwrap();
    let out = cli(&server, dir.path())
        .args(["classify", "broken.png", "huge.png", "--heatmap"])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("saved to broken.heatmap.png"), "{stdout}");
    assert!(stdout.contains("saved to huge.heatmap.png"), "{stdout}");
    assert!(
        stdout.contains("overlay     not made: reading the size of broken.png"),
        "{stdout}"
    );
    assert!(
        stdout.contains("huge.png is 100000×100000 = 10000000000 pixels, over the"),
        "{stdout}"
    );
    assert!(!stdout.contains(".overlay.png"), "{stdout}");
    assert!(!dir.path().join("broken.overlay.png").exists());
}

#[test]
fn videos_get_no_heatmap_and_it_is_said_once() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    for (i, name) in ["a.mp4", "b.mp4"].into_iter().enumerate() {
        let mut v = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
        v.extend_from_slice(&(i as u32).to_be_bytes());
        v.extend_from_slice(&[1u8; 128]);
        std::fs::write(dir.path().join(name), v).unwrap();
    }
    let out = cli(&server, dir.path())
        .args(["classify", "a.mp4", "b.mp4", "--heatmap"])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(
        stderr
            .matches("--heatmap does not apply to videos; ignored")
            .count(),
        1,
        "{stderr}"
    );
    assert_eq!(stdout.matches("(video").count(), 2, "{stdout}");
    assert!(!stdout.contains("heatmap "), "{stdout}");
    assert_eq!(files_in(dir.path()), ["a.mp4", "b.mp4"]);
}

#[test]
fn mock_commands_that_need_an_earlier_run_say_how_to_keep_one() {
    let id = "ab".repeat(32);
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--mock", "result", id.as_str()],
        vec!["--mock", "heatmap", id.as_str(), "-o", "h.png"],
        vec!["--mock", "override", id.as_str(), "human"],
    ] {
        let out = bare().current_dir(dir.path()).args(&args).output().unwrap();
        let stderr = text(&out.stderr);
        // Exit 6: not found is about the input.
        assert_eq!(out.status.code(), Some(6), "{args:?}: {stderr}");
        assert!(stderr.contains("404"), "{args:?}: {stderr}");
        assert_eq!(
            stderr
                .matches("the --mock server starts empty for each command")
                .count(),
            1,
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains(
                "run `identifai mock --port 8080` in another terminal and pass \
                 `--base-url http://127.0.0.1:8080 --api-key mock-api-key`"
            ),
            "{args:?}: {stderr}"
        );
    }
    // Without --mock, a 404 is only the error.
    let server = server();
    let out = cli(&server, dir.path())
        .args(["result", &id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert!(!text(&out.stderr).contains("--mock server"));

    // What the hint says works: a server that outlives each command (the
    // mock's well-known key) knows what an earlier command made.
    assert_eq!(server.api_key(), "mock-api-key");
    let sample = repo().join("examples/media/sunset.png");
    let out = cli(&server, dir.path())
        .args(["classify", "--no-wait"])
        .arg(&sample)
        .output()
        .unwrap();
    let id = text(&out.stdout).trim().to_string();
    cli(&server, dir.path())
        .args(["result", "--wait", &id])
        .assert()
        .code(0);
}

#[test]
fn mock_verdicts_follow_words_not_letters_in_names() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let human = [
        "mountain.png",
        "email-header.png",
        "portrait.png",
        "train.png",
    ];
    let artificial = ["ai-mountain.png", "mountain-AI.png", "fake_portrait.png"];
    let mut args: Vec<PathBuf> = Vec::new();
    for (n, name) in human.iter().chain(&artificial).enumerate() {
        std::fs::write(dir.path().join(name), human_png(n as u32 + 10)).unwrap();
        args.push(name.into());
    }
    let out = cli(&server, dir.path())
        .args(["--json", "classify"])
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let records: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), human.len() + artificial.len());
    for r in records {
        let path = r["path"].as_str().unwrap();
        let expected = if human.contains(&path) {
            "human"
        } else {
            "artificial"
        };
        assert_eq!(r["verdict"], expected, "{path}");
    }
}
