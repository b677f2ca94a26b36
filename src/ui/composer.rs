//! The composer pane: the prompt editor with its character count, the parameter form with each
//! problem beside its field, the asset list, and the input line, drafts/templates list and
//! preview drawn over it. Everything comes from `state.composer`.

use crate::api::models::PROMPT_SOFT_LIMIT;
use crate::app::composer::fields::{self, Field};
use crate::app::composer::{Editor, Mode, PickerKind, ProblemAt};
use crate::app::keymap::Context;
use crate::app::layout::percent;
use crate::app::state::State;
use crate::text::{truncate, wrap};
use crate::theme::Theme;
use crate::ui::format::span;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// Draw the composer into `area` (the body between header and footer).
pub(crate) fn render(frame: &mut Frame, area: Rect, state: &State) {
    let Some(e) = state.composer.editor.as_deref() else {
        return;
    };
    let theme = state.theme();
    frame.render_widget(Clear, area);
    frame.render_widget(Block::default().style(theme.base()), area);
    if area.height < 6 {
        return;
    }
    title(frame, Rect::new(area.x, area.y, area.width, 1), state, e);
    keys(
        frame,
        Rect::new(area.x, area.bottom() - 1, area.width, 1),
        state,
    );
    let body = Rect::new(area.x, area.y + 1, area.width, area.height - 2);
    let (prompt_r, form_r, assets_r) = if body.width >= 100 {
        let lw = percent(body.width, 55);
        let ph = percent(body.height, 55);
        (
            Rect::new(body.x, body.y, lw, ph),
            Rect::new(body.x + lw, body.y, body.width - lw, body.height),
            Rect::new(body.x, body.y + ph, lw, body.height - ph),
        )
    } else {
        let ph = percent(body.height, 30).max(4);
        let fh = percent(body.height.saturating_sub(ph), 60);
        (
            Rect::new(body.x, body.y, body.width, ph),
            Rect::new(body.x, body.y + ph, body.width, fh),
            Rect::new(
                body.x,
                body.y + ph + fh,
                body.width,
                body.height.saturating_sub(ph + fh),
            ),
        )
    };
    prompt(frame, prompt_r, theme, e);
    form(frame, form_r, theme, e);
    asset_list(frame, assets_r, theme, e);
    match &e.mode {
        Mode::Input {
            purpose,
            text,
            candidates,
        } => {
            let shown = candidates.len().min(6) as u16;
            let h = 3 + shown;
            let r = Rect::new(area.x, area.bottom().saturating_sub(h + 1), area.width, h);
            let mut lines = vec![Line::from(vec![
                Span::styled(format!("{}: ", purpose.label()), theme.accent()),
                Span::styled(text.clone(), theme.base()),
                Span::styled("█", theme.accent()),
            ])];
            for c in candidates.iter().take(6) {
                lines.push(Line::from(Span::styled(format!("  {c}"), theme.dim())));
            }
            frame.render_widget(Clear, r);
            frame.render_widget(
                Paragraph::new(lines).block(boxed(
                    " Enter accepts · Tab completes · Esc cancels ",
                    theme,
                    true,
                )),
                r,
            );
        }
        Mode::Picker {
            kind,
            items,
            selected,
        } => picker(frame, area, theme, *kind, items, *selected),
        Mode::Preview { body, scroll } => preview(frame, area, state, body.as_ref(), *scroll),
        Mode::Edit | Mode::Submitting => {}
    }
}

fn boxed<'a>(title: impl Into<Line<'a>>, theme: &Theme, focused: bool) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(if focused {
            theme.accent()
        } else {
            theme.border()
        })
        .title(title)
        .style(theme.base())
}

