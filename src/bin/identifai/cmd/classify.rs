//! `identifai classify`: submits files and URLs, waits for their verdicts
//! (unless `--no-wait`) and prints each as it finishes; `--heatmap` saves
//! the heatmap and its overlay.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Args;
use futures::StreamExt;
use identifai::{AnyResult, Identifier};

use crate::context::Context;
use crate::exit::{usage, Exit, Tally};
use crate::flags::{SubmitArgs, WaitArgs};
use crate::media::Input;
use crate::outcome::{count, outcome_of, print_outcome, Outcome};
use crate::output::{terminal_safe, Notes, Paint, Record};
use crate::submission::{submit, wait};

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Files or http(s) URLs of images, videos and audio.
    #[arg(required = true, value_name = "PATH|URL")]
    pub inputs: Vec<OsString>,

    #[command(flatten)]
    pub submit: SubmitArgs,

    /// Print the identifiers and return, without waiting for verdicts.
    #[arg(long, conflicts_with_all = ["fail_on", "heatmap_out"])]
    pub no_wait: bool,

    #[command(flatten)]
    pub wait: WaitArgs,

    /// With --heatmap: save the bare heatmap here instead (a file for one
    /// input, a directory for several: DIR/<name>.heatmap.png). Without
    /// it, --heatmap saves NAME.heatmap.png and NAME.overlay.png (the
    /// heatmap over the image) in the current directory, NAME from the
    /// input's name; when either is taken, NAME-2.*, NAME-3.*: nothing is
    /// overwritten.
    #[arg(long, value_name = "PATH", requires = "heatmap")]
    pub heatmap_out: Option<PathBuf>,

    /// Inputs in flight at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub concurrency: u16,
}

/// `identifai classify`.
pub async fn run(ctx: &Context, args: ClassifyArgs) -> anyhow::Result<Exit> {
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
        count(&mut tally, &o, args.wait.fail_on.as_ref());
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
            let why = terminal_safe(&why);
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
