//! The `/` filter: free text matched against id, prompt, batch label, model and status, plus
//! `status:X`, `model:X`, `label:X`, `retried:yes|no` and `group:ID` terms (all terms must
//! match; case-insensitive). `group:ID` keeps the variants of the task ID names (see
//! `app::variants`).

use crate::store::{Phase, TaskRow};
use memchr::memmem;
use std::collections::HashMap;

/// A parsed filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// The text as typed.
    pub(crate) text: String,
    statuses: Vec<String>,
    models: Vec<String>,
    /// `label:X` terms (alternatives): tasks whose batch label contains one (`label:` alone: any
    /// label).
    labels: Vec<String>,
    /// `retried:no` keeps tasks no retry was made of; `retried:yes` the others.
    retried: Option<bool>,
    words: Vec<String>,
    /// `group:ID`: the id as typed, and the local ids of its group (filled from the rows by
    /// `variants::resolve` before a scan).
    group: Option<String>,
    members: std::sync::Arc<std::collections::HashSet<String>>,
}

impl Filter {
    pub fn parse(text: &str) -> Filter {
        let mut f = Filter {
            text: text.to_string(),
            ..Filter::default()
        };
        for term in text.split_whitespace() {
            let lower = term.to_lowercase();
            if let Some(s) = lower.strip_prefix("status:") {
                f.statuses.push(s.to_string());
            } else if let Some(m) = lower.strip_prefix("model:") {
                f.models.push(m.to_string());
            } else if let Some(l) = lower.strip_prefix("label:") {
                f.labels.push(l.to_string());
            } else if let Some(g) = term.strip_prefix("group:") {
                f.group = Some(g.to_string());
            } else if let Some(r) = lower.strip_prefix("retried:") {
                f.retried = match r {
                    "no" | "n" | "false" => Some(false),
                    "yes" | "y" | "true" => Some(true),
                    _ => None,
                };
            } else {
                f.words.push(lower);
            }
        }
        f
    }

    /// Whether every task this filter keeps was kept by `prev` too, so the new result can be
    /// taken from the previous one: the same status and model terms (those are alternatives, so
    /// adding one widens), and each of `prev`'s words inside one of ours (words must all match).
    pub(crate) fn narrows(&self, prev: &Filter) -> bool {
        self.group.is_none()
            && prev.group.is_none()
            && self.statuses == prev.statuses
            && self.models == prev.models
            && self.labels == prev.labels
            && prev
                .words
                .iter()
                .all(|w| self.words.iter().any(|n| n.contains(w.as_str())))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.statuses.is_empty()
            && self.models.is_empty()
            && self.labels.is_empty()
            && self.words.is_empty()
            && self.retried.is_none()
            && self.group.is_none()
    }

    /// The id of a `group:` term.
    pub(crate) fn group(&self) -> Option<&str> {
        self.group.as_deref()
    }

    /// The local ids a `group:` term keeps.
    pub(crate) fn set_members(
        &mut self,
        members: std::sync::Arc<std::collections::HashSet<String>>,
    ) {
        self.members = members;
    }

    fn group_keeps(&self, r: &TaskRow) -> bool {
        self.group.is_none() || self.members.contains(&*r.local_id)
    }

