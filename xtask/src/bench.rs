//! `cargo xtask bench [--quick] [--write] [--only N] [--cold]`: runs the benchmark
//! harness (`benches/client.rs`, in release) and, in full mode, the build
//! benchmark (section [`BUILD_SECTION`]); prints the tables and writes
//! BENCHMARKS.md (full mode, or `--write`) with the command, the date and
//! the machine.
//!
//! BENCHMARKS.md is regenerated above [`NOTES_MARKER`]; what follows the
//! marker (hand-written analysis) is kept. With `--only N --write` only
//! section N and its summary row are replaced ([`splice`]).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime};

use anyhow::{bail, Context, Result};

/// Everything below this line of BENCHMARKS.md is kept across runs.
pub const NOTES_MARKER: &str =
    "<!-- Hand-written notes below this line are kept by `cargo xtask bench`. -->";

/// The number of the build benchmark's section (the harness has the ones
/// before it).
pub const BUILD_SECTION: u32 = 7;

/// Options of `cargo xtask bench`.
#[derive(Debug, Default)]
pub struct Options {
    /// Small sizes, seconds in all; no build benchmark; prints only.
    pub quick: bool,
    /// Write BENCHMARKS.md even in quick mode.
    pub write: bool,
    /// Build the harness in the test profile with all features (`cargo
    /// test`), reusing what `cargo test --workspace --all-features` built:
    /// for CI, where the point is that it runs; its figures mean little.
    pub debug: bool,
    /// Run section N alone; with `write`, splice it into BENCHMARKS.md.
    pub only: Option<u32>,
    /// Run only section 7's cold-build comparison and print it.
    pub cold: bool,
}

/// Parses the options after `bench`.
pub fn parse(rest: &[String]) -> Result<Options> {
    let mut o = Options::default();
    let mut rest = rest.iter();
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--write" => o.write = true,
            "--debug" => o.debug = true,
            "--cold" => o.cold = true,
            "--only" => {
                let n = rest.next().and_then(|n| n.parse::<u32>().ok());
                match n {
                    Some(n @ 1..=BUILD_SECTION) => o.only = Some(n),
                    _ => bail!("--only takes a section number from 1 to {BUILD_SECTION}"),
                }
            }
            other => {
                bail!("unknown option {other:?} for `bench` (expected --quick, --write, --debug, --only N, --cold)")
            }
        }
    }
    if o.cold && (o.quick || o.write || o.debug || o.only.is_some()) {
        bail!("--cold runs alone and prints only (no --quick, --write, --debug or --only)");
    }
    Ok(o)
}

