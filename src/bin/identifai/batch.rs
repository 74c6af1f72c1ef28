//! `identifai batch`: every media file of a directory (or every line of a
//! list file) classified into a JSON-lines file, one line per input as soon
//! as it finishes, with `--resume` to continue an interrupted run.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::{BatchArgs, VerdictArg};
use crate::classify::{outcome_of, submit, verdict_exit, wait};
use crate::context::Context;
use crate::media::{is_url, kind_of_extension, sha256_file, sniff, Input};
use crate::output::{Paint, Record, Skip};
use crate::{usage, Exit};

/// What `--resume` knows of a line already written.
struct Done {
    verdict: Option<String>,
    errored: bool,
}

/// `identifai batch`.
pub async fn batch(ctx: &Context, args: BatchArgs) -> anyhow::Result<Exit> {
    let items = discover(&args.source, args.recursive, &args.out)?;
    let existing = std::fs::metadata(&args.out)
        .map(|m| m.len() > 0)
        .unwrap_or(false);
    if existing && !args.resume && !args.overwrite {
        return Err(usage(format!(
            "{} already has results: pass --resume to continue it, or --overwrite to start over",
            args.out.display()
        )));
    }
    let done = if args.resume && existing {
        read_done(&args.out)?
    } else {
        HashMap::new()
    };
    let mut out = open_out(&args.out, args.resume)?;

    let total = items.len() as u64;
    let bar = batch_bar(ctx, total);
    let mut counts = Counts::default();
    let mut exit = Exit::Ok;
    let mut results = futures::stream::iter(items.iter())
        .map(|input| process(ctx, &args, input, &done))
        .buffer_unordered(args.concurrency.into());
    while let Some(step) = results.next().await {
        match step {
            Step::Skipped { verdict, errored } => {
                counts.skipped += 1;
                if errored {
                    exit = exit.max(Exit::Error);
                }
                if let (Some(f), Some(v)) = (args.wait.fail_on, &verdict) {
                    if f.as_str() == v {
                        exit = exit.max(Exit::Matched);
                    }
                }
            }
            Step::Finished { record, problems } => {
                let line = record.to_line();
                writeln!(out, "{line}")
                    .and_then(|_| out.flush())
                    .with_context(|| format!("writing {}", args.out.display()))?;
                if ctx.json {
                    ctx.println(&line);
                }
                for p in &problems {
                    ctx.eprintln(p);
                }
                counts.add(&record);
                exit = exit.max(verdict_exit(&record, args.wait.fail_on));
            }
        }
        bar.inc(1);
        bar.set_message(counts.brief());
    }
    bar.finish_and_clear();
    let summary = counts.summary(total, &args.out, args.wait.fail_on);
    if ctx.json {
        eprintln!("{summary}");
    } else {
        let p = Paint(ctx.color);
        crate::output::out(&p.bold(&summary));
    }
    Ok(exit)
}

/// One input's fate.
enum Step {
    /// Already in the output (`--resume`).
    Skipped {
        verdict: Option<String>,
        errored: bool,
    },
    /// Classified, or failed.
    Finished {
        record: Box<Record>,
        problems: Vec<String>,
    },
}

async fn process(
    ctx: &Context,
    args: &BatchArgs,
    input: &Input,
    done: &HashMap<(String, Option<String>), Done>,
) -> Step {
    let shown = input.display();
    let sha = match input.path() {
        Some(p) => match sha256_file(p).await {
            Ok(s) => Some(s),
            Err(e) => {
                let mut record = Record::failed(
                    Some(shown.clone()),
                    None,
                    format!("cannot read {shown}: {e}"),
                );
                record.sha256 = Skip::Present(None);
                return Step::Finished {
                    problems: vec![ctx.error_line(&shown, &e)],
                    record: Box::new(record),
                };
            }
        },
        None => None,
    };
    if let Some(d) = done.get(&(shown.clone(), sha.clone())) {
        return Step::Skipped {
            verdict: d.verdict.clone(),
            errored: d.errored,
        };
    }
    let kind = input.kind(&args.submit);
    let hidden = ProgressBar::hidden();
    let (mut record, problems) = match submit(ctx, &args.submit, input, kind, &hidden).await {
        Err(e) => (
            Record::failed(Some(shown.clone()), Some(kind.as_str()), e.to_string()),
            vec![ctx.error_line(&shown, &e)],
        ),
        Ok(id) => {
            let waited = wait(ctx, &id, kind, args.wait.timeout).await;
            let o = outcome_of(ctx, Some(shown.clone()), &id, kind, waited).await;
            (o.record, o.problems)
        }
    };
    record.sha256 = Skip::Present(sha);
    Step::Finished {
        record: Box::new(record),
        problems,
    }
}

