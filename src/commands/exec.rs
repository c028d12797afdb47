use std::ffi::OsString;
use std::os::unix::process::CommandExt;

use anyhow::Result;

use crate::context::Context;

#[derive(clap::Args)]
pub struct Args {
    /// The command to run, then its arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<OsString>,
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let (name, _) = crate::commands::selected_name(ctx)?;
        let bin = ctx.prefix(&name).join("bin");
        let command = self.command[0].to_string_lossy().into_owned();
        // The prefix's bin/ goes first on PATH, so what the command starts runs the same version.
        let mut paths = vec![bin.clone()];
        paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
        let direct = bin.join(&command);
        let program: OsString = if direct.is_file() { direct.into_os_string() } else { self.command[0].clone() };
        let err = std::process::Command::new(&program)
            .args(&self.command[1..])
            .env("PATH", std::env::join_paths(paths)?)
            .exec();
        anyhow::bail!("cannot run {command}: {err}; is it installed in {name} or on PATH?")
    }
}
