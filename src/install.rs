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
pub mod holdings;
pub mod layout;
pub mod luajit;
pub mod progress;
pub mod pull;
pub mod relocate;
pub mod resolve;
pub mod smoke;
pub mod unpack;
pub mod verify;

use build::{BuildOptions, Toolchain};
use cache as build_cache;
use fetch::Location;
use resolve::{Flavor, Resolved};
use verify::Expected;

pub(crate) mod cleanup;
pub(crate) mod leftovers;
pub(crate) mod plan;
mod staging;

use staging::Staging;

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
    /// Pulled from a shared build cache.
    Pulled,
    AlreadyInstalled,
}

pub struct Outcome {
    pub name: String,
    pub prefix: PathBuf,
    pub how: How,
}

/// How to get past a LuaRocks that cannot be fetched.
const ROCKS_WAY_OUT: &str = "pass --rocks <version> for one the mirror has, --rocks-from <tarball>, or --no-rocks";
/// The same for `sync`, whose LuaRocks is the one its lock pins (it has none of those flags).
const LOCKED_ROCKS_WAY_OUT: &str = "luaenv.lock pins that very file: put it in a mirror folder and run `luaenv sync --mirror <folder>`";

/// Installs, pulling from the build caches configured for the root (`$LUAENV_BUILD_CACHE`,
/// `luaenv cache add`) when one holds this build.
pub fn install(ctx: &Context, req: &Request) -> Result<Outcome> {
    install_from(ctx, req, &pull::caches(ctx, &[]))
}

