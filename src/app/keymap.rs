//! The command registry: every intent with its default keys, the context it works in, a help line
//! and a footer label. The help overlay and the footer are generated from it, so they can never
//! disagree with what the keys do. Keys can be rebound in the config (`[ui.keys]`).

use super::msg::Intent;
use super::types::composer::{Composer, ComposerIntent as C, Field, Mode};
use super::types::copy::CopyWhat as W;
use super::types::sort::SortKey;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Context {
    /// The task table (and the detail pane when it has focus).
    Main,
    /// The `/` filter line.
    Filter,
    Help,
    CopyMenu,
    Confirm,
    /// The sort menu (`s`): a column's letter.
    Sort,
    /// The composer, whatever has the keyboard in it.
    Composer,
    /// The composer with a parameter field focused.
    ComposerField,
    /// The composer with the asset list focused.
    ComposerAssets,
    /// The composer's one-line input (asset path, names, files).
    ComposerInput,
    /// The composer's drafts / templates list.
    ComposerPicker,
    /// The composer's preview of the body and curl command.
    ComposerPreview,
    /// The command palette (`:`); other keys are its text.
    Palette,
    /// The column chooser (`c`).
    Columns,
    /// The search line of the help or the detail pane (`/` there).
    Search,
}

/// A key as written in the config: `j`, `G`, `down`, `ctrl-c`, `shift-tab`, `pgup`, `f5`, `space`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct KeySpec {
    pub(crate) code: KeyCode,
    pub(crate) ctrl: bool,
    pub(crate) alt: bool,
}

impl KeySpec {
    /// Parse a key string; `Err` says what is wrong.
    pub(crate) fn parse(s: &str) -> Result<KeySpec, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut shift = false;
        let mut rest = s.trim();
        loop {
            let lower = rest.to_ascii_lowercase();
            if let Some(r) = lower
                .strip_prefix("ctrl-")
                .or_else(|| lower.strip_prefix("c-"))
            {
                ctrl = true;
                rest = &rest[rest.len() - r.len()..];
            } else if let Some(r) = lower
                .strip_prefix("alt-")
                .or_else(|| lower.strip_prefix("m-"))
            {
                alt = true;
                rest = &rest[rest.len() - r.len()..];
            } else if let Some(r) = lower.strip_prefix("shift-") {
                shift = true;
                rest = &rest[rest.len() - r.len()..];
            } else {
                break;
            }
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pgdown" | "pagedown" => KeyCode::PageDown,
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" if shift => KeyCode::BackTab,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "space" => KeyCode::Char(' '),
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => {
                        let c = if shift { c.to_ascii_uppercase() } else { c };
                        KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c })
                    }
                    _ => {
                        return Err(format!(
                            "`{s}` is not a key (try e.g. j, G, down, ctrl-c, shift-tab, pgup, f5, space)"
                        ));
                    }
                }
            }
        };
        Ok(KeySpec { code, ctrl, alt })
    }

    /// Whether a key event is this key.
    pub(crate) fn matches(&self, ev: &KeyEvent) -> bool {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let alt = ev.modifiers.contains(KeyModifiers::ALT);
        if ctrl != self.ctrl || alt != self.alt {
            return false;
        }
        match (ev.code, self.code) {
            (KeyCode::Char(a), KeyCode::Char(b)) if ctrl => a.eq_ignore_ascii_case(&b),
            (a, b) => a == b,
        }
    }

    /// How the key is shown in help and the footer.
    pub(crate) fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Up => "↑".to_string(),
            KeyCode::Down => "↓".to_string(),
            KeyCode::Left => "←".to_string(),
            KeyCode::Right => "→".to_string(),
            KeyCode::Home => "Home".to_string(),
            KeyCode::End => "End".to_string(),
            KeyCode::PageUp => "PgUp".to_string(),
            KeyCode::PageDown => "PgDn".to_string(),
            KeyCode::Enter => "Enter".to_string(),
            KeyCode::Esc => "Esc".to_string(),
            KeyCode::Tab => "Tab".to_string(),
            KeyCode::BackTab => "S-Tab".to_string(),
            KeyCode::Backspace => "Bksp".to_string(),
            KeyCode::Delete => "Del".to_string(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            _ => "?".to_string(),
        };
        match (self.ctrl, self.alt) {
            (true, _) => format!("C-{base}"),
            (_, true) => format!("M-{base}"),
            _ => base,
        }
    }
}

