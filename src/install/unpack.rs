//! Unpack: a `.tar.gz` into a folder, refusing any entry that would land outside it, any link
//! that leads out of it (even through a chain of links), and more than a source tree can hold.

use std::cell::Cell;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context as _, Result, bail};

use crate::limits;

/// Unpacks `tarball` into `dest` and returns the source tree: the single top folder, if there is one.
pub fn unpack(tarball: &Path, dest: &Path) -> Result<PathBuf> {
    unpack_named(tarball, &tarball.display().to_string(), dest)
}

/// The same, with messages that call the tarball `shown` (a pulled layer is a temporary file
/// the user never sees: its digest names it).
pub fn unpack_named(tarball: &Path, shown: &str, dest: &Path) -> Result<PathBuf> {
    let file = std::fs::File::open(tarball).with_context(|| format!("cannot read {shown}"))?;
    let byte_cap = limits::max_tree_bytes();
    let over_cap = Rc::new(Cell::new(false));
    let stream = Capped { inner: flate2::read::GzDecoder::new(std::io::BufReader::new(file)), left: byte_cap, hit: over_cap.clone() };
    let mut archive = tar::Archive::new(stream);
    // Nothing unpacked is writable by others, whatever modes the archive (or a layer) gives.
    archive.set_mask(0o022);
    let too_big = || {
        anyhow::anyhow!(
            "cannot unpack {}: it unpacks to more than {}, more than any source tree (a gzip bomb?); nothing was installed, use a trusted source (or raise LUAENV_MAX_UNPACK_BYTES)",
            shown,
            limits::show_bytes(byte_cap)
        )
    };
    let corrupt = |e: std::io::Error| {
        if over_cap.get() {
            return too_big();
        }
        if e.kind() == std::io::ErrorKind::StorageFull {
            return anyhow::anyhow!("cannot unpack {} into {}: the disk is full; free some space and try again", shown, dest.display());
        }
        anyhow::anyhow!("cannot unpack {}: {e}; the tarball is truncated or corrupt, fetch it again", shown)
    };
    let entry_cap = limits::max_tree_entries();
    for (count, entry) in archive.entries().map_err(corrupt)?.enumerate() {
        crate::install::cleanup::checkpoint();
        if count as u64 >= entry_cap {
            bail!(
                "cannot unpack {shown}: it holds more than {entry_cap} entries, more than any source tree; nothing was installed, use a trusted source (or raise LUAENV_MAX_SOURCE_FILES)"
            );
        }
        let mut entry = entry.map_err(corrupt)?;
        let path = entry.path().map_err(corrupt)?.into_owned();
        if !stays_inside(Path::new(""), &path) {
            bail!(unsafe_entry(shown, &path));
        }
        // No source tree or build holds a device or a FIFO (tar would make an empty file of it).
        if matches!(entry.header().entry_type(), tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo) {
            bail!(
                "unsafe tarball {}: entry '{}' is a device or a FIFO, which no Lua source or build holds; nothing was installed, use a trusted source",
                shown,
                path.display()
            );
        }
        if let Some(link) = entry.link_name().map_err(corrupt)? {
            // A symlink is relative to its own folder; a hard link to the archive root.
            let base = match entry.header().entry_type() {
                tar::EntryType::Symlink => path.parent().unwrap_or(Path::new("")).to_path_buf(),
                _ => PathBuf::new(),
            };
            if !stays_inside(&base, &link) {
                bail!(unsafe_entry(shown, &path));
            }
        }
        entry.unpack_in(dest).map_err(corrupt)?;
    }
    if over_cap.get() {
        return Err(too_big());
    }
    // Each link alone stays inside; a chain of them may still end outside.
    check_links_inside(dest).map_err(|e| anyhow::anyhow!("unsafe tarball {}: {e:#}; nothing was installed, use a trusted source", shown))?;
    Ok(source_root(dest))
}