/// The cargo that runs this xtask (`$CARGO`), else the one on the PATH.
pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// The workspace's target directory (`$CARGO_TARGET_DIR`, else `target/`).
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// Runs the benchmarks; see the module docs.
pub fn run(root: &Path, opts: &Options) -> Result<()> {
    let started = Instant::now();
    if opts.cold {
        let cold = cold_bench(root)?;
        print!("{}", cold.text);
        eprintln!(
            "bench: cold-build comparison in {:.0} s",
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    // `cli` builds the `identifai` binary next to the harness (section 6
    // runs it); `--all-features` has it.
    let mut args = if opts.debug {
        vec!["test", "--package", "identifai", "--all-features"]
    } else {
        vec![
            "bench",
            "--package",
            "identifai",
            "--features",
            "mock,redis,cli",
        ]
    };
    args.extend(["--bench", "client", "--"]);
    if opts.quick {
        args.push("--quick");
    }
    let only = opts.only.map(|n| n.to_string());
    if let Some(n) = &only {
        args.extend(["--only", n]);
    }
    let mut tables = String::new();
    if opts.only != Some(BUILD_SECTION) {
        eprintln!("bench: cargo {}", args.join(" "));
        let output = Command::new(cargo())
            .current_dir(root)
            .args(&args)
            .stderr(Stdio::inherit())
            .output()
            .context("running cargo bench")?;
        if !output.status.success() {
            bail!("the benchmark harness failed");
        }
        tables = String::from_utf8(output.stdout).context("harness output")?;
    }
    let harness_secs = started.elapsed().as_secs_f64();

    if opts.only == Some(BUILD_SECTION) {
        let build = build_bench(root)?;
        tables = format!(
            "## Summary\n\n| # | benchmark | figure | goal | met |\n|---|---|---|---|---|\n{}\n\n{}",
            build.summary_row, build.section
        );
    } else if !opts.quick && opts.only.is_none() {
        let build = build_bench(root)?;
        // The build row joins the harness's summary table.
        if let Some(at) = tables.find("\n\n## 1.") {
            tables.insert_str(at, &format!("\n{}", build.summary_row));
        }
        tables.push_str(&build.section);
    }
    let total_secs = started.elapsed().as_secs_f64();

    let mut command = String::from("cargo xtask bench");
    if opts.quick {
        command.push_str(" --quick");
    }
    if opts.write {
        command.push_str(" --write");
    }
    if opts.debug {
        command.push_str(" --debug");
    }
    if let Some(n) = &only {
        command.push_str(&format!(" --only {n}"));
    }
    let report = format!(
        "# Benchmarks\n\n\
         Generated by `{command}`; everything above the notes marker is rewritten by it. \
         Every figure is a ratio against a baseline measured in the same run, on loopback.\n\n\
         | | |\n|---|---|\n\
         | command | `{command}` |\n\
         | date | {} |\n\
         | machine | {} cores (`nproc`), {} |\n\
         | OS | {} |\n\
         | rustc | {} |\n\
         | run time | {total_secs:.0} s in all, of which {harness_secs:.0} s building and running the harness |\n\n\
         {tables}",
        date(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model(),
        one_line("uname", &["-srm"]),
        one_line("rustc", &["-V"]),
    );
    print!("{report}");
    if let (Some(n), true) = (opts.only, opts.write) {
        let path = root.join("BENCHMARKS.md");
        let old =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let stamp = format!(
            "Measured by `{command}` on {}, {} cores (`nproc`), {}, {total_secs:.0} s in all \
             (the table at the top describes the last full run).",
            date(),
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model(),
        );
        let new = splice(&old, &tables, n, &stamp)?;
        fs::write(&path, new).with_context(|| format!("writing {}", path.display()))?;
        eprintln!(
            "bench: replaced section {n} of {} in {total_secs:.0} s",
            path.display()
        );
    } else if opts.only.is_none() && (!opts.quick || opts.write) {
        let path = root.join("BENCHMARKS.md");
        let notes = fs::read_to_string(&path)
            .ok()
            .and_then(|old| old.find(NOTES_MARKER).map(|at| old[at..].to_string()))
            .unwrap_or_else(|| format!("{NOTES_MARKER}\n"));
        fs::write(&path, format!("{report}\n{notes}"))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("bench: wrote {} in {total_secs:.0} s", path.display());
    }
    Ok(())
}

/// `old` (BENCHMARKS.md) with section `n` and its summary row taken from
/// `tables` (a run of that section alone): the section `## n. ...` replaced
/// up to the next `## ` heading (or the notes marker), or put before the
/// first section numbered above `n`; the summary row `| n | ...` replaced,
/// or put after the last row numbered below `n`. `stamp` (what run it
/// comes from) follows the section's heading paragraph.
pub fn splice(old: &str, tables: &str, n: u32, stamp: &str) -> Result<String> {
    let heading = format!("## {n}. ");
    let row_start = format!("| {n} | ");
    let Some(at) = tables.find(&heading) else {
        bail!("the run printed no section {n}");
    };
    let section = tables[at..].trim_end();
    // After the heading's first paragraph.
    let paragraph_end = section
        .find("\n\n")
        .and_then(|p| section[p + 2..].find("\n\n").map(|q| p + 2 + q));
    let section = match paragraph_end {
        Some(p) => format!("{}\n\n{stamp}{}\n\n", &section[..p], &section[p..]),
        None => format!("{section}\n\n{stamp}\n\n"),
    };
    let Some(row) = tables.lines().find(|l| l.starts_with(&row_start)) else {
        bail!("the run printed no summary row {n}");
    };
    let notes = old.find(NOTES_MARKER).unwrap_or(old.len());
    let (body, tail) = old.split_at(notes);
    // The numbered `## k. ` headings of the generated part, with offsets.
    let numbered = |text: &str| -> Vec<(usize, u32)> {
        let mut found = Vec::new();
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            if let Some(rest) = line.strip_prefix("## ") {
                if let Some((k, _)) = rest.split_once(". ") {
                    if let Ok(k) = k.parse() {
                        found.push((offset, k));
                    }
                }
            }
            offset += line.len();
        }
        found
    };
    let headings = numbered(body);
    let mut body = body.to_string();
    match headings.iter().position(|&(_, k)| k == n) {
        Some(i) => {
            let start = headings[i].0;
            let end = headings.get(i + 1).map_or(body.len(), |&(o, _)| o);
            body.replace_range(start..end, &section);
        }
        None => {
            let at = headings
                .iter()
                .find(|&&(_, k)| k > n)
                .map_or(body.len(), |&(o, _)| o);
            body.insert_str(at, &section);
        }
    }
    // The summary row, in the table under `## Summary` (other tables have
    // numbered rows too).
    let mut lines: Vec<String> = body.split_inclusive('\n').map(str::to_string).collect();
    let Some(top) = lines.iter().position(|l| l.trim_end() == "## Summary") else {
        bail!("BENCHMARKS.md has no `## Summary`");
    };
    let end = lines[top + 1..]
        .iter()
        .position(|l| l.starts_with("## "))
        .map_or(lines.len(), |p| top + 1 + p);
    let number =
        |l: &str| -> Option<u32> { l.strip_prefix("| ")?.split_once(" | ")?.0.parse().ok() };
    let rows = top..end;
    let row = format!("{row}\n");
    if let Some(i) = rows.clone().find(|&i| lines[i].starts_with(&row_start)) {
        lines[i] = row;
    } else if let Some(i) = rows
        .rev()
        .find(|&i| number(&lines[i]).is_some_and(|k| k < n))
    {
        lines.insert(i + 1, row);
    } else {
        bail!("the summary table of BENCHMARKS.md has no row before {n}");
    }
    let mut out = lines.concat();
    out.push_str(tail);
    Ok(out)
}

fn one_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

fn date() -> String {
    let d = one_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    if d != "unknown" {
        return d;
    }
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("{secs} s after the Unix epoch")
}

fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

struct BuildReport {
    section: String,
    summary_row: String,
}

/// `cargo build --lib` (default features) in `dir`; its time and its
/// `-v` output.
fn build_lib(root: &Path, dir: &Path, verbose: bool) -> Result<(f64, String)> {
    let mut cmd = Command::new(cargo());
    cmd.current_dir(root)
        .args(["build", "--lib", "--package", "identifai", "--target-dir"])
        .arg(dir);
    if verbose {
        cmd.arg("-v");
    }
    let t = Instant::now();
    let output = cmd.output().context("running cargo build")?;
    let secs = t.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        bail!("cargo build --lib failed:\n{text}");
    }
    Ok((secs, text))
}

/// Whether cargo's `-v` output shows identifai's build script being run.
fn build_script_ran(verbose: &str) -> bool {
    verbose.lines().any(|l| {
        l.trim_start().starts_with("Running")
            && l.contains("/identifai-")
            && l.contains("build-script-build")
    })
}

fn touch(path: &Path) -> Result<()> {
    fs::File::options()
        .append(true)
        .open(path)
        .and_then(|f| f.set_modified(SystemTime::now()))
        .with_context(|| format!("touching {}", path.display()))
}

/// The goal of the cold-build comparison: a dependent crate's CPU time at
/// most this multiple of the reqwest + serde + tokio crate's.
const COLD_GOAL: f64 = 1.10;

/// The dependent crate of the cold-build comparison: identifai with default
/// features, the README's first example.
const DEPENDENT_MAIN: &str = r#"use identifai::{api::forms::ImageOptions, Client, Source};

#[tokio::main]
async fn main() -> identifai::Result<()> {
    let client = Client::from_env()?;
    let result = client
        .classify_image(Source::path("photo.jpg"))
        .options(ImageOptions::new().with_heatmap(true))
        .wait()
        .await?;
    if let Some(v) = result.effective_verdict() {
        println!("{} ({:?})", v.classification, v.source);
    }
    Ok(())
}
"#;

/// The baselines of the cold-build comparison: the same job with reqwest,
/// serde and tokio directly (a multipart upload, then polling for the
/// JSON). `{provider}` is where the ring baseline installs its provider.
const DIRECT_MAIN: &str = r#"use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Submitted {
    identifier: String,
}

