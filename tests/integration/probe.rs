//! The base-URL probe in the api client, as `doctor` and a pre-flight call it, against the
//! simulator in-process over loopback.

const KEY: &str = "probe-test-key-0c71d2";

/// The probe itself, as a pre-flight would call it: one GET, the verdict, the server's date.
#[tokio::test]
async fn the_probe_tells_a_right_url_from_a_wrong_one() {
    use seedance_tui::api::client::ProbeVerdict;
    use seedance_tui::api::{ApiKey, ArkClient, ClientConfig};
    let cfg = seedance_tui::sim::SimConfig {
        api_key: Some(KEY.to_string()),
        ..Default::default()
    };
    let sim = seedance_tui::sim::start("127.0.0.1:0".parse().expect("addr"), cfg)
        .await
        .expect("sim");
    let client = |base: String, key: Option<&str>| {
        ArkClient::new(ClientConfig::new(base, key.map(ApiKey::new))).expect("client")
    };
    for base in [sim.base_url(), sim.relay_base_url()] {
        let p = client(base.clone(), Some(KEY)).probe().await;
        assert_eq!(p.verdict, ProbeVerdict::Ok, "{base}");
        assert!(
            p.url
                .ends_with("/contents/generations/tasks/cgt-00000000000000-seedance-tui-probe")
        );
        let now = chrono::Utc::now().timestamp();
        let date = p.server_date.expect("the simulator sends a Date header");
        assert!((now - date).abs() <= 2, "{now} vs {date}");
    }
    let refused = client(sim.base_url(), Some("not-the-key")).probe().await;
    assert!(matches!(refused.verdict, ProbeVerdict::KeyRefused(_)));
    assert!(refused.verdict.url_is_right());
    let wrong = client(sim.base_url().replace("/api/v3", "/v3"), Some(KEY))
        .probe()
        .await;
    assert!(
        matches!(wrong.verdict, ProbeVerdict::WrongUrl(_)),
        "{:?}",
        wrong.verdict
    );
    assert!(!wrong.verdict.url_is_right());
    // The probe never retries: one GET per call that reached the API (the wrong path did not),
    // and never a create.
    let stats = sim.stats();
    assert_eq!(stats.gets, 3);
    assert_eq!(stats.creates, 0);
    sim.shutdown().await;
}
