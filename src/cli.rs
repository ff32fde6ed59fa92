//! The command line: one binary, several subcommands.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "paytr-checkout",
    version,
    about = "Storefront checkout on PayTR, with a local PayTR sandbox"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, Subcommand, PartialEq, Eq)]
pub enum Command {
    /// Serve the storefront (the default). Without PayTR credentials it runs in sandbox mode.
    Serve,
    /// Apply the embedded database migrations to DATABASE_URL and exit.
    Migrate,
}
