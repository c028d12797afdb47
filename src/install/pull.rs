//! Pull: an install whose key matches a signed build in a shared build cache takes that build
//! instead of compiling: download, check every digest and the signature, unpack into staging,
//! relocate, smoke-test. Any failed check refuses the build with one line saying why; the
//! caller then builds from source. No byte that failed a check reaches a prefix.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

use super::staging::Staging;
use crate::buildcache::{self, BuildConfig, Descriptor, Manifest, Store};
use crate::context::Context;
use crate::prefix::Receipt;

/// The biggest config blob luaenv reads.
const MAX_CONFIG: u64 = 1 << 20;

/// What a shared build is keyed by: the install name, the source's sum, the build flags (target included), the
/// prefix layout and the LuaRocks tarball's sum (which fixes its version);
/// `buildcache::key` adds luaenv's version. Not the compiler: a machine pulling a build may
/// have none, so it could not name one; the builder's compiler is recorded in the entry
/// (annotations, receipt) for people to read.
pub fn key_inputs(name: &str, source_sum: &str, flags: &serde_json::Value, luarocks_sum: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "source": source_sum,
        "flags": flags,
        "layout": super::layout::LAYOUT,
        "luarocks": luarocks_sum,
    })
}

/// The key inputs of an installed prefix, from its receipt; `None` for a build whose source
/// no sum vouched for (a folder, a file trusted on first use), which is never shared.
pub fn inputs_of(receipt: &Receipt) -> Option<serde_json::Value> {
    let verified = !matches!(receipt.source.checksum.as_str(), "unverified" | "local" | "first-use");
    let sum = receipt.source.sha256.as_deref().filter(|_| verified)?;
    let luarocks = match &receipt.luarocks {
        Some(rocks) => Some(rocks.sha256.as_deref()?),
        None => None,
    };
    Some(key_inputs(&receipt.name, sum, &receipt.flags, luarocks))
}

/// The build caches an install pulls from, in order: `--build-cache` flags, then
/// `$LUAENV_BUILD_CACHE` (comma-separated), then the root's list (`luaenv cache add`).
pub fn caches(ctx: &Context, flags: &[String]) -> Vec<String> {
    let mut list: Vec<String> = flags.to_vec();
    if let Ok(env) = std::env::var("LUAENV_BUILD_CACHE") {
        list.extend(split_list(&env));
    }
    list.extend(saved_caches(ctx));
    let mut seen = std::collections::HashSet::new();
    list.retain(|c| seen.insert(c.clone()));
    // Offline, only caches on this machine (a folder, file://): a registry or an https copy
    // is a server like any other.
    if crate::install::fetch::is_offline() {
        let (local, remote): (Vec<String>, Vec<String>) = list.into_iter().partition(|c| is_local_cache(c));
        if !remote.is_empty() {
            crate::install::progress::note(&format!("offline: not asking the build caches {}", remote.join(", ")));
        }
        return local;
    }
    list
}

/// A cache on this machine: a folder path or a file:// URL, as `fetch::Location` reads them
/// (an `oci://` registry is no location it knows, an http(s) copy is a URL).
fn is_local_cache(location: &str) -> bool {
    matches!(crate::install::fetch::Location::from_arg(location, "the build cache"), Ok(crate::install::fetch::Location::Path(_)))
}

/// `$LUAENV_BUILD_CACHE`'s entries: separated by commas or newlines (a folder may hold a
/// space; one with a comma is written as a file:// URL with `%2C`).
pub fn split_list(text: &str) -> Vec<String> {
    text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

/// `<root>/build-caches`: one cache a line (`luaenv cache add|remove`).
pub fn saved_caches(ctx: &Context) -> Vec<String> {
    crate::fs::read_text_capped(&ctx.build_caches_file(), crate::limits::MAX_TEXT).map(|t| split_list(&t)).unwrap_or_default()
}

/// What an install pulls: which build, and for which prefix.
pub struct Wanted<'a> {
    pub name: &'a str,
    pub key: &'a str,
    pub prefix: &'a Path,
    pub interpreter: &'a str,
    pub series: &'a str,
    pub target: &'a str,
}

/// A build that passed every check, in its staging folder, relocated to its prefix.
pub struct Pulled {
    pub staging: Staging,
    pub receipt: Receipt,
    /// `<cache> <tag>, signed by <key id>`.
    pub from: String,
}

/// Tries each cache in order. `Ok(None)`: none has this build. `Err`: one had it but it
/// failed a check (the one line why), and no later cache had a good one.
pub fn pull(ctx: &Context, caches: &[String], wanted: &Wanted) -> Result<Option<Pulled>> {
    let tag = buildcache::tag(wanted.name, wanted.key);
    let mut refused = None;
    for location in caches {
        let result = buildcache::open(ctx, location).and_then(|store| pull_from(ctx, store.as_ref(), &tag, wanted));
        match result {
            Ok(Some(pulled)) => return Ok(Some(pulled)),
            Ok(None) => {}
            Err(e) => {
                let shown = buildcache::open(ctx, location).map(|s| s.describe()).unwrap_or_else(|_| location.clone());
                let line = anyhow::anyhow!("the build {tag} in {shown} was refused: {e:#}");
                if let Some(earlier) = refused.replace(line) {
                    eprintln!("warning: {earlier:#}");
                }
            }
        }
    }
    match refused {
        Some(why) => Err(why),
        None => Ok(None),
    }
}

