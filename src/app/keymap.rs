//! The command registry: every intent with its default keys, the context it works in, a help line
//! and a footer label. The help overlay and the footer are generated from it, so they can never
//! disagree with what the keys do. Keys can be rebound in the config (`[ui.keys]`).

use super::composer::ComposerIntent as C;
use super::msg::Intent;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// The task table (and the detail pane when it has focus).
    Main,
    /// The `/` filter line.
    Filter,
    Help,
    CopyMenu,
    Confirm,
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
}

/// A key as written in the config: `j`, `G`, `down`, `ctrl-c`, `shift-tab`, `pgup`, `f5`, `space`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeySpec {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl KeySpec {
    /// Parse a key string; `Err` says what is wrong.
    pub fn parse(s: &str) -> Result<KeySpec, String> {
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
    pub fn matches(&self, ev: &KeyEvent) -> bool {
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
    pub fn label(&self) -> String {
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
pub struct Binding {
    pub intent: Intent,
    /// The name used in the config (`move_down = ["j", "down"]`).
    pub name: &'static str,
    pub context: Context,
    pub keys: Vec<KeySpec>,
    /// The help overlay's description.
    pub help: &'static str,
    /// The footer's short label; empty keeps it out of the footer.
    pub footer: &'static str,
}

/// `(intent, name, context, default keys, help, footer)`.
type Entry = (
    Intent,
    &'static str,
    Context,
    &'static [&'static str],
    &'static str,
    &'static str,
);

#[rustfmt::skip]
const DEFAULTS: &[Entry] = &[
    (Intent::MoveDown, "move_down", Context::Main, &["j", "down"], "next task", ""),
    (Intent::MoveUp, "move_up", Context::Main, &["k", "up"], "previous task", ""),
    (Intent::Top, "top", Context::Main, &["g", "home"], "first task", ""),
    (Intent::Bottom, "bottom", Context::Main, &["G", "end"], "last task", ""),
    (Intent::PageDown, "page_down", Context::Main, &["pgdn", "ctrl-d"], "page down", ""),
    (Intent::PageUp, "page_up", Context::Main, &["pgup", "ctrl-u"], "page up", ""),
    (Intent::ToggleDetail, "detail", Context::Main, &["enter"], "show or hide the detail pane", "detail"),
    (Intent::FullDetail, "detail_full", Context::Main, &["f"], "detail pane full screen", ""),
    (Intent::FocusNext, "focus", Context::Main, &["tab"], "move focus between table and detail", ""),
    (Intent::StartFilter, "filter", Context::Main, &["/"], "filter: text, status:failed, model:fast", "filter"),
    (Intent::ClearFilter, "clear", Context::Main, &["esc"], "clear filter and marks, close panes", ""),
    (Intent::SortNext, "sort", Context::Main, &["s"], "sort by the next column", "sort"),
    (Intent::SortReverse, "sort_reverse", Context::Main, &["S"], "reverse the sort", ""),
    (Intent::QuickFilter(1), "only_queued", Context::Main, &["1"], "only queued (again: all)", ""),
    (Intent::QuickFilter(2), "only_running", Context::Main, &["2"], "only running", ""),
    (Intent::QuickFilter(3), "only_succeeded", Context::Main, &["3"], "only succeeded", ""),
    (Intent::QuickFilter(4), "only_failed", Context::Main, &["4"], "only failed", ""),
    (Intent::QuickFilter(5), "only_expired", Context::Main, &["5"], "only expired", ""),
    (Intent::QuickFilter(6), "only_cancelled", Context::Main, &["6"], "only cancelled", ""),
    (Intent::ToggleMark, "mark", Context::Main, &["space"], "mark or unmark the task", "mark"),
    (Intent::MarkAll, "mark_all", Context::Main, &["ctrl-a"], "mark every task in the filter", ""),
    (Intent::CopyMenu, "copy", Context::Main, &["y"], "copy id / URLs / local paths / request JSON / curl", "copy"),
    (Intent::CancelTask, "cancel", Context::Main, &["x"], "cancel the queued task (asks first)", ""),
    (Intent::TogglePause, "pause", Context::Main, &["p"], "pause or resume polling", "pause"),
    (Intent::RefreshNow, "refresh", Context::Main, &["R"], "poll every unfinished task now", ""),
    (Intent::CycleTheme, "theme", Context::Main, &["t"], "next colour theme", ""),
    (Intent::ShowLog, "log", Context::Main, &["L"], "message log", ""),
    (Intent::NewDraft, "new", Context::Main, &["n"], "new request (composer)", ""),
    (Intent::Retry, "retry", Context::Main, &["r"], "retry: resubmit the marked (else selected) failed/expired/cancelled tasks", "retry"),
    (Intent::RetryAllFailed, "retry_failed", Context::Main, &["ctrl-r"], "retry every failed task in the filter", ""),
    (Intent::Edit, "edit", Context::Main, &["e"], "edit and resubmit", ""),
    (Intent::Download, "download", Context::Main, &["d"], "download (again) the marked, else selected, results", ""),
    (Intent::Open, "open", Context::Main, &["o"], "open the saved video (over SSH: show an scp command)", ""),
    (Intent::Summary, "summary", Context::Main, &["$"], "tokens and cost per day, model and filter", ""),
    (Intent::Help, "help", Context::Main, &["?", "f1"], "this help", "help"),
    (Intent::Suspend, "suspend", Context::Main, &["ctrl-z"], "suspend to the shell (fg resumes)", ""),
    (Intent::Quit, "quit", Context::Main, &["q"], "quit", "quit"),
    (Intent::ForceQuit, "force_quit", Context::Main, &["ctrl-c"], "quit now", ""),
    (Intent::Confirm, "filter_apply", Context::Filter, &["enter"], "keep the filter", "apply"),
    (Intent::Close, "filter_cancel", Context::Filter, &["esc"], "drop the filter", "cancel"),
    (Intent::Close, "help_close", Context::Help, &["esc", "q", "?"], "close help", "close"),
    (Intent::MoveDown, "help_down", Context::Help, &["j", "down"], "scroll down", ""),
    (Intent::MoveUp, "help_up", Context::Help, &["k", "up"], "scroll up", ""),
    (Intent::CopyId, "copy_id", Context::CopyMenu, &["i"], "task id", "id"),
    (Intent::CopyVideoUrl, "copy_url", Context::CopyMenu, &["v"], "video URL", "video URL"),
    (Intent::CopyRequest, "copy_request", Context::CopyMenu, &["j"], "request JSON", "request"),
    (Intent::CopyCurl, "copy_curl", Context::CopyMenu, &["c"], "curl command", "curl"),
    (Intent::CopyFrameUrl, "copy_frame_url", Context::CopyMenu, &["f"], "last-frame URL", "frame URL"),
    (Intent::CopyPaths, "copy_paths", Context::CopyMenu, &["p"], "local file path(s)", "paths"),
    (Intent::Close, "copy_close", Context::CopyMenu, &["esc", "q"], "close", "close"),
    (Intent::Confirm, "yes", Context::Confirm, &["y", "enter"], "yes", "yes"),
    (Intent::Deny, "no", Context::Confirm, &["n", "esc"], "no", "no"),
    (Intent::Composer(C::Submit), "submit", Context::Composer, &["ctrl-s", "ctrl-enter"], "submit the request (refused while a problem stands)", "submit"),
    (Intent::Composer(C::Close), "composer_close", Context::Composer, &["esc"], "close the composer (the draft is kept)", "close"),
    (Intent::Composer(C::NextField), "next_field", Context::Composer, &["tab"], "next field", "field"),
    (Intent::Composer(C::PrevField), "prev_field", Context::Composer, &["shift-tab"], "previous field", ""),
    (Intent::Composer(C::Preview), "preview", Context::Composer, &["f2", "alt-p"], "preview the exact JSON body and a curl command", "preview"),
    (Intent::Composer(C::HistoryPrev), "history_prev", Context::Composer, &["ctrl-p"], "prompt: recall an earlier prompt", ""),
    (Intent::Composer(C::HistoryNext), "history_next", Context::Composer, &["ctrl-n"], "prompt: a later prompt (back to what was typed)", ""),
    (Intent::Composer(C::Undo), "undo", Context::Composer, &["ctrl-z"], "prompt: undo", ""),
    (Intent::Composer(C::Redo), "redo", Context::Composer, &["ctrl-y"], "prompt: redo", ""),
    (Intent::Composer(C::Drafts), "drafts", Context::Composer, &["f3", "alt-d"], "drafts: open or delete another", "drafts"),
    (Intent::Composer(C::Templates), "templates", Context::Composer, &["f4", "alt-t"], "start from a template", "templates"),
    (Intent::Composer(C::SaveTemplate), "save_template", Context::Composer, &["alt-s"], "save this draft as a named template", ""),
    (Intent::Composer(C::NewBlank), "new_blank", Context::Composer, &["alt-n"], "a new blank draft (this one is kept)", ""),
    (Intent::Composer(C::RenameDraft), "rename_draft", Context::Composer, &["alt-r"], "name this draft", ""),
    (Intent::Composer(C::LoadJson), "load_json", Context::Composer, &["alt-l"], "load a request from a JSON file", ""),
    (Intent::Composer(C::ExportJson), "export_json", Context::Composer, &["alt-x"], "export the request as JSON (submit --json reads it)", ""),
    (Intent::Help, "composer_help", Context::Composer, &["f1"], "help", ""),
    (Intent::ForceQuit, "composer_quit", Context::Composer, &["ctrl-c"], "quit now (the draft is saved first)", ""),
    (Intent::Composer(C::Decrease), "value_prev", Context::ComposerField, &["left"], "previous value", "change"),
    (Intent::Composer(C::Increase), "value_next", Context::ComposerField, &["right", "space"], "next value (or type a number)", ""),
    (Intent::Composer(C::PrevField), "field_up", Context::ComposerField, &["up"], "field above", ""),
    (Intent::Composer(C::NextField), "field_down", Context::ComposerField, &["down", "enter"], "field below", ""),
    (Intent::Composer(C::AddImage), "add_image", Context::ComposerAssets, &["i"], "add an image (URL or file)", "image"),
    (Intent::Composer(C::AddVideo), "add_video", Context::ComposerAssets, &["v"], "add a video (URL)", "video"),
    (Intent::Composer(C::AddAudio), "add_audio", Context::ComposerAssets, &["a"], "add an audio (URL or file)", "audio"),
    (Intent::Composer(C::EditAsset), "edit_asset", Context::ComposerAssets, &["enter"], "change the asset's URL or path", "edit"),
    (Intent::Composer(C::NextRole), "asset_role", Context::ComposerAssets, &["r", "right"], "next role valid for the asset's type", "role"),
    (Intent::Composer(C::RemoveAsset), "remove_asset", Context::ComposerAssets, &["d", "delete"], "remove the asset", "remove"),
    (Intent::Composer(C::MoveAssetUp), "asset_move_up", Context::ComposerAssets, &["K"], "move the asset up", "move"),
    (Intent::Composer(C::MoveAssetDown), "asset_move_down", Context::ComposerAssets, &["J"], "move the asset down", ""),
    (Intent::Composer(C::SelectUp), "asset_up", Context::ComposerAssets, &["k", "up"], "previous asset", ""),
    (Intent::Composer(C::SelectDown), "asset_down", Context::ComposerAssets, &["j", "down"], "next asset", ""),
    (Intent::Composer(C::InputAccept), "input_accept", Context::ComposerInput, &["enter"], "accept", "accept"),
    (Intent::Composer(C::InputComplete), "input_complete", Context::ComposerInput, &["tab"], "complete the file path", "complete"),
    (Intent::Composer(C::InputCancel), "input_cancel", Context::ComposerInput, &["esc"], "cancel", "cancel"),
    (Intent::Composer(C::SelectUp), "picker_up", Context::ComposerPicker, &["k", "up"], "previous", ""),
    (Intent::Composer(C::SelectDown), "picker_down", Context::ComposerPicker, &["j", "down"], "next", ""),
    (Intent::Composer(C::PickerOpen), "picker_open", Context::ComposerPicker, &["enter"], "open it", "open"),
    (Intent::Composer(C::PickerDelete), "picker_delete", Context::ComposerPicker, &["d", "delete"], "delete the draft or template", "delete"),
    (Intent::Composer(C::Back), "picker_close", Context::ComposerPicker, &["esc", "q"], "close the list", "close"),
    (Intent::Composer(C::CopyJson), "preview_copy_json", Context::ComposerPreview, &["j"], "copy the JSON body", "copy JSON"),
    (Intent::Composer(C::CopyCurl), "preview_copy_curl", Context::ComposerPreview, &["c"], "copy the curl command", "copy curl"),
    (Intent::Composer(C::SelectDown), "preview_down", Context::ComposerPreview, &["down"], "scroll down", ""),
    (Intent::Composer(C::SelectUp), "preview_up", Context::ComposerPreview, &["up"], "scroll up", ""),
    (Intent::Composer(C::Back), "preview_close", Context::ComposerPreview, &["esc", "q"], "close the preview", "close"),
];

/// The registry, with any user overrides applied.
#[derive(Debug, Clone)]
pub struct Keymap {
    pub bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap {
            bindings: DEFAULTS
                .iter()
                .map(|(intent, name, context, keys, help, footer)| Binding {
                    intent: *intent,
                    name,
                    context: *context,
                    keys: keys.iter().filter_map(|k| KeySpec::parse(k).ok()).collect(),
                    help,
                    footer,
                })
                .collect(),
        }
    }
}

impl Keymap {
    /// The defaults with `overrides` (command name -> keys) applied; errors name the bad entry.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>) -> Result<Keymap, String> {
        let mut map = Keymap::default();
        for (name, keys) in overrides {
            let Some(b) = map.bindings.iter_mut().find(|b| b.name == name) else {
                let known: Vec<&str> = DEFAULTS.iter().map(|d| d.1).collect();
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
    pub fn lookup(&self, context: Context, key: &KeyEvent) -> Option<Intent> {
        self.bindings
            .iter()
            .find(|b| b.context == context && b.keys.iter().any(|k| k.matches(key)))
            .map(|b| b.intent)
    }

    /// The keys of a binding, joined for display (`j/↓`).
    pub fn keys_label(b: &Binding) -> String {
        b.keys
            .iter()
            .map(KeySpec::label)
            .collect::<Vec<_>>()
            .join("/")
    }

    /// `(keys, label)` pairs for the footer in `context`.
    pub fn footer(&self, context: Context) -> Vec<(String, &'static str)> {
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
    pub fn help(&self) -> Vec<(&'static str, Vec<(String, &'static str)>)> {
        let sections = [
            (Context::Main, "Tasks"),
            (Context::Filter, "Filter line"),
            (Context::CopyMenu, "Copy menu"),
            (Context::Confirm, "Questions"),
            (Context::Composer, "Composer"),
            (Context::ComposerField, "Composer: parameter fields"),
            (Context::ComposerAssets, "Composer: assets"),
            (Context::ComposerInput, "Composer: input line"),
            (Context::ComposerPicker, "Composer: drafts and templates"),
            (Context::ComposerPreview, "Composer: preview"),
            (Context::Help, "Help"),
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