/// One command of the registry.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    pub(crate) intent: Intent,
    /// The name used in the config (`move_down = ["j", "down"]`).
    pub(crate) name: &'static str,
    pub(crate) context: Context,
    pub(crate) keys: Vec<KeySpec>,
    /// The help overlay's description.
    pub(crate) help: &'static str,
    /// The footer's short label; empty keeps it out of the footer.
    pub(crate) footer: &'static str,
}

/// A command as the registry declares it (its keys still as written in the config).
struct Entry {
    intent: Intent,
    name: &'static str,
    context: Context,
    keys: &'static [&'static str],
    help: &'static str,
    footer: &'static str,
}

#[rustfmt::skip]
const DEFAULTS: &[Entry] = &[
    Entry { intent: Intent::MoveDown, name: "move_down", context: Context::Main, keys: &["j", "down"], help: "next task", footer: "" },
    Entry { intent: Intent::MoveUp, name: "move_up", context: Context::Main, keys: &["k", "up"], help: "previous task", footer: "" },
    Entry { intent: Intent::Top, name: "top", context: Context::Main, keys: &["g", "home"], help: "first task", footer: "" },
    Entry { intent: Intent::Bottom, name: "bottom", context: Context::Main, keys: &["G", "end"], help: "last task", footer: "" },
    Entry { intent: Intent::PageDown, name: "page_down", context: Context::Main, keys: &["pgdn", "ctrl-d"], help: "page down", footer: "" },
    Entry { intent: Intent::PageUp, name: "page_up", context: Context::Main, keys: &["pgup", "ctrl-u"], help: "page up", footer: "" },
    Entry { intent: Intent::ToggleDetail, name: "detail", context: Context::Main, keys: &["enter"], help: "show or hide the detail pane", footer: "detail" },
    Entry { intent: Intent::FullDetail, name: "detail_full", context: Context::Main, keys: &["f"], help: "detail pane full screen", footer: "" },
    Entry { intent: Intent::FocusNext, name: "focus", context: Context::Main, keys: &["tab"], help: "move focus between table and detail", footer: "" },
    Entry { intent: Intent::StartFilter, name: "filter", context: Context::Main, keys: &["/"], help: "filter: text, status:failed, model:fast", footer: "filter" },
    Entry { intent: Intent::ClearFilter, name: "clear", context: Context::Main, keys: &["esc"], help: "back one level: close the detail pane, else clear the marks, else the filter", footer: "" },
    Entry { intent: Intent::SortMenu, name: "sort", context: Context::Main, keys: &["s"], help: "sort: then the column's letter (a s m t d u, o queue order)", footer: "sort" },
    Entry { intent: Intent::SortReverse, name: "sort_reverse", context: Context::Main, keys: &["S"], help: "reverse the sort", footer: "" },
    Entry { intent: Intent::Columns, name: "columns", context: Context::Main, keys: &["c"], help: "choose the table's columns: show, hide, reorder (saved in the config)", footer: "" },
    Entry { intent: Intent::Palette, name: "palette", context: Context::Main, keys: &[":"], help: "command palette: any command by name, :filter, :goto ID, :theme, :sort, :view", footer: "" },
    Entry { intent: Intent::QuickFilter(1), name: "only_queued", context: Context::Main, keys: &["1"], help: "only queued (again: all)", footer: "" },
    Entry { intent: Intent::QuickFilter(2), name: "only_running", context: Context::Main, keys: &["2"], help: "only running", footer: "" },
    Entry { intent: Intent::QuickFilter(3), name: "only_succeeded", context: Context::Main, keys: &["3"], help: "only succeeded", footer: "" },
    Entry { intent: Intent::QuickFilter(4), name: "only_failed", context: Context::Main, keys: &["4"], help: "only failed", footer: "" },
    Entry { intent: Intent::QuickFilter(5), name: "only_expired", context: Context::Main, keys: &["5"], help: "only expired", footer: "" },
    Entry { intent: Intent::QuickFilter(6), name: "only_cancelled", context: Context::Main, keys: &["6"], help: "only cancelled", footer: "" },
    Entry { intent: Intent::ToggleMark, name: "mark", context: Context::Main, keys: &["space"], help: "mark or unmark the task", footer: "mark" },
    Entry { intent: Intent::MarkAll, name: "mark_all", context: Context::Main, keys: &["ctrl-a"], help: "mark every task in the filter", footer: "" },
    Entry { intent: Intent::CopyMenu, name: "copy", context: Context::Main, keys: &["y"], help: "copy id / URLs / local paths / request JSON / curl", footer: "copy" },
    Entry { intent: Intent::CancelTask, name: "cancel", context: Context::Main, keys: &["x"], help: "cancel the queued task, or remove marked/selected rows that never reached the server (asks first)", footer: "" },
    Entry { intent: Intent::Adopt, name: "adopt", context: Context::Main, keys: &["A"], help: "adopt the probable server task found for an uncertain create (asks first)", footer: "" },
    Entry { intent: Intent::QueuePause, name: "queue_pause", context: Context::Main, keys: &["P"], help: "pause or resume the submission queue (pending ○ rows)", footer: "" },
    Entry { intent: Intent::QueueUp, name: "queue_up", context: Context::Main, keys: &["K"], help: "move the pending row up the queue (sent sooner)", footer: "" },
    Entry { intent: Intent::QueueDown, name: "queue_down", context: Context::Main, keys: &["J"], help: "move the pending row down the queue", footer: "" },
    Entry { intent: Intent::QueueRemove, name: "queue_remove", context: Context::Main, keys: &["X", "delete"], help: "remove marked, else selected, pending rows (asks first)", footer: "" },
    Entry { intent: Intent::TogglePause, name: "pause", context: Context::Main, keys: &["p"], help: "pause or resume polling", footer: "pause" },
    Entry { intent: Intent::RefreshNow, name: "refresh", context: Context::Main, keys: &["R"], help: "poll every unfinished task now", footer: "" },
    Entry { intent: Intent::CycleTheme, name: "theme", context: Context::Main, keys: &["t"], help: "next colour theme", footer: "" },
    Entry { intent: Intent::ShowLog, name: "log", context: Context::Main, keys: &["L"], help: "message log", footer: "" },
    Entry { intent: Intent::NewDraft, name: "new", context: Context::Main, keys: &["n"], help: "new request (composer)", footer: "" },
    Entry { intent: Intent::Retry, name: "retry", context: Context::Main, keys: &["r"], help: "retry: resubmit the marked (else selected) failed/expired/cancelled tasks", footer: "retry" },
    Entry { intent: Intent::RetryAllFailed, name: "retry_failed", context: Context::Main, keys: &["ctrl-r"], help: "retry every failed task in the filter, not retried yet", footer: "" },
    Entry { intent: Intent::Edit, name: "edit", context: Context::Main, keys: &["e"], help: "edit and resubmit", footer: "" },
    Entry { intent: Intent::Download, name: "download", context: Context::Main, keys: &["d"], help: "download (again) the marked, else selected, results", footer: "" },
    Entry { intent: Intent::Open, name: "open", context: Context::Main, keys: &["o"], help: "open the saved video (over SSH: show an scp command)", footer: "" },
    Entry { intent: Intent::SheetView, name: "sheet", context: Context::Main, keys: &["v"], help: "contact sheet full screen, with frame times (again: back)", footer: "" },
    Entry { intent: Intent::Variants, name: "variants", context: Context::Main, keys: &["="], help: "only this task's variants: same prompt, its retries and edits (again: all)", footer: "" },
    Entry { intent: Intent::PrevVariant, name: "prev_variant", context: Context::Main, keys: &["["], help: "previous variant of this request", footer: "" },
    Entry { intent: Intent::NextVariant, name: "next_variant", context: Context::Main, keys: &["]"], help: "next variant of this request", footer: "" },
    Entry { intent: Intent::Summary, name: "summary", context: Context::Main, keys: &["$"], help: "tokens and cost per day, model and filter", footer: "" },
    Entry { intent: Intent::Help, name: "help", context: Context::Main, keys: &["?", "f1"], help: "this help", footer: "help" },
    Entry { intent: Intent::Suspend, name: "suspend", context: Context::Main, keys: &["ctrl-z"], help: "suspend to the shell (fg resumes)", footer: "" },
    Entry { intent: Intent::Quit, name: "quit", context: Context::Main, keys: &["q"], help: "quit", footer: "quit" },
    Entry { intent: Intent::ForceQuit, name: "force_quit", context: Context::Main, keys: &["ctrl-c"], help: "quit now", footer: "" },
    Entry { intent: Intent::Confirm, name: "filter_apply", context: Context::Filter, keys: &["enter"], help: "keep the filter", footer: "apply" },
    Entry { intent: Intent::Close, name: "filter_cancel", context: Context::Filter, keys: &["esc"], help: "drop the filter", footer: "cancel" },
    Entry { intent: Intent::Close, name: "help_close", context: Context::Help, keys: &["esc", "q", "?"], help: "close help", footer: "close" },
    Entry { intent: Intent::MoveDown, name: "help_down", context: Context::Help, keys: &["j", "down"], help: "scroll down", footer: "" },
    Entry { intent: Intent::MoveUp, name: "help_up", context: Context::Help, keys: &["k", "up"], help: "scroll up", footer: "" },
    Entry { intent: Intent::StartFilter, name: "help_search", context: Context::Help, keys: &["/"], help: "search the help (also in the detail pane when it has focus)", footer: "" },
    Entry { intent: Intent::SearchNext, name: "search_next", context: Context::Help, keys: &["n"], help: "next match of the search (also in the detail pane)", footer: "" },
    Entry { intent: Intent::ToggleDetail, name: "log_goto", context: Context::Help, keys: &["enter"], help: "in the message log: go to the task its top line names", footer: "" },
    Entry { intent: Intent::Confirm, name: "search_apply", context: Context::Search, keys: &["enter"], help: "keep the search (n: next match)", footer: "keep" },
    Entry { intent: Intent::Close, name: "search_cancel", context: Context::Search, keys: &["esc"], help: "drop the search", footer: "drop" },
    Entry { intent: Intent::Copy(W::Id), name: "copy_id", context: Context::CopyMenu, keys: &["i"], help: "task id", footer: "id" },
    Entry { intent: Intent::Copy(W::VideoUrl), name: "copy_url", context: Context::CopyMenu, keys: &["v"], help: "video URL", footer: "video URL" },
    Entry { intent: Intent::Copy(W::Request), name: "copy_request", context: Context::CopyMenu, keys: &["j"], help: "request JSON", footer: "request" },
    Entry { intent: Intent::Copy(W::Curl), name: "copy_curl", context: Context::CopyMenu, keys: &["c"], help: "curl command", footer: "curl" },
    Entry { intent: Intent::Copy(W::FrameUrl), name: "copy_frame_url", context: Context::CopyMenu, keys: &["f"], help: "last-frame URL", footer: "frame URL" },
    Entry { intent: Intent::Copy(W::Paths), name: "copy_paths", context: Context::CopyMenu, keys: &["p"], help: "local file path(s) or object URL(s)", footer: "paths" },
    Entry { intent: Intent::Copy(W::ObjectUrl), name: "copy_object_url", context: Context::CopyMenu, keys: &["o"], help: "object URL of the video in a bucket (s3://)", footer: "s3" },
    Entry { intent: Intent::Copy(W::PresignedLink), name: "copy_presigned_link", context: Context::CopyMenu, keys: &["l"], help: "presigned link to it, valid 1 hour", footer: "link" },
    Entry { intent: Intent::Close, name: "copy_close", context: Context::CopyMenu, keys: &["esc", "q"], help: "close", footer: "close" },
    Entry { intent: Intent::SortBy(SortKey::Created), name: "sort_age", context: Context::Sort, keys: &["a"], help: "age (created)", footer: "age" },
    Entry { intent: Intent::SortBy(SortKey::Status), name: "sort_status", context: Context::Sort, keys: &["s"], help: "status (active first)", footer: "status" },
    Entry { intent: Intent::SortBy(SortKey::Model), name: "sort_model", context: Context::Sort, keys: &["m"], help: "model", footer: "model" },
    Entry { intent: Intent::SortBy(SortKey::Tokens), name: "sort_tokens", context: Context::Sort, keys: &["t"], help: "tokens", footer: "tokens" },
    Entry { intent: Intent::SortBy(SortKey::Duration), name: "sort_duration", context: Context::Sort, keys: &["d"], help: "requested duration", footer: "duration" },
    Entry { intent: Intent::SortBy(SortKey::Updated), name: "sort_updated", context: Context::Sort, keys: &["u"], help: "last update", footer: "updated" },
    Entry { intent: Intent::SortBy(SortKey::Queue), name: "sort_queue", context: Context::Sort, keys: &["o"], help: "queue order (the next pending row first)", footer: "queue" },
    Entry { intent: Intent::Close, name: "sort_close", context: Context::Sort, keys: &["esc", "q"], help: "close", footer: "close" },
    Entry { intent: Intent::Confirm, name: "palette_run", context: Context::Palette, keys: &["enter"], help: "run the highlighted command", footer: "run" },
    Entry { intent: Intent::FocusNext, name: "palette_complete", context: Context::Palette, keys: &["tab"], help: "complete the highlighted name (then type its word)", footer: "complete" },
    Entry { intent: Intent::MoveUp, name: "palette_up", context: Context::Palette, keys: &["up", "ctrl-p"], help: "previous match", footer: "" },
    Entry { intent: Intent::MoveDown, name: "palette_down", context: Context::Palette, keys: &["down", "ctrl-n"], help: "next match", footer: "" },
    Entry { intent: Intent::Close, name: "palette_close", context: Context::Palette, keys: &["esc"], help: "close", footer: "close" },
    Entry { intent: Intent::MoveDown, name: "columns_down", context: Context::Columns, keys: &["j", "down"], help: "next column", footer: "" },
    Entry { intent: Intent::MoveUp, name: "columns_up", context: Context::Columns, keys: &["k", "up"], help: "previous column", footer: "" },
    Entry { intent: Intent::ToggleMark, name: "columns_toggle", context: Context::Columns, keys: &["space"], help: "show or hide the column", footer: "show/hide" },
    Entry { intent: Intent::QueueUp, name: "columns_left", context: Context::Columns, keys: &["K"], help: "move the column left", footer: "move" },
    Entry { intent: Intent::QueueDown, name: "columns_right", context: Context::Columns, keys: &["J"], help: "move the column right", footer: "" },
    Entry { intent: Intent::Close, name: "columns_close", context: Context::Columns, keys: &["enter", "esc", "c"], help: "close and save to the config", footer: "save" },
    Entry { intent: Intent::Confirm, name: "yes", context: Context::Confirm, keys: &["y", "enter"], help: "yes", footer: "yes" },
    Entry { intent: Intent::Deny, name: "no", context: Context::Confirm, keys: &["n", "esc"], help: "no", footer: "no" },
    Entry { intent: Intent::Composer(C::Submit), name: "submit", context: Context::Composer, keys: &["ctrl-s", "ctrl-enter"], help: "submit the request (refused while a problem stands)", footer: "submit" },
    Entry { intent: Intent::Composer(C::Close), name: "composer_close", context: Context::Composer, keys: &["esc"], help: "close the composer (the draft is kept)", footer: "close" },
    Entry { intent: Intent::Composer(C::NextSection), name: "next_field", context: Context::Composer, keys: &["tab"], help: "next section: prompt, parameters, assets", footer: "section" },
    Entry { intent: Intent::Composer(C::PrevSection), name: "prev_field", context: Context::Composer, keys: &["shift-tab"], help: "previous section", footer: "" },
    Entry { intent: Intent::Composer(C::Preview), name: "preview", context: Context::Composer, keys: &["f2", "alt-p"], help: "preview the exact JSON body and a curl command", footer: "preview" },
    Entry { intent: Intent::Composer(C::HistoryPrev), name: "history_prev", context: Context::Composer, keys: &["ctrl-p"], help: "prompt: recall an earlier prompt", footer: "" },
    Entry { intent: Intent::Composer(C::HistoryNext), name: "history_next", context: Context::Composer, keys: &["ctrl-n"], help: "prompt: a later prompt (back to what was typed)", footer: "" },
    Entry { intent: Intent::Composer(C::Undo), name: "undo", context: Context::Composer, keys: &["ctrl-z"], help: "prompt: undo", footer: "" },
    Entry { intent: Intent::Composer(C::Redo), name: "redo", context: Context::Composer, keys: &["ctrl-y"], help: "prompt: redo", footer: "" },
    Entry { intent: Intent::Composer(C::Drafts), name: "drafts", context: Context::Composer, keys: &["f3", "alt-d"], help: "drafts: open or delete another", footer: "drafts" },
    Entry { intent: Intent::Composer(C::Templates), name: "templates", context: Context::Composer, keys: &["f4", "alt-t"], help: "start from a template", footer: "templates" },
    Entry { intent: Intent::Composer(C::SaveTemplate), name: "save_template", context: Context::Composer, keys: &["alt-s"], help: "save this draft as a named template", footer: "" },
    Entry { intent: Intent::Composer(C::NewBlank), name: "new_blank", context: Context::Composer, keys: &["alt-n"], help: "a new blank draft (this one is kept)", footer: "" },
    Entry { intent: Intent::Composer(C::RenameDraft), name: "rename_draft", context: Context::Composer, keys: &["alt-r"], help: "name this draft", footer: "" },
    Entry { intent: Intent::Composer(C::LoadJson), name: "load_json", context: Context::Composer, keys: &["alt-l"], help: "load a request from a JSON file", footer: "" },
    Entry { intent: Intent::Composer(C::ExportJson), name: "export_json", context: Context::Composer, keys: &["alt-x"], help: "export the request as JSON (submit --json reads it)", footer: "" },
    Entry { intent: Intent::Help, name: "composer_help", context: Context::Composer, keys: &["f1"], help: "help", footer: "" },
    Entry { intent: Intent::ForceQuit, name: "composer_quit", context: Context::Composer, keys: &["ctrl-c"], help: "quit now (the draft is saved first)", footer: "" },
    Entry { intent: Intent::Composer(C::Decrease), name: "value_prev", context: Context::ComposerField, keys: &["left"], help: "previous value", footer: "change" },
    Entry { intent: Intent::Composer(C::Increase), name: "value_next", context: Context::ComposerField, keys: &["right", "space"], help: "next value (or type a number)", footer: "" },
    Entry { intent: Intent::Composer(C::PrevField), name: "field_up", context: Context::ComposerField, keys: &["up"], help: "parameter above", footer: "" },
    Entry { intent: Intent::Composer(C::NextField), name: "field_down", context: Context::ComposerField, keys: &["down", "enter"], help: "parameter below", footer: "" },
    Entry { intent: Intent::Composer(C::AddImage), name: "field_add_image", context: Context::ComposerField, keys: &["i"], help: "add an image (not in a text field)", footer: "" },
    Entry { intent: Intent::Composer(C::AddVideo), name: "field_add_video", context: Context::ComposerField, keys: &["v"], help: "add a video (not in a text field)", footer: "" },
    Entry { intent: Intent::Composer(C::AddAudio), name: "field_add_audio", context: Context::ComposerField, keys: &["a"], help: "add an audio (not in a text field)", footer: "" },
    Entry { intent: Intent::Composer(C::AddImage), name: "add_image", context: Context::ComposerAssets, keys: &["i"], help: "add an image (URL or file)", footer: "image" },
    Entry { intent: Intent::Composer(C::AddVideo), name: "add_video", context: Context::ComposerAssets, keys: &["v"], help: "add a video (URL)", footer: "video" },
    Entry { intent: Intent::Composer(C::AddAudio), name: "add_audio", context: Context::ComposerAssets, keys: &["a"], help: "add an audio (URL or file)", footer: "audio" },
    Entry { intent: Intent::Composer(C::EditAsset), name: "edit_asset", context: Context::ComposerAssets, keys: &["enter"], help: "change the asset's URL or path", footer: "edit" },
    Entry { intent: Intent::Composer(C::NextRole), name: "asset_role", context: Context::ComposerAssets, keys: &["r", "right"], help: "next role valid for the asset's type", footer: "role" },
    Entry { intent: Intent::Composer(C::RemoveAsset), name: "remove_asset", context: Context::ComposerAssets, keys: &["d", "delete"], help: "remove the asset", footer: "remove" },
    Entry { intent: Intent::Composer(C::MoveAssetUp), name: "asset_move_up", context: Context::ComposerAssets, keys: &["K"], help: "move the asset up", footer: "move" },
    Entry { intent: Intent::Composer(C::MoveAssetDown), name: "asset_move_down", context: Context::ComposerAssets, keys: &["J"], help: "move the asset down", footer: "" },
    Entry { intent: Intent::Composer(C::SelectUp), name: "asset_up", context: Context::ComposerAssets, keys: &["k", "up"], help: "previous asset", footer: "" },
    Entry { intent: Intent::Composer(C::SelectDown), name: "asset_down", context: Context::ComposerAssets, keys: &["j", "down"], help: "next asset", footer: "" },
    Entry { intent: Intent::Composer(C::InputAccept), name: "input_accept", context: Context::ComposerInput, keys: &["enter"], help: "accept", footer: "accept" },
    Entry { intent: Intent::Composer(C::InputComplete), name: "input_complete", context: Context::ComposerInput, keys: &["tab"], help: "complete the file path", footer: "complete" },
    Entry { intent: Intent::Composer(C::InputCancel), name: "input_cancel", context: Context::ComposerInput, keys: &["esc"], help: "cancel", footer: "cancel" },
    Entry { intent: Intent::Composer(C::SelectUp), name: "picker_up", context: Context::ComposerPicker, keys: &["k", "up"], help: "previous", footer: "" },
    Entry { intent: Intent::Composer(C::SelectDown), name: "picker_down", context: Context::ComposerPicker, keys: &["j", "down"], help: "next", footer: "" },
    Entry { intent: Intent::Composer(C::PickerOpen), name: "picker_open", context: Context::ComposerPicker, keys: &["enter"], help: "open it", footer: "open" },
    Entry { intent: Intent::Composer(C::PickerDelete), name: "picker_delete", context: Context::ComposerPicker, keys: &["d", "delete"], help: "delete the draft or template", footer: "delete" },
    Entry { intent: Intent::Composer(C::Back), name: "picker_close", context: Context::ComposerPicker, keys: &["esc", "q"], help: "close the list", footer: "close" },
    Entry { intent: Intent::Composer(C::CopyJson), name: "preview_copy_json", context: Context::ComposerPreview, keys: &["j"], help: "copy the JSON body", footer: "copy JSON" },
    Entry { intent: Intent::Composer(C::CopyCurl), name: "preview_copy_curl", context: Context::ComposerPreview, keys: &["c"], help: "copy the curl command", footer: "copy curl" },
    Entry { intent: Intent::Composer(C::SelectDown), name: "preview_down", context: Context::ComposerPreview, keys: &["down"], help: "scroll down", footer: "" },
    Entry { intent: Intent::Composer(C::SelectUp), name: "preview_up", context: Context::ComposerPreview, keys: &["up"], help: "scroll up", footer: "" },
    Entry { intent: Intent::Composer(C::Back), name: "preview_close", context: Context::ComposerPreview, keys: &["esc", "q"], help: "close the preview", footer: "close" },
];

