use anyhow::Result;

use crate::install::build::{BuildOptions, Compat};
use crate::catalog::{self, Kind};
use crate::context::Context;
use crate::error::usage;
use crate::install::{self, How, Request};
use crate::prefix::Receipt;

#[derive(clap::Args)]
pub struct Args {
    /// Versions to install: 5.4.7, 5.4, 5, latest (with --list: a series or kind to list, like 5.4 or luajit)
    #[arg(required_unless_present = "list", add = clap_complete::engine::ArgValueCandidates::new(super::completions::releases))]
    specs: Vec<String>,
    /// List the releases luaenv knows (Lua, LuaJIT, OpenResty), newest first; filter by series or kind: --list 5.4, --list luajit
    #[arg(long)]
    list: bool,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
    /// A mirror: a folder, file:// URL or HTTP(S) URL holding the source tarballs (default: $LUAENV_MIRROR, then `luaenv mirror set`)
    #[arg(long, value_name = "URL|DIR")]
    mirror: Option<String>,
    /// Build from this tarball, source folder or URL instead
    #[arg(long, value_name = "FILE|URL")]
    from: Option<String>,
    /// The SHA-256 the source must have
    #[arg(long, value_name = "HEX")]
    sha256: Option<String>,
    /// The LuaRocks version to install with it
    #[arg(long, value_name = "VERSION")]
    rocks: Option<String>,
    /// Install LuaRocks from this tarball (its version is read from it; --rocks, if given, must match)
    #[arg(long, value_name = "FILE|URL")]
    rocks_from: Option<String>,
    /// Do not install LuaRocks
    #[arg(long, conflicts_with_all = ["rocks", "rocks_from"])]
    no_rocks: bool,
    /// Cross-compile for this target triple
    #[arg(long, value_name = "TRIPLE")]
    target: Option<String>,
    /// Link the programs fully statically
    #[arg(long = "static")]
    static_link: bool,
    /// Compatibility defines
    #[arg(long, value_enum, default_value_t = Compat::Default)]
    compat: Compat,
    /// Build with readline line editing (needs its headers)
    #[arg(long)]
    readline: bool,
    /// Parallel compile jobs (default: all cores)
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Reinstall even when already installed
    #[arg(long)]
    force: bool,
    /// Pull a signed build from this cache when it has one (repeatable; also $LUAENV_BUILD_CACHE, `luaenv cache add`)
    #[arg(long = "build-cache", value_name = "CACHE")]
    build_cache: Vec<String>,
    /// Contact nothing but the mirror (and read local files and the caches); also LUAENV_OFFLINE=1
    #[arg(long)]
    offline: bool,
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        if self.list {
            return list(&self.specs, self.json);
        }
        if self.from.is_some() && self.specs.len() > 1 {
            return Err(usage("--from names one source: install one version at a time with it"));
        }
        // Checked before LuaRocks or anything else is fetched, and for a version already there
        // too: a typo in a path or a sum is the request's fault.
        local_file_exists("--from", self.from.as_deref(), "a Lua source tarball or of an unpacked source folder")?;
        local_file_exists("--rocks-from", self.rocks_from.as_deref(), "a LuaRocks source tarball")?;
        if let Some(given) = &self.sha256 {
            crate::install::verify::check_sha256_arg(given)?;
        }
        let target = self.target.as_deref().map(check_target).transpose()?;
        if let (true, Some(target)) = (self.static_link, &target) {
            crate::install::build::check_static_target(target)?;
        }
        if self.jobs == Some(0) {
            return Err(usage("--jobs must be at least 1"));
        }
        let mirror = crate::commands::network(ctx, self.mirror.clone(), self.offline);
        let jobs = self.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
        let options = BuildOptions {
            compat: self.compat,
            readline: self.readline,
            static_link: self.static_link,
            target: target.unwrap_or_else(crate::install::build::host_triple),
            jobs,
        };
        let caches = crate::install::pull::caches(ctx, &self.build_cache);
        let mut receipts = Vec::new();
        for spec in &self.specs {
            let rocks = (!self.no_rocks).then(|| self.rocks.clone());
            let request = Request {
                spec: spec.clone(),
                mirror: mirror.clone(),
                from: self.from.clone(),
                sha256: self.sha256.clone(),
                options: options.clone(),
                force: self.force,
                rocks,
                rocks_from: self.rocks_from.clone(),
                rocks_sha256: None,
            };
            let outcome = install::install_from(ctx, &request, &caches)?;
            if outcome.how == How::AlreadyInstalled {
                if let Some(receipt) = Receipt::read(&outcome.prefix) {
                    check_same_options(&outcome.name, &receipt, &options)?;
                    check_same_source(&outcome.name, &receipt, self.from.as_deref())?;
                    check_same_luarocks(&outcome.name, &receipt, self.rocks.as_deref(), self.rocks_from.as_deref())?;
                }
                crate::install::progress::note(&format!("{} is already installed (use --force to reinstall)", outcome.name));
            }
            if self.json {
                receipts.push(json_row(spec, &outcome));
            } else {
                println!("{}", outcome.prefix.display());
            }
        }
        if self.json {
            println!("{}", serde_json::to_string_pretty(&receipts)?);
        }
        Ok(())
    }
}

