//! `identifai override <HASH|IDENTIFIER> human|artificial`.
//!
//! An override is keyed by the file's SHA-256 (the `hash` of a result), not
//! by the classification's identifier. Given an identifier, its result is
//! fetched (any kind) for the hash and the kind; given a bare hash, the
//! kind is `--kind`, or each kind's override is tried in turn (image, video,
//! audio) until one knows the hash.

use identifai::api::types::Classification;
use identifai::{Error, Kind};

use crate::args::{ClassificationArg, OverrideArgs};
use crate::context::Context;
use crate::output::Paint;
use crate::Exit;

/// Runs the command; exits 1 when no kind knows the target.
pub async fn run(ctx: &Context, args: OverrideArgs) -> anyhow::Result<Exit> {
    let classification = match args.classification {
        ClassificationArg::Human => Classification::Human,
        ClassificationArg::Artificial => Classification::Artificial,
    };
    let target = args.target.as_str();
    let wanted = args.kind.kind();
    // An identifier: its result gives the hash and the kind.
    let found = match wanted {
        Some(kind) => ctx.client.result_as(kind, &args.target).await,
        None => ctx.client.result(&args.target).await,
    };
    let (hash, kinds, identifier) = match found {
        Ok(result) => {
            let Some(hash) = result.hash().map(str::to_string) else {
                return Err(crate::failure(
                    "decode",
                    format!("the result of {target} has no hash to override"),
                ));
            };
            (hash, vec![result.kind()], Some(target.to_string()))
        }
        // Not an identifier any kind knows: take it as the file's hash.
        Err(Error::NotFound { .. }) => {
            let kinds = wanted.map_or_else(|| Kind::ALL.to_vec(), |k| vec![k]);
            (target.to_string(), kinds, None)
        }
        Err(e) => return Err(anyhow::Error::new(e).context(target.to_string())),
    };
    let mut last = None;
    for kind in kinds {
        match ctx
            .client
            .override_classification(kind, &hash, classification.clone())
            .await
        {
            Ok(answer) => {
                if ctx.json {
                    let mut record = serde_json::json!({
                        "kind": kind.as_str(),
                        "hash": hash,
                        "identifier": identifier,
                        "status": "overridden",
                        "result": answer,
                    });
                    if identifier.is_none() {
                        record["identifier"] = serde_json::Value::Null;
                    }
                    ctx.println(&record.to_string());
                } else {
                    let p = Paint(ctx.color);
                    ctx.println(&format!(
                        "{} {kind} {hash}: now {}",
                        p.bold("overridden"),
                        // A 204 says nothing: the classification asked for.
                        p.verdict(
                            answer
                                .as_ref()
                                .map_or(classification.as_str(), |a| a.classification.as_str()),
                            true
                        )
                    ));
                }
                return Ok(Exit::Ok);
            }
            Err(e @ Error::NotFound { .. }) => last = Some(e),
            Err(e) => return Err(anyhow::Error::new(e).context(target.to_string())),
        }
    }
    let e = last.unwrap_or(Error::NotFound { message: None });
    crate::classify::hint_if_mock_forgot(ctx, &e);
    Err(anyhow::Error::new(e).context(format!(
        "{target}: no classification or file hash of that name"
    )))
}
