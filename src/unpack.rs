//! Unpack: a `.tar.gz` into a folder, refusing any entry that would land outside it.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, Result, bail};

/// Unpacks `tarball` into `dest` and returns the source tree: the single top folder, if there is one.
pub fn unpack(tarball: &Path, dest: &Path) -> Result<PathBuf> {
    let file = std::fs::File::open(tarball).with_context(|| format!("cannot read {}", tarball.display()))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let corrupt = |e: std::io::Error| {
        anyhow::anyhow!("cannot unpack {}: {e}; the tarball is truncated or corrupt, fetch it again", tarball.display())
    };
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let path = entry.path().map_err(corrupt)?.into_owned();
        if !stays_inside(Path::new(""), &path) {
            bail!(unsafe_entry(tarball, &path));
        }
        if let Some(link) = entry.link_name().map_err(corrupt)? {
            // A symlink is relative to its own folder; a hard link to the archive root.
            let base = match entry.header().entry_type() {
                tar::EntryType::Symlink => path.parent().unwrap_or(Path::new("")).to_path_buf(),
                _ => PathBuf::new(),
            };
            if !stays_inside(&base, &link) {
                bail!(unsafe_entry(tarball, &path));
            }
        }
        entry.unpack_in(dest).map_err(corrupt)?;
    }
    Ok(source_root(dest))
}

fn unsafe_entry(tarball: &Path, entry: &Path) -> String {
    format!(
        "unsafe tarball {}: entry '{}' would land outside the target folder; nothing was installed, use a trusted source",
        tarball.display(),
        entry.display()
    )
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
        [only] if only.path().is_dir() => only.path(),
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
}
