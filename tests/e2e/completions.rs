//! Shell completion, generated from the clap definitions: the scripts for every shell, the
//! candidates the binary answers when a shell calls it back (task ids and short ids from the
//! store, profiles, models, themes), run the way each shell runs them (real bash, and zsh and
//! fish where installed).

use crate::support::backend::{Backend, on_both_backends};
use crate::support::process::run;
use seedance_tui::cli::complete::COMPLETE_VAR;
use seedance_tui::store::{NewSubmission, Store};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The binary with the user's config, keys and data kept out.
fn bin() -> Command {
    crate::support::process::bin(&std::env::temp_dir().join("seedance-e2e-completions"))
}

const BIN: &str = env!("CARGO_BIN_EXE_seedance-tui");
const TASK_A: &str = "cgt-20261127105718-mq3yp";
const TASK_B: &str = "cgt-20261127111502-zk8a1";

/// A store with two accepted tasks and one whose create has no answer yet.
fn store_with_tasks(dir: &Path) -> PathBuf {
    let path = dir.join("store.sqlite3");
    add_tasks(&Store::open(&path).expect("store"));
    path
}

/// Two accepted tasks and one whose create has no answer yet, into `store`.
fn add_tasks(store: &Store) {
    for (local, task, prompt, now) in [
        ("l-a", Some(TASK_A), "apple tea in the rain", 1_700_000_000),
        (
            "l-b",
            Some(TASK_B),
            "a red fox\u{1b}[31m jumps",
            1_700_000_100,
        ),
        ("l0000local", None, "still submitting", 1_700_000_200),
    ] {
        let body = serde_json::json!({
            "model": "doubao-seedance-2-0-fast-260128",
            "content": [{"type": "text", "text": prompt}],
        })
        .to_string();
        store
            .begin_submission(&NewSubmission {
                local_id: local,
                profile: "test",
                request_json: &body,
                retry_of: None,
                now,
                asset_files: None,
            })
            .expect("row");
        if let Some(task) = task {
            store
                .submission_accepted(local, task, now)
                .expect("accepted");
        }
    }
}

/// Ask the binary for completions the way `shell`'s script does: the callback variable, the
/// shell's own variables, and the words after `--`. Returns stdout.
fn ask(shell: &str, words: &[&str], extra_env: &[(&str, &str)]) -> String {
    let mut c = bin();
    c.env(COMPLETE_VAR, shell)
        .arg("--")
        .args(words)
        .envs(extra_env.iter().copied());
    match shell {
        // bash and zsh pass the index of the word being completed; bash splits on a vertical tab.
        "bash" => {
            c.env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string())
                .env("_CLAP_IFS", "\n");
        }
        "zsh" => {
            c.env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string())
                .env("_CLAP_IFS", "\n");
        }
        _ => {}
    }
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "completion exits 0: {err}");
    out
}

