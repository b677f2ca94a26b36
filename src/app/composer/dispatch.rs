//! The composer's intents handed out by context: a picker's and the preview's keys to `modes`,
//! the asset list's to `assets`, the rest to `commands`; their `Outcome` becomes effects and a
//! notice.

use super::reduce::{Outcome, with_editor};
use super::{ComposerIntent, Mode};
use super::{assets, commands, modes};
use crate::app::effect::Effect;
use crate::app::state::State;

/// Apply a composer intent: the module of the context it belongs to acts on the open editor.
pub(crate) fn apply(state: &mut State, intent: ComposerIntent) -> Vec<Effect> {
    use ComposerIntent as I;
    let mut notice = None;
    let mut copying = None;
    let effects = with_editor(state, |st, e| {
        let outcome = match (intent, &e.mode) {
            (
                I::SelectUp | I::SelectDown | I::PickerOpen | I::PickerDelete,
                Mode::Picker { .. },
            ) => modes::picker(st, e, intent),
            (I::SelectUp | I::SelectDown | I::CopyJson | I::CopyCurl, Mode::Preview { .. }) => {
                modes::preview(st, e, intent)
            }
            (I::InputAccept | I::InputCancel | I::InputComplete | I::Back, _) => {
                modes::input(st, e, intent)
            }
            (
                I::AddImage
                | I::AddVideo
                | I::AddAudio
                | I::EditAsset
                | I::RemoveAsset
                | I::NextRole
                | I::MoveAssetUp
                | I::MoveAssetDown
                | I::SelectUp
                | I::SelectDown,
                _,
            ) => assets::apply(st, e, intent),
            (I::PickerOpen | I::PickerDelete | I::CopyJson | I::CopyCurl, _) => Outcome::default(),
            _ => commands::apply(st, e, intent),
        };
        notice = outcome.notice;
        copying = outcome.copying;
        (outcome.effects, !outcome.close)
    });
    if let Some((level, text)) = notice {
        state.notice(level, text);
    }
    if let Some(what) = copying {
        state.copy_label = Some(what.to_string());
    }
    effects
}