/// Installs, trying `caches` (shared build caches, in order) before building from source.
pub fn install_from(ctx: &Context, req: &Request, caches: &[String]) -> Result<Outcome> {
    let started = Instant::now();
    let host = build::host_triple();
    let asked = plan::Asked {
        target: &req.options.target,
        host: &host,
        rocks: req.rocks.as_ref().map(|r| r.as_deref()),
        rocks_from: req.rocks_from.as_deref(),
        rocks_sha256: req.rocks_sha256.as_deref(),
    };
    let plan = plan::make(resolve_request(req)?, &asked)?;
    let (resolved, name) = (&plan.resolved, plan.name.clone());
    let prefix = ctx.prefix(&name);
    std::fs::create_dir_all(ctx.versions_dir()).with_context(|| format!("cannot create {}", ctx.versions_dir().display()))?;
    std::fs::create_dir_all(ctx.scratch_dir()).with_context(|| format!("cannot create {}", ctx.scratch_dir().display()))?;

    // Lock, then look again: another process may have finished this install while we waited.
    let _lock = lock::acquire_for(ctx, &name, &format!("installing {name}"))?;
    leftovers::sweep(ctx, &name);
    if prefix.join(prefix::RECEIPT).is_file() && !req.force {
        crate::rehash::rehash(ctx)?;
        return Ok(Outcome { name, prefix, how: How::AlreadyInstalled });
    }
    // After the lock: its "waiting for another luaenv" line is never drawn over.
    let _progress = progress::begin(&shown_name(resolved));
    // A machine without a compiler can still pull a build: a missing one fails only a build.
    let toolchain = Toolchain::detect(&req.options.target, &ctx.scratch_dir());
    if let (Ok(toolchain), true) = (&toolchain, req.options.static_link) {
        toolchain.check_static(&ctx.scratch_dir())?;
    }
    let (location, expected) = source_of(ctx, req, resolved)?;
    let refused = match try_pull(ctx, req, &plan, &expected, caches, started) {
        Ok(Some(outcome)) => return Ok(outcome),
        Ok(None) => None,
        Err(why) => Some(why),
    };
    let toolchain = match (toolchain, refused) {
        (Ok(toolchain), Some(why)) => {
            eprintln!("warning: {why:#}; building from source instead");
            toolchain
        }
        (Ok(toolchain), None) => toolchain,
        (Err(no_compiler), Some(why)) => bail!("{why:#}; and it cannot be built from source here: {no_compiler:#}"),
        // The caches were asked and had nothing: say so, or a machine meant to pull would only
        // hear about a compiler. (Another LuaRocks or other build options make another build.)
        (Err(no_compiler), None) if !caches.is_empty() => bail!(
            "no build cache has a build of {name} with these options and this LuaRocks ({}), and it cannot be built here: {no_compiler:#}",
            caches.iter().map(|c| crate::credentials::masked(c)).collect::<Vec<_>>().join(", ")
        ),
        (Err(no_compiler), None) => return Err(no_compiler),
    };
    // Every source is fetched and verified before the first compile, Lua's first: a bad
    // tarball or a missing LuaRocks fails in a second, not after a build.
    prefetch(ctx, &location, &expected)?;
    let rocks = match &plan.rocks {
        Some(wanted) => {
            let way_out = if req.rocks_sha256.is_some() { LOCKED_ROCKS_WAY_OUT } else { ROCKS_WAY_OUT };
            Some(rocks::luarocks::prepare(ctx, wanted, &plan.series, req.mirror.as_deref(), way_out)?)
        }
        None => None,
    };

    let staging = Staging::new(ctx, &name)?;
    let cache_key = expected.sum().map(|sum| {
        build_cache::key(&serde_json::json!({
            // No prefix: a cached build is relocated, so one build serves every root. The
            // install name stays: `install 5.1.4 --from lua-5.1.5.tar.gz` must be refused, not restored.
            "name": &name, "source": sum, "options": &req.options, "compiler": &toolchain.compiler, "layout": layout::LAYOUT,
            "rocks": rocks.as_ref().map(|r| r.version.to_string()), "rocks_from": rocks.as_ref().and_then(|r| r.source.sha256.clone()),
        }))
    });
    let cached = cache_key.as_deref().and_then(|k| build_cache::lookup(ctx, k));
    progress::step(&format!("source {} ({} checksum){}", location.display(), rule_name(&expected), if cached.is_some() { ", restoring from the build cache" } else { "" }));
    let (how, source) = match cached {
        Some((dir, built_for)) => {
            crate::fs::copy_tree(&dir, staging.path())?;
            relocate::relocate(staging.path(), &built_for, &prefix)?;
            rocks::luarocks::relocate(ctx, staging.path(), &prefix, &plan.series)?;
            let sum = expected.sum().map(String::from);
            (How::FromBuildCache, Source { url: location.display(), sha256: sum, checksum: rule_name(&expected).into(), version: None })
        }
        None => {
            let source = build_into(ctx, resolved, &location, &expected, &prefix, staging.path(), req, &toolchain)?;
            (How::Built, source)
        }
    };
    progress::step("smoke test");
    smoke::smoke_test(staging.path(), resolved.interpreter(), &toolchain)?;
    // From the copy of the user's config to the swap, no `rocks add-server` may edit the live one.
    let _config_lock = if prefix.is_dir() { Some(lock::acquire_for(ctx, "rocks-config", "editing a LuaRocks config")?) } else { None };
    if let Some(prepared) = &rocks {
        if prefix.is_dir() {
            keep_rocks_config(&prefix, staging.path(), &plan.series)?;
        }
        progress::announce(&format!("installing LuaRocks {}", prepared.version));
        if req.options.static_link {
            progress::note(&format!("note: {name} is static and cannot load C modules: its LuaRocks installs rocks written in Lua; a rock with C code builds but `require` cannot load it"));
        }
        let smoke = !toolchain.is_cross() || smoke::runs_natively(&toolchain.target, &toolchain.host);
        rocks::luarocks::install_into(ctx, staging.path(), &prefix, &plan.series, prepared, smoke)?;
        if toolchain.is_cross() {
            rocks::cross::configure(staging.path(), &prefix, &plan.series, &toolchain)?;
        }
    }
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
        source: source.clone(),
        flags: serde_json::to_value(&req.options)?,
        target: toolchain.target.clone(),
        compiler: toolchain.compiler.clone(),
        when: prefix::now_rfc3339(),
        build_cache_key: cache_key.clone(),
        luarocks: rocks.as_ref().map(|r| r.source.clone()),
        pulled_from: None,
    };
    receipt.write(staging.path())?;
    // Trusted on first use only once the build ran: a source that does not build is not remembered.
    if let (true, Some(sum)) = (resolved.rolling && matches!(expected, Expected::FirstUse | Expected::Given(_)), &source.sha256) {
        verify::trusted::set(&ctx.root, &file_name_of(&location), sum)?;
    }
    if prefix.is_dir() {
        warn_dropped(&name, &prefix, staging.path());
    }
    staging.commit(&prefix)?;
    // Shims before the lock goes: whoever waited for it finds the version complete.
    crate::rehash::rehash(ctx)?;
    if let (How::Built, Some(key)) = (how, &cache_key) {
        build_cache::save(ctx, key, &prefix);
    }
    let what = if how == How::Built { "built" } else { "restored from the build cache" };
    let with_rocks = rocks.as_ref().map(|r| format!(" with LuaRocks {}", r.version)).unwrap_or_default();
    progress::finish(&format!("installed {}{with_rocks} ({what} in {:.1}s)", shown_name(resolved), started.elapsed().as_secs_f64()));
    Ok(Outcome { name, prefix, how })
}