#[derive(Debug, Deserialize)]
struct Verdict {
    status: String,
    classification: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
{provider}    let key = std::env::var("IDENTIFAI_API_KEY")?;
    let http = reqwest::Client::new();
    let bytes = tokio::fs::read("photo.jpg").await?;
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name("photo.jpg"))
        .text("heatmap", "1");
    let sub: Submitted = http
        .post("https://api.identifai.net/api/upload/image")
        .header("X-Api-Key", &key)
        .multipart(form)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    loop {
        let v: Verdict = http
            .get(format!("https://api.identifai.net/api/image/{}", sub.identifier))
            .header("X-Api-Key", &key)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        if v.status == "done" {
            println!("{:?}", v.classification);
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
}
"#;

/// A baseline crate: its name, reqwest's features (besides `json`,
/// `multipart`, `http2`, `charset`), further dependencies, the line of
/// `main` that installs a crypto provider, and its build-dependencies (a
/// `build.rs` using them is written when there are any).
struct Baseline {
    name: &'static str,
    tls_feature: &'static str,
    extra_deps: &'static str,
    provider: &'static str,
    build_deps: &'static str,
}

/// The build script of the progenitor baseline: progenitor's generator run
/// at build time, as identifai's build.rs runs it, on an empty document (the
/// least a client generated by progenitor in `build.rs` costs to build).
const PROGENITOR_BUILD_RS: &str = r###"fn main() {
    let spec: openapiv3::OpenAPI = serde_json::from_str(
        r##"{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{}}"##,
    )
    .unwrap();
    let code = progenitor_impl::Generator::default().generate_tokens(&spec).unwrap();
    std::fs::write(std::env::var("OUT_DIR").unwrap() + "/api.rs", code.to_string()).unwrap();
}
"###;

