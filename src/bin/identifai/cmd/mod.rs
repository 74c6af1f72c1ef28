//! One file per subcommand: its options (clap `Args`) and its `run`.

pub mod api;
pub mod batch;
pub mod classify;
pub mod completions;
pub mod contract;
pub mod health;
pub mod heatmap;
pub mod mock;
pub mod r#override;
pub mod result;