    /// Whether `r` passes every term; `has_retry`: a retry of it exists.
    pub(crate) fn matches(&self, r: &TaskRow, has_retry: bool) -> bool {
        if !self.group_keeps(r) || self.retried.is_some_and(|want| want != has_retry) {
            return false;
        }
        let status = r.phase.as_str();
        if !self.statuses.is_empty()
            && !self.statuses.iter().any(|s| status.starts_with(s.as_str()))
        {
            return false;
        }
        if !self.models.is_empty() {
            let model = r.model.to_lowercase();
            let short = crate::api::models::short_label(&r.model).to_lowercase();
            let fast = model.contains("fast");
            let hit = self.models.iter().any(|m| {
                model.contains(m.as_str())
                    || short == *m
                    || (m == "std" && !fast && model.contains("2-0"))
            });
            if !hit {
                return false;
            }
        }
        let label = r.label().map(str::to_lowercase);
        if !self.labels.is_empty()
            && !label
                .as_deref()
                .is_some_and(|l| self.labels.iter().any(|t| l.contains(t.as_str())))
        {
            return false;
        }
        self.words.iter().all(|w| {
            label.as_deref().is_some_and(|l| l.contains(w.as_str()))
                || r.local_id.to_lowercase().contains(w.as_str())
                || r.task_id
                    .as_deref()
                    .is_some_and(|t| t.to_lowercase().contains(w.as_str()))
                || r.prompt.to_lowercase().contains(w.as_str())
                || r.model.to_lowercase().contains(w.as_str())
                || status.contains(w.as_str())
        })
    }
}

/// How many statuses have a slot (`Phase::ALL`): a row keeps its slot, so a scan reads no
/// status text (an unknown status is read and searched each time).
const PHASES: usize = 11;

/// No slot: an unknown status, a model past the table's size, text not in the arena.
const NONE_U8: u8 = u8::MAX;
const NONE_U16: u16 = u16::MAX;
const NONE_U32: u32 = u32::MAX;

fn phase_slot(p: &Phase) -> u8 {
    use crate::api::TaskStatus as S;
    match p {
        // The index in `Phase::ALL` (a test keeps the two in step).
        Phase::Remote(S::Queued) => 0,
        Phase::Remote(S::Running) => 1,
        Phase::Remote(S::Succeeded) => 2,
        Phase::Remote(S::Failed) => 3,
        Phase::Remote(S::Expired) => 4,
        Phase::Remote(S::Cancelled) => 5,
        Phase::Pending => 6,
        Phase::Submitting => 7,
        Phase::SubmitUnknown => 8,
        Phase::Rejected => 9,
        Phase::Lost => 10,
        Phase::Remote(S::Unknown(_)) => NONE_U8,
    }
}

/// The slot of a status name (the quick filter's), if it has one.
pub(crate) fn status_slot(name: &str) -> Option<u8> {
    Phase::names().position(|p| p == name).map(|p| p as u8)
}

/// Where row `i`'s text is, and its status and model as slots.
#[derive(Debug, Clone, Copy)]
struct Row {
    start: u32,
    len: u32,
    model: u16,
    phase: u8,
}

/// The filter's view of every row (index `i` is `tasks[i]`), kept next to the rows so a
/// keystroke neither lower-cases anything nor visits the rows themselves: each row's batch
/// label (empty without one), id, task id and prompt, lower-cased and joined by `\n` (no filter
/// word holds whitespace, so no match spans two fields; a label's own line breaks become
/// spaces), one row after another in one string; its status as a slot; its model as an index
/// into a table of the few models seen.
#[derive(Debug, Clone, Default)]
pub(crate) struct RowText {
    text: String,
    /// Bytes of `text` that belong to no row any more (rows whose text changed).
    stale: usize,
    rows: Vec<Row>,
    models: Vec<String>,
    model_ids: HashMap<String, u16>,
    /// The model id found last (rows come in runs of one model).
    last_model: u16,
}

/// Push the lower case of `s`, cheaply when it is ASCII.
fn push_lower(out: &mut String, s: &str) {
    if s.is_ascii() {
        let at = out.len();
        out.push_str(s);
        // Only ASCII was added, so the tail stays valid UTF-8 whatever came before it.
        out[at..].make_ascii_lowercase();
    } else {
        out.push_str(&s.to_lowercase());
    }
}

/// A row's searched text: its label, id, task id and prompt, lower-cased, one a line.
fn push_row_text(out: &mut String, r: &TaskRow) {
    match r.label() {
        Some(l) if l.contains('\n') => push_lower(out, &l.replace('\n', " ")),
        Some(l) => push_lower(out, l),
        None => {}
    }
    out.push('\n');
    push_lower(out, &r.local_id);
    out.push('\n');
    push_lower(out, r.task_id.as_deref().unwrap_or(""));
    out.push('\n');
    push_lower(out, &r.prompt);
}

