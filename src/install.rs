//! The install pipeline: resolve → fetch → verify → unpack → build → install → smoke test.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};

use crate::context::Context;
use crate::error::usage;
use crate::prefix::{self, Receipt, Source};
use crate::{catalog, lock, rocks};

pub mod build;
pub mod cache;
pub mod fetch;
pub mod luajit;
pub mod resolve;
pub mod smoke;
pub mod unpack;
pub mod verify;

use build::{BuildOptions, Toolchain};
use cache as build_cache;
use fetch::Location;
use resolve::{Flavor, Resolved};
use verify::Expected;

pub struct Request {
    pub spec: String,
    /// `--mirror`, `$LUAENV_MIRROR` or the persistent mirror, in that order.
    pub mirror: Option<String>,
    pub from: Option<String>,
    pub sha256: Option<String>,
    pub options: BuildOptions,
    pub force: bool,
    /// LuaRocks to install with it: `None` for none, `Some(None)` for the newest that
    /// supports the Lua, `Some(Some(v))` for `--rocks v`; plus an optional local tarball.
    pub rocks: Option<Option<String>>,
    pub rocks_from: Option<String>,
    /// The sum a `rocks_from` tarball must have (from a lock file).
    pub rocks_sha256: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Built,
    FromBuildCache,
    AlreadyInstalled,
}

pub struct Outcome {
    pub name: String,
    pub prefix: PathBuf,
    pub how: How,
}

pub fn install(ctx: &Context, req: &Request) -> Result<Outcome> {
    let started = Instant::now();
    let resolved = resolve_request(req)?;
    let series = resolved.lua_series();
    let rocks_version = match &req.rocks {
        Some(requested) => Some(rocks::choose(requested.as_deref(), &series)?),
        None => None,
    };
    let toolchain_target = &req.options.target;
    let name = if *toolchain_target == build::host_triple() {
        resolved.install_name.clone()
    } else {
        format!("{}-{toolchain_target}", resolved.install_name)
    };
    let prefix = ctx.prefix(&name);
    std::fs::create_dir_all(ctx.versions_dir()).with_context(|| format!("cannot create {}", ctx.versions_dir().display()))?;
    std::fs::create_dir_all(ctx.scratch_dir()).with_context(|| format!("cannot create {}", ctx.scratch_dir().display()))?;

    // Lock, then look again: another process may have finished this install while we waited.
    let _lock = lock::acquire(ctx, &name)?;
    if prefix.join(prefix::RECEIPT).is_file() && !req.force {
        crate::shims::rehash(ctx)?;
        return Ok(Outcome { name, prefix, how: How::AlreadyInstalled });
    }
    let toolchain = Toolchain::detect(toolchain_target, &ctx.scratch_dir())?;
    let (location, expected) = source_of(ctx, req, &resolved)?;

    // A guard: any error from here on deletes the staging folder.
    let staging = tempfile::Builder::new().prefix(&format!(".staging-{name}-")).tempdir_in(ctx.versions_dir())?;
    let cache_key = expected.sum().map(|sum| {
        build_cache::key(&serde_json::json!({
            "source": sum, "options": &req.options, "compiler": &toolchain.compiler, "prefix": &prefix,
            "rocks": rocks_version.as_ref().map(|v| v.to_string()), "rocks_from": rocks_from_sum(req),
        }))
    });
    let cached = cache_key.as_deref().and_then(|k| build_cache::lookup(ctx, k));
    let (how, source) = match cached {
        Some(dir) => {
            prefix::copy_tree(&dir, staging.path())?;
            let sum = expected.sum().map(String::from);
            (How::FromBuildCache, Source { url: location.display(), sha256: sum, checksum: rule_name(&expected).into(), version: None })
        }
        None => {
            let source = build_into(ctx, &resolved, &location, &expected, &prefix, staging.path(), req, &toolchain)?;
            (How::Built, source)
        }
    };
    let luarocks = match (&rocks_version, how) {
        (Some(version), How::Built) => {
            Some(rocks::install_into(ctx, staging.path(), &prefix, &series, version, req.rocks_from.as_deref(), req.rocks_sha256.as_deref(), req.mirror.as_deref())?)
        }
        (Some(_), _) => Receipt::read(staging.path()).and_then(|r| r.luarocks),
        (None, _) => None,
    };
    let receipt = Receipt {
        name: name.clone(),
        spec: req.spec.clone(),
        flavor: match resolved.flavor {
            Flavor::Lua => "lua",
            Flavor::LuaJit => "luajit",
            Flavor::OpenResty => "openresty",
        }
        .into(),
        version: resolved.version.to_string(),
        source,
        flags: serde_json::to_value(&req.options)?,
        target: toolchain.target.clone(),
        compiler: toolchain.compiler.clone(),
        when: prefix::now_rfc3339(),
        build_cache_key: cache_key.clone(),
        luarocks,
    };
    receipt.write(staging.path())?;
    smoke::smoke_test(staging.path(), resolved.interpreter(), &toolchain)?;
    prefix::commit(staging.keep(), &prefix)?;
    // Shims before the lock goes: whoever waited for it finds the version complete.
    crate::shims::rehash(ctx)?;
    if let (How::Built, Some(key)) = (how, &cache_key) {
        build_cache::save(ctx, key, &prefix);
    }
    let what = if how == How::Built { "built" } else { "restored from the build cache" };
    let what_was = match resolved.flavor {
        Flavor::Lua => format!("Lua {}", resolved.version),
        Flavor::LuaJit | Flavor::OpenResty => resolved.install_name.clone(),
    };
    eprintln!("installed {what_was} ({what} in {:.1}s)", started.elapsed().as_secs_f64());
    Ok(Outcome { name, prefix, how })
}

