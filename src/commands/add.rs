//! `luaenv add <rock> [<constraint>]` and `luaenv remove <rock>`: edit the dependencies of the
//! project's rockspec (a text edit that keeps the user's formatting and comments), then sync.
//! When the sync fails, the rockspec gets its old bytes back: nothing changed.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::context::Context;
use crate::error::usage;
use crate::project::{self, rockspec};

use super::sync::{Options, sync_held};

#[derive(clap::Args)]
pub struct AddArgs {
    /// The rock's name
    rock: String,
    /// Which releases fit, as a rockspec says it: `>= 1.2`, `~> 3.1`, `1.0` (default: any)
    constraint: Option<String>,
    /// The mirror for every file the sync fetches
    #[arg(long, value_name = "URL|DIR")]
    mirror: Option<String>,
}

#[derive(clap::Args)]
pub struct RemoveArgs {
    /// The rock's name
    rock: String,
}

impl AddArgs {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let text = format!("{} {}", self.rock.trim(), self.constraint.as_deref().unwrap_or("").trim());
        let dep = rockspec::Dependency::parse(&text).map_err(|e| usage(format!("{e}: give a rock name and a constraint such as `luaenv add inspect '>= 3.1'`")))?;
        if dep.name != self.rock.trim().to_ascii_lowercase() || dep.is_lua() {
            return Err(usage(format!("'{}' is not a rock luaenv can add: the project's Lua is pinned with `luaenv init --lua`, rocks are named with letters, digits, '.', '_' and '-'", self.rock.escape_debug())));
        }
        let dir = project_dir()?;
        // One edit of the rockspec at a time, from its read to the end of the sync.
        let _held = project::lock(ctx, &dir)?;
        let path = rockspec_path(&dir)?;
        let old = read(&path)?;
        let new = rockspec::add(&old, &dep).map_err(|why| rockspec::invalid(&path, &why))?;
        edit_then_sync(ctx, &dir, &path, &old, &new, self.mirror)?;
        eprintln!("added {} to {}", dep.text, path.display());
        Ok(())
    }
}

impl RemoveArgs {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let name = self.rock.trim().to_ascii_lowercase();
        let dir = project_dir()?;
        let _held = project::lock(ctx, &dir)?;
        let path = rockspec::find(&dir)?.ok_or_else(|| usage(format!("{} has no rockspec, so no rock to remove", dir.display())))?;
        let old = read(&path)?;
        let new = rockspec::remove(&old, &name)
            .map_err(|why| rockspec::invalid(&path, &why))?
            .ok_or_else(|| usage(format!("{} does not depend on '{}'; its dependencies are listed in it", path.display(), name.escape_debug())))?;
        edit_then_sync(ctx, &dir, &path, &old, &new, None)?;
        eprintln!("removed {name} from {}", path.display());
        Ok(())
    }
}

fn project_dir() -> Result<PathBuf> {
    let cwd = super::cwd()?;
    project::find(&cwd).ok_or_else(|| usage(format!("{} is not inside a luaenv project (no luaenv.lock here or above); make one with `luaenv init`", cwd.display())))
}

/// The project's rockspec, written from the template when it has none (a project made
/// before `init` wrote one).
fn rockspec_path(dir: &Path) -> Result<PathBuf> {
    if let Some(path) = rockspec::find(dir)? {
        return Ok(path);
    }
    let series = project::Lock::read(dir).ok().and_then(|l| project::series_of(&l.install_name())).unwrap_or_else(|| "5.1".into());
    let path = rockspec::default_path(dir);
    let folder = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    crate::fs::write_atomic(&path, rockspec::template(&rockspec::rock_name(&folder), &series).as_bytes())?;
    Ok(path)
}

fn read(path: &Path) -> Result<String> {
    crate::fs::read_text_capped(path, crate::limits::MAX_TEXT)
}

fn edit_then_sync(ctx: &Context, dir: &Path, path: &Path, old: &str, new: &str, mirror: Option<String>) -> Result<()> {
    if path.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(usage(format!("{} is a symbolic link, and luaenv never writes through a link a repository controls", path.display())));
    }
    crate::fs::write_atomic(path, new.as_bytes())?;
    let result = sync_held(ctx, dir, &Options { mirror, ..Options::default() });
    if result.is_err() {
        crate::fs::write_atomic(path, old.as_bytes())?;
    }
    result
}
