use anyhow::Result;

use crate::context::Context;
use crate::shell::Shell;

#[derive(clap::Args)]
pub struct Args {
    /// The shell to print the completion script for
    #[arg(value_enum)]
    shell: Shell,
}

impl Args {
    pub fn run(self, _ctx: &Context) -> Result<()> {
        print!("{}", crate::shell::completion_script(self.shell));
        Ok(())
    }
}
