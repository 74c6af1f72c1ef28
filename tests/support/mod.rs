//! The one support module of every test binary (`mod support;` in each
//! binary's root):
//!
//! * [`spec`]: the one spec loader, honouring `IDENTIFAI_SPEC`;
//! * [`media`]: media bytes to upload;
//! * [`ID`]: the sample identifier;
//! * `conformance` (feature `conformance`): the spec-driven conformance
//!   machinery (JSON Schema validation, normalisation, proptest strategies
//!   from schemas);
//! * [`client`] and [`errors`] (feature `mock`): a client pointed at a
//!   loopback `MockServer`, and errors of every kind;
//! * [`RedisServer`] (feature `redis`): a `redis-server` of the test's own.
#![allow(dead_code, unused_imports)]

#[cfg(feature = "conformance")]
pub mod conformance;
pub mod media;
pub mod spec;

#[cfg(feature = "mock")]
pub mod client;
#[cfg(feature = "mock")]
pub mod errors;

#[cfg(feature = "mock")]
pub use client::*;
#[cfg(feature = "redis")]
pub mod redis_server;
pub use media::*;
#[cfg(feature = "redis")]
pub use redis_server::RedisServer;

/// The sample identifier: a 64-hex-digit hash, the shape the service gives.
pub const ID: &str = "8d64370a87b820cc1cf620338f5c898bab37439c9a405f32d9eaffc50c4f27b0";
