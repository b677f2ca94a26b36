//! The detail pane: the whole prompt, every parameter, the assets with roles, the status history,
//! the error with a hint, result URLs with the time left before they expire, local files, usage,
//! and the raw request and response JSON — scrollable.

use super::format::{span, symbol, tokens};
use crate::api::hints::hint_for_request;
use crate::api::types::{ContentItem, CreateRequest};
use crate::app::state::{Focus, State};
use crate::engine::asset_files::AssetFiles;
use crate::store::{TaskBodies, TaskRow};
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

/// Result URLs are presigned for this long after the task is first seen succeeded.
pub(crate) use crate::app::results::URL_LIFETIME_SECS;

fn heading<'a>(text: &'a str, theme: &Theme) -> Line<'a> {
    Line::from(Span::styled(text, theme.title()))
}

fn field<'a>(name: &'a str, value: String, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("  {name:<22}"), theme.dim()),
        Span::styled(value, theme.base()),
    ])
}

/// An asset's URL; inline data as its type and size, after the local file's name when known
/// (escaped with every other span of the pane).
fn asset_text(url: &str, names: &AssetFiles) -> String {
    if let Some(rest) = url.strip_prefix("data:") {
        let mime = rest.split(';').next().unwrap_or("");
        let kb = url.len() * 3 / 4 / 1024;
        match names.name(url) {
            Some(name) => format!("{name} (inline {mime}, ~{kb} KB)"),
            None => format!("inline {mime} (~{kb} KB)"),
        }
    } else {
        url.to_string()
    }
}

fn params(req: &CreateRequest) -> Vec<(&'static str, String)> {
    let b = |v: Option<bool>| v.map(|x| x.to_string());
    let i = |v: Option<i64>| v.map(|x| x.to_string());
    let mut out: Vec<(&'static str, Option<String>)> = vec![
        ("model", Some(req.model.clone())),
        ("ratio", req.ratio.clone()),
        ("resolution", req.resolution.clone()),
        (
            "duration",
            req.duration.map(|d| {
                if d == -1 {
                    "adaptive (-1)".into()
                } else {
                    format!("{d}s")
                }
            }),
        ),
        ("frames", i(req.frames)),
        ("seed", i(req.seed)),
        ("camera_fixed", b(req.camera_fixed)),
        ("watermark", b(req.watermark)),
        ("generate_audio", b(req.generate_audio)),
        ("return_last_frame", b(req.return_last_frame)),
        ("service_tier", req.service_tier.clone()),
        ("execution_expires_after", i(req.execution_expires_after)),
        ("priority", i(req.priority)),
        ("draft", b(req.draft)),
        ("callback_url", req.callback_url.clone()),
        ("safety_identifier", req.safety_identifier.clone()),
    ];
    out.retain(|(_, v)| v.is_some());
    out.into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect()
}

fn json_lines<'a>(text: &str, theme: &Theme) -> Vec<Line<'a>> {
    let pretty = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .map(|v| crate::sanitize::json_pretty(&v))
        .unwrap_or_else(|| text.to_string());
    pretty
        .lines()
        .map(|l| {
            // Inline data URLs would flood the pane: cut them.
            let shown = if l.len() > 300 {
                let cut = l
                    .char_indices()
                    .map(|(i, _)| i)
                    .take_while(|&i| i <= 300)
                    .last()
                    .unwrap_or(0);
                format!("{}…", &l[..cut])
            } else {
                l.to_string()
            };
            Line::from(Span::styled(format!("  {shown}"), theme.dim()))
        })
        .collect()
}

/// Every line of the detail pane for task `t`.
pub(crate) fn lines<'a>(t: &'a TaskRow, state: &'a State) -> Vec<Line<'a>> {
    let theme = state.theme();
    let status_style = Style::default()
        .fg(theme.status_color(t.phase.as_str()))
        .add_modifier(Modifier::BOLD);
    let mut out = vec![Line::from(vec![
        Span::styled(format!("{} {}", symbol(&t.phase), t.phase), status_style),
        Span::raw("  "),
        Span::styled(
            t.display_id().to_string(),
            theme.base().add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!("  local {}", t.local_id), theme.dim()),
    ])];
    if let Some(label) = t.label() {
        out.push(Line::from(vec![
            Span::styled("  label ", theme.dim()),
            Span::styled(label.to_string(), theme.accent()),
        ]));
    }
    let bodies = state.bodies_of(&t.local_id);
    retry_chain(t, state, &mut out);
    error(t, bodies, theme, &mut out);
    request(t, bodies, theme, &mut out);
    history(t, state, &mut out);
    result(t, state, bodies, &mut out);
    usage_and_json(t, bodies, theme, &mut out);
    // Server strings (error code and message, ids, status, URLs, notes, the raw answer) are
    // shown escaped, never raw: one pass over every span.
    for line in &mut out {
        for span in &mut line.spans {
            if span.content.chars().any(crate::sanitize::is_unsafe) {
                span.content = crate::sanitize::line(&span.content).into_owned().into();
            }
        }
    }
    out
}

