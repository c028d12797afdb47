//! The prefix: one installed version's layout, its receipt, and moving a staged prefix into place.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};

use crate::install::build::Built;
use crate::version::Version;

pub const RECEIPT: &str = "luaenv-receipt.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Receipt {
    pub name: String,
    pub spec: String,
    pub flavor: String,
    pub version: String,
    pub source: Source,
    pub flags: serde_json::Value,
    pub target: String,
    pub compiler: String,
    pub when: String,
    pub build_cache_key: Option<String>,
    #[serde(default)]
    pub luarocks: Option<Source>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    pub url: String,
    pub sha256: Option<String>,
    /// Which rule vouched for the sum: official, mirror, given, trusted, first-use, unverified (a folder).
    pub checksum: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl Receipt {
    pub fn read(prefix: &Path) -> Option<Receipt> {
        serde_json::from_slice(&std::fs::read(prefix.join(RECEIPT)).ok()?).ok()
    }

    /// The Lua series it speaks (`5.4`; `5.1` for LuaJIT), which names its module folders.
    pub fn lua_series(&self) -> String {
        match self.flavor.as_str() {
            "luajit" | "openresty" => "5.1".into(),
            _ => Version::parse(&self.version).map(|v| v.series()).unwrap_or_default(),
        }
    }

    pub fn write(&self, prefix: &Path) -> Result<()> {
        write_atomic(&prefix.join(RECEIPT), serde_json::to_string_pretty(self)?.as_bytes())
    }
}

/// Copies the built Lua into a staging folder laid out as the spec's prefix.
/// `prefix` is where it will finally live (for `lua.pc`).
pub fn lay_out_lua(staging: &Path, prefix: &Path, tree: &Path, built: &Built, version: &Version) -> Result<()> {
    let series = version.series();
    let src = tree.join("src");
    for dir in ["bin", "include", "lib/pkgconfig", "share/man/man1"] {
        std::fs::create_dir_all(staging.join(dir))?;
    }
    std::fs::create_dir_all(staging.join("share/lua").join(&series))?;
    std::fs::create_dir_all(staging.join("lib/lua").join(&series))?;
    for program in &built.programs {
        copy(program, &staging.join("bin").join(program.file_name().unwrap()))?;
    }
    for header in ["lua.h", "luaconf.h", "lualib.h", "lauxlib.h"] {
        copy(&src.join(header), &staging.join("include").join(header))?;
    }
    // lua.hpp sits in etc/ in 5.1 and in src/ later.
    let hpp = [src.join("lua.hpp"), tree.join("etc/lua.hpp")].into_iter().find(|p| p.is_file());
    if let Some(hpp) = hpp {
        copy(&hpp, &staging.join("include/lua.hpp"))?;
    }
    copy(&built.liblua, &staging.join("lib/liblua.a"))?;
    for page in ["lua.1", "luac.1"] {
        let from = tree.join("doc").join(page);
        if from.is_file() {
            copy(&from, &staging.join("share/man/man1").join(page))?;
        }
    }
    std::fs::write(staging.join("lib/pkgconfig/lua.pc"), pkg_config(prefix, version))?;
    Ok(())
}

/// Lays out a LuaJIT build as its own `make install` does: `bin/luajit` (plus `lua`, so the
/// `lua` shim works with any version), headers in `include/luajit-2.1` (and `include/`),
/// `lib/libluajit-5.1.a` (and `liblua.a`), the `jit.*` modules, `luajit.pc`.
pub fn lay_out_luajit(staging: &Path, prefix: &Path, tree: &Path, built: &crate::install::luajit::BuiltJit) -> Result<()> {
    let src = &built.src;
    let inc = staging.join("include/luajit-2.1");
    for dir in ["bin", "lib/pkgconfig", "share/man/man1", "share/lua/5.1", "lib/lua/5.1", "share/luajit-2.1/jit"] {
        std::fs::create_dir_all(staging.join(dir))?;
    }
    std::fs::create_dir_all(&inc)?;
    copy(&built.luajit, &staging.join("bin/luajit"))?;
    std::os::unix::fs::symlink("luajit", staging.join("bin/lua"))?;
    for header in ["lua.h", "lualib.h", "lauxlib.h", "luaconf.h", "lua.hpp", "luajit.h"] {
        copy(&src.join(header), &inc.join(header))?;
        copy(&src.join(header), &staging.join("include").join(header))?;
    }
    copy(&built.library, &staging.join("lib/libluajit-5.1.a"))?;
    std::os::unix::fs::symlink("libluajit-5.1.a", staging.join("lib/liblua.a"))?;
    for entry in std::fs::read_dir(src.join("jit"))?.flatten() {
        if entry.path().extension().is_some_and(|e| e == "lua") {
            copy(&entry.path(), &staging.join("share/luajit-2.1/jit").join(entry.file_name()))?;
        }
    }
    if tree.join("etc/luajit.1").is_file() {
        copy(&tree.join("etc/luajit.1"), &staging.join("share/man/man1/luajit.1"))?;
    }
    let pc = format!(
        "prefix={prefix}
multilib=lib
exec_prefix=${{prefix}}
libdir=${{exec_prefix}}/${{multilib}}
libname=luajit-5.1
includedir=${{prefix}}/include/luajit-2.1
INSTALL_LMOD=${{prefix}}/share/lua/5.1
INSTALL_CMOD=${{prefix}}/lib/lua/5.1

Name: LuaJIT
Description: Just-in-time compiler for Lua
URL: https://luajit.org
Version: {version}
Requires:
Libs: -L${{libdir}} -l${{libname}}
Libs.private: -Wl,-E -lm -ldl
Cflags: -I${{includedir}}
",
        prefix = prefix.display(),
        version = built.version
    );
    std::fs::write(staging.join("lib/pkgconfig/luajit.pc"), &pc)?;
    Ok(())
}

