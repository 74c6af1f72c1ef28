//! Contract checks for your CI (feature `contract`): does a server still
//! answer the way the vendored spec says?
//!
//! [`run`] sends a small, budgeted set of requests to the live service (with
//! your key) or to the built-in [`MockServer`], and
//! validates every **raw** answer against the response schemas of the spec
//! embedded in this crate ([`Spec::embedded`], `openapi/identifai.yaml`: no
//! checkout needed). Each answer is also decoded into the generated types,
//! as the client would. Earlier classifications you name
//! ([`ContractConfig::with_identifiers`], of any kind) are checked for free.
//!
//! - a value of another type, a missing required field, `null` where the
//!   spec does not allow it, an undeclared status: **failure**;
//! - a field the spec does not declare, a value outside an enum, PHP's
//!   integer `0`/`1` where the spec says `boolean` (which the client reads
//!   as `false`/`true`): **drift**, reported with the overlay actions that
//!   would make the spec describe it ([`Report::drift_overlay`]);
//! - any mismatch with an element no published page shows (its
//!   `x-evidence` level in the spec is `analogy` or `none`: the spec guessed
//!   there), and the decode error it causes: **drift** too
//!   ([`DriftKind::Unpublished`]).
//!
//! Images, videos and audios are checked (each kind's result and list
//! endpoint; an image's alias paths and heatmap), and an override round
//! trip. The budget ([`Budget`]) says what may be spent: against a server by
//! default one small image by URL, no upload, video or audio, and no
//! override (it changes the account's data:
//! [`ContractConfig::with_overrides`]); against the built-in mock one of
//! each kind by URL and the override. The same checks are the `identifai
//! contract` command (feature `cli`), with `--junit FILE` and `--drift FILE`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use identifai::contract::{run, ContractConfig, Target};
//!
//! let report = run(ContractConfig::new(Target::mock())).await;
//! assert_eq!(report.failures(), 0, "{}", report.to_text());
//! assert!(report.drift().is_empty());
//! # }
//! ```

mod report;
mod schema;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use secrecy::SecretString;
use serde_json::Value;

pub use report::{Check, Outcome, Report};
pub use schema::{Drift, DriftKind, Findings, Mismatch, Operation, Spec, EMBEDDED_SPEC};

use crate::mock::{MockConfig, MockServer};
use crate::{Client, Identifier};

/// A small, stable, public image (Wikimedia Commons, public domain): what
/// the checks submit by URL unless told otherwise.
pub const DEFAULT_IMAGE_URL: &str =
    "https://upload.wikimedia.org/wikipedia/commons/thumb/4/47/PNG_transparency_demonstration_1.png/320px-PNG_transparency_demonstration_1.png";

/// A 1x1 PNG, what an upload check sends.
const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Which server the checks talk to.
#[derive(Debug)]
pub enum Target {
    /// A server at `base_url` (the live service:
    /// `https://backend.identifai.net`), with a key.
    Server {
        /// Its base URL.
        base_url: String,
        /// The API key (never printed).
        api_key: SecretString,
    },
    /// A [`MockServer`] started for the run, with this configuration.
    Mock(MockConfig),
}

impl Target {
    /// The live service with `api_key`.
    pub fn live(api_key: impl Into<String>) -> Target {
        Target::server("https://backend.identifai.net", api_key)
    }

    /// A server at `base_url` with `api_key`.
    pub fn server(base_url: impl Into<String>, api_key: impl Into<String>) -> Target {
        Target::Server {
            base_url: base_url.into(),
            api_key: SecretString::from(api_key.into()),
        }
    }

    /// The built-in mock, on a fast clock (`time_scale` 0.01).
    pub fn mock() -> Target {
        Target::Mock(
            MockConfig::default()
                .with_time_scale(0.01)
                .with_polls_until_done(2),
        )
    }

    /// The built-in mock in its quirks mode (fields the spec does not name,
    /// `[]` for empty maps, `0`/`1` for booleans).
    pub fn mock_quirks() -> Target {
        match Target::mock() {
            Target::Mock(c) => Target::Mock(c.with_quirks(true)),
            other => other,
        }
    }
}

/// A short public audio (Wikimedia Commons' `Example.ogg`, public domain):
/// what the checks submit by URL as an audio unless told otherwise.
pub const DEFAULT_AUDIO_URL: &str =
    "https://upload.wikimedia.org/wikipedia/commons/c/c8/Example.ogg";