/// What a user of reqwest writes: reqwest's `rustls` feature (its default
/// TLS, aws-lc-rs); and the same crate with ring, identifai's default.
const BASELINES: [Baseline; 3] = [
    Baseline {
        name: "direct",
        tls_feature: "rustls",
        extra_deps: "",
        provider: "",
        build_deps: "",
    },
    Baseline {
        name: "direct-ring",
        tls_feature: "rustls-no-provider",
        extra_deps: "rustls = { version = \"0.23\", default-features = false, features = [\"ring\", \"std\", \"tls12\"] }\n",
        provider: "    let _ = rustls::crypto::ring::default_provider().install_default();\n",
        build_deps: "",
    },
    Baseline {
        name: "direct-ring-progenitor",
        tls_feature: "rustls-no-provider",
        extra_deps: "rustls = { version = \"0.23\", default-features = false, features = [\"ring\", \"std\", \"tls12\"] }\n",
        provider: "    let _ = rustls::crypto::ring::default_provider().install_default();\n",
        build_deps: "progenitor-impl = \"0.15.1\"\nopenapiv3 = \"2\"\nserde_json = \"1\"\n",
    },
];

fn direct_manifest(b: &Baseline, reqwest: &str) -> String {
    format!(
        "[package]\nname = \"{}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [workspace]\n\n\
         [dependencies]\n\
         reqwest = {{ version = \"={reqwest}\", default-features = false, features = [\"json\", \"multipart\", \"http2\", \"charset\", \"{}\"] }}\n\
         {}\
         serde = {{ version = \"1\", features = [\"derive\"] }}\n\
         serde_json = \"1\"\n\
         tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\", \"fs\", \"time\"] }}\n{}",
        b.name,
        b.tls_feature,
        b.extra_deps,
        if b.build_deps.is_empty() {
            String::new()
        } else {
            format!("\n[build-dependencies]\n{}", b.build_deps)
        },
    )
}

fn dependent_manifest(root: &Path) -> String {
    format!(
        "[package]\nname = \"dependent\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [workspace]\n\n\
         [dependencies]\n\
         identifai = {{ path = {:?} }}\n\
         tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n",
        root.display().to_string()
    )
}

/// The version of `name` in `Cargo.lock` (the first one listed).
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let needle = format!("name = \"{name}\"\nversion = \"");
    let at = lock.find(&needle)? + needle.len();
    let end = lock[at..].find('"')?;
    Some(lock[at..at + end].to_string())
}

/// The CPU time (user + system, seconds) of every waited-for descendant
/// of this process so far.
#[cfg(unix)]
fn children_cpu() -> f64 {
    // SAFETY: getrusage writes the struct it is given and nothing else.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(u.ru_utime) + secs(u.ru_stime)
}

#[cfg(not(unix))]
fn children_cpu() -> f64 {
    f64::NAN
}