/// Resolve, letting `--from` name an exact version the catalogue does not know.
fn resolve_request(req: &Request) -> Result<Resolved> {
    match resolve::resolve(&req.spec) {
        Err(e) if req.from.is_some() => {
            let v = resolve::parse_lua_spec(&req.spec)?;
            if v.parts.len() != 3 {
                return Err(e);
            }
            Ok(Resolved {
                install_name: v.to_string(),
                flavor: Flavor::Lua,
                file_name: format!("lua-{v}.tar.gz"),
                upstream_url: String::new(),
                official_sha256: None,
                rolling: false,
                version: v,
            })
        }
        other => other,
    }
}

/// Where the source comes from and which sum it must have (SPEC checksum rules, strongest first).
/// A source folder has no sum: it is `Unverified`, which keeps it away from the build cache.
fn source_of(ctx: &Context, req: &Request, resolved: &Resolved) -> Result<(Location, Expected)> {
    if let Some(given) = req.sha256.as_ref().filter(|g| !verify::is_sha256_hex(g)) {
        return Err(usage(format!("--sha256 '{given}' is not a SHA-256 sum: expected 64 hex digits")));
    }
    let given = req.sha256.as_ref().map(|s| s.to_ascii_lowercase());
    let from = req.from.as_deref().map(|f| Location::from_arg(f, "--from")).transpose()?;
    if let Some(mirror) = &req.mirror {
        Location::from_arg(mirror, "--mirror")?;
    }
    if let Some(Location::Path(dir)) = &from
        && dir.is_dir()
    {
        if given.is_some() {
            return Err(usage(format!(
                "a checksum (--sha256 or luaenv.lock) applies to a tarball, not to the folder {}: a folder has no single sum. Drop the checksum, or give the tarball",
                dir.display()
            )));
        }
        return Ok((from.unwrap(), Expected::Unverified));
    }
    let (location, file_name) = match (from, &req.mirror) {
        (Some(location), _) => {
            let name = location.file_name();
            (location, name)
        }
        (None, Some(mirror)) => (Location::in_mirror(mirror, &resolved.file_name), resolved.file_name.clone()),
        (None, None) => (Location::Url(resolved.upstream_url.clone()), resolved.file_name.clone()),
    };
    let official = if req.from.is_some() { catalog::official_sum(&file_name) } else { resolved.official_sha256.clone() };
    if let Some(official) = official {
        if given.as_ref().is_some_and(|g| *g != official) {
            return Err(usage(format!(
                "--sha256 {} does not match the official sum of {file_name} ({official}); drop --sha256 or fix it",
                given.unwrap()
            )));
        }
        return Ok((location, Expected::Official(official)));
    }
    if let (None, Some(mirror)) = (&req.from, &req.mirror) {
        let sums = fetch::read_text(&Location::in_mirror(mirror, "SHA256SUMS"))?;
        if let Some(sum) = sums.as_deref().and_then(|s| verify::find_in_sums(s, &file_name)) {
            if given.as_ref().is_some_and(|g| *g != sum) {
                bail!("{file_name}: the mirror's SHA256SUMS says {sum} but {} was asked for (--sha256 or luaenv.lock); one of them is wrong", given.unwrap());
            }
            return Ok((location, Expected::MirrorSums(sum)));
        }
    }
    if let Some(given) = given {
        return Ok((location, Expected::Given(given)));
    }
    if resolved.rolling && req.from.is_none() {
        // Trusted on first use, then checked from then on.
        return Ok((location, verify::trusted::get(&ctx.root, &file_name)?.map(Expected::Trusted).unwrap_or(Expected::FirstUse)));
    }
    if req.from.is_some() {
        return Ok((location, Expected::FirstUse));
    }
    bail!("no checksum is known for {file_name}: pass --sha256 <hex>, or use a mirror whose SHA256SUMS lists it")
}

