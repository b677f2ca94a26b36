//! The daily spending cap (`[budget]`). Today's spend is counted from the store — every task
//! created since midnight: its billed tokens once known, else an estimate while it may
//! still bill (submitting, unknown outcome, queued, running, succeeded without a count) — so
//! every process sharing a store sees the same total, and a new submission is checked against
//! it before anything is sent. The day is the host's local one on SQLite (one machine), and on
//! PostgreSQL the server's ([`crate::store::SharedDay`]), one day for every host of a team.
//!
//! **The hook**: [`Engine::may_spend`] answers "may I spend these tokens now?" for any caller
//! (the CLI, the dashboard, a batch queue): `Ok(Spend)` with the total after it, or
//! `Err(OverBudget)` whose message has the numbers. Estimate a request with [`estimate`].

use super::Engine;
use crate::api::TaskStatus;
use crate::api::types::CreateRequest;
use crate::config::{BudgetConfig, Config, PricingConfig};
use crate::store::{Phase, Spec, Store, StoreError, TaskFacts};

/// The cap and the prices that turn tokens into money.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpendingCap {
    pub budget: BudgetConfig,
    pub pricing: PricingConfig,
}

impl SpendingCap {
    pub(crate) fn from_config(c: &Config) -> SpendingCap {
        SpendingCap {
            budget: c.budget.clone(),
            pricing: c.pricing.clone(),
        }
    }

    /// Whether any cap is set.
    pub(crate) fn is_set(&self) -> bool {
        self.budget.daily_tokens.is_some() || self.budget.daily_money.is_some()
    }

    /// The price of `tokens` priced by `key`, when prices are configured.
    pub(crate) fn money(&self, key: &PriceKey, tokens: u64) -> Option<f64> {
        Some(tokens as f64 / 1_000_000.0 * self.price(key)?)
    }

    /// The price of a million tokens priced by `key`, when prices are configured.
    fn price(&self, key: &PriceKey) -> Option<f64> {
        self.pricing
            .per_million(&key.model, &key.resolution, key.with_video)
    }

    /// An amount with the configured currency, e.g. `¥1.08`.
    pub(crate) fn format_money(&self, amount: f64) -> String {
        self.pricing.format(amount)
    }

    /// The spend of `planned` creates.
    pub(crate) fn spend_of(&self, planned: &[Planned]) -> Spend {
        let mut s = Spend::default();
        for p in planned {
            s.add(self, &p.price, p.tokens);
        }
        s
    }
}

/// What a task's price depends on (`[pricing]`): its model, its resolution tier, and whether a
/// video is input.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PriceKey {
    pub(crate) model: String,
    pub(crate) resolution: String,
    pub(crate) with_video: bool,
}

impl PriceKey {
    /// A create request's.
    pub(crate) fn of_request(req: &CreateRequest) -> PriceKey {
        PriceKey {
            model: req.model.clone(),
            resolution: crate::api::models::request_resolution(
                &req.model,
                req.resolution.as_deref(),
            ),
            with_video: req.has_input_video(),
        }
    }

    /// A stored task's (from its request's facts).
    pub(crate) fn of_task(t: &impl TaskFacts) -> PriceKey {
        Self::of_spec(t.model(), &t.spec())
    }

    fn of_spec(model: &str, spec: &Spec) -> PriceKey {
        PriceKey {
            model: model.to_string(),
            resolution: crate::api::models::request_resolution(model, spec.resolution.as_deref()),
            with_video: spec.has_input_video,
        }
    }
}

/// A create about to be sent: what prices it and its estimated tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub(crate) price: PriceKey,
    pub tokens: u64,
}

impl Planned {
    /// A request, with [`estimate`]'s tokens.
    pub fn request(req: &CreateRequest) -> Planned {
        Planned {
            price: PriceKey::of_request(req),
            tokens: estimate(req),
        }
    }

    /// A stored task sent again (a retry, a queued line), with its stored request's estimate.
    pub(crate) fn task(t: &impl TaskFacts) -> Planned {
        let spec = t.spec();
        Planned {
            price: PriceKey::of_spec(t.model(), &spec),
            tokens: spec.estimate,
        }
    }
}

