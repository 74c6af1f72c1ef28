//! The result shapes the published pages show decode into the generated
//! types with their data, and shapes that match none of them are errors:
//!
//! * the newest video result (3 frames, 1 audio track: the spec's
//!   `get_video_classification` example `newest`, built from the newest
//!   capture of get-classification-result-video with realistic values):
//!   every frame's hash, verdict and model names survive;
//! * a pending video (`"results": []`), `"unknown": true`, fields the spec
//!   does not name at three depths;
//! * the oldest capture's array of arrays (example `oldest_capture`);
//! * a frame that is a plain model result, or garbage: a decode error;
//! * audio's two per-clip forms (`chunk_details[]`, `details.clips[]`);
//! * Laravel's `[]` for an empty map, wherever the spec says `object`: a
//!   spec-driven check over every component, and named cases;
//! * PHP's `0`/`1` for a boolean (a MySQL column without a cast), wherever
//!   the spec says `boolean`: a spec-driven check over every component, and
//!   named cases; any other number or a string there is a decode error.

use crate::support::conformance::schema_strategy::{strategy, Options};
use crate::support::conformance::{run_cases, spec, FAIL};
#[allow(dead_code)]
use identifai::api::conformance;
use identifai::api::types::{
    AudioResponse, C2pa, Classification, ErrorBody, ImageResponse, ModelResult, ObjectDetails,
    PartnerPricings, Status, VideoResponse, VideoResultsImages,
};
use serde_json::{json, Value};

use crate::support::ID;

/// The value of the named example of `get_video_classification`'s 200.
fn video_example(name: &str) -> Value {
    let doc = &spec().doc;
    doc["paths"]["/api/classification_video/{identifier}"]["get"]["responses"]["200"]["content"]
        ["application/json"]["examples"][name]["value"]
        .clone()
}

fn decode<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, serde_json::Error> {
    serde_json::from_value(v.clone())
}

fn models(results: &[ModelResult]) -> Vec<&str> {
    results.iter().filter_map(|r| r.model.as_deref()).collect()
}

#[test]
fn newest_published_video_result_keeps_every_frame_and_track() {
    let body = video_example("newest");
    spec()
        .check_component("VideoResponse", &body)
        .unwrap_or_else(|e| panic!("{FAIL} published-video newest: {e}"));
    let v: VideoResponse = decode(&body).unwrap();
    let verdict = v.verdict.as_ref().unwrap();
    assert_eq!(verdict.classification, Classification::Artificial);
    assert_eq!(verdict.count, Some(3));
    assert_eq!(verdict.unknown, Some(false));
    let results = v.results.as_ref().unwrap();
    let Some(VideoResultsImages::FrameResults(frames)) = &results.images else {
        panic!("one result per frame, got {:?}", results.images)
    };
    let expected = [
        (
            "f8952f8aff2a83a859aa47f33adb73441412143c3982ae0e7ec57d49d0ba7320",
            Classification::Artificial,
        ),
        (
            "0e13daeeced75fbfad26d8265b0d826ded004bbfc75276a93cdd6c66e3fd72b8",
            Classification::Artificial,
        ),
        (
            "c898e17cd9040d633ba643e103ada73c9d3a94566e6cb40e93307d28b2577227",
            Classification::Human,
        ),
    ];
    assert_eq!(frames.len(), 3);
    for (i, (frame, (hash, class))) in frames.iter().zip(expected).enumerate() {
        assert_eq!(frame.hash, hash, "frame {i}");
        assert_eq!(frame.verdict.as_ref().unwrap().classification, class);
        assert_eq!(frame.verdicts.len(), 2, "frame {i}");
        assert_eq!(models(&frame.results), ["V011", "V01", "brokenwand2"]);
        assert_eq!(
            frame.name.as_deref(),
            Some(&*format!("frame_{:04}.jpg", i + 1))
        );
        assert_eq!(frame.status, Some(Status::Done));
    }
    assert_eq!(results.audios.len(), 1);
    let track = &results.audios[0];
    assert_eq!(
        track.hash,
        "0d8e2c829f18a4fcaae4d7893b8636f2230e4793c6f68756d85d90a0904fcc7c"
    );
    assert_eq!(
        track.verdict.as_ref().unwrap().classification,
        Classification::Human
    );
    assert_eq!(models(&track.results), ["A011", "A01", "A03"]);
    assert_eq!(track.results[2].unknown, Some(true));
}

