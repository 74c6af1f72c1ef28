//! The whole command line, declared with clap's derive API: the global
//! options (`global`) and one subcommand per file of `cmd`, each declaring
//! its own options.

use clap::{Parser, Subcommand};

use crate::cmd::{api, batch, classify, contract, heatmap, mock, r#override, result};
use crate::exit::{exit_codes, ALL_EXITS, API_EXITS, CLASSIFY_EXITS, CONTRACT_EXITS};
use crate::global::Global;

const ABOUT: &str = "Tell whether images, videos and audio were made by a human or by generative AI, with the identifAI API.";

const LONG_ABOUT: &str = "\
Tell whether images, videos and audio were made by a human or by generative AI, with the identifAI API.

Get an API key from the identifAI dashboard (user menu > API Key) and set IDENTIFAI_API_KEY, or try everything without one with --mock, which starts a built-in fake identifAI on loopback (its verdicts are made up).

  identifai --mock classify examples/media/sunset.png --heatmap
  identifai classify photo.jpg https://example.com/clip.mp4 --fail-on artificial
  identifai batch ./photos --out results.jsonl --resume";

/// `identifai`: the identifAI command-line client.
#[derive(Debug, Parser)]
#[command(
    name = "identifai",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = exit_codes(ALL_EXITS),
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check that the service is up (needs no key).
    Health,
    /// Classify images, videos and audio (files or URLs) as human- or
    /// AI-made.
    #[command(after_help = exit_codes(CLASSIFY_EXITS))]
    Classify(classify::ClassifyArgs),
    /// Show the results of earlier classifications, by identifier.
    #[command(after_help = exit_codes(CLASSIFY_EXITS))]
    Result(result::ResultArgs),
    /// Save the AI heatmap of an image, or a picture of it over the original.
    Heatmap(heatmap::HeatmapArgs),
    /// Correct a verdict: later answers for the file carry it as
    /// `force_classification`.
    Override(r#override::OverrideArgs),
    /// Classify every media file of a directory or list file into a
    /// JSON-lines file, under the published rate limits.
    #[command(after_help = exit_codes(ALL_EXITS))]
    Batch(batch::BatchArgs),
    /// Check that the service answers as the spec built into this program
    /// says (spends one small image by URL unless told otherwise; `--mock`
    /// checks the built-in mock).
    #[command(after_help = CONTRACT_EXITS)]
    Contract(contract::ContractArgs),
    /// Run the built-in fake identifAI as a server of its own (prints its
    /// base URL and key; stops on SIGINT or SIGTERM).
    Mock(mock::MockArgs),
    /// Call any operation of the API by its name, with its parameters as
    /// flags, and print its JSON answer (`--list` lists the operations;
    /// `identifai api <OPERATION> --help` shows an operation's inputs).
    #[command(after_help = exit_codes(API_EXITS), subcommand_value_name = "OPERATION")]
    Api(api::ApiArgs),
    /// Print a shell completion script (e.g. `identifai completions bash >
    /// /etc/bash_completion.d/identifai`).
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// The whole command line: `cmd` (with `api`'s operations) with the global
/// options a subcommand has no use for hidden from its `--help`.
pub fn tidy(mut cmd: clap::Command) -> clap::Command {
    // Global options are copied into the subcommands when the command is
    // built: only then can a subcommand's copy be hidden.
    cmd.build();
    // The flags that only matter for talking to a service.
    const CLIENT: &[&str] = &[
        "api_key",
        "base_url",
        "mock",
        "mock_quirks",
        "json",
        "pacer",
    ];
    let unused = |command: &str, id: &str| match command {
        "mock" => CLIENT.contains(&id),
        "completions" => CLIENT.contains(&id) || id == "verbose",
        _ => false,
    };
    // In place: moving a built command's args or subcommands would break
    // its lookup tables.
    cmd.mut_subcommands(|sc| {
        let name = sc.get_name().to_string();
        sc.mut_args(|a| {
            let hide = unused(&name, a.get_id().as_str()) || a.is_hide_set();
            a.hide(hide)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use identifai::api::OPERATIONS;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_operation_makes_a_consistent_subcommand() {
        let cmd = api::with_operations(Cli::command());
        cmd.clone().debug_assert();
        let api = cmd.find_subcommand("api").unwrap();
        assert_eq!(api.get_subcommands().count(), OPERATIONS.len());
    }
}
