//! Pre-flight at start: no key → a banner naming the variables searched; the base-URL probe's
//! verdict → a banner with the fix when the URL is wrong; a successful poll clears it.

use crate::api::ApiError;
use crate::api::client::ProbeVerdict;
use crate::app::test_support::state;
use crate::app::{Effect, Health, Msg, State, update};
use ratatui::{Terminal, backend::TestBackend};

fn header(s: &State) -> String {
    let mut term = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    term.draw(|f| crate::ui::view(s, f)).expect("draw");
    let buf = term.backend().buffer().clone();
    (0..2)
        .map(|y| {
            (0..80)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn wrong_url() -> ProbeVerdict {
    ProbeVerdict::WrongUrl(ApiError::NotTheApi {
        status: 404,
        content_type: "text/plain".into(),
        hint: "check the base URL".into(),
        snippet: String::new(),
    })
}

#[test]
fn no_key_names_the_variables_and_still_probes_the_url() {
    let mut s = state(80, 24);
    let fx = update(
        &mut s,
        Msg::Preflight {
            key_var: None,
            searched: vec![
                "MY_KEY".into(),
                "SEEDANCE_API_KEY".into(),
                "ARK_API_KEY".into(),
            ],
        },
    );
    assert_eq!(fx, vec![Effect::Probe(s.base_url.clone())]);
    let banner = s.preflight.clone().expect("a banner");
    assert!(
        banner.contains("MY_KEY, SEEDANCE_API_KEY, ARK_API_KEY"),
        "{banner}"
    );
    assert!(
        header(&s).contains("no API key: looked in MY_KEY"),
        "{}",
        header(&s)
    );
    // Without a key the server's refusal is expected: no second banner for it.
    let refused = ProbeVerdict::KeyRefused(ApiError::Auth {
        status: 401,
        code: "AuthenticationError".into(),
        message: "missing key".into(),
        request_id: None,
    });
    update(
        &mut s,
        Msg::Probed {
            verdict: refused,
            url_problems: vec![],
        },
    );
    assert_eq!(s.preflight.as_deref(), Some(banner.as_str()));
}

#[test]
fn a_wrong_base_url_gets_a_banner_with_the_fix_until_a_poll_succeeds() {
    let mut s = state(80, 24);
    update(
        &mut s,
        Msg::Preflight {
            key_var: Some("SEEDANCE_API_KEY".into()),
            searched: vec!["SEEDANCE_API_KEY".into()],
        },
    );
    assert_eq!(s.preflight, None, "a key was found: no banner yet");
    let fix = "base URL `http://127.0.0.1:9` should end in /api/v3".to_string();
    update(
        &mut s,
        Msg::Probed {
            verdict: wrong_url(),
            url_problems: vec![fix.clone()],
        },
    );
    let banner = s.preflight.clone().expect("a banner");
    assert!(
        banner.contains("is not the Ark API") && banner.contains(&fix),
        "{banner}"
    );
    assert!(header(&s).contains("is not the Ark API"));
    let now = s.now;
    update(
        &mut s,
        Msg::Health(Health {
            last_success: Some(now),
            leader: true,
            ..Health::default()
        }),
    );
    assert_eq!(s.preflight, None, "a poll answered: the URL works");
}

#[test]
fn a_right_url_says_nothing() {
    let mut s = state(80, 24);
    update(
        &mut s,
        Msg::Probed {
            verdict: ProbeVerdict::Ok,
            url_problems: vec![],
        },
    );
    assert_eq!(s.preflight, None);
    let unreachable = ProbeVerdict::Unreachable(ApiError::Connection {
        message: "connection refused".into(),
        reached_server: false,
    });
    update(
        &mut s,
        Msg::Probed {
            verdict: unreachable,
            url_problems: vec![],
        },
    );
    assert!(
        s.preflight
            .as_deref()
            .is_some_and(|b| b.contains("cannot reach"))
    );
}
