//! Commands on the asset list (the `ComposerAssets` keymap context): add, edit, remove, reorder
//! and change the role of images, videos and audios.

use super::reduce::{Outcome, default_role, input, touched};
use super::{Asset, ComposerIntent, Editor, Field, InputPurpose};
use crate::api::types::MediaKind;
use crate::app::state::State;

/// Apply an asset-list command to the open editor `e`.
pub(super) fn apply(st: &State, e: &mut Editor, intent: ComposerIntent) -> Outcome {
    use ComposerIntent as I;
    let now = st.now;
    match intent {
        I::AddImage | I::AddVideo | I::AddAudio => {
            let kind = match intent {
                I::AddImage => MediaKind::Image,
                I::AddVideo => MediaKind::Video,
                _ => MediaKind::Audio,
            };
            let role = default_role(e, kind);
            e.assets.push(Asset {
                kind,
                target: String::new(),
                role,
                name: None,
            });
            e.asset_sel = e.assets.len() - 1;
            e.focus = Field::Assets;
            e.mode = input(
                InputPurpose::AssetTarget {
                    index: e.asset_sel,
                    fresh: true,
                },
                String::new(),
            );
            Outcome::default()
        }
        I::EditAsset => {
            if let Some(a) = e.assets.get(e.asset_sel) {
                e.mode = input(
                    InputPurpose::AssetTarget {
                        index: e.asset_sel,
                        fresh: false,
                    },
                    a.target.clone(),
                );
            }
            Outcome::default()
        }
        I::RemoveAsset if e.asset_sel < e.assets.len() => {
            e.assets.remove(e.asset_sel);
            e.asset_sel = e.asset_sel.min(e.assets.len().saturating_sub(1));
            touched(now, e).into()
        }
        I::NextRole => match e.assets.get_mut(e.asset_sel) {
            Some(a) => {
                let roles = a.kind.roles();
                let i = roles.iter().position(|r| *r == a.role).map_or(0, |i| i + 1);
                a.role = roles[i % roles.len()].clone();
                touched(now, e).into()
            }
            None => Outcome::default(),
        },
        I::MoveAssetUp | I::MoveAssetDown => {
            let i = e.asset_sel;
            let j = if intent == I::MoveAssetUp {
                i.checked_sub(1)
            } else {
                Some(i + 1).filter(|j| *j < e.assets.len())
            };
            match j.filter(|_| i < e.assets.len()) {
                Some(j) => {
                    e.assets.swap(i, j);
                    e.asset_sel = j;
                    touched(now, e).into()
                }
                None => Outcome::default(),
            }
        }
        I::SelectDown => {
            e.asset_sel = (e.asset_sel + 1).min(e.assets.len().saturating_sub(1));
            Outcome::default()
        }
        I::SelectUp => {
            e.asset_sel = e.asset_sel.saturating_sub(1);
            Outcome::default()
        }
        _ => Outcome::default(),
    }
}
