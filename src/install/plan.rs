//! The plan of an install, made by pure functions before anything is fetched or built: which
//! release a spec means, the install name, and which LuaRocks goes with it.

use anyhow::Result;

use crate::error::usage;
use crate::install::resolve::Resolved;
use crate::rocks::{self, luarocks::Wanted};
use crate::version::Version;

#[derive(Debug, Clone)]
pub struct Plan {
    pub resolved: Resolved,
    /// The folder under `versions/`: the release's name, plus the target for a cross build.
    pub name: String,
    /// The Lua series it speaks (`5.4`; `5.1` for LuaJIT).
    pub series: String,
    pub rocks: Option<Wanted>,
}

/// What an install asks for, as the plan needs it.
pub struct Asked<'a> {
    pub target: &'a str,
    pub host: &'a str,
    /// `None`: no LuaRocks; `Some(None)`: the default one; `Some(Some(v))`: `--rocks v`.
    pub rocks: Option<Option<&'a str>>,
    pub rocks_from: Option<&'a str>,
    pub rocks_sha256: Option<&'a str>,
}

pub fn make(resolved: Resolved, asked: &Asked) -> Result<Plan> {
    let series = resolved.lua_series();
    let name = install_name(&resolved.install_name, asked.target, asked.host);
    let rocks = rocks_wanted(asked.rocks, asked.rocks_from, asked.rocks_sha256, &series)?;
    Ok(Plan { resolved, name, series, rocks })
}

/// `5.4.7`, or `5.4.7-aarch64-unknown-linux-gnu` for a cross build.
pub fn install_name(release_name: &str, target: &str, host: &str) -> String {
    if target == host { release_name.to_string() } else { format!("{release_name}-{target}") }
}

/// The LuaRocks to install. A version that cannot run on the Lua is refused here, before
/// anything is fetched; a tarball's own version is checked once it is read (`check_rocks_found`).
pub fn rocks_wanted(requested: Option<Option<&str>>, from: Option<&str>, sha256: Option<&str>, series: &str) -> Result<Option<Wanted>> {
    let Some(requested) = requested else { return Ok(None) };
    let Some(location) = from else { return Ok(Some(Wanted::Release(rocks::luarocks::choose(requested, series)?))) };
    if location.is_empty() {
        return Err(usage("--rocks-from needs a LuaRocks source tarball (a path or URL)"));
    }
    let asked = requested.map(rocks::luarocks::parse_version).transpose()?;
    if let Some(v) = asked.as_ref().filter(|v| !rocks::luarocks::supports(v, series)) {
        return Err(rocks::luarocks::unsupported(&format!("LuaRocks {v}"), series));
    }
    Ok(Some(Wanted::Tarball { location: location.to_string(), asked, sha256: sha256.map(String::from) }))
}

/// The LuaRocks version a source tree holds: `program_version` in `src/luarocks/core/cfg.lua`
/// (what LuaRocks itself reports), else the top folder's `luarocks-X.Y.Z`.
pub fn rocks_version_in(cfg_lua: Option<&str>, top_folder: Option<&str>) -> Option<Version> {
    let from_cfg = cfg_lua.and_then(|text| {
        text.lines().find_map(|line| {
            let line = line.trim();
            let rest = line.strip_prefix("local ").unwrap_or(line).trim_start().strip_prefix("program_version")?.trim_start().strip_prefix('=')?.trim();
            let quoted = rest.strip_prefix('"')?.split('"').next()?;
            Version::parse(quoted)
        })
    });
    from_cfg.or_else(|| top_folder?.strip_prefix("luarocks-").and_then(Version::parse))
}

/// A tarball must hold the version asked for, and one that runs on the Lua.
pub fn check_rocks_found(found: &Version, asked: Option<&Version>, series: &str, origin: &str) -> Result<()> {
    if let Some(asked) = asked.filter(|a| *a != found) {
        return Err(usage(format!("{origin} holds LuaRocks {found}, not {asked}; nothing was changed: drop the version or pass the right tarball")));
    }
    if !rocks::luarocks::supports(found, series) {
        return Err(rocks::luarocks::unsupported(&format!("{origin} holds LuaRocks {found}, which"), series));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit_code;

    #[test]
    fn names_a_cross_build_by_its_target() {
        assert_eq!(install_name("5.4.7", "x86_64-unknown-linux-gnu", "x86_64-unknown-linux-gnu"), "5.4.7");
        assert_eq!(install_name("5.4.7", "aarch64-unknown-linux-gnu", "x86_64-unknown-linux-gnu"), "5.4.7-aarch64-unknown-linux-gnu");
    }

    #[test]
    fn plans_the_default_luarocks_for_each_lua() {
        let resolved = crate::install::resolve::resolve("5.5").unwrap();
        let asked = Asked { target: "t", host: "t", rocks: Some(None), rocks_from: None, rocks_sha256: None };
        let plan = make(resolved, &asked).unwrap();
        assert_eq!((plan.name.as_str(), plan.series.as_str()), ("5.5.1", "5.5"));
        assert_eq!(plan.rocks, Some(Wanted::Release(Version::parse("3.13.0").unwrap())));
        assert_eq!(rocks_wanted(None, None, None, "5.4").unwrap(), None);
        assert_eq!(rocks_wanted(Some(Some("3.8.0")), None, None, "5.1").unwrap(), Some(Wanted::Release(Version::parse("3.8.0").unwrap())));
    }

    #[test]
    fn refuses_a_luarocks_that_cannot_run_on_the_lua() {
        for (asked, from) in [(Some("3.12.2"), None), (Some("3.8.0"), Some("/x/luarocks-3.8.0.tar.gz"))] {
            let err = rocks_wanted(Some(asked), from, None, "5.5").unwrap_err();
            assert_eq!(exit_code(&err), 2);
            assert!(err.to_string().contains("needs LuaRocks 3.13.0 or newer"), "{err}");
        }
        assert_eq!(exit_code(&rocks_wanted(Some(Some("3.x")), Some("/x.tar.gz"), None, "5.4").unwrap_err()), 2);
        let found = Version::parse("3.8.0").unwrap();
        assert_eq!(exit_code(&check_rocks_found(&found, None, "5.5", "t.tar.gz").unwrap_err()), 2);
        assert_eq!(exit_code(&check_rocks_found(&found, Some(&Version::parse("3.9.0").unwrap()), "5.4", "t.tar.gz").unwrap_err()), 2);
        check_rocks_found(&found, Some(&found), "5.4", "t.tar.gz").unwrap();
    }

    #[test]
    fn a_tarball_without_a_version_reads_it_from_the_tarball() {
        let wanted = rocks_wanted(Some(None), Some("/x/any-name.tgz"), None, "5.5").unwrap();
        assert_eq!(wanted, Some(Wanted::Tarball { location: "/x/any-name.tgz".into(), asked: None, sha256: None }));
        let cfg = "local cfg = {}\nlocal program_version = \"3.13.0\"\ncfg.program_version = program_version\n";
        assert_eq!(rocks_version_in(Some("   program_version = \"3.13.0\"\n"), Some("luarocks-9.9.9")), Version::parse("3.13.0"));
        assert_eq!(rocks_version_in(Some(cfg), Some("luarocks-3.8.0")), Version::parse("3.13.0"));
        assert_eq!(rocks_version_in(Some("nothing here"), Some("luarocks-3.8.0")), Version::parse("3.8.0"));
        assert_eq!(rocks_version_in(None, Some("src")), None);
    }
}