/// One cold build of the crate in `dir` (its own fresh target directory,
/// offline, against identifai's Cargo.lock): CPU seconds, wall seconds,
/// units compiled, target directory size in MB.
struct Cold {
    cpu: f64,
    wall: f64,
    units: usize,
    mb: f64,
}

fn cold_build(dir: &Path, lock: &str) -> Result<Cold> {
    fs::write(dir.join("Cargo.lock"), lock)?;
    let target = dir.join("target");
    eprintln!("bench: cold build of {}", dir.display());
    let cpu0 = children_cpu();
    let t = Instant::now();
    let output = Command::new(cargo())
        .current_dir(dir)
        .args(["build", "--offline", "--target-dir"])
        .arg(&target)
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .output()
        .with_context(|| format!("running cargo build in {}", dir.display()))?;
    let wall = t.elapsed().as_secs_f64();
    let cpu = children_cpu() - cpu0;
    let text = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("cargo build in {} failed:\n{text}", dir.display());
    }
    eprintln!("bench: {cpu:.1} s CPU, {wall:.1} s wall");
    let units = text
        .lines()
        .filter(|l| l.trim_start().starts_with("Compiling "))
        .count();
    Ok(Cold {
        cpu,
        wall,
        units,
        mb: dir_size(&target) as f64 / 1e6,
    })
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

fn write_crate(dir: &Path, manifest: &str, main: &str) -> Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    fs::create_dir_all(dir.join("src"))?;
    fs::write(dir.join("Cargo.toml"), manifest)?;
    fs::write(dir.join("src/main.rs"), main)?;
    Ok(())
}

/// The cold-build comparison: a crate using identifai (default features)
/// against a crate using reqwest + serde + tokio directly, each built from
/// nothing in its own target directory; the CPU ratio.
struct ColdReport {
    text: String,
    ratio: f64,
}

fn cold_bench(root: &Path) -> Result<ColdReport> {
    let base = target_dir(root).join("bench-cold");
    let lock = fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let reqwest = locked_version(&lock, "reqwest").context("no reqwest in Cargo.lock")?;
    // The dependent first: with the first baseline, the goal's ratio.
    let dir = base.join("dependent");
    write_crate(&dir, &dependent_manifest(root), DEPENDENT_MAIN)?;
    let dependent = cold_build(&dir, &lock)?;
    let mut rows = Vec::new();
    for b in &BASELINES {
        let dir = base.join(b.name);
        write_crate(
            &dir,
            &direct_manifest(b, &reqwest),
            &DIRECT_MAIN.replace("{provider}", b.provider),
        )?;
        if !b.build_deps.is_empty() {
            fs::write(dir.join("build.rs"), PROGENITOR_BUILD_RS)?;
        }
        let c = cold_build(&dir, &lock)?;
        eprintln!(
            "bench: dependent's CPU {:.2}x {}'s",
            dependent.cpu / c.cpu,
            b.name
        );
        rows.push((b.name, c));
    }
    let ratio = dependent.cpu / rows[0].1.cpu;
    let ring_ratio = dependent.cpu / rows[1].1.cpu;
    eprintln!("bench: cold-build CPU ratio {ratio:.2}x ({ring_ratio:.2}x against direct-ring)");
    let mut table = String::from(
        "| crate | CPU (s) | wall (s) | units compiled | target dir (MB) | dependent's CPU against it |\n\
         |---|---|---|---|---|---|\n",
    );
    for (name, c) in &rows {
        table.push_str(&format!(
            "| {name} | {:.1} | {:.1} | {} | {:.0} | **{:.2}x** |\n",
            c.cpu,
            c.wall,
            c.units,
            c.mb,
            dependent.cpu / c.cpu
        ));
    }
    table.push_str(&format!(
        "| dependent (identifai) | {:.1} | {:.1} | {} | {:.0} | |\n",
        dependent.cpu, dependent.wall, dependent.units, dependent.mb
    ));
    // What progenitor at build time costs by itself, and what the goal leaves
    // for everything identifai adds beyond it.
    let (direct, ring, floor) = (rows[0].1.cpu, rows[1].1.cpu, rows[2].1.cpu);
    let budget = format!(
        "Progenitor's generator at build time costs {:.1} s of CPU by itself \
         (**direct-ring-progenitor** less **direct-ring**). Under the goal, all that identifai \
         adds beyond it (its own crate, its generator crate, the YAML parser, its run-time \
         dependencies) may cost {:.1} s ({COLD_GOAL:.2} x **direct** less \
         **direct-ring-progenitor**); it costs {:.1} s (**dependent** less \
         **direct-ring-progenitor**).\n",
        floor - ring,
        COLD_GOAL * direct - floor,
        dependent.cpu - floor,
    );
    let text = format!(
        "### Cold build of a dependent crate\n\n\
         Four small binary crates are generated under `<target>/bench-cold/` and each is built \
         once with `cargo build --offline` (dev profile, `CARGO_INCREMENTAL=0`) in a fresh \
         target directory of its own, one after the other (`cargo xtask bench --cold` runs them alone), against this repository's \
         `Cargo.lock`. **dependent** uses identifai with default features (a path dependency \
         on this checkout; README's first example) and tokio. **direct** does the same job \
         (a multipart upload, then polling for the JSON) with reqwest {reqwest} \
         (`default-features = false`; `json`, `multipart`, `http2`, `charset` and `rustls`, \
         reqwest's own TLS, whose crypto provider is aws-lc-rs), serde (`derive`), serde_json \
         and tokio: what a user writes without identifai. **direct-ring** is the same with \
         `rustls-no-provider` and rustls's `ring` provider installed in `main`, the TLS of \
         identifai's default features. **direct-ring-progenitor** is direct-ring with \
         progenitor-impl as a build-dependency and a `build.rs` that runs its generator on an \
         empty document: the least that any client generated by progenitor at build time \
         costs. The CPU time is user + system of cargo and everything \
         it ran (`getrusage(RUSAGE_CHILDREN)`); the goal (at most {COLD_GOAL:.2}x) is against \
         **direct**.\n\n{table}\n{budget}\n",
    );
    Ok(ColdReport { text, ratio })
}

