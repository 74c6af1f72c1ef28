//! The binary's help texts and messages say exactly what it does: audio
//! everywhere, only the exit codes and flags a subcommand has, global flags
//! anywhere on the line, and what a skipped file or an unsaveable format is.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::bare_process as bare;
use identifai::mock::{MockConfig, MockServer};

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/media")
        .join(name)
}

/// `(exit, stdout, stderr)`.
fn run(cmd: &mut Command) -> (Option<i32>, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn help(args: &[&str]) -> String {
    let (exit, stdout, stderr) = run(bare().args(args).arg("--help"));
    assert_eq!(exit, Some(0), "{args:?}: {stderr}");
    stdout
}

/// The exit codes a `--help` lists.
fn exit_codes(help: &str) -> Vec<u8> {
    let section = &help[help.find("Exit codes:").expect("an exit code section")..];
    section
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

#[test]
fn help_says_images_videos_and_audio() {
    for args in [&[][..], &["classify"][..]] {
        let text = help(args);
        assert!(
            text.contains("images, videos and audio"),
            "{args:?}: {text}"
        );
        assert!(!text.contains("images and videos"), "{args:?}: {text}");
    }
}

#[test]
fn each_help_lists_only_the_exit_codes_its_command_can_return() {
    assert_eq!(exit_codes(&help(&[])), [0, 1, 2, 3, 4, 5, 6, 7, 8, 130]);
    assert_eq!(
        exit_codes(&help(&["batch"])),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 130]
    );
    assert_eq!(
        exit_codes(&help(&["classify"])),
        [0, 1, 2, 3, 4, 5, 6, 7, 8]
    );
    assert_eq!(exit_codes(&help(&["result"])), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(exit_codes(&help(&["api"])), [0, 1, 2, 4, 5, 6, 7]);
    assert_eq!(
        exit_codes(&help(&["api", "get_image_classification"])),
        [0, 1, 2, 4, 5, 6, 7]
    );
    // No --fail-on, no batch: no 3, no 4.
    assert_eq!(exit_codes(&help(&["contract"])), [0, 1, 2, 5]);
}

#[test]
fn mock_and_completions_help_offer_only_their_flags() {
    let mock = help(&["mock"]);
    for flag in [
        "--mock",
        "--mock-quirks",
        "--base-url",
        "--api-key",
        "--json",
        "--pacer",
    ] {
        assert!(
            !mock.lines().any(|l| l.trim_start().starts_with(flag)),
            "mock --help offers {flag}: {mock}"
        );
    }
    assert!(
        mock.contains("--quirks") && mock.contains("--port"),
        "{mock}"
    );
    let completions = help(&["completions"]);
    for flag in [
        "--mock",
        "--base-url",
        "--api-key",
        "--json",
        "--pacer",
        "--verbose",
    ] {
        assert!(
            !completions.contains(flag),
            "completions --help offers {flag}"
        );
    }
}

#[test]
fn global_flags_are_taken_after_the_subcommand() {
    let sunset = sample("sunset.png");
    for tail in [
        &["--mock-quirks", "--mock"][..],
        &["--mock", "--mock-quirks"],
        &["--mock-quirks"],
    ] {
        let (exit, stdout, stderr) =
            run(bare().arg("classify").arg(&sunset).args(tail).arg("--json"));
        assert_eq!(exit, Some(0), "{tail:?}: {stderr}");
        let record: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(record["status"], "done", "{tail:?}: {stdout}");
    }
}

#[test]
fn a_heatmap_in_a_format_not_saved_lists_those_that_are() {
    let server = MockServer::start_with(MockConfig::default().with_rate_limits(None));
    let (exit, _, stderr) = run(bare()
        .args([
            "--base-url",
            &server.base_url(),
            "--api-key",
            server.api_key(),
        ])
        .args(["heatmap", &"a".repeat(64), "-o", "c.bmp"]));
    assert_eq!(exit, Some(2), "{stderr}");
    assert!(
        stderr.contains(".png, .jpg, .jpeg, .webp, .tif, .tiff or .gif"),
        "{stderr}"
    );
    assert_eq!(server.stats().requests, 0, "refused before fetching");
}

#[test]
fn batch_says_which_files_it_skipped_and_why() {
    let server = MockServer::start_with(
        MockConfig::default()
            .with_time_scale(0.01)
            .with_polls_until_done(1)
            .with_rate_limits(None),
    );
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    std::fs::create_dir(&media).unwrap();
    std::fs::copy(sample("sunset.png"), media.join("sunset.png")).unwrap();
    std::fs::write(media.join("notes.txt"), b"a note, not a picture\n").unwrap();
    let (exit, _, stderr) = run(bare()
        .args([
            "--base-url",
            &server.base_url(),
            "--api-key",
            server.api_key(),
        ])
        .arg("batch")
        .arg(&media)
        .arg("--out")
        .arg(dir.path().join("r.jsonl")));
    assert_eq!(exit, Some(0), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("notes.txt"))
        .unwrap_or_else(|| panic!("notes.txt not named: {stderr}"));
    assert!(
        line.starts_with("skipped ") && line.contains("not an image, video or audio file"),
        "{line}"
    );
    assert!(!stderr.contains("sunset.png"), "{stderr}");
}
