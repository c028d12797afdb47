//! Relocation: a prefix built for one place made to work in another (another root, another
//! user, a path with spaces), so that one build serves every machine of a fleet.
//!
//! How: a padded placeholder prefix, patched in place (what conda and Spack do), rather than
//! paths computed from the executable's location. The default `package.path`/`cpath` are
//! compiled into `liblua.a` and `libluajit`, which programs embedding Lua link too: such a
//! program's own location says nothing about where the Lua prefix is. PUC Lua computes paths
//! from the executable (`!`) only on Windows; doing it elsewhere would mean patching `loadlib.c`
//! of five series and LuaJIT's `lib_package.c`, upstream code luaenv otherwise builds untouched.
//!
//! So every build compiles `PLACEHOLDER`, a long path, as its prefix, and every install writes
//! its real prefix over it: in a text file a plain replacement; in a binary, inside each
//! NUL-terminated string that holds it (the defaults are long concatenated literals such as
//! `"<p>/share/lua/5.4/?.lua;<p>/share/lua/5.4/?/init.lua;…"`), with the rest of the string
//! shifted and the freed bytes set to NUL. The padding stays, so a relocated prefix can move
//! again to any path up to `CAPACITY` bytes (a pushed build is relocated from the builder's
//! prefix to the puller's). Files luaenv generates with quoting (LuaRocks' launchers and
//! config) are written again for the new place by `rocks::luarocks::relocate`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

/// The longest prefix a build can be relocated to.
pub const CAPACITY: usize = 240;

/// The prefix compiled into every build: `CAPACITY` bytes, a path nothing else contains.
pub fn placeholder() -> PathBuf {
    let head = "/luaenv-relocatable-prefix-";
    PathBuf::from(format!("{head}{}", "_".repeat(CAPACITY - head.len())))
}

/// The prefix to compile in for a build that will live at `real`: the placeholder, unless the
/// real prefix is longer than it (such a build then stays where it was built).
pub fn build_prefix(real: &Path) -> PathBuf {
    if bytes(real).len() <= CAPACITY { placeholder() } else { real.to_path_buf() }
}

pub fn bytes(path: &Path) -> &[u8] {
    std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str())
}

/// Rewrites every file and link under `dir` that names `from` so it names `to` instead.
pub fn relocate(dir: &Path, from: &Path, to: &Path) -> Result<()> {
    let (from, to) = (bytes(from), bytes(to));
    if from == to {
        return Ok(());
    }
    if from.is_empty() || from == b"/" {
        bail!("cannot relocate a prefix from '{}': not a prefix path", String::from_utf8_lossy(from));
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).with_context(|| format!("cannot read {}", folder.display()))? {
            let entry = entry?;
            let (path, kind) = (entry.path(), entry.file_type()?);
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_symlink() {
                relocate_link(&path, from, to)?;
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "pc") {
                // pkg-config files hold the prefix escaped.
                let (from, to) = (crate::install::layout::pc_escape(from), crate::install::layout::pc_escape(to));
                relocate_file(&path, &from, &to).with_context(|| format!("cannot relocate {}", path.display()))?;
            } else if kind.is_file() {
                relocate_file(&path, from, to).with_context(|| format!("cannot relocate {}", path.display()))?;
            }
        }
    }
    Ok(())
}

fn relocate_link(path: &Path, from: &[u8], to: &[u8]) -> Result<()> {
    let target = std::fs::read_link(path)?;
    let target = bytes(&target);
    if find(target, from, 0).is_none() {
        return Ok(());
    }
    let new: std::ffi::OsString = std::os::unix::ffi::OsStringExt::from_vec(replace_all(target, from, to));
    std::fs::remove_file(path)?;
    std::os::unix::fs::symlink(new, path)?;
    Ok(())
}

fn relocate_file(path: &Path, from: &[u8], to: &[u8]) -> Result<()> {
    let mut content = std::fs::read(path)?;
    if find(&content, from, 0).is_none() {
        return Ok(());
    }
    let content = if content.contains(&0) {
        patch_strings(&mut content, from, to)?;
        content
    } else {
        replace_all(&content, from, to)
    };
    // In place: the file keeps its mode; staging files are luaenv's own copies. A read-only
    // file (a non-root user cannot write it) is made writable for the write.
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o200 == 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode | 0o200))?;
    }
    std::fs::write(path, content)?;
    if mode & 0o200 == 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// In a binary: each NUL-terminated string holding `from` gets `to` instead, the rest of the
