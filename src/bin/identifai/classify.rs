//! `health`, `classify` and `result`.
//!
//! A summary links to identifAI's dashboard only when the client talks to
//! the real service (the default base URL, [`identifai::DEFAULT_BASE_URL`]):
//! a mock or any other base URL serves no dashboard.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use identifai::{AnyResult, Error, Identifier};
use indicatif::ProgressBar;

use crate::args::{ClassifyArgs, KindArg, ResultArgs, SubmitArgs, VerdictArg};
use crate::context::Context;
use crate::media::{audio_options, image_options, video_options, Input, Kind};
use crate::output::{out, summary, Notes, Paint, Record};
use crate::{usage, Exit, Tally};

/// `identifai health`: exits 1 unless the status is `ok`.
pub async fn health(ctx: &Context) -> anyhow::Result<Exit> {
    let status = ctx.client.health().await?;
    let ok = status == identifai::api::types::HealthStatus::Ok;
    if ctx.json {
        out(
            &serde_json::json!({ "status": status.to_string(), "base_url": ctx.client.base_url() })
                .to_string(),
        );
    } else {
        let p = Paint(ctx.color);
        let shown = crate::output::terminal_safe(status.as_str());
        let word = if ok { p.green(&shown) } else { p.red(&shown) };
        out(&format!("{}: {word}", ctx.client.base_url()));
    }
    // Not `ok`: the service says it is down (the same exit as a 5xx).
    Ok(if ok { Exit::Ok } else { Exit::Service })
}

/// What became of one input.
pub struct Outcome {
    /// Its record (printed with `--json`).
    pub record: Record,
    /// The typed result, for the summary.
    pub typed: Option<AnyResult>,
    /// Extra lines for the summary.
    pub notes: Notes,
    /// Errors to print (besides the record's own).
    pub problems: Vec<String>,
    /// The service knew no such classification (404).
    pub missing: bool,
}

impl Outcome {
    fn failed(ctx: &Context, record: Record, what: &str, e: &Error) -> Outcome {
        Outcome {
            problems: vec![ctx.error_line(what, e)],
            record,
            typed: None,
            notes: Notes::default(),
            missing: e.status() == Some(404),
        }
    }
}

/// `identifai classify`.
pub async fn classify(ctx: &Context, args: ClassifyArgs) -> anyhow::Result<Exit> {
    let inputs: Vec<Input> = args.inputs.iter().map(|s| Input::parse(s)).collect();
    let heatmap_dir = match &args.heatmap_out {
        Some(out) if inputs.len() > 1 || out.is_dir() => {
            if out.exists() && !out.is_dir() {
                return Err(usage(format!(
                    "--heatmap-out {} must be a directory when several inputs are given",
                    out.display()
                )));
            }
            std::fs::create_dir_all(out)?;
            Some(out.clone())
        }
        _ => None,
    };
    let p = Paint(ctx.color);
    let names = heatmap_names(&inputs);
    let mut outcomes = futures::stream::iter(inputs.iter().zip(names))
        .map(|(input, name)| {
            let target = args.heatmap_out.as_ref().map(|out| match &heatmap_dir {
                Some(dir) => dir.join(name),
                None => out.clone(),
            });
            classify_one(ctx, &args, input, target)
        })
        // Printed as they finish (with --no-wait: as each is accepted), so
        // what is printed is what the server has, whatever stops the run.
        .buffer_unordered(args.concurrency.into());
    let mut tally = Tally::default();
    let mut first = true;
    while let Some(o) = outcomes.next().await {
        count(&mut tally, &o, args.wait.fail_on);
        print_outcome(ctx, &o, args.no_wait, &mut first, p);
    }
    Ok(tally.exit())
}

/// One heatmap file name per input, unique: `a/photo.png` and
/// `b/photo.png` get `photo.heatmap.png` and `photo-2.heatmap.png`.
fn heatmap_names(inputs: &[Input]) -> Vec<String> {
    let mut taken = std::collections::HashSet::new();
    inputs
        .iter()
        .map(|input| {
            let stem = crate::heatmap_files::stem_of(input);
            let mut candidate = format!("{stem}.heatmap.png");
            let mut n = 1;
            while !taken.insert(candidate.clone()) {
                n += 1;
                candidate = format!("{stem}-{n}.heatmap.png");
            }
            candidate
        })
        .collect()
}