/// Tallies for the progress bar and the closing line.
#[derive(Default)]
struct Counts {
    human: u64,
    artificial: u64,
    other: u64,
    failed: u64,
    skipped: u64,
}

impl Counts {
    fn add(&mut self, r: &Record) {
        match (r.is_failure(), r.verdict.as_deref()) {
            (true, _) => self.failed += 1,
            (false, Some("human")) => self.human += 1,
            (false, Some("artificial")) => self.artificial += 1,
            _ => self.other += 1,
        }
    }

    fn brief(&self) -> String {
        let mut s = format!("{} human · {} artificial", self.human, self.artificial);
        if self.failed > 0 {
            s.push_str(&format!(" · {} failed", self.failed));
        }
        if self.skipped > 0 {
            s.push_str(&format!(" · {} skipped", self.skipped));
        }
        s
    }

    fn summary(&self, total: u64, out: &Path, fail_on: Option<VerdictArg>) -> String {
        let classified = self.human + self.artificial + self.other;
        let mut s = format!(
            "{total} input{}: {classified} classified ({} human, {} artificial",
            if total == 1 { "" } else { "s" },
            self.human,
            self.artificial
        );
        if self.other > 0 {
            s.push_str(&format!(", {} unfinished", self.other));
        }
        s.push_str(&format!("), {} failed", self.failed));
        if self.skipped > 0 {
            s.push_str(&format!(", {} already done (skipped)", self.skipped));
        }
        s.push_str(&format!(" → {}", out.display()));
        if let Some(f) = fail_on {
            let matched = match f {
                VerdictArg::Artificial => self.artificial,
                VerdictArg::Human => self.human,
            };
            if matched > 0 {
                s.push_str(&format!(" (--fail-on {}: matched)", f.as_str()));
            }
        }
        s
    }
}

fn batch_bar(ctx: &Context, total: u64) -> ProgressBar {
    if !ctx.progress {
        return ProgressBar::hidden();
    }
    let bar = ctx.bars.add(ProgressBar::new(total));
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner:.cyan} [{bar:32.cyan/blue}] {pos}/{len} {msg} {elapsed:.dim} (eta {eta})",
        )
        .expect("valid template")
        .progress_chars("━╸ "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

// ------------------------------------------------------------------ inputs

/// The inputs of a batch: the media files of a directory (sorted; hidden
/// files and `out` left out), or the lines of a list file.
fn discover(source: &Path, recursive: bool, out: &Path) -> anyhow::Result<Vec<Input>> {
    let meta = std::fs::metadata(source)
        .map_err(|e| usage(format!("cannot read {}: {e}", source.display())))?;
    if meta.is_dir() {
        let out = std::fs::canonicalize(out).ok();
        let mut files = Vec::new();
        let mut dirs = vec![source.to_path_buf()];
        while let Some(dir) = dirs.pop() {
            let entries =
                std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?;
            for entry in entries {
                let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
                let path = entry.path();
                if entry.file_name().to_string_lossy().starts_with('.') {
                    continue;
                }
                let ty = entry.file_type()?;
                let ty = if ty.is_symlink() {
                    match std::fs::metadata(&path) {
                        Ok(m) => m.file_type(),
                        Err(_) => continue,
                    }
                } else {
                    ty
                };
                if ty.is_dir() {
                    if recursive {
                        dirs.push(path);
                    }
                } else if ty.is_file()
                    && (out.is_none() || std::fs::canonicalize(&path).ok() != out)
                    && is_media(&path)
                {
                    files.push(path);
                }
            }
        }
        files.sort();
        Ok(files.into_iter().map(Input::Path).collect())
    } else {
        read_list(source)
    }
}

/// A media file, by its extension, or else by its first bytes.
fn is_media(path: &Path) -> bool {
    kind_of_extension(path).is_some() || sniff(path).is_some()
}

/// The largest list file read.
const MAX_LIST: u64 = 64 * 1024 * 1024;

/// The lines of a list file: paths or URLs, `#` comments, blank lines. It
/// must be a regular file of at most [`MAX_LIST`] bytes (checked before it
/// is opened: a FIFO would block).
fn read_list(path: &Path) -> anyhow::Result<Vec<Input>> {
    let size = identifai::check_file(path).map_err(|e| usage(format!("the list file: {e}")))?;
    if size > MAX_LIST {
        return Err(usage(format!(
            "the list file {} is {size} bytes, over the {MAX_LIST}-byte limit",
            path.display()
        )));
    }
    let mut text = String::new();
    File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .with_context(|| format!("reading the list file {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            if is_url(l) {
                Input::Url(l.to_string())
            } else {
                Input::Path(PathBuf::from(l))
            }
        })
        .collect())
}

