//! `identifai batch`: every media file of a directory (or every line of a
//! list file) classified into a JSON-lines file, with `--resume` to go on
//! after an interruption.
//!
//! Uploading and waiting are apart: uploads go out at the POST limit
//! (`--concurrency` bounds the uploads in progress), and every accepted
//! submission joins the client's one poller, so results come back as
//! identifAI finishes them, whatever is pending. The out file is the run's
//! journal (`journal`): an accepted identifier is on disk before it is
//! waited for, so a crash, a resume or a second process never sends an
//! accepted file again.

use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};

use clap::Args;
use identifai::api::types::Classification;
use identifai::Kind;

use crate::context::Context;
use crate::exit::{usage, Exit, Tally};
use crate::flags::{SubmitArgs, WaitArgs};
use crate::journal::{epoch_ms, key_of, Journal, Prior};
use crate::media::{is_url, kind_of_extension, sha256_file, sniff, Input};
use crate::outcome::{matches_verdict, outcome_of};
use crate::output::{Paint, Record, Skip};
use crate::submission::{submit, wait};

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// A directory of media files, or a list file: one path or URL a line,
    /// `#` starts a comment, relative paths are taken from the current
    /// directory.
    #[arg(value_name = "DIR|LIST-FILE")]
    pub source: PathBuf,

    /// The JSON-lines file the results go to, one line per input as soon as
    /// it finishes (in completion order).
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,

    /// Continue an earlier run: skip inputs already in --out with the same
    /// path and SHA-256 (inputs that failed with `status: error` are tried
    /// again).
    #[arg(long, conflicts_with = "overwrite")]
    pub resume: bool,

    /// Start over when --out already has results.
    #[arg(long)]
    pub overwrite: bool,

    /// Look into subdirectories too.
    #[arg(long, short)]
    pub recursive: bool,

    /// Inputs in flight at once (requests are paced under the published
    /// rate limits whatever this is).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub concurrency: u16,

    #[command(flatten)]
    pub submit: SubmitArgs,

    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `identifai batch`.
