//! Verify: which SHA-256 a source must have (SPEC checksum rules), and checking it.

use std::io::Read;
use std::path::Path;

use anyhow::{Context as _, Result};
use sha2::{Digest, Sha256};

/// Where the expected sum came from, strongest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// The built-in table of official sums: a file named in it must match, whatever a mirror says.
    Official(String),
    /// The mirror's `SHA256SUMS`.
    MirrorSums(String),
    /// `--sha256` on the command line.
    Given(String),
    /// The sum a rolling source had when it was first trusted (kept in `<root>/trusted-sums`).
    Trusted(String),
    /// Trust on first use: only for rolling sources and files the user handed over with `--from`.
    FirstUse,
    /// A source folder (`--from <dir>`): no sum can vouch for it, so it never meets the build cache.
    Unverified,
}

impl Expected {
    pub fn sum(&self) -> Option<&str> {
        match self {
            Expected::Official(s) | Expected::MirrorSums(s) | Expected::Given(s) | Expected::Trusted(s) => Some(s),
            Expected::FirstUse | Expected::Unverified => None,
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Expected::Official(_) => "the official sum built into luaenv",
            Expected::MirrorSums(_) => "the mirror's SHA256SUMS",
            Expected::Given(_) => "--sha256",
            Expected::Trusted(_) => "the sum trusted on first use",
            Expected::FirstUse => "trust on first use",
            Expected::Unverified => "nothing (a local folder)",
        }
    }
}

/// `--sha256` as given: 64 hex digits, or a usage error saying so.
pub fn check_sha256_arg(given: &str) -> anyhow::Result<()> {
    match is_sha256_hex(given) {
        true => Ok(()),
        false => Err(crate::error::usage(format!("--sha256 '{given}' is not a SHA-256 sum: expected 64 hex digits"))),
    }
}

pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Streams a file through SHA-256.
/// A FIFO or device is refused without being opened: opening a FIFO blocks, a device never ends.
pub fn sha256_file(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_file() {
        anyhow::bail!("{} is not a regular file (a FIFO, device or folder?); give a tarball", path.display());
    }
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Finds `file_name` in `sha256sum` output (`<hex>  <name>` or `<hex> *<name>`).
pub fn find_in_sums(sums: &str, file_name: &str) -> Option<String> {
    sums.lines().find_map(|line| {
        let (sum, name) = line.trim().split_once(char::is_whitespace)?;
        let name = name.trim_start().trim_start_matches('*');
        (name == file_name && is_sha256_hex(sum)).then(|| sum.to_ascii_lowercase())
    })
}

/// The one-line mismatch error, naming both sums.
pub fn mismatch(url: &str, expected: &Expected, actual: &str) -> anyhow::Error {
    let (detail, hint) = match expected {
        Expected::Trusted(sum) => (
            format!("it was trusted on first use with sha256 {sum}, now it is {actual}"),
            format!(". If the branch moved on and you trust the new file, accept it with `--sha256 {actual}`"),
        ),
        _ => (
            format!("expected sha256 {} ({}), got {actual}", expected.sum().unwrap_or("?"), expected.describe()),
            ": the file is not the one it claims to be, use a trusted mirror".to_string(),
        ),
    };
    crate::error::Error::ChecksumMismatch { location: url.to_string(), detail, hint }.into()
}

/// The Lua version a source tree says it is, from its `src/lua.h`: `LUA_VERSION_MAJOR_N`…
/// (5.5), `LUA_VERSION_MAJOR "5"`… (5.2 to 5.4) or `LUA_RELEASE "Lua 5.1.5"` (5.1).
pub fn lua_h_version(lua_h: &str) -> Option<String> {
    let define = |name: &str| -> Option<String> {
        lua_h.lines().find_map(|l| {
            let rest = l.trim_start().strip_prefix("#define")?.trim_start().strip_prefix(name)?;
            let value = rest.strip_prefix([' ', '\t'])?.trim();
            let value = value.trim_matches('"');
            (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())).then(|| value.to_string())
        })
    };
    let numbered = |suffix: &str| {
        ["MAJOR", "MINOR", "RELEASE"].iter().map(|p| define(&format!("LUA_VERSION_{p}{suffix}"))).collect::<Option<Vec<_>>>()
    };
    if let Some(parts) = numbered("_N").or_else(|| numbered("")) {
        return Some(parts.join("."));
    }
    lua_h.lines().find_map(|l| {
        let rest = l.trim_start().strip_prefix("#define")?.trim_start().strip_prefix("LUA_RELEASE")?;
        let v = rest.trim().strip_prefix("\"Lua ")?.strip_suffix('"')?;
        v.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())).then(|| v.to_string())
    })
}

/// Sums of rolling sources trusted on first use: `<file name> <sha256>` lines in the root.
/// A damaged file is an error, never an empty list: an empty list would trust a moved branch again.
pub mod trusted {
    use std::path::{Path, PathBuf};

    use anyhow::{Result, bail};

    const FILE: &str = "trusted-sums";

