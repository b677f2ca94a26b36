//! Where an input goes: the one place that answers it. `update` asks, then calls the composer's
//! or the dashboard's reducer; neither of those routes input on its own.

use super::keymap::Context;
use super::msg::Intent;
use super::state::{Overlay, State};
use crate::app::composer::{ComposerIntent, Mode};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// The destination of a key or a paste.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// The composer is opening: keep the input and replay it once it is open.
    Buffer,
    Composer(ComposerIntent),
    Dashboard(Intent),
    /// Text for the composer's focused widget (prompt, field, input line).
    ComposerText,
    /// Text for the filter line.
    FilterText,
    /// Text for the search line (help, detail pane).
    SearchText,
    /// A key for the command palette (its own popup: text, moves, run, close).
    Palette,
    /// A key for the column chooser.
    Columns,
    /// A saved view's key (`[views.NAME] key`): the view's index in `State::views`.
    View(usize),
    Ignore,
}

/// The composer takes the keyboard while it shows and no overlay is over it.
fn composer_has_keys(state: &State) -> bool {
    state.composer.is_open() && state.overlay == Overlay::None
}

/// Where a key goes: the composer's keymap contexts first (so no key leaks to the dashboard),
/// then the dashboard's; a key no command claims is text for the line being typed into.
pub(crate) fn key(state: &State, key: &KeyEvent) -> Route {
    if state.composer.opening {
        return Route::Buffer;
    }
    if key.kind == KeyEventKind::Release {
        return Route::Ignore;
    }
    if composer_has_keys(state) {
        let editor = state.composer.editor.as_deref();
        if editor.is_some_and(|e| e.mode == Mode::Submitting) {
            return Route::Ignore;
        }
        let ctx = state.composer.context();
        let modal = matches!(
            ctx,
            Context::ComposerInput | Context::ComposerPicker | Context::ComposerPreview
        );
        let found = if modal {
            state.keymap.lookup(ctx, key)
        } else {
            state
                .keymap
                .lookup(Context::Composer, key)
                .or_else(|| state.keymap.lookup(ctx, key))
        };
        // A text field (callback URL, safety identifier) takes letters as text.
        let text_field = editor.is_some_and(|e| e.focus.edited_as_text());
        return match found {
            Some(Intent::Composer(
                ComposerIntent::AddImage | ComposerIntent::AddVideo | ComposerIntent::AddAudio,
            )) if ctx == Context::ComposerField && text_field => Route::ComposerText,
            Some(Intent::Composer(ci)) => Route::Composer(ci),
            Some(other) => Route::Dashboard(other),
            None => Route::ComposerText,
        };
    }
    // The palette and the column chooser are popups of their own: every key is theirs.
    match state.overlay {
        Overlay::Palette(_) => return Route::Palette,
        Overlay::Columns { .. } => return Route::Columns,
        _ => {}
    }
    let context = state.context();
    // A view's key in the table, before the commands (the config's own choice).
    if context == Context::Main
        && let Some(i) = state
            .views
            .iter()
            .position(|v| v.key.is_some_and(|k| k.matches(key)))
    {
        return Route::View(i);
    }
    let typed = match key.code {
        KeyCode::Char(_) => !key.modifiers.contains(KeyModifiers::CONTROL),
        KeyCode::Backspace => true,
        _ => false,
    };
    if context == Context::Filter && typed {
        return Route::FilterText;
    }
    if context == Context::Search && typed {
        return Route::SearchText;
    }
    state
        .keymap
        .lookup(context, key)
        .map_or(Route::Ignore, Route::Dashboard)
}

/// Where pasted text goes.
pub(crate) fn paste(state: &State) -> Route {
    if state.composer.opening {
        Route::Buffer
    } else if composer_has_keys(state) {
        Route::ComposerText
    } else if state.filter_input.is_some() {
        Route::FilterText
    } else {
        Route::Ignore
    }
}

/// Whether the dashboard takes the mouse (wheel and clicks): not while a composer is open or
/// opening; the composer is keyboard-only.
pub(crate) fn dashboard_has_pointer(state: &State) -> bool {
    !(state.composer.opening || state.composer.is_open())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::composer::Editor;
    use crate::app::keymap::Keymap;

    fn k(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    #[test]
    fn each_input_has_one_destination() {
        let mut s = State::new("p", "http://h/api/v3", Keymap::default(), Vec::new());
        assert_eq!(key(&s, &k('j')), Route::Dashboard(Intent::MoveDown));
        assert_eq!(key(&s, &k('µ')), Route::Ignore);
        assert_eq!(paste(&s), Route::Ignore);
        let mut release = k('q');
        release.kind = KeyEventKind::Release;
        assert_eq!(key(&s, &release), Route::Ignore);

        // The filter line takes text; its keys (Esc, Enter) stay commands.
        s.filter_input = Some(String::new());
        assert_eq!(key(&s, &k('j')), Route::FilterText);
        assert_eq!(paste(&s), Route::FilterText);
        let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        assert_eq!(key(&s, &esc), Route::Dashboard(Intent::Close));
        s.filter_input = None;

        // While the composer opens, everything typed waits for it; the mouse goes nowhere.
        s.composer.opening = true;
        assert_eq!(key(&s, &k('q')), Route::Buffer);
        assert_eq!(paste(&s), Route::Buffer);
        assert!(!dashboard_has_pointer(&s));

        // Open: its commands first, then the dashboard's it shares, else text for the prompt.
        s.composer.opening = false;
        let editor = Editor::from_defaults("d".into(), &Default::default());
        s.composer.editor = Some(Box::new(editor));
        assert_eq!(key(&s, &k('q')), Route::ComposerText);
        assert_eq!(key(&s, &ctrl('s')), Route::Composer(ComposerIntent::Submit));
        assert_eq!(key(&s, &ctrl('c')), Route::Dashboard(Intent::ForceQuit));
        assert_eq!(paste(&s), Route::ComposerText);
        assert!(!dashboard_has_pointer(&s));
    }
}
