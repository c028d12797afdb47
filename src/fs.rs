//! File utilities every domain shares: capped reads and copies that never follow a link out
//! or open a FIFO, and atomic writes (a temporary file renamed into place).

use std::path::Path;

use anyhow::{Context as _, Result, bail};

use crate::limits::show_bytes;

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

/// Reads a small file a repository or a user may have replaced by anything: opened without
/// blocking (a FIFO would hang every shim) and checked with the open file's own metadata, so
/// only a regular file of at most `max` bytes is read. One open, one fstat, one read.
pub fn read_small_file(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read as _};
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = std::fs::File::options().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Error::new(ErrorKind::InvalidInput, "not a regular file"));
    }
    let too_big = || Error::new(ErrorKind::InvalidData, format!("larger than {}", show_bytes(max)));
    if meta.len() > max {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_big());
    }
    Ok(bytes)
}

/// Reads a regular file of at most `cap` bytes (a FIFO, device or socket is refused without
/// blocking on it; a larger file is an error instead of a memory hog).
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>> {
    read_small_file(path, cap).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidInput => anyhow::anyhow!("{} is not a regular file (a FIFO, device or folder?); luaenv reads only plain files there", path.display()),
        std::io::ErrorKind::InvalidData => anyhow::anyhow!("{} is larger than {}; it cannot be what luaenv expects there, check the file", path.display(), show_bytes(cap)),
        _ => anyhow::Error::new(e).context(format!("cannot read {}", path.display())),
    })
}

/// Reads a capped UTF-8 text file.
pub fn read_text_capped(path: &Path, cap: u64) -> Result<String> {
    let bytes = read_capped(path, cap)?;
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{} is not UTF-8 text; check the file", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MIB;

    #[test]
    fn caps_refuse_big_and_special_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"0123456789").unwrap();
        assert_eq!(read_capped(&file, 10).unwrap().len(), 10);
        assert!(read_capped(&file, 9).unwrap_err().to_string().contains("larger than 9 bytes"));
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(read_capped(&fifo, 10).unwrap_err().to_string().contains("not a regular file"));
        assert_eq!(show_bytes(256 * MIB), "256 MiB");
    }
}