    fn path(root: &Path) -> PathBuf {
        root.join(FILE)
    }

    /// Every `(file name, sum)` line; an error naming the file and the fix when any line is damaged.
    fn load(root: &Path) -> Result<Vec<(String, String)>> {
        let file = path(root);
        if std::fs::symlink_metadata(&file).is_err() {
            return Ok(Vec::new());
        }
        let bytes = crate::fs::read_capped(&file, crate::limits::MAX_TEXT)?;
        parse(&bytes).map_err(|line| {
            anyhow::anyhow!(
                "{} is damaged (line {line} is not `<file name> <sha256>`); nothing was trusted. Fix or delete that line (deleting it trusts that file again on its next install)",
                file.display()
            )
        })
    }

    /// The lines, or the number of the first damaged one.
    pub(super) fn parse(bytes: &[u8]) -> std::result::Result<Vec<(String, String)>, usize> {
        let mut entries = Vec::new();
        for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
            let line = std::str::from_utf8(line).map_err(|_| n + 1)?.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            match line.split(' ').collect::<Vec<_>>().as_slice() {
                [name, sum] if !name.is_empty() && super::is_sha256_hex(sum) => entries.push((name.to_string(), sum.to_ascii_lowercase())),
                _ => return Err(n + 1),
            }
        }
        Ok(entries)
    }

    pub fn get(root: &Path, file_name: &str) -> Result<Option<String>> {
        Ok(load(root)?.into_iter().find(|(name, _)| name == file_name).map(|(_, sum)| sum))
    }

    /// Records (or, after an explicit `--sha256`, replaces) the trusted sum of a file.
    pub fn set(root: &Path, file_name: &str, sha256: &str) -> Result<()> {
        if file_name.is_empty() || file_name.contains(char::is_whitespace) {
            bail!("cannot trust '{file_name}': a file name with spaces cannot be kept in {}", path(root).display());
        }
        let mut entries = load(root)?;
        entries.retain(|(name, _)| name != file_name);
        entries.push((file_name.to_string(), sha256.to_string()));
        let text: String = entries.iter().map(|(n, s)| format!("{n} {s}\n")).collect();
        crate::fs::write_atomic(&path(root), text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sha256sums() {
        let sums = "aa  other.tar.gz\n9fbf5e28ef86c69858f6d3d34eccc32e911c1a28b4120ff3e84aaa70cfbf1e30 *lua-5.4.7.tar.gz\n";
        assert_eq!(
            find_in_sums(sums, "lua-5.4.7.tar.gz").as_deref(),
            Some("9fbf5e28ef86c69858f6d3d34eccc32e911c1a28b4120ff3e84aaa70cfbf1e30")
        );
        assert_eq!(find_in_sums(sums, "other.tar.gz"), None);
    }

    #[test]
    fn reads_the_version_of_lua_h() {
        assert_eq!(lua_h_version("#define LUA_VERSION_MAJOR_N\t5\n#define LUA_VERSION_MINOR_N\t5\n#define LUA_VERSION_RELEASE_N\t1\n#define LUA_VERSION_MAJOR\tLUAI_TOSTR(LUA_VERSION_MAJOR_N)\n").as_deref(), Some("5.5.1"));
        assert_eq!(lua_h_version("#define LUA_VERSION_MAJOR\t\"5\"\n#define LUA_VERSION_MINOR\t\"4\"\n#define LUA_VERSION_NUM\t504\n#define LUA_VERSION_RELEASE\t\"7\"\n").as_deref(), Some("5.4.7"));
        assert_eq!(lua_h_version("#define LUA_RELEASE\t\"Lua 5.1.5\"\n").as_deref(), Some("5.1.5"));
        assert_eq!(lua_h_version("#define LUA_RELEASE\tLUA_VERSION \".\" LUA_VERSION_RELEASE\n"), None);
    }

    #[test]
    fn damaged_trusted_sums_are_errors() {
        let sum = "9fbf5e28ef86c69858f6d3d34eccc32e911c1a28b4120ff3e84aaa70cfbf1e30";
        assert_eq!(trusted::parse(format!("a.tar.gz {sum}\n\n").as_bytes()).unwrap().len(), 1);
        let latin1 = [format!("a.tar.gz {sum}\n").as_bytes(), b"\xe9t\xe9\n"].concat();
        assert_eq!(trusted::parse(&latin1), Err(2));
        assert_eq!(trusted::parse(b"a.tar.gz nothex\n"), Err(1));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("trusted-sums");
        let mut damaged = format!("a.tar.gz {sum}\n").into_bytes();
        damaged.extend_from_slice(b"\xff\xfe\n");
        std::fs::write(&file, &damaged).unwrap();
        let err = trusted::get(dir.path(), "a.tar.gz").unwrap_err().to_string();
        assert!(err.contains("trusted-sums is damaged (line 2"), "{err}");
        assert!(trusted::set(dir.path(), "b.tar.gz", sum).is_err());
        assert_eq!(std::fs::read(&file).unwrap(), damaged, "a damaged file is never rewritten");
    }
}
