//! The `portico` binary.

use clap::Parser;

/// mimalloc: async-graphql allocates many small objects per field; glibc's malloc contends on its
/// arena locks across worker threads (see bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    portico::install_crypto_provider();
    let cli = portico::cli::Cli::parse();
    match portico::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
