//! The program's log (`tracing` events) written to a file: `--log FILE`, `[debug] log`, or
//! `SEEDANCE_LOG=LEVEL` alone (then `seedance-tui.log` in the data folder). Never to the terminal,
//! which the dashboard owns. One line per event: time, level, target, message and fields, with
//! control characters escaped.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// The level named by `SEEDANCE_LOG` (`error`, `warn`, `info`, `debug`, `trace`), if valid.
pub(crate) fn level_from(text: &str) -> Option<Level> {
    match text.trim().to_ascii_lowercase().as_str() {
        "error" => Some(Level::ERROR),
        "warn" | "warning" => Some(Level::WARN),
        "info" => Some(Level::INFO),
        "debug" => Some(Level::DEBUG),
        "trace" => Some(Level::TRACE),
        _ => None,
    }
}

/// Where the log goes and at which level, from the flag, the config and `SEEDANCE_LOG`: `None`
/// when no log was asked for.
pub(crate) fn choose(
    flag: Option<&Path>,
    configured: Option<&Path>,
    env_level: Option<&str>,
    data_dir: &Path,
) -> Option<(PathBuf, Level)> {
    let level = env_level.and_then(level_from);
    let path = flag
        .or(configured)
        .map(Path::to_path_buf)
        .or_else(|| level.map(|_| data_dir.join("seedance-tui.log")))?;
    Some((path, level.unwrap_or(Level::INFO)))
}

/// A subscriber that appends events at or above `max` to a file.
pub(crate) struct FileLog {
    file: Mutex<std::fs::File>,
    max: Level,
    next_span: AtomicU64,
}

impl FileLog {
    pub(crate) fn open(path: &Path, max: Level) -> std::io::Result<FileLog> {
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        Ok(FileLog {
            file: Mutex::new(file),
            max,
            next_span: AtomicU64::new(1),
        })
    }

    /// Install as the process's subscriber; false when one is already installed.
    pub(crate) fn install(self) -> bool {
        tracing::subscriber::set_global_default(self).is_ok()
    }
}

/// Collects an event's message and fields as text.
struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, " {value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            let _ = write!(self.0, " {value}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

impl Subscriber for FileLog {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.max
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::from_level(self.max))
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed))
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let mut line = Line(String::new());
        event.record(&mut line);
        let text: String = line
            .0
            .chars()
            .flat_map(|c| {
                if c.is_control() {
                    c.escape_default().collect::<Vec<_>>()
                } else {
                    vec![c]
                }
            })
            .collect();
        let out = format!(
            "{} {:5} {}:{text}\n",
            crate::api::trace::now_rfc3339(),
            meta.level(),
            meta.target()
        );
        let mut file = match self.file.lock() {
            Ok(f) => f,
            Err(p) => p.into_inner(),
        };
        let _ = file.write_all(out.as_bytes());
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_the_config_and_the_variable_choose_the_file_and_level() {
        let data = Path::new("/data");
        assert_eq!(choose(None, None, None, data), None);
        assert_eq!(choose(None, None, Some("bogus"), data), None);
        assert_eq!(
            choose(None, None, Some("debug"), data),
            Some((PathBuf::from("/data/seedance-tui.log"), Level::DEBUG))
        );
        assert_eq!(
            choose(
                Some(Path::new("/x.log")),
                Some(Path::new("/c.log")),
                None,
                data
            ),
            Some((PathBuf::from("/x.log"), Level::INFO))
        );
        assert_eq!(
            choose(None, Some(Path::new("/c.log")), Some("WARN"), data),
            Some((PathBuf::from("/c.log"), Level::WARN))
        );
    }

    #[test]
    fn events_reach_the_file_at_and_above_the_level() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let log = FileLog::open(&path, Level::INFO).unwrap();
        tracing::subscriber::with_default(log, || {
            tracing::info!(task = "cgt-1", "polled\x1b[2J");
            tracing::debug!("not written");
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("INFO"), "{text}");
        assert!(text.contains("polled\\u{1b}[2J"), "{text}");
        assert!(text.contains("task=\"cgt-1\""), "{text}");
        assert!(!text.contains("not written"), "{text}");
        assert!(!text.contains('\x1b'));
    }
}
