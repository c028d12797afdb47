//! Making the shims (`rehash`): one link in `shims/` per command the prefixes (and registered
//! projects) provide, all to ONE binary kept at a fixed place in the root,
//! `libexec/luaenv-shim`. That binary is installed by copy and rename, so a link never points
//! at a path that can disappear: not at a luaenv binary that is moved or deleted, and not at a
//! shim that another rehash replaces while it runs (a `luarocks install` rehashes through the
//! shim). Std only: the shim binary rehashes after `luarocks install` with this same code.

use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::context::Context;

/// Where the binary every shim links to lives.
pub fn shim_binary(ctx: &Context) -> PathBuf {
    ctx.root.join("libexec").join("luaenv-shim")
}

/// Makes one shim per executable in every prefix's `bin/`, and removes shims nothing provides.
/// Idempotent, and safe when several run at once (they take turns under a lock; each file is
/// made under a temporary name and renamed into place).
pub fn rehash(ctx: &Context) -> Result<()> {
    let dir = ctx.shims_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let _lock = crate::lock::acquire(ctx, "rehash")?;
    let binary = shim_binary(ctx);
    match shim_source() {
        Some(source) => install_binary(&source, &binary)?,
        // A shim rehashing keeps the binary the luaenv CLI put there.
        None if binary.is_file() => {}
        None => anyhow::bail!("{} is missing; run `luaenv rehash`", binary.display()),
    }
    sweep_leftovers(&dir);
    sweep_leftovers(binary.parent().expect("the shim binary has a folder"));
    let wanted = provided_commands(ctx);
    for name in &wanted {
        link_shim(&binary, &dir.join(name))?;
    }
    for entry in std::fs::read_dir(&dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && !wanted.contains(&name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// The binary this luaenv wants its shims to run: the `luaenv-shim` built with it and placed
/// next to it, else (only when there is none) the luaenv binary itself, which also works
/// as a shim. None when this process is a shim: it never installs itself.
pub fn shim_source() -> Option<PathBuf> {
    if crate::context::running_as_shim() {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    if exe.file_name().is_some_and(|n| n == "luaenv-shim") {
        return None;
    }
    let beside = exe.with_file_name("luaenv-shim");
    if beside.is_file() {
        return Some(beside);
    }
    // The running binary's bytes, even when its path was replaced or deleted meanwhile.
    let own = Path::new("/proc/self/exe");
    Some(if own.is_file() { own.to_path_buf() } else { exe })
}

/// Puts `source` at `binary` by copy and rename, unless it is already there. The file it
/// replaces stays alive for the shims still running it.
fn install_binary(source: &Path, binary: &Path) -> Result<()> {
    if same_contents(source, binary) {
        return Ok(());
    }
    let dir = binary.parent().expect("the shim binary has a folder");
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(".new-luaenv-shim-{}", std::process::id()));
    std::fs::copy(source, &tmp).with_context(|| format!("cannot copy {} to {}", source.display(), tmp.display()))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
    std::fs::rename(&tmp, binary).with_context(|| format!("cannot install {}", binary.display()))
}

/// Makes `shim` a hard link to `binary` (a copy where the file system has no hard links);
/// through a temporary name and a rename, so a shim is never missing or half written.
fn link_shim(binary: &Path, shim: &Path) -> Result<()> {
    if runs_binary(shim, binary) {
        return Ok(());
    }
    let name = shim.file_name().unwrap_or_default().to_string_lossy();
    let tmp = shim.with_file_name(format!(".new-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(binary, &tmp).is_err() {
        std::fs::copy(binary, &tmp).with_context(|| format!("cannot make shim {}", tmp.display()))?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
    }
    std::fs::rename(&tmp, shim).with_context(|| format!("cannot make shim {}", shim.display()))
}

/// Temporary files of a rehash that was killed (we hold the lock, so none is in use).
fn sweep_leftovers(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with(".new-") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

pub fn provided_commands(ctx: &Context) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for bin in ctx.installed().into_iter().map(|v| ctx.prefix(&v).join("bin")) {
        names.extend(commands_in(&bin));
    }
    // Projects' rock commands too: their shims run them inside the project. A repository
    // decides what its lua_modules/bin holds, so a name the system already has (`git`,
    // `make`) or a version provides never becomes a global shim.
    let shims = ctx.shims_dir();
    let mut own = BTreeSet::new();
    for bin in crate::sandbox::registered(ctx).into_iter().map(|p| p.join(crate::sandbox::TREE).join("bin")) {
        own.extend(commands_in(&bin).into_iter().filter(|n| !names.contains(n) && next_on_path(&shims, n).is_none()));
    }
    names.extend(own);
    names
}

/// The executables of one bin folder that may have shims.
fn commands_in(bin: &Path) -> BTreeSet<String> {
    std::fs::read_dir(bin)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok().filter(|n| !n.starts_with('.') && !n.starts_with("luaenv") && is_executable(&e.path())))
        .collect()
}

/// Whether `shim` is a regular file (never a symlink, which can dangle) that is `binary`
/// itself, or where hard links are impossible, a copy of it.
pub fn runs_binary(shim: &Path, binary: &Path) -> bool {
    match (std::fs::symlink_metadata(shim), std::fs::metadata(binary)) {
        (Ok(s), Ok(b)) if s.is_file() => (s.dev() == b.dev() && s.ino() == b.ino()) || same_contents(shim, binary),
        _ => false,
    }
}

/// Whether two files hold the same bytes (the size first, so a differing binary costs nothing).
pub fn same_contents(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else { return false };
    if ma.len() != mb.len() {
        return false;
    }
    if ma.dev() == mb.dev() && ma.ino() == mb.ino() {
        return true;
    }
    let (Ok(mut fa), Ok(mut fb)) = (std::fs::File::open(a), std::fs::File::open(b)) else { return false };
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = match fa.read(&mut ba) {
            Ok(n) => n,
            Err(_) => return false,
        };
        if n == 0 {
            return true;
        }
        if fb.read_exact(&mut bb[..n]).is_err() || ba[..n] != bb[..n] {
            return false;
        }
    }
}

pub fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The program `command` on PATH outside luaenv's shims folder: what runs without luaenv.
pub fn next_on_path(shims: &Path, command: &str) -> Option<PathBuf> {
    let shims = std::fs::canonicalize(shims).unwrap_or_else(|_| shims.to_path_buf());
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .filter(|d| !d.as_os_str().is_empty() && std::fs::canonicalize(d).unwrap_or_else(|_| d.clone()) != shims)
        .map(|d| d.join(command))
        .find(|p| is_executable(p))
}

/// Finds a program on PATH, as a shell would.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(program)).find(|p| is_executable(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_shim_becomes_a_hard_link_whatever_was_there() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("luaenv-shim");
        write(&binary, "binary");
        let shim = dir.path().join("lua");
        // A symlink to a binary that has gone, as older luaenv versions could leave.
        std::os::unix::fs::symlink(dir.path().join("gone"), &shim).unwrap();
        assert!(!runs_binary(&shim, &binary));
        link_shim(&binary, &shim).unwrap();
        let (s, b) = (std::fs::symlink_metadata(&shim).unwrap(), std::fs::metadata(&binary).unwrap());
        assert!(s.is_file() && s.ino() == b.ino());
        // Idempotent: a second run changes nothing and leaves no temporary file.
        link_shim(&binary, &shim).unwrap();
        assert_eq!(std::fs::symlink_metadata(&shim).unwrap().ino(), s.ino());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn the_binary_is_replaced_by_rename_only_when_its_bytes_differ() {
        let dir = tempfile::tempdir().unwrap();
        let (source, binary) = (dir.path().join("src"), dir.path().join("libexec/luaenv-shim"));
        write(&source, "v1");
        install_binary(&source, &binary).unwrap();
        let first = std::fs::metadata(&binary).unwrap().ino();
        install_binary(&source, &binary).unwrap();
        assert_eq!(std::fs::metadata(&binary).unwrap().ino(), first, "same bytes: left alone");
        // A running shim keeps the old file: the new one is a new inode, renamed over it.
        let running = std::fs::File::open(&binary).unwrap();
        write(&source, "v2");
        install_binary(&source, &binary).unwrap();
        assert_ne!(std::fs::metadata(&binary).unwrap().ino(), first);
        assert_eq!(running.metadata().unwrap().ino(), first);
        assert_eq!(std::fs::read_to_string(&binary).unwrap(), "v2");
        assert_eq!(std::fs::metadata(&binary).unwrap().permissions().mode() & 0o777, 0o755);
    }

    #[test]
    fn same_contents_compares_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
        write(&a, "same");
        write(&b, "same");
        write(&c, "diff");
        assert!(same_contents(&a, &b) && !same_contents(&a, &c) && !same_contents(&a, &dir.path().join("none")));
    }
}
