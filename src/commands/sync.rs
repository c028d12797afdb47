use std::path::Path;

use anyhow::{Result, bail};

use crate::context::Context;
use crate::error::usage;
use crate::install::{self, Request};
use crate::prefix::Receipt;
use crate::project::rocks::{self as project_rocks, Sandbox};
use crate::project::rockspec::{self, Dependency};
use crate::project::{self, Lock, LockedRock, Pinned};

#[derive(clap::Args)]
pub struct Args {
    /// Resolve the rockspec's rocks again: all of them, or only ROCK
    #[arg(long, value_name = "ROCK", num_args = 0..=1, default_missing_value = "")]
    upgrade: Option<String>,
    /// Fail, changing nothing, when luaenv.lock does not match the rockspec (for CI)
    #[arg(long, conflicts_with = "upgrade")]
    locked: bool,
    /// The mirror for every file: Lua, LuaRocks, and rocks (looked up there by file name first)
    #[arg(long, value_name = "URL|DIR")]
    mirror: Option<String>,
    /// Contact nothing but the mirror (e.g. a `luaenv bundle` kit), local files and the caches; also LUAENV_OFFLINE=1
    #[arg(long)]
    offline: bool,
}

/// What a sync is asked to do about the rocks.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// `Some("")`: re-resolve every rock; `Some(rock)`: that one.
    pub upgrade: Option<String>,
    pub locked: bool,
    pub mirror: Option<String>,
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let cwd = crate::commands::cwd()?;
        let dir = project::find(&cwd)
            .ok_or_else(|| usage(format!("{} is not inside a luaenv project (no luaenv.lock here or above); make one with `luaenv init`", cwd.display())))?;
        // Offline from here on (when asked): every download goes through fetch.rs, which refuses
        // all but the mirror.
        crate::commands::network(ctx, self.mirror.clone(), self.offline);
        sync(ctx, &dir, &Options { upgrade: self.upgrade, locked: self.locked, mirror: self.mirror })
    }
}

/// Rebuilds the project in `dir` from its lock: Lua, LuaRocks, the sandbox, and its rocks
/// (resolved and locked first when the lock does not hold the rockspec's).
pub fn sync(ctx: &Context, dir: &Path, options: &Options) -> Result<()> {
    // Checked before anything is installed or written: a clone decides none of it.
    project::check_no_links(dir)?;
    let _held = project::lock(ctx, dir)?;
    sync_held(ctx, dir, options)
}

/// `sync` for a caller that holds the project's lock already (`add`, `remove`).
pub fn sync_held(ctx: &Context, dir: &Path, options: &Options) -> Result<()> {
    crate::install::cleanup::watch("run `luaenv sync` to finish: it clears what an interrupted LuaRocks leaves in lua_modules");
    project::check_path(dir)?;
    project::check_no_links(dir)?;
    project::check_tree(ctx, dir)?;
    let mut lock = Lock::read(dir)?;
    // The rockspec is read (and a bad one refused) before anything is installed.
    let wanted = wanted_rocks(dir)?;
    let name = lock.install_name();
    let prefix = ctx.prefix(&name);
    let mirror = crate::commands::network(ctx, options.mirror.clone(), false);
    let installed_lua = Receipt::read(&prefix).is_none();
    match Receipt::read(&prefix) {
        Some(receipt) => check_installed(&receipt, &lock, &name)?,
        None => {
            let rocks_from = match &lock.luarocks {
                Some(pinned) if unofficial(pinned) => Some(location(ctx, pinned, mirror.as_deref())?),
                _ => None,
            };
            let from = match lua_location(&lock.lua, &name) {
                Some(_) => Some(location(ctx, &lock.lua, mirror.as_deref())?),
                None => None,
            };
            let request = Request {
                spec: name.clone(),
                mirror: mirror.clone(),
                from,
                sha256: Some(lock.lua.sha256.clone()),
                options: crate::install::build::BuildOptions::for_host(),
                force: false,
                rocks: lock.luarocks.as_ref().map(|r| Some(r.version.clone())),
                rocks_from,
                rocks_sha256: lock.luarocks.as_ref().map(|r| r.sha256.clone()),
            };
            let outcome = install::install(ctx, &request)?;
            if outcome.name != name {
                bail!("luaenv.lock pins the install name '{name}' but the source installs as '{}'; fix the lock with `luaenv init --lua {}`", outcome.name, outcome.name);
            }
        }
    }
    if crate::selection::read_version_file(&dir.join(".lua-version")).as_deref() != Some(name.as_str()) {
        crate::fs::write_atomic(&dir.join(".lua-version"), format!("{name}\n").as_bytes())?;
    }
    project::generate(ctx, dir, &name, &lock)?;
    let series = project::series_of(&name).or_else(|| project::series_of(&lock.lua.version)).unwrap_or_default();
    let sandbox = Sandbox { project: dir.to_path_buf(), series };
    let rocks = sync_rocks(ctx, &sandbox, &mut lock, wanted.as_deref(), options, mirror.as_deref())?;
    // Shims for the rock commands: only when something changed, so a warm sync stays fast.
    let registered = project::registered(ctx).iter().any(|d| d == dir);
    if !registered {
        project::register(ctx, dir)?;
    }
    if rocks.changed || installed_lua || !registered {
        crate::rehash::rehash(ctx)?;
    }
    let count = lock.rocks.len();
    let rocks_note = if count == 0 { String::new() } else { format!(", {count} rock{}", if count == 1 { "" } else { "s" }) };
    crate::install::progress::note(&format!("{} is in sync with luaenv.lock: Lua {name}{rocks_note}", dir.display()));
    Ok(())
}

