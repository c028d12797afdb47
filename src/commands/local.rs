use anyhow::Result;

use crate::context::Context;

#[derive(clap::Args)]
pub struct Args {
    /// The version to pin in ./.lua-version
    #[arg(add = clap_complete::engine::ArgValueCandidates::new(super::completions::installed))]
    name: Option<String>,
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let cwd = crate::commands::cwd()?;
        match self.name {
            None => match crate::selection::find_version_file(&cwd) {
                Some(sel) if sel.problem.is_some() => return Err(crate::error::usage(crate::selection::not_installed(&sel))),
                Some(sel) => println!("{}", sel.requested),
                None => anyhow::bail!("no .lua-version here or above; pin one with `luaenv local <name>`"),
            },
            Some(name) => {
                // A spec like 5.4 is kept as written: it follows the newest installed 5.4.x.
                crate::commands::installed_arg(ctx, &name)?;
                // `v5.4` is stored as `5.4`, the form every version manager reads.
                let name = crate::version::plain_lua_spec(&name).map_or(name.clone(), String::from);
                crate::fs::write_atomic(&cwd.join(".lua-version"), format!("{name}\n").as_bytes())?;
                eprintln!("pinned {name} in {}", cwd.join(".lua-version").display());
            }
        }
        Ok(())
    }
}