fn values(out: &str, sep: char) -> Vec<String> {
    out.lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(sep).next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn every_shell_gets_a_script_that_calls_the_binary_back() {
    for (shell, marker) in [
        ("bash", "complete -o nospace"),
        ("zsh", "#compdef seedance-tui"),
        (
            "fish",
            "complete --keep-order --exclusive --command seedance-tui",
        ),
        ("elvish", "edit:completion:arg-completer[seedance-tui]"),
        (
            "powershell",
            "Register-ArgumentCompleter -Native -CommandName seedance-tui",
        ),
    ] {
        let (code, out, err) = run(bin().args(["completions", shell]));
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(out.contains(marker), "{shell} script: {out}");
        assert!(
            out.contains(COMPLETE_VAR),
            "{shell} calls back with the variable"
        );
        // Run by path, the script calls that same binary back by its absolute path.
        assert!(out.contains(BIN), "{shell} calls {BIN}: {out}");
    }
    let (code, _, err) = run(bin().args(["completions", "tcsh"]));
    assert_eq!(code, 2, "an unknown shell is a usage error: {err}");
}

// A store is opened read-only for completion, on both backends.
on_both_backends!(
    task_ids_and_short_ids_come_from_the_store_named_on_the_line,
    completion_never_creates_or_changes_a_store,
);

fn task_ids_and_short_ids_come_from_the_store_named_on_the_line(b: &Backend) {
    add_tasks(&b.open());
    let store = b.location();
    // An empty word: the short ids the dashboard shows (newest first), and the local id of the
    // task that has no server id yet.
    let out = ask("fish", &["seedance-tui", "--store", &store, "get", ""], &[]);
    let got = values(&out, '\t');
    assert_eq!(
        got[..3],
        ["l0000local", "111502-zk8a1", "105718-mq3yp"],
        "{out}"
    );
    // fish shows the help after a tab: the status and the prompt, without its escape sequence.
    assert!(out.contains("111502-zk8a1\tsubmitting") || out.contains("111502-zk8a1\tqueued"));
    assert!(out.contains("a red fox"), "{out}");
    assert!(
        !out.contains('\u{1b}'),
        "no escape byte reaches the shell: {out:?}"
    );
    // A typed prefix of a server id completes to the full id.
    let out = ask(
        "bash",
        &[
            "seedance-tui",
            "--store",
            &store,
            "cancel",
            "cgt-2026112710",
        ],
        &[],
    );
    assert_eq!(values(&out, '\t'), [TASK_A]);
    // A typed short id prefix completes to that short id, for every id-taking command.
    for cmd in ["get", "retry", "download", "watch", "cancel"] {
        let out = ask(
            "zsh",
            &["seedance-tui", cmd, "--store", &store, "1115"],
            &[],
        );
        assert_eq!(values(&out, ':'), ["111502-zk8a1"], "{cmd}: {out}");
    }
    // `--store=PATH` works too.
    let eq = format!("--store={store}");
    let out = ask("fish", &["seedance-tui", &eq, "get", "105"], &[]);
    assert_eq!(values(&out, '\t'), ["105718-mq3yp"]);
}

#[test]
fn a_short_id_is_accepted_where_an_id_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = store_with_tasks(dir.path());
    let store = Store::open(&path).expect("open");
    assert_eq!(
        store
            .find("111502-zk8a1")
            .expect("short id")
            .task_id
            .as_deref(),
        Some(TASK_B)
    );
    assert_eq!(store.find("-mq3yp").expect("suffix").local_id, "l-a");
    // Shorter than 6 characters is not a suffix match (too easily ambiguous).
    assert!(store.find("3yp").is_err());
    // Prefixes keep working.
    assert_eq!(
        store.find("cgt-2026112711").expect("prefix").local_id,
        "l-b"
    );
}

/// Nothing is created in a store that is not there yet (a missing file, an empty database),
/// and another program's database is left as it was.
fn completion_never_creates_or_changes_a_store(b: &Backend) {
    let missing = b.location();
    let out = ask(
        "fish",
        &["seedance-tui", "--store", &missing, "get", ""],
        &[],
    );
    assert!(!out.contains("cgt-"), "{out}");
    match b.sqlite_path() {
        Some(path) => assert!(!path.exists(), "completion created the store"),
        None => assert!(b.tables().is_empty(), "completion created the schema"),
    }
    let foreign = b.fresh("completion_foreign");
    let sql = "CREATE TABLE tasks_of_someone (x TEXT); INSERT INTO tasks_of_someone VALUES ('a');";
    foreign.raw_sql(sql, sql);
    let before = foreign
        .sqlite_path()
        .map(|p| std::fs::read(p).expect("read"));
    let out = ask(
        "fish",
        &["seedance-tui", "--store", &foreign.location(), "get", ""],
        &[],
    );
    assert!(!out.contains("cgt-"), "{out}");
    match foreign.sqlite_path() {
        Some(path) => assert_eq!(Some(std::fs::read(path).expect("read")), before),
        None => {
            assert_eq!(foreign.tables(), ["tasks_of_someone"]);
            assert_eq!(foreign.count("SELECT count(*) FROM tasks_of_someone"), 1);
        }
    }
}