/// The retry chain: what `t` retries, and what retried it.
fn retry_chain<'a>(t: &'a TaskRow, state: &'a State, out: &mut Vec<Line<'a>>) {
    let theme = state.theme();
    if let Some(parent) = t.retry_of() {
        let shown = state.task(parent).map(|p| p.display_id()).unwrap_or(parent);
        out.push(Line::from(Span::styled(
            format!("  ↻ retry #{} of {shown}", t.retry_depth),
            theme.accent(),
        )));
    }
    let children: Vec<&TaskRow> = state
        .tasks
        .iter()
        .filter(|c| c.retry_of() == Some(&*t.local_id))
        .collect();
    for c in children {
        out.push(Line::from(Span::styled(
            format!("  retried as {} ({})", c.display_id(), c.phase),
            theme.accent(),
        )));
    }
}

/// The error with its hint, and the warning of an unknown outcome.
fn error<'a>(t: &'a TaskRow, bodies: Option<&TaskBodies>, theme: &Theme, out: &mut Vec<Line<'a>>) {
    if t.error_code().is_some() || t.error_message().is_some() {
        out.push(Line::default());
        out.push(heading("Error", theme));
        let code = t.error_code().unwrap_or_default().to_string();
        if !code.is_empty() {
            out.push(Line::from(Span::styled(
                format!("  {code}"),
                theme.error().add_modifier(Modifier::BOLD),
            )));
        }
        if let Some(m) = t.error_message() {
            out.push(Line::from(Span::styled(format!("  {m}"), theme.error())));
        }
        let audio = bodies
            .and_then(|b| CreateRequest::from_json(&b.request_json).ok())
            .and_then(|q| q.generate_audio);
        if let Some(h) = hint_for_request(&code, audio) {
            out.push(Line::from(vec![
                Span::styled("  what to do: ", theme.warn()),
                Span::styled(h, theme.base()),
            ]));
        }
    }
    if t.phase == crate::store::Phase::SubmitUnknown {
        out.push(Line::from(Span::styled(
            "  outcome unknown: the create may have reached the server and may be billed. It is never re-sent automatically; check for it before retrying (r) or editing (e).",
            theme.warn(),
        )));
    }
}

/// The prompt, the parameters (from the row until the full request is read) and the assets.
fn request<'a>(
    t: &'a TaskRow,
    bodies: Option<&'a TaskBodies>,
    theme: &Theme,
    out: &mut Vec<Line<'a>>,
) {
    out.push(Line::default());
    out.push(heading("Prompt", theme));
    for l in t.prompt.lines() {
        out.push(Line::from(Span::styled(format!("  {l}"), theme.base())));
    }
    // The row carries the request's main parameters: the full request once it is loaded.
    let full = bodies.and_then(|b| CreateRequest::from_json(&b.request_json).ok());
    let from_row = || CreateRequest {
        model: t.model.to_string(),
        ratio: t.spec.ratio.as_deref().map(str::to_string),
        resolution: t.spec.resolution.as_deref().map(str::to_string),
        duration: t.spec.duration,
        ..CreateRequest::default()
    };
    let shown = match (&full, bodies) {
        (Some(_), _) => None,
        // Loaded and not a request: nothing to show.
        (None, Some(_)) => None,
        (None, None) => Some(from_row()),
    };
    if let Some(req) = full.as_ref().or(shown.as_ref()) {
        out.push(Line::default());
        out.push(heading("Parameters", theme));
        for (k, v) in params(req) {
            out.push(field(k, v, theme));
        }
        let assets: Vec<&ContentItem> = req
            .content
            .iter()
            .filter(|c| c.as_media().is_some())
            .collect();
        if !assets.is_empty() {
            out.push(Line::default());
            out.push(heading("Assets", theme));
            if full.is_none() {
                out.push(loading(theme));
            }
            // Only a task sent from local files has names (the lookup hashes each data URL).
            let names = bodies
                .and_then(|b| b.asset_files.as_deref())
                .map(AssetFiles::from_json)
                .unwrap_or_default();
            for (n, item) in assets.iter().enumerate().filter(|_| full.is_some()) {
                if let Some((kind, url, role)) = item.as_media() {
                    let role = role
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "(no role)".into());
                    out.push(Line::from(vec![
                        Span::styled(
                            format!("  {}. {:<6}{:<16}", n + 1, kind.as_str(), role),
                            theme.dim(),
                        ),
                        Span::styled(asset_text(url, &names), theme.base()),
                    ]));
                }
            }
        }
    }
}

/// The status history (or the row's times until it is read).
fn history<'a>(t: &'a TaskRow, state: &'a State, out: &mut Vec<Line<'a>>) {
    let (theme, now) = (state.theme(), state.now);
    out.push(Line::default());
    out.push(heading("Status history", theme));
    match state.histories.get(&*t.local_id) {
        Some(h) if !h.is_empty() => {
            for e in h {
                let note = e
                    .note
                    .as_deref()
                    .map(|n| format!("  {n}"))
                    .unwrap_or_default();
                out.push(Line::from(vec![
                    Span::styled(format!("  +{:<7}", span(e.at - t.created_at)), theme.dim()),
                    Span::styled(
                        e.status.clone(),
                        Style::default().fg(theme.status_color(&e.status)),
                    ),
                    Span::styled(note, theme.dim()),
                ]));
            }
        }
        _ => out.push(Line::from(Span::styled(
            format!(
                "  created {} ago, updated {} ago",
                span(now - t.created_at),
                span(now - t.updated_at)
            ),
            theme.dim(),
        ))),
    }
}