pub async fn run(ctx: &Context, args: BatchArgs) -> anyhow::Result<Exit> {
    let (found, skipped) = discover(&args.source, args.recursive, &args.out)?;
    for path in &skipped {
        ctx.eprintln(&crate::output::terminal_safe(&format!(
            "skipped {}: not an image, video or audio file (by its extension and first bytes)",
            path.display()
        )));
    }
    let items = distinct(found);
    let (mut journal, resumed) = Journal::open(&args.out, args.resume, args.overwrite)?;
    if resumed.cut > 0 {
        ctx.eprintln(&format!(
            "warning: {}: cut a torn last line ({} bytes) left by an interrupted run",
            args.out.display(),
            resumed.cut
        ));
    }
    if resumed.unreadable > 0 {
        ctx.eprintln(&format!(
            "warning: {}: {} unreadable line{} ignored",
            args.out.display(),
            resumed.unreadable,
            if resumed.unreadable == 1 { "" } else { "s" }
        ));
    }
    ctx.client.note_posts_sent(&resumed.recent_sends);

    let total = items.len() as u64;
    let bar = batch_bar(ctx, total);
    let mut counts = Counts::default();
    let mut tally = Tally::default();
    // Set once the service refuses every request of the key: no upload
    // starts after it (what was not sent stays for --resume).
    let refused: std::sync::Mutex<Option<String>> = Default::default();
    let mut uploads = futures::stream::iter(items.iter())
        .map(|(key, input)| start(ctx, &args, key, input, resumed.inputs.get(key), &refused))
        .buffer_unordered(args.concurrency.into());
    let mut waits = FuturesUnordered::new();
    let mut interrupted = interrupted();
    let mut uploading = true;
    while uploading || !waits.is_empty() {
        let step = tokio::select! {
            step = uploads.next(), if uploading => match step {
                Some(step) => step,
                None => {
                    uploading = false;
                    continue;
                }
            },
            Some(step) = waits.next(), if !waits.is_empty() => step,
            signal = &mut interrupted => {
                bar.finish_and_clear();
                ctx.eprintln(&format!(
                    "{signal}: stopped; every accepted upload is recorded in {}: `--resume` waits for them and sends the rest",
                    args.out.display()
                ));
                return Ok(Exit::Interrupted);
            }
        };
        match step {
            Step::NotStarted => {
                counts.not_started += 1;
                continue;
            }
            Step::Skipped { verdict, errored } => {
                counts.skipped += 1;
                if errored {
                    tally.failed(Exit::of_code("errored"));
                } else {
                    let matched = matches!((&args.wait.fail_on, &verdict), (Some(f), Some(v)) if f.as_str() == v);
                    tally.succeeded(matched);
                }
            }
            Step::Accepted(accepted) => {
                // On disk before anything else is done with it.
                journal.append(&accepted.record.to_line())?;
                for p in &accepted.problems {
                    ctx.eprintln(p);
                }
                waits.push(settle(ctx, &args, *accepted));
                continue;
            }
            Step::Pending(pending) => {
                waits.push(settle(ctx, &args, *pending));
                continue;
            }
            Step::Finished {
                record,
                problems,
                breaker,
            } => {
                if let Some(cause) = breaker {
                    refused
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get_or_insert(cause);
                }
                let line = record.to_line();
                journal.append(&line)?;
                if ctx.json {
                    ctx.println(&line);
                }
                for p in &problems {
                    ctx.eprintln(p);
                }
                counts.add(&record);
                match record.failure_exit() {
                    Some(exit) => tally.failed(exit),
                    None => tally.succeeded(matches_verdict(&record, args.wait.fail_on.as_ref())),
                }
            }
        }
        if bar.position() == 0 {
            // One result gives a rate: the estimate shows from now on.
            bar.set_style(bar_style(true));
        }
        bar.inc(1);
        bar.set_message(counts.brief());
    }
    bar.finish_and_clear();
    let mut summary = counts.summary(total, &args.out, args.wait.fail_on.as_ref());
    if let Some(cause) = refused.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        summary.push_str(&format!(
            "\nstopped early: {cause}; {} input{} not sent: run again with --resume once the key has room",
            counts.not_started,
            if counts.not_started == 1 { "" } else { "s" }
        ));
        tally.failed(Exit::Refused);
    }
    if ctx.json {
        ctx.eprintln(&summary);
    } else {
        let p = Paint(ctx.color);
        crate::output::out(&p.bold(&summary));
    }
    Ok(tally.exit())
}

/// Resolves when the run is asked to stop (SIGINT, SIGTERM), with the
/// signal's name.
fn interrupted() -> std::pin::Pin<Box<dyn std::future::Future<Output = &'static str> + Send>> {
    Box::pin(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => tokio::select! {
                    _ = tokio::signal::ctrl_c() => "interrupted",
                    _ = term.recv() => "terminated",
                },
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    "interrupted"
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "interrupted"
        }
    })
}

/// The inputs, each once, keyed by canonical absolute path (or URL): the
/// same file named twice, or by a relative and an absolute path, is one
/// input.
fn distinct(items: Vec<Input>) -> Vec<(String, Input)> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter_map(|input| {
            let key = key_of(&input.display());
            seen.insert(key.clone()).then(|| {
                let input = match input {
                    Input::Path(_) if !is_url(&key) => Input::Path(PathBuf::from(&key)),
                    other => other,
                };
                (key, input)
            })
        })
        .collect()
}

/// One input's fate, as the run learns it.
enum Step {
    /// Not sent: the service refuses every request of the key.
    NotStarted,
    /// Already finished in the out file (`--resume`).
    Skipped {
        verdict: Option<String>,
        errored: bool,
    },
    /// Uploaded and accepted: to be recorded, then waited for.
    Accepted(Box<Submitted>),
    /// Accepted by an earlier run: to be waited for (`--resume`).
    Pending(Box<Submitted>),
    /// Classified, or failed.
    Finished {
        record: Box<Record>,
        problems: Vec<String>,
        /// Failed because the service refuses every request of the key.
        breaker: Option<String>,
    },
}

