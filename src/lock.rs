//! Per-name file locks, so two luaenv processes never work on the same thing at once.

use std::fs::{File, TryLockError};

use anyhow::{Context as _, Result};

use crate::context::Context;

/// Held until dropped; the OS releases it if the process dies.
pub struct Lock {
    _file: File,
}

/// Takes the lock `name`; when another luaenv holds it, says once that it waits and for what.
pub fn acquire(ctx: &Context, name: &str) -> Result<Lock> {
    acquire_for(ctx, name, &format!("with {name}"))
}

/// As `acquire`, with what the other process is doing for the waiting line:
/// `luaenv: waiting for another luaenv to finish installing 5.4.7…`.
pub fn acquire_for(ctx: &Context, name: &str, doing: &str) -> Result<Lock> {
    let dir = ctx.locks_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {} (is the luaenv root {} writable?)", dir.display(), ctx.root.display()))?;
    let path = dir.join(format!("{name}.lock"));
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open lock file {} (is the luaenv root {} writable?)", path.display(), ctx.root.display()))?;
    match file.try_lock() {
        Ok(()) => return Ok(Lock { _file: file }),
        Err(TryLockError::WouldBlock) => eprintln!("luaenv: waiting for another luaenv to finish {doing}…"),
        Err(TryLockError::Error(e)) => return Err(e).with_context(|| format!("cannot lock {}", path.display())),
    }
    file.lock().with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(Lock { _file: file })
}

/// Whether a live process holds the lock `name` (a lock file nobody opened is free).
pub fn is_held(ctx: &Context, name: &str) -> bool {
    let Ok(file) = File::options().write(true).open(ctx.locks_dir().join(format!("{name}.lock"))) else { return false };
    matches!(file.try_lock(), Err(TryLockError::WouldBlock))
}