/// What an install is called in its messages: `Lua 5.4.7`, `luajit-2.1`.
fn shown_name(resolved: &Resolved) -> String {
    match resolved.flavor {
        Flavor::Lua => format!("Lua {}", resolved.version),
        Flavor::LuaJit | Flavor::OpenResty => resolved.install_name.clone(),
    }
}

/// The build from a shared cache, when one holds a build with this install's key that passes
/// every check: committed as the prefix. `Err` says in one line why a build found was refused.
fn try_pull(ctx: &Context, req: &Request, plan: &plan::Plan, expected: &Expected, caches: &[String], started: Instant) -> Result<Option<Outcome>> {
    if caches.is_empty() {
        return Ok(None);
    }
    let Some(key) = shared_key(req, plan, expected) else { return Ok(None) };
    let (name, prefix) = (plan.name.clone(), ctx.prefix(&plan.name));
    let wanted = pull::Wanted {
        name: &name,
        key: &key,
        prefix: &prefix,
        interpreter: plan.resolved.interpreter(),
        series: &plan.series,
        target: &req.options.target,
    };
    let Some(pulled) = pull::pull(ctx, caches, &wanted)? else { return Ok(None) };
    let mut receipt = pulled.receipt;
    receipt.name = name.clone();
    receipt.spec = req.spec.clone();
    receipt.when = prefix::now_rfc3339();
    receipt.build_cache_key = None;
    receipt.pulled_from = Some(pulled.from.clone());
    receipt.write(pulled.staging.path())?;
    // `--force` keeps the user's LuaRocks config, as a build does; luaenv's block is rewritten.
    let _config_lock = if prefix.is_dir() { Some(lock::acquire_for(ctx, "rocks-config", "editing a LuaRocks config")?) } else { None };
    if prefix.is_dir() {
        if pulled.staging.path().join("bin/luarocks").is_file() {
            keep_rocks_config(&prefix, pulled.staging.path(), &plan.series)?;
            rocks::luarocks::relocate(ctx, pulled.staging.path(), &prefix, &plan.series)?;
        }
        warn_dropped(&name, &prefix, pulled.staging.path());
    }
    pulled.staging.commit(&prefix)?;
    crate::rehash::rehash(ctx)?;
    eprintln!("installed {name} (pulled from {} in {:.1}s)", pulled.from, started.elapsed().as_secs_f64());
    Ok(Some(Outcome { name, prefix, how: How::Pulled }))
}

/// The shared build key of this install (see `pull::key_inputs`); `None` when the source or
/// the LuaRocks tarball has no sum known before fetching it: such an install always builds.
fn shared_key(req: &Request, plan: &plan::Plan, expected: &Expected) -> Option<String> {
    let sum = expected.sum()?;
    let luarocks = match &plan.rocks {
        None => None,
        Some(rocks::luarocks::Wanted::Release(v)) => Some(catalog::official_sum(&format!("luarocks-{v}.tar.gz"))?),
        Some(rocks::luarocks::Wanted::Tarball { sha256: Some(sum), .. }) => Some(sum.to_ascii_lowercase()),
        // A local tarball is hashed here (a fraction of a second); a URL would have to be fetched.
        Some(rocks::luarocks::Wanted::Tarball { location, sha256: None, .. }) => match Location::parse(location) {
            Location::Path(path) => Some(verify::sha256_file(&path).ok()?),
            Location::Url(_) => return None,
        },
    };
    let flags = serde_json::to_value(&req.options).ok()?;
    Some(build_cache::key(&pull::key_inputs(&plan.name, sum, &flags, luarocks.as_deref())))
}

