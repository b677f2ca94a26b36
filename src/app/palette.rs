//! The command palette (`:`), a popup of its own: what is typed is matched fuzzily against every
//! dashboard command of the registry (its name and its help, so `:retry` and `:mark all` both
//! find theirs), the saved views (`:view NAME`) and the commands that take a word: `:filter TEXT`,
//! `:goto ID` (the table's short id works), `:theme NAME`, `:sort KEY`. `Enter` runs the
//! highlighted entry, `↑`/`↓` move, `Esc` closes.

use super::effect::Effect;
use super::keymap::{Context, Keymap};
use super::msg::{Intent, Level};
use super::state::{Overlay, SortKey, State};
pub(crate) use super::types::overlays::Palette;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The dashboard's reducer for an intent, which a command entry runs.
pub(crate) type Reducer = fn(&mut State, Intent) -> Vec<Effect>;

/// What an entry does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    Run(Intent),
    Filter(String),
    Goto(String),
    Theme(String),
    Sort(SortKey),
    View(String),
}

/// One line of the palette.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// What to type (`retry`, `filter status:failed`).
    pub(crate) name: String,
    pub(crate) help: String,
    /// The keys that do the same, when there are any (`r`).
    pub(crate) keys: String,
    pub(crate) action: Action,
}

/// How well `query` matches `text` as a subsequence (case-insensitive), higher is better;
/// `None` when it does not. Consecutive characters and word starts score more.
pub(crate) fn fuzzy_score(query: &str, text: &str) -> Option<i32> {
    let q: Vec<char> = query.to_lowercase().chars().filter(|c| *c != ' ').collect();
    if q.is_empty() {
        return Some(0);
    }
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let mut score = 0;
    let mut qi = 0;
    let mut last: Option<usize> = None;
    for (i, c) in t.iter().enumerate() {
        if qi < q.len() && *c == q[qi] {
            score += 1;
            if last.is_some_and(|l| l + 1 == i) {
                score += 3;
            }
            if i == 0 || matches!(t[i - 1], ' ' | '_' | '-' | ':') {
                score += 2;
            }
            last = Some(i);
            qi += 1;
        }
    }
    (qi == q.len()).then(|| score - (t.len() as i32) / 16)
}

/// The commands that take a word after them.
const WORD_COMMANDS: &[(&str, &str)] = &[
    (
        "filter",
        "filter the table: text, status:failed, model:fast, retried:no",
    ),
    ("goto", "select a task by id (the table's short id works)"),
    ("theme", "switch to a colour theme by name"),
    (
        "sort",
        "sort by age, status, model, tokens, duration, updated or queue",
    ),
    ("view", "apply a saved view ([views] in the config)"),
];

/// The entries for `input`, best match first.
pub(crate) fn entries(state: &State, input: &str) -> Vec<Entry> {
    let input = input.trim_start();
    let (word, rest) = match input.split_once(' ') {
        Some((w, r)) => (w, r.trim()),
        None => (input, ""),
    };
    // A word command with its argument: exactly that entry (and, for a view or a theme, the
    // names that match the argument).
    if !rest.is_empty() || input.ends_with(' ') {
        match word {
            "filter" => return vec![word_entry("filter", rest, Action::Filter(rest.to_string()))],
            "goto" => return vec![word_entry("goto", rest, Action::Goto(rest.to_string()))],
            "theme" => {
                return ranked(
                    state
                        .themes
                        .iter()
                        .map(|t| word_entry("theme", &t.name, Action::Theme(t.name.clone())))
                        .collect(),
                    rest,
                );
            }
            "view" => {
                return ranked(
                    state
                        .views
                        .iter()
                        .map(|v| word_entry("view", &v.name, Action::View(v.name.clone())))
                        .collect(),
                    rest,
                );
            }
            "sort" => {
                return ranked(
                    SortKey::ALL
                        .iter()
                        .map(|k| word_entry("sort", k.label(), Action::Sort(*k)))
                        .collect(),
                    rest,
                );
            }
            _ => {}
        }
    }
    let mut all: Vec<Entry> = commands(&state.keymap);
    for v in &state.views {
        all.push(Entry {
            name: format!("view {}", v.name),
            help: v.describe(),
            keys: v.key.map(|k| k.label()).unwrap_or_default(),
            action: Action::View(v.name.clone()),
        });
    }
    for (name, help) in WORD_COMMANDS {
        all.push(Entry {
            name: format!("{name} …"),
            help: help.to_string(),
            keys: String::new(),
            action: Action::Run(Intent::Close),
        });
    }
    ranked(all, input)
}

fn word_entry(cmd: &str, arg: &str, action: Action) -> Entry {
    let help = WORD_COMMANDS
        .iter()
        .find(|(n, _)| *n == cmd)
        .map(|(_, h)| h.to_string())
        .unwrap_or_default();
    Entry {
        name: format!("{cmd} {arg}"),
        help,
        keys: String::new(),
        action,
    }
}

/// The dashboard's commands of the registry (the palette, quit and suspend excepted).
fn commands(keymap: &Keymap) -> Vec<Entry> {
    keymap
        .bindings
        .iter()
        .filter(|b| b.context == Context::Main)
        .filter(|b| {
            !matches!(
                b.intent,
                Intent::Palette | Intent::ForceQuit | Intent::Suspend
            )
        })
        .map(|b| Entry {
            name: b.name.replace('_', " "),
            help: b.help.to_string(),
            keys: Keymap::keys_label(b),
            action: Action::Run(b.intent),
        })
        .collect()
}