/// A submission the server accepted.
struct Submitted {
    id: identifai::Identifier,
    kind: Kind,
    /// The record of the acceptance (`status: submitted`).
    record: Record,
    problems: Vec<String>,
}

/// What to do with one input: skip it, wait for what an earlier run
/// submitted, or upload it.
async fn start(
    ctx: &Context,
    args: &BatchArgs,
    key: &str,
    input: &Input,
    prior: Option<&Prior>,
    refused: &std::sync::Mutex<Option<String>>,
) -> Step {
    if let Some(prior) = prior {
        // The same content as recorded? (A file changed since is new.)
        let same = match input.path() {
            Some(p) => match sha256_file(p).await {
                Ok(sha) => prior.sha256.as_deref() == Some(sha.as_str()),
                Err(e) => return read_failed(ctx, key, &e),
            },
            None => true,
        };
        if same && prior.is_final() {
            return Step::Skipped {
                verdict: prior.verdict.clone(),
                errored: prior.status == "errored",
            };
        }
        let known = prior.identifier.as_deref().and_then(|i| i.parse().ok());
        if let (true, Some(id)) = (same, known) {
            let kind = match prior.kind.as_deref().map(str::parse::<Kind>) {
                Some(Ok(kind)) => kind,
                _ => input.kind(&args.submit),
            };
            let mut record = Record {
                path: Some(key.to_string()),
                kind: Some(kind.as_str()),
                identifier: Some(prior.identifier.clone().unwrap_or_default()),
                status: "submitted".into(),
                ..Record::default()
            };
            record.sha256 = Skip::Present(prior.sha256.clone());
            return Step::Pending(Box::new(Submitted {
                id,
                kind,
                record,
                problems: Vec::new(),
            }));
        }
    }
    if refused.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
        return Step::NotStarted;
    }
    upload(ctx, args, key, input).await
}

/// The record of an input that could not be read.
fn read_failed(ctx: &Context, key: &str, e: &std::io::Error) -> Step {
    let mut record = Record::failed(
        Some(key.to_string()),
        None,
        "unreadable",
        format!("cannot read {key}: {e}"),
    );
    record.sha256 = Skip::Present(None);
    Step::Finished {
        problems: vec![ctx.error_line(key, e)],
        record: Box::new(record),
        breaker: None,
    }
}

/// The file's size and modification time, to tell whether it changed
/// while it was being sent.
fn stamp(path: &Path) -> Option<(u64, SystemTime)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?))
}

/// Uploads one input (hashing what goes out).
async fn upload(ctx: &Context, args: &BatchArgs, key: &str, input: &Input) -> Step {
    let kind = input.kind(&args.submit);
    let before = input.path().and_then(stamp);
    let (identifier, sent) =
        match submit(ctx, &args.submit, input, kind, &ProgressBar::hidden(), true).await {
            Ok(r) => r,
            Err(e) => {
                let mut record =
                    Record::failed_with(Some(key.to_string()), Some(kind.as_str()), &e);
                // Not sent (or not taken): the file's hash, when it can be read.
                let sha = match input.path() {
                    Some(p) => sha256_file(p).await.ok(),
                    None => None,
                };
                record.sha256 = Skip::Present(sha);
                return Step::Finished {
                    problems: vec![ctx.error_line(key, &e)],
                    record: Box::new(record),
                    breaker: breaker_cause(&e),
                };
            }
        };
    // When the server had it at the latest: what a resume paces itself by.
    let sent_at = SystemTime::now();
    let mut problems = Vec::new();
    let mut record = Record {
        path: Some(key.to_string()),
        kind: Some(kind.as_str()),
        identifier: Some(identifier.to_string()),
        status: "submitted".into(),
        sent_at: Some(epoch_ms(sent_at)),
        ..Record::default()
    };
    record.sha256 = Skip::Present(sent.map(|s| s.sha256_hex()));
    if let Some(path) = input.path() {
        let after = stamp(path);
        if let Some((size, modified)) = after {
            record.size = Some(size);
            record.mtime = Some(epoch_ms(modified));
        }
        let sent_whole = sent.map(|s| s.bytes) == after.map(|(size, _)| size);
        if before != after || !sent_whole {
            record.changed = Some(true);
            problems.push(format!(
                "warning: {key}: the file changed while it was being sent; the result is of the bytes sent (sha256 {})",
                sent.map(|s| s.sha256_hex()).unwrap_or_else(|| "unknown".into())
            ));
        }
    }
    Step::Accepted(Box::new(Submitted {
        id: identifier,
        kind,
        record,
        problems,
    }))
}

