//! The dashboard refuses a config it cannot honour before touching the terminal, as a usage
//! error (exit 2) that says what to fix: a bad `[ui.keys]` entry, an unknown theme, a theme file
//! that does not parse.

use crate::support::process::{bin, run};

/// The dashboard (`--demo`, no terminal needed to fail) with `config_text` and a themes folder.
fn dashboard(config_text: &str, themes: &[(&str, &str)], args: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, config_text).expect("write config");
    let theme_dir = dir.path().join("xdg").join("seedance-tui").join("themes");
    std::fs::create_dir_all(&theme_dir).expect("themes dir");
    for (name, text) in themes {
        std::fs::write(theme_dir.join(format!("{name}.toml")), text).expect("write theme");
    }
    let store = dir.path().join("s.sqlite3");
    let (code, _, stderr) = run(bin(dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
        .args(["--demo", "--config", config.to_str().expect("utf8")])
        .args(["--store", store.to_str().expect("utf8")])
        .args(args));
    (code, stderr)
}

#[test]
fn a_bad_key_binding_is_a_usage_error() {
    let (code, stderr) = dashboard("[ui.keys]\nfly_away = [\"x\"]\n", &[], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("[ui.keys]"), "{stderr}");
    assert!(stderr.contains("fly_away"), "{stderr}");
    let (code, stderr) = dashboard("[ui.keys]\nmove_down = [\"Ctrl-Nope\"]\n", &[], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("move_down"), "{stderr}");
}

#[test]
fn an_unknown_theme_is_a_usage_error() {
    let (code, stderr) = dashboard("", &[], &["--theme", "sparkly"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no theme named `sparkly`"), "{stderr}");
}

#[test]
fn a_theme_file_that_does_not_parse_says_so() {
    let (code, stderr) = dashboard(
        "[ui]\ntheme = \"ocean\"\n",
        &[("ocean", "[colors]\nfg = \"blurple\"\n")],
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("theme `ocean`"), "{stderr}");
    assert!(stderr.contains("blurple"), "names the bad value: {stderr}");
    assert!(!stderr.contains("no theme named"), "{stderr}");
}
