//! [`RedisServer`]: a `redis-server` of a test's (or the bench's) own, the
//! one helper the pacing tests and `benches/client.rs` (which includes this
//! file by `#[path]`) start Redis with.
#![allow(dead_code)]

use std::io;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `redis-server` on a free loopback port, without persistence, stopped
/// on drop.
pub struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    /// A server for test `test`; `None` (the test says it skips) when
    /// `redis-server` is not installed, except under `CI=true`, where that
    /// is a failure. Panics if it does not listen within 5 s.
    pub fn start(test: &str) -> Option<Self> {
        let port = free_port().unwrap();
        let child = match spawn(port) {
            Ok(c) => c,
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("{test}: redis-server is needed in CI: {e}")
            }
            Err(e) => {
                eprintln!("{test}: SKIPPED: no redis-server ({e}); `apt-get install redis-server`");
                return None;
            }
        };
        let redis = Self { child, port };
        redis.wait_listening();
        Some(redis)
    }

    /// A server, or why there is none (not installed, or not listening
    /// within 5 s); no skip policy (the bench's).
    pub fn try_start() -> io::Result<Self> {
        let port = free_port()?;
        let redis = Self {
            child: spawn(port)?,
            port,
        };
        if !redis.listening() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("redis-server did not listen on {port} within 5 s"),
            ));
        }
        Ok(redis)
    }

    /// Whether it accepts connections within 5 s.
    fn listening(&self) -> bool {
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        false
    }

    fn wait_listening(&self) {
        if !self.listening() {
            panic!("redis-server did not listen on {} within 5 s", self.port);
        }
    }

    /// Stops the server (its data is gone: no persistence).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A new server on the same port, empty.
    pub fn start_again(&mut self) {
        self.child = spawn(self.port).expect("redis-server started once already");
        self.wait_listening();
    }

    /// Its `redis://` URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `redis-cli` with `args`: its output.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Every key Redis holds.
    pub fn keys(&self) -> String {
        self.cli(&["--scan"])
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A loopback port free at the time of asking.
fn free_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn spawn(port: u16) -> io::Result<Child> {
    Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}