/// Clean build time of the library, and whether build.rs reruns.
fn build_bench(root: &Path) -> Result<BuildReport> {
    let cold = cold_bench(root)?;
    let dir = target_dir(root).join("bench-build");
    eprintln!("bench: build benchmark in {}", dir.display());
    // Warm-up: the dependencies (slow only the first time this dir is used).
    let (warm, _) = build_lib(root, &dir, false)?;
    let status = Command::new(cargo())
        .current_dir(root)
        .args(["clean", "--package", "identifai", "--target-dir"])
        .arg(&dir)
        .status()
        .context("cargo clean -p identifai")?;
    if !status.success() {
        bail!("cargo clean -p identifai failed");
    }
    let (clean, clean_log) = build_lib(root, &dir, true)?;
    let clean_ran = build_script_ran(&clean_log);
    touch(&root.join("src/lib.rs"))?;
    let (src, src_log) = build_lib(root, &dir, true)?;
    let src_ran = build_script_ran(&src_log);
    let src_compiled = src_log.contains("Compiling identifai");
    touch(&root.join("openapi/identifai.yaml"))?;
    let (spec, spec_log) = build_lib(root, &dir, true)?;
    let spec_ran = build_script_ran(&spec_log);
    let proof = !src_ran && src_compiled && spec_ran && clean_ran;
    let mark = |b: bool| if b { "yes" } else { "no" };
    let section = format!(
        "## 7. Build\n\n{}\
         ### The library's own build\n\n\
         `cargo build --lib` (dev profile, default features) in a target directory of its own \
         (`<target>/bench-build`, so the dev cache is not touched). The dependencies are built \
         first (warm-up, {warm:.1} s this run); then `cargo clean -p identifai` and the timed \
         build, which compiles and runs `build.rs` (the generator) and compiles the library. \
         Then `src/lib.rs` is touched and the library rebuilt with `-v`: the build script must \
         not run again; then `openapi/identifai.yaml` is touched: it must.\n\n\
         | step | time (s) | identifai's `build-script-build` ran |\n|---|---|---|\n\
         | clean build of the library (after `cargo clean -p identifai`) | {clean:.1} | {} |\n\
         | rebuild after touching `src/lib.rs` | {src:.1} | {} (library recompiled: {}) |\n\
         | rebuild after touching `openapi/identifai.yaml` | {spec:.1} | {} |\n\n\
         build.rs declares `cargo:rerun-if-changed=openapi` and `cargo:rerun-if-changed=build.rs` \
         only, so a change under `src/` recompiles the library without regenerating it \
         ({:.0}% of the clean build time).\n",
        cold.text,
        mark(clean_ran),
        mark(src_ran),
        mark(src_compiled),
        mark(spec_ran),
        100.0 * src / clean,
    );
    let summary_row = format!(
        "| 7 | cold build of a dependent crate (CPU) against reqwest + serde + tokio; clean build of the library; build.rs rerun on `src/` change | {:.2}x; {clean:.1} s clean, {src:.1} s after a `src/` change; build.rs reran: on `src/` change {}, on spec change {} | <= {COLD_GOAL:.2}x; no rerun on `src/` change | {} |",
        cold.ratio,
        mark(src_ran),
        mark(spec_ran),
        if proof && cold.ratio <= COLD_GOAL { "yes" } else { "**no**" },
    );
    Ok(BuildReport {
        section,
        summary_row,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cold_runs_alone() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(parse(&args(&["--cold"])).unwrap().cold);
        for other in ["--write", "--quick", "--debug"] {
            assert!(parse(&args(&["--cold", other])).is_err(), "{other}");
        }
        assert!(parse(&args(&["--only", "7", "--cold"])).is_err());
    }

    #[test]
    fn the_locked_version_is_the_named_package_s() {
        let lock = "[[package]]\nname = \"reqwest-middleware\"\nversion = \"0.4.0\"\n\n\
                    [[package]]\nname = \"reqwest\"\nversion = \"0.13.5\"\n";
        assert_eq!(locked_version(lock, "reqwest").as_deref(), Some("0.13.5"));
        assert_eq!(locked_version(lock, "hyper"), None);
    }

    const OLD: &str = "# Benchmarks\n\n## Summary\n\n| # | benchmark | figure | goal | met |\n|---|---|---|---|---|\n\
| 1 | one | 1.0 | x | yes |\n| 7 | build | 2 s | y | yes |\n\n\
## 1. One\n\nText.\n\n| N | s |\n|---|---|\n| 1 | 1 |\n| 9 | 1 |\n\n\
## 7. Build\n\nBuilt.\n\n";

    fn run(n: u32, name: &str) -> String {
        format!(
            "## Summary\n\n| # | benchmark | figure | goal | met |\n|---|---|---|---|---|\n\
             | {n} | {name} | new | z | yes |\n\n## {n}. {name}\n\nWhat it does.\n\n| a |\n|---|\n| 1 |\n"
        )
    }

    #[test]
    fn a_new_section_goes_between_its_neighbours_and_the_notes_stay() {
        let old = format!("{OLD}{NOTES_MARKER}\n\nNotes.\n");
        let new = splice(&old, &run(6, "Six"), 6, "Stamp.").unwrap();
        let rows: Vec<&str> = new
            .lines()
            .filter(|l| l.starts_with("| ") && l.ends_with("yes |"))
            .collect();
        assert_eq!(
            rows,
            [
                "| 1 | one | 1.0 | x | yes |",
                "| 6 | Six | new | z | yes |",
                "| 7 | build | 2 s | y | yes |"
            ]
        );
        let six = new
            .find("## 6. Six\n\nWhat it does.\n\nStamp.\n\n| a |")
            .unwrap();
        assert!(new.find("| 9 | 1 |").unwrap() < six && six < new.find("## 7. Build").unwrap());
        assert!(new.ends_with(&format!("Built.\n\n{NOTES_MARKER}\n\nNotes.\n")));
        // Again: replaced, not added.
        let again = splice(&new, &run(6, "Six"), 6, "Stamp 2.").unwrap();
        assert_eq!(again.matches("## 6. ").count(), 1);
        assert_eq!(again.matches("| 6 | Six").count(), 1);
        assert!(again.contains("Stamp 2.") && !again.contains("Stamp.\n"));
    }

    #[test]
    fn an_existing_section_is_replaced_up_to_the_next_heading() {
        let new = splice(OLD, &run(1, "Uno"), 1, "S.").unwrap();
        assert!(!new.contains("## 1. One") && !new.contains("| 9 | 1 |"));
        assert!(new.contains("| 1 | Uno | new | z | yes |\n| 7 | build"));
        assert!(
            new.contains("## 1. Uno\n\nWhat it does.\n\nS.\n\n| a |\n|---|\n| 1 |\n\n## 7. Build")
        );
        assert!(splice(OLD, "nothing", 1, "S.").is_err());
    }
}
