//! The runtime's parts with the reducer: a preview decoded and drawn; the dashboard's start on
//! a real store.

mod dashboard_start;
mod preview;
