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
}

impl Expected {
    pub fn sum(&self) -> Option<&str> {
        match self {
            Expected::Official(s) | Expected::MirrorSums(s) | Expected::Given(s) | Expected::Trusted(s) => Some(s),
            Expected::FirstUse => None,
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Expected::Official(_) => "the official sum built into luaenv",
            Expected::MirrorSums(_) => "the mirror's SHA256SUMS",
            Expected::Given(_) => "--sha256",
            Expected::Trusted(_) => "the sum trusted on first use",
            Expected::FirstUse => "trust on first use",
        }
    }
}

pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Streams a file through SHA-256.
pub fn sha256_file(path: &Path) -> Result<String> {
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
    if let Expected::Trusted(sum) = expected {
        return anyhow::anyhow!(
            "checksum mismatch for {url}: it was trusted on first use with sha256 {sum}, now it is {actual}; nothing was installed. If the branch moved on and you trust the new file, accept it with `--sha256 {actual}`"
        );
    }
    anyhow::anyhow!(
        "checksum mismatch for {url}: expected sha256 {} ({}), got {actual}; nothing was installed: the file is not the one it claims to be, use a trusted mirror",
        expected.sum().unwrap_or("?"),
        expected.describe()
    )
}

/// Sums of rolling sources trusted on first use: `<file name> <sha256>` lines in the root.
pub mod trusted {
    use std::path::Path;

    use anyhow::Result;

    const FILE: &str = "trusted-sums";

    pub fn get(root: &Path, file_name: &str) -> Option<String> {
        let text = std::fs::read_to_string(root.join(FILE)).ok()?;
        text.lines().find_map(|l| {
            let (name, sum) = l.split_once(' ')?;
            (name == file_name).then(|| sum.trim().to_string())
        })
    }

    /// Records (or, after an explicit `--sha256`, replaces) the trusted sum of a file.
    pub fn set(root: &Path, file_name: &str, sha256: &str) -> Result<()> {
        let text = std::fs::read_to_string(root.join(FILE)).unwrap_or_default();
        let mut lines: Vec<String> = text.lines().filter(|l| l.split(' ').next() != Some(file_name)).map(String::from).collect();
        lines.push(format!("{file_name} {sha256}"));
        crate::prefix::write_atomic(&root.join(FILE), (lines.join("\n") + "\n").as_bytes())
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
}