/// A public video (Wikimedia Commons, *Big Buck Bunny* at 160p, CC BY 3.0):
/// what the checks submit by URL as a video unless told otherwise.
pub const DEFAULT_VIDEO_URL: &str = "https://upload.wikimedia.org/wikipedia/commons/transcoded/c/c0/Big_Buck_Bunny_4K.webm/Big_Buck_Bunny_4K.webm.160p.webm";

/// What the checks may spend: paid classifications, each counted. A run
/// never submits more of a kind than its number here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Images submitted by URL (each costs a credit on the live service).
    pub images_by_url: u32,
    /// Images uploaded (a 1x1 PNG each).
    pub image_uploads: u32,
    /// Videos submitted by URL (each a paid video classification).
    pub videos_by_url: u32,
    /// Audios submitted by URL (each a paid audio classification).
    pub audios_by_url: u32,
}

impl Default for Budget {
    /// One small image by URL, nothing else: what a live run spends unless
    /// told otherwise.
    fn default() -> Self {
        Budget {
            images_by_url: 1,
            ..Budget::NOTHING
        }
    }
}

impl Budget {
    /// Spend nothing: only the checks that cost no credit (health, a wrong
    /// key, the results of `identifiers` you name).
    pub const NOTHING: Budget = Budget {
        images_by_url: 0,
        image_uploads: 0,
        videos_by_url: 0,
        audios_by_url: 0,
    };

    /// One of each kind by URL (image, video, audio), no upload: what a run
    /// against the built-in mock spends by default.
    pub const ONE_OF_EACH: Budget = Budget {
        images_by_url: 1,
        image_uploads: 0,
        videos_by_url: 1,
        audios_by_url: 1,
    };

    /// The paid classifications this budget allows, all kinds together.
    pub fn paid(&self) -> u32 {
        self.images_by_url
            .saturating_add(self.image_uploads)
            .saturating_add(self.videos_by_url)
            .saturating_add(self.audios_by_url)
    }
}

/// How to run the checks.
#[derive(Debug)]
pub struct ContractConfig {
    /// The server.
    target: Target,
    /// What may be spent.
    budget: Budget,
    /// The image submitted by URL.
    image_url: String,
    /// The video submitted by URL.
    video_url: String,
    /// The audio submitted by URL.
    audio_url: String,
    /// Whether the override round trip runs (it changes the account's data).
    overrides: bool,
    /// Results of earlier submissions to check as well (cost nothing).
    identifiers: Vec<Identifier>,
    /// The spec to validate against (default: [`Spec::embedded`]).
    spec: Option<Spec>,
    /// How long to wait for a submission's verdict.
    deadline: Duration,
}

impl ContractConfig {
    /// The default checks against `target`. Against the built-in mock:
    /// [`Budget::ONE_OF_EACH`] and the override round trip; against a
    /// server: [`Budget::default`] (one image by URL) and no override
    /// (opt in with [`ContractConfig::with_overrides`]).
    pub fn new(target: Target) -> Self {
        let mock = matches!(target, Target::Mock(_));
        ContractConfig {
            target,
            budget: if mock {
                Budget::ONE_OF_EACH
            } else {
                Budget::default()
            },
            image_url: DEFAULT_IMAGE_URL.into(),
            video_url: DEFAULT_VIDEO_URL.into(),
            audio_url: DEFAULT_AUDIO_URL.into(),
            overrides: mock,
            identifiers: Vec::new(),
            spec: None,
            deadline: Duration::from_secs(300),
        }
    }

    /// With this budget.
    pub fn with_budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// Validating against `spec` instead of the embedded one.
    pub fn with_spec(mut self, spec: Spec) -> Self {
        self.spec = Some(spec);
        self
    }

    /// Whether to run the override round trip: override the verdict of the
    /// first classification the run submitted with the verdict the server
    /// gave it, then read the result back. It spends no credit, but the
    /// override stays on the account (for every later submission of the
    /// same file), so against a live key it runs only when asked for.
    pub fn with_overrides(mut self, on: bool) -> Self {
        self.overrides = on;
        self
    }
}