// ------------------------------------------------------------------ output

/// The inputs already done in `out`: `(path, sha256)` of every line whose
/// status is not `error` (errors are tried again). Unreadable lines, like
/// the half-written last line of a killed run, are skipped.
fn read_done(out: &Path) -> anyhow::Result<HashMap<(String, Option<String>), Done>> {
    let file = File::open(out).with_context(|| format!("reading {}", out.display()))?;
    let mut done = HashMap::new();
    let mut unreadable = 0;
    for line in BufReader::new(file).lines() {
        let line = line.with_context(|| format!("reading {}", out.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            unreadable += 1;
            continue;
        };
        let (Some(path), Some(status)) = (
            v.get("path").and_then(|p| p.as_str()),
            v.get("status").and_then(|s| s.as_str()),
        ) else {
            unreadable += 1;
            continue;
        };
        let sha = v.get("sha256").and_then(|s| s.as_str()).map(str::to_string);
        let key = (path.to_string(), sha);
        if status == "error" {
            done.remove(&key);
        } else {
            let verdict = v
                .get("verdict")
                .and_then(|s| s.as_str())
                .map(str::to_string);
            let errored = status == "errored";
            done.insert(key, Done { verdict, errored });
        }
    }
    if unreadable > 0 {
        eprintln!(
            "warning: {}: {unreadable} unreadable line{} ignored",
            out.display(),
            if unreadable == 1 { "" } else { "s" }
        );
    }
    Ok(done)
}

/// Opens the output: appended to with `--resume` (after a newline if a
/// killed run left half a line), truncated otherwise.
fn open_out(out: &Path, resume: bool) -> anyhow::Result<File> {
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .write(true)
        .append(resume)
        .truncate(!resume)
        .open(out)
        .with_context(|| format!("opening {}", out.display()))?;
    if resume {
        let len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
            }
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_files_skip_comments_and_blanks() {
        let dir = std::env::temp_dir().join(format!("identifai-list-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let list = dir.join("list.txt");
        std::fs::write(
            &list,
            "# photos\n\na.png\n  https://x.test/b.jpg  \n#c.png\n",
        )
        .unwrap();
        let items = read_list(&list).unwrap();
        assert_eq!(
            items,
            vec![
                Input::Path("a.png".into()),
                Input::Url("https://x.test/b.jpg".into())
            ]
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn resume_retries_errors_and_tolerates_half_lines() {
        let dir = std::env::temp_dir().join(format!("identifai-done-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out.jsonl");
        std::fs::write(
            &out,
            concat!(
                r#"{"path":"a.png","sha256":"aa","status":"done","verdict":"human"}"#,
                "\n",
                r#"{"path":"b.png","sha256":"bb","status":"error"}"#,
                "\n",
                r#"{"path":"c.png","sha256":"cc","status":"errored"}"#,
                "\n",
                r#"{"path":"d.png","sha2"#,
            ),
        )
        .unwrap();
        let done = read_done(&out).unwrap();
        assert!(done.contains_key(&("a.png".into(), Some("aa".into()))));
        assert!(!done.contains_key(&("b.png".into(), Some("bb".into()))));
        assert!(done.contains_key(&("c.png".into(), Some("cc".into()))));
        assert_eq!(done.len(), 2);
        let mut f = open_out(&out, true).unwrap();
        writeln!(f, "{{}}").unwrap();
        drop(f);
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.ends_with("\"sha2\n{}\n"), "{text}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
