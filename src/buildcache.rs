//! A build cache shared between machines (the `Store` trait and folder caches come from h12a;
//! this copy of the trait is only here until h12a's module is merged).

pub mod oci;
pub mod sign;

pub trait Store {
    /// Where it is, for messages (never credentials).
    fn describe(&self) -> String;
    /// The image manifest tagged `tag` (raw bytes), or None when there is none.
    fn manifest(&self, tag: &str) -> anyhow::Result<Option<Vec<u8>>>;
    /// Writes the blob with this digest ("sha256:<hex>") to `dest` (the caller checks the digest).
    fn blob(&self, digest: &str, dest: &std::path::Path) -> anyhow::Result<()>;
    /// Uploads a blob (skips it when the store has it).
    fn push_blob(&self, digest: &str, media_type: &str, src: &std::path::Path) -> anyhow::Result<()>;
    /// Uploads a manifest and tags it.
    fn push_manifest(&self, tag: &str, manifest: &[u8]) -> anyhow::Result<()>;
}

/// The hex of a `sha256:<hex>` digest, refusing anything else (h12a's, copied until merged).
pub fn digest_hex(digest: &str) -> anyhow::Result<&str> {
    match digest.strip_prefix("sha256:") {
        Some(hex) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) => Ok(hex),
        _ => anyhow::bail!("'{}' is not a sha256 digest; the build cache is damaged or hostile", digest.escape_debug()),
    }
}