/// Reading the settings back.
impl ContractConfig {
    /// What is checked.
    pub fn target(&self) -> &Target {
        &self.target
    }
    /// What the checks may spend.
    pub fn budget(&self) -> Budget {
        self.budget
    }
    /// The image URL submitted by URL.
    pub fn image_url(&self) -> &str {
        &self.image_url
    }
    /// The video URL submitted by URL.
    pub fn video_url(&self) -> &str {
        &self.video_url
    }
    /// The audio URL submitted by URL.
    pub fn audio_url(&self) -> &str {
        &self.audio_url
    }
    /// Whether the override round trip runs.
    pub fn overrides(&self) -> bool {
        self.overrides
    }
    /// Identifiers whose results are read as well.
    pub fn identifiers(&self) -> &[Identifier] {
        &self.identifiers
    }
    /// The spec checked against (`None`: the embedded one).
    pub fn spec(&self) -> Option<&Spec> {
        self.spec.as_ref()
    }
    /// How long the whole run may take.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }
    /// Sets [`ContractConfig::image_url`]: the image URL submitted by URL.
    pub fn with_image_url(mut self, image_url: String) -> Self {
        self.image_url = image_url;
        self
    }
    /// Sets [`ContractConfig::video_url`]: the video URL submitted by URL.
    pub fn with_video_url(mut self, video_url: String) -> Self {
        self.video_url = video_url;
        self
    }
    /// Sets [`ContractConfig::audio_url`]: the audio URL submitted by URL.
    pub fn with_audio_url(mut self, audio_url: String) -> Self {
        self.audio_url = audio_url;
        self
    }
    /// Sets [`ContractConfig::identifiers`]: identifiers whose results are read as well.
    pub fn with_identifiers(mut self, identifiers: Vec<Identifier>) -> Self {
        self.identifiers = identifiers;
        self
    }
    /// Sets [`ContractConfig::deadline`]: how long the whole run may take.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }
}

/// One answer as received.
struct Answer {
    status: u16,
    content_type: String,
    body: bytes::Bytes,
}

struct Session {
    client: Client,
    spec: Spec,
    report: Report,
    seen_drift: BTreeMap<String, ()>,
}

/// Runs the checks; never panics on what a server answers (every problem is
/// a failed check in the report).
pub async fn run(config: ContractConfig) -> Report {
    let spec = config.spec.clone().unwrap_or_else(Spec::embedded);
    let (client, target_name, _mock) = match &config.target {
        Target::Server { base_url, api_key } => {
            use secrecy::ExposeSecret;
            let client = Client::builder()
                .api_key(api_key.expose_secret())
                .base_url(base_url.clone())
                .build();
            (client, base_url.clone(), None)
        }
        Target::Mock(mc) => match MockServer::try_start_with(mc.clone()) {
            Ok(mock) => {
                let name = format!(
                    "built-in MockServer{} at {}",
                    if mc.quirks() { " (quirks)" } else { "" },
                    mock.base_url()
                );
                (mock.client_builder().build(), name, Some(mock))
            }
            Err(e) => {
                let mut report = Report::new("built-in MockServer".into());
                report.push(Check::failed("start the mock", vec![e.to_string()]));
                return report;
            }
        },
    };
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            let mut report = Report::new(target_name);
            report.push(Check::failed("build the client", vec![e.to_string()]));
            return report;
        }
    };
    let mut s = Session {
        client,
        report: Report::new(target_name).with_spec(spec.clone()),
        spec,
        seen_drift: BTreeMap::new(),
    };
    s.checks(&config).await;
    s.report
}