/// The registry, with any user overrides applied.
#[derive(Debug, Clone)]
pub struct Keymap {
    pub(crate) bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap {
            bindings: DEFAULTS
                .iter()
                .map(|e| Binding {
                    intent: e.intent,
                    name: e.name,
                    context: e.context,
                    keys: e
                        .keys
                        .iter()
                        .filter_map(|k| KeySpec::parse(k).ok())
                        .collect(),
                    help: e.help,
                    footer: e.footer,
                })
                .collect(),
        }
    }
}

impl Keymap {
    /// The defaults with `overrides` (command name -> keys) applied; errors name the bad entry.
    pub(crate) fn with_overrides(
        overrides: &BTreeMap<String, Vec<String>>,
    ) -> Result<Keymap, String> {
        let mut map = Keymap::default();
        for (name, keys) in overrides {
            let Some(b) = map.bindings.iter_mut().find(|b| b.name == name) else {
                let known: Vec<&str> = DEFAULTS.iter().map(|d| d.name).collect();
                return Err(format!(
                    "[ui.keys] `{name}` is not a command; known: {}",
                    known.join(", ")
                ));
            };
            let parsed: Result<Vec<KeySpec>, String> =
                keys.iter().map(|k| KeySpec::parse(k)).collect();
            b.keys = parsed.map_err(|e| format!("[ui.keys] {name}: {e}"))?;
        }
        Ok(map)
    }

