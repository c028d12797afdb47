//! LuaRocks in a prefix, installed without `make`: its Lua code, a generated
//! `luarocks/core/hardcoded.lua` and the two launchers its own `make install` writes; which
//! release runs on which Lua.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

use crate::catalog::{self, Kind};
use crate::context::Context;
use crate::error::usage;
use crate::install::fetch::{self, Location};
use crate::prefix::Source;
use crate::shell::{Shell, quote};
use crate::install::verify::Expected;
use crate::version::Version;

use super::config::{config_path, downloaders, lua_path, managed_block, read_config, read_servers, write_config};

/// The first LuaRocks that runs on Lua 5.5 final: 3.12.x fails at start-up there
/// (`attempt to assign to const variable 'k'`: 5.5 made loop variables constant).
const FIRST_FOR_5_5: &str = "3.13.0";

/// Whether a LuaRocks release can run on a Lua series: 3.x does 5.1–5.4, 5.5 needs 3.13.0 or newer.
pub fn supports(rocks: &Version, lua_series: &str) -> bool {
    match lua_series {
        "5.1" | "5.2" | "5.3" | "5.4" => rocks.parts.first() == Some(&3),
        "5.5" => *rocks >= Version::parse(FIRST_FOR_5_5).unwrap(),
        _ => false,
    }
}

/// A LuaRocks version as typed (`3.13.0`), or the usage error saying what was expected.
pub fn parse_version(text: &str) -> Result<Version> {
    Version::parse(text).filter(|v| v.parts.len() == 3 && v.pre.is_none()).ok_or_else(|| usage(format!("'{text}' is not a LuaRocks version: expected something like 3.13.0")))
}

/// The usage error for a LuaRocks that cannot run on the Lua; `what` says where it came from.
pub fn unsupported(what: &str, lua_series: &str) -> anyhow::Error {
    let needs = if lua_series == "5.5" { format!(" (Lua 5.5 needs LuaRocks {FIRST_FOR_5_5} or newer)") } else { String::new() };
    usage(format!("{what} does not support Lua {lua_series}{needs}; nothing was changed: pick another LuaRocks"))
}

/// The LuaRocks version to install: the one asked for (checked), else the newest that runs on
/// the Lua. 3.13.0's official tarball has a broken rockspec (luarocks issue 1851), which does
/// not matter here: luaenv copies `src/luarocks` and never runs that rockspec.
pub fn choose(requested: Option<&str>, lua_series: &str) -> Result<Version> {
    if let Some(text) = requested {
        let v = parse_version(text)?;
        if v.parts.first() != Some(&3) {
            let newest = catalog::of_kind(Kind::Luarocks).into_iter().map(|r| r.version.to_string()).next().unwrap_or_default();
            return Err(usage(format!("LuaRocks {v} is not a 3.x release, the only series luaenv installs (the newest it knows is {newest}); nothing was changed")));
        }
        if !supports(&v, lua_series) {
            return Err(unsupported(&format!("LuaRocks {v}"), lua_series));
        }
        return Ok(v);
    }
    catalog::of_kind(Kind::Luarocks)
        .into_iter()
        .map(|r| r.version)
        .find(|v| supports(v, lua_series))
        .ok_or_else(|| usage(format!("no known LuaRocks supports Lua {lua_series}; use --no-rocks")))
}

/// Which LuaRocks an install or `rocks install` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// A release from the catalogue, from the mirror or upstream, checked against its official sum.
    Release(Version),
    /// A tarball the user hands over (`--rocks-from`, `rocks install --from`): its version is
    /// read from the tarball itself and must match `asked` when that is given.
    Tarball { location: String, asked: Option<Version>, sha256: Option<String> },
}

/// A fetched, verified and unpacked LuaRocks, ready to be laid into a staging prefix.
pub struct Prepared {
    /// The version the tarball really holds (its `cfg.lua`), not the one assumed.
    pub version: Version,
    pub source: Source,
    tree: PathBuf,
    _work: tempfile::TempDir,
    _registered: crate::install::cleanup::Registered,
}

