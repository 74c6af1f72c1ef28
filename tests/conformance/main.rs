//! Conformance to the spec (`IDENTIFAI_SPEC`, else `openapi/identifai.yaml`,
//! read through `support::spec`): every example and component decodes and
//! round-trips, newer and older servers' answers still decode, the client
//! puts on the wire what the spec says (`wire_requests`, the insta-snapshot
//! `wire_matrix`), whatever a server answers gives an error or a sane value
//! (`robustness`), and the generated public surface is pinned
//! (`api_surface`). The wire matrix and robustness call every operation
//! through one dispatcher (`calls`). `cargo xtask mutate` runs `examples`
//! and `roundtrip` against mutated specs.

#[path = "../support/mod.rs"]
mod support;

mod api_surface;
mod calls;
mod examples;
mod forward_compat;
mod module_cycles;
mod operations;
mod page_examples;
mod published_results;
mod robustness;
mod roundtrip;
mod wire_matrix;
mod wire_requests;