/// Tokens (and money, with prices) spent or committed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spend {
    pub tokens: u64,
    pub(crate) money: Option<f64>,
}

impl Spend {
    fn add(&mut self, cap: &SpendingCap, key: &PriceKey, tokens: u64) {
        self.tokens = self.tokens.saturating_add(tokens);
        if let Some(m) = cap.money(key, tokens) {
            *self.money.get_or_insert(0.0) += m;
        }
    }

    fn plus(self, other: Spend) -> Spend {
        Spend {
            tokens: self.tokens.saturating_add(other.tokens),
            money: match (self.money, other.money) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
            },
        }
    }
}

/// A submission that would pass today's cap; nothing was sent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct OverBudget {
    pub today: Spend,
    pub adding: Spend,
    pub(crate) cap: Box<SpendingCap>,
    /// The store's day it was counted in, when the store decides the day (PostgreSQL); the
    /// host's local day when `None`.
    pub(crate) day: Option<crate::store::SharedDay>,
}

impl OverBudget {
    fn describe(&self) -> String {
        let after = self.today.plus(self.adding);
        let b = &self.cap.budget;
        let mut parts = Vec::new();
        if let Some(limit) = b.daily_tokens.filter(|l| after.tokens > *l) {
            parts.push(format!(
                "{} tokens today + {} for this = {} > the cap of {} ([budget] daily_tokens)",
                self.today.tokens, self.adding.tokens, after.tokens, limit
            ));
        }
        if let (Some(limit), Some(spent)) = (b.daily_money, after.money)
            && spent > limit
        {
            parts.push(format!(
                "{} today + {} for this = {} > the cap of {} ([budget] daily_money)",
                self.cap.format_money(self.today.money.unwrap_or(0.0)),
                self.cap.format_money(self.adding.money.unwrap_or(0.0)),
                self.cap.format_money(spent),
                self.cap.format_money(limit)
            ));
        }
        format!(
            "over today's spending cap: {}; nothing was sent",
            parts.join("; ")
        )
    }
}

/// The estimated tokens of one request (the model table's estimate): reference videos count
/// their seconds where they were read ([`super::input_video::read`]), else the model's minimum.
pub fn estimate(req: &CreateRequest) -> u64 {
    crate::api::models::estimate_request_tokens(req)
}

/// The estimated tokens of a stored task's request (0 when it cannot be read).
#[cfg(test)]
pub(crate) fn estimate_record(r: &impl TaskFacts) -> u64 {
    r.spec().estimate
}

/// What a task counts against the cap: its billed tokens once known, else its estimate while it
/// may still bill; nothing for a task that was refused or ended without a count. The
/// one-task rule [`DaySpend`] is tested against.
#[cfg(test)]
pub(crate) fn counted_tokens(r: &impl TaskFacts) -> u64 {
    if let Some(t) = r.tokens() {
        return t;
    }
    counted(r, estimate_record(r))
}

/// [`counted_tokens`] with the task's estimate already read.
fn counted(r: &impl TaskFacts, estimate: u64) -> u64 {
    if let Some(t) = r.tokens() {
        return t;
    }
    match r.phase() {
        // A lost task may have run and billed before the server forgot it.
        Phase::Submitting | Phase::SubmitUnknown | Phase::Lost => estimate,
        // A pending row is checked against the cap when the queue sends it.
        Phase::Rejected | Phase::Pending => 0,
        Phase::Remote(s) => match s {
            TaskStatus::Queued | TaskStatus::Running | TaskStatus::Succeeded => estimate,
            _ => 0,
        },
    }
}

/// Unix seconds of the last local midnight at or before `now`.
pub(crate) fn local_day_start(now: i64) -> i64 {
    use chrono::{Local, TimeZone};
    let Some(t) = Local.timestamp_opt(now, 0).single() else {
        return now - now.rem_euclid(86_400);
    };
    t.date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|m| Local.from_local_datetime(&m).earliest())
        .map(|m| m.timestamp())
        .unwrap_or(now - now.rem_euclid(86_400))
}

