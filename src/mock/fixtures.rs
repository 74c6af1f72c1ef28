//! Response bodies: the result JSON of images, videos (one full image-like
//! result per analysed frame, one audio result per track) and audios (with
//! per-clip details), as the published pages show them; the quirks of the
//! PHP backend on request; and the heatmap PNG.

use serde_json::{json, Map, Value};

use super::state::{Phase, Submission};
use crate::Kind;

/// The API version reported by completed analyses.
pub(crate) const API_VERSION: &str = "1.1.0";

/// The error message of an `errored` classification.
pub(crate) const ERRORED_MESSAGE: &str = "The media could not be processed (mock)";

/// Models the mock pretends to run on images.
const IMAGE_MODELS: [&str; 3] = ["mock-vit-v3", "mock-cnn-v2", "mock-diffusion-v1"];

/// Models the mock pretends to run on video frames.
const VIDEO_MODELS: [&str; 2] = ["mock-frame-vit-v2", "mock-frame-cnn-v1"];

/// Models the mock pretends to run on audio.
const AUDIO_MODELS: [&str; 2] = ["mock-audio-wav2vec-v1", "mock-audio-spec-v2"];

/// Seconds of audio per clip of the per-clip details.
const CLIP_SECONDS: f64 = 4.0;

/// Heuristics reported in `verdicts`, the first being the default `verdict`.
const HEURISTICS: [&str; 4] = [
    "Majority",
    "Average",
    "AverageExcludeObsolete",
    "TopRelevant",
];

/// Deterministic pseudo-random bytes of a submission (from its identifier).
fn seed_bytes(submission: &Submission) -> Vec<u8> {
    hex::decode(&submission.id).unwrap_or_else(|_| vec![0x5a; 32])
}

/// Rounds to 4 decimals, as the service does.
fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// A score in `[0.62, 0.99]` for the winning label, from one seed byte.
fn winning_score(byte: u8) -> f64 {
    round4(0.62 + f64::from(byte) / 255.0 * 0.37)
}

fn label(artificial: bool) -> &'static str {
    if artificial {
        "artificial"
    } else {
        "human"
    }
}

/// One `Result` object.
fn result(model: &str, artificial: bool, byte: u8, unknown: bool) -> Value {
    let (win, lose) = if unknown {
        (0.5, 0.5)
    } else {
        let w = winning_score(byte);
        (w, round4(1.0 - w))
    };
    let (human, ai) = if artificial { (lose, win) } else { (win, lose) };
    json!({
        "model": model,
        "unknown": unknown,
        "elapsed_time": round4(0.05 + f64::from(byte) / 400.0),
        "classification": [
            { "label": "human", "score": human },
            { "label": "artificial", "score": ai },
        ],
        "classification_details": { "confidence": win },
    })
}

/// The `verdict`/`verdicts` entries for the winning scores.
fn verdicts(models: &[&str], artificial: bool, scores: &[f64]) -> Vec<Value> {
    let n = scores.len().max(1) as f64;
    let mean = round4(scores.iter().sum::<f64>() / n);
    let head = &scores[..scores.len().min(2)];
    let mean_recent = round4(head.iter().sum::<f64>() / head.len().max(1) as f64);
    let top = scores.iter().copied().fold(0.0_f64, f64::max);
    let confidences = [mean, mean, mean_recent, top];
    HEURISTICS
        .iter()
        .zip(confidences)
        .map(|(heuristic, confidence)| {
            json!({
                "models": models,
                "heuristic": heuristic,
                "confidence": confidence,
                "classification": label(artificial),
            })
        })
        .collect()
}

/// Fields every shape shares.
fn base(submission: &Submission, base_url: &str) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("identifier".into(), json!(submission.id));
    body.insert("hash".into(), json!(submission.hash));
    body.insert("name".into(), json!(submission.name));
    if let Some(ref_id) = &submission.options.ref_id {
        body.insert("ref_id".into(), json!(ref_id));
    }
    #[allow(unreachable_patterns)]
    let kind = match submission.kind {
        Kind::Image => "classification".to_string(),
        Kind::Video => "classification_video".to_string(),
        other => format!("classification_{other}"),
    };
    body.insert(
        "result_url".into(),
        json!(format!("{base_url}/dashboard/{kind}/{}", submission.id)),
    );
    body
}

/// How a body is written.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Style {
    /// [`MockConfig::quirks`](super::MockConfig::quirks).
    pub quirks: bool,
    /// An item of a list answer (audio: per-clip details as
    /// `details.clips`, as the list page shows, rather than
    /// `chunk_details`).
    pub listed: bool,
}

