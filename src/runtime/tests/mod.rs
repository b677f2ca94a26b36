//! The results' path across the reducer and the runtime's helpers: settings, downloads'
//! progress, previews decoded and drawn; the dashboard's start on a real store.

mod dashboard_start;
mod results;
