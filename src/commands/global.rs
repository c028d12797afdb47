use anyhow::Result;

use crate::context::Context;

#[derive(clap::Args)]
pub struct Args {
    /// The version to make the global default
    #[arg(add = clap_complete::engine::ArgValueCandidates::new(super::completions::installed))]
    name: Option<String>,
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let file = ctx.global_version_file();
        match self.name {
            None => match crate::selection::read_version_file_checked(&file).map_err(anyhow::Error::msg)? {
                Some(v) => println!("{v}"),
                None => anyhow::bail!("no global version is set; set one with `luaenv global <name>`"),
            },
            Some(name) => {
                let name = crate::commands::installed_arg(ctx, &name)?;
                crate::fs::write_atomic(&file, format!("{name}\n").as_bytes())?;
                eprintln!("global default is now {name}");
            }
        }
        Ok(())
    }
}