#[test]
fn oldest_capture_array_of_arrays_still_decodes() {
    let body = video_example("oldest_capture");
    spec()
        .check_component("VideoResponse", &body)
        .unwrap_or_else(|e| panic!("{FAIL} published-video oldest: {e}"));
    let v: VideoResponse = decode(&body).unwrap();
    let Some(VideoResultsImages::LegacyFrameResults(frames)) = v.results.unwrap().images else {
        panic!("the oldest capture is the legacy shape")
    };
    assert_eq!(frames.len(), 3);
    assert_eq!(models(&frames[0]), ["V011", "V01", "brokenwand2"]);
    assert_eq!(models(&frames[2]), ["V011", "V01"]);
    assert_eq!(
        frames[1][2].classification[1].score,
        Some(0.690691739320755)
    );
}

#[test]
fn pending_unknown_and_unnamed_fields_decode() {
    // Pending: Laravel writes the empty `results` map as [].
    let pending = json!({"identifier": ID, "status": "new", "api_version": null, "errors": null, "results": []});
    let v: VideoResponse = decode(&pending).unwrap();
    assert_eq!(v.status, Some(Status::New));
    let r = v.results.expect("[] is the empty results object");
    assert!(r.images.is_none() && r.audios.is_empty());

    // Done, with `unknown: true` and fields the spec does not name at the
    // top, inside a verdict and inside a frame.
    let mut body = video_example("newest");
    body["top_level_extra"] = json!({"since": "1.2.0"});
    body["verdict"]["unknown"] = json!(true);
    body["verdict"]["verdict_extra"] = json!(7);
    body["results"]["images"][1]["frame_extra"] = json!(["a", "b"]);
    spec()
        .check_component("VideoResponse", &body)
        .unwrap_or_else(|e| panic!("{FAIL} published-video unnamed fields: {e}"));
    let v: VideoResponse = decode(&body).unwrap();
    assert_eq!(v.verdict.as_ref().unwrap().unknown, Some(true));
    let Some(VideoResultsImages::FrameResults(frames)) = v.results.unwrap().images else {
        panic!("frames")
    };
    assert_eq!(
        frames[1].hash,
        "0e13daeeced75fbfad26d8265b0d826ded004bbfc75276a93cdd6c66e3fd72b8"
    );
    assert_eq!(models(&frames[1].results), ["V011", "V01", "brokenwand2"]);
}

#[test]
fn a_frame_or_track_of_another_shape_is_a_decode_error() {
    let model_result = json!({"model": "V011", "elapsed_time": 0.29, "classification": [{"label": "artificial", "score": 0.99}]});
    let with_images = |images: Value| json!({"identifier": ID, "results": {"images": images}});
    let cases = [
        (
            "a plain model result as a frame",
            with_images(json!([model_result])),
        ),
        (
            "a frame without its hash",
            with_images(
                json!([{"results": [], "verdict": {"heuristic": "Majority", "confidence": 1, "classification": "human"}}]),
            ),
        ),
        ("a number as a frame", with_images(json!([42]))),
        ("a string as a frame", with_images(json!(["frame"]))),
        (
            "an object as images",
            with_images(json!({"0": {"hash": "h", "results": []}})),
        ),
        (
            "frames of both shapes",
            with_images(json!([[model_result], {"hash": "h", "results": []}])),
        ),
        (
            "a non-empty array as the results object",
            json!({"identifier": ID, "results": [1, 2]}),
        ),
        (
            "a plain model result as an audio track",
            json!({"identifier": ID, "results": {"images": [], "audios": [{"model": "A01"}]}}),
        ),
        (
            "unknown as a count",
            json!({"identifier": ID, "verdict": {"heuristic": "Majority", "confidence": 1, "classification": "human", "unknown": 2}}),
        ),
    ];
    for (what, body) in cases {
        assert!(
            decode::<VideoResponse>(&body).is_err(),
            "{FAIL} published-video {what} must not decode, it decoded as {:?}",
            decode::<VideoResponse>(&body).ok()
        );
        assert!(
            spec()
                .validate(&spec().component("VideoResponse"), &body)
                .is_err(),
            "the spec refuses {what} too"
        );
    }
}