/// The body of a GET for `submission` in `phase`.
pub(crate) fn classification_body(
    submission: &Submission,
    phase: Phase,
    base_url: &str,
    style: Style,
) -> Value {
    let mut body = plain_body(submission, phase, base_url, style);
    // A finished result also carries every field of the documented result
    // that this file does not write by name (one the spec adds).
    if phase == Phase::Done {
        super::documented::fill_from_role(&mut body, submission.kind.as_str(), "result");
    }
    if style.quirks {
        add_unknown_fields(&mut body, submission.kind);
        body = booleans_as_integers(empty_maps_as_arrays(body));
    }
    body
}

fn plain_body(submission: &Submission, phase: Phase, base_url: &str, style: Style) -> Value {
    let mut body = base(submission, base_url);
    let modern = !submission.pre_1_1;
    match phase {
        Phase::New => {
            if modern {
                body.insert("status".into(), json!("new"));
                body.insert("api_version".into(), Value::Null);
                body.insert("errors".into(), Value::Null);
            }
            if style.quirks {
                // Nothing analysed yet: PHP writes the empty results map `[]`.
                let empty = match submission.kind {
                    Kind::Video => json!({}),
                    _ => json!([]),
                };
                body.insert("results".into(), empty);
            }
        }
        Phase::Errored if modern => {
            body.insert("status".into(), json!("errored"));
            body.insert("api_version".into(), json!(API_VERSION));
            body.insert("errors".into(), json!(ERRORED_MESSAGE));
            body.insert("has_heatmap".into(), json!(false));
            body.insert("c2pa".into(), Value::Null);
        }
        // Before 1.1.0 there was no status: an errored analysis simply never
        // got a verdict.
        Phase::Errored => {}
        Phase::Done => {
            if modern {
                body.insert("status".into(), json!("done"));
                body.insert("api_version".into(), json!(API_VERSION));
                body.insert("errors".into(), Value::Null);
            }
            let opts = &submission.options;
            if opts.with_nsfw {
                body.insert("is_nsfw".into(), json!(false));
            }
            if matches!(submission.kind, Kind::Image | Kind::Video) {
                body.insert("c2pa".into(), Value::Null);
            }
            // A video has `has_heatmap` and `details` per frame only (the
            // published video page shows neither at its top level).
            if submission.kind == Kind::Image {
                body.insert("has_heatmap".into(), json!(opts.with_heatmap));
            }
            // A kind the mock has no shape for answers the fields above and
            // the rest of its documented result (`fill_from_role`).
            #[allow(unreachable_patterns)]
            match submission.kind {
                Kind::Image => image_results(submission, &mut body),
                Kind::Video => video_results(submission, &mut body),
                Kind::Audio => audio_results(submission, &mut body, style.listed),
                _ => documented_verdict(submission, &mut body),
            }
            if submission.kind == Kind::Image {
                body.insert("details".into(), json!([]));
            }
        }
    }
    if let Some(forced) = &submission.forced {
        body.insert("force_classification".into(), json!(forced));
    }
    Value::Object(body)
}

/// The verdict of a kind the mock has no shape for: its documented
/// result's `verdict` (example, else generated from the schema), with the
/// submission's classification and a score.
fn documented_verdict(submission: &Submission, body: &mut Map<String, Value>) {
    let Some(documented) = super::documented::of_role(submission.kind.as_str(), "result") else {
        return;
    };
    let Some(Value::Object(verdict)) = documented
        .value()
        .and_then(|v| v.get("verdict"))
        .or_else(|| documented.generated_value().and_then(|v| v.get("verdict")))
    else {
        return;
    };
    let mut verdict = verdict.clone();
    if verdict.contains_key("classification") {
        verdict.insert("classification".into(), json!(label(submission.artificial)));
    }
    if verdict.contains_key("confidence") {
        let byte = seed_bytes(submission).first().copied().unwrap_or(0);
        verdict.insert("confidence".into(), json!(winning_score(byte)));
    }
    body.insert("verdict".into(), Value::Object(verdict));
}

