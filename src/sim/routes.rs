//! HTTP handlers of the simulator's task API (under both prefixes). Every API answer carries
//! `x-request-id` and echoes `X-Client-Request-Id`. Result files are served by `result_files`,
//! the control endpoints by `control`.

use super::state::{SimStatus, SimTask};
use super::{FaultKind, FaultRoute, Shared};
use crate::api::types::{CreateRequest, strip_nulls};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The page the relay answers on its list endpoint.
const RELAY_HTML: &str = "<!doctype html><html><head><title>LaoZhang API</title></head><body><div id=\"root\">Loading…</div><script src=\"/assets/index.js\"></script></body></html>";

/// Per-request context: ids for the headers and error messages.
struct Ctx {
    request_id: String,
    client_request_id: Option<String>,
    /// The server's clock (Unix seconds) for the `Date` header.
    date: i64,
}

fn respond(ctx: &Ctx, status: StatusCode, body: Body, content_type: &'static str) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
        h.insert("x-request-id", v);
    }
    if let Some(v) = ctx
        .client_request_id
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
    {
        h.insert("x-client-request-id", v);
    }
    // The simulated clock (which may be set off ours), as a real server's `Date`.
    if let Some(v) = chrono::DateTime::from_timestamp(ctx.date, 0)
        .map(|d| d.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .and_then(|d| HeaderValue::from_str(&d).ok())
    {
        h.insert(header::DATE, v);
    }
    resp
}

fn json_response(ctx: &Ctx, status: StatusCode, v: &Value) -> Response {
    respond(ctx, status, Body::from(v.to_string()), "application/json")
}

fn error_response(
    ctx: &Ctx,
    status: StatusCode,
    code: &str,
    message: &str,
    param: Option<&str>,
) -> Response {
    let kind = match status.as_u16() {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        429 => "TooManyRequests",
        _ => "InternalServerError",
    };
    let mut err = json!({
        "code": code,
        "message": format!("{message} Request id: {}", ctx.request_id),
        "type": kind,
    });
    if let (Some(p), Some(o)) = (param, err.as_object_mut()) {
        o.insert("param".into(), json!(p));
    }
    json_response(ctx, status, &json!({ "error": err }))
}