/// The decompressed stream, cut off (with an error) after `left` bytes: a gzip bomb stops here.
struct Capped<R> {
    inner: R,
    left: u64,
    hit: Rc<Cell<bool>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            // One byte more than the cap means the cap was passed.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.hit.set(true);
            return Err(std::io::Error::other("the unpacked size cap was reached"));
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Refuses a tree holding a symbolic link that resolves outside `root`, dangles, or loops:
/// nothing luaenv copies or builds may then reach a file elsewhere through it.
pub fn check_links_inside(root: &Path) -> Result<()> {
    let real_root = std::fs::canonicalize(root).with_context(|| format!("cannot read {}", root.display()))?;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_symlink() {
                let shown = path.strip_prefix(root).unwrap_or(&path).display().to_string();
                match std::fs::canonicalize(&path) {
                    Ok(target) if target.starts_with(&real_root) => {}
                    Ok(_) => bail!("the link '{shown}' leads outside the source tree"),
                    Err(_) => bail!("the link '{shown}' dangles or loops"),
                }
            }
        }
    }
    Ok(())
}

fn unsafe_entry(tarball: &str, entry: &Path) -> String {
    format!("unsafe tarball {tarball}: entry '{}' would land outside the target folder; nothing was installed, use a trusted source", entry.display())
}

/// True when `rel`, taken from inside `base` (both relative), never climbs out of the root.
fn stays_inside(base: &Path, rel: &Path) -> bool {
    let mut depth: i64 = 0;
    for part in base.components().chain(rel.components()) {
        match part {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

/// The one top-level folder of an unpacked tree, or the tree itself.
pub fn source_root(dest: &Path) -> PathBuf {
    let entries: Vec<_> = std::fs::read_dir(dest).into_iter().flatten().flatten().collect();
    match entries.as_slice() {
        [only] if only.file_type().is_ok_and(|t| t.is_dir()) => only.path(),
        _ => dest.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_paths_that_climb_out() {
        assert!(stays_inside(Path::new(""), Path::new("lua-5.4.7/src/lua.c")));
        assert!(!stays_inside(Path::new(""), Path::new("../evil")));
        assert!(!stays_inside(Path::new(""), Path::new("a/../../evil")));
        assert!(!stays_inside(Path::new(""), Path::new("/etc/passwd")));
        assert!(stays_inside(Path::new("a/b"), Path::new("../c")));
        assert!(!stays_inside(Path::new("a"), Path::new("../../c")));
    }

    /// `dir/t.tar.gz` holding one entry of `kind` and `mode` at `path`, and an empty `dir/out`.
    fn one_entry_tarball(dir: &Path, kind: tar::EntryType, mode: u32, path: &str, data: &[u8]) -> PathBuf {
        let tarball = dir.join("t.tar.gz");
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(std::fs::File::create(&tarball).unwrap(), flate2::Compression::fast()));
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        builder.append_data(&mut header, path, data).unwrap();
        builder.into_inner().unwrap().finish().unwrap();
        std::fs::create_dir_all(dir.join("out")).unwrap();
        tarball
    }

    #[test]
    fn a_fifo_or_device_entry_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let tarball = one_entry_tarball(dir.path(), tar::EntryType::Fifo, 0o644, "lua-5.4.7/src/pipe", b"");
        let err = unpack(&tarball, &dir.path().join("out")).unwrap_err().to_string();
        assert!(err.contains("is a device or a FIFO"), "{err}");
        // A pulled layer is a temporary file: the refusal names it by its digest instead.
        let err = unpack_named(&tarball, "layer sha256:1234", &dir.path().join("out")).unwrap_err().to_string();
        assert!(err.contains("unsafe tarball layer sha256:1234: entry") && !err.contains("t.tar.gz"), "{err}");
    }

    #[test]
    fn nothing_unpacked_is_writable_by_others() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let tarball = one_entry_tarball(dir.path(), tar::EntryType::Regular, 0o777, "lua-5.4.7/bin/lua", b"lua");
        let root = unpack(&tarball, &dir.path().join("out")).unwrap();
        assert_eq!(std::fs::metadata(root.join("bin/lua")).unwrap().permissions().mode() & 0o777, 0o755);
    }

    #[test]
    fn a_chain_of_links_out_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        std::fs::create_dir_all(tree.join("a/b")).unwrap();
        std::os::unix::fs::symlink("../..", tree.join("a/b/up")).unwrap();
        std::os::unix::fs::symlink("b/up/..", tree.join("a/out")).unwrap();
        std::os::unix::fs::symlink("../b", tree.join("a/b/in")).unwrap();
        let err = check_links_inside(&tree).unwrap_err().to_string();
        assert!(err.contains("a/out") && err.contains("outside"), "{err}");
        std::fs::remove_file(tree.join("a/out")).unwrap();
        check_links_inside(&tree).unwrap();
    }
}
