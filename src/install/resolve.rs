//! Resolve: a user's spec (`5.4`, `latest`, `luajit-2.1`) to one concrete release.

use std::collections::BTreeSet;

use anyhow::Result;

use crate::catalog::{self, Kind};
use crate::error::usage;
use crate::version::Version;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Lua,
    LuaJit,
    OpenResty,
}

#[derive(Debug, Clone)]
pub struct Resolved {
    /// The folder under `versions/` (without a cross target suffix).
    pub install_name: String,
    pub flavor: Flavor,
    pub version: Version,
    pub file_name: String,
    pub upstream_url: String,
    /// From the built-in table; a file with this name must match it.
    pub official_sha256: Option<String>,
    /// A moving source (a branch): trust on first use is allowed.
    pub rolling: bool,
}

const SPEC_HELP: &str = "expected a Lua version like 5.4.7 or 5.4, `latest`, luajit-2.1.0-beta3, luajit-2.1 or openresty-2.1-20251030";

pub fn resolve(spec: &str) -> Result<Resolved> {
    let spec = spec.trim();
    // `5.4.7-x86_64-pc-windows-gnu` is the name a cross build is installed as, not a spec.
    for (i, _) in spec.match_indices('-') {
        let (base, target) = (&spec[..i], &spec[i + 1..]);
        if (target.contains("-linux-") || target.contains("-windows-") || target.ends_with("-w64-mingw32")) && resolve(base).is_ok() {
            return Err(usage(format!("'{spec}' is the name of {base} built for {target}: install it with `luaenv install {base} --target {target}`")));
        }
    }
    // `v5.4.7`, `lua-5.4.7`: the same release as `5.4.7` (the install command says so).
    if let Some(plain) = crate::version::plain_lua_spec(spec) {
        return resolve(plain);
    }
    if let Some(family) = bare_family(spec) {
        return Err(usage(family));
    }
    if spec == "latest" {
        return Ok(lua_release(&catalog::of_kind(Kind::Lua)[0]));
    }
    if let Some(tag) = spec.strip_prefix("luajit-") {
        return resolve_luajit(spec, tag);
    }
    if let Some(date) = spec.strip_prefix("openresty-2.1-") {
        if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) {
            let file_name = format!("luajit2-2.1-{date}.tar.gz");
            return Ok(Resolved {
                install_name: spec.to_string(),
                flavor: Flavor::OpenResty,
                version: Version::parse("2.1").unwrap(),
                official_sha256: catalog::official_sum(&file_name),
                upstream_url: format!("https://github.com/openresty/luajit2/archive/refs/tags/v2.1-{date}.tar.gz"),
                file_name,
                rolling: false,
            });
        }
        return Err(usage(format!("malformed version spec '{spec}': {SPEC_HELP}")));
    }
    let wanted = parse_lua_spec(spec)?;
    let known = catalog::of_kind(Kind::Lua);
    known
        .iter()
        .find(|r| r.version.starts_with(&wanted.parts) && (wanted.parts.len() < 3 || r.version.parts.len() == wanted.parts.len()))
        .map(lua_release)
        .ok_or_else(|| usage(unknown_message("Lua", spec, &wanted, &known)))
}

impl Resolved {
    /// The Lua language series it speaks: LuaJIT is Lua 5.1 (module paths, LuaRocks).
    pub fn lua_series(&self) -> String {
        match self.flavor {
            Flavor::Lua => self.version.series(),
            Flavor::LuaJit | Flavor::OpenResty => "5.1".into(),
        }
    }

    /// The interpreter's name in `bin/`.
    pub fn interpreter(&self) -> &'static str {
        match self.flavor {
            Flavor::Lua => "lua",
            Flavor::LuaJit | Flavor::OpenResty => "luajit",
        }
    }
}

/// A series spec (`5.4`, `5`, `latest`, also `v5.4`) against what a mirror holds: the newest
/// release of that series the mirror has. `Ok(None)` when the spec is not a Lua series or the
/// mirror lists no Lua release at all (then its list says nothing about Lua); an error naming
/// the Lua releases it does list when none of them is of that series.
/// `list` is asked only for a series: an exact version costs the mirror no extra request.
pub fn newest_held(spec: &str, mirror_shown: &str, list: impl FnOnce() -> Option<BTreeSet<String>>) -> Result<Option<Resolved>> {
    let spec = spec.trim();
    let plain = crate::version::plain_lua_spec(spec).unwrap_or(spec);
    let wanted = if plain == "latest" { Some(vec![]) } else { Version::parse(plain).filter(|v| v.pre.is_none() && (1..3).contains(&v.parts.len())).map(|v| v.parts) };
    let Some(wanted) = wanted else { return Ok(None) };
    let Some(holds) = list() else { return Ok(None) };
    let held: Vec<catalog::Release> = catalog::of_kind(Kind::Lua).into_iter().filter(|r| holds.contains(&r.file_name())).collect();
    if held.is_empty() {
        return Ok(None);
    }
    match held.iter().find(|r| r.version.starts_with(&wanted)) {
        Some(r) => Ok(Some(lua_release(r))),
        None => {
            let names: Vec<String> = held.iter().map(|r| r.version.to_string()).collect();
            anyhow::bail!(
                "the mirror {mirror_shown} has no Lua {plain} release (it lists Lua {}); ask for one of those, or add the release's tarball to the mirror",
                names.join(", ")
            )
        }
    }
}

