//! The views' tests: states drawn into a test buffer, read as text or compared to snapshots.

mod clock_redraw;
mod composer;
mod copy;
mod detail_bodies;
mod eta;
mod hostile_text;
mod preflight;
mod queue;
mod results;
mod retry_question;
mod sheet_update;
mod snapshots;
mod table;
mod wide_text;