/// string shifted and the freed bytes set to NUL. The string may grow into the NULs after it
/// (the padding a longer prefix left), never past them.
pub fn patch_strings(content: &mut [u8], from: &[u8], to: &[u8]) -> Result<()> {
    let mut pos = 0;
    while let Some(at) = find(content, from, pos) {
        let start = content[..at].iter().rposition(|&b| b == 0).map_or(0, |p| p + 1);
        let end = content[at..].iter().position(|&b| b == 0).map_or(content.len(), |p| at + p);
        let room = content[end..].iter().position(|&b| b != 0).map_or(content.len(), |p| end + p) - start;
        let new = replace_all(&content[start..end], from, to);
        // One NUL must stay to end the string, unless it did not grow.
        if new.len() > end - start && new.len() >= room {
            bail!(
                "the prefix it is installed at ({} bytes, with the staging folder's name while it is checked) does not fit the {CAPACITY} bytes the build kept for it; use a LUAENV_ROOT at least {} bytes shorter",
                to.len(),
                to.len().saturating_sub(CAPACITY).max(1)
            );
        }
        content[start..start + new.len()].copy_from_slice(&new);
        content[start + new.len()..end.max(start + new.len())].fill(0);
        pos = start + new.len();
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while i + needle.len() <= haystack.len() {
        let next = haystack[i..haystack.len() - needle.len() + 1].iter().position(|&b| b == first)? + i;
        if &haystack[next..next + needle.len()] == needle {
            return Some(next);
        }
        i = next + 1;
    }
    None
}

fn replace_all(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut pos = 0;
    while let Some(at) = find(haystack, from, pos) {
        out.extend_from_slice(&haystack[pos..at]);
        out.extend_from_slice(to);
        pos = at + from.len();
    }
    out.extend_from_slice(&haystack[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_in_a_c_string_moves_and_the_rest_shifts() {
        let long = b"/a/very/long/prefix";
        let mut bin = b"\x7fELF\0".to_vec();
        bin.extend_from_slice(long);
        bin.extend_from_slice(b"/share/?.lua;");
        bin.extend_from_slice(long);
        bin.extend_from_slice(b"/lib/?.so\0\0next\0");
        let original = bin.clone();
        patch_strings(&mut bin, long, b"/b c").unwrap();
        assert_eq!(bin.len(), original.len());
        let text = String::from_utf8_lossy(&bin);
        assert!(text.starts_with("\x7fELF\0/b c/share/?.lua;/b c/lib/?.so\0"), "{text:?}");
        assert!(text.ends_with("\0next\0"), "{text:?}");
        // And back, into the padding it left.
        patch_strings(&mut bin, b"/b c", long).unwrap();
        assert_eq!(bin, original);
        // Longer than the room: refused, nothing half-done matters (the caller drops staging).
        assert!(patch_strings(&mut bin, long, &[b'x'; 64]).is_err());
    }

    #[test]
    fn text_files_links_and_folders_follow() {
        let dir = tempfile::tempdir().unwrap();
        let (old, new) = (Path::new("/old/root/versions/5.4.7"), Path::new("/new root/v/5.4.7"));
        std::fs::create_dir_all(dir.path().join("lib/pkgconfig")).unwrap();
        std::fs::write(dir.path().join("lib/pkgconfig/lua.pc"), "prefix=/old/root/versions/5.4.7\n").unwrap();
        std::os::unix::fs::symlink("/old/root/versions/5.4.7/lib", dir.path().join("link")).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir.path().join("lib/pkgconfig/lua.pc"), std::fs::Permissions::from_mode(0o444)).unwrap();
        relocate(dir.path(), old, new).unwrap();
        assert_eq!(std::fs::metadata(dir.path().join("lib/pkgconfig/lua.pc")).unwrap().permissions().mode() & 0o777, 0o444);
        // pkg-config splits at blanks: the .pc file holds the prefix escaped, and moves again from there.
        assert_eq!(std::fs::read_to_string(dir.path().join("lib/pkgconfig/lua.pc")).unwrap(), "prefix=/new\\ root/v/5.4.7\n");
        assert_eq!(std::fs::read_link(dir.path().join("link")).unwrap(), Path::new("/new root/v/5.4.7/lib"));
        relocate(dir.path(), new, Path::new("/Jane's \"lua\"/5.4.7")).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("lib/pkgconfig/lua.pc")).unwrap(), "prefix=/Jane\\'s\\ \\\"lua\\\"/5.4.7\n");
        assert_eq!(bytes(&placeholder()).len(), CAPACITY);
    }
}
