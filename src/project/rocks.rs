//! The project's rocks: resolved through its rocks servers, locked by sum, fetched by luaenv,
//! installed by LuaRocks from the verified files.
//!
//! How a resolution goes: LuaRocks lists what the servers hold (`luarocks search --porcelain
//! <rock>`, through the project's own config, so its servers, mirrors and credentials apply;
//! LuaRocks reads the servers' manifests, which are Lua, in its own sandbox). luaenv picks the
//! newest release that meets every constraint (binary rock, then pure-Lua, then source rock,
//! then rockspec), downloads that file itself into its cache, reads the rockspec inside it
//! without running it, and goes on with its dependencies: greedy, as LuaRocks resolves. The
//! install then hands LuaRocks the verified local files one by one, dependencies first, with
//! `--deps-mode none`: LuaRocks never resolves a second time nor downloads a rock.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::context::Context;
use crate::error::{Error, usage};
use crate::install::fetch::{self, Location};
use crate::install::verify;

use super::rockspec::{self, Dependency};
use super::{GENERATED, LockedRock, TREE};

/// The project's LuaRocks, as its `.luaenv/bin/luarocks` runs it (tree `lua_modules`).
pub struct Sandbox {
    pub project: PathBuf,
    /// The Lua series the tree holds rocks for (`5.4`; `5.1` for LuaJIT).
    pub series: String,
}

impl Sandbox {
    fn luarocks(&self) -> Command {
        let mut cmd = Command::new(self.project.join(GENERATED).join("bin/luarocks"));
        // From `.luaenv/`, whose `.luarocks-no-project` keeps LuaRocks from taking a folder
        // of the repository (one with .luarocks/ and lua_modules/) as its project.
        cmd.current_dir(self.project.join(GENERATED)).stdin(std::process::Stdio::null());
        cmd
    }

    /// Runs the project's LuaRocks to its end. One that Ctrl-C stopped (it says `interrupted!`)
    /// ends luaenv as interrupted (exit 130, one line), not as a rock that failed to install.
    fn run(&self, cmd: &mut Command) -> Result<std::process::Output> {
        let out = {
            let _running = crate::install::cleanup::writer_running();
            cmd.output().context("cannot run the project's luarocks")?
        };
        let signalled = std::os::unix::process::ExitStatusExt::signal(&out.status).is_some();
        if !out.status.success() && (signalled || String::from_utf8_lossy(&out.stderr).contains("interrupted!")) {
            crate::install::cleanup::child_was_signalled();
        }
        Ok(out)
    }

    fn has_luarocks(&self) -> bool {
        self.project.join(GENERATED).join("bin/luarocks").is_file()
    }

    /// Clears what an interrupted LuaRocks leaves in the tree: its lock (`lockfile.lfs`, a link
    /// to nowhere, which fails every later run with "requires exclusive write access"), and a
    /// rock's folder without the `rock_manifest` LuaRocks writes last (which it would then take
    /// for a broken tree). luaenv runs LuaRocks here only under the project's lock, so neither
    /// belongs to a sync still running.
    fn clear_interrupted(&self) -> Result<()> {
        let tree = self.project.join(TREE);
        let lock = tree.join("lockfile.lfs");
        if lock.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
            std::fs::remove_file(&lock).with_context(|| format!("cannot remove LuaRocks' stale lock {}", lock.display()))?;
            eprintln!("removed {}, which an interrupted LuaRocks left", lock.display());
        }
        for rock in std::fs::read_dir(self.rocks_dir()).into_iter().flatten().flatten() {
            for version in std::fs::read_dir(rock.path()).into_iter().flatten().flatten() {
                let half = version.path();
                if version.file_type().is_ok_and(|t| t.is_dir()) && !half.join("rock_manifest").exists() {
                    std::fs::remove_dir_all(&half).with_context(|| format!("cannot remove the half-installed {}", half.display()))?;
                    eprintln!("removed {}, a rock an interrupted LuaRocks left half-installed", half.display());
                }
            }
        }
        Ok(())
    }

    /// Where LuaRocks keeps a folder per installed rock version (with its `rock_manifest`).
    fn rocks_dir(&self) -> PathBuf {
        self.project.join(TREE).join("lib/luarocks").join(format!("rocks-{}", self.series))
    }

    /// The rocks in `lua_modules`, by name, with their versions.
    pub fn installed(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut found = BTreeMap::new();
        for rock in std::fs::read_dir(self.rocks_dir()).into_iter().flatten().flatten() {
            let versions = std::fs::read_dir(rock.path()).into_iter().flatten().flatten().filter(|v| v.path().join("rock_manifest").is_file());
            let versions: BTreeSet<String> = versions.map(|v| v.file_name().to_string_lossy().into_owned()).collect();
            if !versions.is_empty() {
                found.insert(rock.file_name().to_string_lossy().into_owned(), versions);
            }
        }
        found
    }
}

