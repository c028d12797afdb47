//! The staging folder every change to a prefix is made in: beside `versions/<name>`, on the
//! same filesystem, swapped into place in one step by `commit`, and deleted by its guard on
//! any error or signal before that.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::cleanup::{self, Registered};
use crate::context::Context;
use crate::prefix;

pub struct Staging {
    path: PathBuf,
    _registered: Registered,
    committed: bool,
}

impl Staging {
    /// An empty `versions/.staging-<name>-<pid>-XXXXXX`.
    pub fn new(ctx: &Context, name: &str) -> Result<Staging> {
        let versions = ctx.versions_dir();
        std::fs::create_dir_all(&versions).with_context(|| format!("cannot create {}", versions.display()))?;
        let dir = tempfile::Builder::new()
            .prefix(&cleanup::tagged(&format!(".staging-{name}-")))
            .tempdir_in(&versions)
            .with_context(|| format!("cannot make a staging folder in {}", versions.display()))?;
        let path = dir.keep();
        let registered = cleanup::register(&path);
        let staging = Staging { path, _registered: registered, committed: false };
        // It becomes the prefix: readable by everyone, as `make install` leaves it.
        std::fs::set_permissions(&staging.path, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        Ok(staging)
    }

    /// A staging folder holding a copy of `live`, to change it without touching `live`.
    pub fn copy_of(ctx: &Context, name: &str, live: &Path) -> Result<Staging> {
        let staging = Staging::new(ctx, name)?;
        crate::fs::copy_tree(live, &staging.path).with_context(|| format!("cannot copy {} to a staging folder", live.display()))?;
        Ok(staging)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Puts the staged prefix in place of `live` in one step; the old one is then removed.
    pub fn commit(mut self, live: &Path) -> Result<()> {
        let replaced = prefix::commit(&self.path, live)?;
        self.committed = true;
        if replaced {
            // The old prefix now sits at the staging path; a failure here leaves only a
            // leftover that the next install of this name sweeps.
            cleanup::remove(&self.path);
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            cleanup::remove(&self.path);
        }
    }
}
