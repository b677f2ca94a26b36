//! Memory stays flat while a large result downloads: the downloader streams to disk, so the
//! process's peak resident size (VmHWM, reset first through /proc/self/clear_refs) grows by far
//! less than the file. The peak is per process, so the measurement runs in a copy of this test
//! program of its own (as `store::two_processes_share_one_store` does): no other test's
//! allocations count.

use crate::support::engine::*;
use seedance_tui::file_download;
use seedance_tui::sim::{SimConfig, video_byte};
use std::io::Read;

/// Peak resident set size in KiB.
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn memory_stays_flat_while_downloading_a_large_file() {
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "download_memory::measure_alone",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ALONE, "1")
        .output()
        .expect("run the measurement in a process of its own");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the measurement failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "the measurement ran in the child:\n{text}"
    );
}

/// Set in the child process that runs `measure_alone`.
const ALONE: &str = "SEEDANCE_TEST_MEMORY_ALONE";

/// The measurement; does its work only in the process `memory_stays_flat_...` starts for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measure_alone() {
    if std::env::var_os(ALONE).is_none() {
        return; // only does work when run by memory_stays_flat_while_downloading_a_large_file
    }
    const SIZE: u64 = 192 * 1024 * 1024;
    let Some(_) = vm_hwm_kib() else {
        eprintln!("no /proc/self/status here: skipping the memory measurement");
        return;
    };
    let (sim, dir, engine) = sim_and_engine(SimConfig {
        video_size: Some(SIZE),
        ..fast()
    })
    .await;
    let rec = succeeded_task(&engine, "a big one").await;
    let url = rec.video_url.clone().expect("url");
    // Reset the peak to the current size (Linux >= 4.0); if refused, the peak so far is small.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = vm_hwm_kib().expect("VmHWM");
    let dest = dir.path().join("big.mp4");
    let mut calls = 0u64;
    let out = file_download::download(&file_download::http_client(), &url, &dest, |_, _| {
        calls += 1
    })
    .await
    .expect("download");
    let grown_mib = (vm_hwm_kib().expect("VmHWM").saturating_sub(before)) / 1024;
    eprintln!("peak grew by {grown_mib} MiB (from {before} KiB)");
    assert_eq!(out.bytes, SIZE);
    assert!(calls > 100, "the body arrived in many chunks ({calls})");
    assert!(
        grown_mib < 48,
        "peak memory grew by {grown_mib} MiB while downloading {} MiB",
        SIZE / 1024 / 1024
    );
    // And the file is the served one (spot checks across the whole file).
    let mut f = std::fs::File::open(&dest).expect("open");
    let mut buf = vec![0u8; 1 << 20];
    let mut at = 0u64;
    loop {
        let n = f.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        for k in (0..n).step_by(4093) {
            assert_eq!(buf[k], video_byte(at + k as u64), "byte {}", at + k as u64);
        }
        at += n as u64;
    }
    assert_eq!(at, SIZE);
    sim.shutdown().await;
}
