//! The token and money summary (`$`) and the header's cost of today.

use crate::app::effect::Effect;
use crate::app::state::{Overlay, State};
use crate::store::TaskRow;
use std::collections::BTreeMap;

/// Prices that turn tokens into money (`[pricing]`: per model, resolution tier, video input).
pub(crate) type Pricing = crate::config::PricingConfig;

/// The price of `tokens` billed for the task `t`, when a price is known.
pub(crate) fn cost(pricing: &Pricing, t: &TaskRow, tokens: u64) -> Option<f64> {
    let resolution = crate::api::models::request_resolution(&t.model, t.spec.resolution.as_deref());
    let p = pricing.per_million(&t.model, &resolution, t.spec.has_input_video)?;
    Some(tokens as f64 / 1_000_000.0 * p)
}

/// Token (and money) totals for one group of tasks.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Total {
    pub(crate) tasks: usize,
    pub(crate) tokens: u64,
    /// `None` when no price is configured for any of its tasks.
    pub(crate) cost: Option<f64>,
}

impl Total {
    fn add(&mut self, t: &TaskRow, pricing: &Pricing) {
        self.tasks += 1;
        let n = t.tokens.unwrap_or(0);
        self.tokens += n;
        if let Some(c) = cost(pricing, t, n) {
            *self.cost.get_or_insert(0.0) += c;
        }
    }
}

/// The summary view's numbers.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Summary {
    /// Days back from today (0 = today) -> total, by the day tasks finished (else were created).
    pub(crate) by_day: BTreeMap<i64, Total>,
    pub(crate) by_model: BTreeMap<String, Total>,
    /// The tasks in the current filter.
    pub(crate) filtered: Total,
    pub(crate) all: Total,
}

/// Compute the summary from the state (billed tasks: those with a token count).
pub(crate) fn summary(state: &State) -> Summary {
    let p = &state.results.pricing;
    let mut s = Summary::default();
    for t in state.tasks.iter().filter(|t| t.tokens.is_some()) {
        let at = t.finished_at.unwrap_or(t.created_at);
        let day = (state.today_start - at + 86_399).div_euclid(86_400).max(0);
        s.by_day.entry(day).or_default().add(t, p);
        s.by_model.entry(t.model.to_string()).or_default().add(t, p);
        s.all.add(t, p);
    }
    for &i in &state.order {
        let t = &state.tasks[i];
        if t.tokens.is_some() {
            s.filtered.add(t, p);
        }
    }
    s
}

/// Money spent today, when prices are configured.
pub(crate) fn cost_today(state: &State) -> Option<f64> {
    let p = &state.results.pricing;
    if !p.is_set() {
        return None;
    }
    Some(
        state
            .tasks
            .iter()
            .filter(|t| t.finished_at.is_some_and(|f| f >= state.today_start))
            .filter_map(|t| cost(p, t, t.tokens.unwrap_or(0)))
            .sum(),
    )
}

/// `$`: show the summary.
pub(crate) fn show_summary(state: &mut State) -> Vec<Effect> {
    state.overlay = Overlay::Summary { scroll: 0 };
    Vec::new()
}