/// `luajit` or `openresty` alone names no release: the message lists the names that do.
fn bare_family(spec: &str) -> Option<String> {
    let names = |kind: &str| -> Vec<String> {
        match kind {
            "luajit" => ["luajit-2.1 (the rolling v2.1 branch)".to_string(), "luajit-2.0 (the v2.0 branch)".to_string()]
                .into_iter()
                .chain(catalog::of_kind(Kind::Luajit).iter().map(|r| format!("luajit-{}", r.version)))
                .collect(),
            _ => vec!["openresty-2.1-<date> (a tag of openresty/luajit2, e.g. openresty-2.1-20251030)".to_string()],
        }
    };
    match spec.to_ascii_lowercase().as_str() {
        "luajit" | "luajit-" => Some(format!(
            "'{spec}' names no release: LuaJIT is installed by one of {}, or OpenResty's as {}; run `luaenv install luajit-2.1`",
            names("luajit").join(", "),
            names("openresty").join(", ")
        )),
        "openresty" | "openresty-" | "openresty-2.1" => Some(format!(
            "'{spec}' names no release: OpenResty's LuaJIT is installed as {}; run `luaenv install openresty-2.1-20251030`",
            names("openresty").join(", ")
        )),
        _ => None,
    }
}

/// Checks the shape of a PUC Lua spec: 1 to 3 dot-separated numbers starting with 5.
pub fn parse_lua_spec(spec: &str) -> Result<Version> {
    match Version::parse(spec) {
        Some(v) if v.pre.is_none() && (1..=3).contains(&v.parts.len()) => Ok(v),
        _ => Err(usage(format!("malformed version spec '{spec}': {SPEC_HELP}"))),
    }
}

fn lua_release(r: &catalog::Release) -> Resolved {
    Resolved {
        install_name: r.version.to_string(),
        flavor: Flavor::Lua,
        version: r.version.clone(),
        file_name: r.file_name(),
        upstream_url: r.url.clone(),
        official_sha256: Some(r.sha256.clone()),
        rolling: false,
    }
}

fn resolve_luajit(spec: &str, tag: &str) -> Result<Resolved> {
    // The rolling branches: v2.1, and v2.0 (still maintained; no release since 2.0.5).
    if tag == "2.1" || tag == "2.0" {
        return Ok(Resolved {
            install_name: spec.to_string(),
            flavor: Flavor::LuaJit,
            version: Version::parse(tag).unwrap(),
            file_name: format!("LuaJIT-{tag}.tar.gz"),
            upstream_url: format!("https://github.com/LuaJIT/LuaJIT/archive/refs/heads/v{tag}.tar.gz"),
            official_sha256: None,
            rolling: true,
        });
    }
    let wanted = Version::parse(tag).ok_or_else(|| usage(format!("malformed version spec '{spec}': {SPEC_HELP}")))?;
    let known = catalog::of_kind(Kind::Luajit);
    let found = known.iter().find(|r| r.version == wanted);
    let r = found.ok_or_else(|| usage(unknown_message("LuaJIT", spec, &wanted, &known)))?;
    Ok(Resolved {
        install_name: format!("luajit-{}", r.version),
        flavor: Flavor::LuaJit,
        version: r.version.clone(),
        file_name: r.file_name(),
        upstream_url: r.url.clone(),
        official_sha256: Some(r.sha256.clone()),
        rolling: false,
    })
}

