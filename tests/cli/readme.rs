//! README's shell snippets are real: every `identifai` command it shows is
//! a subcommand of the binary, every flag it passes is one that command's
//! `--help` lists, every repository path it names exists, its test command
//! is the one `.ci/run` runs, and every `cargo install` in the docs is
//! `--locked`. (Its Rust snippets run as doctests: `src/lib.rs`.)

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(name: &str) -> String {
    std::fs::read_to_string(root().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The lines of the ```sh blocks of `markdown`, comments cut off.
fn shell_lines(markdown: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut inside = false;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            inside = !inside && matches!(trimmed, "```sh" | "```bash" | "```shell");
            continue;
        }
        if inside {
            let command = line.split(" # ").next().unwrap_or("").trim();
            if !command.is_empty() {
                lines.push(command.to_string());
            }
        }
    }
    lines
}

/// The arguments of an `identifai` command line (`identifai ...` or
/// `cargo run --features cli -- ...`), up to a redirection or a pipe.
fn identifai_args(line: &str) -> Option<Vec<String>> {
    let rest = line
        .strip_prefix("identifai ")
        .or_else(|| line.strip_prefix("cargo run --features cli -- "))?;
    Some(
        rest.split_whitespace()
            .take_while(|t| !matches!(*t, ">" | "|" | "&&" | ";"))
            .map(str::to_string)
            .collect(),
    )
}

/// `identifai <args> --help`, if it succeeds.
fn help(args: &[&str]) -> Option<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_identifai"))
        .args(args)
        .arg("--help")
        .env_remove("IDENTIFAI_API_KEY")
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The long flags a help text lists, and those of them that take a value.
fn flags(help: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut all, mut valued) = (BTreeSet::new(), BTreeSet::new());
    for line in help.lines() {
        let mut words = line.split_whitespace().peekable();
        while let Some(word) = words.next() {
            let Some(name) = word.trim_end_matches(',').strip_prefix("--") else {
                continue;
            };
            let name = name.trim_end_matches([']', '.', ',']).to_string();
            if words.peek().is_some_and(|w| w.starts_with('<')) {
                valued.insert(name.clone());
            }
            all.insert(name);
        }
    }
    (all, valued)
}

#[test]
fn readmes_commands_and_flags_exist() {
    let readme = read("README.md");
    let top = help(&[]).expect("identifai --help");
    let (global, global_valued) = flags(&top);
    let mut checked = 0;
    for line in shell_lines(&readme) {
        for token in line.split_whitespace() {
            if token.starts_with("examples/") {
                assert!(root().join(token).exists(), "README names {token}: {line}");
            }
        }
        let Some(args) = identifai_args(&line) else {
            continue;
        };
        // Global flags, then the subcommand.
        let mut rest = args.iter().map(String::as_str);
        let sub = loop {
            let token = rest
                .next()
                .unwrap_or_else(|| panic!("no subcommand: {line}"));
            let Some(flag) = token.strip_prefix("--") else {
                break token;
            };
            let flag = flag.split('=').next().unwrap();
            assert!(
                global.contains(flag),
                "`identifai --help` has no --{flag}: {line}"
            );
            if global_valued.contains(flag) && !token.contains('=') {
                rest.next();
            }
        };
        let rest: Vec<&str> = rest.collect();
        // `identifai api <operation> --help` lists the operation's flags.
        let page = rest
            .first()
            .filter(|t| !t.starts_with('-'))
            .and_then(|t| help(&[sub, t]))
            .or_else(|| help(&[sub]))
            .unwrap_or_else(|| panic!("`identifai {sub}` is no command: {line}"));
        let (known, _) = flags(&page);
        for token in &rest {
            if let Some(flag) = token.strip_prefix("--") {
                let flag = flag.split('=').next().unwrap();
                assert!(
                    known.contains(flag),
                    "`identifai {sub} --help` has no --{flag}: {line}"
                );
            }
        }
        checked += 1;
    }
    assert!(
        checked >= 10,
        "only {checked} identifai commands found in README"
    );
}

#[test]
fn readmes_test_command_is_the_one_ci_runs() {
    let readme = read("README.md");
    let first = shell_lines(&readme);
    assert!(
        first[0].starts_with("cargo run --features cli -- --mock "),
        "README starts with the main job on the mock: {}",
        first[0]
    );
    let tests = &first[1];
    assert!(tests.starts_with("cargo test"), "{tests}");
    let ci = read(".ci/run");
    assert!(
        ci.lines().any(|l| l.trim() == tests),
        ".ci/run does not run README's test command `{tests}`"
    );
}

#[test]
fn every_cargo_install_in_the_docs_is_locked() {
    for doc in [
        "README.md",
        "CONFORMANCE.md",
        "ARCHITECTURE.md",
        "BENCHMARKS.md",
    ] {
        for line in read(doc).lines() {
            if line.contains("cargo install ") {
                assert!(line.contains("--locked"), "{doc}: {line}");
            }
        }
    }
}