/// One installed spec for `install --json`: what was asked, where it is, how it got there
/// (`built`, `restored` from the build cache, `already-installed`), then the receipt's fields.
fn json_row(spec: &str, outcome: &install::Outcome) -> serde_json::Value {
    let how = match outcome.how {
        How::Built => "built",
        How::FromBuildCache => "restored",
        How::Pulled => "pulled",
        How::AlreadyInstalled => "already-installed",
    };
    let mut row = serde_json::json!({ "spec": spec, "name": outcome.name, "prefix": outcome.prefix, "how": how });
    if let Some(serde_json::Value::Object(fields)) = Receipt::read(&outcome.prefix).and_then(|r| serde_json::to_value(r).ok()) {
        let row = row.as_object_mut().unwrap();
        for (key, value) in fields {
            row.entry(key).or_insert(value);
        }
    }
    row
}

/// A local path given with `flag` (not a URL) must be there.
fn local_file_exists(flag: &str, given: Option<&str>, what: &str) -> Result<()> {
    match given.filter(|f| !f.contains("://") && !f.is_empty()) {
        Some(path) if std::fs::symlink_metadata(path).is_err() => {
            Err(usage(format!("{flag} {path} does not exist: give the path of {what}; nothing was installed")))
        }
        _ => Ok(()),
    }
}

/// An install that is already there answers a request for other build options (`--static`,
/// `--compat`, `--readline`) with an error, not with the old build: `--force` rebuilds it.
fn check_same_options(name: &str, receipt: &Receipt, asked: &BuildOptions) -> Result<()> {
    let (installed, asked) = (&receipt.flags, serde_json::to_value(asked)?);
    let (Some(installed), Some(asked)) = (installed.as_object(), asked.as_object()) else { return Ok(()) };
    let differ: Vec<String> = asked
        .iter()
        .filter(|(key, value)| installed.get(*key).is_some_and(|was| was != *value))
        .map(|(key, value)| format!("{key} {value} asked, {} installed", installed[key]))
        .collect();
    if differ.is_empty() {
        return Ok(());
    }
    Err(usage(format!(
        "{name} is already installed with other build options ({}); add --force to rebuild it with the options asked for",
        differ.join("; ")
    )))
}

/// `--from <tarball>` for an installed version: the same bytes say it is installed; others
/// are refused, as other options are (a folder is not compared).
fn check_same_source(name: &str, receipt: &Receipt, from: Option<&str>) -> Result<()> {
    let Some(from) = from.map(std::path::Path::new).filter(|f| f.is_file()) else { return Ok(()) };
    let Some(installed) = &receipt.source.sha256 else { return Ok(()) };
    let given = crate::install::verify::sha256_file(from)?;
    if given == *installed {
        return Ok(());
    }
    Err(usage(format!(
        "{name} is already installed from another source (sha256 {installed}, not {given} as {} is); add --force to rebuild it from that file",
        from.display()
    )))
}