impl Session {
    async fn checks(&mut self, config: &ContractConfig) {
        // health
        let t = Instant::now();
        let mut problems = Vec::new();
        let mut drift = Vec::new();
        match self.send("health", &[], None, true).await {
            Ok(a) => self.judge("health", &a, &mut problems, &mut drift, |_| Ok(())),
            Err(e) => problems.push(e),
        }
        self.finish("health answers as the spec says", t, problems, drift);

        // The submissions, each counted against the budget before it is sent.
        let budget = config.budget;
        let plan = [
            (
                Media::Image,
                budget.images_by_url,
                "submit an image by URL",
                "the image submitted by URL",
            ),
            (
                Media::Image,
                budget.image_uploads,
                "upload an image",
                "the uploaded image",
            ),
            (
                Media::Video,
                budget.videos_by_url,
                "submit a video by URL",
                "the video submitted by URL",
            ),
            (
                Media::Audio,
                budget.audios_by_url,
                "submit an audio by URL",
                "the audio submitted by URL",
            ),
        ];
        let mut fresh: Vec<Subject> = Vec::new();
        for (slot, (media, count, verb, label)) in plan.into_iter().enumerate() {
            for n in 0..count {
                if !self.spend(slot, budget) {
                    break; // never more than the budget allows
                }
                let what = match (media, slot) {
                    (Media::Image, 1) => Submission::Upload,
                    (Media::Image, _) => Submission::Url(media, config.image_url.clone()),
                    (Media::Video, _) => Submission::Url(media, config.video_url.clone()),
                    (Media::Audio, _) => Submission::Url(media, config.audio_url.clone()),
                };
                let op = match (media, slot) {
                    (Media::Image, 1) => "classify_image",
                    (m, _) => m.submit_url_op(),
                };
                let name = format!("{verb} ({}/{count})", n + 1);
                if let Some(id) = self.submit(op, &name, what).await {
                    let label = if count > 1 {
                        format!("{label} ({}/{count})", n + 1)
                    } else {
                        label.to_owned()
                    };
                    fresh.push(Subject { media, id, label });
                }
            }
        }
        let earlier = config.identifiers.len();
        let mut done: Vec<(Subject, Value)> = Vec::new();
        for subject in fresh.iter().cloned() {
            if let Some(result) = self.result_checks(&subject, config.deadline).await {
                done.push((subject, result));
            }
        }
        for (i, id) in config.identifiers.iter().enumerate() {
            let label = if earlier > 1 {
                format!(
                    "the classification named by --identifier ({}/{earlier})",
                    i + 1
                )
            } else {
                "the classification named by --identifier".to_owned()
            };
            let subject = Subject {
                media: self.kind_of(id).await,
                id: id.clone(),
                label,
            };
            self.result_checks(&subject, Duration::ZERO).await;
        }
        if fresh.is_empty() && earlier == 0 {
            self.report.push(Check::skipped(
                "results, lists and heatmaps",
                "the budget allows no submission and no --identifier was given",
            ));
        }

        // the override round trip
        if !config.overrides {
            self.report.push(Check::skipped(
                OVERRIDE_CHECK,
                "it changes the account's data (the override stays): opt in with --override",
            ));
        } else if let Some((subject, result)) = done.first() {
            self.override_round_trip(subject, result).await;
        } else {
            self.report.push(Check::skipped(
                OVERRIDE_CHECK,
                "no classification of this run finished (the budget allows none, or each failed)",
            ));
        }

        // a wrong key
        let t = Instant::now();
        let mut problems = Vec::new();
        let mut drift = Vec::new();
        let probe = fresh
            .first()
            .map(|s| &s.id)
            .or(config.identifiers.first())
            .map_or_else(|| "contract-probe".to_owned(), |i| i.to_string());
        match self
            .send_with_key(
                "get_image_classification",
                &[("identifier", probe.as_str())],
                Some("identifai-rust-contract-wrong-key"),
            )
            .await
        {
            Ok(a) if a.status == 401 => self.judge(
                "get_image_classification",
                &a,
                &mut problems,
                &mut drift,
                |_| Ok(()),
            ),
            Ok(a) => problems.push(format!("expected 401, got {}", a.status)),
            Err(e) => problems.push(e),
        }
        self.finish("a wrong key is refused with 401", t, problems, drift);
    }

    /// The kind of an earlier classification: the first of image, video
    /// and audio whose result endpoint does not answer 404 (image if none
    /// does: its check then reports the 404).
    async fn kind_of(&self, id: &Identifier) -> Media {
        for media in [Media::Image, Media::Video, Media::Audio] {
            match self
                .send(media.get_op(), &[("identifier", id.as_str())], None, true)
                .await
            {
                Ok(a) if a.status == 404 => continue,
                _ => return media,
            }
        }
        Media::Image
    }

    /// Counts one paid classification of the plan's `slot` (0 images by
    /// URL, 1 uploads, 2 videos, 3 audios); `false` once the budget of that
    /// slot is spent (nothing is sent then).
    fn spend(&mut self, slot: usize, budget: Budget) -> bool {
        let spent = &mut self.report.spent;
        let (used, allowed) = match slot {
            0 => (&mut spent.images_by_url, budget.images_by_url),
            1 => (&mut spent.image_uploads, budget.image_uploads),
            2 => (&mut spent.videos_by_url, budget.videos_by_url),
            _ => (&mut spent.audios_by_url, budget.audios_by_url),
        };
        if *used >= allowed {
            return false;
        }
        *used += 1;
        true
    }

    async fn submit(&mut self, op: &str, name: &str, what: Submission) -> Option<Identifier> {
        let t = Instant::now();
        let mut problems = Vec::new();
        let mut drift = Vec::new();
        let mut id = None;
        match self.send(op, &[], Some(what), true).await {
            Ok(a) if !(200..300).contains(&a.status) => {
                self.judge(op, &a, &mut problems, &mut drift, |_| Ok(()));
                problems.push(format!("refused: status {}", a.status));
            }
            Ok(a) => {
                self.judge(op, &a, &mut problems, &mut drift, |v| {
                    let text = v
                        .get("identifier")
                        .and_then(Value::as_str)
                        .ok_or("no identifier in the answer")?;
                    id = Some(Identifier::new(text).map_err(|e| e.to_string())?);
                    Ok(())
                });
            }
            Err(e) => problems.push(e),
        }
        self.finish(name, t, problems, drift);
        id
    }

