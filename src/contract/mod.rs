//! Contract checks for your CI (feature `contract`): does a server still
//! answer the way the vendored spec says?
//!
//! [`run`] sends a small, budgeted set of requests to the live service (with
//! your key) or to the built-in [`MockServer`], and
//! validates every **raw** answer against the response schemas of the spec
//! embedded in this crate ([`Spec::embedded`], `openapi/identifai.yaml`: no
//! checkout needed). Each answer is also decoded into the generated types,
//! as the client would.
//!
//! - a value of another type, a missing required field, `null` where the
//!   spec does not allow it, an undeclared status: **failure**;
//! - a field the spec does not declare, a value outside an enum, PHP's
//!   integer `0`/`1` where the spec says `boolean` (which the client reads
//!   as `false`/`true`): **drift**, reported with the overlay actions that
//!   would make the spec describe it ([`Report::drift_overlay`]).
//!
//! The budget ([`Budget`]) says what may be spent: by default one small
//! image by URL and no upload. The same checks are the `identifai contract`
//! command (feature `cli`), with `--junit FILE` and `--drift FILE`.
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

/// What the checks may spend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Images submitted by URL (each costs a credit on the live service).
    pub images_by_url: u32,
    /// Images uploaded (a 1x1 PNG each).
    pub image_uploads: u32,
}

impl Default for Budget {
    /// One small image by URL, no upload.
    fn default() -> Self {
        Budget {
            images_by_url: 1,
            image_uploads: 0,
        }
    }
}

impl Budget {
    /// Spend nothing: only the checks that cost no credit (health, a wrong
    /// key, the results of `identifiers` you name).
    pub const NOTHING: Budget = Budget {
        images_by_url: 0,
        image_uploads: 0,
    };
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
    /// Results of earlier submissions to check as well (cost nothing).
    identifiers: Vec<Identifier>,
    /// The spec to validate against (default: [`Spec::embedded`]).
    spec: Option<Spec>,
    /// How long to wait for a submission's verdict.
    deadline: Duration,
}

