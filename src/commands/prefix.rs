use anyhow::Result;

use crate::context::Context;

#[derive(clap::Args)]
pub struct Args {
    /// An installed version (default: the selected one)
    #[arg(add = clap_complete::engine::ArgValueCandidates::new(super::completions::installed))]
    name: Option<String>,
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let name = match &self.name {
            Some(n) => crate::commands::installed_arg(ctx, n)?,
            None => crate::commands::selected_name(ctx)?.0,
        };
        println!("{}", ctx.prefix(&name).display());
        Ok(())
    }
}