/// `--rocks <version>` or `--rocks-from <tarball>` for an installed version: the LuaRocks it
/// has already says it is installed; another is refused rather than answered with the old
/// one (`luaenv rocks install` puts another LuaRocks in, without rebuilding Lua).
fn check_same_luarocks(name: &str, receipt: &Receipt, version: Option<&str>, from: Option<&str>) -> Result<()> {
    let installed = receipt.luarocks.as_ref();
    let has = match installed {
        Some(rocks) => format!("LuaRocks {}", rocks.version.as_deref().unwrap_or("(unknown version)")),
        None => "no LuaRocks".to_string(),
    };
    let refuse = |asked: String, fix: String| Err(usage(format!("{name} is already installed with {has}, not {asked}; run `{fix}` to put that one in (or add --force to rebuild everything)")));
    if let Some(file) = from.map(std::path::Path::new).filter(|f| f.is_file()) {
        let given = crate::install::verify::sha256_file(file)?;
        if installed.and_then(|r| r.sha256.as_deref()) != Some(given.as_str()) {
            let lua_version = format!("LUAENV_VERSION={name} luaenv rocks install --from '{}'", file.display());
            return refuse(format!("the LuaRocks of {} (sha256 {given})", file.display()), lua_version);
        }
    } else if let Some(asked) = version
        && installed.and_then(|r| r.version.as_deref()) != Some(asked)
    {
        return refuse(format!("LuaRocks {asked}"), format!("LUAENV_VERSION={name} luaenv rocks install {asked}"));
    }
    Ok(())
}

/// The triple luaenv builds for, from `--target`: one target-lexicon knows, written the way it
/// writes it back (`x-y-z` and `x86_64-unknown-linux-gnu..` are requests luaenv cannot act on,
/// exit 2, not build failures), for a system luaenv can build Lua for: Linux (glibc or musl)
/// or Windows (mingw-w64). Other names of the same target become luaenv's, so one target
/// always makes one install name: `x86_64-w64-mingw32` is `x86_64-pc-windows-gnu`, and
/// `x86_64-pc-linux-gnu` is `x86_64-unknown-linux-gnu`.
fn check_target(target: &str) -> Result<String> {
    use target_lexicon::{Architecture, Environment, OperatingSystem, Vendor};
    let normal = match target.split_once("-w64-mingw32") {
        Some((arch, "")) => format!("{arch}-pc-windows-gnu"),
        // Debian's spelling (`aarch64-linux-gnu`, the prefix of its cross compilers).
        _ => match target.split_once("-linux-") {
            Some((arch, env)) if !arch.contains('-') => format!("{arch}-unknown-linux-{env}"),
            _ => target.replacen("-pc-linux-", "-unknown-linux-", 1),
        },
    };
    let known = normal.parse::<target_lexicon::Triple>().ok().filter(|t| t.to_string() == normal && t.architecture != Architecture::Unknown);
    let Some(triple) = known else {
        return Err(usage(format!("--target '{target}' is not a target triple luaenv knows: expected something like aarch64-unknown-linux-gnu or x86_64-pc-windows-gnu")));
    };
    let linux = triple.operating_system == OperatingSystem::Linux
        && matches!(triple.environment, Environment::Gnu | Environment::Gnux32 | Environment::Gnueabi | Environment::Gnueabihf | Environment::Musl | Environment::Musleabi | Environment::Musleabihf);
    let windows = triple.operating_system == OperatingSystem::Windows && triple.environment == Environment::Gnu && triple.vendor == Vendor::Pc;
    if !linux && !windows {
        return Err(usage(format!(
            "--target {target}: luaenv cannot build Lua for that system; it builds for Linux (…-unknown-linux-gnu, …-unknown-linux-musl) and for Windows with mingw-w64 (…-pc-windows-gnu)"
        )));
    }
    Ok(normal)
}

/// One release `install --list` shows.
struct Listed {
    name: String,
    kind: &'static str,
    url: String,
    sha256: Option<String>,
}

/// Every release luaenv knows, Lua first, newest first within each kind.
fn known_releases() -> Vec<Listed> {
    let mut rows = Vec::new();
    for r in catalog::of_kind(Kind::Lua) {
        rows.push(Listed { name: r.version.to_string(), kind: "lua", url: r.url, sha256: Some(r.sha256) });
    }
    for branch in ["2.1", "2.0"] {
        let url = format!("https://github.com/LuaJIT/LuaJIT/archive/refs/heads/v{branch}.tar.gz");
        rows.push(Listed { name: format!("luajit-{branch}"), kind: "luajit", url, sha256: None });
    }
    for r in catalog::of_kind(Kind::Luajit) {
        rows.push(Listed { name: format!("luajit-{}", r.version), kind: "luajit", url: r.url, sha256: Some(r.sha256) });
    }
    // OpenResty tags every release by date; the one luaenv is tested with stands for them all.
    let openresty = install::resolve::resolve(OPENRESTY_EXAMPLE).expect("a valid OpenResty name");
    rows.push(Listed { name: OPENRESTY_EXAMPLE.into(), kind: "openresty", url: openresty.upstream_url, sha256: openresty.official_sha256 });
    rows
}

