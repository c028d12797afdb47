//! The build cache: a finished prefix kept under a key of everything that shaped it,
//! so an identical install is a copy instead of a compile.

use std::path::{Path, PathBuf};

use anyhow::Result;
use sha2::{Digest, Sha256};

use crate::context::Context;
use crate::prefix;

/// The key: source sum, build flags, target, compiler, final prefix path (baked into luaconf.h)
/// and anything else the caller adds (LuaRocks' version and sum).
pub fn key(inputs: &serde_json::Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION"));
    hasher.update(inputs.to_string());
    crate::install::verify::hex(&hasher.finalize())
}

/// A cached build whose receipt names this very key, and the prefix it was installed at
/// (what `relocate` moves it from).
pub fn lookup(ctx: &Context, key: &str) -> Option<(PathBuf, PathBuf)> {
    let dir = ctx.builds_dir().join(key);
    let receipt = prefix::Receipt::read(&dir)?;
    let built_for = std::fs::read(ctx.builds_dir().join(format!("{key}.from"))).ok()?;
    let built_for = PathBuf::from(<std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(built_for));
    (receipt.build_cache_key.as_deref() == Some(key)).then_some((dir, built_for))
}

/// Only a build from bytes a sum vouched for may be shared: a source folder, or a file
/// trusted on its first use, never feeds the cache that verified installs read.
fn was_verified(receipt: &prefix::Receipt) -> bool {
    receipt.source.sha256.is_some() && !matches!(receipt.source.checksum.as_str(), "unverified" | "local" | "first-use")
}

/// Saves a copy of an installed prefix; a failure here never fails the install.
pub fn save(ctx: &Context, key: &str, installed: &Path) {
    if !prefix::Receipt::read(installed).is_some_and(|r| was_verified(&r) && r.build_cache_key.as_deref() == Some(key)) {
        return;
    }
    let result = (|| -> Result<()> {
        let dir = ctx.builds_dir();
        std::fs::create_dir_all(&dir)?;
        if dir.join(key).exists() {
            return Ok(());
        }
        let tmp = tempfile::Builder::new().prefix(&crate::install::cleanup::tagged(".saving-")).tempdir_in(&dir)?;
        crate::fs::copy_tree(installed, tmp.path())?;
        // Where the copy's paths point, written before the copy appears under its key.
        crate::fs::write_atomic(&dir.join(format!("{key}.from")), crate::install::relocate::bytes(installed))?;
        // Another process may have saved the same key meanwhile: then ours is simply dropped.
        let _ = std::fs::rename(tmp.keep(), dir.join(key));
        Ok(())
    })();
    if let Err(e) = result {
        eprintln!("warning: could not save the build to the cache: {e:#}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_verified_builds_are_saved_and_found() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context { root: dir.path().join("root"), cache: dir.path().join("cache") };
        let installed = dir.path().join("prefix");
        std::fs::create_dir_all(&installed).unwrap();
        let write = |checksum: &str, sha256: Option<&str>| {
            let receipt = serde_json::json!({
                "name": "5.4.7", "spec": "5.4.7", "flavor": "lua", "version": "5.4.7",
                "source": { "url": "/x", "sha256": sha256, "checksum": checksum },
                "flags": {}, "target": "t", "compiler": "cc", "when": "now", "build_cache_key": "k1",
            });
            std::fs::write(installed.join(prefix::RECEIPT), receipt.to_string()).unwrap();
        };
        write("unverified", None);
        save(&ctx, "k1", &installed);
        assert!(lookup(&ctx, "k1").is_none());
        write("official", Some("ab"));
        save(&ctx, "k2", &installed);
        assert!(lookup(&ctx, "k2").is_none(), "saved under a key its receipt does not name");
        save(&ctx, "k1", &installed);
        assert!(lookup(&ctx, "k1").is_some());
    }
}