/// Said on stderr when the one-shot `--mock` server did not know something
/// an earlier command made.
pub const MOCK_FORGETS: &str = "hint: the --mock server starts empty for each command, so it \
knows nothing an earlier command made; run `identifai mock --port 8080` in another terminal and \
pass `--base-url http://127.0.0.1:8080 --api-key mock-api-key` instead of --mock";

/// With `--mock`, a 404 gets [`MOCK_FORGETS`] on stderr.
pub fn hint_if_mock_forgot(ctx: &Context, e: &Error) {
    if ctx.mock && e.status() == Some(404) {
        ctx.eprintln(MOCK_FORGETS);
    }
}

/// Whether the client talks to the real service (its dashboard exists).
fn official(ctx: &Context) -> bool {
    is_official(ctx.mock, ctx.client.base_url())
}

/// The rule of [`official`]: not `--mock`, and the default base URL.
fn is_official(mock: bool, base_url: &str) -> bool {
    !mock && base_url.trim_end_matches('/') == identifai::DEFAULT_BASE_URL
}

/// Counts an outcome into the run's exit: its failure's, 1 for a problem
/// besides (a heatmap not saved), else a success (matching `--fail-on` or
/// not).
fn count(tally: &mut Tally, o: &Outcome, fail_on: Option<VerdictArg>) {
    match o.record.failure_exit() {
        Some(exit) => tally.failed(exit),
        None if !o.problems.is_empty() => tally.failed(Exit::Error),
        None => tally.succeeded(matches_verdict(&o.record, fail_on)),
    }
}

/// Whether the record's verdict is `--fail-on`'s.
pub fn matches_verdict(record: &Record, fail_on: Option<VerdictArg>) -> bool {
    matches!((fail_on, &record.verdict), (Some(f), Some(v)) if f.as_str() == v)
}

fn print_outcome(ctx: &Context, o: &Outcome, no_wait: bool, first: &mut bool, p: Paint) {
    for problem in &o.problems {
        ctx.eprintln(problem);
    }
    if ctx.json {
        ctx.println(&o.record.to_line());
        return;
    }
    if no_wait {
        if let (Some(id), "submitted") = (&o.record.identifier, o.record.status.as_str()) {
            ctx.println(id);
        }
        return;
    }
    if let Some(typed) = &o.typed {
        if !*first {
            ctx.println("");
        }
        *first = false;
        let title = o
            .record
            .path
            .clone()
            .or_else(|| o.record.identifier.clone())
            .unwrap_or_default();
        let notes = Notes {
            lines: o.notes.lines.clone(),
            dashboard: official(ctx),
        };
        ctx.println(summary(&title, typed, &notes, p).trim_end());
    }
}

/// Submits one input, and unless `--no-wait` waits for its verdict.
pub async fn classify_one(
    ctx: &Context,
    args: &ClassifyArgs,
    input: &Input,
    heatmap_out: Option<PathBuf>,
) -> Outcome {
    let shown = input.display();
    let kind = input.kind(&args.submit);
    let bar = ctx.upload_bar(&shown, file_len(input));
    let id = match submit(ctx, &args.submit, input, kind, &bar, false).await {
        Ok((id, _)) => id,
        Err(e) => {
            bar.finish_and_clear();
            let record = Record::failed_with(Some(shown.clone()), Some(kind.as_str()), &e);
            return Outcome::failed(ctx, record, &shown, &e);
        }
    };
    if args.no_wait {
        bar.finish_and_clear();
        let record = Record {
            path: Some(shown),
            kind: Some(kind.as_str()),
            identifier: Some(id.to_string()),
            status: "submitted".into(),
            ..Record::default()
        };
        return Outcome {
            record,
            typed: None,
            notes: Notes::default(),
            problems: Vec::new(),
            missing: false,
        };
    }
    ctx.waiting(&bar);
    let waited = wait(ctx, &id, kind, args.wait.timeout).await;
    bar.finish_and_clear();
    let mut outcome = outcome_of(ctx, Some(shown.clone()), &id, kind, waited).await;
    let Some(AnyResult::Image(r)) = &outcome.typed else {
        return outcome;
    };
    match (r.has_heatmap, heatmap_out) {
        (Some(true), Some(out)) => {
            // Fetched, then written whole (the library's save_heatmap
            // writes in place).
            let saved = match ctx.client.heatmap(&id).await {
                Ok(Some(png)) => crate::files::write_whole(&out, &png).map(|()| true),
                Ok(None) => Ok(false),
                Err(e) => Err(e.into()),
            };
            match saved {
                Ok(true) => {
                    outcome.record.heatmap = Some(out.display().to_string());
                    outcome
                        .notes
                        .lines
                        .push(("heatmap", format!("saved to {}", out.display())));
                }
                Ok(false) => outcome
                    .notes
                    .lines
                    .push(("heatmap", "none was served".into())),
                Err(e) => outcome
                    .problems
                    .push(ctx.error_line(&format!("{shown}: heatmap"), e.as_ref())),
            }
        }
        (Some(true), None) if args.submit.heatmap => {
            save_here(ctx, &id, input, &shown, &mut outcome).await;
        }
        (Some(true), None) => {
            let hint = if ctx.mock {
                "available: add --heatmap to save it here (the mock forgets it on exit)".to_string()
            } else {
                format!("available: identifai heatmap {id} -o heatmap.png")
            };
            outcome.notes.lines.push(("heatmap", hint));
        }
        (Some(false), _) if args.submit.heatmap => outcome
            .notes
            .lines
            .push(("heatmap", "none was made".into())),
        _ => {}
    }
    outcome
}

