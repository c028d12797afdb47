//! Push: an installed prefix published as one signed entry of a build cache.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result};

use super::{BuildConfig, CONFIG_MEDIA_TYPE, Descriptor, LAYER_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, Manifest, SIGNATURE_ANNOTATION, Store};
use crate::context::Context;
use crate::error::usage;
use crate::install::{cache as build_cache, pull, relocate};
use crate::prefix::Receipt;

/// Packs, signs and uploads the installed `name`; returns its tag. Signed before the first
/// upload, so a bad key uploads nothing.
pub fn push(ctx: &Context, name: &str, store: &dyn Store, key_file: &Path) -> Result<String> {
    let prefix = ctx.prefix(name);
    // No install, `--force` or `rocks install` may change the prefix while it is packed.
    let _lock = crate::lock::acquire_for(ctx, name, &format!("pushing {name}"))?;
    let receipt = Receipt::read(&prefix).ok_or_else(|| anyhow::anyhow!("{} has no luaenv receipt; reinstall it with `luaenv install {name} --force`", prefix.display()))?;
    let inputs = pull::inputs_of(&receipt).ok_or_else(|| {
        usage(format!(
            "{name} was built from a source no checksum vouched for ({}), so it cannot be shared: install it from a verified tarball first",
            receipt.source.checksum
        ))
    })?;
    let key = build_cache::key(&inputs);
    let tag = super::tag(name, &key);
    std::fs::create_dir_all(ctx.scratch_dir())?;
    let work = tempfile::Builder::new().prefix(&crate::install::cleanup::tagged("push-")).tempdir_in(ctx.scratch_dir())?;
    let _registered = crate::install::cleanup::register(work.path());

    let layer_file = work.path().join("layer.tar.gz");
    let (digest, size) = super::pack::pack(&prefix, &layer_file).with_context(|| format!("cannot pack {}", prefix.display()))?;
    let layer = Descriptor { media_type: LAYER_MEDIA_TYPE.into(), digest, size, annotations: BTreeMap::new() };
    let config = BuildConfig { key: key.clone(), inputs: inputs.clone(), receipt: shareable(&receipt), prefix: relocate::bytes(&prefix).to_vec(), layer: layer.clone() };
    let config_bytes = serde_json::to_vec_pretty(&config)?;
    let signature = super::sign::sign(key_file, &config_bytes)?;
    let config_file = work.path().join("config.json");
    std::fs::write(&config_file, &config_bytes)?;
    let config_descriptor = Descriptor { media_type: CONFIG_MEDIA_TYPE.into(), digest: super::digest_of(&config_bytes), size: config_bytes.len() as u64, annotations: BTreeMap::new() };

    let mut annotations = key_annotations(name, &key, &receipt);
    annotations.insert(SIGNATURE_ANNOTATION.into(), signature);
    let manifest = Manifest {
        schema_version: 2,
        media_type: MANIFEST_MEDIA_TYPE.into(),
        artifact_type: Some(CONFIG_MEDIA_TYPE.into()),
        config: config_descriptor.clone(),
        layers: vec![layer.clone()],
        annotations,
    };
    store.push_blob(&layer.digest, LAYER_MEDIA_TYPE, &layer_file)?;
    store.push_blob(&config_descriptor.digest, CONFIG_MEDIA_TYPE, &config_file)?;
    store.push_manifest(&tag, &serde_json::to_vec_pretty(&manifest)?)?;
    Ok(tag)
}

/// The receipt as the registry gets it: a source or LuaRocks tarball given as a local file
/// is named by its file name (the sum says which), never by this machine's path, and a URL
/// never shows a password.
fn shareable(receipt: &Receipt) -> Receipt {
    let share = |url: &str| {
        if url.contains("://") { crate::credentials::masked(url) } else { Path::new(url).file_name().map_or_else(String::new, |f| f.to_string_lossy().into_owned()) }
    };
    let mut shared = receipt.clone();
    shared.source.url = share(&shared.source.url);
    if let Some(rocks) = shared.luarocks.as_mut() {
        rocks.url = share(&rocks.url);
    }
    shared
}

/// The key's inputs, readable without fetching the config (`skopeo inspect`, a registry's UI).
fn key_annotations(name: &str, key: &str, receipt: &Receipt) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    a.insert("org.opencontainers.image.created".into(), receipt.when.clone());
    a.insert("org.opencontainers.image.title".into(), name.to_string());
    a.insert("dev.luaenv.key".into(), key.to_string());
    a.insert("dev.luaenv.name".into(), name.to_string());
    a.insert("dev.luaenv.flavor".into(), receipt.flavor.clone());
    a.insert("dev.luaenv.version".into(), receipt.version.clone());
    a.insert("dev.luaenv.source.sha256".into(), receipt.source.sha256.clone().unwrap_or_default());
    a.insert("dev.luaenv.flags".into(), receipt.flags.to_string());
    a.insert("dev.luaenv.target".into(), receipt.target.clone());
    a.insert("dev.luaenv.compiler".into(), receipt.compiler.clone());
    if let Some(rocks) = &receipt.luarocks {
        a.insert("dev.luaenv.luarocks".into(), rocks.version.clone().unwrap_or_default());
        a.insert("dev.luaenv.luarocks.sha256".into(), rocks.sha256.clone().unwrap_or_default());
    }
    a
}