/// Fields the spec does not name, at three depths: the top level, inside
/// every verdict, inside every frame of a video and every clip of an audio.
fn add_unknown_fields(body: &mut Value, kind: Kind) {
    let Value::Object(top) = body else { return };
    top.insert(
        "mock_extra".into(),
        json!({ "served_by": "identifai-mock", "kind": kind.as_str() }),
    );
    let mark_verdicts = |map: &mut Map<String, Value>| {
        if let Some(Value::Object(v)) = map.get_mut("verdict") {
            v.insert("mock_extra".into(), json!({ "weight": 1 }));
        }
        if let Some(Value::Array(vs)) = map.get_mut("verdicts") {
            for v in vs.iter_mut().filter_map(Value::as_object_mut) {
                v.insert("mock_extra".into(), json!({ "weight": 1 }));
            }
        }
    };
    mark_verdicts(top);
    if let Some(Value::Object(results)) = top.get_mut("results") {
        for group in ["images", "audios"] {
            if let Some(Value::Array(items)) = results.get_mut(group) {
                for (i, item) in items.iter_mut().enumerate() {
                    if let Value::Object(frame) = item {
                        frame.insert("mock_node".into(), json!(format!("{group}-node-{i}")));
                        mark_verdicts(frame);
                    }
                }
            }
        }
    }
    for clips in [top.get_mut("chunk_details")].into_iter().flatten() {
        if let Value::Array(items) = clips {
            for (i, clip) in items
                .iter_mut()
                .filter_map(Value::as_object_mut)
                .enumerate()
            {
                clip.insert("mock_node".into(), json!(format!("clip-node-{i}")));
            }
        }
    }
    if let Some(Value::Array(items)) = top.get_mut("details").and_then(|d| d.get_mut("clips")) {
        for (i, clip) in items
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .enumerate()
        {
            clip.insert("mock_node".into(), json!(format!("clip-node-{i}")));
        }
    }
}

