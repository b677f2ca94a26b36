//! The first state of the dashboard, from what the runtime read at start-up (the config, the
//! theme files, the clock). Pure: the runtime reads, this puts the answers in place.

use super::keymap::Keymap;
use super::msg::Level;
use super::state::State;
use crate::config::Config;
use crate::theme::Theme;

/// What the runtime found at start-up.
pub(crate) struct Start<'a> {
    pub(crate) config: &'a Config,
    pub(crate) profile: &'a str,
    pub(crate) base_url: &'a str,
    pub(crate) keymap: Keymap,
    pub(crate) themes: Vec<Theme>,
    pub(crate) theme_index: usize,
    /// Theme files that could not be read: one warning each.
    pub(crate) warnings: Vec<String>,
    /// The environment variable the key came from.
    pub(crate) key_var: Option<&'a str>,
    /// References are uploaded to a bucket (`[storage] reference_bucket`).
    pub(crate) uploads: bool,
    pub(crate) demo: bool,
    pub(crate) now: i64,
    /// Unix second at which today began in local time.
    pub(crate) today_start: i64,
}

impl State {
    /// The state the dashboard starts with; `Err` says what in the config is wrong (`[ui]
    /// columns`, `[views]`).
    pub(crate) fn start(s: Start<'_>) -> Result<State, String> {
        let mut state = State::new(s.profile, s.base_url, s.keymap, s.themes);
        state.theme_index = s.theme_index;
        if let Some(names) = &s.config.ui.columns {
            state.columns = super::columns::parse_list(names)?;
            if state.columns.is_empty() {
                return Err("[ui] columns is empty: name at least one column".into());
            }
        }
        for (name, v) in &s.config.views {
            state.views.push(super::views::View::from_config(name, v)?);
        }
        state.composer.defaults = s.config.defaults.clone();
        state.composer.uploads = s.uploads;
        // Curl commands name the variable the key came from (not the demo's "(demo)").
        if let Some(var) = s
            .key_var
            .filter(|v| v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !v.is_empty())
        {
            state.key_var = var.to_string();
        }
        state.now = s.now;
        state.today_start = s.today_start;
        for w in s.warnings {
            state.notice(Level::Warn, w);
        }
        results_settings(&mut state, s.config);
        if let Some(other) = s
            .config
            .ui
            .clipboard
            .as_deref()
            .filter(|m| !["auto", "osc52"].contains(m))
        {
            let text = format!("[ui] clipboard = \"{other}\" is unknown; use auto or osc52");
            state.notice(Level::Warn, text);
        }
        if s.demo {
            state.notice(
                Level::Info,
                "demo: tasks run against the embedded simulator; press ? for keys",
            );
        }
        Ok(state)
    }
}

/// Copy the results-related config into the state (expiry warning, prices, previews, batching).
pub(crate) fn results_settings(state: &mut State, config: &Config) {
    if let Some(other) = config
        .ui
        .images
        .as_deref()
        .filter(|m| !["auto", "halfblocks", "off"].contains(m))
    {
        let text = format!("[ui] images = \"{other}\" is unknown; use auto, halfblocks or off");
        state.notice(Level::Warn, text);
    }
    state.cap = crate::engine::budget::SpendingCap::from_config(config);
    let r = &mut state.results;
    r.warn_secs = (config.download.warn_before_expiry_hours.max(0.0) * 3600.0) as i64;
    r.images = config.ui.images.as_deref() != Some("off");
    r.sheet_frames = config
        .ui
        .contact_sheet_frames
        .unwrap_or(crate::engine::sheet::DEFAULT_FRAMES)
        .min(crate::engine::sheet::MAX_FRAMES);
    r.batch_secs = config.notify.batch_secs as i64;
    r.pricing = config.pricing.clone();
}
