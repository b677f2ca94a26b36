//! The pure core of the dashboard (Elm architecture): `State`, `Msg`, `Intent`, `Effect`, the
//! keymap registry, `router` (where an input goes) and `update`. No IO, no clock reads: every
//! transition is a plain unit test.

pub(crate) mod column_chooser;
pub(crate) mod columns;
pub(crate) mod composer;
pub mod copy;
pub(crate) mod effect;
pub mod filter;
pub(crate) mod find;
pub(crate) mod groups;
pub mod keymap;
pub(crate) mod layout;
pub(crate) mod msg;
mod navigation;
mod overlay;
pub(crate) mod palette;
pub(crate) mod preflight;
pub(crate) mod queue;
pub mod results;
pub(crate) mod router;
pub(crate) mod start;
pub(crate) mod state;
mod task_actions;
mod task_index;
mod tasks;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
pub(crate) mod types;
pub mod update;
pub(crate) mod variants;
pub(crate) mod views;

pub(crate) use effect::Effect;
pub use msg::{Health, Intent, Level, Msg};
pub use state::State;
pub use update::update;