    /// Polls the subject's result until done (up to `deadline`), then checks
    /// its kind's lists, and for an image its alias and heatmap. The result,
    /// once it is done and valid.
    async fn result_checks(&mut self, subject: &Subject, deadline: Duration) -> Option<Value> {
        let Subject { media, id, label } = subject;
        let media = *media;
        let t = Instant::now();
        let mut problems = Vec::new();
        let mut drift = Vec::new();
        let path = [("identifier", id.as_str())];
        let get = media.get_op();
        let mut done: Option<Value> = None;
        let mut interval = self.client_interval();
        loop {
            match self.send(get, &path, None, true).await {
                Ok(a) => {
                    let mut value = None;
                    self.judge(get, &a, &mut problems, &mut drift, |v| {
                        value = Some(v.clone());
                        media.decode(v)
                    });
                    if !problems.is_empty() {
                        break;
                    }
                    let status = value
                        .as_ref()
                        .and_then(|v| v.get("status"))
                        .and_then(Value::as_str);
                    let finished = !matches!(status, Some("new")) || t.elapsed() >= deadline;
                    if finished {
                        if status == Some("new") && !deadline.is_zero() {
                            problems.push(format!("still `new` after {} s", deadline.as_secs()));
                        }
                        done = value;
                        break;
                    }
                }
                Err(e) => {
                    problems.push(e);
                    break;
                }
            }
            tokio::time::sleep(interval).await;
            interval = (interval * 2).min(Duration::from_secs(10));
        }
        if let Some(v) = &done {
            if v.get("identifier").and_then(Value::as_str) != Some(id.as_str()) {
                problems.push(format!(
                    "$.identifier: {:?} is not {id}",
                    v.get("identifier")
                ));
            }
            // A finished classification has a verdict: what a user acts on.
            let is_done = v.get("status").and_then(Value::as_str) == Some("done");
            if is_done && v.get("verdict").is_none_or(Value::is_null) {
                problems.push("$.verdict: `done` without a verdict".to_owned());
            }
            if let Some(c) = v.pointer("/verdict/confidence").and_then(Value::as_f64) {
                if !(0.0..=1.0).contains(&c) {
                    problems.push(format!("$.verdict.confidence: {c} is outside 0..=1"));
                }
            }
        }
        let failed = !problems.is_empty();
        self.finish(&format!("result of {label}"), t, about(problems, id), drift);
        let result = done?;

        // the alias (images only)
        if media == Media::Image {
            let t = Instant::now();
            let mut problems = Vec::new();
            let mut drift = Vec::new();
            match self
                .send("get_image_classification_alias", &path, None, true)
                .await
            {
                Ok(a) => self.judge(
                    "get_image_classification_alias",
                    &a,
                    &mut problems,
                    &mut drift,
                    |v| {
                        (v == &result).then_some(()).ok_or_else(|| {
                            "differs from /api/classification/{identifier}".to_string()
                        })
                    },
                ),
                Err(e) => problems.push(e),
            }
            self.finish(
                &format!("alias result of {label}"),
                t,
                about(problems, id),
                drift,
            );
        }

        // the lists
        for &op in media.list_ops() {
            let t = Instant::now();
            let mut problems = Vec::new();
            let mut drift = Vec::new();
            match self
                .send(op, &[("identifiers[]", id.as_str())], None, true)
                .await
            {
                Ok(a) => self.judge(op, &a, &mut problems, &mut drift, |v| {
                    let items = v.as_array().ok_or("not a list")?;
                    let item = items
                        .iter()
                        .find(|i| i.get("identifier").and_then(Value::as_str) == Some(id.as_str()))
                        .ok_or("the identifier is missing from the list")?;
                    if item.get("verdict") != result.get("verdict") {
                        return Err("the listed verdict differs from the result's".into());
                    }
                    Ok(())
                }),
                Err(e) => problems.push(e),
            }
            let path = self.spec.operation(op).map(|o| o.path).unwrap_or_default();
            self.finish(
                &format!("{path} lists {label}"),
                t,
                about(problems, id),
                drift,
            );
        }

        // the heatmap (images only)
        let heatmaps: &[&str] = if media == Media::Image {
            &["get_image_heatmap", "get_image_heatmap_alias"]
        } else {
            &[]
        };
        for &op in heatmaps {
            let t = Instant::now();
            let mut problems = Vec::new();
            match self.send(op, &path, None, false).await {
                Ok(a) => {
                    let has = result.get("has_heatmap").and_then(Value::as_bool);
                    match (a.status, has) {
                        (200, Some(false)) => {
                            problems.push("a heatmap although has_heatmap is false".into())
                        }
                        (204, Some(true)) => {
                            problems.push("204 although has_heatmap is true".into())
                        }
                        (200, _) if !a.body.starts_with(b"\x89PNG") => {
                            problems.push(format!("200 but not a PNG ({})", a.content_type))
                        }
                        (200 | 204, _) => {}
                        (s, _) if self.spec.declares_status(op, s) => {
                            problems.push(format!("answered {s}"))
                        }
                        (s, _) => problems.push(format!("status {s} is not declared by the spec")),
                    }
                }
                Err(e) => problems.push(e),
            }
            let path = self.spec.operation(op).map(|o| o.path).unwrap_or_default();
            self.finish(
                &format!("{path} for {label}"),
                t,
                about(problems, id),
                Vec::new(),
            );
        }
        (!failed && result.get("status").and_then(Value::as_str) != Some("new")).then_some(result)
    }

