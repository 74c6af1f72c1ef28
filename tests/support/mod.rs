//! What every test binary may share, needing no crate feature. Today: the one
//! spec loader ([`spec`]), honouring `IDENTIFAI_SPEC`.
#![allow(dead_code)]

pub mod spec;