/// `rocks install`: LuaRocks into a copy of the live prefix, smoke-tested there, then swapped
/// in; the live prefix is never written. The caller holds the name's lock.
pub fn install_rocks(ctx: &Context, name: &str, series: &str, prepared: &rocks::luarocks::Prepared) -> Result<()> {
    let prefix = ctx.prefix(name);
    let mut receipt = Receipt::read(&prefix).ok_or_else(|| anyhow::anyhow!("{} has no luaenv receipt; reinstall it with `luaenv install {name} --force`", prefix.display()))?;
    // From the copy to the swap, no `rocks add-server` may edit the live config.
    let _config_lock = lock::acquire_for(ctx, "rocks-config", "editing a LuaRocks config")?;
    let staging = Staging::copy_of(ctx, name, &prefix)?;
    let runs_here = receipt.target == build::host_triple();
    rocks::luarocks::install_into(ctx, staging.path(), &prefix, series, prepared, runs_here)?;
    if !runs_here {
        let toolchain = Toolchain::detect(&receipt.target, &ctx.scratch_dir())?;
        rocks::cross::configure(staging.path(), &prefix, series, &toolchain)?;
    }
    receipt.luarocks = Some(prepared.source.clone());
    receipt.write(staging.path())?;
    staging.commit(&prefix)
}

/// `install --force` keeps the user's LuaRocks config (their own lines and servers): it is
/// copied into the new prefix, where LuaRocks' install rewrites only luaenv's block.
fn keep_rocks_config(live: &Path, staged: &Path, series: &str) -> Result<()> {
    let (old, new) = (rocks::config::config_path(live, series), rocks::config::config_path(staged, series));
    if old.is_file() {
        std::fs::create_dir_all(new.parent().unwrap())?;
        std::fs::copy(&old, &new).with_context(|| format!("cannot keep {}", old.display()))?;
    }
    Ok(())
}

/// `install --force` replaces the prefix; modules, rocks and commands the user added to the
/// old one are not carried over (a C module or rock built for the old build may not load in
/// the new one), so one warning line names what goes.
fn warn_dropped(name: &str, live: &Path, staged: &Path) {
    // Installed without LuaRocks (`--no-rocks`) over a prefix that had it: LuaRocks goes,
    // with its config, which is said as such rather than listed as the user's own files.
    let rocks_go = live.join("bin/luarocks").exists() && !staged.join("bin/luarocks").exists();
    let dropped: Vec<String> = dropped_files(live, staged).into_iter().filter(|f| !(rocks_go && matches!(f.as_str(), "bin/luarocks" | "bin/luarocks-admin"))).collect();
    const SHOWN: usize = 8;
    let more = if dropped.len() > SHOWN { format!(" and {} more", dropped.len() - SHOWN) } else { String::new() };
    let shown: Vec<&str> = dropped.iter().take(SHOWN).map(String::as_str).collect();
    match (rocks_go, dropped.is_empty()) {
        (false, true) => {}
        (false, false) => eprintln!(
            "warning: --force replaces {name} without what was added to it since it was installed: {}{more} (reinstall those rocks with luarocks; the LuaRocks config is kept)",
            shown.join(", ")
        ),
        (true, true) => eprintln!("warning: --force replaces {name} without the LuaRocks it had, and without its config (`LUAENV_VERSION={name} luaenv rocks install`, with `--from <tarball>` if the mirror has no LuaRocks, adds it again)"),
        (true, false) => eprintln!(
            "warning: --force replaces {name} without the LuaRocks it had, without its config, and without what was added to it since it was installed: {}{more} (`LUAENV_VERSION={name} luaenv rocks install`, with `--from <tarball>` if the mirror has no LuaRocks, adds LuaRocks again; then reinstall those rocks)",
            shown.join(", ")
        ),
    }
}