/// The locked rocks the rockspec's dependencies reach, sorted by name, when the lock meets every
/// constraint on the way; `None` when a dependency has no fitting entry (a resolution is due).
pub fn locked_closure(wanted: &[Dependency], locked: &[LockedRock]) -> Option<Vec<LockedRock>> {
    let mut chosen: BTreeMap<String, LockedRock> = BTreeMap::new();
    let mut queue: Vec<Dependency> = wanted.to_vec();
    while let Some(dep) = queue.pop() {
        if dep.is_lua() {
            continue;
        }
        let rock = locked.iter().find(|r| r.name == dep.name)?;
        if !dep.matches(&rock.version) {
            return None;
        }
        if chosen.insert(rock.name.clone(), rock.clone()).is_none() {
            for text in &rock.dependencies {
                queue.push(Dependency::parse(text).ok()?);
            }
        }
    }
    Some(chosen.into_values().collect())
}

/// One release a server holds, as `luarocks search --porcelain` lists it.
#[derive(Debug, Clone)]
struct Candidate {
    version: String,
    arch: String,
    repo: String,
}

impl Candidate {
    fn file(&self, name: &str) -> String {
        match self.arch.as_str() {
            "rockspec" => format!("{name}-{}.rockspec", self.version),
            arch => format!("{name}-{}.{arch}.rock", self.version),
        }
    }

    /// Binary rocks first (nothing to build), then pure-Lua, source rocks, bare rockspecs.
    fn preference(&self) -> u8 {
        match self.arch.as_str() {
            "rockspec" => 3,
            "src" => 2,
            "all" => 1,
            _ => 0,
        }
    }
}

/// Resolves the dependencies (and theirs) into one release per rock, sorted by name. A rock of
/// `keep` (the lock, less what is being upgraded) is kept when it still fits.
pub fn resolve(ctx: &Context, sandbox: &Sandbox, wanted: &[Dependency], keep: &[LockedRock], mirror: Option<&str>) -> Result<Vec<LockedRock>> {
    if !sandbox.has_luarocks() {
        return Err(usage("the project's rockspec names rocks, but its Lua has no LuaRocks; install one with `luaenv rocks install`, then `luaenv init` to pin it"));
    }
    let mut chosen: BTreeMap<String, LockedRock> = BTreeMap::new();
    let mut asked: BTreeMap<String, Vec<Dependency>> = BTreeMap::new();
    let mut queue: std::collections::VecDeque<(Dependency, String)> = wanted.iter().map(|d| (d.clone(), "the rockspec".to_string())).collect();
    while let Some((dep, by)) = queue.pop_front() {
        if dep.is_lua() {
            continue;
        }
        let constraints = asked.entry(dep.name.clone()).or_default();
        constraints.push(dep.clone());
        if let Some(rock) = chosen.get(&dep.name) {
            if !dep.matches(&rock.version) {
                let all: Vec<&str> = constraints.iter().map(|d| d.text.as_str()).collect();
                return Err(usage(format!(
                    "no single release of {} meets every constraint on it ({}; {by} asks for '{}' after {} {} was chosen); loosen one in the rockspec",
                    dep.name,
                    all.join(", "),
                    dep.text,
                    rock.name,
                    rock.version
                )));
            }
            continue;
        }
        let constraints = constraints.clone();
        let fits = |version: &str| constraints.iter().all(|d| d.matches(version));
        let rock = match keep.iter().find(|r| r.name == dep.name && fits(&r.version)) {
            Some(kept) => kept.clone(),
            None => choose(ctx, sandbox, &dep, &by, &fits, mirror)?,
        };
        for text in &rock.dependencies {
            let child = Dependency::parse(text).map_err(|e| anyhow::anyhow!("rock {} {}: {e}", rock.name, rock.version))?;
            queue.push_back((child, format!("{} {}", rock.name, rock.version)));
        }
        chosen.insert(rock.name.clone(), rock);
    }
    Ok(chosen.into_values().collect())
}

