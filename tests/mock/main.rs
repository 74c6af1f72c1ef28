//! `identifai::mock` (feature `mock`): the stateful `MockServer` over real
//! HTTP on loopback, and the typed httpmock helpers generated from the spec.

#[path = "../support/mod.rs"]
mod support;

mod documented;
mod httpmock_helpers;
mod kinds;
mod server;
