//! identifAI client.
#![warn(missing_docs)]

pub mod api;
pub mod transport;
pub mod upload;