/// Fetches, verifies and unpacks the LuaRocks `wanted`, reads its real version and checks it
/// runs on `series`: all before anything is built or changed. `way_out` ends a fetch error.
pub fn prepare(ctx: &Context, wanted: &Wanted, series: &str, mirror: Option<&str>, way_out: &str) -> Result<Prepared> {
    let (location, file_name, expected) = match wanted {
        Wanted::Release(version) => {
            let file_name = format!("luarocks-{version}.tar.gz");
            let Some(release) = catalog::of_kind(Kind::Luarocks).into_iter().find(|r| r.version == *version) else {
                return Err(usage(format!("LuaRocks {version} is not in luaenv's catalogue; {way_out}")));
            };
            let location = match mirror {
                Some(m) => Location::in_mirror(m, &file_name),
                None => Location::Url(release.url.clone()),
            };
            (location, file_name, Expected::Official(release.sha256))
        }
        // A tarball the user hands over is trusted as given, unless its name claims an
        // official file or a lock file pins its sum.
        Wanted::Tarball { location, sha256, .. } => {
            let file_name = location.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_string();
            let expected = match (catalog::official_sum(&file_name), sha256) {
                (Some(official), _) => Expected::Official(official),
                (None, Some(given)) => Expected::Given(given.to_ascii_lowercase()),
                (None, None) => Expected::FirstUse,
            };
            (Location::parse(location), file_name, expected)
        }
    };
    let fetched = fetch::fetch(ctx, &location, &file_name, &expected)
        .with_context(|| format!("cannot get {file_name} (LuaRocks); nothing was built or changed: {way_out}"))?;
    std::fs::create_dir_all(ctx.scratch_dir())?;
    let work = tempfile::Builder::new().prefix(&crate::install::cleanup::tagged("build-")).tempdir_in(ctx.scratch_dir())?;
    let registered = crate::install::cleanup::register(work.path());
    let tree = crate::install::unpack::unpack(&fetched.path, work.path())?;
    let cfg = std::fs::read_to_string(tree.join("src/luarocks/core/cfg.lua")).ok();
    if cfg.is_none() || !tree.join("src/bin/luarocks").is_file() {
        return Err(usage(format!("{} is not a LuaRocks source tarball (no src/luarocks/core/cfg.lua)", fetched.location)));
    }
    let top = tree.file_name().map(|n| n.to_string_lossy().into_owned());
    let version = crate::install::plan::rocks_version_in(cfg.as_deref(), top.as_deref())
        .ok_or_else(|| usage(format!("{}: cannot tell which LuaRocks this is (no program_version in src/luarocks/core/cfg.lua)", fetched.location)))?;
    let asked = match wanted {
        Wanted::Release(v) => Some(v),
        Wanted::Tarball { asked, .. } => asked.as_ref(),
    };
    crate::install::plan::check_rocks_found(&version, asked, series, &fetched.location)?;
    let source = Source {
        url: fetched.location,
        sha256: Some(fetched.sha256),
        checksum: match expected {
            Expected::Official(_) => "official".into(),
            Expected::Given(_) => "given".into(),
            _ => "local".into(),
        },
        version: Some(version.to_string()),
    };
    Ok(Prepared { version, source, tree, _work: work, _registered: registered })
}

/// Lays LuaRocks into `staging` (a prefix that will live at `prefix`), replacing any earlier
/// LuaRocks there so none of its modules stay behind. With `smoke`, it is first written for
/// the staging path and `luarocks --version` must run there; then for its final place.
pub fn install_into(ctx: &Context, staging: &Path, prefix: &Path, series: &str, prepared: &Prepared, smoke: bool) -> Result<()> {
    let luadir = staging.join("share/lua").join(series);
    for old in [luadir.join("luarocks"), staging.join("bin/luarocks"), staging.join("bin/luarocks-admin")] {
        crate::install::cleanup::remove(&old);
    }
    let src = prepared.tree.join("src");
    crate::fs::copy_tree(&src.join("luarocks"), &luadir.join("luarocks"))?;
    if smoke {
        write_paths(ctx, staging, staging, series, &src)?;
        crate::install::smoke::luarocks(staging, &prepared.version)?;
    }
    write_paths(ctx, staging, prefix, series, &src)
}

/// Writes what names paths (`hardcoded.lua`, the two launchers, luaenv's config block) into
/// `target` for a prefix living at `prefix`.
pub(super) fn write_paths(ctx: &Context, target: &Path, prefix: &Path, series: &str, src: &Path) -> Result<()> {
    let luadir = target.join("share/lua").join(series);
    let final_luadir = prefix.join("share/lua").join(series);
    std::fs::write(luadir.join("luarocks/core/hardcoded.lua"), hardcoded(prefix, series, interpreter_in(target)))?;
    for program in ["luarocks", "luarocks-admin"] {
        let body = std::fs::read_to_string(src.join("bin").join(program))?;
        let launcher = launcher(prefix, &final_luadir, &body);
        let path = target.join("bin").join(program);
        std::fs::create_dir_all(path.parent().unwrap())?;
        crate::fs::write_atomic(&path, launcher.as_bytes())?;
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    }
    write_managed_config(ctx, target, prefix, series)
}