/// Waits for an accepted submission's result (through the client's
/// poller) and makes its final record.
async fn settle(ctx: &Context, args: &BatchArgs, submitted: Submitted) -> Step {
    let Submitted {
        id,
        kind,
        record: accepted,
        ..
    } = submitted;
    let waited = wait(ctx, &id, kind, args.wait.timeout).await;
    let breaker = waited.as_ref().err().and_then(breaker_cause);
    let o = outcome_of(ctx, accepted.path.clone(), &id, kind, waited).await;
    let mut record = o.record;
    record.sha256 = accepted.sha256;
    record.changed = accepted.changed;
    Step::Finished {
        record: Box::new(record),
        problems: o.problems,
        breaker,
    }
}

/// The error's text when it says the service refuses the key's requests:
/// a 429 that outlasted the request's resends and backoff, or the client's
/// breaker. Starting more uploads then only spends bandwidth on refusals.
fn breaker_cause(e: &identifai::Error) -> Option<String> {
    matches!(e, identifai::Error::RateLimited { .. }).then(|| e.to_string())
}

/// Tallies for the progress bar and the closing line.
#[derive(Default)]
struct Counts {
    human: u64,
    artificial: u64,
    other: u64,
    failed: u64,
    skipped: u64,
    not_started: u64,
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

    fn summary(&self, total: u64, out: &Path, fail_on: Option<&Classification>) -> String {
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
                Classification::Artificial => self.artificial,
                Classification::Human => self.human,
                _ => 0,
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
    bar.set_style(bar_style(false));
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// The batch bar's style; `eta` once a result came (before it, any
/// estimate would be made up).
fn bar_style(eta: bool) -> ProgressStyle {
    let template = if eta {
        "{spinner:.cyan} [{bar:32.cyan/blue}] {pos}/{len} {msg} {elapsed:.dim} (eta {eta})"
    } else {
        "{spinner:.cyan} [{bar:32.cyan/blue}] {pos}/{len} {msg} {elapsed:.dim}"
    };
    ProgressStyle::with_template(template)
        .expect("valid template")
        .progress_chars("━╸ ")
}

// ------------------------------------------------------------------ inputs

/// The inputs of a batch: the media files of a directory (sorted; hidden
/// files and `out` left out), or the lines of a list file; and the files
/// of the directory skipped as not media.
fn discover(
    source: &Path,
    recursive: bool,
    out: &Path,
) -> anyhow::Result<(Vec<Input>, Vec<PathBuf>)> {
    let meta = std::fs::metadata(source)
        .map_err(|e| usage(format!("cannot read {}: {e}", source.display())))?;
    if meta.is_dir() {
        let out = std::fs::canonicalize(out).ok();
        let mut files = Vec::new();
        let mut skipped = Vec::new();
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
                {
                    if is_media(&path) {
                        files.push(path);
                    } else {
                        skipped.push(path);
                    }
                }
            }
        }
        files.sort();
        skipped.sort();
        Ok((files.into_iter().map(Input::Path).collect(), skipped))
    } else {
        Ok((read_list(source)?, Vec::new()))
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
    let size =
        identifai::Source::check_file(path).map_err(|e| usage(format!("the list file: {e}")))?;
    if size > MAX_LIST {
        return Err(usage(format!(
            "the list file {} is {:.1} MiB, over the {} MiB limit",
            path.display(),
            size as f64 / (1 << 20) as f64,
            MAX_LIST >> 20
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
        .map(|l| Input::parse(std::ffi::OsStr::new(l)))
        .collect())
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
}
