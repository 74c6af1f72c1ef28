//! The client layer against a loopback `MockServer` (feature `mock`): what
//! it sends, what it gives back, how it waits, that bad input sends nothing
//! and that the key stays secret. One module per concern.

#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod effective_verdict;
mod published_api;
mod refusals;
mod security;
mod submit_and_accept;
mod wait;
