//! `identifai health`: whether the service is up (needs no key).

use crate::context::Context;
use crate::exit::Exit;
use crate::output::{out, terminal_safe, Paint};

/// `identifai health`: exits 1 unless the status is `ok`.
pub async fn run(ctx: &Context) -> anyhow::Result<Exit> {
    let status = ctx.client.health().await?;
    let ok = status == identifai::api::types::HealthStatus::Ok;
    if ctx.json {
        out(
            &serde_json::json!({ "status": status.to_string(), "base_url": ctx.client.base_url() })
                .to_string(),
        );
    } else {
        let p = Paint(ctx.color);
        let shown = terminal_safe(status.as_str());
        let word = if ok { p.green(&shown) } else { p.red(&shown) };
        out(&format!("{}: {word}", ctx.client.base_url()));
    }
    // Not `ok`: the service says it is down (the same exit as a 5xx).
    Ok(if ok { Exit::Ok } else { Exit::Service })
}