/// "unknown Lua version 5.4.99; nearest known: 5.4.9, 5.4.8, 5.4.7 (`luaenv install --list` shows all)".
fn unknown_message(what: &str, spec: &str, wanted: &Version, known: &[catalog::Release]) -> String {
    // Nearest: the known versions sharing the longest leading part, newest first.
    let shared = |v: &Version| v.parts.iter().zip(&wanted.parts).take_while(|(a, b)| a == b).count();
    let best = known.iter().map(|r| shared(&r.version)).max().unwrap_or(0);
    let mut near: Vec<&Version> = known.iter().map(|r| &r.version).filter(|v| shared(v) == best).collect();
    // Among equals: the ones just below what was asked (newest first), then those just above.
    near.sort_by(|a, b| {
        let (above_a, above_b) = (*a > wanted, *b > wanted);
        above_a.cmp(&above_b).then_with(|| if above_a { a.cmp(b) } else { b.cmp(a) })
    });
    let names: Vec<String> = near.iter().take(3).map(|v| v.to_string()).collect();
    format!("unknown {what} version '{spec}'; nearest known: {} (`luaenv install --list` shows all)", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit_code;

    #[test]
    fn a_cross_install_name_given_as_a_spec_says_how_to_install_it() {
        for (name, base, target) in [("5.4.7-x86_64-pc-windows-gnu", "5.4.7", "x86_64-pc-windows-gnu"), ("luajit-2.1-aarch64-unknown-linux-gnu", "luajit-2.1", "aarch64-unknown-linux-gnu")] {
            let err = resolve(name).unwrap_err();
            assert_eq!(exit_code(&err), 2);
            assert!(err.to_string().contains(&format!("`luaenv install {base} --target {target}`")), "{err}");
        }
    }

    #[test]
    fn resolves_series_and_latest() {
        assert_eq!(resolve("5.4").unwrap().install_name, "5.4.9");
        assert_eq!(resolve("5.4.7").unwrap().install_name, "5.4.7");
        assert_eq!(resolve("5.1").unwrap().install_name, "5.1.5");
        assert_eq!(resolve("5").unwrap().install_name, "5.5.1");
        assert_eq!(resolve("latest").unwrap().install_name, "5.5.1");
        assert_eq!(resolve("luajit-2.1.0-beta3").unwrap().file_name, "LuaJIT-2.1.0-beta3.tar.gz");
        assert!(resolve("luajit-2.1").unwrap().rolling);
        let branch = resolve("luajit-2.0").unwrap();
        assert!(branch.rolling && branch.file_name == "LuaJIT-2.0.tar.gz" && branch.install_name == "luajit-2.0");
        assert_eq!(resolve("openresty-2.1-20251030").unwrap().file_name, "luajit2-2.1-20251030.tar.gz");
    }

    #[test]
    fn tag_spellings_resolve_and_a_bare_family_lists_its_names() {
        for typed in ["v5.4.7", "lua-5.4.7", "Lua-5.4.7"] {
            assert_eq!(resolve(typed).unwrap().install_name, "5.4.7", "{typed}");
        }
        assert_eq!(resolve("v5.4").unwrap().install_name, "5.4.9");
        let err = resolve("luajit").unwrap_err();
        assert_eq!(exit_code(&err), 2);
        assert!(err.to_string().contains("luajit-2.1.0-beta3") && err.to_string().contains("`luaenv install luajit-2.1`"), "{err}");
        assert!(resolve("openresty").unwrap_err().to_string().contains("openresty-2.1-20251030"));
    }

    #[test]
    fn a_series_resolves_to_the_newest_release_the_mirror_holds() {
        let holds = || Some(["lua-5.4.7.tar.gz", "lua-5.3.6.tar.gz", "LuaJIT-2.1.tar.gz"].map(String::from).into());
        assert_eq!(newest_held("5.4", "m", holds).unwrap().unwrap().install_name, "5.4.7");
        assert_eq!(newest_held("v5", "m", holds).unwrap().unwrap().install_name, "5.4.7");
        assert_eq!(newest_held("latest", "m", holds).unwrap().unwrap().install_name, "5.4.7");
        // Exact versions and other families are not chosen from the list.
        assert!(newest_held("5.4.9", "m", holds).unwrap().is_none());
        assert!(newest_held("luajit-2.1", "m", holds).unwrap().is_none());
        let err = newest_held("5.2", "m", holds).unwrap_err().to_string();
        assert!(err.contains("no Lua 5.2 release") && err.contains("5.4.7, 5.3.6"), "{err}");
        // A list without any Lua release says nothing about Lua.
        assert!(newest_held("5.4", "m", || Some(["LuaJIT-2.1.tar.gz".to_string()].into())).unwrap().is_none());
        assert!(newest_held("5.4", "m", || None).unwrap().is_none());
    }

    #[test]
    fn unknown_and_malformed_are_usage_errors() {
        let err = resolve("5.4.99").unwrap_err();
        assert_eq!(exit_code(&err), 2);
        let msg = err.to_string();
        assert!(msg.contains("5.4.9") && msg.contains("5.4.8"), "{msg}");
        let err = resolve("5.x").unwrap_err();
        assert_eq!(exit_code(&err), 2);
        assert!(err.to_string().starts_with("malformed version spec '5.x'"));
        assert!(resolve("6").is_err());
        assert!(resolve("openresty-2.1-2025").is_err());
    }
}
