use anyhow::Result;

use crate::context::Context;

#[derive(clap::Args)]
pub struct Args {
    /// A command such as lua, luac or luarocks
    command: String,
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let selection = crate::commands::selected(ctx)?;
        let program = crate::shim::program_for(&ctx.root, &selection, &self.command).map_err(anyhow::Error::msg)?;
        println!("{}", program.display());
        Ok(())
    }
}