/// The newest fitting release on the servers, downloaded into the cache and read.
fn choose(ctx: &Context, sandbox: &Sandbox, dep: &Dependency, by: &str, fits: &dyn Fn(&str) -> bool, mirror: Option<&str>) -> Result<LockedRock> {
    let mut candidates: Vec<Candidate> = search(sandbox, &dep.name)?.into_iter().filter(|c| fits(&c.version)).collect();
    // Stable: for the same release and kind, the server LuaRocks lists first wins.
    candidates.sort_by(|a, b| rockspec::newer_first(&a.version, &b.version).then(a.preference().cmp(&b.preference())));
    let Some(best) = candidates.first() else {
        return Err(usage(format!(
            "no rocks server of the project has a release of {} that fits '{}' (asked for by {by}); check the name and constraint, or the servers (`luaenv rocks servers`); nothing was changed",
            dep.name, dep.text
        )));
    };
    let file = best.file(&dep.name);
    let (location, url) = server_location(ctx, &best.repo, &file);
    let mut places: Vec<Location> = mirror.map(|m| Location::in_mirror(m, &file)).into_iter().collect();
    places.push(location);
    let path = download(ctx, &places, &file, None, &format!("{} {}", dep.name, best.version))?;
    let sha256 = verify::sha256_file(&path)?;
    let text = rockspec_in(&path, &dep.name, &best.version)?;
    let dependencies = rockspec::dependencies(&text)
        .map_err(|why| anyhow::anyhow!("the rockspec inside {file} cannot be read ({why}); pin another release in the project's rockspec"))?
        .into_iter()
        .filter(|d| !d.is_lua())
        .map(|d| d.text)
        .collect();
    Ok(LockedRock { name: dep.name.clone(), version: best.version.clone(), file, url, sha256, dependencies })
}

/// Every release of `name` the project's servers hold.
fn search(sandbox: &Sandbox, name: &str) -> Result<Vec<Candidate>> {
    let out = sandbox.run(sandbox.luarocks().args(["search", "--porcelain", name]))?;
    if !out.status.success() {
        bail!("the project's rocks servers could not be searched for {name}: {}; check them with `luaenv rocks servers`", last_line(&out));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let found: Vec<Candidate> = text
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let (rock, version, arch, repo) = (fields.first()?, fields.get(1)?, fields.get(2)?, fields.get(3)?);
            // `search` matches substrings; a listed name or version never names a path.
            let plain = |s: &str| !s.is_empty() && !s.starts_with('.') && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b));
            (*rock == name && plain(version) && plain(arch)).then(|| Candidate { version: version.to_string(), arch: arch.to_string(), repo: repo.to_string() })
        })
        .collect();
    // A server LuaRocks could not read is a failure (exit 1), not a rock that does not exist.
    let warnings = String::from_utf8_lossy(&out.stderr);
    if let Some(warning) = warnings.lines().find(|l| l.contains("Failed searching manifest") || l.contains("Failed downloading")).filter(|_| found.is_empty()) {
        bail!("the project's rocks servers could not be searched for {name}: {}; check them with `luaenv rocks servers`", warning.trim());
    }
    Ok(found)
}

fn last_line(out: &std::process::Output) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
    // A LuaRocks that crashed (on a hostile manifest, say) ends with a traceback, whose last
    // line (`[C]: in ?`) says nothing: the error is the line before `stack traceback:`.
    let said = text.split("stack traceback:").next().unwrap_or_default();
    said.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("no output").to_string()
}

/// Where a server's file is fetched from, and what the lock records for it.
fn server_location(ctx: &Context, repo: &str, file: &str) -> (Location, String) {
    let url = lock_url(repo, file);
    if url != file {
        return (Location::Url(with_credentials(ctx, &url)), url);
    }
    let dir = match Location::parse(repo) {
        Location::Path(p) => p,
        Location::Url(_) => PathBuf::from(repo),
    };
    (Location::Path(dir.join(file)), url)
}

/// What the lock records for a server's file: its http(s) URL without credentials, or, for a
/// local or `file://` server, the file name alone (a lock names no path; a mirror serves it).
fn lock_url(repo: &str, file: &str) -> String {
    match url::Url::parse(repo) {
        Ok(mut u) if matches!(u.scheme(), "http" | "https") => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            format!("{}/{file}", u.as_str().trim_end_matches('/'))
        }
        _ => file.to_string(),
    }
}

