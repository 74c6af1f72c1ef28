//! What is printed: the JSON record of an input (the same for `classify
//! --json`, `result --json` and the lines of `batch`), the readable
//! summaries, and errors.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use identifai::api::types::{
    AudioClip, AudioResponse, C2pa, Classification, ImageResponse, ModelResult, VideoResponse,
    VideoResultsImages,
};
use identifai::AnyResult;
use secrecy::SecretString;
use serde::Serialize;
use serde_json::Value;

/// What became of one input (or one identifier).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Record {
    /// The file or URL given (absent for `result`, which starts from an
    /// identifier).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The file's SHA-256 (`batch` only; null for URLs).
    #[serde(skip_serializing_if = "Skip::skip")]
    pub sha256: Skip<String>,
    /// `image` or `video`, when known.
    pub kind: Option<&'static str>,
    /// The classification's identifier, once submitted.
    pub identifier: Option<String>,
    /// `done`, `errored` (the service could not classify it), `new` (not
    /// finished), `submitted` (`--no-wait`) or `error` (it failed here or on
    /// the way).
    pub status: String,
    /// `human` or `artificial`: the verdict to act on (an account's
    /// override wins over the server's verdict; see `effective`).
    pub verdict: Option<String>,
    /// The server's confidence in `verdict`, from 0 to 1; null when the
    /// verdict is an override.
    pub confidence: Option<f64>,
    /// Where `verdict` comes from: `{classification, source: "server" |
    /// "forced", confidence, server}` (`server`: the server's own verdict).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<identifai::Effective>,
    /// When the upload was sent, in milliseconds since the epoch (`batch`'s
    /// record of an accepted submission: a resume paces itself by it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<u64>,
    /// The file's size and modification time (milliseconds since the
    /// epoch) when it was sent (`batch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// See `size`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtime: Option<u64>,
    /// The file changed while it was being sent: the result is of the bytes
    /// sent, whose SHA-256 `sha256` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<bool>,
    /// Where the heatmap was saved (`classify --heatmap`, `--heatmap-out`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heatmap: Option<String>,
    /// Where the heatmap laid over the input was saved (`classify
    /// --heatmap`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overlay: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// What failed, in one stable word ([`identifai::Error::code`], or the
    /// CLI's own: `errored`, `unreadable`, ...); null when nothing did.
    pub code: Option<&'static str>,
    /// The service's whole answer.
    pub result: Option<serde_json::Value>,
}

/// A field that is either left out of the JSON or written (possibly null).
#[derive(Clone, Debug, Default)]
pub enum Skip<T> {
    /// Not written.
    #[default]
    Absent,
    /// Written, `null` for `None`.
    Present(Option<T>),
}

impl<T> Skip<T> {
    fn skip(&self) -> bool {
        matches!(self, Skip::Absent)
    }
}

impl<T: Serialize> Serialize for Skip<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Skip::Absent | Skip::Present(None) => s.serialize_none(),
            Skip::Present(Some(v)) => v.serialize(s),
        }
    }
}

/// The status to record: the service's, or for servers before 1.1.0 (no
/// status) `done` once there is a verdict.
pub fn status_text(typed: &AnyResult) -> String {
    match (typed.status(), typed.verdict()) {
        (Some(s), _) => s.to_string(),
        (None, Some(_)) => "done".into(),
        (None, None) => "new".into(),
    }
}

/// The `errors` text of a result (`raw`: its JSON, for kinds without a
/// typed `errors`).
fn errors_of(typed: &AnyResult, raw: &Value) -> Option<String> {
    match typed {
        AnyResult::Image(r) => r.errors.clone(),
        AnyResult::Video(r) => r.errors.clone(),
        _ => raw
            .get("errors")
            .and_then(|e| e.as_str())
            .map(str::to_string),
    }
}

/// Whether a result is still pending (the library's one definition:
/// unknown statuses pend).
pub fn is_pending(typed: &AnyResult) -> bool {
    identifai::kinds::is_pending(typed.status(), typed.verdict().is_some())
}