/// The rockspec's dependencies; `None` for a project without a rockspec (its lock's rocks
/// are then installed as they are).
fn wanted_rocks(dir: &Path) -> Result<Option<Vec<Dependency>>> {
    match rockspec::find(dir)? {
        Some(path) => Ok(Some(rockspec::read(&path)?)),
        None => Ok(None),
    }
}

struct RocksOutcome {
    changed: bool,
}

/// Brings `lua_modules` to the locked set, resolving and re-locking first when the lock does
/// not meet the rockspec (or an upgrade is asked for). Every file is verified before any is
/// installed; the lock is written once the rocks are in.
fn sync_rocks(ctx: &Context, sandbox: &Sandbox, lock: &mut Lock, wanted: Option<&[Dependency]>, options: &Options, mirror: Option<&str>) -> Result<RocksOutcome> {
    let closure = match wanted {
        Some(wanted) => project_rocks::locked_closure(wanted, &lock.rocks),
        None => Some(lock.rocks.clone()),
    };
    let agrees = closure.as_ref().is_some_and(|c| same_set(c, &lock.rocks));
    if options.locked && !agrees {
        return Err(usage(format!(
            "luaenv.lock does not match the dependencies of the project's rockspec ({}); run `luaenv sync` without --locked to update the lock, and commit it",
            disagreement(wanted.unwrap_or_default(), &lock.rocks)
        )));
    }
    let target = match (&options.upgrade, closure, wanted) {
        // --locked writes nothing, not even a lock reordered by hand.
        (None, Some(_), _) if options.locked => lock.rocks.clone(),
        (None, Some(closure), _) => closure,
        (Some(_), _, None) => return Err(usage("--upgrade: the project has no rockspec, so no dependencies to resolve again; `luaenv add <rock>` writes one")),
        (upgrade, _, wanted) => {
            let wanted = wanted.unwrap_or_default();
            // Resolving asks the rocks servers through LuaRocks, which fetch.rs does not see.
            if crate::install::fetch::is_offline() {
                return Err(usage(
                    "luaenv is offline (--offline or LUAENV_OFFLINE=1), and luaenv.lock does not hold the rocks the rockspec needs, so they would have to be resolved through the rocks servers; run `luaenv sync` where there is a network, commit luaenv.lock, then sync offline",
                ));
            }
            let keep = kept(&lock.rocks, upgrade.as_deref(), wanted)?;
            project_rocks::resolve(ctx, sandbox, wanted, &keep, mirror)?
        }
    };
    let missing = project_rocks::missing(sandbox, &target);
    let files = missing.iter().map(|rock| project_rocks::fetch_locked(ctx, rock, mirror).map(|file| (*rock, file))).collect::<Result<Vec<_>>>()?;
    let changes = project_rocks::install(sandbox, &files, &target, &lock.rocks)?;
    // Their commands find the tree relative to themselves: the project may move.
    crate::sandbox::make_rock_wrappers_relocatable(&sandbox.project.join(project::TREE));
    for rock in &changes.installed {
        eprintln!("installed rock {rock}");
    }
    for rock in &changes.removed {
        eprintln!("removed rock {rock}");
    }
    let relocked = target != lock.rocks;
    if relocked {
        lock.rocks = target;
        lock.write(&sandbox.project)?;
        let names: Vec<String> = lock.rocks.iter().map(|r| format!("{} {}", r.name, r.version)).collect();
        eprintln!("locked {} rock{} in luaenv.lock{}{}", names.len(), if names.len() == 1 { "" } else { "s" }, if names.is_empty() { "" } else { ": " }, names.join(", "));
    }
    Ok(RocksOutcome { changed: relocked || !changes.installed.is_empty() || !changes.removed.is_empty() })
}

