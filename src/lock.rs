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
    acquire_file(&dir.join(format!("{name}.lock")), doing).map_err(|e| anyhow::anyhow!("{e:#} (is the luaenv root {} writable?)", ctx.root.display()))
}

/// The lock in the file `path` (made if missing; a link there is not followed).
pub fn acquire_file(path: &std::path::Path, doing: &str) -> Result<Lock> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .with_context(|| format!("cannot open lock file {}", path.display()))?;
    // Short waits (a rehash holds its lock for milliseconds) pass without a word.
    let quiet_until = std::time::Instant::now() + QUIET_WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(held(file, doing)),
            Err(TryLockError::WouldBlock) if std::time::Instant::now() < quiet_until => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(TryLockError::WouldBlock) => break,
            Err(TryLockError::Error(e)) => return Err(e).with_context(|| format!("cannot lock {}", path.display())),
        }
    }
    eprintln!("luaenv: waiting for another luaenv to finish {}…", holder_doing(path).unwrap_or_else(|| doing.to_string()));
    file.lock().with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(held(file, doing))
}

/// How long a wait may last before it is worth a line.
const QUIET_WAIT: std::time::Duration = std::time::Duration::from_millis(300);

/// The holder writes what it does into the lock file, so a waiter can say what it waits for.
fn held(mut file: File, doing: &str) -> Lock {
    use std::io::{Seek, Write};
    // Only a courtesy for the waiting line: a failure here changes nothing.
    let _ = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| file.write_all(doing.as_bytes()));
    Lock { _file: file }
}

/// What the holder of a lock said it does: one short line of text, or nothing.
fn holder_doing(path: &std::path::Path) -> Option<String> {
    use std::io::Read;
    let mut text = String::new();
    File::open(path).ok()?.take(200).read_to_string(&mut text).ok()?;
    let line = text.lines().next()?.trim();
    (!line.is_empty() && line.chars().all(|c| !c.is_control())).then(|| line.to_string())
}

/// Whether a live process holds the lock `name` (a lock file nobody opened is free).
pub fn is_held(ctx: &Context, name: &str) -> bool {
    let Ok(file) = File::options().write(true).open(ctx.locks_dir().join(format!("{name}.lock"))) else { return false };
    matches!(file.try_lock(), Err(TryLockError::WouldBlock))
}