fn pkg_config(prefix: &Path, version: &Version) -> String {
    format!(
        "V={series}\nR={version}\nprefix={prefix}\nINSTALL_BIN=${{prefix}}/bin\nINSTALL_INC=${{prefix}}/include\n\
INSTALL_LIB=${{prefix}}/lib\nINSTALL_MAN=${{prefix}}/share/man/man1\nINSTALL_LMOD=${{prefix}}/share/lua/${{V}}\n\
INSTALL_CMOD=${{prefix}}/lib/lua/${{V}}\nexec_prefix=${{prefix}}\nlibdir=${{exec_prefix}}/lib\nincludedir=${{prefix}}/include\n\n\
Name: Lua\nDescription: An Extensible Extension Language\nVersion: ${{R}}\nRequires:\n\
Libs: -L${{libdir}} -llua -lm -ldl\nCflags: -I${{includedir}}\n",
        series = version.series(),
        prefix = prefix.display()
    )
}

/// Copies one file of a source tree or build into a prefix. A link is never followed (it could
/// lead to any file on the machine) and a FIFO or device is never opened.
fn copy(from: &Path, to: &Path) -> Result<()> {
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

/// Moves a finished staging folder to `prefix` in one step. When `prefix` exists (`--force`,
/// `rocks install`), the two are exchanged atomically (`renameat2(RENAME_EXCHANGE)`), so there
/// is no moment without a prefix; the old one is then at `staged`, for the caller to remove.
/// Returns whether an old prefix was swapped out.
pub fn commit(staged: &Path, prefix: &Path) -> Result<bool> {
    let failed = |e: std::io::Error| anyhow::anyhow!("cannot move the new install into {}: {e}; the old one is unchanged", prefix.display());
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        use rustix::io::Errno;
        match renameat_with(CWD, staged, CWD, prefix, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(false),
            Err(Errno::EXIST) | Err(Errno::NOTEMPTY) => {
                return match renameat_with(CWD, staged, CWD, prefix, RenameFlags::EXCHANGE) {
                    Ok(()) => Ok(true),
                    Err(Errno::INVAL) | Err(Errno::NOSYS) => commit_by_renames(staged, prefix),
                    Err(e) => Err(failed(e.into())),
                };
            }
            // A filesystem without renameat2's flags (some network filesystems).
            Err(Errno::INVAL) | Err(Errno::NOSYS) => {}
            Err(e) => return Err(failed(e.into())),
        }
    }
    commit_by_renames(staged, prefix)
}

/// The portable fallback: the old prefix is renamed aside, then the new one into place, and
/// the old one put back at `staged` for removal. A kill between the two renames leaves the
/// old prefix as `.old-<name>-<pid>`, which the next install sweeps and `doctor` reports.
fn commit_by_renames(staged: &Path, prefix: &Path) -> Result<bool> {
    if !prefix.exists() {
        std::fs::rename(staged, prefix).with_context(|| format!("cannot move the new install into {}", prefix.display()))?;
        return Ok(false);
    }
    let aside = prefix.with_file_name(format!(".old-{}-{}", prefix.file_name().unwrap().to_string_lossy(), std::process::id()));
    std::fs::rename(prefix, &aside).with_context(|| format!("cannot move {} aside", prefix.display()))?;
    if let Err(e) = std::fs::rename(staged, prefix) {
        let _ = std::fs::rename(&aside, prefix);
        return Err(e).with_context(|| format!("cannot move the new install into {}; the old one is back", prefix.display()));
    }
    std::fs::rename(&aside, staged)?;
    Ok(true)
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

/// Now as RFC 3339 UTC, for receipts.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = (secs / 86400, secs % 86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_swaps_a_live_prefix_in_one_step_and_moves_a_new_one_in() {
        let dir = tempfile::tempdir().unwrap();
        let (staged, live) = (dir.path().join(".staging-5.4.7-1-abc"), dir.path().join("5.4.7"));
        std::fs::create_dir_all(&staged).unwrap();
        std::fs::write(staged.join("which"), "first").unwrap();
        assert!(!commit(&staged, &live).unwrap(), "nothing was replaced");
        assert_eq!(std::fs::read_to_string(live.join("which")).unwrap(), "first");
        assert!(!staged.exists());

        std::fs::create_dir_all(&staged).unwrap();
        std::fs::write(staged.join("which"), "second").unwrap();
        assert!(commit(&staged, &live).unwrap(), "the old prefix was swapped out");
        assert_eq!(std::fs::read_to_string(live.join("which")).unwrap(), "second");
        // The old one is at the staging path, for the caller to remove.
        assert_eq!(std::fs::read_to_string(staged.join("which")).unwrap(), "first");
    }
}
