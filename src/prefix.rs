//! The prefix: one installed version, its receipt, and moving a staged prefix into place.

use std::path::Path;

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use crate::version::Version;

pub const RECEIPT: &str = "luaenv-receipt.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Receipt {
    pub name: String,
    pub spec: String,
    pub flavor: String,
    pub version: String,
    pub source: Source,
    pub flags: serde_json::Value,
    pub target: String,
    pub compiler: String,
    pub when: String,
    pub build_cache_key: Option<String>,
    #[serde(default)]
    pub luarocks: Option<Source>,
    /// Where a pulled build came from (`<cache> <tag>, signed by <key id>`); none when built here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pulled_from: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    pub url: String,
    pub sha256: Option<String>,
    /// Which rule vouched for the sum: official, mirror, given, trusted, first-use, unverified (a folder).
    pub checksum: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl Receipt {
    pub fn read(prefix: &Path) -> Option<Receipt> {
        serde_json::from_slice(&std::fs::read(prefix.join(RECEIPT)).ok()?).ok()
    }

    /// The Lua series it speaks (`5.4`; `5.1` for LuaJIT), which names its module folders.
    pub fn lua_series(&self) -> String {
        match self.flavor.as_str() {
            "luajit" | "openresty" => "5.1".into(),
            _ => Version::parse(&self.version).map(|v| v.series()).unwrap_or_default(),
        }
    }

    pub fn write(&self, prefix: &Path) -> Result<()> {
        crate::fs::write_atomic(&prefix.join(RECEIPT), serde_json::to_string_pretty(self)?.as_bytes())
    }
}

/// Moves a finished staging folder to `prefix` in one step. When `prefix` exists (`--force`,
/// `rocks install`), the two are exchanged atomically (`renameat2(RENAME_EXCHANGE)`), so there
/// is no moment without a prefix; the old one is then at `staged`, for the caller to remove.
/// Returns whether an old prefix was swapped out.
pub fn commit(staged: &Path, prefix: &Path) -> Result<bool> {
    let failed = |e: std::io::Error| anyhow::anyhow!("cannot move the new install into {}: {e}; the old one is unchanged", prefix.display());
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        use rustix::io::Errno;
        match renameat_with(CWD, staged, CWD, prefix, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(false),
            Err(Errno::EXIST) | Err(Errno::NOTEMPTY) => {
                return match renameat_with(CWD, staged, CWD, prefix, RenameFlags::EXCHANGE) {
                    Ok(()) => Ok(true),
                    Err(Errno::INVAL) | Err(Errno::NOSYS) => commit_by_renames(staged, prefix),
                    Err(e) => Err(failed(e.into())),
                };
            }
            // A filesystem without renameat2's flags (some network filesystems).
            Err(Errno::INVAL) | Err(Errno::NOSYS) => {}
            Err(e) => return Err(failed(e.into())),
        }
    }
    commit_by_renames(staged, prefix)
}

/// The portable fallback: the old prefix is renamed aside, then the new one into place, and
/// the old one put back at `staged` for removal. A kill between the two renames leaves the
/// old prefix as `.old-<name>-<pid>`, which the next install sweeps and `doctor` reports.
fn commit_by_renames(staged: &Path, prefix: &Path) -> Result<bool> {
    if !prefix.exists() {
        std::fs::rename(staged, prefix).with_context(|| format!("cannot move the new install into {}", prefix.display()))?;
        return Ok(false);
    }
    let aside = prefix.with_file_name(format!(".old-{}-{}", prefix.file_name().unwrap().to_string_lossy(), std::process::id()));
    std::fs::rename(prefix, &aside).with_context(|| format!("cannot move {} aside", prefix.display()))?;
    if let Err(e) = std::fs::rename(staged, prefix) {
        let _ = std::fs::rename(&aside, prefix);
        return Err(e).with_context(|| format!("cannot move the new install into {}; the old one is back", prefix.display()));
    }
    std::fs::rename(&aside, staged)?;
    Ok(true)
}

/// Now as RFC 3339 UTC, for receipts.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = (secs / 86400, secs % 86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_swaps_a_live_prefix_in_one_step_and_moves_a_new_one_in() {
        let dir = tempfile::tempdir().unwrap();
        let (staged, live) = (dir.path().join(".staging-5.4.7-1-abc"), dir.path().join("5.4.7"));
        std::fs::create_dir_all(&staged).unwrap();
        std::fs::write(staged.join("which"), "first").unwrap();
        assert!(!commit(&staged, &live).unwrap(), "nothing was replaced");
        assert_eq!(std::fs::read_to_string(live.join("which")).unwrap(), "first");
        assert!(!staged.exists());

        std::fs::create_dir_all(&staged).unwrap();
        std::fs::write(staged.join("which"), "second").unwrap();
        assert!(commit(&staged, &live).unwrap(), "the old prefix was swapped out");
        assert_eq!(std::fs::read_to_string(live.join("which")).unwrap(), "second");
        // The old one is at the staging path, for the caller to remove.
        assert_eq!(std::fs::read_to_string(staged.join("which")).unwrap(), "first");
    }
}