/// Every release name `install --list` shows (for completion).
pub fn release_names() -> Vec<String> {
    known_releases().into_iter().map(|r| r.name).collect()
}

const OPENRESTY_EXAMPLE: &str = "openresty-2.1-20251030";

/// Which rows a filter keeps: a kind (`lua`, `luajit`, `openresty`), a Lua series (`5.4`,
/// `5`, `v5.4`), or the start of a LuaJIT/OpenResty name (`luajit-2.1`).
fn keeps(filter: &str, row: &Listed) -> Result<bool> {
    let filter = filter.trim();
    if matches!(filter, "lua" | "luajit" | "openresty") {
        return Ok(row.kind == filter);
    }
    if filter.starts_with("luajit-") || filter.starts_with("openresty-") {
        return Ok(row.name.starts_with(filter));
    }
    let plain = crate::version::plain_lua_spec(filter).unwrap_or(filter);
    match crate::version::Version::parse(plain).filter(|v| v.pre.is_none() && (1..=3).contains(&v.parts.len())) {
        Some(series) => Ok(row.kind == "lua" && crate::version::Version::parse(&row.name).is_some_and(|v| v.starts_with(&series.parts))),
        None => Err(usage(format!(
            "'{}' is not a series or kind to list: expected a Lua series like 5.4, or lua, luajit or openresty",
            filter.escape_debug()
        ))),
    }
}

fn list(filters: &[String], json: bool) -> Result<()> {
    if filters.len() > 1 {
        return Err(usage("--list takes one series or kind (like 5.4 or luajit); run `luaenv install --list` for all"));
    }
    let mut rows = Vec::new();
    for row in known_releases() {
        if filters.first().map(|f| keeps(f, &row)).transpose()?.unwrap_or(true) {
            rows.push(row);
        }
    }
    if let (true, Some(filter)) = (rows.is_empty(), filters.first()) {
        return Err(usage(format!("luaenv knows no release of {filter}; run `luaenv install --list` for all it knows")));
    }
    if json {
        let list: Vec<_> = rows
            .iter()
            .map(|r| serde_json::json!({ "name": r.name, "kind": r.kind, "url": r.url, "sha256": r.sha256 }))
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for row in rows {
            println!("{}", row.name);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_target;

    #[test]
    fn target_triples_are_checked_as_triples() {
        for good in ["aarch64-unknown-linux-gnu", "x86_64-unknown-linux-musl", "x86_64-pc-windows-gnu", "x86_64-unknown-linux-gnu", "armv7-unknown-linux-gnueabihf"] {
            assert_eq!(check_target(good).unwrap(), good);
        }
        assert_eq!(check_target("x86_64-w64-mingw32").unwrap(), "x86_64-pc-windows-gnu");
        assert_eq!(check_target("i686-w64-mingw32").unwrap(), "i686-pc-windows-gnu");
        assert_eq!(check_target("x86_64-pc-linux-gnu").unwrap(), "x86_64-unknown-linux-gnu");
        assert_eq!(check_target("aarch64-linux-gnu").unwrap(), "aarch64-unknown-linux-gnu");
        for bad in ["x-y-z", "x86_64-unknown-linux-gnu..", "nonsense", "aarch64", ""] {
            assert_eq!(crate::error::exit_code(&check_target(bad).unwrap_err()), 2, "{bad}");
        }
        // Systems luaenv does not build Lua for are refused before anything is compiled.
        for other in ["x86_64-unknown-freebsd", "aarch64-apple-darwin", "x86_64-pc-windows-msvc", "wasm32-unknown-unknown"] {
            let err = check_target(other).unwrap_err();
            assert_eq!(crate::error::exit_code(&err), 2, "{other}");
            assert!(err.to_string().contains("cannot build Lua for that system"), "{other}: {err}");
        }
    }
}
