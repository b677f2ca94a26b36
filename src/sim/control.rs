//! Control endpoints of the simulator (no auth), for tests in another process: stats, fault
//! injection, configuration and the virtual clock (see the module docs of `sim`).

use super::Shared;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::time::Duration;

/// `GET /_sim/stats`.
pub(crate) async fn stats(State(shared): State<Shared>) -> Response {
    axum::Json(shared.lock().stats.clone()).into_response()
}

/// `POST /_sim/faults` with a fault in its JSON form (see the module docs of `sim`).
pub(crate) async fn add_fault(State(shared): State<Shared>, body: Bytes) -> Response {
    match serde_json::from_slice::<super::Fault>(&body) {
        Ok(f) => {
            shared.lock().faults.push(f);
            (StatusCode::OK, "{}").into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("bad fault: {e}")).into_response(),
    }
}

/// `POST /_sim/config` with `{"fail_rate": P}` and/or `{"max_queued": N | null}`.
pub(crate) async fn set_config(State(shared): State<Shared>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let bad = || {
        (
            StatusCode::BAD_REQUEST,
            "expected {\"fail_rate\": 0..1} and/or {\"max_queued\": N or null}",
        )
            .into_response()
    };
    let fail_rate = match v.get("fail_rate") {
        None => None,
        Some(p) => match p.as_f64() {
            Some(p) if (0.0..=1.0).contains(&p) => Some(p),
            _ => return bad(),
        },
    };
    let max_queued = match v.get("max_queued") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(n) => match n.as_u64() {
            Some(n) => Some(Some(n.min(1_000_000) as usize)),
            None => return bad(),
        },
    };
    if fail_rate.is_none() && max_queued.is_none() {
        return bad();
    }
    if let Some(p) = fail_rate {
        shared.set_fail_rate(p);
    }
    if let Some(cap) = max_queued {
        shared.set_max_queued(cap);
    }
    (StatusCode::OK, "{}").into_response()
}

/// `POST /_sim/advance` with `{"secs": N}`.
pub(crate) async fn advance(State(shared): State<Shared>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match v.get("secs").and_then(Value::as_f64) {
        Some(s) if s >= 0.0 && s.is_finite() => {
            shared.advance(Duration::from_secs_f64(s));
            (StatusCode::OK, "{}").into_response()
        }
        _ => (StatusCode::BAD_REQUEST, "expected {\"secs\": N}").into_response(),
    }
}