/// Today's spend of `tasks` (those created at or after `day_start`): the from-scratch sum the
/// incremental spend is tested against.
#[cfg(test)]
pub(crate) fn spend_of_tasks<'a, T: TaskFacts + 'a>(
    cap: &SpendingCap,
    tasks: impl IntoIterator<Item = &'a T>,
    day_start: i64,
) -> Spend {
    let mut day = DaySpend::new(day_start);
    for t in tasks {
        day.add(t);
    }
    day.spend(cap)
}

/// Today's counted tokens per price (model, resolution tier, video input), kept up to date one
/// task at a time (add a task's row, take its old row away when it changes), so a change costs
/// a lookup instead of a pass over every task. Money is priced from the per-price totals, so a
/// total is the same however it was reached.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct DaySpend {
    day_start: i64,
    /// Price → (tasks counted, their tokens).
    by_price: std::collections::BTreeMap<PriceKey, (usize, u128)>,
}

impl DaySpend {
    /// Counting the tasks created at or after `day_start`.
    pub(crate) fn new(day_start: i64) -> DaySpend {
        DaySpend {
            day_start,
            by_price: Default::default(),
        }
    }

    pub(crate) fn add(&mut self, t: &impl TaskFacts) {
        if t.created_at() < self.day_start {
            return;
        }
        let spec = t.spec();
        let tokens = u128::from(counted(t, spec.estimate));
        // A day's tasks share a few prices: found among them, a task's key is not built (two
        // strings) just to be looked up, which at start-up is once per task.
        let resolution =
            crate::api::models::request_resolution_str(t.model(), spec.resolution.as_deref());
        if self.by_price.len() <= 16
            && let Some((n, sum)) = self.by_price.iter_mut().find_map(|(k, v)| {
                (k.model == t.model()
                    && k.resolution == resolution
                    && k.with_video == spec.has_input_video)
                    .then_some(v)
            })
        {
            *n += 1;
            *sum += tokens;
            return;
        }
        let (n, sum) = self
            .by_price
            .entry(PriceKey::of_spec(t.model(), &spec))
            .or_insert((0, 0));
        *n += 1;
        *sum += tokens;
    }

    /// Take away a row that was added.
    pub(crate) fn remove(&mut self, t: &impl TaskFacts) {
        if t.created_at() < self.day_start {
            return;
        }
        let spec = t.spec();
        let tokens = u128::from(counted(t, spec.estimate));
        let key = PriceKey::of_spec(t.model(), &spec);
        if let Some((n, sum)) = self.by_price.get_mut(&key) {
            *n = n.saturating_sub(1);
            *sum = sum.saturating_sub(tokens);
            if *n == 0 {
                self.by_price.remove(&key);
            }
        }
    }

    /// The spend under `cap`'s prices.
    pub(crate) fn spend(&self, cap: &SpendingCap) -> Spend {
        let mut s = Spend::default();
        let mut total = 0u128;
        for (key, (_, tokens)) in &self.by_price {
            total += tokens;
            if let Some(per_million) = cap.price(key) {
                *s.money.get_or_insert(0.0) += *tokens as f64 / 1_000_000.0 * per_million;
            }
        }
        s.tokens = u64::try_from(total).unwrap_or(u64::MAX);
        s
    }
}

/// Check `adding` against the cap, given what was spent today.
pub(crate) fn check(cap: &SpendingCap, today: Spend, adding: Spend) -> Result<Spend, OverBudget> {
    let after = today.plus(adding);
    let over_tokens = cap.budget.daily_tokens.is_some_and(|l| after.tokens > l);
    let over_money = matches!((cap.budget.daily_money, after.money), (Some(l), Some(m)) if m > l);
    if over_tokens || over_money {
        return Err(OverBudget {
            today,
            adding,
            cap: Box::new(cap.clone()),
            day: None,
        });
    }
    Ok(after)
}

/// Today's spend of the rows in `store` created at or after `day_start`, read row by row.
fn spent_in(cap: &SpendingCap, store: &Store, day_start: i64) -> Result<Spend, StoreError> {
    let mut day = DaySpend::new(day_start);
    store.each_spend_row(day_start, |r| day.add(&r))?;
    Ok(day.spend(cap))
}