impl Record {
    /// The record of a result.
    /// The answer's JSON is parsed here, once: the summary reads it from
    /// the record.
    pub fn from_result(path: Option<String>, typed: &AnyResult) -> Record {
        let raw = typed.raw_value();
        let errors = errors_of(typed, &raw);
        let status = status_text(typed);
        let effective = typed.effective_verdict();
        Record {
            path,
            kind: Some(typed.kind().as_str()),
            identifier: typed.identifier().map(str::to_string),
            verdict: effective.as_ref().map(|e| e.classification.to_string()),
            confidence: effective.as_ref().and_then(|e| e.confidence),
            effective,
            error: if status == "errored" {
                Some(errors.unwrap_or_else(|| "(the service gave no reason)".into()))
            } else {
                None
            },
            code: (status == "errored").then_some("errored"),
            status,
            // What the server sent, verbatim (fields the spec does not
            // name included): augmented by the record, never narrowed.
            result: Some(raw),
            ..Record::default()
        }
    }

    /// The record of an input that failed with `code`.
    pub fn failed(
        path: Option<String>,
        kind: Option<&'static str>,
        code: &'static str,
        error: String,
    ) -> Record {
        Record {
            path,
            kind,
            status: "error".into(),
            error: Some(error),
            code: Some(code),
            ..Record::default()
        }
    }

    /// The record of an input that failed with the library's `e`.
    pub fn failed_with(
        path: Option<String>,
        kind: Option<&'static str>,
        e: &identifai::Error,
    ) -> Record {
        Record::failed(path, kind, e.code(), e.to_string())
    }

    /// The record as one line of JSON.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(r#"{{"status":"error","error":"cannot encode the record: {e}"}}"#)
        })
    }

    /// Whether this input failed (here, or at the service).
    pub fn is_failure(&self) -> bool {
        self.status == "error" || self.status == "errored"
    }

    /// The exit this input's failure leads to, if it failed.
    pub fn failure_exit(&self) -> Option<crate::exit::Exit> {
        self.is_failure()
            .then(|| crate::exit::Exit::of_code(self.code.unwrap_or("error")))
    }
}

// ------------------------------------------------------------------ stdout

/// Writes a line on stdout. When the reader went away (`identifai ... |
/// head -1`) the program ends quietly, killed by SIGPIPE as a C or Go tool
/// would be (`crate::stdio`), instead of panicking.
pub fn out(text: &str) {
    println!("{text}");
}

// ------------------------------------------------------------------ errors

/// Prints `error: ...` on stderr: the error, then the causes it does not
/// already spell out; with `--json`, `{"status": "error", "code": ...,
/// "error": ...}`. The key is scrubbed from it, should anything ever
/// carry it.
pub fn print_error(e: &anyhow::Error, code: &str, json: bool, key: Option<&SecretString>) {
    let text = identifai::Error::full_text(e.as_ref());
    let text = match key {
        Some(key) => identifai::Error::redacted(&text, key),
        None => text,
    };
    if json {
        print_json_error(code, &text);
    } else {
        eprintln!("error: {}", terminal_safe(&text));
    }
}

/// An error as one JSON line on stderr (`--json`).
pub fn print_json_error(code: &str, message: &str) {
    eprintln!(
        "{}",
        serde_json::json!({ "status": "error", "code": code, "error": message })
    );
}

