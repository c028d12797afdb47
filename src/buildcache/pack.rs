//! A prefix as one layer (tar+gzip, paths relative to the prefix, links kept as links) and back.

use std::path::Path;

use anyhow::{Context as _, Result, bail};

/// Packs `prefix` into `out` (tar+gzip); returns the layer's digest and size.
pub fn pack(prefix: &Path, out: &Path) -> Result<(String, u64)> {
    let file = std::fs::File::create(out).with_context(|| format!("cannot write {}", out.display()))?;
    // Level 1: a layer is packed once and unpacked often; gzip's level barely changes unpacking.
    let gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    tar.follow_symlinks(false);
    let mut entries: Vec<_> = std::fs::read_dir(prefix).with_context(|| format!("cannot read {}", prefix.display()))?.collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        // The puller writes its own receipt (from the signed config, as `shareable` left it).
        if name == crate::prefix::RECEIPT {
            continue;
        }
        if entry.file_type()?.is_dir() {
            tar.append_dir_all(&name, entry.path())?;
        } else {
            tar.append_path_with_name(entry.path(), &name)?;
        }
    }
    tar.into_inner()?.finish()?.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    let sum = crate::install::verify::sha256_file(out)?;
    Ok((format!("sha256:{sum}"), std::fs::metadata(out)?.len()))
}

/// Unpacks a layer into an empty staging folder: no entry may land outside it, no link may
/// lead out of it (the source unpacker's rules, links checked there), and it must hold a
/// prefix (`bin/`).
pub fn unpack(layer: &Path, shown: &str, staging: &Path) -> Result<()> {
    crate::install::unpack::unpack_named(layer, shown, staging)?;
    if !staging.join("bin").is_dir() {
        bail!("the layer holds no prefix (no bin/)");
    }
    Ok(())
}