fn pull_from(ctx: &Context, store: &dyn Store, tag: &str, wanted: &Wanted) -> Result<Option<Pulled>> {
    let Some(bytes) = store.manifest(tag)? else { return Ok(None) };
    let manifest: Manifest = serde_json::from_slice(&bytes).context("its manifest is not an OCI image manifest")?;
    if manifest.config.media_type != buildcache::CONFIG_MEDIA_TYPE || manifest.layers.len() != 1 || manifest.layers[0].media_type != buildcache::LAYER_MEDIA_TYPE {
        bail!("it is not a luaenv build (unexpected media types)");
    }
    let Some(signature) = manifest.annotations.get(buildcache::SIGNATURE_ANNOTATION) else {
        bail!("it is not signed; only builds signed by a trusted key are installed");
    };
    std::fs::create_dir_all(ctx.scratch_dir())?;
    let work = tempfile::Builder::new().prefix(&super::cleanup::tagged("pull-")).tempdir_in(ctx.scratch_dir())?;
    let _registered = super::cleanup::register(work.path());
    fetch_blob(store, &manifest.config, &work.path().join("config.json"), MAX_CONFIG)?;
    let config_bytes = std::fs::read(work.path().join("config.json"))?;
    let key_id = buildcache::sign::verify(ctx, &config_bytes, signature)?;
    let config: BuildConfig = serde_json::from_slice(&config_bytes).context("its config is not a luaenv build config")?;
    if config.key != wanted.key {
        bail!("its config names another build key ({}): the tag does not match what it holds", config.key);
    }
    if config.layer.digest != manifest.layers[0].digest || config.layer.size != manifest.layers[0].size {
        bail!("its manifest names a layer ({}) other than the one its signed config vouches for ({})", manifest.layers[0].digest, config.layer.digest);
    }
    let layer = work.path().join("layer.tar.gz");
    fetch_blob(store, &config.layer, &layer, crate::limits::max_tree_bytes())?;

    let staging = Staging::new(ctx, wanted.name)?;
    buildcache::pack::unpack(&layer, &format!("layer {}", config.layer.digest), staging.path()).context("its layer cannot be unpacked safely")?;
    let builder_prefix: std::ffi::OsString = std::os::unix::ffi::OsStringExt::from_vec(config.prefix.clone());
    let builder_prefix = PathBuf::from(builder_prefix);
    // First to the staging folder, where the smoke tests run; then to the prefix it becomes.
    move_prefix(ctx, staging.path(), &builder_prefix, staging.path(), wanted.series)?;
    super::smoke::smoke_test(staging.path(), wanted.interpreter, &runner(wanted.target))?;
    let rocks_version = config.receipt.luarocks.as_ref().and_then(|r| r.version.as_deref()).and_then(crate::version::Version::parse);
    if let (Some(version), true) = (rocks_version, staging.path().join("bin/luarocks").is_file() && wanted.target == super::build::host_triple()) {
        super::smoke::luarocks(staging.path(), &version)?;
    }
    move_prefix(ctx, staging.path(), staging.path(), wanted.prefix, wanted.series)?;
    let from = format!("{} {tag}, signed by {key_id}", store.describe());
    Ok(Some(Pulled { staging, receipt: config.receipt, from }))
}

/// What the smoke test needs to know of a toolchain (the target, to run it under qemu or
/// wine): a pulled build is tested on machines that may have no compiler at all.
fn runner(target: &str) -> super::build::Toolchain {
    super::build::Toolchain { target: target.to_string(), host: super::build::host_triple(), compiler: String::new(), base: cc::Build::new() }
}

/// Relocates a staged prefix, then writes LuaRocks' quoted paths again for the new place.
fn move_prefix(ctx: &Context, staged: &Path, from: &Path, to: &Path, series: &str) -> Result<()> {
    super::relocate::relocate(staged, from, to).context("it cannot be relocated")?;
    crate::rocks::luarocks::relocate(ctx, staged, to, series)
}

/// Downloads one blob and checks its size and digest before anything reads it.
fn fetch_blob(store: &dyn Store, wanted: &Descriptor, dest: &Path, cap: u64) -> Result<()> {
    buildcache::digest_hex(&wanted.digest)?;
    if wanted.size > cap {
        bail!("its blob {} claims {} bytes, more than a build holds", wanted.digest, wanted.size);
    }
    store.blob(&wanted.digest, dest)?;
    let size = std::fs::metadata(dest)?.len();
    let got = format!("sha256:{}", crate::install::verify::sha256_file(dest)?);
    if got != wanted.digest || size != wanted.size {
        bail!("its blob {} has the digest {got} ({size} bytes): its bytes were changed", wanted.digest);
    }
    Ok(())
}
