//! `cargo xtask <command>`: see [`USAGE`].

use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use xtask::{bench, mutate, repo_root, spec, surface, vendor};

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  vendor [--pages FILE] [--from DIR | --origin URL] [--upstream DIR] [--check] [--add-unlisted]
      Read every page listed in openapi/pages.txt and copy its ````yaml block
      verbatim into openapi/upstream/, saying which files changed or were added.
      The pages are read from <repo>/../shared/seeds (the evidence folder), with
      and without --check; --from DIR (or --seeds DIR) reads another folder of
      copies, --origin URL fetches <URL>/<page path>.md with curl (--origin
      https://docs.identifai.net: the published pages). A page in the folder
      that the list does not name is an error; --add-unlisted lists it first
      (its URL from its rendered copy in ../shared/docs). --check writes nothing
      and fails if any file would change. When <repo>/../shared/docs exists, the
      rendered pages there are copied to openapi/pages/ (the page-examples test
      reads them), or with --check compared.
  spec [--upstream DIR] [--overlay PATH] [--out PATH] [--check]
      Merge openapi/upstream/*.yaml, apply openapi/overlay.yaml and write
      openapi/identifai.yaml. --check fails if the committed file is stale.
  contract
      Run the contract checks (identifai::contract, through `identifai contract`)
      against IDENTIFAI_BASE_URL with IDENTIFAI_API_KEY (the image by URL:
      IDENTIFAI_CONTRACT_IMAGE_URL); without a key, against the built-in MockServer.
  mutate [--addition]
      Run the conformance tests (the conformance binary's examples and roundtrip modules)
      against mutated copies of openapi/identifai.yaml (IDENTIFAI_SPEC); fails
      unless every mutation makes at least one test fail. Then, in a scratch copy,
      add two pages of a new kind and an operation, regenerate by the documented steps
      and require the tests, the mock and the command line to cover them with no
      edit. --addition: that last proof alone.
  surface [--check]
      Write the crate's whole public API (every feature; from rustdoc's JSON,
      built with RUSTC_BOOTSTRAP=1) to tests/public-api.txt, one item a line.
      --check writes nothing and fails, showing the difference, if it changed.
  bench [--quick] [--write] [--debug] [--only N] [--cold]
      Run the benchmarks (benches/client.rs in release, and the build benchmark)
      and write BENCHMARKS.md. --quick: small sizes, no build benchmark, seconds;
      prints only, unless --write. --debug: build the harness with `cargo test
      --all-features` (reuses the test build; for CI, figures not representative).
      --only N: section N alone (7: the build benchmark); with --write it replaces
      that section and its summary row in BENCHMARKS.md, keeping the others.
      --cold: only section 7's cold builds (a crate on identifai against one on
      reqwest + serde + tokio, each from nothing); prints their CPU ratio.";

/// Parsed command-line options shared by all commands.
#[derive(Default)]
struct Args {
    check: bool,
    add_unlisted: bool,
    seeds: Option<PathBuf>,
    pages: Option<PathBuf>,
    origin: Option<String>,
    upstream: Option<PathBuf>,
    overlay: Option<PathBuf>,
    out: Option<PathBuf>,
}

fn parse(command: &str, rest: &[String]) -> Result<Args> {
    let mut args = Args::default();
    let mut it = rest.iter();
    while let Some(flag) = it.next() {
        let slot = match (command, flag.as_str()) {
            (_, "--check") => {
                args.check = true;
                continue;
            }
            ("vendor", "--add-unlisted") => {
                args.add_unlisted = true;
                continue;
            }
            ("vendor", "--seeds" | "--from") => &mut args.seeds,
            ("vendor", "--pages") => &mut args.pages,
            ("vendor", "--origin") => {
                let value = it.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
                args.origin = Some(value.clone());
                continue;
            }
            (_, "--upstream") => &mut args.upstream,
            ("spec", "--overlay") => &mut args.overlay,
            ("spec", "--out") => &mut args.out,
            _ => bail!("unknown option {flag:?} for `{command}`"),
        };
        let value = it.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
        *slot = Some(PathBuf::from(value));
    }
    Ok(args)
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let result = match argv.split_first() {
        Some((cmd, rest)) if cmd == "vendor" || cmd == "spec" => {
            parse(cmd, rest).and_then(|args| {
                if cmd == "vendor" {
                    run_vendor(args)
                } else {
                    run_spec(args)
                }
            })
        }
        Some((cmd, _)) if cmd == "contract" => xtask::contract::run(&repo_root()),
        Some((cmd, rest)) if cmd == "mutate" => match rest.first().map(String::as_str) {
            Some("--addition") if rest.len() == 1 => mutate::run_addition(&repo_root()),
            Some(flag) => Err(anyhow!("unknown option {flag:?} for `mutate`")),
            None => mutate::run(&repo_root()),
        },
        Some((cmd, rest)) if cmd == "surface" => match rest {
            [] => surface::run(&repo_root(), false),
            [flag] if flag == "--check" => surface::run(&repo_root(), true),
            _ => Err(anyhow!("`surface` takes only --check")),
        },
        Some((cmd, rest)) if cmd == "bench" => {
            bench::parse(rest).and_then(|opts| bench::run(&repo_root(), &opts))
        }
        Some((cmd, _)) if cmd == "-h" || cmd == "--help" || cmd == "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => Err(anyhow!("expected a command\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_vendor(args: Args) -> Result<()> {
    let root = repo_root();
    let pages = args
        .pages
        .clone()
        .unwrap_or_else(|| root.join("openapi/pages.txt"));
    let upstream = args
        .upstream
        .clone()
        .unwrap_or_else(|| root.join("openapi/upstream"));
    if args.seeds.is_some() && args.origin.is_some() {
        bail!("--from and --origin exclude each other");
    }
    // One source, the same for vendoring and --check: the evidence folder
    // unless told otherwise. The advice below repeats the flags that chose it.
    let (source, flags) = match (&args.seeds, &args.origin) {
        (Some(dir), _) => (
            vendor::Source::Dir(dir.clone()),
            format!(" --from {}", dir.display()),
        ),
        (None, Some(origin)) => (
            vendor::Source::Http {
                origin: Some(origin.clone()),
            },
            format!(" --origin {origin}"),
        ),
        (None, None) => {
            let seeds = root.join("../shared/seeds");
            if !seeds.is_dir() {
                bail!(
                    "{} does not exist: pass --from DIR (a folder of the pages' copies) or \
                     --origin https://docs.identifai.net (fetch the published pages)",
                    seeds.display()
                );
            }
            (vendor::Source::Dir(seeds), String::new())
        }
    };
    let flags = match &args.pages {
        Some(p) => format!("{flags} --pages {}", p.display()),
        None => flags,
    };
    if args.check && args.add_unlisted {
        bail!("--check writes nothing: run --add-unlisted without it");
    }
    let mut list = vendor::read_list(&pages)?;
    if args.add_unlisted {
        let vendor::Source::Dir(dir) = &source else {
            bail!("--add-unlisted reads a folder of copies, not --origin");
        };
        let fragments = vendor::collect(&list, &source)?;
        let read: Vec<PathBuf> = fragments.iter().map(|(f, _)| PathBuf::from(f)).collect();
        let extra = vendor::unlisted(dir, &read)?;
        let docs = root.join("../shared/docs");
        let mut lines = String::new();
        let mut unknown = Vec::new();
        for (path, made) in &extra {
            let name = path.strip_prefix(dir).unwrap_or(path).display().to_string();
            match vendor::rendered_url(&docs, made) {
                Some(url) => {
                    println!("vendor: listing {url} {name} in {}", pages.display());
                    lines.push_str(&format!("{url} {name}\n"));
                }
                None => unknown.push((path.clone(), made.clone())),
            }
        }
        if !unknown.is_empty() {
            return Err(
                vendor::unlisted_error(dir, &pages, &unknown).context(format!(
                    "no rendered copy in {} names the URL of these; nothing was listed",
                    docs.display()
                )),
            );
        }
        if !lines.is_empty() {
            let mut text = fs::read_to_string(&pages)
                .with_context(|| format!("reading {}", pages.display()))?;
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&lines);
            fs::write(&pages, text).with_context(|| format!("writing {}", pages.display()))?;
            list = vendor::read_list(&pages)?;
        }
    }
    let outcome = vendor::run(&list, &source, &upstream, args.check, &pages)?;
    if args.check && !outcome.up_to_date() {
        bail!(
            "{} is out of date with {source}: run `cargo xtask vendor{flags}` and commit the result",
            upstream.display()
        );
    }
    // The rendered pages the page-examples test reads: copies of
    // ../shared/docs, checked (or refreshed) whenever that folder exists.
    let docs = root.join("../shared/docs");
    let rendered = root.join("openapi/pages");
    if docs.is_dir() {
        let o = vendor::run_rendered(&docs, &rendered, args.check)?;
        if args.check && !o.up_to_date() {
            bail!(
                "{} is out of date with {}: run `cargo xtask vendor` and commit the result",
                rendered.display(),
                docs.display()
            );
        }
        println!(
            "vendor: {} {} {} ({} changed, {} added, {} unchanged)",
            rendered.display(),
            if args.check {
                "up to date with"
            } else {
                "copied from"
            },
            docs.display(),
            o.changed.len(),
            o.added.len(),
            o.unchanged.len()
        );
    }
    let verb = if args.check {
        "up to date with"
    } else {
        "vendored from"
    };
    println!(
        "vendor: {} {verb} {source} ({} pages: {} changed, {} added, {} unchanged)",
        upstream.display(),
        list.len(),
        outcome.changed.len(),
        outcome.added.len(),
        outcome.unchanged.len()
    );
    Ok(())
}

fn run_spec(args: Args) -> Result<()> {
    let root = repo_root();
    let upstream = args
        .upstream
        .unwrap_or_else(|| root.join("openapi/upstream"));
    let overlay = args
        .overlay
        .unwrap_or_else(|| root.join("openapi/overlay.yaml"));
    let out = args
        .out
        .unwrap_or_else(|| root.join("openapi/identifai.yaml"));
    let built = spec::build(&upstream, &overlay)?;
    if args.check {
        if !out.exists() {
            bail!(
                "{} does not exist: run `cargo xtask spec` and commit the result",
                out.display()
            );
        }
        let committed =
            fs::read_to_string(&out).with_context(|| format!("reading {}", out.display()))?;
        if committed != built.text {
            eprint!(
                "{}",
                spec::short_diff(
                    &committed,
                    &built.text,
                    &out.display().to_string(),
                    "generated",
                    60
                )
            );
            bail!(
                "{} is out of date: run `cargo xtask spec` and commit the result",
                out.display()
            );
        }
        println!("spec: {} is up to date ({built})", out.display());
    } else {
        fs::write(&out, &built.text).with_context(|| format!("writing {}", out.display()))?;
        println!("spec: wrote {} ({built})", out.display());
    }
    // CONFORMANCE.md's table of the elements below `published`.
    let conformance = root.join("CONFORMANCE.md");
    let text = fs::read_to_string(&conformance)
        .with_context(|| format!("reading {}", conformance.display()))?;
    let table = xtask::evidence::table(&built.doc);
    let spliced = xtask::evidence::splice(&text, &table)
        .with_context(|| format!("{}: the evidence table", conformance.display()))?;
    if spliced == text {
        println!(
            "spec: the evidence table of {} is up to date",
            conformance.display()
        );
    } else if args.check {
        bail!(
            "the evidence table of {} is out of date: run `cargo xtask spec` and commit the result",
            conformance.display()
        );
    } else {
        fs::write(&conformance, &spliced)
            .with_context(|| format!("writing {}", conformance.display()))?;
        println!(
            "spec: wrote the evidence table of {}",
            conformance.display()
        );
    }
    Ok(())
}