    /// The intent a key has in `context`.
    pub(crate) fn lookup(&self, context: Context, key: &KeyEvent) -> Option<Intent> {
        self.bindings
            .iter()
            .find(|b| b.context == context && b.keys.iter().any(|k| k.matches(key)))
            .map(|b| b.intent)
    }

    /// The keys of a binding, joined for display (`j/↓`).
    pub(crate) fn keys_label(b: &Binding) -> String {
        b.keys
            .iter()
            .map(KeySpec::label)
            .collect::<Vec<_>>()
            .join("/")
    }

    /// `(keys, label)` pairs for the footer in `context`.
    pub(crate) fn footer(&self, context: Context) -> Vec<(String, &'static str)> {
        self.bindings
            .iter()
            .filter(|b| b.context == context && !b.footer.is_empty() && !b.keys.is_empty())
            .map(|b| {
                (
                    b.keys.first().map(KeySpec::label).unwrap_or_default(),
                    b.footer,
                )
            })
            .collect()
    }

    /// `(context title, [(keys, description)])` sections for the help overlay.
    pub(crate) fn help(&self) -> Vec<(&'static str, Vec<(String, &'static str)>)> {
        let sections = [
            (Context::Main, "Tasks"),
            (Context::Filter, "Filter line"),
            (Context::CopyMenu, "Copy menu"),
            (Context::Sort, "Sort menu (s)"),
            (Context::Confirm, "Questions"),
            (Context::Palette, "Command palette (:)"),
            (Context::Columns, "Column chooser (c)"),
            (Context::Composer, "Composer"),
            (Context::ComposerField, "Composer: parameter fields"),
            (Context::ComposerAssets, "Composer: assets"),
            (Context::ComposerInput, "Composer: input line"),
            (Context::ComposerPicker, "Composer: drafts and templates"),
            (Context::ComposerPreview, "Composer: preview"),
            (Context::Help, "Help and message log"),
            (
                Context::Search,
                "Search line (/ in help or the detail pane)",
            ),
        ];
        sections
            .iter()
            .map(|(ctx, title)| {
                (
                    *title,
                    self.bindings
                        .iter()
                        .filter(|b| b.context == *ctx && !b.keys.is_empty())
                        .map(|b| (Self::keys_label(b), b.help))
                        .collect(),
                )
            })
            .collect()
    }
}

