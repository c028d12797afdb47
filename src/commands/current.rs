use anyhow::Result;

use crate::context::Context;

#[derive(clap::Args)]
pub struct Args {}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let (name, selection) = crate::commands::selected_name(ctx)?;
        println!("{name} ({})", selection.origin.describe());
        Ok(())
    }
}