/// What the user added under the old prefix's `bin/`, module folders and rocks tree that the
/// new prefix does not have; a rock counts once (`lib/luarocks/rocks-5.4/<rock>`).
fn dropped_files(live: &Path, staged: &Path) -> Vec<String> {
    let mut dropped = std::collections::BTreeSet::new();
    for top in ["bin", "share/lua", "lib/lua", "lib/luarocks"] {
        let mut stack = vec![live.join(top)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                let relative = path.strip_prefix(live).unwrap_or(&path).to_path_buf();
                let parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
                // LuaRocks' own modules are replaced on purpose.
                if parts.len() >= 4 && parts[0] == "share" && parts[3] == "luarocks" {
                    continue;
                }
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(path);
                } else if std::fs::symlink_metadata(staged.join(&relative)).is_err() {
                    let shown = if parts.len() > 3 && parts[1] == "luarocks" { parts[..4].join("/") } else { parts.join("/") };
                    dropped.insert(shown);
                }
            }
        }
    }
    dropped.into_iter().collect()
}

/// Fetches and verifies the Lua source into the download cache, where `build_into` finds it
/// without another request. A rolling source seen for the first time has no sum to find it
/// by in the cache, so it is fetched once, by `build_into`, instead.
fn prefetch(ctx: &Context, location: &Location, expected: &Expected) -> Result<()> {
    let wanted = match location {
        Location::Path(path) => path.is_file(),
        Location::Url(_) => expected.sum().is_some(),
    };
    if wanted {
        fetch::fetch(ctx, location, &file_name_of(location), expected)?;
    }
    Ok(())
}

