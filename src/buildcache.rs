//! Build caches shared between machines: a content-addressed store of OCI image manifests.
//!
//! One entry is one OCI image manifest, tagged `<install name>-<first 24 hex of the build key>`:
//! its config blob (`application/vnd.luaenv.build.config.v1+json`) holds the build key's inputs,
//! the receipt and the builder's prefix path; its one layer is the prefix as tar+gzip. The
//! manifest's `dev.luaenv.*` annotations repeat the key inputs, and `dev.luaenv.signature` holds
//! a minisign signature of the config blob's bytes, which name the layer's digest: one
//! signature vouches for every byte of the entry.
//!
//! Where it lives: a folder (an OCI image layout, so `skopeo copy oci:<dir>:<tag> docker://…`
//! and oras can copy it), a `file://` URL, an `https://` static copy of such a folder (read
//! only), or an OCI registry (`oci://host[:port]/repository`, see `oci`).

use std::path::Path;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::context::Context;

pub mod folder;
pub mod oci;
pub mod pack;
pub mod push;
pub mod sign;

/// A build cache: where manifests and blobs are read and written.
pub trait Store {
    /// Where it is, for messages (never credentials).
    fn describe(&self) -> String;
    /// The image manifest tagged `tag` (raw bytes), or None when there is none.
    fn manifest(&self, tag: &str) -> Result<Option<Vec<u8>>>;
    /// Writes the blob with this digest ("sha256:<hex>") to `dest` (the caller checks the digest).
    fn blob(&self, digest: &str, dest: &Path) -> Result<()>;
    /// Uploads a blob (skips it when the store has it).
    fn push_blob(&self, digest: &str, media_type: &str, src: &Path) -> Result<()>;
    /// Uploads a manifest and tags it.
    fn push_manifest(&self, tag: &str, manifest: &[u8]) -> Result<()>;
}

/// A folder path / `file://` (read-write), `https://` (a read-only static copy of a folder
/// cache), or `oci://host[:port]/repository` (a registry).
pub fn open(ctx: &Context, location: &str) -> Result<Box<dyn Store>> {
    let location = location.trim();
    if location.is_empty() {
        return Err(crate::error::usage("a build cache location is empty: give a folder, a file:// or https:// URL, or oci://host/repository"));
    }
    if location.starts_with("oci://") {
        return open_registry(ctx, location);
    }
    folder::open(location)
}

/// An OCI registry (`oci::Registry`).
fn open_registry(ctx: &Context, location: &str) -> Result<Box<dyn Store>> {
    Ok(Box::new(oci::Registry::open(ctx, location)?))
}

pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.luaenv.build.config.v1+json";
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const SIGNATURE_ANNOTATION: &str = "dev.luaenv.signature";
pub const TAG_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// The config blob: what the build key was made of, the receipt, and where the builder's
/// prefix lived (what the puller relocates from).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildConfig {
    pub key: String,
    pub inputs: serde_json::Value,
    pub receipt: crate::prefix::Receipt,
    /// The builder's prefix, as bytes (a root need not be UTF-8).
    pub prefix: Vec<u8>,
    /// The layer this config vouches for (its digest is signed with the config).
    pub layer: Descriptor,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// An OCI image manifest (the fields luaenv writes and reads).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    pub media_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default)]
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// The tag of a build: `<install name>-<first 24 hex of the key>`, within the OCI tag
/// charset (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`): a `+` in a name becomes `_`.
pub fn tag(install_name: &str, key: &str) -> String {
    let name: String = install_name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect();
    let short = &key[..key.len().min(24)];
    let name = &name[..name.len().min(128 - 1 - short.len())];
    format!("{name}-{short}")
}

/// `sha256:<hex>` of some bytes.
pub fn digest_of(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", crate::install::verify::hex(&sha2::Sha256::digest(bytes)))
}

/// The hex of a `sha256:<hex>` digest, refusing anything else: a digest names a file in a
/// folder cache, so it must never be a path.
pub fn digest_hex(digest: &str) -> Result<&str> {
    match digest.strip_prefix("sha256:") {
        Some(hex) if crate::install::verify::is_sha256_hex(hex) && hex.bytes().all(|b| !b.is_ascii_uppercase()) => Ok(hex),
        _ => bail!("'{}' is not a sha256 digest; the build cache is damaged or hostile", digest.escape_debug()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tags_keep_to_the_oci_charset() {
        let key = "0123456789abcdef0123456789abcdef";
        assert_eq!(super::tag("5.4.7", key), "5.4.7-0123456789abcdef01234567");
        assert_eq!(super::tag("5.4.7+x", key), "5.4.7_x-0123456789abcdef01234567");
        assert!(super::digest_hex("sha256:../../etc").is_err());
        assert!(super::digest_hex(&super::digest_of(b"x")).is_ok());
    }
}
