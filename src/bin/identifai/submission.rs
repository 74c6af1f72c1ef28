//! Sending one input (with the flags that apply to its kind, a warning for
//! the others) and waiting for its verdict: what `classify` and `batch`
//! share.

use identifai::{AnyResult, Identifier, Kind};
use indicatif::ProgressBar;

use crate::context::Context;
use crate::flags::SubmitArgs;
use crate::media::{audio_options, flags_set, image_options, video_options, Input};

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
            warn(flags_set(a));
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
async fn sent<K: identifai::kinds::MediaKind>(
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