#[test]
fn profiles_models_themes_and_statuses_complete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[profiles.work]\nbase_url = \"https://ark.ap-southeast.bytepluses.com/api/v3\"\n",
    )
    .expect("config");
    let cfg = config.to_string_lossy();
    let out = ask(
        "fish",
        &["seedance-tui", "--config", &cfg, "--profile", ""],
        &[],
    );
    assert_eq!(
        values(&out, '\t'),
        ["ark", "byteplus", "laozhang", "work"],
        "{out}"
    );
    assert!(out.contains("work\thttps://ark.ap-southeast.bytepluses.com/api/v3"));

    let out = ask("fish", &["seedance-tui", "submit", "--model", ""], &[]);
    let models = values(&out, '\t');
    for m in seedance_tui::api::models::ModelTable::shipped().iter() {
        assert!(models.contains(&m.id), "{} in {out}", m.id);
    }
    assert!(
        models
            .iter()
            .any(|v| v == "doubao-seedance-2-0-mini-260615")
    );

    // User themes from the config folder come with the built-ins.
    let xdg = dir.path().join("xdg");
    std::fs::create_dir_all(xdg.join("seedance-tui/themes")).expect("mkdir");
    std::fs::write(xdg.join("seedance-tui/themes/solar.toml"), "").expect("theme");
    let out = ask(
        "fish",
        &["seedance-tui", "--theme", ""],
        &[("XDG_CONFIG_HOME", &xdg.to_string_lossy())],
    );
    let themes = values(&out, '\t');
    for t in ["default", "dark", "light", "high-contrast", "solar"] {
        assert!(themes.iter().any(|v| v == t), "{t} in {out}");
    }

    let out = ask("fish", &["seedance-tui", "ls", "--status", "su"], &[]);
    assert_eq!(
        values(&out, '\t'),
        ["succeeded", "submitting", "submit_unknown"]
    );

    let out = ask("fish", &["seedance-tui", "man", "do"], &[]);
    assert_eq!(values(&out, '\t'), ["download", "doctor"]);
    let out = ask("fish", &["seedance-tui", "compl"], &[]);
    assert_eq!(values(&out, '\t'), ["completions"]);
}

/// The bash script, sourced into a real bash and called as bash's `complete -F` would.
#[test]
fn bash_completes_through_its_script() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_with_tasks(dir.path());
    let script = format!(
        r#"source <("{BIN}" completions bash) || exit 9
COMP_WORDS=(seedance-tui --store '{store}' get 1115) COMP_CWORD=4 COMP_TYPE=9
_clap_complete_seedance_tui seedance-tui 1115 get
printf '<%s>\n' "${{COMPREPLY[@]}}"
COMP_WORDS=(seedance-tui submit --model doubao-seedance-2-0-2) COMP_CWORD=3 COMP_TYPE=9
_clap_complete_seedance_tui seedance-tui doubao-seedance-2-0-2 --model
printf '<%s>\n' "${{COMPREPLY[@]}}"
complete -p seedance-tui"#,
        store = store.display()
    );
    let mut c = Command::new("bash");
    c.args(["--norc", "--noprofile", "-c", &script]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "<111502-zk8a1>", "{out}");
    assert_eq!(lines[1], "<doubao-seedance-2-0-260128>", "{out}");
    assert!(lines[2].contains("-F _clap_complete_seedance_tui"), "{out}");
}

/// Whether `shell` can run here. Under CI (`.ci/run` installs it) a missing shell fails the test.
fn shell_installed(shell: &str) -> bool {
    let found = Command::new(shell).args(["-c", "true"]).output().is_ok();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{shell} is required under CI (.ci/run installs it)"
        );
        eprintln!("skipped: {shell} is not installed");
    }
    found
}

/// The zsh script, sourced into a real zsh with `compdef` and `_describe` standing in for the
/// completion system (they need an interactive line editor), called as zsh calls it.
#[test]
fn zsh_completes_through_its_script() {
    if !shell_installed("zsh") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_with_tasks(dir.path());
    let script = format!(
        r#"compdef() {{ print "compdef $*" }}
_describe() {{ local name=${{@[-1]}}; print -l -- "${{(@P)name}}" }}
eval "$("{BIN}" completions zsh)" || exit 9
words=(seedance-tui --store '{store}' download 10) CURRENT=5
_clap_dynamic_completer_seedance_tui"#,
        store = store.display()
    );
    let mut c = Command::new("zsh");
    c.args(["-f", "-c", &script]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("compdef _clap_dynamic_completer_seedance_tui seedance-tui"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("105718-mq3yp:queued apple tea")),
        "{out}"
    );
}

/// The fish script, sourced into a real fish and asked with `complete -C` as fish's line editor does.
#[test]
fn fish_completes_through_its_script() {
    if !shell_installed("fish") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_with_tasks(dir.path());
    let script = format!(
        r#""{BIN}" completions fish | source
complete -C "seedance-tui --store '{store}' retry 111"
complete -C "seedance-tui --profile la""#,
        store = store.display()
    );
    let mut c = Command::new("fish");
    c.args(["--no-config", "-c", &script]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines().any(|l| l.starts_with("111502-zk8a1\t")),
        "{out}"
    );
    assert!(out.lines().any(|l| l.starts_with("laozhang\t")), "{out}");
}

/// Server-assigned ids that are shell syntax, next to an honest one.
const HOSTILE_IDS: &[&str] = &["x;touch${IFS}f;", "$(touch${IFS}f)", "k|touch f"];

