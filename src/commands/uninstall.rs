use anyhow::{Context as _, Result};

use crate::context::Context;
use crate::error::usage;

#[derive(clap::Args)]
pub struct Args {
    /// The installed version to remove
    name: String,
    /// Remove it even when the current project pins it
    #[arg(long)]
    force: bool,
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let name = crate::commands::installed_arg(ctx, &self.name)?;
        if name != self.name {
            return Err(usage(format!("'{}' is not installed; did you mean `luaenv uninstall {name}`?", self.name)));
        }
        let cwd = crate::commands::cwd()?;
        if let Some(pin) = crate::selection::find_version_file(&cwd) {
            let pinned = crate::selection::installed_name(&ctx.versions_dir(), &pin.requested);
            if pinned.as_deref() == Some(name.as_str()) && !self.force {
                return Err(usage(format!(
                    "{name} is pinned by {}; pass --force to remove it anyway",
                    pin.origin.project_file().unwrap().display()
                )));
            }
        }
        let _lock = crate::lock::acquire(ctx, &name)?;
        let prefix = ctx.prefix(&name);
        // Renamed away first, so nobody sees a half-deleted prefix.
        let aside = ctx.versions_dir().join(format!(".removing-{name}-{}", std::process::id()));
        std::fs::rename(&prefix, &aside).with_context(|| format!("cannot remove {}", prefix.display()))?;
        std::fs::remove_dir_all(&aside).with_context(|| format!("cannot remove {}", aside.display()))?;
        crate::rehash::rehash(ctx)?;
        eprintln!("removed {name}");
        Ok(())
    }
}
