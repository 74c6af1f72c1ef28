//! `identifai result`: the results of earlier classifications, by
//! identifier (`--wait`: until each is finished).

use clap::Args;
use futures::StreamExt;
use identifai::{Identifier, Kind};
use indicatif::ProgressBar;

use crate::context::{Context, MOCK_FORGETS};
use crate::exit::{Exit, Tally};
use crate::flags::{kind_parser, parse_identifier, WaitArgs};
use crate::outcome::{count, fetch, outcome_of, print_outcome, Outcome};
use crate::output::Paint;
use crate::submission::wait;

#[derive(Debug, Args)]
pub struct ResultArgs {
    /// Identifiers given by `classify`.
    #[arg(required = true, value_name = "ID", value_parser = parse_identifier)]
    pub ids: Vec<Identifier>,

    /// Whether the identifiers are images', videos' or audios' (auto:
    /// image, then video, then audio, until one knows it).
    #[arg(long, value_parser = kind_parser(), default_value = "auto")]
    pub kind: ::std::option::Option<Kind>,

    /// Wait until each classification is finished.
    #[arg(long)]
    pub wait: bool,

    #[command(flatten)]
    pub waiting: WaitArgs,
}

/// `identifai result`.
pub async fn run(ctx: &Context, args: ResultArgs) -> anyhow::Result<Exit> {
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
        if args.kind.is_none() && o.record.code == Some("not_found") {
            o.record.kind = None;
        }
        count(&mut tally, &o, args.waiting.fail_on.as_ref());
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
        let kind = args.kind;
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
    let (kind, first) = match args.kind {
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
