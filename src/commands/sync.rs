use anyhow::{Result, bail};

use crate::context::Context;
use crate::error::usage;
use crate::install::{self, Request};
use crate::prefix::Receipt;
use crate::project::{self, Lock, Pinned};

#[derive(clap::Args)]
pub struct Args {}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let cwd = crate::commands::cwd()?;
        let dir = project::find(&cwd)
            .ok_or_else(|| usage(format!("{} is not inside a luaenv project (no luaenv.lock here or above); make one with `luaenv init`", cwd.display())))?;
        // Checked before anything is installed or written: a clone decides none of it.
        project::check_no_links(&dir)?;
        let _held = project::lock(ctx, &dir)?;
        let lock = Lock::read(&dir)?;
        let name = lock.install_name();
        let prefix = ctx.prefix(&name);
        match Receipt::read(&prefix) {
            Some(receipt) => check_installed(&receipt, &lock, &name)?,
            None => {
                let mirror = crate::commands::mirror(ctx, None).map(|(m, _)| m);
                let rocks_from = match &lock.luarocks {
                    Some(pinned) if unofficial(pinned) => Some(location(pinned, mirror.as_deref())?),
                    _ => None,
                };
                let from = match lua_location(&lock.lua, &name) {
                    Some(_) => Some(location(&lock.lua, mirror.as_deref())?),
                    None => None,
                };
                let request = Request {
                    spec: name.clone(),
                    mirror,
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
        project::generate(ctx, &dir, &name, &lock)?;
        project::register(ctx, &dir)?;
        crate::rehash::rehash(ctx)?;
        crate::install::progress::note(&format!("{} is in sync with luaenv.lock: Lua {name}", dir.display()));
        Ok(())
    }
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
fn location(pinned: &Pinned, mirror: Option<&str>) -> Result<String> {
    if pinned.url.starts_with("http://") || pinned.url.starts_with("https://") {
        return Ok(pinned.url.clone());
    }
    match mirror {
        Some(m) => Ok(crate::install::fetch::Location::in_mirror(m, &pinned.url).display()),
        None => Err(usage(format!(
            "luaenv.lock pins {} (sha256 {}) by file name only: it was installed from a local file; put that file in a mirror folder and run `luaenv sync` with `LUAENV_MIRROR=<folder>`",
            pinned.url, pinned.sha256
        ))),
    }
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
