//! Man pages and `--version`, generated from the clap definitions: a page for the program and
//! for every subcommand, naming every option, printed by `man` and written by `man --dir`.

use crate::support::process::run;
use clap::CommandFactory;
use seedance_tui::cli::args::Cli;
use seedance_tui::cli::complete::render_man;
use std::process::Command;

/// The binary with the user's config, keys and data kept out.
fn bin() -> Command {
    crate::support::process::bin(&std::env::temp_dir().join("seedance-e2e-man"))
}

#[test]
fn the_clap_definitions_are_consistent() {
    Cli::command().debug_assert();
}

/// `--long` as roff writes it (`\-\-long`).
fn roff_flag(long: &str) -> String {
    format!("\\-\\-{}", long.replace('-', "\\-"))
}

#[test]
fn the_man_pages_name_every_command_and_option() {
    let cmd = Cli::command();
    let main = String::from_utf8(render_man(None).expect("renders")).expect("utf-8");
    assert!(main.contains(".TH seedance-tui 1"), "{main}");
    for sub in cmd.get_subcommands() {
        assert!(
            main.contains(sub.get_name()),
            "main page names {}",
            sub.get_name()
        );
        let page =
            String::from_utf8(render_man(Some(sub.get_name())).expect("renders")).expect("utf-8");
        let title = format!(".TH seedance-tui-{} 1", sub.get_name());
        assert!(page.contains(&title), "{title}");
        for arg in sub.get_arguments() {
            if let Some(long) = arg.get_long() {
                assert!(
                    page.contains(&roff_flag(long)),
                    "seedance-tui-{} page names --{long}",
                    sub.get_name()
                );
            }
        }
    }
    for arg in cmd.get_arguments() {
        if let Some(long) = arg.get_long() {
            assert!(main.contains(&roff_flag(long)), "main page names --{long}");
        }
    }
}

#[test]
fn man_prints_pages_and_writes_them_all() {
    let (code, out, _) = run(bin().arg("man"));
    assert_eq!(code, 0);
    assert_eq!(out.as_bytes(), render_man(None).expect("renders"));
    let (code, out, _) = run(bin().args(["man", "submit"]));
    assert_eq!(code, 0);
    assert!(out.contains(&roff_flag("prompt")));
    let (code, _, err) = run(bin().args(["man", "nope"]));
    assert_eq!(code, 2);
    assert!(err.contains("no subcommand `nope`"), "{err}");

    let dir = tempfile::tempdir().expect("tempdir");
    let (code, out, err) = run(bin().args(["man", "--dir"]).arg(dir.path()));
    assert_eq!(code, 0, "{err}");
    let subs = Cli::command().get_subcommands().count();
    assert_eq!(out.lines().count(), subs + 1, "{out}");
    assert!(dir.path().join("seedance-tui.1").is_file());
    assert!(dir.path().join("seedance-tui-doctor.1").is_file());
}

#[test]
fn version_names_the_commit() {
    let (code, out, _) = run(bin().arg("--version"));
    assert_eq!(code, 0);
    let line = out.trim();
    assert!(
        line.starts_with(&format!(
            "seedance-tui {} (commit ",
            env!("CARGO_PKG_VERSION")
        )),
        "{line}"
    );
    let commit = line
        .rsplit("(commit ")
        .next()
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or("");
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{line}"
    );
}

#[test]
fn every_page_has_its_exit_status_and_the_main_commands_have_examples() {
    for sub in [None, Some("submit"), Some("retry"), Some("ls")] {
        let page = String::from_utf8(render_man(sub).expect("renders")).expect("utf-8");
        assert!(page.contains(".SH \"EXIT STATUS\""), "{sub:?}");
        assert!(page.contains("usage or validation error"), "{sub:?}");
        assert!(page.contains(".SH EXAMPLES"), "{sub:?}");
    }
    let submit = String::from_utf8(render_man(Some("submit")).expect("renders")).expect("utf-8");
    assert!(
        submit.contains("\\-\\-max\\-in\\-flight 4 \\-\\-detach"),
        "{submit}"
    );
    for sub in Cli::command().get_subcommands() {
        let page =
            String::from_utf8(render_man(Some(sub.get_name())).expect("renders")).expect("utf-8");
        assert!(page.contains(".SH \"EXIT STATUS\""), "{}", sub.get_name());
    }
}

#[test]
fn man_on_a_terminal_shows_the_formatted_page_not_roff() {
    let has_man = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join("man").is_file()));
    if !has_man {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "man is required under CI=true (apt-get install man-db)"
        );
        eprintln!("SKIPPED: no `man` on PATH");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let pty = crate::support::pty::Pty::spawn(
        &["man", "submit"],
        80,
        24,
        &[("MANPAGER", "cat"), ("PAGER", "cat"), ("MANWIDTH", "80")],
        dir.path(),
    );
    let screen = pty.wait_text("EXIT STATUS", std::time::Duration::from_secs(30));
    assert!(
        !screen.contains(".SH"),
        "roff reached the terminal: {screen}"
    );
    assert!(!screen.contains("\\-\\-"), "{screen}");
}
