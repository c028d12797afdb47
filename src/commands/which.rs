use anyhow::Result;

use crate::context::Context;

#[derive(clap::Args)]
pub struct Args {
    /// A command such as lua, luac or luarocks
    #[arg(add = clap_complete::engine::ArgValueCandidates::new(super::completions::shimmed_commands))]
    command: String,
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        // A version that is not installed, or a command it lacks: a wrong request (exit 2).
        let (_, selection) = crate::commands::selected_name(ctx)?;
        let program = crate::shim::program_for(&ctx.root, &selection, &self.command)?;
        println!("{}", program.display());
        Ok(())
    }
}
