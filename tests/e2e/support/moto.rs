//! A real S3-compatible server on loopback for the object-storage tests: moto's standalone server
//! (`pip install "moto[server]"`). Each test starts its own on a free port. When `moto_server` is
//! missing the tests skip with a message — except under `CI=true`, where they fail.

use seedance_tui::s3::{AwsCredentials, S3Client, S3Location, S3Setup};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The credentials the tests use (moto accepts any unless auth is switched on).
pub const KEY_ID: &str = "AKIAMOTOTESTKEY00001";
pub const SECRET: &str = "moto-test-secret-not-real";

/// A running moto server; killed on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
}

impl Moto {
    /// Start a server; `auth` makes it check credentials (every key is then unknown to it).
    /// `None` (after a message) when moto is not installed and this is not CI.
    pub fn start(auth: bool) -> Option<Moto> {
        if !on_path("moto_server") {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("moto_server is required under CI=true: pip install \"moto[server]\"");
            }
            eprintln!(
                "SKIPPED: moto_server not found; install it with `pip install \"moto[server]\"` to run the object-storage tests"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut cmd = Command::new("moto_server");
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if auth {
            cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", "0");
        }
        let child = cmd.spawn().expect("moto_server starts");
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let up = Command::new("curl")
                .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", &moto.url])
                .output()
                .map(|o| o.stdout != b"000")
                .unwrap_or(false);
            if up {
                return Some(moto);
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not start in time"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The S3 setup pointing at this server.
    pub fn setup(&self) -> S3Setup {
        S3Setup {
            endpoint: self.url.clone(),
            region: "us-east-1".into(),
            path_style: true,
            credentials: Some(AwsCredentials {
                key: KEY_ID.into(),
                secret: SECRET.into(),
                token: None,
            }),
            credentials_from: "the tests".into(),
        }
    }

    /// A client for `s3://BUCKET/`.
    pub fn client(&self, bucket: &str) -> S3Client {
        let loc = S3Location::parse(&format!("s3://{bucket}/")).expect("bucket name");
        S3Client::new(&loc, &self.setup()).expect("client")
    }

    /// Create `bucket`.
    pub fn create_bucket(&self, bucket: &str) {
        block_on(self.client(bucket).create_bucket()).expect("bucket created");
    }

    /// Keys and sizes under `prefix` of `bucket`, sorted.
    pub fn list(&self, bucket: &str, prefix: &str) -> Vec<(String, u64)> {
        let mut v = block_on(self.client(bucket).list(prefix)).expect("list");
        v.sort();
        v
    }

    /// The bytes of an object.
    pub fn get(&self, bucket: &str, key: &str) -> Vec<u8> {
        block_on(self.client(bucket).get(key, 64 << 20)).expect("get")
    }

    /// The AWS variables the binary needs to reach this server (and nothing from the user's own
    /// AWS set-up: HOME points at `home`).
    pub fn env(&self, cmd: &mut Command, home: &std::path::Path) {
        for v in [
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL_S3",
            "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_CONFIG_FILE",
            "AWS_DEFAULT_REGION",
        ] {
            cmd.env_remove(v);
        }
        cmd.env("HOME", home)
            .env("AWS_ACCESS_KEY_ID", KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_ENDPOINT_URL", &self.url)
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_REGION", "us-east-1");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run a future to completion on a fresh runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}
