//! The results' path across the reducer and the runtime's helpers: settings, downloads'
//! progress, previews decoded and drawn.

mod results;
