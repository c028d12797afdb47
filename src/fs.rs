//! File utilities every domain shares: copies that never follow a link out or open a FIFO,
//! and atomic writes (a temporary file renamed into place).

use std::path::Path;

use anyhow::{Context as _, Result, bail};

/// Copies one file of a source tree or build into a prefix. A link is never followed (it could
/// lead to any file on the machine) and a FIFO or device is never opened.
pub fn copy(from: &Path, to: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(from).with_context(|| format!("cannot copy {}", from.display()))?;
    if meta.file_type().is_symlink() {
        bail!("{} is a symbolic link; luaenv copies only plain files into a prefix, use an unmodified source", from.display());
    }
    if !meta.is_file() {
        bail!("{} is not a regular file (a FIFO, device or socket?); luaenv copies only plain files", from.display());
    }
    std::fs::copy(from, to).with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// Copies a whole tree (the build cache's copy of a prefix), keeping modes and symlinks as links:
/// nothing is followed, and a FIFO, device or socket is refused without being opened.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&src, &dst)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else {
            copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Copies a source folder the user handed over (`--from <dir>`), after checking that it is one:
/// no FIFO, device or socket, and no more entries or bytes than a source tree holds
/// (`--from /` stops here at once instead of copying the machine).
pub fn copy_source_tree(from: &Path, to: &Path) -> Result<()> {
    let (max_entries, max_bytes) = (crate::limits::max_tree_entries(), crate::limits::max_tree_bytes());
    let (mut entries, mut bytes) = (0u64, 0u64);
    let mut stack = vec![from.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
            let entry = entry?;
            let meta = entry.metadata()?;
            entries += 1;
            bytes += if meta.is_file() { meta.len() } else { 0 };
            if entries > max_entries || bytes > max_bytes {
                bail!(
                    "{} holds more than {max_entries} entries or {}: that is not a source tree; give the folder of one Lua source (or raise LUAENV_MAX_SOURCE_FILES / LUAENV_MAX_UNPACK_BYTES)",
                    from.display(),
                    crate::limits::show_bytes(max_bytes)
                );
            }
            let kind = meta.file_type();
            if kind.is_dir() {
                stack.push(entry.path());
            } else if !kind.is_file() && !kind.is_symlink() {
                bail!("{} is not a regular file (a FIFO, device or socket); a source folder holds only files, folders and links", entry.path().display());
            }
        }
    }
    copy_tree(from, to)
}

/// Writes a file through a uniquely named temporary file and a rename, so readers never see half of it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".luaenv-").tempfile_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    // tempfile makes files 0600; these are ordinary files others may read (secrets are written elsewhere).
    tmp.as_file().set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
    tmp.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