fn same_set(a: &[LockedRock], b: &[LockedRock]) -> bool {
    a.len() == b.len() && a.iter().all(|r| b.contains(r))
}

/// The locked rocks a resolution keeps: all but the one upgraded (none for `--upgrade` alone).
fn kept(locked: &[LockedRock], upgrade: Option<&str>, wanted: &[Dependency]) -> Result<Vec<LockedRock>> {
    match upgrade {
        None => Ok(locked.to_vec()),
        Some("") => Ok(Vec::new()),
        Some(rock) => {
            let known = locked.iter().any(|r| r.name == rock) || wanted.iter().any(|d| d.name == rock);
            if !known {
                return Err(usage(format!("--upgrade {rock}: the project uses no rock named '{rock}' (neither its rockspec nor luaenv.lock names it)")));
            }
            Ok(locked.iter().filter(|r| r.name != rock).cloned().collect())
        }
    }
}

/// What differs between the rockspec and the lock, in a few words.
fn disagreement(wanted: &[Dependency], locked: &[LockedRock]) -> String {
    for dep in wanted.iter().filter(|d| !d.is_lua()) {
        match locked.iter().find(|r| r.name == dep.name) {
            None => return format!("the rockspec needs '{}', which the lock does not hold", dep.text),
            Some(r) if !dep.matches(&r.version) => return format!("the rockspec needs '{}', the lock holds {} {}", dep.text, r.name, r.version),
            _ => {}
        }
    }
    "the lock holds rocks the rockspec no longer needs".to_string()
}

/// Where to fetch the pinned Lua from: through the mirror (or upstream) when the lock names
/// the release's upstream URL; the pinned location itself when it was a `--from` source.
fn lua_location(pinned: &Pinned, name: &str) -> Option<String> {
    match crate::install::resolve::resolve(name) {
        Ok(r) if r.upstream_url == pinned.url => None,
        _ => Some(pinned.url.clone()),
    }
}

/// Whether the pinned file is not an official one (by file name).
fn unofficial(pinned: &Pinned) -> bool {
    let file = pinned.url.rsplit('/').next().unwrap_or_default();
    crate::catalog::official_sum(file).is_none()
}

/// Where to fetch a pinned file that is not an official release: its http(s) URL, or, for a
/// file the lock names only (it was installed from a local file), the mirror's copy.
/// A mirror, when there is one, is used for every file: it is looked up there by file name.
fn location(ctx: &Context, pinned: &Pinned, mirror: Option<&str>) -> Result<String> {
    use crate::install::fetch::Location;
    let file = pinned.url.rsplit('/').next().unwrap_or_default();
    // The download cache keeps files by their sum: a copy there is the pinned file (checked
    // again when installed), wherever it first came from.
    let cached = crate::install::fetch::cached_path(ctx, &pinned.sha256, file);
    if crate::install::verify::sha256_file(&cached).is_ok_and(|sum| sum == pinned.sha256) {
        return Ok(cached.display().to_string());
    }
    if let Some(m) = mirror {
        return Ok(match Location::in_mirror(m, file) {
            Location::Url(url) => url,
            Location::Path(path) => path.display().to_string(),
        });
    }
    if pinned.url.starts_with("http://") || pinned.url.starts_with("https://") {
        return Ok(pinned.url.clone());
    }
    Err(usage(format!(
        "luaenv.lock pins {} (sha256 {}) by file name only: it was installed from a local file; put that file in a mirror folder and run `luaenv sync --mirror <folder>`",
        pinned.url, pinned.sha256
    )))
}

/// An installed version must be the one the lock pins, byte for byte of its sources.
fn check_installed(receipt: &Receipt, lock: &Lock, name: &str) -> Result<()> {
    if receipt.source.sha256.as_deref() != Some(lock.lua.sha256.as_str()) {
        bail!(
            "the installed {name} was built from another source (sha256 {}) than luaenv.lock pins ({}); reinstall it with `luaenv uninstall {name}` then `luaenv sync`",
            receipt.source.sha256.as_deref().unwrap_or("unknown"),
            lock.lua.sha256
        );
    }
    if let Some(rocks) = &lock.luarocks {
        let installed = receipt.luarocks.as_ref().and_then(|r| r.sha256.as_deref());
        if installed != Some(rocks.sha256.as_str()) {
            bail!(
                "the installed {name} has {} where luaenv.lock pins LuaRocks {} (sha256 {}); run `luaenv rocks install {}` with that tarball, or `luaenv init` to pin what is installed",
                match installed { Some(s) => format!("another LuaRocks (sha256 {s})"), None => "no LuaRocks".into() },
                rocks.version,
                rocks.sha256,
                rocks.version
            );
        }
    }
    Ok(())
}
