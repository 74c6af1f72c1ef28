//! What every subcommand works with: the client, the built-in mock server
//! when `--mock` is given, and how to print (JSON, colours, progress bars).

use std::io::IsTerminal;
use std::time::Duration;

use identifai::mock::{MockConfig, MockServer};
use identifai::{
    config::Pacer, config::RateLimits, config::RetryConfig, config::WaitConfig, Client, Error,
};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use secrecy::{ExposeSecret, SecretString};

use crate::exit::{failure, usage};
use crate::global::Global;

/// Where to get a key, for the message given when there is none.
pub const NO_KEY: &str = "no API key: set IDENTIFAI_API_KEY or pass --api-key \
(get a key from the identifAI dashboard: user menu > API Key), \
or try the tool without one with --mock (a built-in fake server; no real classification)";

/// Said on stderr when the one-shot `--mock` server did not know something
/// an earlier command made.
pub const MOCK_FORGETS: &str = "hint: the --mock server starts empty for each command, so it \
knows nothing an earlier command made; run `identifai mock --port 8080` in another terminal and \
pass `--base-url http://127.0.0.1:8080 --api-key mock-api-key` instead of --mock";

/// The client and how to print. It derives no `Debug`: it holds the key.
pub struct Context {
    /// The client (to the mock server with `--mock`).
    pub client: Client,
    /// JSON on stdout instead of text.
    pub json: bool,
    /// ANSI colours on stdout.
    pub color: bool,
    /// The progress bars (hidden when not on a terminal, or with `--json`).
    pub bars: MultiProgress,
    /// Whether progress bars are drawn.
    pub progress: bool,
    /// Whether the server is the built-in mock (it forgets everything on exit).
    pub mock: bool,
    /// The key given, scrubbed from error messages should one ever carry it.
    pub secret: Option<SecretString>,
    /// Kept alive as long as the client; dropped after it.
    _server: Option<MockServer>,
}

