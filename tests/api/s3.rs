//! A real S3 protocol server for the tests: `s3s` with its filesystem backend, in-process on port
//! 0, checking every request's SigV4 signature (presigned URLs included) against one key pair.

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use std::path::Path;
use tokio::net::TcpListener;

pub const ACCESS_KEY: &str = "portico-test-access";
pub const SECRET_KEY: &str = "portico-test-secret-0123456789";
pub const BUCKET: &str = "portico";

/// A running S3 server; stops when dropped.
pub struct S3Server {
    pub endpoint: String,
    task: tokio::task::JoinHandle<()>,
}

impl S3Server {
    /// Serves the bucket [`BUCKET`] from a folder under `root`.
    pub async fn start(root: &Path) -> S3Server {
        std::fs::create_dir_all(root.join(BUCKET)).unwrap();
        let fs = s3s_fs::FileSystem::new(root).unwrap();
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            while let Ok((socket, _)) = listener.accept().await {
                let connection = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
        });
        S3Server { endpoint, task }
    }

    /// Settings that point Portico at this server.
    pub fn configure(&self, files: &mut portico::config::FilesConfig) {
        files.s3_bucket = Some(BUCKET.to_owned());
        files.s3_endpoint = Some(self.endpoint.clone());
        files.s3_access_key_id = Some(ACCESS_KEY.to_owned());
        files.s3_secret_access_key = Some(portico::config::Secret::new(SECRET_KEY));
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}