fn file_name_of(location: &Location) -> String {
    match location {
        Location::Path(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        Location::Url(u) => u.rsplit('/').next().unwrap_or_default().to_string(),
    }
}

/// Resolve, letting `--from` name an exact version the catalogue does not know, and a mirror
/// that lists what it holds choose the newest release of a series that is really there.
fn resolve_request(req: &Request) -> Result<Resolved> {
    if let (None, Some(mirror)) = (&req.from, &req.mirror) {
        let shown = Location::parse(mirror).display();
        if let Some(resolved) = resolve::newest_held(&req.spec, &shown, || holdings::list(mirror))? {
            let series = crate::version::plain_lua_spec(req.spec.trim()).unwrap_or(req.spec.trim()).to_string();
            let which = if series == "latest" { "release".to_string() } else { series.clone() };
            progress::note(&format!("luaenv: {series} → {}, the newest {which} the mirror has", resolved.install_name));
            return Ok(resolved);
        }
    }
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
    if let Some(given) = &req.sha256 {
        verify::check_sha256_arg(given)?;
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
    let work = tempfile::Builder::new().prefix(&cleanup::tagged("build-")).tempdir_in(ctx.scratch_dir())?;
    let _registered = cleanup::register(work.path());
    let (tree, source) = match location {
        // A source folder is copied first: the build patches luaconf.h and writes objects,
        // and the user's own tree must stay as it was.
        Location::Path(dir) if dir.is_dir() => {
            // Only a folder the user handed over (`--from <dir>`): one in a mirror or a kit
            // that stands where a checked tarball should be has no bytes a sum could vouch for.
            if !matches!(expected, Expected::FirstUse | Expected::Unverified) {
                bail!(
                    "{} is a folder, not the tarball whose sha256 must match ({}): a folder has no bytes to check; put the tarball itself there; nothing was installed",
                    dir.display(),
                    rule_name(expected)
                );
            }
            if !dir.join("src").is_dir() {
                return Err(usage(format!("{} is not a Lua source folder (it has no src/): give the unpacked source of one release", dir.display())));
            }
            let tree = work.path().join("src-tree");
            crate::fs::copy_source_tree(dir, &tree)?;
            unpack::check_links_inside(&tree).map_err(|e| anyhow::anyhow!("unsafe source folder {}: {e:#}; nothing was installed", dir.display()))?;
            (tree, Source { url: location.display(), sha256: None, checksum: "unverified".into(), version: None })
        }
        _ => {
            let file_name = location.file_name();
            let fetched = fetch::fetch(ctx, location, &file_name, expected)?;
            // Recorded in trusted-sums by `install` once the build passed its smoke test.
            if resolved.rolling && *expected == Expected::FirstUse {
                eprintln!("note: {file_name} has no known checksum; trusting it on first use: sha256 {}", fetched.sha256);
            }
            progress::step("unpacking");
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
    // Built for the placeholder prefix, then moved to its own: every build is relocatable.
    let baked = relocate::build_prefix(prefix);
    if resolved.flavor == Flavor::Lua {
        check_lua_version(&tree, &resolved.version)?;
        let host_tree = copy_for_host_lua(&tree, work.path(), req, toolchain)?;
        let built = build::build_lua(&tree, &baked, &resolved.version, &req.options, toolchain)?;
        layout::lay_out_lua(staging, &baked, &tree, &built, &resolved.version)?;
        if let Some(host_tree) = host_tree {
            progress::announce(HOST_BUILD);
            let host = Toolchain::detect(&build::host_triple(), &ctx.scratch_dir())?;
            let lua = build::build_host_lua(&host_tree, &baked, &resolved.version, &req.options, &host)?;
            add_host_interpreter(staging, &lua)?;
        }
    } else {
        // LuaJIT's host tools run here, so a cross build needs this machine's compiler too.
        let host = if toolchain.is_cross() { Some(Toolchain::detect(&build::host_triple(), &ctx.scratch_dir())?) } else { None };
        let host_tree = copy_for_host_lua(&tree, work.path(), req, toolchain)?;
        let built = crate::install::luajit::build_luajit(&tree, &baked, &req.options, toolchain, host.as_ref().unwrap_or(toolchain))?;
        layout::lay_out_luajit(staging, &baked, &tree, &built)?;
        if let (Some(host_tree), Some(host)) = (host_tree, &host) {
            progress::announce(HOST_BUILD);
            let host_opts = BuildOptions { static_link: false, target: host.target.clone(), ..req.options.clone() };
            let luajit = crate::install::luajit::build_luajit(&host_tree, &baked, &host_opts, host, host)?;
            add_host_interpreter(staging, &luajit.luajit)?;
        }
    }
    relocate::relocate(staging, &baked, prefix)?;
    Ok(source)
}

/// Said before the second build of a cross install with LuaRocks.
const HOST_BUILD: &str = "building it for this machine too, to run LuaRocks";

/// Where a host interpreter for LuaRocks is needed (LuaRocks wanted in a cross prefix whose
/// `lua` cannot run here), a clean copy of the source to build it from.
fn copy_for_host_lua(tree: &Path, work: &Path, req: &Request, toolchain: &Toolchain) -> Result<Option<PathBuf>> {
    if req.rocks.is_none() || !toolchain.is_cross() || smoke::runs_natively(&toolchain.target, &toolchain.host) {
        return Ok(None);
    }
    let copy = work.join("host-tree");
    crate::fs::copy_source_tree(tree, &copy)?;
    Ok(Some(copy))
}

/// Puts a host interpreter (`lua`, or `luajit` for a LuaJIT prefix) in `libexec/luaenv/lua`,
/// off `bin/` (no shim for it): the prefix's LuaRocks runs on it.
fn add_host_interpreter(staging: &Path, interpreter: &Path) -> Result<()> {
    std::fs::create_dir_all(staging.join(rocks::cross::HOST_LUA).parent().unwrap())?;
    crate::fs::copy(interpreter, &staging.join(rocks::cross::HOST_LUA))
}

/// The source must be the Lua it is installed as: its own `src/lua.h` says which it is,
/// so `install 9.9.9 --from lua-5.4.7.tar.gz` cannot make a mislabelled 9.9.9.
fn check_lua_version(tree: &Path, wanted: &crate::version::Version) -> Result<()> {
    let lua_h = tree.join("src/lua.h");
    if !lua_h.is_file() {
        return Err(usage("the source has no src/lua.h: it is not a Lua source tree; give the tarball or folder of a Lua release"));
    }
    // LuaJIT's lua.h says 5.1.4, the Lua it is compatible with.
    if tree.join("src/lj_def.h").is_file() {
        // Its version is in luajit.h, or luajit_rolling.h in a rolling tree.
        let said = |file: &str| crate::fs::read_text_capped(&tree.join("src").join(file), crate::limits::MAX_TEXT).unwrap_or_default();
        let branch = if (said("luajit.h") + &said("luajit_rolling.h")).contains("\"LuaJIT 2.0") { "luajit-2.0" } else { "luajit-2.1" };
        return Err(usage(format!("the source is LuaJIT (it has src/lj_def.h), not Lua {wanted}; install it as `luaenv install {branch} --from …`")));
    }
    let text = crate::fs::read_text_capped(&lua_h, crate::limits::MAX_TEXT)?;
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