impl ContractConfig {
    /// The default checks against `target`.
    pub fn new(target: Target) -> Self {
        ContractConfig {
            target,
            budget: Budget::default(),
            image_url: DEFAULT_IMAGE_URL.into(),
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

        let mut ids: Vec<Identifier> = Vec::new();
        for n in 0..config.budget.images_by_url {
            let url = config.image_url.clone();
            let name = format!(
                "submit an image by URL ({}/{})",
                n + 1,
                config.budget.images_by_url
            );
            if let Some(id) = self
                .submit("classify_image_from_url", &name, Submission::Url(url))
                .await
            {
                ids.push(id);
            }
        }
        for n in 0..config.budget.image_uploads {
            let name = format!(
                "upload an image ({}/{})",
                n + 1,
                config.budget.image_uploads
            );
            if let Some(id) = self
                .submit("classify_image", &name, Submission::Upload)
                .await
            {
                ids.push(id);
            }
        }
        let fresh = ids.len();
        ids.extend(config.identifiers.iter().cloned());
        for (i, id) in ids.iter().enumerate() {
            let deadline = if i < fresh {
                config.deadline
            } else {
                Duration::ZERO
            };
            self.result_checks(id, deadline).await;
        }
        if ids.is_empty() {
            self.report.push(Check::skipped(
                "results, lists and heatmaps",
                "the budget allows no submission and no --identifier was given",
            ));
        }

        // a wrong key
        let t = Instant::now();
        let mut problems = Vec::new();
        let mut drift = Vec::new();
        let probe = ids
            .first()
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

    async fn submit(&mut self, op: &str, name: &str, what: Submission) -> Option<Identifier> {
        let t = Instant::now();
        let mut problems = Vec::new();
        let mut drift = Vec::new();
        let mut id = None;
        match self.send(op, &[], Some(what), true).await {
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

    /// Polls `id` until done (up to `deadline`), then checks its alias, the
    /// lists and the heatmap.
    async fn result_checks(&mut self, id: &Identifier, deadline: Duration) {
        let t = Instant::now();
        let mut problems = Vec::new();
        let mut drift = Vec::new();
        let path = [("identifier", id.as_str())];
        let mut done: Option<Value> = None;
        let mut interval = self.client_interval();
        loop {
            match self
                .send("get_image_classification", &path, None, true)
                .await
            {
                Ok(a) => {
                    let mut value = None;
                    self.judge(
                        "get_image_classification",
                        &a,
                        &mut problems,
                        &mut drift,
                        |v| {
                            types_decode::<crate::api::types::ImageResponse>(v)?;
                            value = Some(v.clone());
                            Ok(())
                        },
                    );
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
            if let Some(c) = v.pointer("/verdict/confidence").and_then(Value::as_f64) {
                if !(0.0..=1.0).contains(&c) {
                    problems.push(format!("$.verdict.confidence: {c} is outside 0..=1"));
                }
            }
        }
        self.finish(SUBMITTED_RESULT, t, about(problems, &id), drift);
        let Some(result) = done else {
            return;
        };

        // the alias
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
                    (v == &result)
                        .then_some(())
                        .ok_or_else(|| "differs from /api/classification/{identifier}".to_string())
                },
            ),
            Err(e) => problems.push(e),
        }
        self.finish(
            &format!("alias {SUBMITTED_RESULT}"),
            t,
            about(problems, &id),
            drift,
        );

        // the lists
        for op in [
            "list_image_classifications",
            "list_image_classifications_alias",
        ] {
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
                &format!("{path} lists {SUBMITTED}"),
                t,
                about(problems, &id),
                drift,
            );
        }

        // the heatmap
        for op in ["get_image_heatmap", "get_image_heatmap_alias"] {
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
                &format!("{path} for {SUBMITTED}"),
                t,
                about(problems, &id),
                Vec::new(),
            );
        }
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
        for d in findings.drift {
            if self.seen_drift.insert(d.key(), ()).is_none() {
                drift.push(d);
            }
        }
        if findings.mismatches.is_empty() && (200..300).contains(&a.status) {
            if let Err(e) = extra(&value) {
                problems.push(e);
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
            Some(Submission::Url(u)) => builder.multipart(
                reqwest::multipart::Form::new()
                    .text("file_url", u)
                    .text("with_heatmap", "true")
                    .text("ref_id", "identifai-rust-contract"),
            ),
            Some(Submission::Upload) => {
                let part = reqwest::multipart::Part::bytes(TINY_PNG)
                    .file_name("contract.png")
                    .mime_str("image/png")
                    .map_err(|e| e.to_string())?;
                builder.multipart(
                    reqwest::multipart::Form::new()
                        .part("file", part)
                        .text("with_heatmap", "true")
                        .text("ref_id", "identifai-rust-contract"),
                )
            }
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
                .insert(crate::transport::API_KEY_HEADER, v);
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

enum Submission {
    Url(String),
    Upload,
}

/// The operation ids the checks use, as `'static` strings (what
/// progenitor's hooks take).
fn op_static(op: &str) -> &'static str {
    const OPS: &[&str] = &[
        "health",
        "classify_image_from_url",
        "classify_image",
        "get_image_classification",
        "get_image_classification_alias",
        "list_image_classifications",
        "list_image_classifications_alias",
        "get_image_heatmap",
        "get_image_heatmap_alias",
    ];
    OPS.iter()
        .find(|o| **o == op)
        .copied()
        .unwrap_or("contract")
}

fn types_decode<T: serde::de::DeserializeOwned>(v: &Value) -> Result<(), String> {
    serde_json::from_value::<T>(v.clone())
        .map(|_| ())
        .map_err(|e| format!("the generated types cannot decode it: {e}"))
}

/// What the image checks are about, in their names: the same on every run
/// (no identifier in a check's name, so CI's history follows each check).
const SUBMITTED: &str = "the image submitted by URL";
/// The name of the check of its result.
const SUBMITTED_RESULT: &str = "result of the image submitted by URL";

/// A check's problems, each naming the run's identifier (kept out of the
/// check's name).
fn about(problems: Vec<String>, id: &impl std::fmt::Display) -> Vec<String> {
    problems
        .into_iter()
        .map(|p| format!("{p} (identifier {id})"))
        .collect()
}