impl Context {
    /// Builds the client from the global options. `needs_key`: whether the
    /// subcommand sends the key (`health` does not).
    pub fn new(global: &Global, needs_key: bool) -> anyhow::Result<Self> {
        let scale = match global.rate_scale {
            Some(s) if s.is_finite() && s > 0.0 && s <= 1000.0 => s,
            Some(s) => {
                return Err(usage(format!(
                    "invalid IDENTIFAI_RATE_SCALE / --rate-scale {s}: expected a number above 0"
                )))
            }
            None if global.mock => 0.01,
            None => 1.0,
        };
        let (server, key, base_url) = if global.mock {
            // The client paces under exactly the server's windows (the
            // pacer's headroom is absolute).
            let server = MockServer::try_start_with(
                MockConfig::default()
                    .with_polls_until_done(2)
                    .with_time_scale(scale)
                    .with_quirks(global.mock_quirks),
            )
            .map_err(|e| anyhow::anyhow!("cannot start the built-in mock server: {e}"))?;
            eprintln!(
                "using the built-in mock server at {} (no real classification)",
                server.base_url()
            );
            let key = SecretString::from(server.api_key());
            let url = server.base_url();
            (Some(server), key, Some(url))
        } else {
            let key = match global.key() {
                Some(k) => k,
                // `health` sends no key: any placeholder does.
                None if !needs_key => SecretString::from("no-key"),
                None => return Err(failure("no_api_key", NO_KEY)),
            };
            let url = global
                .base_url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_string);
            (None, key, url)
        };
        let mut builder = Client::builder()
            .api_key(key.expose_secret())
            .user_agent(format!("identifai-cli/{}", env!("CARGO_PKG_VERSION")))
            .rate_limits(Some(RateLimits::PUBLISHED.with_time_scale(scale)))
            .retry({
                let retry = RetryConfig::default().scaled(scale);
                // At least 5 s: a 429's Retry-After is whole seconds.
                let budget = retry.max_elapsed().max(Duration::from_secs(5));
                retry.with_max_elapsed(budget)
            })
            .wait(
                WaitConfig::default()
                    .with_initial_interval(Duration::from_secs(1).mul_f64(scale))
                    .with_max_interval(Duration::from_secs(15).mul_f64(scale)),
            );
        if let Some(url) = base_url {
            builder = builder.base_url(url);
        }
        if let Some(url) = global
            .pacer
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            builder = builder.pacer(Pacer::redis(url).map_err(|e| usage(format!("--pacer: {e}")))?);
        }
        let client = builder.build()?;
        tracing::debug!(
            base_url = client.base_url(),
            mock = global.mock,
            scale,
            "client ready"
        );
        let progress =
            !global.json && std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
        let color = !global.json
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let bars = MultiProgress::with_draw_target(if progress {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        Ok(Self {
            client,
            json: global.json,
            color,
            bars,
            progress,
            mock: global.mock,
            secret: global.key(),
            _server: server,
        })
    }

    /// A bar for bytes going out (hidden when bars are off).
    pub fn upload_bar(&self, label: &str, total: Option<u64>) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = self.bars.add(ProgressBar::new(total.unwrap_or(0)));
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner:.cyan} {prefix:.bold} {msg:12} [{bar:28.cyan/blue}] {bytes}/{total_bytes}",
            )
            .expect("valid template")
            .progress_chars("━╸ "),
        );
        bar.set_prefix(short(label, 40));
        // Until its turn under the rate limits comes.
        bar.set_message("queued");
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    /// A spinner for a wait (hidden when bars are off).
    pub fn spinner(&self, label: &str) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = self.bars.add(ProgressBar::new_spinner());
        bar.set_prefix(short(label, 40));
        bar.enable_steady_tick(Duration::from_millis(120));
        self.waiting(&bar);
        bar
    }

    /// An error line for stderr: `error: <what>: <error>`, key scrubbed.
    pub fn error_line(&self, what: &str, e: &(dyn std::error::Error + 'static)) -> String {
        let text = Error::full_text(e);
        self.scrub(&crate::output::terminal_safe(&format!(
            "error: {what}: {text}"
        )))
    }

    /// `text` with the key scrubbed (the library's rule), should it ever
    /// carry it.
    pub fn scrub(&self, text: &str) -> String {
        match &self.secret {
            Some(key) => Error::redacted(text, key),
            None => text.to_string(),
        }
    }

    /// With `--mock`, a 404 gets [`MOCK_FORGETS`] on stderr.
    pub fn hint_if_mock_forgot(&self, e: &Error) {
        if self.mock && e.status() == Some(404) {
            self.eprintln(MOCK_FORGETS);
        }
    }

    /// Turns a bar into a spinner while a verdict is awaited.
    pub fn waiting(&self, bar: &ProgressBar) {
        if !self.progress {
            return;
        }
        bar.set_style(
            ProgressStyle::with_template("{spinner:.cyan} {prefix:.bold} {msg} {elapsed:.dim}")
                .expect("valid template"),
        );
        bar.set_message("waiting for the verdict…");
    }

    /// Prints a line on stdout without tearing the progress bars.
    pub fn println(&self, text: &str) {
        if self.progress {
            self.bars.suspend(|| crate::output::out(text));
        } else {
            crate::output::out(text);
        }
    }

    /// Prints a line on stderr without tearing the progress bars.
    pub fn eprintln(&self, text: &str) {
        if self.progress {
            self.bars.suspend(|| eprintln!("{text}"));
        } else {
            eprintln!("{text}");
        }
    }

    /// A wait deadline from `--timeout`.
    pub fn deadline(secs: u64) -> Duration {
        Duration::from_secs(secs.max(1))
    }
}

/// `text` cut to at most `max` characters, with an ellipsis in the middle.
pub fn short(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max {
        return text.to_string();
    }
    let keep = max.saturating_sub(1) / 2;
    let head: String = chars[..keep].iter().collect();
    let tail: String = chars[chars.len() - (max - 1 - keep)..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::short;

    #[test]
    fn short_keeps_both_ends() {
        assert_eq!(short("abc", 5), "abc");
        assert_eq!(short("abcdefghij", 5), "ab…ij");
        assert_eq!(short("abcdefghij", 6).chars().count(), 6);
    }
}