/// The one rule every path that sends a create follows (a submit, a retry, a queued line, the
/// dashboard's): `adding` is checked against today's spend *inside the store transaction that
/// writes the row reserving it* (`Store::begin_submission_if`, `Store::claim_pending_if`), so
/// processes sharing a store cannot each see room for one and all send.
pub(crate) fn reserve(
    cap: &SpendingCap,
    store: &Store,
    adding: Spend,
) -> Result<Result<(), OverBudget>, StoreError> {
    if !cap.is_set() {
        return Ok(Ok(()));
    }
    let now = super::now();
    let day = store.shared_day(now)?;
    let today = spent_in(cap, store, day_start(day.as_ref(), now))?;
    Ok(check(cap, today, adding)
        .map(|_| ())
        .map_err(|over| OverBudget { day, ..over }))
}

/// When the day the cap counts began: the store's day when it has one, else local midnight.
fn day_start(shared: Option<&crate::store::SharedDay>, now: i64) -> i64 {
    shared.map_or_else(|| local_day_start(now), |d| d.start)
}

/// The next local midnight after `now` (Unix seconds): when a day's cap opens again.
pub(crate) fn next_day_start(now: i64) -> i64 {
    let start = local_day_start(now);
    // A day is 23 to 25 hours long around a DST change: the first midnight after 25 hours.
    let next = local_day_start(start + 25 * 3600);
    if next > now { next } else { start + 86_400 }
}

