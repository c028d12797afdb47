//! `luaenv cache`: shared build caches (push, the list installs pull from) and signing keys.

use std::path::PathBuf;

use anyhow::Result;

use crate::context::Context;
use crate::error::usage;
use crate::install::fetch::Location;
use crate::install::pull;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: CacheCommand,
}

#[derive(clap::Subcommand)]
enum CacheCommand {
    /// Make a signing key pair: <FILE> (secret, mode 0600) and <FILE>.pub
    Keygen { file: PathBuf },
    /// Trust builds signed by this public key (a .pub file from `cache keygen` or minisign)
    Trust {
        #[arg(value_name = "PUBKEY-FILE")]
        pubkey_file: PathBuf,
    },
    /// Publish installed versions to a build cache, signed
    Push {
        /// Installed version names: 5.4.7, openresty-2.1-20251030
        #[arg(required = true)]
        names: Vec<String>,
        /// The cache: a folder, a file:// URL, or oci://host[:port]/repository
        #[arg(long, value_name = "CACHE")]
        to: String,
        /// The secret key to sign with (from `luaenv cache keygen`)
        #[arg(long, value_name = "KEY")]
        sign: PathBuf,
    },
    /// Pull installs from this cache too (kept in the root)
    Add { cache: String },
    /// Stop pulling installs from this cache
    Remove { cache: String },
    /// Print the caches installs pull from, in order
    List,
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        match self.command {
            CacheCommand::Keygen { file } => crate::buildcache::sign::keygen(&file),
            CacheCommand::Trust { pubkey_file } => crate::buildcache::sign::trust(ctx, &pubkey_file),
            CacheCommand::Push { names, to, sign } => push(ctx, &names, &to, &sign),
            CacheCommand::Add { cache } => add(ctx, &cache),
            CacheCommand::Remove { cache } => remove(ctx, &cache),
            CacheCommand::List => {
                for (cache, origin) in listed(ctx) {
                    println!("{cache}\t{origin}");
                }
                Ok(())
            }
        }
    }
}

fn push(ctx: &Context, names: &[String], to: &str, key: &std::path::Path) -> Result<()> {
    let names: Vec<String> = names.iter().map(|n| super::installed_arg(ctx, n)).collect::<Result<_>>()?;
    if !key.is_file() {
        return Err(usage(format!("the signing key {} does not exist; make one with `luaenv cache keygen <file>`", key.display())));
    }
    let store = crate::buildcache::open(ctx, to)?;
    for name in names {
        let tag = crate::buildcache::push::push(ctx, &name, store.as_ref(), key)?;
        eprintln!("pushed {name} to {} as {tag}", store.describe());
        println!("{tag}");
    }
    Ok(())
}

/// A cache as it is kept: a folder made absolute (so it works from any directory), a URL as given.
fn normalize(cache: &str) -> Result<String> {
    let cache = cache.trim();
    if let Some(rest) = cache.strip_prefix("oci://") {
        if rest.split('/').next().is_none_or(str::is_empty) || !rest.contains('/') {
            return Err(usage(format!("'{cache}' is not a registry cache: write oci://host[:port]/repository")));
        }
        return Ok(cache.trim_end_matches('/').to_string());
    }
    if cache.contains(',') || cache.contains('\n') {
        return Err(usage("a cache location with a comma or a newline cannot be listed; write it as a file:// URL (a comma is %2C)"));
    }
    match Location::from_arg(cache, "the build cache")? {
        Location::Url(url) if url.contains('@') => Err(usage("a build cache URL may not hold credentials: they would be kept in the clear; use a registry (oci://) with `docker login`")),
        Location::Url(url) => Ok(url.trim_end_matches('/').to_string()),
        Location::Path(dir) => Ok(std::fs::canonicalize(&dir).unwrap_or(dir).display().to_string()),
    }
}

fn add(ctx: &Context, cache: &str) -> Result<()> {
    let cache = normalize(cache)?;
    let mut saved = pull::saved_caches(ctx);
    if saved.contains(&cache) {
        eprintln!("{cache} is already a build cache of this root");
        return Ok(());
    }
    saved.push(cache.clone());
    save(ctx, &saved)?;
    eprintln!("installs now pull from {cache} (builds signed by a key `luaenv cache trust` names)");
    Ok(())
}

fn remove(ctx: &Context, cache: &str) -> Result<()> {
    let wanted = normalize(cache).unwrap_or_else(|_| cache.trim().to_string());
    let mut saved = pull::saved_caches(ctx);
    let before = saved.len();
    saved.retain(|c| *c != wanted && c != cache.trim());
    if saved.len() == before {
        let list = if before == 0 { "none".to_string() } else { pull::saved_caches(ctx).join(", ") };
        return Err(usage(format!("{cache} is not a build cache of this root (they are: {list}); `luaenv cache list` shows them")));
    }
    save(ctx, &saved)?;
    eprintln!("installs no longer pull from {wanted}");
    Ok(())
}

fn save(ctx: &Context, caches: &[String]) -> Result<()> {
    let text: String = caches.iter().map(|c| format!("{c}\n")).collect();
    crate::fs::write_atomic(&ctx.build_caches_file(), text.as_bytes())
}

/// Every cache an install would try, in order, with where it was set.
fn listed(ctx: &Context) -> Vec<(String, &'static str)> {
    let mut rows: Vec<(String, &'static str)> = Vec::new();
    if let Ok(env) = std::env::var("LUAENV_BUILD_CACHE") {
        rows.extend(pull::split_list(&env).into_iter().map(|c| (c, "$LUAENV_BUILD_CACHE")));
    }
    rows.extend(pull::saved_caches(ctx).into_iter().map(|c| (c, "luaenv cache add")));
    rows
}
