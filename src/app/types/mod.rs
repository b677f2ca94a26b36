//! The ground floor of `app`: messages' and effects' payloads and the data the state holds,
//! in files that import no reducer and no `State` (the architecture test keeps `app` free of
//! import circles).

pub(crate) mod composer;
pub(crate) mod copy;
pub(crate) mod overlays;
pub(crate) mod queue;
pub(crate) mod results;
pub(crate) mod sort;
pub(crate) mod views;
