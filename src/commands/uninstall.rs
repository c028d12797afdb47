use anyhow::{Context as _, Result};

use crate::context::Context;
use crate::error::usage;

#[derive(clap::Args)]
pub struct Args {
    /// The installed version to remove
    #[arg(add = clap_complete::engine::ArgValueCandidates::new(super::completions::installed))]
    name: String,
    /// Remove it even when the current project pins it or it is the global default (which is then cleared)
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
        // The projects made here that pin it: their shims and `luaenv sync` would lose their Lua.
        let pinning = projects_pinning(ctx, &name);
        if !pinning.is_empty() && !self.force {
            let shown: Vec<String> = pinning.iter().take(3).map(|d| d.display().to_string()).collect();
            let more = if pinning.len() > 3 { format!(" and {} more", pinning.len() - 3) } else { String::new() };
            return Err(usage(format!(
                "{name} is pinned by the project{} {}{more}; pass --force to remove it anyway (`luaenv sync` there installs it again)",
                if pinning.len() == 1 { "" } else { "s" },
                shown.join(", ")
            )));
        }
        let global = global_default_on(ctx, &name);
        if let (Some(file), false) = (&global, self.force) {
            return Err(usage(format!(
                "{name} is the global default ({}): removing it would leave `lua` with no version; pick another default first with `luaenv global <name>`, or run `luaenv uninstall {name} --force` to remove it and clear that file",
                file.display()
            )));
        }
        let _lock = crate::lock::acquire(ctx, &name)?;
        let prefix = ctx.prefix(&name);
        // Renamed away first, so nobody sees a half-deleted prefix.
        let aside = ctx.versions_dir().join(format!(".removing-{name}-{}", std::process::id()));
        std::fs::rename(&prefix, &aside).with_context(|| format!("cannot remove {}", prefix.display()))?;
        std::fs::remove_dir_all(&aside).with_context(|| format!("cannot remove {}", aside.display()))?;
        crate::rehash::rehash(ctx)?;
        eprintln!("removed {name}");
        if let Some(file) = global {
            std::fs::remove_file(&file).with_context(|| format!("cannot clear the global default {}", file.display()))?;
            eprintln!("cleared the global default ({}), which named {name}; set a new one with `luaenv global <name>`", file.display());
        }
        Ok(())
    }
}

/// The registered projects (`luaenv init`, `sync`) whose `.lua-version` selects `name`.
fn projects_pinning(ctx: &Context, name: &str) -> Vec<std::path::PathBuf> {
    let versions = ctx.versions_dir();
    crate::sandbox::registered(ctx)
        .into_iter()
        .filter(|dir| {
            crate::selection::read_version_file(&dir.join(".lua-version"))
                .is_some_and(|requested| crate::selection::installed_name(&versions, &requested).as_deref() == Some(name))
        })
        .collect()
}

/// The global version file, when it selects `name` and nothing else installed would take its
/// place (a series such as `5.4` moves on to another installed 5.4.x by itself).
fn global_default_on(ctx: &Context, name: &str) -> Option<std::path::PathBuf> {
    let file = ctx.global_version_file();
    let requested = crate::selection::read_version_file(&file)?;
    let versions = ctx.versions_dir();
    if crate::selection::installed_name(&versions, &requested).as_deref() != Some(name) {
        return None;
    }
    let plain = crate::version::plain_lua_spec(&requested).unwrap_or(&requested);
    let others = crate::context::installed_in(&versions).into_iter().filter(|n| n != name);
    let moves_on = plain != name && others.into_iter().any(|other| follows(plain, &other));
    (!moves_on).then_some(file)
}

/// Whether a series spec (`5.4`, `5`, `latest`) selects this installed name.
fn follows(spec: &str, installed: &str) -> bool {
    let parts = if spec == "latest" { Some(vec![]) } else { crate::version::Version::parse(spec).map(|v| v.parts) };
    let installed = crate::version::Version::parse(installed);
    matches!((parts, installed), (Some(p), Some(v)) if p.len() < 3 && v.pre.is_none() && v.starts_with(&p))
}
