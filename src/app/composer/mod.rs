//! The composer: a pane for writing a create request from the keyboard — a multi-line prompt
//! (ratatui-textarea), a parameter form, an asset list, live validation with the one shared
//! rule table, a preview of the exact body, drafts saved as they are typed, templates, JSON
//! import/export and prompt history. Pure like the rest of `app`: file reads, store writes and
//! the submission itself are effects the runtime carries out (`runtime::composer`).
//!
//! Lineage decision: `e` (edit and resubmit) links the new task to the one it was edited from
//! through `retry_of`, so the table shows `↻n` and the detail pane the lineage, as a retry does.

mod answers;
mod assets;
mod build;
mod commands;
mod dispatch;
pub(crate) mod fields;
mod keys;
mod modes;
mod reduce;

#[cfg(test)]
pub(crate) use super::types::composer::problem_texts;
pub(crate) use super::types::composer::{
    Asset, Composer, ComposerEffect, ComposerIntent, ComposerMsg, Editor, Field, InputPurpose,
    Mode, PickerKind, ProblemAt, SAVE_IDLE_SECS, SAVE_MAX_SECS, SubmitOutcome,
};
pub(crate) use answers::on_msg;
pub(crate) use build::{draft_json, editor_from_json};
pub(crate) use dispatch::apply;
pub(crate) use keys::{paste, typing};
pub(crate) use reduce::{edit_task, new_draft, on_tick};