impl RowText {
    /// Forget every row.
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.stale = 0;
        self.rows.clear();
        self.models.clear();
        self.model_ids.clear();
    }

    /// Every row's text anew, in a string allocated once at its size (grown row by row, it
    /// would double past it and leave the copies it outgrew behind: megabytes at 100k tasks).
    pub(crate) fn rebuild(&mut self, tasks: &[TaskRow]) {
        self.clear();
        let bytes: usize = tasks
            .iter()
            .map(|t| {
                t.label().map_or(0, str::len)
                    + t.local_id.len()
                    + t.task_id.as_deref().map_or(0, str::len)
                    + t.prompt.len()
                    + 3
            })
            .sum();
        self.text = String::with_capacity(bytes);
        self.rows = Vec::with_capacity(tasks.len());
        for (i, t) in tasks.iter().enumerate() {
            self.set(i, t);
        }
    }

    /// How many rows it holds.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// Set row `i` (the next new row when `i` is the count) to `r`'s text.
    pub(crate) fn set(&mut self, i: usize, r: &TaskRow) {
        let model = self.model_id(&r.model);
        let phase = phase_slot(&r.phase);
        if i == self.rows.len() {
            // A new row's text goes straight to the end (a rebuild sized the table for it).
            let at = self.text.len();
            push_row_text(&mut self.text, r);
            let (start, len) = match (u32::try_from(at), u32::try_from(self.text.len() - at)) {
                (Ok(start), Ok(len)) if start.checked_add(len).is_some_and(|e| e < NONE_U32) => {
                    (start, len)
                }
                // Beyond 4 GiB of text: this row is matched the slow way.
                _ => {
                    self.text.truncate(at);
                    (NONE_U32, 0)
                }
            };
            self.rows.push(Row {
                start,
                len,
                model,
                phase,
            });
            return;
        }
        let mut lower = String::new();
        push_row_text(&mut lower, r);
        if let Some(row) = self.rows.get_mut(i)
            && row.start != NONE_U32
            && self
                .text
                .get(row.start as usize..(row.start + row.len) as usize)
                == Some(lower.as_str())
        {
            // A status change (the usual one) keeps the text where it is.
            row.model = model;
            row.phase = phase;
            return;
        }
        if let Some(old) = self.rows.get(i).filter(|r| r.start != NONE_U32) {
            self.stale += old.len as usize;
        }
        let (start, len) = match (u32::try_from(self.text.len()), u32::try_from(lower.len())) {
            (Ok(start), Ok(len)) if start.checked_add(len).is_some_and(|e| e < NONE_U32) => {
                self.text.push_str(&lower);
                (start, len)
            }
            // Beyond 4 GiB of text: this row is matched the slow way.
            _ => (NONE_U32, 0),
        };
        let row = Row {
            start,
            len,
            model,
            phase,
        };
        self.rows[i] = row;
        if self.stale > 1 << 16 && self.stale > self.text.len() / 2 {
            self.compact();
        }
    }

    /// Drop the text of rows that changed.
    fn compact(&mut self) {
        let mut text = String::with_capacity(self.text.len() - self.stale);
        for row in self.rows.iter_mut().filter(|r| r.start != NONE_U32) {
            let (start, end) = (row.start as usize, (row.start + row.len) as usize);
            row.start = text.len() as u32;
            text.push_str(&self.text[start..end]);
        }
        self.text = text;
        self.stale = 0;
    }

    fn model_id(&mut self, model: &str) -> u16 {
        if self
            .models
            .get(usize::from(self.last_model))
            .map(String::as_str)
            == Some(model)
        {
            return self.last_model;
        }
        if let Some(&id) = self.model_ids.get(model) {
            self.last_model = id;
            return id;
        }
        match u16::try_from(self.models.len()) {
            Ok(id) if id < NONE_U16 && self.models.len() < 4096 => {
                self.models.push(model.to_string());
                self.model_ids.insert(model.to_string(), id);
                id
            }
            _ => NONE_U16,
        }
    }

    /// Row `i`'s status slot, if it has one.
    pub(crate) fn status_slot(&self, i: usize) -> Option<u8> {
        self.rows.get(i).map(|r| r.phase).filter(|&p| p != NONE_U8)
    }
}

