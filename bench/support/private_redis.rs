//! A `redis-server` of a benchmark's own, on a free port, that it can pause (SIGSTOP) and resume.

use std::time::Duration;

/// A `redis-server` of the benchmark's own (so it can be paused), killed when dropped.
pub struct PrivateRedis(std::process::Child, u16);

impl PrivateRedis {
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            std::thread::sleep(Duration::from_millis(20));
        }
        Self(child, port)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.1)
    }

    pub fn signal(&self, signal: &str) {
        let _ = std::process::Command::new("kill")
            .args([signal, &self.0.id().to_string()])
            .status();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.signal("-CONT");
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
