//! The pricing plans as one list, whatever JSON the server chose for it.
//!
//! The spec's `PartnerPricings` is a list of plans, or (PHP's encoding of a
//! list whose keys are not 0..n-1) an object of plans keyed by position; the
//! generated type is an untagged enum of the two (`List`, `Keyed`). What a
//! caller wants is the list: [`types::PartnerPricings::plans`].

use super::types::{PartnerPricing, PartnerPricings};

impl PartnerPricings {
    /// The plans, in the server's order: a list as sent, an object's plans
    /// by key (numerically when the keys are numbers, as PHP writes them).
    pub fn plans(&self) -> Vec<&PartnerPricing> {
        match self {
            PartnerPricings::List(plans) => plans.iter().collect(),
            PartnerPricings::Keyed(plans) => {
                let mut keyed: Vec<(&String, &PartnerPricing)> = plans.iter().collect();
                keyed.sort_by(|(a, _), (b, _)| by_key(a, b));
                keyed.into_iter().map(|(_, p)| p).collect()
            }
        }
    }

    /// [`PartnerPricings::plans`], owned.
    pub fn into_plans(self) -> Vec<PartnerPricing> {
        match self {
            PartnerPricings::List(plans) => plans,
            PartnerPricings::Keyed(plans) => {
                let mut keyed: Vec<(String, PartnerPricing)> = plans.into_iter().collect();
                keyed.sort_by(|(a, _), (b, _)| by_key(a, b));
                keyed.into_iter().map(|(_, p)| p).collect()
            }
        }
    }
}

/// Numeric keys in number order (PHP's positions), others as text.
fn by_key(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}
