use anyhow::Result;

use crate::install::build::{BuildOptions, Compat};
use crate::catalog::{self, Kind};
use crate::context::Context;
use crate::error::usage;
use crate::install::{self, How, Request};
use crate::prefix::Receipt;

#[derive(clap::Args)]
pub struct Args {
    /// Versions to install: 5.4.7, 5.4, 5, latest
    #[arg(required_unless_present = "list")]
    specs: Vec<String>,
    /// List the versions luaenv knows, newest first
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
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        if self.list {
            return list(self.json);
        }
        if self.from.is_some() && self.specs.len() > 1 {
            return Err(usage("--from names one source: install one version at a time with it"));
        }
        // Checked before LuaRocks or anything else is fetched: a typo in a path is the request's fault.
        if let Some(from) = self.from.as_deref().filter(|f| !f.contains("://") && !f.is_empty())
            && std::fs::symlink_metadata(from).is_err()
        {
            return Err(usage(format!("--from {from} does not exist: give the path of a Lua source tarball or of an unpacked source folder; nothing was installed")));
        }
        if let Some(target) = &self.target {
            check_target(target)?;
        }
        if self.jobs == Some(0) {
            return Err(usage("--jobs must be at least 1"));
        }
        let mirror = crate::commands::mirror(ctx, self.mirror.clone()).map(|(m, _)| m);
        let jobs = self.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
        let options = BuildOptions {
            compat: self.compat,
            readline: self.readline,
            static_link: self.static_link,
            target: self.target.clone().unwrap_or_else(crate::install::build::host_triple),
            jobs,
        };
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
            let outcome = install::install(ctx, &request)?;
            if outcome.how == How::AlreadyInstalled {
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

/// A target triple that target-lexicon knows, written the way it writes it back: `x-y-z` and
/// `x86_64-unknown-linux-gnu..` are requests luaenv cannot act on (exit 2), not build failures.
fn check_target(target: &str) -> Result<()> {
    let known = target.parse::<target_lexicon::Triple>().ok().filter(|t| t.to_string() == target && t.architecture != target_lexicon::Architecture::Unknown);
    match known {
        Some(_) => Ok(()),
        None => Err(usage(format!("--target '{target}' is not a target triple luaenv knows: expected something like aarch64-unknown-linux-gnu or x86_64-w64-mingw32"))),
    }
}

fn list(json: bool) -> Result<()> {
    let mut rows = Vec::new();
    for r in catalog::of_kind(Kind::Lua) {
        rows.push((r.version.to_string(), "lua", r.url, Some(r.sha256)));
    }
    rows.push(("luajit-2.1".into(), "luajit", "https://github.com/LuaJIT/LuaJIT/archive/refs/heads/v2.1.tar.gz".into(), None));
    rows.push(("luajit-2.0".into(), "luajit", "https://github.com/LuaJIT/LuaJIT/archive/refs/heads/v2.0.tar.gz".into(), None));
    for r in catalog::of_kind(Kind::Luajit) {
        rows.push((format!("luajit-{}", r.version), "luajit", r.url, Some(r.sha256)));
    }
    if json {
        let list: Vec<_> = rows
            .iter()
            .map(|(name, kind, url, sha)| serde_json::json!({ "name": name, "kind": kind, "url": url, "sha256": sha }))
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for (name, ..) in rows {
            println!("{name}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_target;

    #[test]
    fn target_triples_are_checked_as_triples() {
        for good in ["aarch64-unknown-linux-gnu", "x86_64-unknown-linux-musl", "x86_64-pc-windows-gnu", "x86_64-unknown-linux-gnu"] {
            assert!(check_target(good).is_ok(), "{good}");
        }
        for bad in ["x-y-z", "x86_64-unknown-linux-gnu..", "nonsense", "aarch64", ""] {
            assert_eq!(crate::error::exit_code(&check_target(bad).unwrap_err()), 2, "{bad}");
        }
    }
}