/// `text` with its control characters escaped (`\u{1b}`), for a terminal.
pub fn terminal_safe(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

// ------------------------------------------------------------------ human

/// ANSI styling, or none.
#[derive(Clone, Copy)]
pub struct Paint(pub bool);

impl Paint {
    fn wrap(self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    /// Bold.
    pub fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }
    /// Dimmed.
    pub fn dim(self, s: &str) -> String {
        self.wrap("2", s)
    }
    /// A label padded to the label column, dimmed.
    pub fn cell(self, name: &str) -> String {
        self.dim(&format!("{name:<12}"))
    }
    /// The label on the first row of a group, blanks on the others.
    pub fn first(self, i: usize, name: &str) -> String {
        if i == 0 {
            self.cell(name)
        } else {
            " ".repeat(12)
        }
    }
    /// Red (bold).
    pub fn red(self, s: &str) -> String {
        self.wrap("1;31", s)
    }
    /// Green (bold).
    pub fn green(self, s: &str) -> String {
        self.wrap("1;32", s)
    }
    /// Yellow.
    pub fn yellow(self, s: &str) -> String {
        self.wrap("33", s)
    }
    /// A verdict's word, in its colour.
    /// The server's word is shown with its control characters escaped.
    pub fn verdict(self, c: &str, upper: bool) -> String {
        let c = terminal_safe(c);
        let word = if upper { c.to_uppercase() } else { c.clone() };
        match c.as_str() {
            "artificial" => self.red(&word),
            "human" => self.green(&word),
            _ => self.yellow(&word),
        }
    }
}

/// A bar of `width` cells filled to `fraction`.
pub fn bar(fraction: f64, width: usize) -> String {
    let f = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let full = (f * width as f64).round() as usize;
    format!("{}{}", "█".repeat(full), "░".repeat(width - full))
}

/// `95.2%`, ` 4.8%`: a percentage in 5 columns (6 for 100%).
fn pct(x: f64) -> String {
    format!("{:4.1}%", x * 100.0)
}

/// Extra lines for the summary (heatmap saved, how to get it, ...).
#[derive(Default)]
pub struct Notes {
    /// `(label, text)` pairs shown after the result.
    pub lines: Vec<(&'static str, String)>,
    /// Whether to show the result's dashboard link (the real service only).
    pub dashboard: bool,
}

/// The readable summary of a result; `raw` is its JSON (the record's
/// `result`, parsed once). Every string from the server is shown with its
/// control characters escaped (a server's `\x1b[...` is shown, never
/// obeyed).
pub fn summary(title: &str, typed: &AnyResult, raw: &Value, notes: &Notes, p: Paint) -> String {
    let title = &terminal_safe(title);
    let mut out = String::new();
    let status = terminal_safe(&status_text(typed));
    let head = match typed.effective_verdict() {
        Some(e) if status == "done" => match (e.confidence, &e.server) {
            (Some(conf), _) => format!(
                "{}  {}  {} confident",
                p.bold(title),
                p.verdict(e.classification.as_str(), true),
                p.bold(pct(conf).trim())
            ),
            (None, Some(server)) => format!(
                "{}  {}  forced by the account (the service said {})",
                p.bold(title),
                p.verdict(e.classification.as_str(), true),
                terminal_safe(server.as_str())
            ),
            (None, None) => format!(
                "{}  {}  forced by the account",
                p.bold(title),
                p.verdict(e.classification.as_str(), true)
            ),
        },
        _ if status == "errored" => format!("{}  {}", p.bold(title), p.red("ERRORED")),
        _ => format!("{}  {}", p.bold(title), p.yellow(&status.to_uppercase())),
    };
    let _ = writeln!(out, "{head}");
    let label = |out: &mut String, name: &str, value: &str| {
        let _ = writeln!(out, "  {}{value}", p.cell(name));
    };
    let text_of = |field: &str| raw.get(field).and_then(|v| v.as_str()).map(terminal_safe);
    let api_version = text_of("api_version");
    if let Some(id) = typed.identifier() {
        label(&mut out, "identifier", &terminal_safe(id));
    }
    let kind = typed.kind().as_str();
    let mut status_line = format!("{status} ({kind}");
    if let Some(v) = api_version {
        let _ = write!(status_line, ", API {v}");
    }
    status_line.push(')');
    label(&mut out, "status", &status_line);
    if status == "errored" {
        let errors = errors_of(typed, raw);
        label(
            &mut out,
            "errors",
            &errors.map_or_else(|| "(no reason given)".into(), |e| terminal_safe(&e)),
        );
    }
    let (c2pa, nsfw) = match typed {
        AnyResult::Image(r) => {
            image_details(&mut out, r, p);
            (Some(r.c2pa.as_ref()), r.is_nsfw)
        }
        AnyResult::Video(r) => {
            video_details(&mut out, r, p);
            (Some(r.c2pa.as_ref()), r.is_nsfw)
        }
        AnyResult::Audio(r) => {
            audio_details(&mut out, r, p);
            (None, None)
        }
        _ => (None, None),
    };
    let forced = text_of("force_classification");
    let url = text_of("result_url");
    if let (true, Some(c2pa)) = (status == "done", c2pa) {
        label(&mut out, "c2pa", &terminal_safe(&c2pa_text(c2pa)));
    }
    if let Some(nsfw) = nsfw {
        label(&mut out, "nsfw", if nsfw { "detected" } else { "none" });
    }
    if let Some(forced) = forced {
        label(&mut out, "forced", &format!("to {forced} by the account"));
    }
    if let Some(other) = other_fields(raw) {
        label(&mut out, "other", &terminal_safe(&other));
    }
    for (name, text) in &notes.lines {
        label(&mut out, name, text);
    }
    if let (true, Some(url)) = (notes.dashboard, url) {
        label(&mut out, "dashboard", &p.dim(&url));
    }
    out
}

/// The top-level fields of a result the summary shows above, or leaves
/// out on purpose (the file's hash and names, per-item details): any other
/// field of the answer (one the spec added since, or one it does not name)
/// is shown on the summary's `other` line.
const SHOWN: &[&str] = &[
    "identifier",
    "api_version",
    "status",
    "errors",
    "verdict",
    "verdicts",
    "results",
    "c2pa",
    "is_nsfw",
    "force_classification",
    "result_url",
    "hash",
    "name",
    "ref_id",
    "has_heatmap",
    "details",
    "chunk_details",
];

/// The widest value shown on the `other` line, in characters.
const OTHER_WIDTH: usize = 60;

/// `name: value, ...` of the fields of `raw` the summary does not show by
/// name (nulls left out), each value compact JSON cut at [`OTHER_WIDTH`].
fn other_fields(raw: &serde_json::Value) -> Option<String> {
    let fields: Vec<String> = raw
        .as_object()?
        .iter()
        .filter(|(k, v)| !SHOWN.contains(&k.as_str()) && !v.is_null())
        .map(|(k, v)| {
            let text = v.to_string();
            let mut cut: String = text.chars().take(OTHER_WIDTH).collect();
            if text.chars().nth(OTHER_WIDTH).is_some() {
                cut.push('…');
            }
            format!("{k}: {cut}")
        })
        .collect();
    (!fields.is_empty()).then(|| fields.join(", "))
}

fn heuristic_line(
    name: &str,
    c: &Classification,
    confidence: f64,
    extra: &str,
    p: Paint,
) -> String {
    let name = terminal_safe(name);
    format!(
        "{name:<24}{} {} {}{extra}",
        p.verdict(&format!("{:<10}", c.as_str()), false),
        bar(confidence, 20),
        pct(confidence)
    )
}

fn image_details(out: &mut String, r: &ImageResponse, p: Paint) {
    if !r.verdicts.is_empty() {
        for (i, v) in r.verdicts.iter().enumerate() {
            let line = heuristic_line(&v.heuristic, &v.classification, v.confidence, "", p);
            let _ = writeln!(out, "  {}{line}", p.first(i, "heuristics"));
        }
    }
    if !r.results.is_empty() {
        for (i, m) in r.results.iter().enumerate() {
            let _ = writeln!(out, "  {}{}", p.first(i, "models"), model_line(m, p));
        }
    }
}

/// One model's scores: `name  human 93.1%  artificial 6.9%`.
fn model_line(m: &ModelResult, p: Paint) -> String {
    let name = terminal_safe(m.model.as_deref().unwrap_or("(unnamed model)"));
    let mut scores = String::new();
    for s in &m.classification {
        let label = s
            .label
            .as_ref()
            .map(|l| terminal_safe(&l.to_string()))
            .unwrap_or_else(|| "?".into());
        let score = s.score.map(pct).unwrap_or_else(|| "    ?".into());
        let _ = write!(scores, "{label} {score}  ");
    }
    let mut line = format!("{name:<24}{}", scores.trim_end());
    if m.unknown == Some(true) {
        let _ = write!(line, "  {}", p.yellow("(uncertain)"));
    }
    if let Some(t) = m.elapsed_time {
        let _ = write!(line, "  {}", p.dim(&format!("{:.2}s", t)));
    }
    line
}

fn video_details(out: &mut String, r: &VideoResponse, p: Paint) {
    for (i, v) in r.verdicts.iter().enumerate() {
        let mut extra = String::new();
        if let Some(n) = v.count {
            let _ = write!(extra, "  {n} frames");
        }
        if v.unknown == Some(true) {
            let _ = write!(extra, ", uncertain");
        }
        let line = heuristic_line(&v.heuristic, &v.classification, v.confidence, &extra, p);
        let _ = writeln!(out, "  {}{line}", p.first(i, "heuristics"));
    }
    let Some(results) = &r.results else { return };
    // Each analysed frame's own verdict, several to a line.
    if let Some(VideoResultsImages::FrameResults(f)) = &results.images {
        let cells: Vec<String> = f
            .iter()
            .enumerate()
            .map(|(i, frame)| match frame.effective_verdict() {
                Some(e) => format!(
                    "#{i:<3}{} {}",
                    p.verdict(&format!("{:<10}", e.classification.as_str()), false),
                    e.confidence.map(pct).unwrap_or_else(|| "forced".into())
                ),
                None => format!("#{i:<3}{:<10} {:>5}", "-", "-"),
            })
            .collect();
        for (row, chunk) in cells.chunks(FRAMES_PER_LINE).enumerate() {
            let _ = writeln!(out, "  {}{}", p.first(row, "frames"), chunk.join("   "));
        }
    }
    // Frames: each model's mean score per label over the frames it saw.
    let frames: Vec<&ModelResult> = match &results.images {
        Some(VideoResultsImages::FrameResults(f)) => f.iter().flat_map(|f| &f.results).collect(),
        Some(VideoResultsImages::LegacyFrameResults(f)) => f.iter().flatten().collect(),
        None => Vec::new(),
    };
    // model -> (frames, [(label, sum of scores, scores)] in the order served)
    type Sums = Vec<(String, f64, usize)>;
    let mut per_model: BTreeMap<String, (usize, Sums)> = BTreeMap::new();
    for m in &frames {
        let entry = per_model
            .entry(terminal_safe(
                m.model.as_deref().unwrap_or("(unnamed model)"),
            ))
            .or_default();
        entry.0 += 1;
        if m.unknown == Some(true) {
            continue;
        }
        for s in &m.classification {
            if let (Some(l), Some(score)) = (&s.label, s.score) {
                let l = terminal_safe(&l.to_string());
                match entry.1.iter_mut().find(|(name, _, _)| *name == l) {
                    Some(e) => {
                        e.1 += score;
                        e.2 += 1;
                    }
                    None => entry.1.push((l, score, 1)),
                }
            }
        }
    }
    for (i, (model, (n, labels))) in per_model.iter().enumerate() {
        let mut scores = String::new();
        for (label, sum, count) in labels {
            let _ = write!(scores, "{label} {}  ", pct(sum / *count.max(&1) as f64));
        }
        let _ = writeln!(
            out,
            "  {}{model:<24}{}  {}",
            p.first(i, "models"),
            scores.trim_end(),
            p.dim(&format!("mean over {n} frames"))
        );
    }
    let audio = results.audios.iter().flat_map(|track| &track.results);
    for (i, m) in audio.enumerate() {
        let _ = writeln!(out, "  {}{}", p.first(i, "audio"), model_line(m, p));
    }
}

/// Frame verdicts per line of the video summary.
const FRAMES_PER_LINE: usize = 4;

/// Clips listed in the audio summary (the rest is counted).
const MAX_CLIPS_SHOWN: usize = 20;

fn audio_details(out: &mut String, r: &AudioResponse, p: Paint) {
    for (i, v) in r.verdicts.iter().enumerate() {
        let line = heuristic_line(&v.heuristic, &v.classification, v.confidence, "", p);
        let _ = writeln!(out, "  {}{line}", p.first(i, "heuristics"));
    }
    for (i, m) in r.results.iter().enumerate() {
        let _ = writeln!(out, "  {}{}", p.first(i, "models"), model_line(m, p));
    }
    // The pages show the per-clip details as `chunk_details` or
    // `details.clips`: whichever came.
    let clips: &[AudioClip] = if !r.chunk_details.is_empty() {
        &r.chunk_details
    } else {
        r.details.as_ref().map_or(&[], |d| &d.clips)
    };
    for (i, clip) in clips.iter().take(MAX_CLIPS_SHOWN).enumerate() {
        let span = format!(
            "#{:<3}{:<16}",
            clip.index,
            format!("{:.1}s-{:.1}s", clip.start, clip.end)
        );
        let verdict = match clip.effective_verdict() {
            Some(e) => format!(
                "{} {}",
                p.verdict(&format!("{:<10}", e.classification.as_str()), false),
                e.confidence.map(pct).unwrap_or_else(|| "forced".into())
            ),
            None => "-".into(),
        };
        let _ = writeln!(out, "  {}{span} {verdict}", p.first(i, "clips"));
    }
    if clips.len() > MAX_CLIPS_SHOWN {
        let _ = writeln!(
            out,
            "  {}{}",
            p.first(1, "clips"),
            p.dim(&format!("... {} more clips", clips.len() - MAX_CLIPS_SHOWN))
        );
    }
}

/// The C2PA state in a few words.
fn c2pa_text(c2pa: Option<&C2pa>) -> String {
    let Some(c) = c2pa else {
        return "no C2PA manifest".into();
    };
    let mut parts = Vec::new();
    match &c.validation_state {
        Some(s) => parts.push(format!("manifest {}", s.as_str().to_lowercase())),
        None => parts.push("manifest present".into()),
    }
    let active = c
        .active_manifest
        .as_ref()
        .and_then(|urn| c.manifests.get(urn))
        .or_else(|| c.manifests.values().next());
    if let Some(m) = active {
        if let Some(g) = m.claim_generator_info.iter().find_map(|g| g.name.clone()) {
            parts.push(format!("made with {g}"));
        }
        if let Some(issuer) = m
            .signature_info
            .as_ref()
            .and_then(|s| s.issuer.clone().or_else(|| s.common_name.clone()))
        {
            parts.push(format!("signed by {issuer}"));
        }
    }
    if c.manifests.len() > 1 {
        parts.push(format!("{} manifests", c.manifests.len()));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_the_summary_does_not_name_are_listed() {
        let raw = serde_json::json!({
            "identifier": "x", "status": "done", "watermark": {"found": true},
            "note": null, "long": "y".repeat(100)
        });
        let other = other_fields(&raw).unwrap();
        let cut = format!(r#"long: "{}…"#, "y".repeat(59));
        assert!(other.contains(&cut), "{other}");
        assert!(other.contains(r#"watermark: {"found":true}"#), "{other}");
        assert!(!other.contains("note") && !other.contains("identifier"));
        assert_eq!(other_fields(&serde_json::json!({"status": "new"})), None);
    }

    #[test]
    fn bars_are_clamped() {
        assert_eq!(bar(0.5, 4), "██░░");
        assert_eq!(bar(2.0, 2), "██");
        assert_eq!(bar(f64::NAN, 2), "░░");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(terminal_safe("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(terminal_safe("plain"), "plain");
    }

    #[test]
    fn every_server_string_of_a_summary_is_escaped() {
        let e = "\\u001b[31m";
        let json = format!(
            r#"{{"identifier":"x{e}","status":"odd{e}","api_version":"1{e}","errors":"bad{e}",
            "verdicts":[{{"heuristic":"h{e}","classification":"hum{e}an","confidence":0.9}}],
            "results":[{{"model":"m{e}","classification":[{{"label":"l{e}","score":0.9}}]}}],
            "c2pa":{{"validation_state":"V{e}","manifests":{{}}}},
            "force_classification":"f{e}","result_url":"https://x.test/{e}","new{e}":"n{e}"}}"#
        );
        let typed = AnyResult::from_json(identifai::Kind::Image, &json).unwrap();
        let raw = typed.raw_value();
        let notes = Notes {
            dashboard: true,
            ..Notes::default()
        };
        let text = summary("t", &typed, &raw, &notes, Paint(false));
        assert!(!text.contains('\x1b'), "{text}");
        for shown in ["x", "odd", "1", "h", "hum", "m", "l", "f", "/", "new"] {
            assert!(
                text.contains(&format!("{shown}\\u{{1b}}[31m")),
                "{shown}: {text}"
            );
        }
    }

    #[test]
    fn c2pa_in_words() {
        assert_eq!(c2pa_text(None), "no C2PA manifest");
        let c: C2pa = serde_json::from_value(serde_json::json!({
            "active_manifest": "urn:1",
            "validation_state": "Valid",
            "manifests": {"urn:1": {
                "claim_generator_info": [{"name": "Adobe Firefly"}],
                "signature_info": {"issuer": "Adobe Inc."}
            }}
        }))
        .unwrap();
        assert_eq!(
            c2pa_text(Some(&c)),
            "manifest valid, made with Adobe Firefly, signed by Adobe Inc."
        );
    }

    #[test]
    fn records_keep_sha256_null_for_urls() {
        let r = Record {
            sha256: Skip::Present(None),
            status: "error".into(),
            ..Record::default()
        };
        let v: serde_json::Value = serde_json::from_str(&r.to_line()).unwrap();
        assert!(v.get("sha256").unwrap().is_null());
        let r = Record::default();
        let v: serde_json::Value = serde_json::from_str(&r.to_line()).unwrap();
        assert!(v.get("sha256").is_none());
    }
}