impl Composer {
    /// The keymap context for the composer's current mode and focus.
    pub(crate) fn context(&self) -> Context {
        match self.editor.as_deref().map(|e| (&e.mode, e.focus)) {
            Some((Mode::Input { .. }, _)) => Context::ComposerInput,
            Some((Mode::Picker { .. }, _)) => Context::ComposerPicker,
            Some((Mode::Preview { .. }, _)) => Context::ComposerPreview,
            Some((_, Field::Prompt)) | None => Context::Composer,
            Some((_, Field::Assets)) => Context::ComposerAssets,
            Some(_) => Context::ComposerField,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn parses_and_matches_keys() {
        let k = KeySpec::parse("ctrl-c").expect("parses");
        assert!(k.matches(&key(KeyCode::Char('c'), KeyModifiers::CONTROL)));
        assert!(!k.matches(&key(KeyCode::Char('c'), KeyModifiers::NONE)));
        let g = KeySpec::parse("G").expect("parses");
        assert!(g.matches(&key(KeyCode::Char('G'), KeyModifiers::SHIFT)));
        assert_eq!(
            KeySpec::parse("shift-tab").expect("parses").code,
            KeyCode::BackTab
        );
        assert_eq!(KeySpec::parse("f5").expect("parses").code, KeyCode::F(5));
        assert!(KeySpec::parse("nope").is_err());
    }

    #[test]
    fn overrides_replace_keys_and_bad_names_are_errors() {
        let mut o = BTreeMap::new();
        o.insert("move_down".to_string(), vec!["n".to_string()]);
        let m = Keymap::with_overrides(&o).expect("valid");
        assert_eq!(
            m.lookup(Context::Main, &key(KeyCode::Char('n'), KeyModifiers::NONE)),
            Some(Intent::MoveDown)
        );
        let mut bad = BTreeMap::new();
        bad.insert("fly".to_string(), vec!["x".to_string()]);
        assert!(
            Keymap::with_overrides(&bad)
                .expect_err("unknown")
                .contains("fly")
        );
        let mut bad_key = BTreeMap::new();
        bad_key.insert("quit".to_string(), vec!["hyper-q".to_string()]);
        assert!(
            Keymap::with_overrides(&bad_key)
                .expect_err("bad key")
                .contains("quit")
        );
    }

    #[test]
    fn every_bound_main_intent_is_in_help_and_footer_comes_from_registry() {
        let m = Keymap::default();
        let help = m.help();
        let main = &help[0].1;
        for b in m.bindings.iter().filter(|b| b.context == Context::Main) {
            assert!(
                main.iter().any(|(_, d)| *d == b.help),
                "{} missing from help",
                b.name
            );
        }
        let footer = m.footer(Context::Main);
        assert!(footer.iter().any(|(k, l)| k == "?" && *l == "help"));
        assert!(footer.iter().any(|(k, l)| k == "q" && *l == "quit"));
    }
}
