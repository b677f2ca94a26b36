//! The reducers' tests, by subject: messages in, state and effects out.

mod composer_asset_files;
mod composer_drafts;
mod composer_opening;
mod composer_parameters;
mod composer_templates;
mod composer_update;
mod curl_commands;
mod dirty;
mod mouse;
mod queue;
mod task_index;
mod update;