/// One free-text word, ready to search.
struct Word<'a> {
    finder: memmem::Finder<'a>,
    len: usize,
    /// Where the word is in the whole row text (ascending), when a scan found it rarely
    /// enough: a row then looks its span up here instead of searching its text.
    hits: Option<Vec<u32>>,
    /// Per known status (`PHASES`): whether the word is in its name.
    in_status: [bool; PHASES],
    /// Per model of the row table: whether the word is in its lower case.
    in_model: Vec<bool>,
}

/// A [`Filter`] compiled for scanning the rows of a [`RowText`]: the same answers as
/// [`Filter::matches`], reading only the row table (a row not in it is asked the slow way).
pub(crate) struct Matcher<'a> {
    filter: &'a Filter,
    text: &'a RowText,
    words: Vec<Word<'a>>,
    /// Per model of the row table: whether the `model:` terms keep it.
    model_kept: Vec<bool>,
    /// The `label:` terms, searched in a row's first line.
    labels: Vec<memmem::Finder<'a>>,
}

impl Filter {
    /// Compile for a scan of `text`'s rows.
    pub(crate) fn matcher<'a>(&'a self, text: &'a RowText) -> Matcher<'a> {
        let lower_models: Vec<String> = text.models.iter().map(|m| m.to_lowercase()).collect();
        let words = self
            .words
            .iter()
            .map(|w| {
                let mut in_status = [false; PHASES];
                for (hit, name) in in_status.iter_mut().zip(Phase::names()) {
                    *hit = name.contains(w.as_str());
                }
                Word {
                    finder: memmem::Finder::new(w.as_bytes()),
                    len: w.len(),
                    hits: None,
                    in_status,
                    in_model: lower_models
                        .iter()
                        .map(|m| m.contains(w.as_str()))
                        .collect(),
                }
            })
            .collect();
        let model_kept = if self.models.is_empty() {
            Vec::new()
        } else {
            text.models.iter().map(|m| self.model_matches(m)).collect()
        };
        Matcher {
            filter: self,
            text,
            words,
            model_kept,
            labels: self
                .labels
                .iter()
                .map(|l| memmem::Finder::new(l.as_bytes()))
                .collect(),
        }
    }

    /// Whether the `model:` terms keep `model`.
    fn model_matches(&self, model: &str) -> bool {
        let lower = model.to_lowercase();
        let short = crate::api::models::short_label(model).to_lowercase();
        let fast = lower.contains("fast");
        self.models.iter().any(|m| {
            lower.contains(m.as_str())
                || short == *m
                || (m == "std" && !fast && lower.contains("2-0"))
        })
    }
}

