//! Client-made ids: unique per process and across processes, sortable by time. Used as the
//! store's local id and as the `X-Client-Request-Id` of a create.

use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A new local id: `l` + milliseconds since the epoch + process id + a per-process counter, in hex.
pub fn new_local_id() -> String {
    let ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("l{ms:011x}{:05x}{n:04x}", std::process::id() & 0xfffff)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_unique_and_ordered_within_a_process() {
        let a = super::new_local_id();
        let b = super::new_local_id();
        assert_ne!(a, b);
        assert!(a.starts_with('l'));
        assert!(a < b || a[..12] == b[..12]);
    }
}
