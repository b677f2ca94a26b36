//! The pure core of the dashboard (Elm architecture): `State`, `Msg`, `Intent`, `Effect`, the
//! keymap registry, `router` (where an input goes) and `update`. No IO, no clock reads: every
//! transition is a plain unit test.

pub mod column_chooser;
pub mod columns;
pub mod composer;
pub mod copy;
pub mod effect;
pub mod filter;
pub mod find;
pub mod groups;
pub mod keymap;
pub mod layout;
pub mod msg;
mod navigation;
mod overlay;
pub mod palette;
pub mod preflight;
pub mod queue;
pub mod results;
pub mod router;
pub mod start;
pub mod state;
mod task_actions;
mod task_index;
mod tasks;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
pub mod types;
pub mod update;
pub mod variants;
pub mod views;

pub use effect::Effect;
pub use msg::{Health, Intent, Level, Msg};
pub use state::State;
pub use update::update;