fn rule_name(expected: &Expected) -> &'static str {
    match expected {
        Expected::Official(_) => "official",
        Expected::MirrorSums(_) => "mirror",
        Expected::Given(_) => "given",
        Expected::Trusted(_) => "trusted",
        Expected::FirstUse => "first-use",
        Expected::Unverified => "unverified",
    }
}

/// Fetch, verify, unpack and build into `staging`; returns the source record for the receipt.
#[allow(clippy::too_many_arguments)]
fn build_into(
    ctx: &Context,
    resolved: &Resolved,
    location: &Location,
    expected: &Expected,
    prefix: &Path,
    staging: &Path,
    req: &Request,
    toolchain: &Toolchain,
) -> Result<Source> {
    let work = tempfile::Builder::new().prefix("build-").tempdir_in(ctx.scratch_dir())?;
    let (tree, source) = match location {
        // A source folder is copied first: the build patches luaconf.h and writes objects,
        // and the user's own tree must stay as it was.
        Location::Path(dir) if dir.is_dir() => {
            if !dir.join("src").is_dir() {
                return Err(usage(format!("{} is not a Lua source folder (it has no src/): give the unpacked source of one release", dir.display())));
            }
            let tree = work.path().join("src-tree");
            prefix::copy_source_tree(dir, &tree)?;
            unpack::check_links_inside(&tree).map_err(|e| anyhow::anyhow!("unsafe source folder {}: {e:#}; nothing was installed", dir.display()))?;
            (tree, Source { url: location.display(), sha256: None, checksum: rule_name(expected).into(), version: None })
        }
        _ => {
            let file_name = location.file_name();
            let fetched = fetch::fetch(ctx, location, &file_name, expected)?;
            if resolved.rolling && matches!(expected, Expected::FirstUse | Expected::Given(_)) {
                if *expected == Expected::FirstUse {
                    eprintln!("note: {file_name} has no known checksum; trusting it on first use: sha256 {}", fetched.sha256);
                }
                verify::trusted::set(&ctx.root, &file_name, &fetched.sha256)?;
            }
            let tree = unpack::unpack(&fetched.path, work.path())?;
            let source = Source {
                url: fetched.location,
                sha256: Some(fetched.sha256),
                checksum: rule_name(expected).into(),
                version: None,
            };
            (tree, source)
        }
    };
    if resolved.flavor == Flavor::Lua {
        check_lua_version(&tree, &resolved.version)?;
        let built = build::build_lua(&tree, prefix, &resolved.version, &req.options, toolchain)?;
        prefix::lay_out_lua(staging, prefix, &tree, &built, &resolved.version)?;
    } else {
        // LuaJIT's host tools run here, so a cross build needs this machine's compiler too.
        let host = if toolchain.is_cross() { Some(Toolchain::detect(&build::host_triple(), &ctx.scratch_dir())?) } else { None };
        let built = crate::install::luajit::build_luajit(&tree, prefix, &req.options, toolchain, host.as_ref().unwrap_or(toolchain))?;
        prefix::lay_out_luajit(staging, prefix, &tree, &built)?;
    }
    Ok(source)
}

/// The source must be the Lua it is installed as: its own `src/lua.h` says which it is,
/// so `install 9.9.9 --from lua-5.4.7.tar.gz` cannot make a mislabelled 9.9.9.
fn check_lua_version(tree: &Path, wanted: &crate::version::Version) -> Result<()> {
    let lua_h = tree.join("src/lua.h");
    if !lua_h.is_file() {
        return Err(usage("the source has no src/lua.h: it is not a Lua source tree; give the tarball or folder of a Lua release"));
    }
    let text = crate::limits::read_text_capped(&lua_h, crate::limits::MAX_TEXT)?;
    let Some(found) = verify::lua_h_version(&text) else {
        bail!("cannot read the Lua version from the source's src/lua.h; give the tarball or folder of a Lua release");
    };
    if found != wanted.to_string() {
        return Err(usage(format!(
            "the source is Lua {found} (its src/lua.h says so), not {wanted}; install it as `luaenv install {found} --from …`, or give the source of {wanted}"
        )));
    }
    Ok(())
}

/// A local LuaRocks tarball is part of the build's identity: its sum goes into the cache key.
fn rocks_from_sum(req: &Request) -> Option<String> {
    req.rocks_from.as_deref().map(|p| verify::sha256_file(Path::new(p)).unwrap_or_else(|_| p.to_string()))
}