/// A rocks server's URL with the credentials `luaenv rocks add-server --user` stored for its
/// host: fetch sends them as Basic auth and shows them nowhere.
fn with_credentials(ctx: &Context, url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else { return url.to_string() };
    let host = crate::credentials::host_of(&u);
    let Some(entry) = crate::credentials::load(ctx).into_iter().find(|e| Some(&e.host) == host.as_ref()) else { return url.to_string() };
    if u.set_username(&entry.login).is_err() || u.set_password(Some(&entry.password)).is_err() {
        return url.to_string();
    }
    u.to_string()
}

/// The rockspec of a downloaded rock: the file itself, or the one inside a `.rock` (a zip),
/// read with `unzip -p` (what LuaRocks itself unpacks rocks with), never extracted.
fn rockspec_in(path: &Path, name: &str, version: &str) -> Result<String> {
    if path.extension().is_some_and(|e| e == "rockspec") {
        return crate::fs::read_text_capped(path, crate::limits::MAX_TEXT);
    }
    let inner = format!("{name}-{version}.rockspec");
    let out = Command::new("unzip").arg("-p").arg(path).arg(&inner).output().context("cannot run unzip (LuaRocks needs it too); install it")?;
    if !out.status.success() || out.stdout.is_empty() || out.stdout.len() as u64 > crate::limits::MAX_TEXT {
        bail!("{} is not a rock holding {inner}; the server's file is damaged: pin another release", path.display());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Gets `file` from the first of `places` that has it, into the download cache; with
/// `expected`, its bytes must have that sum.
fn download(ctx: &Context, places: &[Location], file: &str, expected: Option<&str>, rock: &str) -> Result<PathBuf> {
    let mut last = None;
    for (i, place) in places.iter().enumerate() {
        let more = i + 1 < places.len();
        if let Location::Path(p) = place
            && !p.is_file()
            && more
        {
            continue;
        }
        let fetched = match fetch::fetch(ctx, place, file, &verify::Expected::FirstUse) {
            Ok(f) => f,
            Err(e) if more && e.downcast_ref::<fetch::NotFound>().is_some() => {
                last = Some(e);
                continue;
            }
            Err(e) => return Err(e.context(format!("cannot get rock {rock} ({file}); nothing was installed"))),
        };
        if let Some(sum) = expected
            && fetched.sha256 != sum
        {
            return Err(Error::ChecksumMismatch {
                location: fetched.location,
                detail: format!("rock {rock}: luaenv.lock pins sha256 {sum}, the file has {}", fetched.sha256),
                hint: format!("; if the rock was republished on purpose, take the new bytes with `luaenv sync --upgrade {}`", rock.split(' ').next().unwrap_or(rock)),
            }
            .into());
        }
        let cached = fetch::cached_path(ctx, &fetched.sha256, file);
        if fetched.path != cached {
            std::fs::create_dir_all(cached.parent().unwrap())?;
            crate::fs::copy(&fetched.path, &cached)?;
        }
        return Ok(cached);
    }
    Err(last.map_or_else(|| anyhow::anyhow!("no place to get rock {rock} ({file}) from"), |e| e.context(format!("cannot get rock {rock} ({file}); nothing was installed"))))
}

/// The verified file of a locked rock, from the download cache, else the mirror (by file
/// name), else its URL; bytes that differ from the lock are refused, naming both sums.
pub fn fetch_locked(ctx: &Context, rock: &LockedRock, mirror: Option<&str>) -> Result<PathBuf> {
    let cached = fetch::cached_path(ctx, &rock.sha256, &rock.file);
    if cached.is_file() && verify::sha256_file(&cached)? == rock.sha256 {
        return Ok(cached);
    }
    let mut places: Vec<Location> = mirror.map(|m| Location::in_mirror(m, &rock.file)).into_iter().collect();
    if rock.url.starts_with("http://") || rock.url.starts_with("https://") {
        places.push(Location::Url(with_credentials(ctx, &rock.url)));
    }
    if places.is_empty() {
        return Err(usage(format!(
            "luaenv.lock pins rock {} {} by file name only ({}, sha256 {}): it came from a local rocks server; put that file in a mirror folder and run `luaenv sync --mirror <folder>`",
            rock.name, rock.version, rock.file, rock.sha256
        )));
    }
    download(ctx, &places, &rock.file, Some(&rock.sha256), &format!("{} {}", rock.name, rock.version))
}

/// The locked rocks, each after the rocks it depends on.
pub fn dependency_order(rocks: &[LockedRock]) -> Vec<&LockedRock> {
    fn visit<'a>(rock: &'a LockedRock, all: &'a [LockedRock], seen: &mut BTreeSet<String>, out: &mut Vec<&'a LockedRock>) {
        if !seen.insert(rock.name.clone()) {
            return;
        }
        for dep in rock.dependencies.iter().filter_map(|d| Dependency::parse(d).ok()) {
            if let Some(next) = all.iter().find(|r| r.name == dep.name) {
                visit(next, all, seen, out);
            }
        }
        out.push(rock);
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for rock in rocks {
        visit(rock, rocks, &mut seen, &mut out);
    }
    out
}

/// What an install changed in `lua_modules`.
#[derive(Debug, Default)]
pub struct Changes {
    pub installed: Vec<String>,
    pub removed: Vec<String>,
}

/// The locked rocks not yet in `lua_modules` at their locked version.
pub fn missing<'a>(sandbox: &Sandbox, rocks: &'a [LockedRock]) -> Vec<&'a LockedRock> {
    let installed = sandbox.installed();
    dependency_order(rocks).into_iter().filter(|r| !installed.get(&r.name).is_some_and(|v| v.contains(&r.version))).collect()
}

