//! The `portico` binary.

use clap::Parser;

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