/// Why `may_spend` said no.
#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    #[error("{0}")]
    Over(#[from] OverBudget),
    #[error("cannot count today's spend: {0}")]
    Store(#[from] StoreError),
}

impl Engine {
    /// Set the cap `may_spend` checks against.
    pub fn with_spending_cap(mut self, cap: SpendingCap) -> Engine {
        self.cap = std::sync::Arc::new(cap);
        self
    }

    /// The cap this engine checks against.
    pub(crate) fn spending_cap(&self) -> &SpendingCap {
        &self.cap
    }

    /// The same engine with no cap: the user chose to pass it (`--over-budget`, or `y` to a
    /// question that named the cap).
    pub(crate) fn without_spending_cap(&self) -> Engine {
        let mut e = self.clone();
        e.cap = std::sync::Arc::new(SpendingCap::default());
        e
    }

    /// Today's spend, counted from the store (see the module doc).
    pub(crate) async fn spent_today(&self) -> Result<Spend, StoreError> {
        let cap = (*self.cap).clone();
        self.with_store(move |s| {
            let now = super::now();
            let day = s.shared_day(now)?;
            spent_in(&cap, s, day_start(day.as_ref(), now))
        })
        .await
    }

    /// May these new tasks — see [`Planned`] and [`estimate`] — be sent now
    /// without passing today's cap? `Ok` with today's spend after them (always `Ok` when no cap
    /// is set); `Err(BudgetError::Over)` with the numbers when they would pass it. Call it
    /// before sending; it sends and records nothing itself.
    pub async fn may_spend(&self, planned: &[Planned]) -> Result<Spend, BudgetError> {
        let adding = self.cap.spend_of(planned);
        if !self.cap.is_set() {
            return Ok(adding);
        }
        let today = self.spent_today().await?;
        Ok(check(&self.cap, today, adding)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TaskRecord;

    fn cap(tokens: Option<u64>, money: Option<f64>) -> SpendingCap {
        SpendingCap {
            budget: BudgetConfig {
                daily_tokens: tokens,
                daily_money: money,
            },
            pricing: PricingConfig {
                per_million_tokens: Some(crate::config::Price::Flat(10.0)),
                currency: "¥".into(),
                ..PricingConfig::default()
            },
        }
    }

    #[test]
    fn a_cap_is_passed_only_above_its_limit() {
        let c = cap(Some(300), None);
        let today = Spend {
            tokens: 200,
            money: None,
        };
        let add = |t| Spend {
            tokens: t,
            money: None,
        };
        assert!(check(&c, today, add(100)).is_ok(), "exactly at the cap");
        let over = check(&c, today, add(101)).expect_err("one token over");
        let text = over.to_string();
        assert!(
            text.contains("200 tokens today + 101 for this = 301 > the cap of 300"),
            "{text}"
        );
        assert!(text.contains("nothing was sent"), "{text}");
    }

    #[test]
    fn a_money_cap_counts_with_the_prices() {
        let c = cap(None, Some(1.0));
        let planned = vec![Planned {
            price: PriceKey {
                model: "m".into(),
                resolution: "720p".into(),
                with_video: false,
            },
            tokens: 150_000,
        }];
        let adding = c.spend_of(&planned);
        assert_eq!(adding.money, Some(1.5));
        let err = check(&c, Spend::default(), adding).expect_err("¥1.50 > ¥1.00");
        assert!(
            err.to_string().contains("¥1.50 > the cap of ¥1.00"),
            "{err}"
        );
    }

    #[test]
    fn money_is_priced_per_resolution_tier_and_video_input() {
        let pricing: PricingConfig = toml::from_str(
            "currency = \"¥\"\n[models.m]\n\"720p\" = 10.0\n\"1080p\" = 20.0\nwith_video = { \"720p\" = 5.0, \"1080p\" = 8.0 }\n",
        )
        .expect("tiered prices");
        let c = SpendingCap {
            budget: BudgetConfig {
                daily_tokens: None,
                daily_money: Some(100.0),
            },
            pricing,
        };
        let task = |id: &str, resolution: &str, video: bool, tokens: u64| {
            let video = if video {
                r#",{"type":"video_url","video_url":{"url":"asset://v"},"role":"reference_video"}"#
            } else {
                ""
            };
            TaskRecord {
                tokens: Some(tokens),
                request_json: format!(
                    r#"{{"model":"m","content":[{{"type":"text","text":"x"}}{video}],"resolution":"{resolution}","duration":5}}"#
                ),
                ..TaskRecord::factory(id, Phase::Remote(TaskStatus::Succeeded), 10)
            }
        };
        let tasks = [
            task("a", "720p", false, 1_000_000),
            task("b", "720p", true, 1_000_000),
            task("c", "1080p", false, 1_000_000),
            task("d", "1080p", true, 1_000_000),
        ];
        let s = spend_of_tasks(&c, &tasks, 0);
        assert_eq!(s.tokens, 4_000_000);
        assert_eq!(s.money, Some(10.0 + 5.0 + 20.0 + 8.0));
        // Taking one away leaves the others' prices.
        let mut day = DaySpend::new(0);
        tasks.iter().for_each(|t| day.add(t));
        day.remove(&tasks[3]);
        assert_eq!(day.spend(&c).money, Some(35.0));
        // A planned request is priced the same way.
        let planned = [Planned::task(&tasks[1])];
        assert_eq!(
            planned[0].price,
            PriceKey {
                model: "m".into(),
                resolution: "720p".into(),
                with_video: true
            }
        );
        assert_eq!(c.money(&planned[0].price, 2_000_000), Some(10.0));
    }

    #[test]
    fn unfinished_tasks_count_their_estimate_and_refused_ones_nothing() {
        let queued = TaskRecord::factory("a", Phase::Remote(TaskStatus::Queued), 10);
        let billed = TaskRecord {
            tokens: Some(7),
            ..TaskRecord::factory("b", Phase::Remote(TaskStatus::Succeeded), 10)
        };
        let failed = TaskRecord::factory("c", Phase::Remote(TaskStatus::Failed), 10);
        let rejected = TaskRecord::factory("d", Phase::Rejected, 10);
        let old = TaskRecord::factory("e", Phase::Remote(TaskStatus::Queued), 5);
        assert_eq!(counted_tokens(&queued), estimate_record(&queued));
        assert!(counted_tokens(&queued) > 0);
        let c = cap(Some(1), None);
        let s = spend_of_tasks(&c, [&queued, &billed, &failed, &rejected, &old], 10);
        assert_eq!(s.tokens, estimate_record(&queued) + 7);
    }
}
