//! Streaming uploads: a large video goes out without the client's memory
//! growing with the file.
//!
//! For each size it makes a sparse `.mp4` (an `ftyp` header, then a hole)
//! and uploads it to a [`MockServer`] with
//! `client.classify_video(Source::path(..)).send()`, then, as the baseline,
//! the same file read into memory first (`Source::bytes`). Each upload runs
//! in a fresh child process (this program re-executed as
//! `upload_memory child MODE PATH`), because a process's peak resident
//! set (`VmHWM` in `/proc/self/status`, Linux only) cannot be reset. The
//! parent prints the peak before and after each upload and how the two
//! ways compare.
//!
//! ```sh
//! cargo run --release --example upload_memory --features mock                # 256 MiB and 1 GiB
//! cargo run --release --example upload_memory --features mock -- 64M 2G 4G   # other sizes
//! ```
//!
//! The mock runs in the child process too (it hashes the upload chunk by
//! chunk and keeps none of it), so the numbers cover client and server
//! together. It always uses the mock: no key is needed, and the real
//! service would not welcome gigabytes of zeros.
//!
//! [`MockServer`]: identifai::mock::MockServer

mod common;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use identifai::mock::MockConfig;
use identifai::{config::UploadLimits, Source};

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;
/// The mock's default largest video; sizes above it raise both limits.
const DEFAULT_VIDEO_LIMIT: u64 = 5 * 1024 * 1024 * 1024;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [child, mode, path] = args.as_slice() {
        if child == "child" {
            let runtime = tokio::runtime::Runtime::new()?;
            return runtime.block_on(upload(mode, Path::new(path)));
        }
    }
    let sizes = if args.is_empty() {
        vec![256 * MIB, GIB]
    } else {
        args.iter()
            .map(|a| parse_size(a).ok_or_else(|| format!("not a size: {a:?} (e.g. 256M, 1G)")))
            .collect::<Result<Vec<_>, _>>()?
    };
    parent(&sizes)
}

/// What one child measured.
struct Measured {
    before: u64,
    after: u64,
    secs: f64,
}

fn parent(sizes: &[u64]) -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let exe = std::env::current_exe()?;
    eprintln!("[example] each upload goes to a mock identifAI started in a child process");

    println!(
        "{:>9}  {:<14} {:>12} {:>12} {:>11} {:>8} {:>9}",
        "file", "source", "peak before", "peak after", "growth", "time", "MiB/s"
    );
    let mut rows = Vec::new();
    for &size in sizes {
        let path = sparse_mp4(dir.path(), size)?;
        let mut pair = Vec::new();
        for mode in ["path", "bytes"] {
            let m = run_child(&exe, mode, &path)?;
            println!(
                "{:>9}  {:<14} {:>12} {:>12} {:>11} {:>7.2}s {:>9.0}",
                human(size),
                format!("Source::{mode}"),
                human(m.before),
                human(m.after),
                format!("+{}", human(m.after.saturating_sub(m.before))),
                m.secs,
                size as f64 / MIB as f64 / m.secs.max(1e-9),
            );
            pair.push(m);
        }
        rows.push((size, pair));
        std::fs::remove_file(&path)?;
    }

    println!();
    for (size, pair) in &rows {
        let (streamed, buffered) = (&pair[0], &pair[1]);
        println!(
            "{:>9}: peak RSS with Source::bytes is {:.1}x that with Source::path \
             ({} vs {}; growth {} vs {})",
            human(*size),
            buffered.after as f64 / streamed.after.max(1) as f64,
            human(buffered.after),
            human(streamed.after),
            human(buffered.after.saturating_sub(buffered.before)),
            human(streamed.after.saturating_sub(streamed.before)),
        );
    }
    if let (Some((small, s)), Some((large, l))) = (rows.first(), rows.last()) {
        if large > small {
            let growth = |m: &Measured| m.after.saturating_sub(m.before);
            println!(
                "streamed: the file grew {:.1}x ({} -> {}), the peak RSS growth went {} -> {}",
                *large as f64 / *small as f64,
                human(*small),
                human(*large),
                human(growth(&s[0])),
                human(growth(&l[0])),
            );
        }
    }
    Ok(())
}