/// `entries` that match `query` (by name, else by help), best first; all when it is empty.
fn ranked(entries: Vec<Entry>, query: &str) -> Vec<Entry> {
    let mut scored: Vec<(i32, usize, Entry)> = entries
        .into_iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let by_name = fuzzy_score(query, &e.name).map(|s| s + 100);
            let by_help = fuzzy_score(query, &e.help);
            by_name.or(by_help).map(|s| (s, i, e))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, e)| e).collect()
}

/// Open the palette.
pub(crate) fn open(state: &mut State) -> Vec<Effect> {
    state.overlay = Overlay::Palette(Palette::default());
    state.dirty = true;
    Vec::new()
}

/// A key while the palette is open: its commands (`Context::Palette`: run, complete, move,
/// close), else text for its line (`Backspace` on an empty line closes it). A command entry
/// runs through `apply`, the dashboard's reducer (`update::apply`).
pub(crate) fn key(state: &mut State, key: &KeyEvent, apply: Reducer) -> Vec<Effect> {
    let Overlay::Palette(p) = &state.overlay else {
        return Vec::new();
    };
    let (input, selected) = (p.input.clone(), p.selected);
    state.dirty = true;
    let set = |state: &mut State, input: String, selected: usize| {
        state.overlay = Overlay::Palette(Palette { input, selected });
    };
    match state.keymap.lookup(Context::Palette, key) {
        Some(Intent::Close) => state.overlay = Overlay::None,
        Some(Intent::MoveUp) => set(state, input, selected.saturating_sub(1)),
        Some(Intent::MoveDown) => {
            let last = entries(state, &input).len().saturating_sub(1);
            set(state, input, (selected + 1).min(last));
        }
        Some(Intent::FocusNext) => {
            if let Some(e) = entries(state, &input).into_iter().nth(selected) {
                set(state, e.name.trim_end_matches(" …").to_string() + " ", 0);
            }
        }
        Some(Intent::Confirm) => {
            let Some(entry) = entries(state, &input).into_iter().nth(selected) else {
                state.notice(
                    Level::Warn,
                    format!("no command matches `{}`", input.trim()),
                );
                return Vec::new();
            };
            if entry.name.ends_with(" …") {
                // A word command needs its word: complete it and wait for it.
                set(
                    state,
                    entry.name.trim_end_matches(" …").to_string() + " ",
                    0,
                );
                return Vec::new();
            }
            state.overlay = Overlay::None;
            return run(state, entry.action, apply);
        }
        _ => match key.code {
            KeyCode::Backspace if input.is_empty() => state.overlay = Overlay::None,
            KeyCode::Backspace => {
                let mut input = input;
                input.pop();
                set(state, input, 0);
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                set(state, format!("{input}{c}"), 0);
            }
            _ => {}
        },
    }
    Vec::new()
}

/// Carry out an entry.
fn run(state: &mut State, action: Action, apply: Reducer) -> Vec<Effect> {
    match action {
        Action::Run(intent) => apply(state, intent),
        Action::Filter(text) => {
            super::views::set_filter(state, &text);
            Vec::new()
        }
        Action::Goto(id) => goto(state, &id),
        Action::Theme(name) => {
            match state.themes.iter().position(|t| t.name == name) {
                Some(i) => {
                    state.theme_index = i;
                    state.notice(Level::Info, format!("theme: {name}"));
                }
                None => state.notice(Level::Warn, format!("no theme `{name}`")),
            }
            Vec::new()
        }
        Action::Sort(key) => {
            state.sort = key;
            state.sort_desc = key != SortKey::Queue;
            state.refilter();
            Vec::new()
        }
        Action::View(name) => super::views::apply(state, &name),
    }
}

/// Select the task `id` names: its id, local id, a prefix of either or a suffix of the server id
/// (the table's short id); a filter that hides it is cleared.
fn goto(state: &mut State, id: &str) -> Vec<Effect> {
    let id = id.trim();
    let found: Vec<String> = state
        .tasks
        .iter()
        .filter(|t| {
            let server = t.task_id.as_deref().unwrap_or("");
            !id.is_empty()
                && (t.local_id.starts_with(id)
                    || server.starts_with(id)
                    || (id.chars().count() >= 5 && server.ends_with(id)))
        })
        .map(|t| t.local_id.to_string())
        .collect();
    match found.as_slice() {
        [one] => {
            if !state
                .order
                .iter()
                .any(|&i| *state.tasks[i].local_id == **one)
            {
                state.filter = super::filter::Filter::default();
                state.quick = None;
                state.refilter();
            }
            state.selected = Some(one.clone());
            state.keep_selection_visible();
            super::tasks::selection_moved(state)
        }
        [] => {
            state.notice(Level::Warn, format!("no task matches `{id}`"));
            Vec::new()
        }
        many => {
            state.notice(
                Level::Warn,
                format!("`{id}` matches {} tasks; type more of the id", many.len()),
            );
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_matches_subsequences_and_prefers_word_starts() {
        assert!(fuzzy_score("rtf", "retry failed").is_some());
        assert!(fuzzy_score("xyz", "retry failed").is_none());
        let start = fuzzy_score("re", "retry").expect("match");
        let inside = fuzzy_score("re", "theme reset").expect("match");
        assert!(start > inside - 3);
        assert_eq!(fuzzy_score("", "anything"), Some(0));
    }
}