    /// Overrides the subject's verdict with the classification the server
    /// gave it (so the verdict a user sees does not change), checks the
    /// override's answer (its hash and kind), then reads the result back:
    /// its `force_classification` must be the override.
    async fn override_round_trip(&mut self, subject: &Subject, result: &Value) {
        let t = Instant::now();
        let mut problems = Vec::new();
        let mut drift = Vec::new();
        let name = format!("{OVERRIDE_CHECK} on {}", subject.label);
        let hash = result.get("hash").and_then(Value::as_str);
        let classification = result
            .pointer("/verdict/classification")
            .and_then(Value::as_str)
            .filter(|c| matches!(*c, "human" | "artificial"));
        let (Some(hash), Some(classification)) = (hash, classification) else {
            problems.push(
                "the result has no `hash` or no human/artificial `verdict.classification` to override"
                    .into(),
            );
            self.finish(&name, t, about(problems, &subject.id), drift);
            return;
        };
        let op = subject.media.override_op();
        let body = serde_json::json!({ "classification": classification });
        match self
            .send(op, &[("hash", hash)], Some(Submission::Json(body)), true)
            .await
        {
            Ok(a) if !(200..300).contains(&a.status) => {
                self.judge(op, &a, &mut problems, &mut drift, |_| Ok(()));
                problems.push(format!("refused: status {}", a.status));
            }
            Ok(a) => self.judge(op, &a, &mut problems, &mut drift, |v| {
                if !v
                    .get("hash")
                    .and_then(Value::as_str)
                    .is_some_and(|h| h.eq_ignore_ascii_case(hash))
                {
                    return Err(format!("$.hash: {:?} is not {hash}", v.get("hash")));
                }
                if v.get("type").and_then(Value::as_str) != Some(subject.media.noun()) {
                    return Err(format!(
                        "$.type: {:?} is not {:?}",
                        v.get("type"),
                        subject.media.noun()
                    ));
                }
                if v.get("classification").and_then(Value::as_str) != Some(classification) {
                    return Err(format!(
                        "$.classification: {:?} is not {classification:?}",
                        v.get("classification")
                    ));
                }
                Ok(())
            }),
            Err(e) => problems.push(e),
        }
        if problems.is_empty() {
            let get = subject.media.get_op();
            match self
                .send(get, &[("identifier", subject.id.as_str())], None, true)
                .await
            {
                Ok(a) => self.judge(get, &a, &mut problems, &mut drift, |v| {
                    let forced = v.get("force_classification").and_then(Value::as_str);
                    (forced == Some(classification))
                        .then_some(())
                        .ok_or_else(|| {
                            format!(
                            "$.force_classification: {:?} after the override to {classification:?}",
                            v.get("force_classification")
                        )
                        })
                }),
                Err(e) => problems.push(e),
            }
        }
        self.finish(&name, t, about(problems, &subject.id), drift);
    }

    fn client_interval(&self) -> Duration {
        Duration::from_millis(if self.report.target.contains("MockServer") {
            20
        } else {
            2000
        })
    }

