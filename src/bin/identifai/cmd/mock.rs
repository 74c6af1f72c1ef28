//! `identifai mock`: the built-in [`MockServer`] as a process of its own,
//! for tests in any language and compose files. Prints its base URL and key,
//! serves until SIGINT or SIGTERM, then stops cleanly (exit 0).
//!
//! A closed stdout or stderr ends it at its next write there (a request it
//! logs with `-vv`, the line it prints on stopping), killed by SIGPIPE like
//! `yes | head`. It does not watch them in between: a harness may read the
//! two lines, close the pipe and still use the server.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::Args;
use identifai::mock::{MockConfig, MockServer};

use crate::exit::Exit;

/// `identifai mock` options.
#[derive(Debug, Args)]
pub struct MockArgs {
    /// The port to listen on (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// The address to listen on (e.g. 0.0.0.0 in a container; the mock
    /// accepts a well-known key, so only on a network you trust).
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub bind: IpAddr,
    /// Multiplies the rate-limit windows and processing times (1: real
    /// time, 0.01: 100 times shorter).
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub time_scale: f64,
    /// Answer like the PHP backend at its oddest (`[]` for empty maps,
    /// `0`/`1` for booleans, fields the spec does not name).
    #[arg(long)]
    pub quirks: bool,
    /// How many GETs of a result answer `new` before it is done (unless
    /// --processing-time is given).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub polls_until_done: u32,
    /// Finish each result this many seconds after its upload instead
    /// (`5..40`: a time in that range fixed by the file's hash; `10`: always
    /// 10), scaled by --time-scale.
    #[arg(long, value_name = "MIN..MAX", value_parser = parse_processing_time)]
    pub processing_time: Option<(Duration, Duration)>,
}

/// `5..40` or `5` (seconds, decimals allowed) as a range of durations.
fn parse_processing_time(s: &str) -> Result<(Duration, Duration), String> {
    let secs = |t: &str| {
        t.trim()
            .parse::<f64>()
            .ok()
            .and_then(|v| Duration::try_from_secs_f64(v).ok())
            .ok_or_else(|| format!("expected seconds, as in 5..40 or 10, not {s:?}"))
    };
    let (min, max) = match s.split_once("..") {
        Some((a, b)) => (secs(a)?, secs(b)?),
        None => (secs(s)?, secs(s)?),
    };
    if max < min {
        return Err(format!("{s:?}: the longest time is below the shortest"));
    }
    Ok((min, max))
}

/// Serves until a signal.
pub async fn run(args: MockArgs) -> anyhow::Result<Exit> {
    let mut config = MockConfig::default()
        .with_time_scale(args.time_scale)
        .with_polls_until_done(args.polls_until_done)
        .with_quirks(args.quirks);
    if let Some((min, max)) = args.processing_time {
        config = config.with_processing_time(min, max);
    }
    let server =
        MockServer::try_start_on(SocketAddr::new(args.bind, args.port), config).map_err(|e| {
            anyhow::anyhow!("cannot start the mock on {}:{}: {e}", args.bind, args.port)
        })?;
    // Listening for the signals before anyone can know the server is up:
    // a SIGTERM right after the two lines must stop it cleanly, not kill it.
    let stop = stop_signal()?;
    // The one place the mock's (well-known, fake) key is printed: clients
    // need it.
    println!("IDENTIFAI_BASE_URL={}", server.base_url());
    println!("IDENTIFAI_API_KEY={}", server.api_key());
    crate::stdio::flush_out();
    eprintln!("identifai mock: serving until SIGINT or SIGTERM");
    stop.await;
    let stats = server.stats();
    drop(server);
    eprintln!("identifai mock: stopped after {} requests", stats.requests);
    Ok(Exit::Ok)
}

/// A future that ends at SIGINT or SIGTERM; the handlers are in place
/// when this returns.
#[cfg(unix)]
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processing_times_parse() {
        let s = Duration::from_secs;
        assert_eq!(parse_processing_time("5..40"), Ok((s(5), s(40))));
        assert_eq!(parse_processing_time("10"), Ok((s(10), s(10))));
        assert_eq!(
            parse_processing_time("0.5..2.5"),
            Ok((Duration::from_millis(500), Duration::from_millis(2500)))
        );
        assert!(parse_processing_time("40..5").is_err());
        assert!(parse_processing_time("-1..5").is_err());
        assert!(parse_processing_time("a..b").is_err());
    }
}
