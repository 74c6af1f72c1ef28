//! The client's benchmarks (`cargo xtask bench`, or directly
//! `cargo bench --features mock --bench client -- [--quick]`).
//!
//! A small harness rather than criterion: every figure is a ratio against a
//! baseline measured in the same run, on loopback, A and B interleaved to
//! cancel drift. It prints Markdown (sections and tables) on stdout, which
//! `cargo xtask bench` puts into BENCHMARKS.md. Nothing here is asserted:
//! goals are reported as met or missed.
//!
//! 1. GET latency of the client vs raw reqwest + serde_json;
//! 2. peak RSS of a video upload streamed from disk vs read into memory
//!    (each upload in a fresh child process: `client child-upload ...`);
//! 3. batches of N submissions + `wait_all` under the published rate limits
//!    (N <= 10 in real time, the rest time-compressed) vs the lower bound
//!    those limits allow;
//! 4. decoding a 111 KiB `ImageResponse` the client's way vs
//!    `serde_json::from_str` into the same types;
//! 5. a fleet: 4 processes (`client child-fleet ...`) submitting on one key
//!    through one Redis pacer (a `redis-server` of the bench's own) against
//!    one mock enforcing the limits, vs the same 4 pacing alone;
//! 6. the time from a result being done to the user having it: the real
//!    `identifai` binary's `batch` and `classify` (its one poller) against a
//!    mock whose results finish 5-40 s after upload, vs the client before
//!    the poller (`client child-oldwait ...`: per-wait polling).

use std::fmt::Write as _;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use identifai::api::types::ImageResponse;
use identifai::mock::{MockConfig, MockServer};
use identifai::{config::RateLimits, config::RetryConfig, config::WaitConfig, Client, Source};
use serde_json::{json, Value};

// The tests' Redis helper, the one way this repository starts Redis.
#[path = "../tests/support/redis_server.rs"]
mod redis_server;
use redis_server::RedisServer;

const MIB: u64 = 1024 * 1024;

struct Mode {
    quick: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("child-upload") {
        child_upload(&args[1..]);
        return;
    }
    if args.first().map(String::as_str) == Some("child-side") {
        child_side(&args[1..]);
        return;
    }
    if args.first().map(String::as_str) == Some("child-decode") {
        child_decode(&args[1..]);
        return;
    }
    if args.first().map(String::as_str) == Some("child-fleet") {
        child_fleet(&args[1..]);
        return;
    }
    if args.first().map(String::as_str) == Some("child-oldwait") {
        child_oldwait(&args[1..]);
        return;
    }
    // `cargo bench` passes `--bench`; anything else unknown is refused.
    let mut quick = false;
    // `--only N` runs section N alone (1 overhead, 2 memory, 3 batch, 4
    // decode, 5 fleet, 6 verdict latency).
    let mut only: Option<u32> = None;
    let mut args_iter = args.iter();
    while let Some(a) = args_iter.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--only" => only = args_iter.next().and_then(|n| n.parse().ok()),
            "--bench" => {}
            other => {
                eprintln!("unknown argument {other:?} (expected --quick, --only N)");
                std::process::exit(2);
            }
        }
    }
    let mode = Mode { quick };
    let mut out = String::new();
    let mut summary = Vec::new();
    let started = Instant::now();
    let run = |n: u32| only.is_none_or(|o| o == n);
    if run(1) {
        eprintln!("[bench] 1/6 GET latency");
        overhead(&mode, &mut out, &mut summary);
    }
    if run(2) {
        eprintln!("[bench] 2/6 upload memory");
        upload_memory(&mode, &mut out, &mut summary);
    }
    if run(3) {
        eprintln!("[bench] 3/6 batch under the rate limits");
        batch(&mode, &mut out, &mut summary);
    }
    if run(4) {
        eprintln!("[bench] 4/6 decode");
        decode(&mode, &mut out, &mut summary);
    }
    if run(5) {
        eprintln!("[bench] 5/6 fleet on one key");
        fleet(&mode, &mut out, &mut summary);
    }
    if run(6) {
        eprintln!("[bench] 6/6 verdict latency");
        latency(&mode, &mut out, &mut summary);
    }
    eprintln!("[bench] done in {:.1} s", started.elapsed().as_secs_f64());

    if cfg!(debug_assertions) {
        println!(
            "> **Debug build** (`cargo xtask bench --debug`): this run only shows that the \
             benchmarks work; its timings are not representative.\n"
        );
    }
    println!("## Summary\n");
    println!("| # | benchmark | figure | goal | met |");
    println!("|---|---|---|---|---|");
    for row in &summary {
        println!("{row}");
    }
    println!();
    print!("{out}");
}

// ---------------------------------------------------------------- helpers

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

struct Stats {
    median: f64,
    p90: f64,
}

fn stats(mut v: Vec<f64>) -> Stats {
    v.sort_by(f64::total_cmp);
    Stats {
        median: percentile(&v, 0.5),
        p90: percentile(&v, 0.9),
    }
}