/// Installs the verified files (dependencies first, no resolution), then removes from
/// `lua_modules` the rocks the lock held before (`previous`) or holds at another version but
/// no longer holds. Rocks installed by hand with `luarocks install`, and the project's own
/// (`luarocks make`), are left alone.
pub fn install(sandbox: &Sandbox, files: &[(&LockedRock, PathBuf)], locked: &[LockedRock], previous: &[LockedRock]) -> Result<Changes> {
    let mut changes = Changes::default();
    if !files.is_empty() && !sandbox.has_luarocks() {
        return Err(usage("luaenv.lock pins rocks, but the project's Lua has no LuaRocks; install one with `luaenv rocks install`, then run `luaenv sync` again"));
    }
    sandbox.clear_interrupted()?;
    for (rock, file) in files {
        let verb = if rock.file.ends_with(".rockspec") { "build" } else { "install" };
        let out = sandbox.run(sandbox.luarocks().arg(verb).arg(file).arg("--deps-mode=none"))?;
        if !out.status.success() {
            bail!("LuaRocks could not install rock {} {} from the verified {}: {}", rock.name, rock.version, rock.file, last_line(&out));
        }
        changes.installed.push(format!("{} {}", rock.name, rock.version));
    }
    for (name, versions) in sandbox.installed() {
        for version in versions {
            let managed = locked.iter().chain(previous).any(|r| r.name == name);
            if !managed || locked.iter().any(|r| r.name == name && r.version == version) {
                continue;
            }
            let out = sandbox.run(sandbox.luarocks().args(["remove", "--force-fast", &name, &version]))?;
            if !out.status.success() {
                bail!("LuaRocks could not remove rock {name} {version}, which luaenv.lock no longer holds: {}", last_line(&out));
            }
            changes.removed.push(format!("{name} {version}"));
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rock(name: &str, version: &str, deps: &[&str]) -> LockedRock {
        LockedRock {
            name: name.into(),
            version: version.into(),
            file: format!("{name}-{version}.src.rock"),
            url: format!("{name}-{version}.src.rock"),
            sha256: "0".repeat(64),
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn a_lock_names_no_local_path_nor_credentials() {
        let file = "purehello-1.0-1.src.rock";
        assert_eq!(lock_url("http://alice:s3cret@127.0.0.1:99/rocks/", file), "http://127.0.0.1:99/rocks/purehello-1.0-1.src.rock");
        for local in ["/srv/rocks", "file:///srv/rocks", "./rocks"] {
            assert_eq!(lock_url(local, file), file);
        }
        assert!(crate::project::lockfile::is_pinnable_location(&lock_url("/srv/rocks", file)));
    }

    #[test]
    fn a_lock_that_meets_the_rockspec_needs_no_resolution() {
        let locked = [rock("a", "1.0-1", &["b >= 2"]), rock("b", "2.1-1", &[]), rock("stale", "1.0-1", &[])];
        let wanted = [Dependency::parse("lua >= 5.1").unwrap(), Dependency::parse("a ~> 1.0").unwrap()];
        let names: Vec<String> = locked_closure(&wanted, &locked).unwrap().into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["a", "b"], "the stale entry is dropped");
        assert!(locked_closure(&[Dependency::parse("a >= 2").unwrap()], &locked).is_none());
        assert!(locked_closure(&[Dependency::parse("c").unwrap()], &locked).is_none());
        let order: Vec<&str> = dependency_order(&locked).into_iter().map(|r| r.name.as_str()).collect();
        assert_eq!(order, ["b", "a", "stale"]);
    }
}