/// Every empty JSON object written as `[]`, as PHP's `json_encode` writes an
/// empty array.
fn empty_maps_as_arrays(value: Value) -> Value {
    match value {
        Value::Object(map) if map.is_empty() => Value::Array(Vec::new()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, empty_maps_as_arrays(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(empty_maps_as_arrays).collect()),
        other => other,
    }
}

/// Every boolean written as `0` or `1`, as Laravel writes a MySQL boolean
/// column that has no cast.
fn booleans_as_integers(value: Value) -> Value {
    match value {
        Value::Bool(b) => json!(u8::from(b)),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, booleans_as_integers(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(booleans_as_integers).collect()),
        other => other,
    }
}

fn image_results(submission: &Submission, body: &mut Map<String, Value>) {
    let seed = seed_bytes(submission);
    let count = if seed.first().copied().unwrap_or(0) % 3 == 0 {
        2
    } else {
        3
    };
    let models = &IMAGE_MODELS[..count];
    let artificial = submission.artificial;
    let mut scores = Vec::with_capacity(count);
    let mut results = Vec::with_capacity(count);
    for (i, model) in models.iter().enumerate() {
        let byte = seed.get(i + 1).copied().unwrap_or(128);
        scores.push(winning_score(byte));
        results.push(result(model, artificial, byte, false));
    }
    let all = verdicts(models, artificial, &scores);
    body.insert("verdict".into(), all[0].clone());
    body.insert("verdicts".into(), Value::Array(all));
    body.insert("results".into(), Value::Array(results));
}

/// A SHA-256 hex of `parts` (for the frames' own hashes and identifiers).
fn derived_hex(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The published video shape: `results.images` holds one full image-like
/// result per analysed frame (hash, identifier, name, ref_id, c2pa,
/// has_heatmap, verdict, verdicts, force_classification, results), and
/// `results.audios` one audio result per track (with `with_audio`).
fn video_results(submission: &Submission, body: &mut Map<String, Value>) {
    let seed = seed_bytes(submission);
    let artificial = submission.artificial;
    let frames = submission.options.frames.max(1);
    // One frame in two submissions is "unknown", for realism.
    let unknown_frames = u32::from(seed.first().copied().unwrap_or(0) % 2 == 1 && frames > 1);
    let mut images = Vec::new();
    let mut scores = Vec::new();
    for frame in 0..frames {
        let unknown = frame < unknown_frames;
        let mut results = Vec::new();
        let mut frame_scores = Vec::new();
        for (m, model) in VIDEO_MODELS.iter().enumerate() {
            let byte = seed
                .get((frame as usize * VIDEO_MODELS.len() + m + 1) % seed.len().max(1))
                .copied()
                .unwrap_or(128);
            results.push(result(model, artificial, byte, unknown));
            if !unknown {
                frame_scores.push(winning_score(byte));
            }
        }
        scores.extend(&frame_scores);
        let frame_verdicts = if unknown {
            verdicts(&VIDEO_MODELS, artificial, &[0.5])
        } else {
            verdicts(&VIDEO_MODELS, artificial, &frame_scores)
        };
        let n = frame.to_string();
        let mut f = Map::new();
        f.insert(
            "hash".into(),
            json!(derived_hex(&[&submission.hash, "frame", &n])),
        );
        f.insert(
            "identifier".into(),
            json!(derived_hex(&[&submission.id, "frame", &n])),
        );
        f.insert("name".into(), json!(format!("frame_{frame:03}.jpg")));
        f.insert("ref_id".into(), json!(submission.options.ref_id.clone()));
        f.insert("c2pa".into(), Value::Null);
        f.insert("has_heatmap".into(), json!(false));
        f.insert("verdict".into(), frame_verdicts[0].clone());
        f.insert("verdicts".into(), Value::Array(frame_verdicts));
        f.insert(
            "force_classification".into(),
            json!(submission.forced.clone()),
        );
        f.insert("results".into(), Value::Array(results));
        images.push(Value::Object(f));
    }
    let certain = frames - unknown_frames;
    let mut all = verdicts(&VIDEO_MODELS, artificial, &scores);
    for v in &mut all {
        if let Value::Object(map) = v {
            map.insert("count".into(), json!(certain));
            map.insert("unknown".into(), json!(certain == 0));
        }
    }
    let audios = if submission.options.with_audio {
        let mut track = Map::new();
        track.insert(
            "hash".into(),
            json!(derived_hex(&[&submission.hash, "audio", "0"])),
        );
        track.insert(
            "identifier".into(),
            json!(derived_hex(&[&submission.id, "audio", "0"])),
        );
        track.insert("name".into(), json!("track_0.wav"));
        track.insert("ref_id".into(), json!(submission.options.ref_id.clone()));
        audio_verdicts_and_results(submission, &mut track, 31);
        track.insert(
            "force_classification".into(),
            json!(submission.forced.clone()),
        );
        vec![Value::Object(track)]
    } else {
        Vec::new()
    };
    body.insert("verdict".into(), all[0].clone());
    body.insert("verdicts".into(), Value::Array(all));
    body.insert(
        "results".into(),
        json!({ "images": images, "audios": audios }),
    );
}

/// `verdict`, `verdicts` and `results` of an audio (or a video's track);
/// returns the winning scores.
fn audio_verdicts_and_results(
    submission: &Submission,
    body: &mut Map<String, Value>,
    offset: usize,
) -> Vec<f64> {
    let seed = seed_bytes(submission);
    let artificial = submission.artificial;
    let mut scores = Vec::new();
    let mut results = Vec::new();
    for (m, model) in AUDIO_MODELS.iter().enumerate() {
        let byte = seed
            .get((offset + m) % seed.len().max(1))
            .copied()
            .unwrap_or(150);
        scores.push(winning_score(byte));
        results.push(result(model, artificial, byte, false));
    }
    let all = verdicts(&AUDIO_MODELS, artificial, &scores);
    body.insert("verdict".into(), all[0].clone());
    body.insert("verdicts".into(), Value::Array(all));
    body.insert("results".into(), Value::Array(results));
    scores
}

/// The published audio shape, with per-clip details (`chunk_details` as
/// the single-result page shows; `details.clips` in list answers, as the
/// list page shows).
fn audio_results(submission: &Submission, body: &mut Map<String, Value>, listed: bool) {
    audio_verdicts_and_results(submission, body, 1);
    let seed = seed_bytes(submission);
    let artificial = submission.artificial;
    let clip_count = 1 + usize::from(seed.get(5).copied().unwrap_or(0) % 3);
    let mut clips = Vec::new();
    for c in 0..clip_count {
        let mut scores = Vec::new();
        let mut results = Vec::new();
        for (m, model) in AUDIO_MODELS.iter().enumerate() {
            let byte = seed
                .get((7 + c * AUDIO_MODELS.len() + m) % seed.len().max(1))
                .copied()
                .unwrap_or(170);
            scores.push(winning_score(byte));
            results.push(result(model, artificial, byte, false));
        }
        let v = verdicts(&AUDIO_MODELS, artificial, &scores);
        clips.push(json!({
            "index": c,
            "start": c as f64 * CLIP_SECONDS,
            "end": (c + 1) as f64 * CLIP_SECONDS,
            "results": results,
            "verdict": v[0].clone(),
        }));
    }
    if listed {
        body.insert("details".into(), json!({ "clips": clips }));
    } else {
        body.insert("chunk_details".into(), Value::Array(clips));
    }
}

/// Side of the mock's heatmap, in pixels.
const HEATMAP_SIZE: u32 = 64;

/// The heatmap the mock serves for a file of SHA-256 `hash` (hex): a
/// 64x64 RGB PNG of two or three hot spots on a cold background, in the
/// blue-to-red colours heatmaps use, placed by the hash's bytes. The same
/// file always gets the same picture; any other `hash` (not hex) gets the
/// one of [`heatmap_png`]. Integer arithmetic only, so it is the same on
/// every platform.
///
/// ```
/// let png = identifai::mock::heatmap_png_for(&"ab".repeat(32));
/// assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
/// assert_eq!(png, identifai::mock::heatmap_png_for(&"ab".repeat(32)));
/// assert_ne!(png, identifai::mock::heatmap_png_for(&"cd".repeat(32)));
/// ```
pub fn heatmap_png_for(hash: &str) -> Vec<u8> {
    const SIZE: u32 = HEATMAP_SIZE;
    let seed = hex::decode(hash)
        .ok()
        .filter(|b| b.len() >= 10)
        .unwrap_or_else(|| vec![0x5a; 32]);
    // (centre x, centre y, radius, weight in 1/256): the spots.
    let count = 2 + usize::from(seed[0] % 2);
    let spots: Vec<(i64, i64, i64, i64)> = (0..count)
        .map(|i| {
            let b = &seed[1 + 3 * i..4 + 3 * i];
            let weight = 256 - 56 * i as i64;
            (
                8 + i64::from(b[0] % 48),
                8 + i64::from(b[1] % 48),
                12 + i64::from(b[2] % 14),
                weight,
            )
        })
        .collect();
    let mut raw = Vec::with_capacity((SIZE * (SIZE * 3 + 1)) as usize);
    for y in 0..i64::from(SIZE) {
        raw.push(0); // filter type: None
        for x in 0..i64::from(SIZE) {
            // Each spot falls off as (1 - d²/r²)²; the hottest one wins.
            let heat = spots
                .iter()
                .map(|&(cx, cy, r, w)| {
                    let d2 = (x - cx).pow(2) + (y - cy).pow(2);
                    let r2 = r * r;
                    let t = (r2 - d2).max(0);
                    255 * t * t / (r2 * r2) * w / 256
                })
                .max()
                .unwrap_or(0);
            raw.extend_from_slice(&heat_colour(heat as u8));
        }
    }
    png_rgb(SIZE, &raw)
}

/// The picture of [`heatmap_png_for`] for no file in particular (a PNG
/// answer the spec documents without an example gets it).
///
/// ```
/// let png = identifai::mock::heatmap_png();
/// assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
/// ```
pub fn heatmap_png() -> Vec<u8> {
    heatmap_png_for("")
}

/// A heat from 0 to 255 as the usual blue, cyan, yellow, red ramp.
fn heat_colour(v: u8) -> [u8; 3] {
    // (heat, colour) stops, linearly interpolated.
    const STOPS: [(i32, [i32; 3]); 5] = [
        (0, [0, 0, 140]),
        (70, [0, 90, 255]),
        (130, [0, 230, 220]),
        (190, [255, 230, 0]),
        (255, [230, 0, 0]),
    ];
    let v = i32::from(v);
    let i = STOPS.iter().rposition(|s| s.0 <= v).unwrap_or(0).min(3);
    let ((a, ca), (b, cb)) = (STOPS[i], STOPS[i + 1]);
    let mut out = [0u8; 3];
    for c in 0..3 {
        out[c] = (ca[c] + (cb[c] - ca[c]) * (v - a) / (b - a)).clamp(0, 255) as u8;
    }
    out
}

/// A PNG of 8-bit RGB rows (`raw`: each row a filter byte then pixels).
fn png_rgb(size: u32, raw: &[u8]) -> Vec<u8> {
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&size.to_be_bytes());
    ihdr.extend_from_slice(&size.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib_stored(raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

/// Appends one PNG chunk (length, type, data, CRC).
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream of uncompressed (stored) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let mut blocks = data.chunks(65_535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_adler_match_known_vectors() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn heatmap_has_png_structure() {
        let png = heatmap_png();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
    }

    #[test]
    fn heatmaps_differ_by_file_and_run_from_cold_to_hot() {
        let a = heatmap_png_for(&"13".repeat(32));
        assert_eq!(a, heatmap_png_for(&"13".repeat(32)));
        assert_ne!(a, heatmap_png_for(&"e7".repeat(32)));
        assert_eq!(heatmap_png_for("not hex"), heatmap_png());
        assert_eq!(heat_colour(0), [0, 0, 140]);
        assert_eq!(heat_colour(255), [230, 0, 0]);
        assert_eq!(heat_colour(130), [0, 230, 220]);
    }
}