pub(super) fn status_code(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn fault_error(ctx: &Ctx, code: u16) -> Response {
    let (name, msg) = match code {
        401 => ("AuthenticationError", "The API key is invalid."),
        403 => (
            "AccessDenied",
            "The request failed because you do not have access to the requested resource.",
        ),
        404 => ("NotFound", "Not found."),
        429 => ("ServerOverloaded", "The service is overloaded."),
        408 | 504 => ("RequestTimeout", "The request timed out."),
        _ => (
            "InternalServiceError",
            "The service encountered an unexpected internal error.",
        ),
    };
    let mut resp = error_response(ctx, status_code(code), name, msg, None);
    if code == 429 {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}

/// Auth, rate limit, stats and the faults that act before processing. `Err` is the answer.
async fn admit(
    shared: &Shared,
    route: FaultRoute,
    headers: &HeaderMap,
) -> Result<(Ctx, Option<FaultKind>), Response> {
    let (request_id, fault, date) = {
        let mut s = shared.lock();
        s.count(route);
        (s.request_id(), s.take_fault(route), s.url_now())
    };
    let ctx = Ctx {
        request_id,
        date,
        client_request_id: headers
            .get("x-client-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let required = shared.config().api_key;
    match (token, required) {
        (None, _) => {
            return Err(error_response(
                &ctx,
                StatusCode::UNAUTHORIZED,
                "AuthenticationError",
                "The API key is missing. Send it as `Authorization: Bearer <key>`.",
                None,
            ));
        }
        (Some(t), Some(k)) if t != k => {
            return Err(error_response(
                &ctx,
                StatusCode::UNAUTHORIZED,
                "AuthenticationError",
                "The API key in the request is invalid.",
                None,
            ));
        }
        _ => {}
    }
    if shared.lock().rate_limited() {
        let mut resp = error_response(
            &ctx,
            StatusCode::TOO_MANY_REQUESTS,
            "RateLimitExceeded.EndpointRPMExceeded",
            "The Requests Per Minute (RPM) limit of the associated endpoint for your account has been exceeded.",
            None,
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return Err(resp);
    }
    match fault {
        Some(FaultKind::Status(code)) => Err(fault_error(&ctx, code)),
        Some(FaultKind::Delay(d)) => {
            tokio::time::sleep(d).await;
            Ok((ctx, None))
        }
        other => Ok((ctx, other)),
    }
}

/// Faults that act on the answer after the request was processed.
fn finish(
    ctx: &Ctx,
    fault: Option<FaultKind>,
    resp: Response,
    json_text: Option<String>,
) -> Response {
    match fault {
        Some(FaultKind::StatusAfterProcessing(code)) => fault_error(ctx, code),
        Some(FaultKind::Html) => respond(
            ctx,
            StatusCode::OK,
            Body::from(RELAY_HTML),
            "text/html; charset=utf-8",
        ),
        Some(FaultKind::Truncated) => {
            let text =
                json_text.unwrap_or_else(|| "{\"id\":\"cgt-x\",\"status\":\"queued\"}".into());
            let cut: String = text.chars().take(text.chars().count() / 2).collect();
            respond(ctx, StatusCode::OK, Body::from(cut), "application/json")
        }
        Some(FaultKind::Garbage(n)) => {
            let bytes: Vec<u8> = (0..n).map(|i| b"#%&*@!~^"[i % 8]).collect();
            respond(ctx, StatusCode::OK, Body::from(bytes), "application/json")
        }
        Some(FaultKind::Empty) => respond(ctx, StatusCode::OK, Body::empty(), "application/json"),
        _ => resp,
    }
}

/// Result URLs of a succeeded task, freshly signed.
pub(super) fn result_urls(shared: &Shared, t: &SimTask) -> Option<(String, Option<String>)> {
    if t.status != SimStatus::Succeeded {
        return None;
    }
    let s = shared.lock();
    let video = s.file_url(&t.id, "video.mp4");
    let frame = t
        .req
        .return_last_frame
        .unwrap_or(false)
        .then(|| s.file_url(&t.id, "last_frame.png"));
    Some((video, frame))
}

pub(crate) async fn create(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create_on(shared, headers, body, false).await
}

/// The relay's create: the relay routes by plain model id, so endpoint ids are refused.
pub(crate) async fn relay_create(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create_on(shared, headers, body, true).await
}

/// True for a callback host the simulator may post to: loopback only, so a test or the demo
/// can never make it send requests to other machines.
pub(super) fn loopback_host(url: &str) -> bool {
    let Some(host) = crate::api::validate::http_host(url) else {
        return false;
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

async fn create_on(shared: Shared, headers: HeaderMap, body: Bytes, relay: bool) -> Response {
    let (ctx, fault) = match admit(&shared, FaultRoute::Create, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error_response(
                &ctx,
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                &format!("The request body is not valid JSON: {e}."),
                None,
            );
        }
    };
    strip_nulls(&mut v);
    if let Some(p) = super::body_shape::check(&v) {
        return error_response(
            &ctx,
            StatusCode::BAD_REQUEST,
            p.code,
            &p.message,
            Some(&p.param),
        );
    }
    let req = match CreateRequest::from_value(v) {
        Ok(r) => r,
        Err(e) => {
            return error_response(
                &ctx,
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                &format!("A parameter is not valid: {e}."),
                None,
            );
        }
    };
    let target = crate::api::validate::Target::with_relay(relay);
    if let Some(p) = crate::api::validate::validate_for(&req, &target)
        .into_iter()
        .next()
    {
        let msg = format!(
            "The parameter `{}` specified in the request is not valid: {}.",
            p.field, p.message
        );
        return error_response(&ctx, StatusCode::BAD_REQUEST, p.code, &msg, Some(&p.field));
    }
    if let Some(url) = &req.callback_url
        && !loopback_host(url)
    {
        return error_response(
            &ctx,
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            &format!(
                "The parameter `callback_url` specified in the request is not valid: the simulator posts callbacks only to loopback addresses (127.0.0.1, ::1, localhost), not to {url}."
            ),
            Some("callback_url"),
        );
    }
    // Endpoint ids stand for a model the simulator cannot know: they run as that model would.
    if crate::api::models::find(&req.model).is_none()
        && !crate::api::validate::is_endpoint_id(&req.model)
    {
        return error_response(
            &ctx,
            StatusCode::NOT_FOUND,
            "InvalidEndpointOrModel.NotFound",
            &format!(
                "The model or endpoint {} does not exist or you do not have access to it.",
                req.model
            ),
            None,
        );
    }
    let references = super::references::loopback_references(&req);
    let id = match shared.create(req, ctx.client_request_id.as_deref()) {
        Ok(id) => id,
        Err(cap) => {
            return error_response(
                &ctx,
                StatusCode::TOO_MANY_REQUESTS,
                "QuotaExceeded",
                &format!(
                    "The number of queued tasks of this account has reached its limit ({cap}). Wait for some to finish before creating more."
                ),
                None,
            );
        }
    };
    if !references.is_empty() {
        shared.lock().tasks.hold_for_references(&id);
        tokio::spawn(super::references::fetch_all(
            shared.clone(),
            id.clone(),
            references,
        ));
    }
    if let Some(FaultKind::DelayAfterProcessing(d)) = &fault {
        tokio::time::sleep(*d).await;
    }
    let body = json!({ "id": id });
    finish(
        &ctx,
        fault,
        json_response(&ctx, StatusCode::OK, &body),
        Some(body.to_string()),
    )
}

pub(crate) async fn get_task(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (ctx, fault) = match admit(&shared, FaultRoute::Get, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(task) = shared.task(&id) else {
        let resp = error_response(
            &ctx,
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("The task {id} does not exist."),
            None,
        );
        return finish(&ctx, fault, resp, None);
    };
    let body = task.to_json(result_urls(&shared, &task), &ctx.request_id);
    finish(
        &ctx,
        fault,
        json_response(&ctx, StatusCode::OK, &body),
        Some(body.to_string()),
    )
}

/// `_body` is read whole before the answer: the official SDK sends `{}` with its DELETE, and an
/// answer written before that body arrives makes the server close the connection, which the
/// SDK's next request on it sees as "server disconnected".
pub(crate) async fn delete_task(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    _body: Bytes,
) -> Response {
    let (ctx, fault) = match admit(&shared, FaultRoute::Delete, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match shared.delete(&id) {
        Ok(true) => finish(
            &ctx,
            fault,
            json_response(&ctx, StatusCode::OK, &json!({})),
            Some("{}".into()),
        ),
        Ok(false) => error_response(
            &ctx,
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("The task {id} does not exist."),
            None,
        ),
        Err(status) => error_response(
            &ctx,
            StatusCode::BAD_REQUEST,
            "InvalidParameter.OperationDenied",
            &format!(
                "The task {id} is {} and cannot be cancelled or deleted.",
                status.as_str()
            ),
            Some("id"),
        ),
    }
}

/// Page number, page size and the filters of a list query.
type ListParams<'a> = (usize, usize, Vec<(&'a str, &'a str)>);

fn list_params(pairs: &[(String, String)]) -> Result<ListParams<'_>, String> {
    let mut page_num = 1usize;
    let mut page_size = 10usize;
    let mut filters = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "page_num" | "page_size" => {
                let n: usize = v.parse().map_err(|_| k.clone())?;
                if !(1..=500).contains(&n) {
                    return Err(k.clone());
                }
                if k == "page_num" {
                    page_num = n;
                } else {
                    page_size = n;
                }
            }
            other => filters.push((other, v.as_str())),
        }
    }
    Ok((page_num, page_size, filters))
}

pub(crate) async fn list(
    State(shared): State<Shared>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let (ctx, fault) = match admit(&shared, FaultRoute::List, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (page_num, page_size, filters) = match list_params(&pairs) {
        Ok(p) => p,
        Err(param) => {
            return error_response(
                &ctx,
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                &format!("The parameter `{param}` must be a number from 1 to 500."),
                Some(&param),
            );
        }
    };
    let ids: Vec<&str> = filters
        .iter()
        .filter(|f| f.0 == "filter.task_ids")
        .map(|f| f.1)
        .collect();
    // No `filter.service_tier` lists the `default` tier only (the official list page).
    let tier_given = filters.iter().any(|f| f.0 == "filter.service_tier");
    let mut tasks: Vec<SimTask> = shared
        .all_tasks()
        .into_iter()
        .filter(|t| tier_given || t.req.service_tier.as_deref().unwrap_or("default") == "default")
        .filter(|t| {
            filters.iter().all(|(k, v)| match *k {
                "filter.status" => t.status.as_str() == *v,
                // The exact id the task was created with (an endpoint id for `ep-` creates).
                "filter.model" => t.req.model == *v,
                "filter.service_tier" => t.req.service_tier.as_deref().unwrap_or("default") == *v,
                _ => true,
            }) && (ids.is_empty() || ids.contains(&t.id.as_str()))
        })
        .collect();
    tasks.sort_by_key(|t| std::cmp::Reverse(t.seq));
    let total = tasks.len();
    let items: Vec<Value> = tasks
        .iter()
        .skip((page_num - 1) * page_size)
        .take(page_size)
        .map(|t| t.to_json(result_urls(&shared, t), &ctx.request_id))
        .collect();
    let body = json!({ "total": total, "items": items });
    finish(
        &ctx,
        fault,
        json_response(&ctx, StatusCode::OK, &body),
        Some(body.to_string()),
    )
}

/// The relay answers its web page on the list endpoint.
pub(crate) async fn relay_list(State(shared): State<Shared>) -> Response {
    shared.lock().count(FaultRoute::List);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        RELAY_HTML,
    )
        .into_response()
}
