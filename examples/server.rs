//! A DHCP server from a config file, until Ctrl-C or SIGTERM (then the journal is flushed).
//!
//! `sudo cargo run --example server -- examples/server.toml`

use dhcp::{config, shutdown, Error, Server};

async fn serve(path: &str) -> Result<(), Error> {
    let file = config::load(path)?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| file.log_level.as_str().into()),
        )
        .init();
    let server = Server::bind(&file).await?;
    println!(
        "serving {} subnet(s); leases in {}",
        file.server.subnets.len(),
        file.journal.display()
    );
    let summary = server.run_until(shutdown()).await?;
    println!("stopped with {} leases bound", summary.leases);
    Ok(())
}

#[tokio::main]
async fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/server.toml".to_string());
    if let Err(e) = serve(&path).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
