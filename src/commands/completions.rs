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
        print!("{}", completion_script(self.shell));
        Ok(())
    }
}

/// clap's completion script for the whole CLI.
pub fn completion_script(shell: Shell) -> String {
    use clap::CommandFactory;
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut super::Cli::command(), "luaenv", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}