/// The title line: the status (what the user must know) always shows; at a narrow width the
/// saved state and the edited task take their short forms, then the draft's name is cut.
fn title(frame: &mut Frame, area: Rect, state: &State, e: &Editor) {
    use unicode_width::UnicodeWidthStr;
    let theme = state.theme();
    let (saved, saved_short, saved_style) = match (e.unsaved_since, e.saved_at) {
        (Some(_), _) => (
            "· unsaved changes ".to_string(),
            "· unsaved ".to_string(),
            theme.warn(),
        ),
        (None, Some(at)) => {
            let ago = span(state.now - at);
            (
                format!("· draft saved {ago} ago "),
                format!("· saved {ago} ago "),
                theme.dim(),
            )
        }
        (None, None) => ("· new ".to_string(), "· new ".to_string(), theme.dim()),
    };
    let edit = e.retry_of.as_ref().map(|orig| {
        let shown = state
            .task(orig)
            .map(|t| t.display_id().to_string())
            .unwrap_or_else(|| orig.clone());
        let shown = truncate(&shown, 40);
        (format!("· edit of {shown} (↻) "), format!("· ↻ {shown} "))
    });
    let (status, status_style) = match (&e.mode, e.problems.len()) {
        (Mode::Submitting, _) => ("· submitting…".to_string(), theme.accent()),
        (_, 0) if e.server_error.is_some() => (
            "· rejected: fix it and submit again".to_string(),
            theme.error(),
        ),
        (_, 0) => ("· ready to submit".to_string(), theme.accent()),
        (_, n) => (format!("· {n} problem(s)"), theme.error()),
    };
    const HEAD: &str = " Composer ";
    const QUOTES: &str = "draft “” ";
    let width = area.width as usize;
    let name = crate::sanitize::flat(&e.name).into_owned();
    let (edit_full, edit_short) = edit.unwrap_or_default();
    // Longest first: the first where the draft's name fits whole, else the first where it fits
    // cut to 12 columns or more, else the shortest with what is left of the name. The edited
    // task goes last (a copy's draft is named after it).
    let candidates = [
        (saved.as_str(), edit_full.as_str()),
        (saved_short.as_str(), edit_full.as_str()),
        (saved_short.as_str(), edit_short.as_str()),
        (saved_short.as_str(), ""),
    ];
    let room = |(saved, edit): (&str, &str)| {
        let used = HEAD.width() + QUOTES.width() + saved.width() + edit.width() + status.width();
        width.saturating_sub(used)
    };
    let (saved, edit) = candidates
        .iter()
        .find(|&&c| name.width() <= room(c))
        .or_else(|| candidates.iter().find(|&&c| room(c) >= 12))
        .copied()
        .unwrap_or(candidates[3]);
    let rest = room((saved, edit));
    let name = if name.width() <= rest || rest >= 6 {
        format!("draft “{}” ", truncate(&name, rest))
    } else {
        String::new()
    };
    let spans = vec![
        Span::styled(HEAD, theme.title()),
        Span::styled(name, theme.base()),
        Span::styled(saved.to_string(), saved_style),
        Span::styled(edit.to_string(), theme.dim()),
        Span::styled(status, status_style),
    ];
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn keys(frame: &mut Frame, area: Rect, state: &State) {
    let theme = state.theme();
    let mut spans = Vec::new();
    if state.context() == Context::Composer {
        // The footer below already lists these; say how the prompt editor works instead.
        spans.push(Span::styled(
            " Enter new line · C-p/C-n earlier prompts · C-z/C-y undo/redo · M-b/M-f words · paste works · F1 all keys",
            theme.dim(),
        ));
    } else {
        for (key, label) in state.keymap.footer(Context::Composer) {
            spans.push(Span::styled(
                format!(" {key}"),
                theme.accent().add_modifier(Modifier::BOLD),
            ));
            spans.push(Span::styled(format!(" {label}"), theme.dim()));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `✗ message — fix` for the problems of one place, wrapped under it.
fn problem_lines(ps: &[&ProblemAt], theme: &Theme, indent: &str, width: u16) -> Vec<Line<'static>> {
    let avail = (width as usize).saturating_sub(indent.len() + 3);
    let mut out = Vec::new();
    for p in ps {
        let text = if p.problem.fix.is_empty() {
            p.problem.message.clone()
        } else {
            format!("{} — {}", p.problem.message, p.problem.fix)
        };
        for (i, l) in wrap(&text, avail).into_iter().enumerate() {
            let lead = if i == 0 { "✗ " } else { "  " };
            out.push(Line::from(Span::styled(
                format!("{indent}{lead}{l}"),
                theme.error(),
            )));
        }
    }
    out
}

fn prompt(frame: &mut Frame, area: Rect, theme: &Theme, e: &Editor) {
    let focused = e.focus == Field::Prompt && e.mode == Mode::Edit;
    let chars = e.prompt_chars();
    let count_style = if chars > PROMPT_SOFT_LIMIT {
        theme.warn()
    } else {
        theme.dim()
    };
    let mut title = vec![
        Span::styled(" Prompt ", theme.title()),
        Span::styled(format!("{chars}/{PROMPT_SOFT_LIMIT} chars "), count_style),
    ];
    if chars > PROMPT_SOFT_LIMIT {
        title.push(Span::styled(
            "(longer than the API recommends) ",
            theme.warn(),
        ));
    }
    let mut block = boxed(Line::from(title), theme, focused);
    let problems = e.problems_at(Field::Prompt, None);
    if let Some(p) = problems.first() {
        block = block.title_bottom(Line::from(Span::styled(
            truncate(
                &format!(" ✗ {} — {} ", p.problem.message, p.problem.fix),
                area.width.saturating_sub(2) as usize,
            ),
            theme.error(),
        )));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut t = e.prompt.clone();
    t.set_style(theme.base());
    t.set_cursor_style(if focused {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        theme.base()
    });
    if e.prompt.is_empty() {
        t.set_placeholder_text("Describe the video… (Ctrl-P recalls earlier prompts)");
        t.set_placeholder_style(theme.dim());
    }
    frame.render_widget(&t, inner);
}

fn form(frame: &mut Frame, area: Rect, theme: &Theme, e: &Editor) {
    let focused_form = e.focus != Field::Prompt && e.focus != Field::Assets;
    let mut block = boxed(
        Line::from(Span::styled(" Parameters (←/→ change) ", theme.title())),
        theme,
        focused_form && e.mode == Mode::Edit,
    );
    let inner = block.inner(area);
    let mut lines: Vec<Line> = Vec::new();
    let mut focus_line = 0usize;
    for &f in Field::form() {
        let focused = e.focus == f;
        if focused {
            focus_line = lines.len();
        }
        let value = match (&e.typing, focused) {
            (Some(t), true) => format!("{t}▏"),
            _ => fields::display(e, f),
        };
        let problems = e.problems_at(f, None);
        let marker = if problems.is_empty() { " " } else { "✗" };
        let row = format!("{marker} {:<24}{}", f.api_name(), value);
        push_row(
            &mut lines,
            &row,
            focused,
            &problems,
            theme,
            "    ",
            inner.width,
        );
    }
    // Parameters cut off at the bottom (80x24) are announced, not silently hidden.
    let h = inner.height as usize;
    let scroll = (focus_line + 2).saturating_sub(h);
    if lines.len() > scroll + h {
        block = block
            .title_bottom(Line::from(Span::styled(" more ↓ ", theme.accent())).right_aligned());
    }
    frame.render_widget(block, area);
    render_scrolled(frame, inner, lines, focus_line);
}

/// One form or asset row, highlighted when focused and in the error colour when it has
/// problems, followed by its problems indented by `indent`.
fn push_row(
    lines: &mut Vec<Line<'static>>,
    row: &str,
    focused: bool,
    problems: &[&ProblemAt],
    theme: &Theme,
    indent: &str,
    width: u16,
) {
    let style = if focused {
        theme.selected()
    } else if problems.is_empty() {
        theme.base()
    } else {
        theme.error()
    };
    lines.push(Line::from(Span::styled(
        truncate(row, width as usize),
        style,
    )));
    lines.extend(problem_lines(problems, theme, indent, width));
}

/// `lines` in `inner`, scrolled so that line `focus_line` and the one below it are in view.
fn render_scrolled(frame: &mut Frame, inner: Rect, lines: Vec<Line<'static>>, focus_line: usize) {
    let h = inner.height as usize;
    let scroll = (focus_line + 2).saturating_sub(h) as u16;
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

fn asset_list(frame: &mut Frame, area: Rect, theme: &Theme, e: &Editor) {
    let focused = e.focus == Field::Assets;
    let block = boxed(
        Line::from(vec![
            Span::styled(" Assets ", theme.title()),
            Span::styled(
                format!("{} (i image · v video · a audio) ", e.assets.len()),
                theme.dim(),
            ),
        ]),
        theme,
        focused && e.mode == Mode::Edit,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines: Vec<Line> = problem_lines(
        &e.problems_at(Field::Assets, None)
            .into_iter()
            .filter(|p| p.asset.is_none())
            .collect::<Vec<_>>(),
        theme,
        "",
        inner.width,
    );
    if e.assets.is_empty() {
        lines.push(Line::from(Span::styled(
            "none: text to video (Tab here, then i/v/a to add)",
            theme.dim(),
        )));
    }
    let mut focus_line = 0;
    for (i, a) in e.assets.iter().enumerate() {
        let selected = focused && i == e.asset_sel;
        if selected {
            focus_line = lines.len();
        }
        let local = match e.files.get(a.target.trim()) {
            Some(Some(Ok(size))) if a.is_local() => {
                format!("  [local file, {}]", crate::ui::format::tokens(*size) + "B")
            }
            _ if a.is_local() => "  [local file]".to_string(),
            _ => String::new(),
        };
        // Keep the end of a long path or URL (the file name) and the local-file note visible.
        let room = (inner.width as usize).saturating_sub(29 + local.chars().count());
        let target = if let Some(rest) = a.target.strip_prefix("data:") {
            // Inline data (a local file inlined at submit, read back from a stored request):
            // its type and size, not thousands of base64 characters.
            let mime: String = rest
                .split([';', ','])
                .next()
                .unwrap_or_default()
                .chars()
                .take(40)
                .collect();
            let size = crate::ui::format::tokens((a.target.len() as u64).saturating_mul(3) / 4);
            let inline = format!("inline {mime}, {size}B");
            match &a.name {
                Some(name) => {
                    // The file's name is the filesystem's text: escaped, one line.
                    let name = crate::sanitize::line(name);
                    let mut note = format!(" ({inline})");
                    if name.chars().count() + note.chars().count() > room {
                        // Narrow: the name before the type.
                        note = format!(" (inline, {size}B)");
                    }
                    // A long name keeps its end (the extension) and the note stays whole.
                    let room = room.saturating_sub(note.chars().count()).max(8);
                    format!("{}{note}", tail(&name, room))
                }
                None => format!("{inline} (a local file of the original request)"),
            }
        } else if a.target.is_empty() {
            "(no URL or path yet)".to_string()
        } else {
            a.target.clone()
        };
        let target = tail(&target, room);
        let row = format!(
            "{} {}. {:<5} {:<16} {target}{local}",
            if selected { "▶" } else { " " },
            i + 1,
            a.kind.as_str(),
            a.role.as_str(),
        );
        let problems = e.problems_at(Field::Assets, Some(i));
        push_row(
            &mut lines,
            &row,
            selected,
            &problems,
            theme,
            "     ",
            inner.width,
        );
    }
    render_scrolled(frame, inner, lines, focus_line);
}

/// The last `width` characters of `s`, starting with `…` when cut.
fn tail(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width || width < 2 {
        return s.to_string();
    }
    let rest: String = s.chars().skip(n - (width - 1)).collect();
    format!("…{rest}")
}

fn picker(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    kind: PickerKind,
    items: &[(String, String)],
    selected: usize,
) {
    let title = match kind {
        PickerKind::Drafts => " Drafts (Enter opens · d deletes · Esc closes) ",
        PickerKind::Templates => {
            " Templates (Enter starts a draft from it · d deletes · Esc closes) "
        }
    };
    let lines: Vec<Line> = items
        .iter()
        .enumerate()
        .map(|(i, (name, json))| {
            let prompt = crate::app::composer::editor_from_json(String::new(), json)
                .map(|e| e.prompt_text())
                .unwrap_or_default();
            let text = truncate(&format!(" {name:<24} {prompt}"), 70);
            let style = if i == selected {
                theme.selected()
            } else {
                theme.base()
            };
            Line::from(Span::styled(text, style))
        })
        .collect();
    let r = super::centered(area, 74, lines.len() as u16 + 2);
    let visible = r.height.saturating_sub(2) as usize;
    let scroll = (selected + 1).saturating_sub(visible) as u16;
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines)
            .block(boxed(title, theme, true))
            .scroll((scroll, 0)),
        r,
    );
}

/// Long `data:` URLs shortened for the screen (the copy gets the full body).
fn shorten_data(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) if s.starts_with("data:") && s.len() > 60 => {
            *s = format!(
                "{}… ({} chars)",
                s.chars().take(40).collect::<String>(),
                s.len()
            );
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(shorten_data),
        serde_json::Value::Object(o) => o.values_mut().for_each(shorten_data),
        _ => {}
    }
}

fn preview(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    body: Option<&Result<String, String>>,
    scroll: u16,
) {
    let theme = state.theme();
    let mut lines: Vec<Line> = Vec::new();
    match body {
        None => lines.push(Line::from(Span::styled(
            "resolving local files…",
            theme.dim(),
        ))),
        Some(Err(e)) => lines.push(Line::from(Span::styled(
            format!("cannot build the body: {e}"),
            theme.error(),
        ))),
        Some(Ok(b)) => {
            let mut v: serde_json::Value = serde_json::from_str(b).unwrap_or_default();
            shorten_data(&mut v);
            let pretty = serde_json::to_string_pretty(&v).unwrap_or_default();
            lines.push(Line::from(Span::styled(
                "JSON body (j copies it in full):",
                theme.title(),
            )));
            lines.extend(
                pretty
                    .lines()
                    .map(|l| Line::from(Span::styled(l.to_string(), theme.base()))),
            );
            lines.push(Line::default());
            lines.push(Line::from(Span::styled(
                format!("curl (c copies it; the key stays in ${}):", state.key_var),
                theme.title(),
            )));
            let compact = serde_json::to_string(&v).unwrap_or_default();
            let curl = crate::app::copy::curl_command(&state.base_url, &state.key_var, &compact);
            lines.extend(
                curl.lines()
                    .map(|l| Line::from(Span::styled(l.to_string(), theme.base()))),
            );
        }
    }
    super::large_popup(
        frame,
        area,
        boxed(
            " Preview (j JSON · c curl · ↑/↓ scroll · Esc closes) ",
            theme,
            true,
        ),
        lines,
        scroll,
    );
}