/// The saved files, the transfer and preview, and the result links with their time left.
fn result<'a>(
    t: &'a TaskRow,
    state: &'a State,
    bodies: Option<&'a TaskBodies>,
    out: &mut Vec<Line<'a>>,
) {
    let (theme, now) = (state.theme(), state.now);
    if t.results.video_url || t.results.video_saved {
        out.push(Line::default());
        out.push(heading("Result", theme));
        // Links and paths are read with the bodies.
        let (video_path, frame_path, video_url, frame_url) = match bodies {
            Some(b) => (
                b.video_path.as_ref(),
                b.last_frame_path.as_ref(),
                b.video_url.as_ref(),
                b.last_frame_url.as_ref(),
            ),
            None => {
                out.push(loading(theme));
                (None, None, None, None)
            }
        };
        if let Some(path) = video_path {
            out.push(field("video (saved)", path.clone(), theme));
        }
        if let Some(path) = frame_path {
            out.push(field("last frame (saved)", path.clone(), theme));
        }
        out.extend(super::preview::transfer_line(state, t));
        out.extend(super::preview::status_line(state, t));
        let left = t.urls_seen_at.map(|s| s + URL_LIFETIME_SECS - now);
        let expiry = match left {
            Some(l) if l > 0 => format!("link expires in {}", span(l)),
            Some(_) => "link has probably expired (refetch the task for a new one)".to_string(),
            None => String::new(),
        };
        if let Some(u) = video_url {
            let warn_secs = state.results.warn_secs;
            let style = if left.is_some_and(|l| l < warn_secs) && !t.results.video_saved {
                theme.warn()
            } else {
                theme.dim()
            };
            out.push(Line::from(vec![
                Span::styled(format!("  {:<22}", "video URL"), theme.dim()),
                Span::styled(expiry, style),
            ]));
            out.push(Line::from(Span::styled(format!("  {u}"), theme.base())));
        }
        if let Some(u) = frame_url {
            out.push(field("last frame URL", String::new(), theme));
            out.push(Line::from(Span::styled(format!("  {u}"), theme.base())));
        }
    }
}

/// The tokens billed, and the raw request and response.
fn usage_and_json<'a>(
    t: &'a TaskRow,
    bodies: Option<&'a TaskBodies>,
    theme: &Theme,
    out: &mut Vec<Line<'a>>,
) {
    if let Some(n) = t.tokens {
        out.push(Line::default());
        out.push(field("usage", format!("{} tokens ({n})", tokens(n)), theme));
    }
    out.push(Line::default());
    out.push(heading("Request JSON", theme));
    match bodies {
        Some(b) => {
            out.extend(json_lines(&b.request_json, theme));
            if let Some(resp) = &b.response_json {
                out.push(Line::default());
                out.push(heading("Response JSON", theme));
                out.extend(json_lines(resp, theme));
            }
        }
        None => out.push(loading(theme)),
    }
}

/// Shown where the full request or response is still being read from the store.
fn loading(theme: &Theme) -> Line<'static> {
    Line::from(Span::styled("  loading…", theme.dim()))
}

/// Draw the detail pane for the selected task.
pub(crate) fn render(frame: &mut Frame, area: Rect, state: &State) {
    let theme = state.theme();
    let focused = state.focus == Focus::Detail;
    let block = Block::default()
        .borders(Borders::TOP | Borders::LEFT)
        .border_style(if focused {
            theme.accent()
        } else {
            theme.border()
        })
        .title(Span::styled(" Detail ", theme.title()));
    let Some(t) = state.selected_task() else {
        frame.render_widget(
            Paragraph::new("No task selected.")
                .style(theme.dim())
                .block(block),
            area,
        );
        return;
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // The last frame sits at the top (it scrolls away with the text's first lines).
    let pic = super::preview::height(state, t, inner).saturating_sub(state.detail_scroll);
    let (pic_area, text_area) = (
        Rect {
            height: pic,
            ..inner
        },
        Rect {
            y: inner.y + pic,
            height: inner.height - pic,
            ..inner
        },
    );
    super::preview::render(frame, pic_area, state, t);
    let scroll = state
        .detail_scroll
        .saturating_sub(super::preview::height(state, t, inner));
    // The contact sheet's state (decoding, or why there is none) leads the text, under the picture.
    let mut body = lines(t, state);
    if let Some(note) = super::preview::sheet_line(state, t) {
        body.insert(0, note);
    }
    let (text, scroll, found) = super::searched(state, body, scroll);
    if let Some(title) = found {
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(title, theme.accent()))),
            Rect {
                x: inner.x + 9,
                y: area.y,
                width: inner.width.saturating_sub(9),
                height: 1,
            },
        );
    }
    let para = Paragraph::new(text)
        .style(theme.base())
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0));
    frame.render_widget(para, text_area);
}