impl Matcher<'_> {
    /// Before scanning `rows` rows: search each word through the whole row text once (one pass
    /// instead of a search per row), keeping the places when there are few (a word found in
    /// many rows is searched row by row).
    pub(crate) fn prepare_scan(mut self, rows: usize) -> Self {
        if rows < 4096 {
            return self;
        }
        let text = self.text.text.as_bytes();
        let most = rows / 16;
        for w in &mut self.words {
            // Overlapping places: a match across two rows' texts must not hide one inside the
            // second.
            let (mut hits, mut from) = (Vec::new(), 0);
            while hits.len() < most
                && let Some(p) = text.get(from..).and_then(|t| w.finder.find(t))
            {
                hits.push((from + p) as u32);
                from += p + 1;
            }
            if hits.len() < most {
                w.hits = Some(hits);
            }
        }
        self
    }

    /// [`Filter::matches`] for row `i`, which is `r`; `retries` (originals with a retry) is
    /// read only for a `retried:` term.
    pub(crate) fn matches(&self, i: usize, r: &TaskRow, retries: &HashMap<String, usize>) -> bool {
        let f = self.filter;
        if !f.group_keeps(r) {
            return false;
        }
        let Some(row) = self
            .text
            .rows
            .get(i)
            .copied()
            .filter(|row| row.start != NONE_U32 && row.model != NONE_U16)
        else {
            return f.matches(r, retries.contains_key(&*r.local_id));
        };
        if f.retried
            .is_some_and(|want| want != retries.contains_key(&*r.local_id))
        {
            return false;
        }
        if !f.statuses.is_empty() {
            let status = match Phase::name_at(row.phase as usize) {
                Some(name) => name,
                None => r.phase.as_str(),
            };
            if !f.statuses.iter().any(|s| status.starts_with(s.as_str())) {
                return false;
            }
        }
        if !f.models.is_empty() && !self.model_kept[row.model as usize] {
            return false;
        }
        let start = row.start as usize;
        let hay = &self.text.text.as_bytes()[start..start + row.len as usize];
        if !self.labels.is_empty() {
            let label = &hay[..memchr::memchr(b'\n', hay).unwrap_or(hay.len())];
            if label.is_empty() || !self.labels.iter().any(|l| l.find(label).is_some()) {
                return false;
            }
        }
        if self.words.is_empty() {
            return true;
        }
        self.words.iter().all(|w| {
            w.in_model[row.model as usize]
                || match w.in_status.get(row.phase as usize) {
                    Some(&hit) => hit,
                    None => status_has(w, r),
                }
                || match &w.hits {
                    Some(hits) => {
                        let k = hits.partition_point(|&h| h < row.start);
                        hits.get(k)
                            .is_some_and(|&h| h as usize + w.len <= start + row.len as usize)
                    }
                    // One byte (the first keystroke): memchr, without memmem's set-up.
                    None if w.len == 1 => memchr::memchr(w.finder.needle()[0], hay).is_some(),
                    None => w.finder.find(hay).is_some(),
                }
        })
    }
}

