//! The one backoff rule: a wait that doubles with each failure, from `base` up to `max`. Used by
//! the API client (under full jitter), the poller, the download manager and result downloads.

use std::time::Duration;

/// A capped exponential backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub(crate) base: Duration,
    /// The longest wait.
    pub(crate) max: Duration,
}

impl Backoff {
    pub(crate) const fn new(base: Duration, max: Duration) -> Backoff {
        Backoff { base, max }
    }

    /// The wait after `failures` earlier failures: `base * 2^failures`, at most `max`.
    pub(crate) fn delay(&self, failures: u32) -> Duration {
        self.base
            .saturating_mul(2u32.saturating_pow(failures.min(20)))
            .min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_base_and_stops_at_max() {
        let b = Backoff::new(Duration::from_millis(250), Duration::from_secs(2));
        assert_eq!(b.delay(0), Duration::from_millis(250));
        assert_eq!(b.delay(1), Duration::from_millis(500));
        assert_eq!(b.delay(2), Duration::from_secs(1));
        assert_eq!(b.delay(3), Duration::from_secs(2));
        assert_eq!(b.delay(4), Duration::from_secs(2));
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(2), "no overflow");
        let huge = Backoff::new(Duration::from_secs(u64::MAX / 2), Duration::MAX);
        assert_eq!(
            huge.delay(5),
            Duration::MAX,
            "saturates instead of panicking"
        );
    }
}
