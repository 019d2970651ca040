//! The `zhiqilian` binary.

use clap::Parser;
use zhiqilian::cli::{Cli, run};
use zhiqilian::config::Config;

#[actix_web::main]
async fn main() {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    zhiqilian::telemetry::init(config.log_format);
    match run(cli, config).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}
