//! `luaenv bundle <dir>`: an offline kit of everything a project's lock names, so that
//! `luaenv sync --offline --mirror <dir>` rebuilds the project on a machine with no network.
//! The kit is a flat mirror folder: the Lua (or LuaJIT) source under its mirror file name,
//! the LuaRocks tarball, every locked rock file, a rocks `manifest` (the folder is a rocks
//! server too) and `SHA256SUMS` of them all. Every file is checked against the lock's sum.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::context::Context;
use crate::error::usage;
use crate::install::fetch::{self, Location};
use crate::install::verify::{self, Expected};
use crate::prefix::Receipt;
use crate::project::{self, Lock, LockedRock, Pinned};

#[derive(clap::Args)]
pub struct Args {
    /// The folder to write the kit into (created if missing; files of the same names are replaced)
    dir: PathBuf,
    /// Where to get files the caches lack: a folder, file:// or http(s) URL (default: $LUAENV_MIRROR, then `luaenv mirror set`)
    #[arg(long, value_name = "URL|DIR")]
    mirror: Option<String>,
}

/// One file of the kit: its name there, and where its verified bytes are now.
struct KitFile {
    name: String,
    path: PathBuf,
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let cwd = crate::commands::cwd()?;
        let dir = project::find(&cwd)
            .ok_or_else(|| usage(format!("{} is not inside a luaenv project (no luaenv.lock here or above); `luaenv bundle` writes the kit of a project", cwd.display())))?;
        let lock = Lock::read(&dir)?;
        let mirror = crate::commands::network(ctx, self.mirror.clone(), false);
        let kit = if self.dir.is_absolute() { self.dir.clone() } else { cwd.join(&self.dir) };
        check_kit_folder(&kit)?;

        // Everything is fetched and verified before the kit is written: a missing or wrong
        // file leaves the folder as it was.
        let receipt = Receipt::read(&ctx.prefix(&lock.install_name()));
        let mut files = vec![lua_file(ctx, &lock, receipt.as_ref(), mirror.as_deref())?];
        if let Some(rocks) = &lock.luarocks {
            let local = receipt.as_ref().and_then(|r| r.luarocks.as_ref()).map(|s| s.url.as_str());
            files.push(pinned_file(ctx, "LuaRocks", rocks, &file_name(&rocks.url), local, mirror.as_deref())?);
        }
        for rock in &lock.rocks {
            files.push(KitFile { name: rock.file.clone(), path: rock_file(ctx, rock, mirror.as_deref())? });
        }

        std::fs::create_dir_all(&kit).with_context(|| format!("cannot create {}", kit.display()))?;
        for file in &files {
            copy_into(&file.path, &kit.join(&file.name))?;
        }
        // LuaRocks reads `manifest-<series>` from a folder server (and over HTTP tries it
        // first): both are written.
        let series = project::series_of(&lock.install_name()).or_else(|| project::series_of(&lock.lua.version)).unwrap_or_else(|| "5.4".into());
        let manifests = ["manifest".to_string(), format!("manifest-{series}")];
        for manifest in &manifests {
            crate::fs::write_atomic(&kit.join(manifest), rocks_manifest(&lock.rocks).as_bytes())?;
        }
        let mut sums = Vec::new();
        for name in files.iter().map(|f| f.name.as_str()).chain(manifests.iter().map(String::as_str)) {
            sums.push((name.to_string(), verify::sha256_file(&kit.join(name))?));
        }
        crate::fs::write_atomic(&kit.join("SHA256SUMS"), sha256sums(sums).as_bytes())?;
        eprintln!(
            "wrote the offline kit of {} to {}: Lua {}{}, {} rock(s); on a machine without network run `luaenv sync --offline --mirror <kit>`",
            dir.display(),
            kit.display(),
            lock.install_name(),
            lock.luarocks.as_ref().map(|r| format!(", LuaRocks {}", r.version)).unwrap_or_default(),
            lock.rocks.len()
        );
        println!("{}", kit.display());
        Ok(())
    }
}