/// luaenv's block of the LuaRocks config in `target`, for a prefix living at `prefix`.
fn write_managed_config(ctx: &Context, target: &Path, prefix: &Path, series: &str) -> Result<()> {
    let config = config_path(target, series);
    let existing = read_config(&config)?;
    let servers = read_servers(&existing);
    let downloaders = servers.as_deref().and_then(|s| downloaders(ctx, s));
    crate::fs::write_atomic(&config, &write_config(&config, &existing, &managed_block(prefix, interpreter_in(target), servers.as_deref(), downloaders.as_ref()))?)
}

/// After a prefix moved (a pulled build, see `install::relocate`): what luaenv wrote with
/// quoting for the old place — `hardcoded.lua`, the two launchers, its config block (whose
/// credential wrappers are this root's, if any) — written again for `prefix`.
pub fn relocate(ctx: &Context, staged: &Path, prefix: &Path, series: &str) -> Result<()> {
    let luadir = staged.join("share/lua").join(series);
    let hardcoded_lua = luadir.join("luarocks/core/hardcoded.lua");
    if !hardcoded_lua.is_file() {
        return Ok(());
    }
    std::fs::write(&hardcoded_lua, hardcoded(prefix, series, interpreter_in(staged)))?;
    let final_luadir = prefix.join("share/lua").join(series);
    for program in ["luarocks", "luarocks-admin"] {
        let path = staged.join("bin").join(program);
        let Ok(old) = std::fs::read_to_string(&path) else { continue };
        // The launcher's six lines of its own (see `launcher`), then LuaRocks' script.
        let Some(rest) = old.splitn(7, '\n').nth(6) else { bail!("{} is not a launcher luaenv wrote", path.display()) };
        crate::fs::write_atomic(&path, launcher(prefix, &final_luadir, &format!("#!\n{rest}")).as_bytes())?;
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    }
    write_managed_config(ctx, staged, prefix, series)
}

/// What LuaRocks' `configure` would hard-code, pointing at the prefix.
/// The interpreter LuaRocks runs: `luajit` in a LuaJIT prefix (which has a `lua` link too).
pub(super) fn interpreter_in(prefix: &Path) -> &'static str {
    if prefix.join("bin/luajit").is_file() { "luajit" } else { "lua" }
}

pub(super) fn hardcoded(prefix: &Path, series: &str, interpreter: &str) -> String {
    let p = |sub: &str| if sub.is_empty() { lua_path(prefix) } else { lua_path(&prefix.join(sub.trim_start_matches('/'))) };
    format!(
        "return {{\n    PREFIX = {},\n    SYSCONFDIR = {},\n    LUA_DIR = {},\n    LUA_BINDIR = {},\n    LUA_INCDIR = {},\n    LUA_LIBDIR = {},\n    LUA_VERSION = \"{series}\",\n    LUA_INTERPRETER = \"{interpreter}\",\n    SYSTEM = \"linux\",\n    PROCESSOR = \"{}\",\n}}\n",
        p(""),
        p("/etc/luarocks"),
        p(""),
        p("/bin"),
        p("/include"),
        p("/lib"),
        std::env::consts::ARCH
    )
}

/// The launcher LuaRocks' own `make install` writes: its Lua code found in the prefix first.
/// It starts as a sh/Lua polyglot instead of `#!<prefix>/bin/lua`, which breaks on a prefix
/// with a space: sh runs the `exec` line, Lua reads lines 2–4 as a long string assigned to `_`.
pub(super) fn launcher(prefix: &Path, luadir: &Path, body: &str) -> String {
    let rest = body.split_once('\n').map(|(_, r)| r).unwrap_or("");
    let exec = format!("exec {} \"$0\" \"$@\"", quote(Shell::Bash, &prefix.join("bin/lua").to_string_lossy()));
    // A long-bracket level whose closing bracket the line does not contain.
    let level = "=".repeat((0..).find(|n| !exec.contains(&format!("]{}]", "=".repeat(*n)))).unwrap_or(0));
    let path = lua_path(&luadir.join("?.lua;"));
    let dir = lua_path(&luadir.join(""));
    format!(
        "#!/bin/sh\n_=[{level}[\n{exec}\n]{level}]\npackage.path={path} .. package.path\nlocal list = package.searchers or package.loaders; table.insert(list, 1, function(name) if name:match(\"^luarocks%.\") then return loadfile({dir} .. name:gsub(\"%.\", \"/\") .. \".lua\") end end)\n{rest}"
    )
}
