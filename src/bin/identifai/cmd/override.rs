//! `identifai override <HASH|IDENTIFIER> human|artificial`.
//!
//! An override is keyed by the file's SHA-256 (the `hash` of a result), not
//! by the classification's identifier. Given an identifier, its result is
//! fetched (any kind) for the hash and the kind; given a bare hash, the
//! kind is `--kind`, or each kind's override is tried in turn (image, video,
//! audio) until one knows the hash.

use clap::Args;
use identifai::api::types::Classification;
use identifai::{Error, Identifier, Kind};

use crate::context::Context;
use crate::exit::{failure, Exit};
use crate::flags::{kind_parser, parse_identifier, verdict_parser, Verdicts};
use crate::output::Paint;

/// The verdicts an override sets.
const CORRECTIONS: Verdicts = [
    ("human", "Made by a human"),
    ("artificial", "Made by generative AI"),
];

#[derive(Debug, Args)]
pub struct OverrideArgs {
    /// The file's hash (the `hash` of its result: hex SHA-256), or the
    /// identifier of its classification (its result is fetched for the hash).
    #[arg(value_name = "HASH|IDENTIFIER", value_parser = parse_identifier)]
    pub target: Identifier,

    /// The correct verdict.
    #[arg(value_parser = verdict_parser(CORRECTIONS))]
    pub classification: Classification,

    /// The kind of the file (auto: from the identifier's result; for a bare
    /// hash, image, then video, then audio, until one knows it).
    #[arg(long, value_parser = kind_parser(), default_value = "auto")]
    pub kind: ::std::option::Option<Kind>,
}

/// Runs the command; exits 1 when no kind knows the target.
pub async fn run(ctx: &Context, args: OverrideArgs) -> anyhow::Result<Exit> {
    let classification = args.classification;
    let target = args.target.as_str();
    let wanted = args.kind;
    // An identifier: its result gives the hash and the kind.
    let found = match wanted {
        Some(kind) => ctx.client.result_as(kind, &args.target).await,
        None => ctx.client.result(&args.target).await,
    };
    let (hash, kinds, identifier) = match found {
        Ok(result) => {
            let Some(hash) = result.hash().map(str::to_string) else {
                return Err(failure(
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
    ctx.hint_if_mock_forgot(&e);
    Err(anyhow::Error::new(e).context(format!(
        "{target}: no classification or file hash of that name"
    )))
}
