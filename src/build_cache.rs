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
    crate::verify::hex(&hasher.finalize())
}

pub fn lookup(ctx: &Context, key: &str) -> Option<PathBuf> {
    let dir = ctx.builds_dir().join(key);
    dir.join(prefix::RECEIPT).is_file().then_some(dir)
}

/// Saves a copy of an installed prefix; a failure here never fails the install.
pub fn save(ctx: &Context, key: &str, installed: &Path) {
    let result = (|| -> Result<()> {
        let dir = ctx.builds_dir();
        std::fs::create_dir_all(&dir)?;
        if dir.join(key).exists() {
            return Ok(());
        }
        let tmp = tempfile::Builder::new().prefix(&crate::install::cleanup::tagged(".saving-")).tempdir_in(&dir)?;
        prefix::copy_tree(installed, tmp.path())?;
        // Another process may have saved the same key meanwhile: then ours is simply dropped.
        let _ = std::fs::rename(tmp.keep(), dir.join(key));
        Ok(())
    })();
    if let Err(e) = result {
        eprintln!("warning: could not save the build to the cache: {e:#}");
    }
}
