use anyhow::Result;

use crate::context::Context;
use crate::shell::Shell;

#[derive(clap::Args)]
pub struct Args {
    /// The shell to print code for
    #[arg(value_enum)]
    shell: Shell,
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let exe = std::env::current_exe()?;
        print!("{}", crate::shell::activate_script(self.shell, &exe, &ctx.shims_dir()));
        Ok(())
    }
}
