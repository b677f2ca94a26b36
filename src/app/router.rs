//! Where an input goes: the one place that answers it. `update` asks, then calls the composer's
//! or the dashboard's reducer; neither of those routes input on its own.

use super::keymap::Context;
use super::msg::Intent;
use super::state::{Overlay, State};
use crate::app::composer::{ComposerIntent, Mode};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// The destination of a key, a paste or a mouse event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The composer is opening: keep the input and replay it once it is open.
    Buffer,
    Composer(ComposerIntent),
    Dashboard(Intent),
    /// Text for the composer's focused widget (prompt, field, input line).
    ComposerText,
    /// Text for the filter line.
    FilterText,
    Ignore,
}

/// The composer takes the keyboard while it shows and no overlay is over it.
fn composer_has_keys(state: &State) -> bool {
    state.composer.is_open() && state.overlay == Overlay::None
}

/// Where a key goes: the composer's keymap contexts first (so no key leaks to the dashboard),
/// then the dashboard's; a key no command claims is text for the line being typed into.
pub fn key(state: &State, key: &KeyEvent) -> Route {
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
        return match found {
            Some(Intent::Composer(ci)) => Route::Composer(ci),
            Some(other) => Route::Dashboard(other),
            None => Route::ComposerText,
        };
    }
    let context = state.context();
    let typed = match key.code {
        KeyCode::Char(_) => !key.modifiers.contains(KeyModifiers::CONTROL),
        KeyCode::Backspace => true,
        _ => false,
    };
    if context == Context::Filter && typed {
        return Route::FilterText;
    }
    state
        .keymap
        .lookup(context, key)
        .map_or(Route::Ignore, Route::Dashboard)
}

/// Where pasted text goes.
pub fn paste(state: &State) -> Route {
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
pub fn dashboard_has_pointer(state: &State) -> bool {
    !(state.composer.opening || state.composer.is_open())
}
