//! The one dispatcher of the conformance tests: [`call`] calls an operation
//! of the spec once, by its operationId, and hands back what came of it
//! ([`Called`]), from which each test builds its own outcome (the wire
//! matrix's summaries, robustness's sanity checks).
//!
//! It is driven by what is generated from the spec
//! (`identifai::api::OPERATIONS`), so an operation or a kind the spec adds
//! is called with no edit here:
//!
//! * an operation with a media kind and role (`x-identifai`) goes through
//!   the layer's call for that role: the submission (`classify_as`, or the
//!   kind's typed `classify_*` where the tests send options), `result_as`,
//!   `results_as`, `override_classification`, `heatmap`;
//! * every other operation goes through its generated method, by the
//!   dispatcher generated from the spec
//!   (`identifai::api::conformance::call_operation`), with [`sample`]
//!   arguments;
//! * by hand: `health` (the layer's call, no kind) and `list_partner_users`
//!   (its optional query parameters, which the generated dispatcher leaves
//!   out, are what the wire matrix pins).

use crate::support::{mp3_sample, mp4_sample, png_sample, sample_of, ID};

use identifai::api::conformance::{Called as RawCalled, CalledBody};
use identifai::api::forms::{AudioOptions, Frames, ImageOptions, VideoOptions};
use identifai::api::{self, types};
use identifai::{AnyResult, Client, Identifier, Kind, Source};
use serde_json::{json, Value};

/// A second identifier, for the list operations.
pub const SECOND_ID: &str = "second-id";
/// A file's SHA-256 (`hash` of a result), what an override names.
pub const HASH: &str = "862bb7de43b131a38b64753269d643443a21069a04ab66a56c9818956f590cb9";
/// The `ref_id` the uploads carry.
const REF_ID: &str = "wire-matrix";

/// What one call gave back.
#[derive(Debug)]
pub enum Returned {
    /// `health` (the layer's).
    Health(types::HealthStatus),
    /// A submission's identifier (role `submit`, `submit_url`).
    Identifier(Identifier),
    /// One result (role `result`).
    Result(Box<AnyResult>),
    /// A list of results (role `list`).
    Results(Vec<AnyResult>),
    /// An override's answer; `None`: stored, no body (role `override`).
    Override(Option<types::OverrideResponse>),
    /// The heatmap PNG; `None`: the image has none (role `heatmap`).
    Heatmap(Option<bytes::Bytes>),
    /// What the generated client answered (an operation of no kind): its
    /// status and its body, decoded and re-encoded to JSON, or its bytes.
    Raw(RawCalled),
}

/// What went wrong in one call.
#[derive(Debug)]
pub enum Failed {
    /// The layer's error.
    Layer(identifai::Error),
    /// The generated client's error (an operation of no kind), any decoded
    /// error body as JSON.
    Raw(Box<api::Error<Value>>),
}

/// What came of one call.
pub type Answer = Result<Returned, Failed>;

/// The sample arguments the generated dispatcher asks for, by their names
/// in the spec: the sample identifier for every path parameter (the hash
/// for an override's), two identifiers for a list, and a partner user's
/// fields.
fn sample(name: &str) -> Option<Value> {
    match name {
        "identifier" => Some(json!(ID)),
        "hash" => Some(json!(HASH)),
        "identifiers[]" => Some(json!([ID, SECOND_ID])),
        "name" => Some(json!("User")),
        "email" => Some(json!("user@example.com")),
        "heuristic" => Some(json!("Average")),
        "pricing_id" => Some(json!(1)),
        _ => None,
    }
}

/// Calls operation `name` once through `client`.
pub async fn call(client: &Client, name: &str) -> Answer {
    let op = api::Operation::named(name)
        .unwrap_or_else(|| panic!("`{name}` is not in the generated operation list"));
    match (name, op.kind, op.role) {
        ("health", _, _) => layer(client.health().await.map(Returned::Health)),
        ("list_partner_users", _, _) => list_partner_users(client).await,
        (_, Some(kind), Some(role)) => {
            let kind: Kind = kind
                .parse()
                .unwrap_or_else(|e| panic!("{name}: kind `{kind}`: {e}"));
            by_role(client, op, kind, role).await
        }
        _ => generated(client, op).await,
    }
}

fn layer(r: identifai::Result<Returned>) -> Answer {
    r.map_err(Failed::Layer)
}

fn ids() -> (Identifier, Vec<Identifier>) {
    let id: Identifier = ID.parse().unwrap();
    let ids = vec![id.clone(), SECOND_ID.parse().unwrap()];
    (id, ids)
}