#[test]
fn audio_per_clip_details_in_both_published_forms() {
    let clip = |i: i64| json!({"index": i, "start": i as f64 * 4.0, "end": i as f64 * 4.0 + 4.0, "results": [{"model": "A01", "classification": [{"label": "human", "score": 0.9}]}], "verdict": {"heuristic": "Average", "confidence": 0.9, "classification": "human"}});
    let chunks = json!({"identifier": ID, "hash": ID, "status": "done", "chunk_details": [clip(0), clip(1)]});
    let clips = json!({"identifier": ID, "hash": ID, "status": "done", "details": {"clips": [clip(0), clip(1), clip(2)]}});
    for body in [&chunks, &clips] {
        spec()
            .check_component("AudioResponse", body)
            .unwrap_or_else(|e| panic!("{FAIL} published-audio: {e}"));
    }
    let a: AudioResponse = decode(&chunks).unwrap();
    assert_eq!(a.chunk_details.len(), 2);
    assert_eq!(a.chunk_details[1].end, 8.0);
    let a: AudioResponse = decode(&clips).unwrap();
    let d = a.details.unwrap();
    assert_eq!(d.clips.len(), 3);
    assert_eq!(d.clips[2].index, 2);
    assert_eq!(models(&d.clips[2].results), ["A01"]);
    // A clip without its bounds is an error, not an empty clip.
    let bad = json!({"chunk_details": [{"results": []}]});
    assert!(decode::<AudioResponse>(&bad).is_err());
}

// ---------------------------------------------------- Laravel's empty maps

#[test]
fn laravel_empty_maps_in_published_places() {
    // classification_details, c2pa, manifests, validation results (also as
    // items of a list), the audio details, a nested verdict.
    let image = json!({
        "identifier": ID,
        "c2pa": {"manifests": [], "validation_results": {"activeManifest": [], "ingredientDeltas": [[], {"k": 1}]}},
        "results": [{"model": "m", "classification_details": []}],
        "verdict": {"heuristic": "Majority", "confidence": 0.5, "classification": "human"},
        "details": [{"detections": []}]
    });
    let r: ImageResponse = decode(&image).unwrap();
    let c2pa: &C2pa = r.c2pa.as_ref().unwrap();
    assert!(c2pa.manifests.is_empty());
    let vr = c2pa.validation_results.as_ref().unwrap();
    assert!(vr.active_manifest.is_some());
    assert_eq!(vr.ingredient_deltas.len(), 2);
    assert!(vr.ingredient_deltas[0].is_empty());
    assert!(r.results[0].classification_details.is_empty());

    let c2pa_empty = json!({"identifier": ID, "c2pa": []});
    let r: ImageResponse = decode(&c2pa_empty).unwrap();
    assert_eq!(r.c2pa, Some(C2pa::default()));

    let audio = json!({"identifier": ID, "details": [], "verdict": []});
    assert!(
        decode::<AudioResponse>(&audio).is_err(),
        "[] is an empty verdict, which lacks the required heuristic"
    );
    let audio = json!({"identifier": ID, "details": []});
    let a: AudioResponse = decode(&audio).unwrap();
    assert!(a.details.unwrap().clips.is_empty());

    // Whole bodies: the plans (a list, or an object of plans), an error body.
    let p: PartnerPricings = decode(&json!([])).unwrap();
    assert!(p.plans().is_empty());
    let p: PartnerPricings = decode(&json!({"basic": {"id": 1}})).unwrap();
    assert_eq!(p.plans()[0].id, 1);
    let e: ErrorBody = decode(&json!([])).unwrap();
    assert!(e.error.is_none() && e.extra.is_empty());
    // ...but only an empty array.
    assert_eq!(
        decode::<PartnerPricings>(&json!([{"id": 1}]))
            .unwrap()
            .plans()[0]
            .id,
        1
    );
    assert!(decode::<ImageResponse>(&json!(["x"])).is_err());
}