/// `classify --heatmap` without `--heatmap-out`: the heatmap and its
/// overlay on the input, saved in the current directory (see
/// `heatmap_files`), their paths in the summary and the record.
async fn save_here(
    ctx: &Context,
    id: &Identifier,
    input: &Input,
    shown: &str,
    outcome: &mut Outcome,
) {
    let saved = match crate::heatmap_files::save(ctx, id, input, Path::new("")).await {
        Ok(Some(saved)) => saved,
        Ok(None) => {
            outcome
                .notes
                .lines
                .push(("heatmap", "none was served".into()));
            return;
        }
        Err(e) => {
            outcome
                .problems
                .push(ctx.error_line(&format!("{shown}: heatmap"), e.as_ref()));
            return;
        }
    };
    let heatmap = saved.heatmap.display().to_string();
    let line = match &saved.taken {
        Some(taken) => format!("saved to {heatmap} ({taken} exists, kept)"),
        None => format!("saved to {heatmap}"),
    };
    outcome.notes.lines.push(("heatmap", line));
    outcome.record.heatmap = Some(heatmap);
    match saved.overlay {
        Ok(path) => {
            let overlay = path.display().to_string();
            outcome.notes.lines.push((
                "overlay",
                format!(
                    "saved to {overlay} (the heatmap over the image, {:.0}% opacity)",
                    crate::heatmap_files::OPACITY * 100.0
                ),
            ));
            outcome.record.overlay = Some(overlay);
        }
        Err(why) => {
            let why = crate::output::terminal_safe(&why);
            if ctx.json {
                ctx.eprintln(&format!("warning: {shown}: no overlay: {why}"));
            } else {
                outcome
                    .notes
                    .lines
                    .push(("overlay", format!("not made: {why}")));
            }
        }
    }
}

fn file_len(input: &Input) -> Option<u64> {
    input
        .path()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
}

/// Checks and sends one input; warns about flags that do not apply to its
/// kind. With `hash` (batch's journal), what goes out is hashed as it goes:
/// the identifier and what was sent.
pub async fn submit(
    ctx: &Context,
    a: &SubmitArgs,
    input: &Input,
    kind: Kind,
    bar: &ProgressBar,
    hash: bool,
) -> identifai::Result<(Identifier, Option<identifai::Sent>)> {
    let source = input.source(a);
    let progress = {
        let bar = bar.clone();
        move |p: identifai::Progress| {
            if let Some(total) = p.total {
                bar.set_length(total);
            }
            if bar.position() == 0 {
                bar.set_message("uploading");
            }
            bar.set_position(p.sent);
        }
    };
    let by_url = matches!(input, Input::Url(_));
    let warn = |ignored: Vec<&'static str>| {
        if !ignored.is_empty() && first_warning(kind, &ignored, by_url) {
            ctx.eprintln(&format!(
                "warning: {}: {} {} not apply to {}s{}; ignored",
                input.display(),
                ignored.join(", "),
                if ignored.len() == 1 { "does" } else { "do" },
                kind.as_str(),
                // The audio URL form lacks a field the upload has.
                if by_url && kind == Kind::Audio {
                    " by URL"
                } else {
                    ""
                }
            ));
        }
    };
    match kind {
        Kind::Image => {
            let (options, ignored) = image_options(a);
            warn(ignored);
            let c = ctx
                .client
                .classify_image(source)
                .options(options)
                .on_progress(progress);
            sent(c, hash).await
        }
        Kind::Video => {
            let (options, ignored) = video_options(a);
            warn(ignored);
            let c = ctx
                .client
                .classify_video(source)
                .options(options)
                .on_progress(progress);
            sent(c, hash).await
        }
        Kind::Audio => {
            let (options, ignored) = audio_options(a, by_url);
            warn(ignored);
            let c = ctx
                .client
                .classify_audio(source)
                .options(options)
                .on_progress(progress);
            sent(c, hash).await
        }
        // A kind this command has no flags for: sent with its defaults.
        other => {
            warn(crate::media::flags_set(a));
            let c = ctx.client.classify_as(other, source).on_progress(progress);
            if hash {
                c.send_receipt().await.map(|r| (r.identifier, r.sent))
            } else {
                c.send().await.map(|id| (id, None))
            }
        }
    }
}

