//! The ground floor of `app`: messages' and effects' payloads and the data the state holds,
//! in files that import no reducer and no `State` (the architecture test keeps `app` free of
//! import circles).

pub mod composer;
pub mod copy;
pub mod overlays;
pub mod queue;
pub mod results;
pub mod sort;
pub mod views;