/// Every position of `value` where the schema says `object` and requires no
/// property, as JSON pointers.
fn object_positions(schema: &Value, value: &Value, at: String, out: &mut Vec<String>) {
    let spec = spec();
    let resolved = spec.resolve(schema);
    // The JSON Schema forms of this spec: a nullable object is
    // `anyOf: [object, null]`, a `oneOf` picks the branch the value matches.
    let mut candidates = vec![resolved];
    for key in ["anyOf", "oneOf", "allOf"] {
        for b in resolved
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if spec.validate(b, value).is_ok() {
                candidates.push(spec.resolve(b));
                for key in ["allOf"] {
                    for c in b.get(key).and_then(Value::as_array).into_iter().flatten() {
                        candidates.push(spec.resolve(c));
                    }
                }
            }
        }
    }
    let object = candidates.iter().find(|s| {
        s.get("type") == Some(&json!("object"))
            || s.get("type")
                .and_then(Value::as_array)
                .is_some_and(|t| t.contains(&json!("object")))
    });
    match value {
        Value::Object(map) => {
            let Some(object) = object else { return };
            let required = object
                .get("required")
                .and_then(Value::as_array)
                .is_some_and(|r| !r.is_empty());
            if !required && !at.is_empty() {
                out.push(at.clone());
            }
            let props = object.get("properties").and_then(Value::as_object);
            for (k, v) in map {
                let sub = props
                    .and_then(|p| p.get(k))
                    .or_else(|| object.get("additionalProperties").filter(|a| a.is_object()));
                if let Some(sub) = sub {
                    let key = k.replace('~', "~0").replace('/', "~1");
                    object_positions(sub, v, format!("{at}/{key}"), out);
                }
            }
        }
        Value::Array(items) => {
            let item_schema = candidates.iter().find_map(|s| s.get("items"));
            if let Some(s) = item_schema {
                for (i, v) in items.iter().enumerate() {
                    object_positions(s, v, format!("{at}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

#[test]
fn laravel_empty_array_decodes_as_the_empty_object_wherever_the_spec_says_object() {
    // Spec-driven: for every component, values generated from its schema;
    // at each position whose schema is an object with no required property,
    // `[]` there must decode exactly as `{}` there does. And a component
    // that is such an object decodes from a whole-body `[]`.
    let spec = spec();
    let mut positions_checked = 0usize;
    let mut failures = Vec::new();
    for name in spec.components() {
        let schema = spec.component(name.as_str());
        let strategy = strategy(&spec.defs, &schema, &Options::default());
        let checked = std::cell::Cell::new(0usize);
        let result = run_cases(&format!("laravel {name}"), 24, strategy, |value| {
            let mut positions = Vec::new();
            object_positions(&schema, value, String::new(), &mut positions);
            for p in positions {
                let (mut empty_object, mut empty_array) = (value.clone(), value.clone());
                *empty_object.pointer_mut(&p).unwrap() = json!({});
                *empty_array.pointer_mut(&p).unwrap() = json!([]);
                let want = conformance::roundtrip(&name, &empty_object)
                    .expect("a component")
                    .map_err(|e| format!("{{}} at {p} does not decode: {e}"))?;
                let got = conformance::roundtrip(&name, &empty_array)
                    .expect("a component")
                    .map_err(|e| {
                        format!("[] at {p} does not decode: {e}\n  input: {empty_array}")
                    })?;
                if got != want {
                    return Err(format!("[] at {p} decodes as {got}, {{}} as {want}"));
                }
                checked.set(checked.get() + 1);
            }
            Ok(())
        });
        positions_checked += checked.get();
        if let Err(e) = result {
            println!("{FAIL} laravel {name}: {e}");
            failures.push(format!("{name}: {e}"));
        }
        let def = &spec.defs[&name];
        let open_object = def.get("type") == Some(&json!("object"))
            && def
                .get("required")
                .and_then(Value::as_array)
                .is_none_or(|r| r.is_empty());
        if open_object {
            let (a, b) = (
                conformance::roundtrip(&name, &json!([])).unwrap(),
                conformance::roundtrip(&name, &json!({})).unwrap(),
            );
            if a.as_ref().ok() != b.as_ref().ok() || a.is_err() {
                println!("{FAIL} laravel {name}: a whole-body [] gives {a:?}, {{}} gives {b:?}");
                failures.push(format!("{name}: whole body [] gives {a:?}"));
            }
        }
    }
    println!("laravel: {positions_checked} object positions checked");
    assert!(positions_checked > 500, "{positions_checked} positions");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// --------------------------------------------------------- PHP's booleans

#[test]
fn php_integer_booleans_decode_as_false_and_true() {
    // A done image result as a Laravel model without boolean casts writes it.
    let image = json!({
        "identifier": ID,
        "status": "done",
        "has_heatmap": 1,
        "is_nsfw": 0,
        "results": [
            {"model": "V011", "unknown": 0, "classification": [{"label": "human", "score": 0.9}]},
            {"model": "V01", "unknown": 1},
            {"model": "brokenwand2", "unknown": true}
        ],
        "verdict": {"heuristic": "Majority", "confidence": 0.9, "classification": "human"}
    });
    let r: ImageResponse = decode(&image).unwrap();
    assert_eq!(r.has_heatmap, Some(true));
    assert_eq!(r.is_nsfw, Some(false));
    let unknown: Vec<Option<bool>> = r.results.iter().map(|m| m.unknown).collect();
    assert_eq!(unknown, [Some(false), Some(true), Some(true)]);
    assert_eq!(
        r.verdict.as_ref().unwrap().classification,
        Classification::Human
    );
    // The client writes real booleans back.
    let back = serde_json::to_value(&r).unwrap();
    assert_eq!(back["has_heatmap"], json!(true));
    assert_eq!(back["is_nsfw"], json!(false));
    assert_eq!(back["results"][0]["unknown"], json!(false));
    // Absent and null stay `None`.
    let r: ImageResponse = decode(&json!({"identifier": ID, "has_heatmap": null})).unwrap();
    assert_eq!((r.has_heatmap, r.is_nsfw), (None, None));

    // A video: its verdict, a frame's fields and models, and a required
    // boolean inside an object detection.
    let mut video = video_example("newest");
    video["is_nsfw"] = json!(0);
    video["verdict"]["unknown"] = json!(1);
    video["results"]["images"][0]["has_heatmap"] = json!(1);
    video["results"]["images"][0]["results"][0]["unknown"] = json!(0);
    let v: VideoResponse = decode(&video).unwrap();
    assert_eq!(v.is_nsfw, Some(false));
    assert_eq!(v.verdict.as_ref().unwrap().unknown, Some(true));
    let Some(VideoResultsImages::FrameResults(frames)) = v.results.unwrap().images else {
        panic!("frames")
    };
    assert_eq!(frames[0].has_heatmap, Some(true));
    assert_eq!(frames[0].results[0].unknown, Some(false));
    let details = json!({"detections": [{
        "box": {"x1": 0.0, "x2": 1.0, "y1": 0.0, "y2": 1.0},
        "results": [{"model": "m", "elapsed_time": 0.1, "unknown": 1,
                     "classification": [{"label": "human", "score": 0.9}],
                     "classification_details": {"confidence": 0.9}}],
        "verdict": {"heuristic": "Majority", "confidence": 0.9, "classification": "human"}
    }]});
    let d: ObjectDetails = decode(&details).unwrap();
    assert!(d.detections[0].results[0].unknown);
}

#[test]
fn php_booleans_other_than_0_and_1_are_decode_errors_naming_the_value() {
    let with = |field: &str, v: Value| {
        let mut body = json!({"identifier": ID, "results": [{"model": "m"}]});
        match field {
            "unknown" => body["results"][0]["unknown"] = v,
            _ => body[field] = v,
        }
        body
    };
    for (field, v, named) in [
        ("unknown", json!(2), "integer `2`"),
        ("unknown", json!("x"), "string \"x\""),
        ("has_heatmap", json!(-1), "integer `-1`"),
        ("has_heatmap", json!(0.5), "floating point `0.5`"),
        ("is_nsfw", json!("1"), "string \"1\""),
        ("is_nsfw", json!("yes"), "string \"yes\""),
        ("is_nsfw", json!([]), "sequence"),
    ] {
        let body = with(field, v.clone());
        let e = decode::<ImageResponse>(&body)
            .err()
            .unwrap_or_else(|| panic!("{FAIL} php-bool {field}: {v} must not decode"))
            .to_string();
        assert!(e.contains(named), "{field}: {v}: {e}");
        assert!(
            e.contains("a boolean (or PHP's 0 or 1)"),
            "{field}: {v}: {e}"
        );
    }
}

/// Every position of `value` holding a JSON boolean where the schema says
/// `boolean`, as JSON pointers.
fn boolean_positions(schema: &Value, value: &Value, at: String, out: &mut Vec<String>) {
    let spec = spec();
    let resolved = spec.resolve(schema);
    let mut candidates = vec![resolved];
    for key in ["anyOf", "oneOf", "allOf"] {
        for b in resolved
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if spec.validate(b, value).is_ok() {
                candidates.push(spec.resolve(b));
            }
        }
    }
    let says = |t: &str| {
        candidates.iter().any(|s| {
            s.get("type") == Some(&json!(t))
                || s.get("type")
                    .and_then(Value::as_array)
                    .is_some_and(|ts| ts.contains(&json!(t)))
        })
    };
    match value {
        Value::Bool(_) if says("boolean") => out.push(at),
        Value::Object(map) => {
            for (k, v) in map {
                let sub = candidates.iter().find_map(|s| {
                    s.get("properties")
                        .and_then(|p| p.get(k))
                        .or_else(|| s.get("additionalProperties").filter(|a| a.is_object()))
                });
                if let Some(sub) = sub {
                    let key = k.replace('~', "~0").replace('/', "~1");
                    boolean_positions(sub, v, format!("{at}/{key}"), out);
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = candidates.iter().find_map(|s| s.get("items")) {
                for (i, v) in items.iter().enumerate() {
                    boolean_positions(s, v, format!("{at}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

#[test]
fn php_integer_booleans_decode_as_booleans_wherever_the_spec_says_boolean() {
    // Spec-driven: for every component, values generated from its schema;
    // each boolean there written as PHP's 0/1 must decode, and re-encode, as
    // the boolean does.
    let spec = spec();
    let mut positions_checked = 0usize;
    let mut failures = Vec::new();
    for name in spec.components() {
        let schema = spec.component(name.as_str());
        let strategy = strategy(&spec.defs, &schema, &Options::default());
        let checked = std::cell::Cell::new(0usize);
        let result = run_cases(&format!("php-bool {name}"), 24, strategy, |value| {
            let mut positions = Vec::new();
            boolean_positions(&schema, value, String::new(), &mut positions);
            if positions.is_empty() {
                return Ok(());
            }
            let mut php = value.clone();
            for p in &positions {
                let b = php.pointer(p).and_then(Value::as_bool).unwrap();
                *php.pointer_mut(p).unwrap() = json!(u8::from(b));
            }
            let want = conformance::roundtrip(&name, value)
                .expect("a component")
                .map_err(|e| format!("the value does not decode: {e}"))?;
            let got = conformance::roundtrip(&name, &php)
                .expect("a component")
                .map_err(|e| {
                    format!("0/1 at {positions:?} does not decode: {e}\n  input: {php}")
                })?;
            if got != want {
                return Err(format!(
                    "0/1 at {positions:?} decodes as {got}, booleans as {want}"
                ));
            }
            checked.set(checked.get() + positions.len());
            Ok(())
        });
        positions_checked += checked.get();
        if let Err(e) = result {
            println!("{FAIL} php-bool {name}: {e}");
            failures.push(format!("{name}: {e}"));
        }
    }
    println!("php-bool: {positions_checked} boolean positions checked");
    assert!(positions_checked > 100, "{positions_checked} positions");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