/// Whether this is the first time this run that `ignored` flags are
/// warned about for this kind: one warning says it for every input like it.
fn first_warning(kind: Kind, ignored: &[&'static str], by_url: bool) -> bool {
    static WARNED: std::sync::Mutex<Vec<(Kind, Vec<&'static str>, bool)>> =
        std::sync::Mutex::new(Vec::new());
    let key = (kind, ignored.to_vec(), by_url);
    let mut warned = WARNED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if warned.contains(&key) {
        return false;
    }
    warned.push(key);
    true
}

/// Sends `c`: hashing what goes out only when asked (a 5 GB video is
/// hashed for nothing otherwise).
async fn sent<K: identifai::MediaKind>(
    c: identifai::Classify<'_, K>,
    hash: bool,
) -> identifai::Result<(Identifier, Option<identifai::Sent>)> {
    if hash {
        c.send_receipt().await.map(|r| (r.identifier, r.sent))
    } else {
        c.send().await.map(|id| (id, None))
    }
}

/// Waits for one classification's verdict.
pub async fn wait(
    ctx: &Context,
    id: &Identifier,
    kind: Kind,
    timeout: u64,
) -> identifai::Result<AnyResult> {
    let deadline = Context::deadline(timeout);
    match kind {
        Kind::Image => ctx
            .client
            .wait_image(id)
            .deadline(deadline)
            .await
            .map(AnyResult::Image),
        Kind::Video => ctx
            .client
            .wait_video(id)
            .deadline(deadline)
            .await
            .map(AnyResult::Video),
        Kind::Audio => ctx
            .client
            .wait_audio(id)
            .deadline(deadline)
            .await
            .map(AnyResult::Audio),
        other => {
            let (_, waited) = ctx
                .client
                .wait_all([id.clone()])
                .kind(other)
                .deadline(deadline)
                .await
                .remove(0);
            waited
        }
    }
}

/// One GET of a result.
async fn fetch(ctx: &Context, id: &Identifier, kind: Kind) -> identifai::Result<AnyResult> {
    ctx.client.result_as(kind, id).await
}

/// The outcome of a wait: the result, or for an `errored` classification
/// the service's answer (fetched once more), or the error.
pub async fn outcome_of(
    ctx: &Context,
    path: Option<String>,
    id: &Identifier,
    kind: Kind,
    waited: identifai::Result<AnyResult>,
) -> Outcome {
    let what = path.clone().unwrap_or_else(|| id.to_string());
    match waited {
        Ok(typed) => {
            let record = Record::from_result(path, &typed);
            let problems = match record.status.as_str() {
                "errored" => vec![crate::output::scrub(
                    &crate::output::terminal_safe(&format!(
                        "error: {what}: classification {id} errored: {}",
                        record.error.as_deref().unwrap_or("")
                    )),
                    ctx.secret.as_deref(),
                )],
                _ => Vec::new(),
            };
            Outcome {
                record,
                typed: Some(typed),
                notes: Notes::default(),
                problems,
                missing: false,
            }
        }
        Err(e @ Error::ClassificationErrored { .. }) => {
            let problems = vec![ctx.error_line(&what, &e)];
            match fetch(ctx, id, kind).await {
                Ok(typed) => {
                    let mut record = Record::from_result(path, &typed);
                    record.status = "errored".into();
                    record.code = Some("errored");
                    if record.error.is_none() {
                        if let Error::ClassificationErrored { errors, .. } = &e {
                            record.error = Some(errors.clone());
                        }
                    }
                    Outcome {
                        record,
                        typed: Some(typed),
                        notes: Notes::default(),
                        problems,
                        missing: false,
                    }
                }
                Err(_) => {
                    let mut record = Record::failed_with(path, Some(kind.as_str()), &e);
                    record.status = "errored".into();
                    record.identifier = Some(id.to_string());
                    Outcome {
                        record,
                        typed: None,
                        notes: Notes::default(),
                        problems,
                        missing: false,
                    }
                }
            }
        }
        Err(e) => {
            let mut record = Record::failed_with(path, Some(kind.as_str()), &e);
            record.identifier = Some(id.to_string());
            Outcome::failed(ctx, record, &what, &e)
        }
    }
}

/// `identifai result`.
pub async fn result(ctx: &Context, args: ResultArgs) -> anyhow::Result<Exit> {
    let p = Paint(ctx.color);
    // Without --wait, one GET each (4 at a time); with it, every identifier
    // joins the client's poller at once, and is printed as it finishes.
    let at_once = if args.wait { args.ids.len().max(1) } else { 4 };
    let mut outcomes = futures::stream::iter(args.ids.iter())
        .map(|id| result_one(ctx, &args, id))
        .buffer_unordered(at_once);
    let mut tally = Tally::default();
    let mut first = true;
    let mut missing = false;
    while let Some(mut o) = outcomes.next().await {
        // Asked of every kind and known to none: no kind to report.
        if args.kind == KindArg::Auto && o.record.code == Some("not_found") {
            o.record.kind = None;
        }
        count(&mut tally, &o, args.waiting.fail_on);
        missing |= o.missing;
        print_outcome(ctx, &o, false, &mut first, p);
    }
    if missing && ctx.mock {
        ctx.eprintln(MOCK_FORGETS);
    }
    Ok(tally.exit())
}

async fn result_one(ctx: &Context, args: &ResultArgs, id: &Identifier) -> Outcome {
    let bar = if args.wait {
        ctx.spinner(id.as_str())
    } else {
        ProgressBar::hidden()
    };
    if args.wait {
        // Polled through each kind's list with every other identifier.
        let kind = args.kind.kind();
        let mut waiting = ctx
            .client
            .wait_all([id.clone()])
            .deadline(Context::deadline(args.waiting.timeout));
        if let Some(k) = kind {
            waiting = waiting.kind(k);
        }
        let (_, waited) = waiting.await.remove(0);
        let kind = match &waited {
            Ok(typed) => typed.kind(),
            Err(_) => kind.unwrap_or(Kind::Image),
        };
        bar.finish_and_clear();
        return outcome_of(ctx, None, id, kind, waited).await;
    }
    // Which endpoint knows it, and its current state.
    let (kind, first) = match args.kind.kind() {
        Some(kind) => (kind, fetch(ctx, id, kind).await),
        // The library asks image, then video, then audio, on 404.
        None => match ctx.client.result(id).await {
            Ok(r) => (r.kind(), Ok(r)),
            Err(e) => (Kind::Image, Err(e)),
        },
    };
    let current = match first {
        Ok(typed) if args.wait && crate::output::is_pending(&typed) => {
            wait(ctx, id, kind, args.waiting.timeout).await
        }
        other => other,
    };
    bar.finish_and_clear();
    outcome_of(ctx, None, id, kind, current).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_real_service_is_official() {
        assert!(is_official(false, "https://backend.identifai.net"));
        assert!(is_official(false, "https://backend.identifai.net/"));
        assert!(!is_official(true, "https://backend.identifai.net"));
        assert!(!is_official(false, "http://127.0.0.1:8080"));
        assert!(!is_official(
            false,
            "https://backend.identifai.net.example.com"
        ));
    }

    #[test]
    fn the_summary_links_the_dashboard_only_when_told() {
        let typed = AnyResult::from_json(
            identifai::Kind::Image,
            r#"{"identifier":"x","status":"done","result_url":"https://identifai.net/d/x"}"#,
        )
        .unwrap();
        let mut notes = Notes::default();
        assert!(!summary("t", &typed, &notes, Paint(false)).contains("dashboard"));
        notes.dashboard = true;
        assert!(summary("t", &typed, &notes, Paint(false)).contains("dashboard"));
    }
}