/// Whether `w` is in the status of a row whose status has no slot (one this client does not
/// know). Out of line: were it inlined, the row itself would be read for every row scanned
/// (a cache miss each at 100k rows) although only the row table is needed.
#[cold]
#[inline(never)]
fn status_has(w: &Word<'_>, r: &TaskRow) -> bool {
    w.finder.find(r.phase.as_str().as_bytes()).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::TaskStatus;
    use crate::store::TaskRecord;

    #[test]
    fn every_phase_has_the_slot_of_its_place_in_phase_all() {
        assert_eq!(PHASES, Phase::ALL.len());
        for (i, p) in Phase::ALL.iter().enumerate() {
            assert_eq!(phase_slot(p) as usize, i, "{p:?}");
            assert_eq!(status_slot(p.as_str()), Some(i as u8), "{p:?}");
        }
        assert_eq!(
            phase_slot(&Phase::Remote(TaskStatus::Unknown("x".into()))),
            NONE_U8
        );
    }

    /// A seeded source (splitmix64), so a failure repeats.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
            &from[self.next() as usize % from.len()]
        }
    }

    /// Letters whose lower case is tricky: ASCII of both cases, final and medial sigma, a dotted
    /// capital I (two chars in lower case), the Kelvin sign (lower case is ASCII `k`), a
    /// title-case letter, accented letters, CJK, digits, punctuation and a newline.
    const ALPHABET: [&str; 24] = [
        "a", "B", "k", "K", "x", "Fox", "fox", "Σ", "σ", "ς", "ΑΣ", "İ", "i", "\u{212a}", "ǅ", "É",
        "é", "狐", "狸", "7", "-", " ", "\n", "_",
    ];

    fn text(rng: &mut Rng, max: usize) -> String {
        let n = rng.next() as usize % (max + 1);
        (0..n).map(|_| *rng.pick(&ALPHABET)).collect()
    }

    #[test]
    fn the_compiled_matcher_answers_as_the_filter_does() {
        compare_with_the_filter(300, 400, false);
    }

    #[test]
    fn a_scan_of_many_rows_answers_as_the_filter_does() {
        // Enough rows for `prepare_scan` to search the whole text at once.
        compare_with_the_filter(5000, 40, true);
    }

    fn compare_with_the_filter(n: usize, queries: usize, scan: bool) {
        let mut rng = Rng(15);
        let phases = [
            Phase::Pending,
            Phase::Submitting,
            Phase::SubmitUnknown,
            Phase::Rejected,
            Phase::Remote(TaskStatus::Queued),
            Phase::Remote(TaskStatus::Running),
            Phase::Remote(TaskStatus::Succeeded),
            Phase::Remote(TaskStatus::Failed),
            Phase::Remote(TaskStatus::Unknown("WeIrD_σtate".into())),
        ];
        let models = [
            "doubao-seedance-2-0-fast-260128",
            "doubao-seedance-2-0-260128",
            "Doubao-ΣEEDANCE",
        ];
        let mut rows = Vec::new();
        let mut retries = HashMap::new();
        let mut texts = RowText::default();
        // Labels from a source of their own, so the rest of the rows stay as they were.
        let mut labels = Rng(16);
        for i in 0..n {
            let mut r = TaskRecord::factory(&text(&mut rng, 6), rng.pick(&phases).clone(), 0);
            r.task_id = (i % 4 != 0).then(|| text(&mut rng, 6));
            r.label = (!labels.next().is_multiple_of(3)).then(|| text(&mut labels, 5));
            r.prompt = text(&mut rng, 12);
            r.model = rng.pick(&models).to_string();
            if i % 5 == 0 {
                retries.insert(r.local_id.clone(), 1);
            }
            let r = TaskRow::from(r);
            texts.set(i, &r);
            rows.push(r);
        }
        // A row's text replaced in place is searched as the new text.
        let mut changed = rows[7].clone();
        changed.prompt = "ΑΣ plain ascii".into();
        texts.set(7, &changed);
        rows[7] = changed;
        let terms = [
            "status:r",
            "status:weird",
            "model:fast",
            "model:std",
            "retried:yes",
            "retried:no",
            "label:",
            "label:fox",
            "label:σ",
            "label:k",
        ];
        let mut compared = (0, 0);
        for _ in 0..queries {
            let mut query = String::new();
            for _ in 0..1 + rng.next() % 3 {
                if rng.next().is_multiple_of(4) {
                    let term = rng.pick(&terms);
                    query.push_str(term);
                } else {
                    query.push_str(&text(&mut rng, 3));
                }
                query.push(' ');
            }
            let f = Filter::parse(&query);
            let m = f.matcher(&texts);
            let m = if scan { m.prepare_scan(n) } else { m };
            for (i, r) in rows.iter().enumerate() {
                let want = f.matches(r, retries.contains_key(&*r.local_id));
                assert_eq!(
                    m.matches(i, r, &retries),
                    want,
                    "query {query:?} on row {r:?}"
                );
                if want {
                    compared.0 += 1;
                } else {
                    compared.1 += 1;
                }
            }
        }
        // Both answers were seen often, so the comparison says something.
        assert!(compared.0 > 1000 && compared.1 > 1000, "{compared:?}");
        if scan {
            assert!(
                f_words_with_hits(&rows, &texts),
                "some word was searched through the whole text"
            );
        }
    }

    /// Whether a rare word gets its places from one pass (so the scan path was tested).
    fn f_words_with_hits(rows: &[TaskRow], texts: &RowText) -> bool {
        let f = Filter::parse("狸狸");
        let m = f.matcher(texts).prepare_scan(rows.len());
        m.words.iter().all(|w| w.hits.is_some())
    }

    #[test]
    fn a_batch_label_is_found_by_its_term_and_by_plain_text() {
        let labelled = |id: &str, label: Option<&str>, prompt: &str| {
            TaskRow::from(TaskRecord {
                label: label.map(Into::into),
                prompt: prompt.into(),
                ..TaskRecord::factory(id, Phase::Pending, 0)
            })
        };
        let rows = [
            labelled("l1", Some("Lighthouse-1"), "a tower at dusk"),
            labelled("l2", Some("harbour-1"), "boats at dawn"),
            labelled("l3", None, "a lighthouse in fog"),
        ];
        let mut texts = RowText::default();
        texts.rebuild(&rows);
        let none = HashMap::new();
        let hits = |q: &str| {
            let f = Filter::parse(q);
            let m = f.matcher(&texts);
            let fast: Vec<&str> = (0..rows.len())
                .filter(|&i| m.matches(i, &rows[i], &none))
                .map(|i| &*rows[i].local_id)
                .collect();
            let slow: Vec<&str> = rows
                .iter()
                .filter(|r| f.matches(r, false))
                .map(|r| &*r.local_id)
                .collect();
            assert_eq!(fast, slow, "{q}");
            fast
        };
        // Plain text finds a label as it finds a prompt.
        assert_eq!(hits("lighthouse-1"), ["l1"]);
        assert_eq!(hits("lighthouse"), ["l1", "l3"]);
        // `label:` looks in labels only; several are alternatives; alone: any label.
        assert_eq!(hits("label:lighthouse"), ["l1"]);
        assert_eq!(hits("LABEL:harbour label:light"), ["l1", "l2"]);
        assert_eq!(hits("label:"), ["l1", "l2"]);
        assert_eq!(hits("label:dusk"), Vec::<&str>::new());
        assert_eq!(hits("label:-1 dawn"), ["l2"]);
        // A label term is part of what a narrower filter must keep.
        let prev = Filter::parse("label:harbour");
        assert!(!Filter::parse("label:harbour label:light").narrows(&prev));
        assert!(Filter::parse("label:harbour boats").narrows(&prev));
        assert!(!Filter::parse("label:x").is_empty());
    }

    #[test]
    fn changed_rows_are_found_by_their_new_text_also_after_old_text_is_dropped() {
        let mut texts = RowText::default();
        let mut rows: Vec<TaskRow> = (0..4)
            .map(|i| TaskRecord::factory(&format!("l{i}"), Phase::Pending, 0).into())
            .collect();
        for (i, r) in rows.iter().enumerate() {
            texts.set(i, r);
        }
        let none = HashMap::new();
        let hits = |texts: &RowText, rows: &[TaskRow], q: &str| {
            let f = Filter::parse(q);
            let m = f.matcher(texts);
            (0..rows.len())
                .filter(|&i| m.matches(i, &rows[i], &none))
                .collect::<Vec<_>>()
        };
        // A status change keeps the row's text where it is.
        let before = texts.text.len();
        rows[1].phase = Phase::Rejected;
        texts.set(1, &rows[1]);
        assert_eq!(texts.text.len(), before);
        assert_eq!(hits(&texts, &rows, "rejected"), vec![1]);
        // Big prompts rewritten until the stale text is dropped (the text shrinks back).
        for round in 0..40 {
            rows[2].prompt = format!("Round{round} ÉTÉ {}", "x".repeat(8000)).into();
            texts.set(2, &rows[2]);
            assert_eq!(hits(&texts, &rows, &format!("round{round} été")), vec![2]);
            assert_eq!(hits(&texts, &rows, "l3"), vec![3], "round {round}");
        }
        assert!(texts.text.len() < 40 * 8000, "{}", texts.text.len());
        assert!(hits(&texts, &rows, "round0 ").is_empty());
        assert_eq!(texts.len(), 4);
    }
}