    /// Validates an answer: its status is declared, its body is JSON that
    /// matches the schema; then `extra` on the parsed value.
    fn judge(
        &mut self,
        op: &str,
        a: &Answer,
        problems: &mut Vec<String>,
        drift: &mut Vec<Drift>,
        extra: impl FnOnce(&Value) -> Result<(), String>,
    ) {
        if !self.spec.declares_status(op, a.status) {
            problems.push(format!("status {} is not declared by the spec", a.status));
            return;
        }
        let value: Value = match serde_json::from_slice(&a.body) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!(
                    "status {}: the body is not JSON ({e}; content type {:?})",
                    a.status, a.content_type
                ));
                return;
            }
        };
        let findings = self.spec.validate(op, a.status, &value);
        for m in &findings.mismatches {
            problems.push(format!("{}: {} (schema #{})", m.field, m.message, m.schema));
        }
        // A mismatch with an element no page shows: the generated types
        // follow the spec's guess, so their decode error is that drift's too.
        let unpublished = findings
            .drift
            .iter()
            .find(|d| matches!(d.kind, DriftKind::Unpublished { .. }))
            .cloned();
        for d in findings.drift {
            if self.seen_drift.insert(d.key(), ()).is_none() {
                drift.push(d);
            }
        }
        if findings.mismatches.is_empty() && (200..300).contains(&a.status) {
            match (extra(&value), unpublished) {
                (Ok(()), _) => {}
                (Err(e), Some(d)) if e.starts_with(DECODE_ERROR) => {
                    if let DriftKind::Unpublished { level, reason, .. } = d.kind {
                        let d = Drift {
                            field: "$".into(),
                            schema: d.schema,
                            kind: DriftKind::Unpublished {
                                level,
                                reason,
                                message: e,
                            },
                        };
                        if self.seen_drift.insert(d.key(), ()).is_none() {
                            drift.push(d);
                        }
                    }
                }
                (Err(e), _) => problems.push(e),
            }
        }
    }

    fn finish(&mut self, name: &str, t: Instant, problems: Vec<String>, drift: Vec<Drift>) {
        let mut check = if problems.is_empty() {
            Check::passed(name)
        } else {
            Check::failed(name, problems)
        };
        check.duration = t.elapsed();
        check.drift = drift;
        self.report.push(check);
    }

    async fn send(
        &self,
        op: &str,
        params: &[(&str, &str)],
        body: Option<Submission>,
        json: bool,
    ) -> Result<Answer, String> {
        self.request(op, params, body, None, json).await
    }

    async fn send_with_key(
        &self,
        op: &str,
        params: &[(&str, &str)],
        key: Option<&str>,
    ) -> Result<Answer, String> {
        self.request(op, params, None, key, true).await
    }

    /// One request of operation `op` through the client's transport
    /// (pacing, key, timeouts, capped bodies): path parameters are
    /// substituted, the others go in the query.
    async fn request(
        &self,
        op: &str,
        params: &[(&str, &str)],
        body: Option<Submission>,
        key: Option<&str>,
        json: bool,
    ) -> Result<Answer, String> {
        let operation = self
            .spec
            .operation(op)
            .ok_or_else(|| format!("the spec has no operation `{op}`"))?;
        let api = self.client.api();
        let mut path = operation.path.clone();
        let mut query = Vec::new();
        for (k, v) in params {
            let slot = format!("{{{k}}}");
            if path.contains(&slot) {
                path = path.replace(
                    &slot,
                    &url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>(),
                );
            } else {
                query.push((*k, *v));
            }
        }
        let url = format!("{}{path}", api.baseurl());
        let method =
            reqwest::Method::from_bytes(operation.method.as_bytes()).map_err(|e| e.to_string())?;
        let mut builder = api.client().request(method, url).query(&query);
        if json {
            builder = builder.header(ACCEPT, HeaderValue::from_static("application/json"));
        }
        builder = match body {
            Some(Submission::Url(media, u)) => {
                let form = reqwest::multipart::Form::new()
                    .text("file_url", u)
                    .text("ref_id", "identifai-rust-contract");
                // A heatmap only where the form has the option (images).
                builder.multipart(if media == Media::Image {
                    form.text("with_heatmap", "true")
                } else {
                    form
                })
            }
            Some(Submission::Upload) => {
                let part = reqwest::multipart::Part::bytes(TINY_PNG)
                    .file_name("contract.png")
                    .mime_str("image/png")
                    .map_err(|e| e.to_string())?;
                builder.multipart(
                    reqwest::multipart::Form::new()
                        .part("image", part)
                        .text("with_heatmap", "true")
                        .text("ref_id", "identifai-rust-contract"),
                )
            }
            Some(Submission::Json(body)) => builder.json(&body),
            None => builder,
        };
        let mut request = builder.build().map_err(|e| e.to_string())?;
        let info = OperationInfo {
            operation_id: op_static(op),
        };
        api.pre::<()>(&mut request, &info)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(k) = key {
            let mut v = HeaderValue::from_str(k).map_err(|e| e.to_string())?;
            v.set_sensitive(true);
            request
                .headers_mut()
                .insert(crate::Transport::API_KEY_HEADER, v);
        }
        let response = api
            .exec(request, &info)
            .await
            .map_err(|e| crate::Error::transport(e).to_string())?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = crate::api::body::read_body(response)
            .await
            .map_err(|e| crate::Error::transport(e).to_string())?;
        Ok(Answer {
            status,
            content_type,
            body,
        })
    }
}