/// An operation of kind `kind` with role `role`, through the layer's call
/// for that role (a role the layer has no call for: the generated one).
/// The layer's call is this operation's: no two operations share a kind
/// and role (`api_surface::every_kind_and_role_names_one_operation`; the
/// alias paths carry no `x-identifai`, so go through the generated
/// dispatcher).
async fn by_role(client: &Client, op: &api::Operation, kind: Kind, role: &str) -> Answer {
    let (id, ids) = ids();
    match role {
        "submit" => layer(submit(client, kind, false).await.map(Returned::Identifier)),
        "submit_url" => layer(submit(client, kind, true).await.map(Returned::Identifier)),
        "result" => layer(
            client
                .result_as(kind, &id)
                .await
                .map(|r| Returned::Result(Box::new(r))),
        ),
        "list" => layer(client.results_as(kind, &ids).await.map(Returned::Results)),
        "override" => layer(
            client
                .override_classification(kind, HASH, types::Classification::Human)
                .await
                .map(Returned::Override),
        ),
        // The layer's heatmap is the image's.
        "heatmap" if kind == Kind::Image => layer(client.heatmap(&id).await.map(Returned::Heatmap)),
        _ => generated(client, op).await,
    }
}

/// Submits a sample of `kind`, as a file or by URL. The kinds the tests
/// send options for (the wire matrix pins them) through their typed
/// calls; any other kind through `classify_as`, with a file of its first
/// content type (`support::sample_of`).
async fn submit(client: &Client, kind: Kind, by_url: bool) -> identifai::Result<Identifier> {
    let url = |file: &str| Source::url(format!("https://media.example.com/{file}"));
    match (kind, by_url) {
        (Kind::Image, false) => {
            client
                .classify_image(Source::bytes("a.png", png_sample()))
                .options(ImageOptions::new().ref_id(REF_ID).with_heatmap(true))
                .send()
                .await
        }
        (Kind::Image, true) => {
            client
                .classify_image(url("a.jpg"))
                .options(ImageOptions::new().with_tampering(true))
                .send()
                .await
        }
        (Kind::Video, false) => {
            client
                .classify_video(Source::bytes("v.mp4", mp4_sample()))
                .options(VideoOptions::new().frames(Frames::V10).with_audio(true))
                .send()
                .await
        }
        (Kind::Video, true) => {
            client
                .classify_video(url("v.mp4"))
                .options(VideoOptions::new().frames(Frames::V5))
                .send()
                .await
        }
        (Kind::Audio, false) => {
            client
                .classify_audio(Source::bytes("s.mp3", mp3_sample()))
                .options(AudioOptions::new().ref_id(REF_ID))
                .send()
                .await
        }
        // Accepting anything (`*/*`, what this request has always sent):
        // the answer may be JSON or the bare identifier.
        (Kind::Audio, true) => {
            client
                .classify_audio(url("s.wav"))
                .options(AudioOptions::new().no_cache(true))
                .response_format(types::ResponseFormat::Unknown("*/*".into()))
                .send()
                .await
        }
        (other, false) => {
            let (name, bytes, content_type) = sample_of(other, 0);
            client
                .classify_as(other, Source::bytes(name, bytes).content_type(content_type))
                .send()
                .await
        }
        (other, true) => client.classify_as(other, url(other.as_str())).send().await,
    }
}

/// An operation through its generated method, called by the dispatcher
/// generated from the spec, with [`sample`] arguments.
async fn generated(client: &Client, op: &api::Operation) -> Answer {
    match api::conformance::call_operation(client.api(), op, &sample).await {
        Ok(called) => Ok(Returned::Raw(called)),
        Err(api::Error::InvalidRequest(why)) if why.starts_with("sample argument") => {
            panic!(
                "{}: the generated call has no usable sample: {why}",
                op.name
            )
        }
        Err(e) => Err(Failed::Raw(Box::new(e))),
    }
}

/// `list_partner_users` with every query parameter but one set, through
/// its generated method.
async fn list_partner_users(client: &Client) -> Answer {
    let r = client
        .api()
        .list_partner_users(
            Some(&types::SortDirection::Asc),
            None,
            Some(1),
            Some(50),
            None,
            Some("example.com"),
        )
        .await;
    match r {
        Ok(v) => Ok(Returned::Raw(RawCalled {
            status: v.status().as_u16(),
            body: CalledBody::Json(
                serde_json::to_value(v.into_inner()).expect("a decoded page re-encodes"),
            ),
        })),
        Err(e) => Err(Failed::Raw(Box::new(api::conformance::err_json(e)))),
    }
}
