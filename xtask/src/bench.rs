//! `cargo xtask bench [--quick] [--write] [--only N]`: runs the benchmark
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
            "--only" => {
                let n = rest.next().and_then(|n| n.parse::<u32>().ok());
                match n {
                    Some(n @ 1..=BUILD_SECTION) => o.only = Some(n),
                    _ => bail!("--only takes a section number from 1 to {BUILD_SECTION}"),
                }
            }
            other => {
                bail!("unknown option {other:?} for `bench` (expected --quick, --write, --debug, --only N)")
            }
        }
    }
    Ok(o)
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// Runs the benchmarks; see the module docs.
pub fn run(root: &Path, opts: &Options) -> Result<()> {
    let started = Instant::now();
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

/// Clean build time of the library, and whether build.rs reruns.
fn build_bench(root: &Path) -> Result<BuildReport> {
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
        "## 7. Build\n\n\
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
        mark(clean_ran),
        mark(src_ran),
        mark(src_compiled),
        mark(spec_ran),
        100.0 * src / clean,
    );
    let summary_row = format!(
        "| 7 | clean build of the library; build.rs rerun on `src/` change | {clean:.1} s clean, {src:.1} s after a `src/` change; build.rs reran: on `src/` change {}, on spec change {} | no rerun on `src/` change | {} |",
        mark(src_ran),
        mark(spec_ran),
        if proof { "yes" } else { "**no**" },
    );
    Ok(BuildReport {
        section,
        summary_row,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