/// What a request carries.
enum Submission {
    /// A submission by URL of this kind.
    Url(Media, String),
    /// An upload of [`TINY_PNG`].
    Upload,
    /// A JSON body (an override).
    Json(Value),
}

/// The kind of media a check is about, and its operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Media {
    Image,
    Video,
    Audio,
}

impl Media {
    /// The kind's name, as an override's answer gives it (`type`).
    fn noun(self) -> &'static str {
        match self {
            Media::Image => "image",
            Media::Video => "video",
            Media::Audio => "audio",
        }
    }
    fn submit_url_op(self) -> &'static str {
        match self {
            Media::Image => "classify_image_from_url",
            Media::Video => "classify_video_from_url",
            Media::Audio => "classify_audio_from_url",
        }
    }
    fn get_op(self) -> &'static str {
        match self {
            Media::Image => "get_image_classification",
            Media::Video => "get_video_classification",
            Media::Audio => "get_audio_classification",
        }
    }
    fn list_ops(self) -> &'static [&'static str] {
        match self {
            Media::Image => &[
                "list_image_classifications",
                "list_image_classifications_alias",
            ],
            Media::Video => &["list_video_classifications"],
            Media::Audio => &["list_audio_classifications"],
        }
    }
    fn override_op(self) -> &'static str {
        match self {
            Media::Image => "override_image_classification",
            Media::Video => "override_video_classification",
            Media::Audio => "override_audio_classification",
        }
    }
    /// Decodes a result into the kind's generated type, as the client would.
    fn decode(self, v: &Value) -> Result<(), String> {
        use crate::api::types::{AudioResponse, ImageResponse, VideoResponse};
        match self {
            Media::Image => types_decode::<ImageResponse>(v),
            Media::Video => types_decode::<VideoResponse>(v),
            Media::Audio => types_decode::<AudioResponse>(v),
        }
    }
}

/// A classification whose result the checks read: its kind, identifier and
/// what the checks' names call it (the same on every run).
#[derive(Clone, Debug)]
struct Subject {
    media: Media,
    id: Identifier,
    label: String,
}

/// The operation ids the checks use, as `'static` strings (what
/// progenitor's hooks take).
fn op_static(op: &str) -> &'static str {
    const OPS: &[&str] = &[
        "health",
        "classify_image_from_url",
        "classify_image",
        "classify_video_from_url",
        "classify_audio_from_url",
        "get_image_classification",
        "get_image_classification_alias",
        "get_video_classification",
        "get_audio_classification",
        "list_image_classifications",
        "list_image_classifications_alias",
        "list_video_classifications",
        "list_audio_classifications",
        "get_image_heatmap",
        "get_image_heatmap_alias",
        "override_image_classification",
        "override_video_classification",
        "override_audio_classification",
    ];
    OPS.iter()
        .find(|o| **o == op)
        .copied()
        .unwrap_or("contract")
}

fn types_decode<T: serde::de::DeserializeOwned>(v: &Value) -> Result<(), String> {
    serde_json::from_value::<T>(v.clone())
        .map(|_| ())
        .map_err(|e| format!("{DECODE_ERROR}: {e}"))
}

/// How a decode error of the generated types starts.
const DECODE_ERROR: &str = "the generated types cannot decode it";

/// The name of the override round trip's check (followed by what it
/// overrode, e.g. `on the image submitted by URL`).
const OVERRIDE_CHECK: &str = "override round trip";

/// A check's problems, each naming the run's identifier (kept out of the
/// check's name).
fn about(problems: Vec<String>, id: &impl std::fmt::Display) -> Vec<String> {
    problems
        .into_iter()
        .map(|p| format!("{p} (identifier {id})"))
        .collect()
}
