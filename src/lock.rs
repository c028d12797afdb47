//! Per-name file locks, so two luaenv processes never work on the same thing at once.

use std::fs::File;

use anyhow::{Context as _, Result};

use crate::context::Context;

/// Held until dropped; the OS releases it if the process dies.
pub struct Lock {
    _file: File,
}

pub fn acquire(ctx: &Context, name: &str) -> Result<Lock> {
    let dir = ctx.locks_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{name}.lock"));
    let file = File::options().create(true).truncate(false).write(true).open(&path)
        .with_context(|| format!("cannot open lock file {}", path.display()))?;
    file.lock().with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(Lock { _file: file })
}