fn yes(ok: bool) -> &'static str {
    if ok {
        "yes"
    } else {
        "**no**"
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A PNG-looking image, distinct per `n`.
fn png(n: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.extend_from_slice(&n.to_be_bytes());
    v.extend_from_slice(&[7u8; 64]);
    v
}

/// An `ImageResponse` body: `verdicts` verdicts, `models` model results,
/// `detections` object detections (in groups of 10), and, when `manifests`
/// is not 0, C2PA data with that many manifests.
fn image_response(verdicts: usize, models: usize, detections: usize, manifests: usize) -> Value {
    let label_scores = |i: usize| {
        let s = (i % 100) as f64 / 100.0;
        json!([{"label": "artificial", "score": s}, {"label": "human", "score": 1.0 - s}])
    };
    let verdict = |i: usize| {
        json!({
            "models": (0..4).map(|m| format!("model-{}", (i + m) % 20)).collect::<Vec<_>>(),
            "heuristic": (["Majority", "Average", "AverageExcludeObsolete", "TopRelevant"][i % 4]),
            "confidence": 0.5 + (i % 50) as f64 / 100.0,
            "classification": if i.is_multiple_of(3) { "human" } else { "artificial" },
        })
    };
    let results: Vec<Value> = (0..models)
        .map(|i| {
            json!({
                "model": format!("model-{i}"),
                "unknown": i % 7 == 0,
                "elapsed_time": 0.1234 + i as f64 * 0.01,
                "classification": label_scores(i),
                "classification_details": {"confidence": 0.9, "threshold": 0.5, "version": "2.3.1"},
            })
        })
        .collect();
    let details: Vec<Value> = (0..detections.div_ceil(10))
        .map(|g| {
            let n = (detections - g * 10).min(10);
            json!({
                "detections": (0..n).map(|d| {
                    let i = g * 10 + d;
                    json!({
                        "box": {"x1": i as f64, "y1": i as f64 * 2.0, "x2": i as f64 + 64.5, "y2": i as f64 * 2.0 + 48.25},
                        "results": (0..3).map(|m| json!({
                            "model": format!("object-model-{m}"),
                            "unknown": false,
                            "elapsed_time": 0.05,
                            "classification": label_scores(i + m),
                            "classification_details": {"confidence": 0.75},
                        })).collect::<Vec<_>>(),
                        "verdict": {"heuristic": "Majority", "confidence": 0.8, "classification": "artificial"},
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let c2pa = (manifests > 0).then(|| {
        let mut map = serde_json::Map::new();
        for m in 0..manifests {
            let urn = format!("urn:c2pa:0b1c2d3e-{m:04}-4f5a-8b6c-7d8e9f0a1b2c");
            map.insert(
                urn.clone(),
                json!({
                    "label": urn,
                    "title": format!("image-{m}.jpg"),
                    "instance_id": format!("xmp:iid:{m:08x}-aaaa-bbbb-cccc-dddddddddddd"),
                    "claim_generator_info": [{"name": "Adobe Photoshop", "version": "25.0"}, {"name": "c2pa-rs"}],
                    "signature_info": {"alg": "Es256", "issuer": "Adobe Inc.", "common_name": "Adobe Content Credentials", "cert_serial_number": "1234567890abcdef"},
                    "assertions": (0..8).map(|a| json!({
                        "label": (["c2pa.actions.v2", "c2pa.hash.data", "stds.schema-org.CreativeWork", "c2pa.thumbnail.claim.jpeg"][a % 4]),
                        "data": {
                            "actions": [{"action": "c2pa.created", "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia", "softwareAgent": {"name": "Firefly", "version": "3"}}, {"action": "c2pa.edited", "parameters": {"description": "crop", "ingredients": [{"url": "self#jumbf=c2pa.assertions/c2pa.ingredient"}]}}],
                            "exclusions": [{"start": 1024 * a, "length": 65536}],
                            "hash": "JmNbYEXqTp2p0D/6I8k3z2Ot1XQm4C2kVn0d1zC0w9E=",
                            "alg": "sha256",
                        },
                    })).collect::<Vec<_>>(),
                    "ingredients": (0..2).map(|i| json!({
                        "label": "c2pa.ingredient.v3",
                        "title": format!("source-{i}.png"),
                        "format": "image/png",
                        "relationship": if i == 0 { "parentOf" } else { "componentOf" },
                        "active_manifest": format!("urn:c2pa:ingredient-{m}-{i}"),
                        "validation_results": {"activeManifest": {"success": [{"code": "claimSignature.validated", "url": "self#jumbf=/c2pa"}], "failure": [], "informational": []}},
                    })).collect::<Vec<_>>(),
                }),
            );
        }
        json!({
            "manifests": map,
            "active_manifest": "urn:c2pa:0b1c2d3e-0000-4f5a-8b6c-7d8e9f0a1b2c",
            "validation_status": (0..10).map(|i| json!({"url": format!("self#jumbf=/c2pa/assertion-{i}"), "code": "assertion.hashedURI.match", "explanation": "hashed uri matched"})).collect::<Vec<_>>(),
            "validation_results": {
                "activeManifest": {
                    "success": (0..20).map(|i| json!({"code": "assertion.dataHash.match", "url": format!("self#jumbf=/c2pa/{i}"), "explanation": "data hash valid"})).collect::<Vec<_>>(),
                    "failure": [],
                    "informational": [{"code": "timeStamp.untrusted", "url": "self#jumbf=/c2pa", "explanation": "timestamp untrusted"}],
                },
                "ingredientDeltas": [{"ingredientAssertionURI": "self#jumbf=c2pa.assertions/c2pa.ingredient", "validationDeltas": {"success": [], "failure": [], "informational": []}}],
            },
            "validation_state": "Valid",
        })
    });
    json!({
        "hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "identifier": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "api_version": "1.1.0",
        "status": "done",
        "errors": null,
        "name": "photo.jpg",
        "ref_id": "batch-42",
        "result_url": "https://app.identifai.net/classification/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "is_nsfw": false,
        "c2pa": c2pa,
        "has_heatmap": true,
        "verdict": verdict(0),
        "verdicts": (0..verdicts).map(verdict).collect::<Vec<_>>(),
        "results": results,
        "details": details,
        "force_classification": null,
    })
}

// ------------------------------------------------ 1. per-request overhead

/// The axum app answering every result GET with `body`.
fn fixed_app(body: Vec<u8>) -> axum::Router {
    let body = bytes::Bytes::from(body);
    axum::Router::new().route(
        "/api/classification/{identifier}",
        axum::routing::get(move || {
            let body = body.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body,
                )
            }
        }),
    )
}

/// A minimal in-process server answering every result GET with `body`, on
/// a thread and runtime of its own.
struct FixedServer {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FixedServer {
    fn start(body: Vec<u8>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime().block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, fixed_app(body))
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Self {
            base,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for FixedServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One side's per-request times (µs), median and p90.
struct Sides {
    client: Stats,
    api: Stats,
    raw: Stats,
    raw_str: Stats,
}

/// The four sides of section 1, `rounds` × `block` requests each, against
/// a fixed server on its own thread (`same_thread == false`) or spawned on
/// the client's own current-thread runtime (`true`: each request is then
/// the CPU work of both ends and the loopback syscalls, with no wake-up of
/// another core in it).
/// `only`: run that side alone (0 full client, 1 generated client, 2 raw
/// `from_slice`, 3 raw `from_str`), for the instruction counts.
fn overhead_run(
    body: &[u8],
    same_thread: bool,
    rounds: usize,
    block: usize,
    only: Option<usize>,
) -> Sides {
    let rt = runtime();
    let (base, _server) = if same_thread {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = fixed_app(body.to_vec());
        rt.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
        (base, None)
    } else {
        let server = FixedServer::start(body.to_vec());
        (server.base.clone(), Some(server))
    };
    let key = "bench-key";
    let id: identifai::Identifier =
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
            .parse()
            .unwrap();
    let client = Client::builder()
        .api_key(key)
        .base_url(&base)
        .rate_limits(None)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    // The raw side: the same reqwest settings the client's builder applies.
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .user_agent("identifai-rust/bench")
        .build()
        .unwrap();
    // The raw side as reqwest's own `Response::json` does it (`bytes()`,
    // then `from_slice`), or with one UTF-8 check and `from_str`.
    let raw_get = |raw: &reqwest::Client, id: &str, from_str: bool| {
        let url = format!("{base}/api/classification/{id}");
        let req = raw
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .header("x-api-key", key)
            .timeout(Duration::from_secs(30));
        async move {
            let response = req.send().await.unwrap();
            assert!(response.status().is_success());
            let bytes = response.bytes().await.unwrap();
            if from_str {
                serde_json::from_str::<ImageResponse>(std::str::from_utf8(&bytes).unwrap()).unwrap()
            } else {
                serde_json::from_slice::<ImageResponse>(&bytes).unwrap()
            }
        }
    };
    let mut t_client = Vec::new();
    let mut t_api = Vec::new();
    let mut t_raw = Vec::new();
    let mut t_raw_str = Vec::new();
    rt.block_on(async {
        let runs = |side: usize| only.is_none_or(|o| o == side);
        // Warm up: connections open and kept alive on all sides.
        for _ in 0..block {
            if runs(0) {
                client.image_result(&id).await.unwrap();
            }
            if runs(1) {
                client
                    .api()
                    .get_image_classification(id.as_str())
                    .await
                    .unwrap();
            }
            if runs(2) {
                raw_get(&raw, id.as_str(), false).await;
            }
            if runs(3) {
                raw_get(&raw, id.as_str(), true).await;
            }
        }
        for round in 0..rounds {
            // Rotate the order so that no side always runs first.
            for k in 0..4 {
                let side = (round + k) % 4;
                if !runs(side) {
                    continue;
                }
                match side {
                    0 => {
                        for _ in 0..block {
                            let t = Instant::now();
                            let r = client.image_result(&id).await.unwrap();
                            t_client.push(t.elapsed().as_secs_f64() * 1e6);
                            std::hint::black_box(r);
                        }
                    }
                    1 => {
                        for _ in 0..block {
                            let t = Instant::now();
                            let r = client
                                .api()
                                .get_image_classification(id.as_str())
                                .await
                                .unwrap();
                            t_api.push(t.elapsed().as_secs_f64() * 1e6);
                            std::hint::black_box(r);
                        }
                    }
                    2 => {
                        for _ in 0..block {
                            let t = Instant::now();
                            let r = raw_get(&raw, id.as_str(), false).await;
                            t_raw.push(t.elapsed().as_secs_f64() * 1e6);
                            std::hint::black_box(r);
                        }
                    }
                    _ => {
                        for _ in 0..block {
                            let t = Instant::now();
                            let r = raw_get(&raw, id.as_str(), true).await;
                            t_raw_str.push(t.elapsed().as_secs_f64() * 1e6);
                            std::hint::black_box(r);
                        }
                    }
                }
            }
        }
    });
    Sides {
        client: stats(t_client),
        api: stats(t_api),
        raw: stats(t_raw),
        raw_str: stats(t_raw_str),
    }
}

/// `client child-side SIDE N`: N requests of one side of section 1 (one
/// thread), nothing printed: what `instructions` runs under callgrind.
fn child_side(args: &[String]) {
    let side: usize = args[0].parse().unwrap();
    let n: usize = args[1].parse().unwrap();
    let body = serde_json::to_vec(&image_response(4, 6, 0, 0)).unwrap();
    overhead_run(&body, true, n / 50, 50, Some(side));
}

fn overhead(mode: &Mode, out: &mut String, summary: &mut Vec<String>) {
    let (rounds, block) = if mode.quick { (10, 30) } else { (100, 100) };
    let body = serde_json::to_vec(&image_response(4, 6, 0, 0)).unwrap();
    // One thread: short requests, so more of them, in finer blocks, in
    // `repeats` runs of their own: this machine has a fast and a slow state
    // (another guest on the host, by all signs) that lasts minutes, and the
    // ratios differ between them; each run shows which state it met.
    let (rounds_one, block_one, repeats) = if mode.quick {
        (30, 10, 1)
    } else {
        (400, 10, 5)
    };
    let mut ones: Vec<Sides> = (0..repeats)
        .map(|_| overhead_run(&body, true, rounds_one, block_one, None))
        .collect();
    let ratio_of = |x: &Sides| (x.api.median / x.raw.median, x.client.median / x.raw.median);
    // The run whose full-client ratio is the median one stands for all.
    ones.sort_by(|a, b| ratio_of(a).1.total_cmp(&ratio_of(b).1));
    let runs_table = ones
        .iter()
        .map(|x| {
            let (a, c) = ratio_of(x);
            format!("| {:.1} | {a:.3} | {c:.3} |", x.raw.median)
        })
        .collect::<Vec<_>>()
        .join("\n");
    let spread = {
        let (lo, hi) = (ratio_of(&ones[0]), ratio_of(&ones[ones.len() - 1]));
        let apis: Vec<f64> = ones.iter().map(|x| ratio_of(x).0).collect();
        let (amin, amax) = apis
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), &v| (l.min(v), h.max(v)));
        format!(
            "{} runs: {amin:.3}-{amax:.3} / {:.3}-{:.3}",
            ones.len(),
            lo.1,
            hi.1
        )
    };
    let one = ones.swap_remove(ones.len() / 2);
    let two = overhead_run(&body, false, rounds, block, None);
    let n_one = rounds_one * block_one;
    let n = rounds * block;
    // Instructions per request of each side (indexed as `overhead_run`'s
    // `only`); `None` without valgrind.
    let counts = if mode.quick {
        None
    } else {
        callgrind_per_op("child-side", 4, INSTR_RUNS)
    };
    let row = |name: &str, s: &Stats, base: &Stats| {
        format!(
            "| {name} | {:.1} | {:.1} | {:.3} |",
            s.median,
            s.p90,
            s.median / base.median
        )
    };
    let table = |x: &Sides| {
        [
            row(
                "raw reqwest + `serde_json::from_slice` (baseline)",
                &x.raw,
                &x.raw,
            ),
            row(
                "raw reqwest + UTF-8 check + `serde_json::from_str`",
                &x.raw_str,
                &x.raw,
            ),
            row(
                "generated client (`client.api().get_image_classification`)",
                &x.api,
                &x.raw,
            ),
            row(
                "full client (`client.image_result`, typed + raw JSON kept)",
                &x.client,
                &x.raw,
            ),
        ]
        .join("\n")
    };
    let _ = writeln!(
        out,
        "## 1. GET latency\n\n\
         `GET /api/classification/{{id}}` answered by a minimal in-process axum server with a fixed \
         {} B `ImageResponse`, decoded into `identifai::api::types::ImageResponse` on every side; \
         keep-alive on all sides; the four sides interleaved in blocks with a rotating \
         order. The client is built with `rate_limits(None)` and \
         `retry(RetryConfig::disabled())` (its key scrubbing, body cap and idle timeouts on, \
         as always). The baseline is raw reqwest as `Response::json` does it (`bytes()` then \
         `serde_json::from_slice`); raw reqwest with one UTF-8 check and `from_str` is shown \
         too. `client.image_result` also keeps the answer's JSON text (`Classified`).\n\n\
         **One thread** (the goal's figure): the server runs on the client's own current-thread \
         runtime, so a request's time is the CPU work of both ends plus the loopback syscalls. \
         This is the stricter test of the client's overhead (the same work is a larger share of \
         a shorter request), and the steadier one: with the server on a thread of its own, \
         most of a request is the kernel waking the other vCPU, which varies run to run by \
         several percent on this machine. {repeats} runs of {n_one} requests per side in blocks \
         of {block_one}; the run whose full-client ratio is the median one is shown, then every \
         run, in order of that ratio. The baseline's median tells the machine's state: about \
         21-24 µs in its fast state, 28-37 µs in its slow one.\n\n\
         | side, one thread | median (µs) | p90 (µs) | median ratio vs baseline |\n|---|---|---|---|\n\
         {}\n\n\
         | run: baseline median (µs) | generated client ratio | full client ratio |\n|---|---|---|\n\
         {runs_table}\n\n\
         **Two threads** (shown too): the server on a thread and runtime of its own; {n} \
         requests per side in blocks of {block}.\n\n\
         | side, two threads | median (µs) | p90 (µs) | median ratio vs baseline |\n|---|---|---|---|\n\
         {}\n",
        body.len(),
        table(&one),
        table(&two),
    );
    match &counts {
        Some(c) => {
            let _ = writeln!(
                out,
                "**Instructions per request** (`valgrind --tool=callgrind`, user space of both \
                 ends, one thread; each side alone in a child process (`client child-side`), run \
                 for {} and {} requests, the difference divided by {}, so start-up and warm-up \
                 cancel). Counts do not vary with the machine's load, so these ratios repeat \
                 exactly; they leave out the kernel, and they count a `rep movsb` copy byte \
                 by byte.\n\n\
                 | side | instructions per request | ratio vs baseline |\n|---|---|---|\n\
                 | raw reqwest + `serde_json::from_slice` (baseline) | {:.0} | 1.000 |\n\
                 | raw reqwest + UTF-8 check + `serde_json::from_str` | {:.0} | {:.3} |\n\
                 | generated client | {:.0} | {:.3} |\n\
                 | full client | {:.0} | {:.3} |\n",
                INSTR_RUNS.0,
                INSTR_RUNS.1,
                INSTR_RUNS.1 - INSTR_RUNS.0,
                c[2],
                c[3],
                c[3] / c[2],
                c[1],
                c[1] / c[2],
                c[0],
                c[0] / c[2],
            );
        }
        None if !mode.quick => {
            let _ = writeln!(
                out,
                "**Instructions per request**: not measured (no `valgrind` on this machine).\n"
            );
        }
        None => {}
    }
    let api_ratio = one.api.median / one.raw.median;
    let ratio = one.client.median / one.raw.median;
    let instr = counts.as_ref().map_or(String::new(), |c| {
        format!("; instructions {:.3} / {:.3}", c[1] / c[2], c[0] / c[2])
    });
    summary.push(format!(
        "| 1 | GET latency vs raw reqwest + serde (one thread), generated client / full client | median ratio {api_ratio:.3} / {ratio:.3} ({:.1} / {:.1} µs vs {:.1} µs; {spread}; two threads: {:.3} / {:.3}{instr}) | <= 1.02 | {} / {} |",
        one.api.median,
        one.client.median,
        one.raw.median,
        two.api.median / two.raw.median,
        two.client.median / two.raw.median,
        // Met only if the instruction counts (which do not vary with the
        // machine's load) agree with the medians.
        yes(api_ratio <= 1.02 && counts.as_ref().is_none_or(|c| c[1] / c[2] <= 1.02)),
        yes(ratio <= 1.02 && counts.as_ref().is_none_or(|c| c[0] / c[2] <= 1.02))
    ));
}

/// The request counts of the two callgrind runs per side.
const INSTR_RUNS: (usize, usize) = (200, 1200);

/// Instructions per operation of each of `sides` sides of the child
/// subcommand `sub` (`client SUB SIDE N` does N operations of that side):
/// each side is run under `valgrind --tool=callgrind` for `runs.0` and
/// `runs.1` operations and the difference divided, so that start-up and
/// warm-up cancel. `None` when valgrind is missing or a run fails.
fn callgrind_per_op(sub: &str, sides: usize, runs: (usize, usize)) -> Option<Vec<f64>> {
    let exe = std::env::current_exe().ok()?;
    let total = |side: usize, n: usize| -> Option<f64> {
        let out_file = std::env::temp_dir().join(format!(
            "identifai-bench-callgrind-{}-{sub}-{side}-{n}.out",
            std::process::id()
        ));
        let output = std::process::Command::new("valgrind")
            .arg("--tool=callgrind")
            .arg(format!("--callgrind-out-file={}", out_file.display()))
            .arg(&exe)
            .args([sub, &side.to_string(), &n.to_string()])
            .output()
            .ok()?;
        let _ = std::fs::remove_file(&out_file);
        if !output.status.success() {
            return None;
        }
        let text = String::from_utf8_lossy(&output.stderr);
        let at = text.find("Collected : ")? + "Collected : ".len();
        text[at..].split_whitespace().next()?.parse().ok()
    };
    (0..sides)
        .map(|side| {
            eprintln!("[bench]   callgrind: {sub} {side}");
            let small = total(side, runs.0)?;
            let large = total(side, runs.1)?;
            Some((large - small) / (runs.1 - runs.0) as f64)
        })
        .collect()
}

// ------------------------------------------------------- 2. upload memory

/// A sparse file of `size` bytes that sniffs as video/mp4.
fn sparse_mp4(path: &Path, size: u64) {
    let mut f = std::fs::File::create(path).unwrap();
    f.set_len(size).unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    f.write_all(b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom").unwrap();
}

fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The child: `child-upload <path> <stream|in-memory|idle>`; prints
/// `VmHWM_KIB <n> SECS <s>`.
fn child_upload(args: &[String]) {
    let (path, how) = (&args[0], args[1].as_str());
    let server = MockServer::start_with(
        MockConfig::default()
            .with_rate_limits(None)
            .with_polls_until_done(0),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = Client::builder()
        .api_key(server.api_key())
        .base_url(server.base_url())
        .rate_limits(None)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let t = Instant::now();
    rt.block_on(async {
        let source = match how {
            "stream" => Source::path(path),
            "in-memory" => Source::bytes("video.mp4", tokio::fs::read(path).await.unwrap()),
            "idle" => {
                client.health().await.unwrap();
                return;
            }
            other => panic!("unknown mode {other}"),
        };
        client.classify_video(source).send().await.unwrap();
    });
    let secs = t.elapsed().as_secs_f64();
    let received = server.stats().bytes_received;
    println!(
        "VmHWM_KIB {} SECS {secs:.3} RECEIVED {received}",
        vm_hwm_kib()
    );
}

fn run_child(path: &Path, how: &str) -> (f64, f64, u64) {
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new(exe)
        .args(["child-upload", path.to_str().unwrap(), how])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child-upload {how} failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let words: Vec<&str> = text.split_whitespace().collect();
    let kib: f64 = words[1].parse().unwrap();
    let secs: f64 = words[3].parse().unwrap();
    let received: u64 = words[5].parse().unwrap();
    (kib / 1024.0, secs, received)
}

fn upload_memory(mode: &Mode, out: &mut String, summary: &mut Vec<String>) {
    let sizes: &[u64] = if mode.quick {
        &[16 * MIB, 64 * MIB]
    } else {
        &[256 * MIB, 1024 * MIB]
    };
    let dir = tempfile::tempdir().unwrap();
    let (idle, _, _) = run_child(&dir.path().join("none"), "idle");
    let _ = writeln!(
        out,
        "## 2. Upload memory\n\n\
         Peak RSS (`VmHWM`) of a fresh child process that starts the `MockServer` (which streams \
         and hashes uploads without buffering them) and the client, then submits one sparse \
         video file (`ftyp` header, zeros elsewhere) with `classify_video`. `stream`: \
         `Source::path` (the client streams the file); `in-memory` (baseline): the file read \
         into a `Vec` first, then `Source::bytes`. The same child doing only a health check \
         peaks at **{idle:.1} MiB**.\n\n\
         | file | stream peak (MiB) | in-memory peak (MiB) | stream / in-memory | stream upload (s) | in-memory upload (s) |\n\
         |---|---|---|---|---|---|"
    );
    let mut peaks = Vec::new();
    for &size in sizes {
        let path = dir.path().join(format!("video-{}.mp4", size / MIB));
        sparse_mp4(&path, size);
        let (s_mib, s_secs, s_rx) = run_child(&path, "stream");
        let (m_mib, m_secs, m_rx) = run_child(&path, "in-memory");
        assert_eq!(s_rx, size, "the server received the whole streamed file");
        assert_eq!(m_rx, size, "the server received the whole in-memory file");
        std::fs::remove_file(&path).ok();
        let _ = writeln!(
            out,
            "| {} MiB | {s_mib:.1} | {m_mib:.1} | {:.3} | {s_secs:.2} | {m_secs:.2} |",
            size / MIB,
            s_mib / m_mib
        );
        peaks.push((size, s_mib, m_mib));
    }
    out.push('\n');
    let worst = peaks.iter().map(|p| p.1).fold(0.0, f64::max);
    let spread = peaks.iter().map(|p| p.1).fold(0.0, f64::max)
        - peaks.iter().map(|p| p.1).fold(f64::MAX, f64::min);
    let figures: Vec<String> = peaks
        .iter()
        .map(|(size, s, m)| format!("{} MiB: {s:.1} vs {m:.1} MiB", size / MIB))
        .collect();
    summary.push(format!(
        "| 2 | upload peak RSS, streamed vs in memory | {} (spread {spread:.1} MiB) | <= 64 MiB, size-independent | {} |",
        figures.join("; "),
        yes(worst <= 64.0 && spread <= 8.0)
    ));
}

// ------------------------------------------- 3. batch under the rate limits

/// The earliest the `k`-th (0-based) request can go out, in unscaled
/// seconds, when at most `per_second` fit in any 1 s window and
/// `per_minute` in any 60 s window, the first at 0.
fn earliest(k: usize, per_second: usize, per_minute: usize) -> f64 {
    let mut t: Vec<f64> = Vec::with_capacity(k + 1);
    for i in 0..=k {
        let mut at = 0.0f64;
        if i >= per_second {
            at = at.max(t[i - per_second] + 1.0);
        }
        if i >= per_minute {
            at = at.max(t[i - per_minute] + 60.0);
        }
        if i > 0 {
            at = at.max(t[i - 1]);
        }
        t.push(at);
    }
    t[k]
}

/// One batch: `n` concurrent submissions through one client, then one
/// `wait_all`, against a mock enforcing the published limits at `scale`.
/// Returns (wall s, 429s, results ok, POSTs, GETs).
fn one_batch(n: usize, scale: f64, paced: bool) -> (f64, u64, usize, u64, u64) {
    let server = MockServer::start_with(
        MockConfig::default()
            .with_rate_limits(paced.then_some(identifai::config::RateLimits::PUBLISHED))
            .with_time_scale(scale)
            .with_polls_until_done(1),
    );
    let client = Client::builder()
        .api_key(server.api_key())
        .base_url(server.base_url())
        .rate_limits(paced.then(|| RateLimits::PUBLISHED.with_time_scale(scale)))
        .wait(
            WaitConfig::default()
                .with_deadline(Duration::from_secs(600))
                .with_initial_interval(Duration::from_secs_f64(1.0 * scale))
                .with_max_interval(Duration::from_secs_f64(15.0 * scale))
                .with_multiplier(1.5),
        )
        .build()
        .unwrap();
    let rt = runtime();
    let (wall, results) = rt.block_on(async {
        let t = Instant::now();
        let ids = futures::future::join_all((0..n).map(|i| {
            let client = &client;
            async move {
                client
                    .classify_image(Source::bytes(format!("{i}.png"), png(i as u32)))
                    .send()
                    .await
                    .unwrap()
            }
        }))
        .await;
        let results = client.wait_all(ids).await;
        (t.elapsed(), results)
    });
    let ok = results.iter().filter(|(_, r)| r.is_ok()).count();
    let stats = server.stats();
    (
        wall.as_secs_f64(),
        stats.rate_limited,
        ok,
        stats.posts,
        stats.gets,
    )
}

fn batch(mode: &Mode, out: &mut String, summary: &mut Vec<String>) {
    // N <= 10 at real time, the rest compressed.
    let compressed = if mode.quick { 0.05 } else { 0.2 };
    let runs: Vec<(usize, f64)> = if mode.quick {
        vec![(1, 1.0), (2, 1.0), (10, compressed), (31, compressed)]
    } else {
        vec![
            (1, 1.0),
            (2, 1.0),
            (10, 1.0),
            (30, compressed),
            (31, compressed),
            (100, compressed),
            (200, compressed),
        ]
    };
    let _ = writeln!(
        out,
        "## 3. Batch under the published rate limits, for every N\n\n\
         N image submissions (distinct bytes, sent concurrently through one client, which \
         paces them) then one `wait_all`, against a `MockServer` enforcing the published limits \
         (POST 1/s and 30/min, GET 2/s and 60/min, sliding windows) at `time_scale` s \
         (N <= 10 at real time, s = 1; the rest at s = {compressed}), `polls_until_done = 1`; the \
         client paces with `RateLimits::PUBLISHED.with_time_scale(s)` (exact windows, 5 ms absolute \
         headroom).\n\n\
         **Lower bound.** POST k (k = 0..N-1, the first at 0) goes out no earlier than POST k-1 \
         + 1 s and POST k-30 + 60 s: t(k) = k + 30·⌊k/30⌋ s. Its result then needs one GET \
         answering `new` and one `done`, which the 2/s window lets go at once. Bound = \
         t(N-1) × s + the round trip of the same batch of N with pacing off, against a mock \
         with no limits, measured in this run (so N = 1 compares the paced client with itself \
         unpaced).\n\n\
         | N | s | wall | bound | wall / bound | 429s | results | POSTs / GETs |\n|---|---|---|---|---|---|---|---|"
    );
    let mut worst = 0.0f64;
    let mut all_clean = true;
    for &(n, scale) in &runs {
        eprintln!("[bench]   batch N = {n} at x{scale}");
        let (unpaced, _, _, _, _) = one_batch(n, scale, false);
        let (wall, limited, ok, posts, gets) = one_batch(n, scale, true);
        let bound = earliest(n - 1, 1, 30) * scale + unpaced;
        let ratio = wall / bound;
        worst = worst.max(ratio);
        all_clean &= limited == 0 && ok == n;
        let _ = writeln!(
            out,
            "| {n} | {scale} | {wall:.3} s | {bound:.3} s | {ratio:.3} | {limited} | {ok} / {n} | {posts} / {gets} |"
        );
    }
    out.push('\n');
    summary.push(format!(
        "| 3 | batches of N = {} under the published limits | worst wall/bound {worst:.3}; 429s: {} | <= 1.05, zero 429s | {} |",
        runs.iter().map(|r| r.0.to_string()).collect::<Vec<_>>().join(", "),
        if all_clean { "none" } else { "some" },
        yes(worst <= 1.05 && all_clean)
    ));
}

// --------------------------------------------------------------- 4. decode

/// The decode fixture of section 4: a 111 KiB `ImageResponse`.
fn decode_fixture() -> bytes::Bytes {
    bytes::Bytes::from(serde_json::to_vec(&image_response(50, 20, 100, 5)).unwrap())
}

/// The decode runs of section 4 under callgrind.
const DECODE_RUNS: (usize, usize) = (5, 25);

/// One side of section 4: its name, and one decode (the value dropped
/// inside).
type DecodeSide<'a> = (&'a str, Box<dyn Fn() + 'a>);

/// The sides of section 4, on the fixture as `text` and as `body`; the
/// timing and the callgrind children (`child-decode`) run the same ones.
///
/// Side 0 is the goal's baseline: the issue's own reference ("one UTF-8
/// check and `from_str`", measured from the bytes received with the
/// standard library's check). Side 2, bare `from_str` on text checked before
/// the clock started, is the floor no bytes-in decode can pass: it is shown,
/// with its ratio, but is not the goal.
fn decode_sides<'a>(text: &'a str, body: &'a bytes::Bytes) -> Vec<DecodeSide<'a>> {
    vec![
        (
            "`std::str::from_utf8` + `serde_json::from_str` on the bytes (the issue's reference; baseline)",
            Box::new(move || {
                let text = std::str::from_utf8(std::hint::black_box(body)).unwrap();
                let v: ImageResponse = serde_json::from_str(text).unwrap();
                drop(std::hint::black_box(v));
            }),
        ),
        (
            "the client's decode (`identifai::api::decode_json`: one `simdutf8` check + `from_str`)",
            Box::new(move || {
                let v: ImageResponse =
                    identifai::api::decode_json(std::hint::black_box(body)).unwrap();
                drop(std::hint::black_box(v));
            }),
        ),
        (
            "bare `serde_json::from_str` on text already known to be UTF-8 (floor, no check)",
            Box::new(move || {
                let v: ImageResponse = serde_json::from_str(std::hint::black_box(text)).unwrap();
                drop(std::hint::black_box(v));
            }),
        ),
        (
            "`serde_json::from_slice` on the bytes (progenitor's `from_response`, reqwest's `json`)",
            Box::new(move || {
                let v: ImageResponse = serde_json::from_slice(std::hint::black_box(body)).unwrap();
                drop(std::hint::black_box(v));
            }),
        ),
        (
            "`Classified<ImageResponse>` (typed + raw JSON kept: `client.image_result`)",
            Box::new(move || {
                let v = identifai::Classified::<ImageResponse>::from_json(std::hint::black_box(
                    text,
                ))
                .unwrap();
                drop(std::hint::black_box(v));
            }),
        ),
        (
            "`serde_json::Value`",
            Box::new(move || {
                let v: Value = serde_json::from_str(std::hint::black_box(text)).unwrap();
                drop(std::hint::black_box(v));
            }),
        ),
    ]
}

/// The sides of `decode_sides` counted with callgrind: the reference, the
/// client's decode, bare `from_str`, `from_slice`.
const DECODE_COUNTED: [usize; 4] = [0, 1, 2, 3];

/// `client child-decode K N`: N decodes of the fixture by the `K`th side
/// of [`DECODE_COUNTED`]; nothing printed.
fn child_decode(args: &[String]) {
    let k: usize = args[0].parse().unwrap();
    let n: usize = args[1].parse().unwrap();
    let body = decode_fixture();
    let text = std::str::from_utf8(&body).unwrap().to_string();
    let sides = decode_sides(&text, &body);
    for _ in 0..n {
        (sides[DECODE_COUNTED[k]].1)();
    }
}

/// The median of `xs` (NaN when empty).
fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    percentile(&xs, 0.5)
}

fn decode(mode: &Mode, out: &mut String, summary: &mut Vec<String>) {
    let (rounds, block) = if mode.quick { (10, 5) } else { (120, 20) };
    let body = decode_fixture();
    // It must decode, and keep what it was given.
    let typed: ImageResponse = identifai::api::decode_json(&body).expect("the fixture decodes");
    assert_eq!(typed.verdicts.len(), 50);
    assert_eq!(typed.results.len(), 20);
    assert_eq!(
        typed
            .details
            .iter()
            .map(|d| d.detections.len())
            .sum::<usize>(),
        100
    );
    let text = std::str::from_utf8(&body).unwrap().to_string();
    // The sides, interleaved in a rotating order. Each round keeps each
    // side's block median, so that a side can be compared with the
    // baseline round by round (paired): a machine whose speed drifts
    // moves both blocks of a round alike.
    let sides = decode_sides(&text, &body);
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); sides.len()];
    let mut blocks: Vec<Vec<f64>> = vec![Vec::new(); sides.len()];
    for round in 0..rounds {
        for k in 0..sides.len() {
            let i = (round + k) % sides.len();
            let mut this = Vec::with_capacity(block);
            for _ in 0..block {
                let t = Instant::now();
                (sides[i].1)();
                this.push(t.elapsed().as_secs_f64() * 1e6);
            }
            times[i].extend_from_slice(&this);
            blocks[i].push(median(this));
        }
    }
    // Speed of side `i` against side `against`: the median over rounds of
    // the ratio of their block medians.
    let paired = |i: usize, against: usize| {
        median(
            blocks[against]
                .iter()
                .zip(&blocks[i])
                .map(|(b, s)| b / s)
                .collect(),
        )
    };
    let n = times[0].len();
    let stats: Vec<Stats> = times.into_iter().map(stats).collect();
    let _ = writeln!(
        out,
        "## 4. Decode\n\n\
         One `ImageResponse` of {} KiB (50 verdicts, 20 model results, 100 object detections \
         with 3 model results each, C2PA with 5 manifests of 8 assertions and 2 ingredients, \
         10 validation statuses, 20 validation successes), built in code, decoded into the \
         generated `ImageResponse` ({n} decodes per side in {rounds} rounds, the sides \
         interleaved in blocks of {block} with a rotating order; the value is dropped inside \
         the timing). Speed = the median over rounds of (baseline block median / side block \
         median); >= 1 means not slower. The baseline is the issue's reference, \"one UTF-8 \
         check and `from_str`\" on the bytes received. Bare `from_str` is handed text that \
         was checked before the clock started: it is the floor for any decode that starts \
         from bytes, shown in its own column.\n\n\
         | decode | median (µs) | p90 (µs) | speed vs the reference | speed vs bare `from_str` |\n\
         |---|---|---|---|---|",
        body.len() / 1024
    );
    for (i, (side, st)) in sides.iter().zip(&stats).enumerate() {
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.1} | {:.3} | {:.3} |",
            side.0,
            st.median,
            st.p90,
            paired(i, 0),
            paired(i, 2)
        );
    }
    out.push('\n');
    let counts = if mode.quick {
        None
    } else {
        callgrind_per_op("child-decode", DECODE_COUNTED.len(), DECODE_RUNS)
    };
    let instr = match &counts {
        Some(c) => {
            let _ = writeln!(
                out,
                "**Instructions per decode** (`valgrind --tool=callgrind`; each side alone in a \
                 child process (`client child-decode`), {} and {} decodes, the difference \
                 divided by {}). Speed = baseline instructions / side instructions.\n\n\
                 | decode | instructions | speed vs the reference | speed vs bare `from_str` |\n|---|---|---|---|\n\
                 | `std::str::from_utf8` + `from_str` (the reference; baseline) | {:.0} | 1.0000 | {:.4} |\n\
                 | the client's decode (`decode_json`: `simdutf8` check + `from_str`) | {:.0} | {:.4} | {:.4} |\n\
                 | bare `from_str` on checked text (floor) | {:.0} | {:.4} | 1.0000 |\n\
                 | `serde_json::from_slice` on the bytes | {:.0} | {:.4} | {:.4} |\n",
                DECODE_RUNS.0,
                DECODE_RUNS.1,
                DECODE_RUNS.1 - DECODE_RUNS.0,
                c[0],
                c[2] / c[0],
                c[1],
                c[0] / c[1],
                c[2] / c[1],
                c[2],
                c[0] / c[2],
                c[3],
                c[0] / c[3],
                c[2] / c[3],
            );
            format!(
                "; instructions {:.4} (vs bare `from_str`: {:.4})",
                c[0] / c[1],
                c[2] / c[1]
            )
        }
        None => String::new(),
    };
    let speed = paired(1, 0);
    summary.push(format!(
        "| 4 | decode a {} KiB `ImageResponse` from the bytes received: the client's decode vs the issue's reference (UTF-8 check + `serde_json::from_str`) | speed {speed:.3} ({:.1} µs vs {:.1} µs; vs bare `from_str` on checked text: {:.3}; `from_slice`: {:.3}{instr}) | >= 1.0 | {} |",
        body.len() / 1024,
        stats[1].median,
        stats[0].median,
        paired(1, 2),
        paired(3, 0),
        // Met only if the instruction counts agree with the medians: a
        // median within noise of 1.0 is not enough.
        yes(speed >= 1.0 && counts.as_ref().is_none_or(|c| c[0] / c[1] >= 1.0))
    ));
}

// ---------------------------------------------------------------- 5. fleet

fn unix_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// The child: `child-fleet <base URL> <key> <redis URL | local> <scale>
/// <worker> <n>`. Builds its client, prints `ready`, waits for a line on
/// stdin, submits `n` images at once, and prints `GO <µs> LAST <µs> OK <n>
/// ERR <n>` (wall-clock microseconds: the processes share the machine's
/// clock).
fn child_fleet(args: &[String]) {
    let (base, key, pacer) = (&args[0], &args[1], args[2].as_str());
    let scale: f64 = args[3].parse().unwrap();
    let worker: u32 = args[4].parse().unwrap();
    let n: u32 = args[5].parse().unwrap();
    let pacer = if pacer == "local" {
        identifai::config::Pacer::local()
    } else {
        identifai::config::Pacer::redis(pacer).unwrap()
    };
    let client = Client::builder()
        .api_key(key)
        .base_url(base)
        .rate_limits(Some(RateLimits::PUBLISHED.with_time_scale(scale)))
        .pacer(pacer)
        .retry(
            RetryConfig::default()
                .with_initial_backoff(Duration::from_millis(500).mul_f64(scale))
                .with_max_backoff(Duration::from_secs(20).mul_f64(scale))
                .with_max_elapsed(Duration::from_secs(600)),
        )
        .build()
        .unwrap();
    let rt = runtime();
    println!("ready");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    let go = unix_micros();
    let results = rt.block_on(futures::future::join_all((0..n).map(|i| {
        let client = &client;
        async move {
            client
                .classify_image(Source::bytes(
                    format!("{worker}-{i}.png"),
                    png(10_000 * (worker + 1) + i),
                ))
                .send()
                .await
        }
    })));
    let last = unix_micros();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
        eprintln!("[bench] worker {worker}: {e}");
    }
    println!("GO {go} LAST {last} OK {ok} ERR {}", results.len() - ok);
}

struct FleetRun {
    wall: f64,
    limited: u64,
    ok: usize,
    posts: u64,
}

/// `workers` child processes of `each` submissions on one key against one
/// mock enforcing the published limits at `scale`, pacing through `pacer`
/// (a Redis URL, or `local`).
fn fleet_run(workers: u32, each: u32, scale: f64, pacer: &str) -> FleetRun {
    use std::io::BufRead;
    let server = MockServer::start_with(
        MockConfig::default()
            .with_rate_limits(Some(identifai::config::RateLimits::PUBLISHED))
            .with_time_scale(scale),
    );
    let exe = std::env::current_exe().unwrap();
    let mut children: Vec<_> = (0..workers)
        .map(|w| {
            std::process::Command::new(&exe)
                .args(["child-fleet", &server.base_url(), server.api_key(), pacer])
                .args([scale.to_string(), w.to_string(), each.to_string()])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut outs: Vec<_> = children
        .iter_mut()
        .map(|c| std::io::BufReader::new(c.stdout.take().unwrap()))
        .collect();
    for o in &mut outs {
        let mut line = String::new();
        o.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "a fleet child did not start");
    }
    for c in &mut children {
        writeln!(c.stdin.as_mut().unwrap(), "go").unwrap();
    }
    let (mut first, mut last, mut ok) = (u64::MAX, 0u64, 0usize);
    for (c, o) in children.iter_mut().zip(&mut outs) {
        let mut line = String::new();
        o.read_line(&mut line).unwrap();
        assert!(c.wait().unwrap().success(), "a fleet child failed: {line}");
        let w: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(w.first(), Some(&"GO"), "a fleet child said {line:?}");
        first = first.min(w[1].parse().unwrap());
        last = last.max(w[3].parse().unwrap());
        ok += w[5].parse::<usize>().unwrap();
    }
    let stats = server.stats();
    FleetRun {
        wall: last.saturating_sub(first) as f64 / 1e6,
        limited: stats.rate_limited,
        ok,
        posts: stats.posts,
    }
}

fn fleet(mode: &Mode, out: &mut String, summary: &mut Vec<String>) {
    let (workers, each, scale) = if mode.quick {
        (4, 5, 0.05)
    } else {
        (4, 25, 0.1)
    };
    let total = (workers * each) as usize;
    let bound = earliest(total - 1, 1, 30) * scale;
    let Some(redis) = RedisServer::try_start().ok() else {
        eprintln!("[bench]   no redis-server: fleet skipped");
        let _ = writeln!(
            out,
            "## 5. Fleet on one key\n\nSkipped: `redis-server` is not installed \
             (`apt-get install redis-server`).\n"
        );
        summary.push("| 5 | fleet through Redis | skipped: no `redis-server` | | **no** |".into());
        return;
    };
    eprintln!("[bench]   fleet through Redis, {workers} x {each} at x{scale}");
    let shared = fleet_run(workers, each, scale, &redis.url());
    eprintln!("[bench]   fleet pacing alone (control)");
    let alone = fleet_run(workers, each, scale, "local");
    drop(redis);
    let ratio = shared.wall / bound;
    let met = shared.limited == 0 && shared.ok == total && ratio <= 1.10;
    let _ = writeln!(
        out,
        "## 5. Fleet on one key\n\n\
         {workers} processes (the bench re-executing itself: `client child-fleet ...`) each \
         submit {each} distinct images at once, on one API key, against one `MockServer` (in \
         the parent process) enforcing the published limits at `time_scale` {scale}; each \
         builds its own client with `RateLimits::PUBLISHED.with_time_scale({scale})`, retries \
         scaled the same way (429s retried within 600 s). **Shared**: every process paces \
         through `Pacer::redis` on a `redis-server` the bench starts on a loopback port. \
         **Alone** (the control): each process paces in-process, as if it were alone on the \
         key. Wall = from the start signal (sent to all at once) to the last answer in any \
         process (the processes' wall clocks). Bound: the {total} POSTs one after the other at \
         the earliest the limits allow, t({}) = {:.0} s, × {scale} = {bound:.3} s.\n\n\
         | pacing | wall | bound | wall / bound | 429s | accepted | POSTs |\n|---|---|---|---|---|---|---|\n\
         | shared, Redis | {:.3} s | {bound:.3} s | {ratio:.3} | {} | {} / {total} | {} |\n\
         | alone, in-process (control) | {:.3} s | {bound:.3} s | {:.3} | {} | {} / {total} | {} |\n",
        total - 1,
        earliest(total - 1, 1, 30),
        shared.wall,
        shared.limited,
        shared.ok,
        shared.posts,
        alone.wall,
        alone.wall / bound,
        alone.limited,
        alone.ok,
        alone.posts,
    );
    summary.push(format!(
        "| 5 | fleet: {workers} processes x {each} submissions on one key, Redis pacer (control: each alone) | wall/bound {ratio:.3}, {} 429s (control: {:.3}, {} 429s) | <= 1.10, zero 429s | {} |",
        shared.limited,
        alone.wall / bound,
        alone.limited,
        yes(met)
    ));
}

// ------------------------------------- 6. verdict latency: done to delivered

/// The `identifai` binary built with this harness (feature `cli`: `cargo
/// xtask bench` asks for it).
const IDENTIFAI: Option<&str> = option_env!("CARGO_BIN_EXE_identifai");

/// The section's mock: the published limits, results done 5-40 s after
/// their upload (fixed by each file's hash), everything at `scale`.
fn latency_mock(scale: f64) -> MockServer {
    MockServer::start_with(
        MockConfig::default()
            .with_rate_limits(Some(RateLimits::PUBLISHED))
            .with_time_scale(scale)
            .with_processing_time(Duration::from_secs(5), Duration::from_secs(40)),
    )
}

/// `n` distinct media files (`f0000.png`, ...) in a fresh directory: all
/// images, or with `videos` every other one a (tiny) MP4 video.
fn media_dir(n: usize, seed: u32, videos: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..n {
        let bytes = png(seed + i as u32);
        if videos && i % 2 == 1 {
            let mut mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
            mp4.extend_from_slice(&bytes);
            std::fs::write(dir.path().join(format!("f{i:04}.mp4")), mp4).unwrap();
        } else {
            std::fs::write(dir.path().join(format!("f{i:04}.png")), bytes).unwrap();
        }
    }
    dir
}

/// The client before the poller, as `client child-oldwait <base URL> <key>
/// <scale> <redis URL | local> <dir> <out>`: the PNG (and MP4) files of
/// `dir` in name order, at most 4 from upload to verdict (the old `batch`'s
/// `--concurrency 4`), each wait polling its own identifier
/// (`client.image_result`) at once, then after 1 s growing 1.5x to 15 s
/// (scaled), as the old `Client::wait` did. Each verdict is appended to
/// `out` and synced (as `batch`'s journal is), then printed as a JSON line.
fn child_oldwait(args: &[String]) {
    use futures::StreamExt;
    let (base, key) = (&args[0], &args[1]);
    let scale: f64 = args[2].parse().unwrap();
    let pacer = args[3].as_str();
    let (dir, out) = (Path::new(&args[4]), Path::new(&args[5]));
    // The CLI's own settings at `--rate-scale scale`.
    let pacer = if pacer == "local" {
        identifai::config::Pacer::local()
    } else {
        identifai::config::Pacer::redis(pacer).unwrap()
    };
    let retry = RetryConfig::default().scaled(scale);
    let budget = retry.max_elapsed().max(Duration::from_secs(5));
    let client = Client::builder()
        .api_key(key.as_str())
        .base_url(base.as_str())
        .rate_limits(Some(RateLimits::PUBLISHED.with_time_scale(scale)))
        .pacer(pacer)
        .retry(retry.with_max_elapsed(budget))
        .build()
        .unwrap();
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png" || e == "mp4"))
        .collect();
    files.sort();
    let journal = std::sync::Mutex::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(out)
            .unwrap(),
    );
    let (first, longest) = (
        Duration::from_secs(1).mul_f64(scale),
        Duration::from_secs(15).mul_f64(scale),
    );
    let one = |path: std::path::PathBuf| {
        let (client, journal) = (&client, &journal);
        async move {
            let shown = path.display().to_string();
            let video = path.extension().is_some_and(|e| e == "mp4");
            let waited = async {
                let id = if video {
                    client.classify_video(Source::path(&path)).send().await?
                } else {
                    client.classify_image(Source::path(&path)).send().await?
                };
                let mut pause = first;
                loop {
                    // (status, whether it has a verdict) of one GET.
                    let (status, verdict) = if video {
                        let r = client.video_result(&id).await?;
                        (r.status.clone(), r.verdict.is_some())
                    } else {
                        let r = client.image_result(&id).await?;
                        (r.status.clone(), r.verdict.is_some())
                    };
                    if !identifai::kinds::is_pending(status.as_ref(), verdict) {
                        let status = status.map_or("done".into(), |s| s.to_string());
                        return Ok::<_, identifai::Error>((id, status));
                    }
                    tokio::time::sleep(pause).await;
                    pause = pause.mul_f64(1.5).min(longest);
                }
            };
            let line = match waited.await {
                Ok((id, status)) => {
                    json!({ "path": shown, "identifier": id.to_string(), "status": status })
                }
                Err(e) => json!({ "path": shown, "status": "error", "error": e.to_string() }),
            }
            .to_string();
            let mut file = journal.lock().unwrap();
            file.write_all(format!("{line}\n").as_bytes()).unwrap();
            file.sync_data().unwrap();
            println!("{line}");
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(
        futures::stream::iter(files)
            .map(one)
            .buffer_unordered(4)
            .collect::<Vec<()>>(),
    );
}

/// What one process printed on stdout, each line with when it was read.
struct Printed {
    lines: Vec<(Instant, String)>,
    stderr: String,
    status: std::process::ExitStatus,
}

/// Starts every command at once and waits for all; the wall time from the
/// first start to the last exit.
fn run_all(mut commands: Vec<std::process::Command>) -> (Duration, Vec<Printed>) {
    use std::io::{BufRead, Read};
    use std::process::Stdio;
    let start = Instant::now();
    let running: Vec<_> = commands
        .iter_mut()
        .map(|c| {
            let mut child = c
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let out = child.stdout.take().unwrap();
            let mut err = child.stderr.take().unwrap();
            let lines = std::thread::spawn(move || {
                std::io::BufReader::new(out)
                    .lines()
                    .map_while(Result::ok)
                    .map(|l| (Instant::now(), l))
                    .collect::<Vec<_>>()
            });
            let stderr = std::thread::spawn(move || {
                let mut s = String::new();
                let _ = err.read_to_string(&mut s);
                s
            });
            (child, lines, stderr)
        })
        .collect();
    let mut printed = Vec::new();
    for (mut child, lines, stderr) in running {
        let status = child.wait().unwrap();
        printed.push(Printed {
            lines: lines.join().unwrap(),
            stderr: stderr.join().unwrap(),
            status,
        });
    }
    (start.elapsed(), printed)
}

/// Which client a run measures.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    /// Per-wait polling with a backoff (`child-oldwait`).
    Before,
    /// The real `identifai` binary: its one poller.
    After,
}

/// The command of one process: `identifai batch` (`classify` when
/// `classify`) on `dir` against `server`, or the old client's child.
fn latency_command(
    side: Side,
    server: &MockServer,
    scale: f64,
    pacer: Option<&str>,
    dir: &Path,
    out: &Path,
    classify: bool,
) -> std::process::Command {
    match side {
        Side::Before => {
            let mut c = std::process::Command::new(std::env::current_exe().unwrap());
            c.args(["child-oldwait", &server.base_url(), server.api_key()])
                .arg(scale.to_string())
                .arg(pacer.unwrap_or("local"))
                .arg(dir)
                .arg(out);
            c
        }
        Side::After => {
            let mut c = std::process::Command::new(IDENTIFAI.unwrap());
            c.env("IDENTIFAI_API_KEY", server.api_key())
                .env("IDENTIFAI_BASE_URL", server.base_url())
                .env_remove("IDENTIFAI_PACER_URL")
                .env_remove("IDENTIFAI_RATE_SCALE")
                .env("NO_COLOR", "1")
                .args(["--json", "--rate-scale", &scale.to_string()]);
            if let Some(url) = pacer {
                c.args(["--pacer", url]);
            }
            if classify {
                c.arg("classify").arg(dir.join("f0000.png"));
            } else {
                c.arg("batch").arg(dir).arg("--out").arg(out);
            }
            c
        }
    }
}

/// The figures of one or more runs of one side, in unscaled seconds.
#[derive(Default)]
struct Latency {
    /// Sum of the runs' walls (first process started to last exited).
    wall: f64,
    /// Sum of the runs' floors.
    floor: f64,
    /// Per verdict: when its line was read minus when the mock marked it done.
    overheads: Vec<f64>,
    /// Per verdict: from done to the first answer that showed it (the wait
    /// for a poll), and from that answer to its line (the client's own
    /// handling: decode, journal, print).
    polled: Vec<f64>,
    handled: Vec<f64>,
    files: usize,
    verdicts: usize,
    /// Files that ended in an error (no verdict).
    failed: usize,
    gets: u64,
    limited: u64,
}

impl Latency {
    /// Adds one run: `printed` by its processes against `server`, `files`
    /// inputs in all.
    fn add(
        &mut self,
        server: &MockServer,
        scale: f64,
        wall: Duration,
        printed: &[Printed],
        files: usize,
    ) {
        let mut taken = Vec::new();
        let mut failed = 0;
        for p in printed {
            for (at, line) in &p.lines {
                let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
                // A file that failed is counted, and reported, not timed.
                if v["status"] != "done" {
                    eprintln!("[bench]   a file failed: {}", v["error"]);
                    failed += 1;
                    continue;
                }
                let id = v["identifier"]
                    .as_str()
                    .unwrap_or_else(|| panic!("no identifier: {line}"));
                let done = server
                    .done_at(id)
                    .unwrap_or_else(|| panic!("{id} is not done"));
                let accepted = server.accepted_at(id).unwrap();
                let told = server.told_at(id).unwrap();
                let secs = |from: Instant, to: Instant| {
                    to.saturating_duration_since(from).as_secs_f64() / scale
                };
                self.overheads.push(secs(done, *at));
                self.polled.push(secs(done, told));
                self.handled.push(secs(told, *at));
                taken.push((accepted, (done - accepted).as_secs_f64() / scale));
                self.verdicts += 1;
            }
        }
        // Exit 1 is what a batch with failed files ends with.
        for p in printed {
            let code = p.status.code();
            assert!(
                code == Some(0) || (code == Some(1) && failed > 0),
                "a latency run failed ({}): {}",
                p.status,
                p.stderr
            );
        }
        assert_eq!(taken.len() + failed, files, "lines of a run of {files}");
        self.failed += failed;
        // The upload taken k-th cannot go before t(k); its verdict cannot be
        // had before t(k) + its processing time + (at worst) one poll round.
        taken.sort_by_key(|t| t.0);
        let floor = taken
            .iter()
            .enumerate()
            .map(|(k, (_, took))| earliest(k, 1, 30) + took)
            .fold(0.0, f64::max)
            + 1.0;
        let stats = server.stats();
        self.wall += wall.as_secs_f64() / scale;
        self.floor += floor;
        self.files += files;
        self.gets += stats.gets;
        self.limited += stats.rate_limited;
    }

    fn ratio(&self) -> f64 {
        self.wall / self.floor
    }

    fn sorted(&self) -> Vec<f64> {
        let mut v = self.overheads.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    fn median(&self) -> f64 {
        middle(&self.sorted())
    }

    fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(f64::NAN)
    }

    fn gets_per_file(&self) -> f64 {
        self.gets as f64 / self.files as f64
    }

    /// The row's figures: wall / floor, overheads, GETs per file, 429s,
    /// verdicts.
    fn cells(&self) -> String {
        let v = self.sorted();
        format!(
            "{:.0} s / {:.0} s = {:.2} | {:.2} / {:.2} / {:.2} s | {:.1} | {} | {} / {}",
            self.wall,
            self.floor,
            self.ratio(),
            middle(&v),
            percentile(&v, 0.9),
            self.max(),
            self.gets_per_file(),
            self.limited,
            self.verdicts,
            self.files
        )
    }
}

/// The median of sorted values: the middle one, or the mean of the two.
fn middle(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Median / max of `values`.
fn median_max(values: &[f64]) -> String {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    format!(
        "{:.2} / {:.2} s",
        middle(&v),
        v.last().copied().unwrap_or(f64::NAN)
    )
}

/// One run of `side`: `workers` processes, each on its own `each` files
/// (`classify`: one process, one file), against a fresh mock.
#[allow(clippy::too_many_arguments)]
fn latency_run(
    side: Side,
    scale: f64,
    workers: usize,
    each: usize,
    seed: u32,
    classify: bool,
    videos: bool,
    into: &mut Latency,
) {
    let server = latency_mock(scale);
    // A fresh Redis per run: the last run's send times must not pace this one.
    let redis = (workers > 1).then(|| RedisServer::try_start().expect("redis-server"));
    let dirs: Vec<_> = (0..workers)
        .map(|w| media_dir(each, seed + 1000 * w as u32, videos))
        .collect();
    let outs = tempfile::tempdir().unwrap();
    let commands = dirs
        .iter()
        .enumerate()
        .map(|(w, dir)| {
            let out = outs.path().join(format!("out-{w}.jsonl"));
            let url = redis.as_ref().map(RedisServer::url);
            latency_command(
                side,
                &server,
                scale,
                url.as_deref(),
                dir.path(),
                &out,
                classify,
            )
        })
        .collect();
    let (wall, printed) = run_all(commands);
    into.add(&server, scale, wall, &printed, workers * each);
}

/// `run` for the baseline, then for the real client.
fn pair(label: String, n: Option<usize>, goal: bool, run: &dyn Fn(Side, &mut Latency)) -> Measured {
    let (mut before, mut after) = (Latency::default(), Latency::default());
    run(Side::Before, &mut before);
    run(Side::After, &mut after);
    Measured {
        label,
        n,
        goal,
        before,
        after,
    }
}

/// One run of section 6, before and after.
struct Measured {
    label: String,
    /// Files per run of `batch` (`None`: `classify`).
    n: Option<usize>,
    /// Whether the goals are set for it.
    goal: bool,
    before: Latency,
    after: Latency,
}

fn latency(mode: &Mode, out: &mut String, summary: &mut Vec<String>) {
    if IDENTIFAI.is_none() {
        eprintln!("[bench]   no identifai binary (feature cli): skipped");
        let _ = writeln!(
            out,
            "## 6. Verdict latency\n\nSkipped: the harness was built without feature `cli` \
             (`cargo xtask bench` builds it with it).\n"
        );
        summary.push("| 6 | verdict latency | skipped: no `identifai` binary | | **no** |".into());
        return;
    }
    let (scale, classify_runs, sizes, fleet_each, mixed): (f64, u32, &[usize], usize, usize) =
        if mode.quick {
            (0.02, 2, &[1, 10], 3, 10)
        } else {
            (0.1, 10, &[1, 10, 100, 300], 25, 100)
        };
    let redis = RedisServer::try_start().ok().map(drop).is_some();
    let mut measured: Vec<Measured> = Vec::new();
    let workers = 4;
    let fleet_n = workers * fleet_each;
    // The fleet first: four processes and Redis on a 2-core machine are
    // the most sensitive to other work, which a long bench invites later.
    let fleet_run = if redis {
        eprintln!("[bench]   batch, {workers} processes x {fleet_each} through Redis at x{scale}");
        Some(pair(
            format!("`batch`, {workers} processes x {fleet_each} (N = {fleet_n}) through Redis"),
            Some(fleet_n),
            true,
            &|side, into| {
                latency_run(
                    side, scale, workers, fleet_each, 9_000_000, false, false, into,
                )
            },
        ))
    } else {
        eprintln!("[bench]   no redis-server: the fleet run skipped");
        None
    };

    eprintln!("[bench]   classify, {classify_runs} runs at x{scale}");
    // Run by run, each side of a run against the same file (a fresh mock).
    let (mut before, mut after) = (Latency::default(), Latency::default());
    for r in 0..classify_runs {
        let seed = 7_000_000 + 10 * r;
        latency_run(Side::Before, scale, 1, 1, seed, true, false, &mut before);
        latency_run(Side::After, scale, 1, 1, seed, true, false, &mut after);
    }
    measured.push(Measured {
        label: format!("`classify`, 1 file ({classify_runs} runs)"),
        n: None,
        goal: true,
        before,
        after,
    });
    for (i, &n) in sizes.iter().enumerate() {
        // One file is one verdict: run it as often as `classify`, for a median.
        let runs = if n == 1 { classify_runs } else { 1 };
        eprintln!("[bench]   batch N = {n} at x{scale}, {runs} run(s)");
        let seed = 1_000_000 * (i as u32 + 1);
        let label = if runs == 1 {
            format!("`batch`, N = {n}")
        } else {
            format!("`batch`, N = {n} ({runs} runs)")
        };
        measured.push(pair(label, Some(n), true, &|side, into| {
            for r in 0..runs {
                latency_run(side, scale, 1, n, seed + 10 * r, false, false, into);
            }
        }));
    }
    if let Some(fleet) = fleet_run {
        measured.push(fleet);
    }
    eprintln!("[bench]   batch N = {mixed}, half of them videos, at x{scale}");
    measured.push(pair(
        format!("`batch`, N = {mixed}, every other file a video (outside the goals)"),
        Some(mixed),
        false,
        &|side, into| latency_run(side, scale, 1, mixed, 5_000_000, false, true, into),
    ));

    let (mut rows, mut splits) = (Vec::new(), Vec::new());
    for m in &measured {
        rows.push(format!(
            "| {} | before: per-wait polling | {} |",
            m.label,
            m.before.cells()
        ));
        rows.push(format!("| | after: the poller | {} |", m.after.cells()));
        for (side, l) in [("before", &m.before), ("after", &m.after)] {
            let first = if side == "before" {
                m.label.as_str()
            } else {
                ""
            };
            splits.push(format!(
                "| {first} | {side} | {} | {} | {:.1} |",
                median_max(&l.polled),
                median_max(&l.handled),
                l.gets as f64 / (l.wall / 60.0),
            ));
        }
    }
    // The goals, on the after side of the runs they are set for.
    let goal_runs: Vec<&Measured> = measured.iter().filter(|m| m.goal).collect();
    let batches: Vec<&&Measured> = goal_runs
        .iter()
        .filter(|m| m.n.is_some_and(|n| n >= 10))
        .collect();
    let worst_wall = batches.iter().map(|m| m.after.ratio()).fold(0.0, f64::max);
    let worst_median = goal_runs
        .iter()
        .map(|m| m.after.median())
        .fold(0.0, f64::max);
    let worst_max = goal_runs.iter().map(|m| m.after.max()).fold(0.0, f64::max);
    let large: Vec<&&Measured> = goal_runs
        .iter()
        .filter(|m| m.n.is_some_and(|n| n >= 100))
        .collect();
    let worst_gets = large
        .iter()
        .map(|m| m.after.gets_per_file())
        .fold(0.0, f64::max);
    let limited: u64 = goal_runs.iter().map(|m| m.after.limited).sum();
    let wall_met = !batches.is_empty() && worst_wall <= 1.05;
    let latency_met = worst_median <= 0.6 && worst_max <= 1.5;
    let gets_met = large.is_empty() || worst_gets <= 2.5;
    let failed: usize = goal_runs.iter().map(|m| m.after.failed).sum();
    let _ = writeln!(
        out,
        "## 6. Verdict latency: from done at identifAI to the user\n\n\
         The real `identifai` binary (built with the harness) against a `MockServer` enforcing \
         the published limits, whose results turn `done` 5-40 s after their upload (each at a \
         time fixed by its file's hash: `MockConfig::with_processing_time`), everything at \
         time scale **x{scale}** (5-40 s take {:.2}-{:.2} s; the client runs with \
         `--rate-scale {scale}`). Figures are scaled back to real seconds (divided by {scale}). \
         **After**: `identifai --json batch DIR --out FILE` (default `--concurrency 4`), or \
         `identifai --json classify FILE`: every wait joins the client's one poller (list GETs \
         of 100, a round per second). **Before** (the baseline, same files, a fresh mock): the \
         client before the poller, re-created by the harness as a process of its own \
         (`client child-oldwait`): at most 4 files from upload to verdict, each wait polling \
         its own identifier with `client.image_result` (`video_result`) at once, then after \
         1 s growing 1.5x to 15 s; each verdict appended to a file and synced, as `batch`'s \
         journal is. Both sides pace as the CLI does at that scale.\n\n\
         **Verdict overhead**: per file, when its line was read from the process's stdout \
         minus when the mock marked it done (`MockServer::done_at`). **Floor**: the upload \
         taken k-th (k = 0, 1, ...) goes no earlier than t(k) = k + 30·⌊k/30⌋ s, its verdict no \
         earlier than t(k) + its processing time; floor = the latest of those + one poll round \
         (1 s). Wall: from starting the process(es) to the last exit. Runs repeated (one \
         file) sum their walls and floors. The fleet: {workers} processes on one key, each on its \
         own {fleet_each} files, pacing through `--pacer redis://...` (a `redis-server` the \
         bench starts on a loopback port, fresh for each run). The last run, outside the \
         goals, makes every other file a (tiny) MP4 video: the poller then lists two kinds a \
         round, two GETs.\n\n\
         | run (x{scale}) | side | wall / floor | verdict overhead median / p90 / max | GETs per file | 429s | verdicts |\n\
         |---|---|---|---|---|---|---|\n{}\n\n\
         **Where the overhead goes.** From done to the first answer that showed it \
         (`MockServer::told_at`: the wait for the client's next poll), then from that answer \
         to the line (the client's own handling: decoding, `batch`'s journal write and sync, \
         printing); median / max, scaled back like the rest. And the GETs sent per minute of \
         wall: the key allows 60.\n\n\
         | run (x{scale}) | side | done to answered | answered to printed | GETs per minute of wall |\n|---|---|---|---|---|\n{}\n\n\
         | goal (after, at x{scale}) | figure | met |\n|---|---|---|\n\
         | batch wall <= 1.05x the floor (N >= 10, the fleet too) | worst {worst_wall:.3} | {} |\n\
         | verdict overhead median <= 0.6 s, max <= 1.5 s (every run) | worst median {worst_median:.2} s, worst max {worst_max:.2} s | {} |\n\
         | <= 2.5 GETs per file (N >= 100) | worst {} | {} |\n\
         | zero 429s | {limited} | {} |\n\
         | every file classified | {failed} failed | {} |\n",
        5.0 * scale,
        40.0 * scale,
        rows.join("\n"),
        splits.join("\n"),
        yes(wall_met),
        yes(latency_met),
        if large.is_empty() { "none run".to_string() } else { format!("{worst_gets:.2}") },
        yes(gets_met),
        yes(limited == 0),
        yes(failed == 0),
    );
    // The largest batch of one process, before and after, then the worst
    // of every run the goals are set for.
    let top = sizes.iter().max().copied().unwrap_or(0);
    let largest = measured
        .iter()
        .find(|m| m.label == format!("`batch`, N = {top}"))
        .map_or(String::new(), |m| {
            format!(
                "batch, N = {top}: {:.2}x the floor (before {:.2}x), overhead median {:.2} s (before {:.2} s); ",
                m.after.ratio(),
                m.before.ratio(),
                m.after.median(),
                m.before.median()
            )
        });
    summary.push(format!(
        "| 6 | verdict latency: `identifai batch` (N = {}{}) and `classify` against results done 5-40 s after upload, at x{scale}, vs per-wait polling | {largest}worst: wall/floor {worst_wall:.3}, overhead median {worst_median:.2} s, max {worst_max:.2} s, {} GETs/file (N >= 100), {limited} 429s, {failed} files failed | wall <= 1.05x floor; overhead median <= 0.6 s, max <= 1.5 s; <= 2.5 GETs/file; zero 429s, every file classified | {} / {} / {} / {} |",
        sizes.iter().map(usize::to_string).collect::<Vec<_>>().join(", "),
        if redis { format!("; {workers} x {fleet_each} through Redis") } else { String::new() },
        if large.is_empty() { "none run".to_string() } else { format!("{worst_gets:.2}") },
        yes(wall_met),
        yes(latency_met),
        yes(gets_met),
        yes(limited == 0 && failed == 0),
    ));
}