/// A sparse file of `size` bytes whose first bytes are an MP4 `ftyp` box.
fn sparse_mp4(dir: &Path, size: u64) -> std::io::Result<PathBuf> {
    let path = dir.join(format!("sparse-{size}.mp4"));
    let mut file = std::fs::File::create(&path)?;
    std::io::Write::write_all(&mut file, &common::MP4_HEADER)?;
    file.set_len(size)?;
    Ok(path)
}

/// Runs one upload in a fresh process and reads back what it measured.
fn run_child(exe: &Path, mode: &str, path: &Path) -> Result<Measured, Box<dyn Error>> {
    let out = Command::new(exe)
        .args(["child", mode])
        .arg(path)
        .stdin(Stdio::null())
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "child {mode} failed ({}): {}{}",
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let field = |name: &str| -> Option<&str> {
        stdout
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    };
    let number = |name: &str| -> Result<u64, Box<dyn Error>> {
        Ok(field(name)
            .ok_or_else(|| format!("no {name} in the child's output: {stdout}"))?
            .parse()?)
    };
    Ok(Measured {
        before: number("hwm_before")?,
        after: number("hwm_after")?,
        secs: field("secs").unwrap_or("0").parse()?,
    })
}

/// The child: one upload of `path`, streamed (`path`) or read first (`bytes`).
async fn upload(mode: &str, path: &Path) -> Result<(), Box<dyn Error>> {
    let size = std::fs::metadata(path)?.len();
    let limit = size.max(DEFAULT_VIDEO_LIMIT);
    let target = common::Target::mock(
        MockConfig::default()
            .with_rate_limits(None)
            .with_polls_until_done(0)
            .with_max_video_bytes(limit),
    )?;
    let server = target.server().ok_or("no mock")?;
    let client = target
        .builder()
        .rate_limits(None)
        .upload_limits(UploadLimits::default().with_max_video_bytes(limit))
        .build()?;

    // Warm up: runtime threads, connection pool, mock handlers, 1 MiB through
    // the same path, so that "before" is the steady state.
    let mut warm = common::MP4_HEADER.to_vec();
    warm.resize(MIB as usize, 0);
    client
        .classify_video(Source::bytes("warm-up.mp4", warm))
        .send()
        .await?;
    server.reset_stats();

    let before = peak_rss().ok_or("VmHWM is not available (Linux only)")?;
    let started = Instant::now();
    let id = match mode {
        "path" => client.classify_video(Source::path(path)).send().await?,
        "bytes" => {
            let name = path
                .file_name()
                .map_or("video.mp4".into(), |n| n.to_string_lossy().into_owned());
            let data = tokio::fs::read(path).await?;
            client
                .classify_video(Source::bytes(name, data))
                .send()
                .await?
        }
        other => return Err(format!("unknown mode {other:?}").into()),
    };
    let secs = started.elapsed().as_secs_f64();
    let after = peak_rss().ok_or("VmHWM is not available")?;

    let received = server.stats().bytes_received;
    if received != size {
        return Err(format!("the mock received {received} of {size} bytes").into());
    }
    println!(
        "mode={mode} size={size} hwm_before={before} hwm_after={after} secs={secs:.3} id={id}"
    );
    Ok(())
}

/// The peak resident set size of this process, in bytes (`VmHWM`).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// `256M`, `1G`, `1GiB`, `4096` (bytes) and the like.
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" | "kb" => 1024,
        "m" | "mib" | "mb" => MIB,
        "g" | "gib" | "gb" => GIB,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// Bytes in MiB or GiB, for the table.
fn human(bytes: u64) -> String {
    if bytes >= GIB {
        format!("{:.2} GiB", bytes as f64 / GIB as f64)
    } else {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    }
}
