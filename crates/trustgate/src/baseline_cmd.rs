//! `trustgate baseline …`: the requirement catalog of the `baseline` crate, printed.

use crate::Finding;
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum BaselineCommand {
    /// List the requirement catalog (ETSI EN 303 645 provisions, with UK PSTI and NIST IR 8425
    /// mapped onto them).
    List {
        /// Print the catalog as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: BaselineCommand) -> Result<Option<Finding>> {
    match cmd {
        BaselineCommand::List { json } => {
            let catalog = baseline::Catalog::embedded();
            if json {
                outln!("{}", serde_json::to_string_pretty(&catalog)?);
            } else {
                out!("{}", baseline::render_table(&catalog));
            }
            Ok(None)
        }
    }
}
