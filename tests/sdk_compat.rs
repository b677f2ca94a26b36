//! Wire compatibility with the official Ark Python SDK: its unmodified client runs create, get,
//! list and delete against our simulator (`tests/sdk/ark_sdk_compat.py`).
//!
//! Needs `python3` with `volcengine-python-sdk` (`.ci/run` installs it). Without it the test says
//! how to get it and is skipped locally, but fails under CI (`CI=true`), so CI always checks.

use seedance_tui::sim::{self, SimConfig};
use std::process::Command;

fn sdk_available() -> bool {
    Command::new("python3")
        .args(["-c", "import volcenginesdkarkruntime"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_runs_against_the_simulator() {
    if !sdk_available() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(
            !ci,
            "CI must have the Ark SDK: python3 -m pip install volcengine-python-sdk"
        );
        eprintln!("skipped: python3 -m pip install volcengine-python-sdk to run this test");
        return;
    }
    let cfg = SimConfig {
        speed: 500.0,
        fail_rate: 0.0,
        ..SimConfig::default()
    };
    let sim = sim::start("127.0.0.1:0".parse().expect("addr"), cfg)
        .await
        .expect("sim starts");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/ark_sdk_compat.py");
    let base = sim.base_url();
    let out =
        tokio::task::spawn_blocking(move || Command::new("python3").arg(script).arg(base).output())
            .await
            .expect("join")
            .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "SDK run failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("ark sdk compat: ok"), "{stdout}");
    assert!(
        sim.stats().creates >= 3,
        "the SDK's requests reached the simulator"
    );
    sim.shutdown().await;
}