/// The kit is a plain folder of luaenv's making: never a link, never a file.
fn check_kit_folder(kit: &Path) -> Result<()> {
    match kit.symlink_metadata() {
        Ok(m) if m.file_type().is_symlink() => Err(usage(format!("{} is a symbolic link; give a real folder for the kit", kit.display()))),
        Ok(m) if !m.is_dir() => Err(usage(format!("{} exists and is not a folder; give a folder for the kit", kit.display()))),
        _ => Ok(()),
    }
}

/// The Lua source, under the file name a mirror gives it (`lua-5.4.7.tar.gz`,
/// `LuaJIT-2.1.tar.gz`): an official release by its catalogue name, another by its lock name.
fn lua_file(ctx: &Context, lock: &Lock, receipt: Option<&Receipt>, mirror: Option<&str>) -> Result<KitFile> {
    let name = match crate::install::resolve::resolve(&lock.install_name()) {
        Ok(r) if r.upstream_url == lock.lua.url => r.file_name,
        _ => file_name(&lock.lua.url),
    };
    let local = receipt.map(|r| r.source.url.as_str());
    pinned_file(ctx, "Lua", &lock.lua, &name, local, mirror)
}

/// A pinned source file, checked against the lock's sum, from the first place that has it:
/// the download cache, the mirror (by file name), the file the installed prefix was built
/// from (a `--from` tarball still on this machine), the lock's own URL.
fn pinned_file(ctx: &Context, what: &str, pinned: &Pinned, name: &str, local: Option<&str>, mirror: Option<&str>) -> Result<KitFile> {
    let mut places = Vec::new();
    if let Some(m) = mirror {
        places.push(Location::in_mirror(m, name));
    }
    if let Some(path) = local.filter(|l| !l.contains("://")).map(PathBuf::from).filter(|p| p.is_file()) {
        places.push(Location::Path(path));
    }
    if pinned.url.starts_with("http://") || pinned.url.starts_with("https://") {
        places.push(Location::Url(pinned.url.clone()));
    }
    // A download from upstream is cached under the URL's own name (`v2.1.tar.gz`).
    let upstream = file_name(&pinned.url);
    let cached = fetch::cached_path(ctx, &pinned.sha256, &upstream);
    if upstream != name && cached.is_file() && verify::sha256_file(&cached)? == pinned.sha256 {
        return Ok(KitFile { name: name.to_string(), path: cached });
    }
    let path = first_verified(ctx, name, &pinned.sha256, &places)
        .with_context(|| format!("cannot get {name} ({what} {}) for the kit; nothing was written", pinned.version))?;
    Ok(KitFile { name: name.to_string(), path })
}

/// A locked rock file, checked against the lock's sum: from the cache, the mirror by file
/// name, or its URL.
fn rock_file(ctx: &Context, rock: &LockedRock, mirror: Option<&str>) -> Result<PathBuf> {
    let mut places = Vec::new();
    if let Some(m) = mirror {
        places.push(Location::in_mirror(m, &rock.file));
    }
    if rock.url.starts_with("http://") || rock.url.starts_with("https://") {
        places.push(Location::Url(rock.url.clone()));
    }
    first_verified(ctx, &rock.file, &rock.sha256, &places).with_context(|| format!("cannot get the rock {} {} ({}) for the kit; nothing was written", rock.name, rock.version, rock.file))
}

/// The first place that yields the file with the sum (the download cache is looked at first,
/// by `fetch`); the last error when none does.
fn first_verified(ctx: &Context, name: &str, sha256: &str, places: &[Location]) -> Result<PathBuf> {
    let expected = Expected::Given(sha256.to_ascii_lowercase());
    let cached = fetch::cached_path(ctx, sha256, name);
    if cached.is_file() && verify::sha256_file(&cached)? == sha256 {
        return Ok(cached);
    }
    let mut last = None;
    for place in places {
        match fetch::fetch(ctx, place, name, &expected) {
            Ok(fetched) => return Ok(fetched.path),
            // A file whose bytes differ from the lock is an answer, not a miss.
            Err(e) if e.chain().any(|c| matches!(c.downcast_ref::<crate::error::Error>(), Some(crate::error::Error::ChecksumMismatch { .. }))) => return Err(e),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| usage(format!("{name} is not in the download cache and the lock names no URL for it: give a mirror that holds it with `--mirror <url|dir>`"))))
}