fn store_with_hostile_ids(dir: &Path) -> PathBuf {
    let path = store_with_tasks(dir);
    let store = Store::open(&path).expect("store");
    for (i, id) in HOSTILE_IDS.iter().enumerate() {
        let local = format!("l-hostile-{i}");
        let body =
            r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"x"}]}"#;
        store
            .begin_submission(&NewSubmission {
                local_id: &local,
                profile: "test",
                request_json: body,
                retry_of: None,
                now: 1_700_000_300 + i as i64,
                asset_files: None,
            })
            .expect("row");
        store
            .submission_accepted(&local, id, 1_700_000_300)
            .expect("accepted");
    }
    path
}

/// bash inserts a candidate as it is: Tab then Enter on `x;touch${IFS}f;` would run `touch f`.
/// Such ids are never offered; each offered word, run as the rest of a command line, runs
/// nothing (checked by the file it would create). zsh and fish quote, and are checked alike.
#[test]
fn ids_that_are_shell_syntax_are_never_offered_and_never_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_with_hostile_ids(dir.path());
    let work = dir.path().join("cwd");
    std::fs::create_dir(&work).expect("mkdir");
    for typed in ["", "x", "$", "k", "cgt-"] {
        let script = format!(
            r#"source <("{BIN}" completions bash) || exit 9
COMP_WORDS=(seedance-tui --store '{store}' get '{typed}') COMP_CWORD=4 COMP_TYPE=9
_clap_complete_seedance_tui seedance-tui '{typed}' get
for w in "${{COMPREPLY[@]}}"; do printf '<%s>\n' "$w"; eval "true get $w"; done"#,
            store = store.display()
        );
        let mut c = Command::new("bash");
        c.args(["--norc", "--noprofile", "-c", &script])
            .current_dir(&work);
        let (code, out, err) = run(&mut c);
        assert_eq!(code, 0, "{err}");
        for id in HOSTILE_IDS {
            assert!(!out.contains(id), "{id} offered for `{typed}`: {out}");
        }
        assert!(
            !work.join("f").exists(),
            "bash ran a server's string for `{typed}`: {out}"
        );
        if typed.is_empty() {
            assert!(
                out.contains("<111502-zk8a1>"),
                "honest ids still offered: {out}"
            );
        }
    }
    // What the binary answers any shell: none of them.
    for shell in ["bash", "zsh", "fish"] {
        let out = ask(
            shell,
            &[
                "seedance-tui",
                "--store",
                &store.to_string_lossy(),
                "get",
                "",
            ],
            &[],
        );
        for id in HOSTILE_IDS {
            assert!(!out.contains(id), "{shell}: {id} offered: {out}");
        }
        assert!(out.contains("111502-zk8a1"), "{shell}: {out}");
    }
    if shell_installed("zsh") {
        let script = format!(
            r#"compdef() {{ : }}
_describe() {{ local name=${{@[-1]}}; print -l -- "${{(@P)name}}" }}
eval "$("{BIN}" completions zsh)" || exit 9
words=(seedance-tui --store '{store}' get '') CURRENT=5
_clap_dynamic_completer_seedance_tui"#,
            store = store.display()
        );
        let mut c = Command::new("zsh");
        c.args(["-f", "-c", &script]).current_dir(&work);
        let (code, out, err) = run(&mut c);
        assert_eq!(code, 0, "{err}");
        assert!(!out.contains("touch"), "{out}");
        assert!(!work.join("f").exists(), "zsh ran a server's string");
    }
    if shell_installed("fish") {
        let script = format!(
            r#""{BIN}" completions fish | source
complete -C "seedance-tui --store '{store}' get ""#,
            store = store.display()
        );
        let mut c = Command::new("fish");
        c.args(["--no-config", "-c", &script]).current_dir(&work);
        let (code, out, err) = run(&mut c);
        assert_eq!(code, 0, "{err}");
        assert!(!out.contains("touch"), "{out}");
        assert!(!work.join("f").exists(), "fish ran a server's string");
    }
}

/// A user's own profile name with a space or a `;` reaches bash escaped, as one word.
#[test]
fn bash_gets_user_names_escaped_as_one_word() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[profiles.\"my;work\"]\nbase_url = \"https://ark.ap-southeast.bytepluses.com/api/v3\"\n",
    )
    .expect("config");
    let out = ask(
        "bash",
        &[
            "seedance-tui",
            "--config",
            &config.to_string_lossy(),
            "--profile",
            "my",
        ],
        &[],
    );
    assert_eq!(values(&out, '\t'), ["my\\;work"], "{out}");
}