/// Copies a verified file into the kit through a temporary name, so a reader never sees half.
fn copy_into(from: &Path, to: &Path) -> Result<()> {
    let dir = to.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new().prefix(".luaenv-").tempfile_in(dir)?;
    crate::fs::copy(from, tmp.path())?;
    tmp.as_file().set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
    tmp.persist(to).with_context(|| format!("cannot write {}", to.display()))?;
    Ok(())
}

/// The last path segment of a URL or the name itself.
fn file_name(url: &str) -> String {
    url.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_string()
}

/// A LuaRocks server manifest of the rocks in the kit, as `luarocks-admin make-manifest`
/// writes one: each rock's versions and the kinds of file there are (`src`, `rockspec`, an
/// architecture such as `linux-x86_64` or `all`).
fn rocks_manifest(rocks: &[LockedRock]) -> String {
    use std::collections::BTreeMap;
    let mut repository: BTreeMap<&str, BTreeMap<&str, Vec<String>>> = BTreeMap::new();
    for rock in rocks {
        let arch = rock_arch(&rock.file, &rock.name, &rock.version);
        let archs = repository.entry(&rock.name).or_default().entry(&rock.version).or_default();
        if let Some(arch) = arch.filter(|a| !archs.contains(a)) {
            archs.push(arch);
        }
    }
    let mut text = String::from("-- A rocks server manifest written by `luaenv bundle`.\ncommands = {}\nmodules = {}\nrepository = {\n");
    for (name, versions) in repository {
        text.push_str(&format!("   [{}] = {{\n", lua_string(name)));
        for (version, archs) in versions {
            let entries: Vec<String> = archs.iter().map(|a| format!("{{ arch = {} }}", lua_string(a))).collect();
            text.push_str(&format!("      [{}] = {{ {} }},\n", lua_string(version), entries.join(", ")));
        }
        text.push_str("   },\n");
    }
    text.push_str("}\n");
    text
}

/// `inspect-3.1.3-0.src.rock` → `src`; `x-1.0-1.linux-x86_64.rock` → `linux-x86_64`;
/// `x-1.0-1.rockspec` → `rockspec`.
fn rock_arch(file: &str, name: &str, version: &str) -> Option<String> {
    let rest = file.strip_prefix(&format!("{name}-{version}."))?;
    match rest {
        "rockspec" => Some("rockspec".into()),
        _ => rest.strip_suffix(".rock").filter(|a| !a.is_empty()).map(String::from),
    }
}

/// A Lua string literal (names and versions are plain, checked when the lock was read).
fn lua_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `sha256sum` output, sorted by file name.
fn sha256sums(mut sums: Vec<(String, String)>) -> String {
    sums.sort();
    sums.dedup();
    sums.iter().map(|(name, sum)| format!("{sum}  {name}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_lists_each_rock_file_kind() {
        let rock = |name: &str, version: &str, file: &str| LockedRock { name: name.into(), version: version.into(), file: file.into(), url: file.into(), sha256: "a".repeat(64), dependencies: Vec::new() };
        let manifest = rocks_manifest(&[rock("say", "1.0-1", "say-1.0-1.src.rock"), rock("cmod", "2.0-1", "cmod-2.0-1.linux-x86_64.rock"), rock("say", "1.0-1", "say-1.0-1.rockspec")]);
        assert_eq!(
            manifest,
            "-- A rocks server manifest written by `luaenv bundle`.\ncommands = {}\nmodules = {}\nrepository = {\n   [\"cmod\"] = {\n      [\"2.0-1\"] = { { arch = \"linux-x86_64\" } },\n   },\n   [\"say\"] = {\n      [\"1.0-1\"] = { { arch = \"src\" }, { arch = \"rockspec\" } },\n   },\n}\n"
        );
        assert_eq!(rock_arch("other-1.0-1.src.rock", "say", "1.0-1"), None);
        assert_eq!(sha256sums(vec![("b".into(), "2".into()), ("a".into(), "1".into())]), "1  a\n2  b\n");
    }
}
