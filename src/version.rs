//! Version numbers (`5.4.7`, `2.1.0-beta3`) and their ordering.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub parts: Vec<u64>,
    /// A pre-release tag (`beta3`) sorts before the release itself.
    pub pre: Option<String>,
}

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let (nums, pre) = match s.split_once('-') {
            Some((n, p)) if !p.is_empty() => (n, Some(p.to_string())),
            Some(_) => return None,
            None => (s, None),
        };
        let parts: Option<Vec<u64>> = nums.split('.').map(|p| {
            if p.is_empty() || p.len() > 9 || !p.bytes().all(|b| b.is_ascii_digit()) { None } else { p.parse().ok() }
        }).collect();
        Some(Version { parts: parts?, pre })
    }

    /// `5.4` for `5.4.7`.
    pub fn series(&self) -> String {
        self.parts.iter().take(2).map(|p| p.to_string()).collect::<Vec<_>>().join(".")
    }

    /// True when `prefix` (`5`, `5.4`) is a leading part of this version.
    pub fn starts_with(&self, prefix: &[u64]) -> bool {
        self.parts.len() >= prefix.len() && self.parts[..prefix.len()] == *prefix
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.parts.len().max(other.parts.len());
        for i in 0..n {
            let a = self.parts.get(i).copied().unwrap_or(0);
            let b = other.parts.get(i).copied().unwrap_or(0);
            if a != b {
                return a.cmp(&b);
            }
        }
        match (&self.pre, &other.pre) {
            (None, None) => Ordering::Equal,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(a), Some(b)) => natural(a, b),
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let nums: Vec<String> = self.parts.iter().map(|p| p.to_string()).collect();
        f.write_str(&nums.join("."))?;
        if let Some(pre) = &self.pre {
            write!(f, "-{pre}")?;
        }
        Ok(())
    }
}

/// The plain spec behind a Lua version written as tags and archives name it: `v5.4.7`,
/// `lua-5.4.7`, `Lua-5.4`, `lua5.4` mean `5.4.7`/`5.4`. `None` when nothing was stripped or
/// what is left is not 1 to 3 dot-separated numbers: other names are left to their own rules.
pub fn plain_lua_spec(spec: &str) -> Option<&str> {
    let lower = spec.get(..4).map(str::to_ascii_lowercase);
    let rest = match lower.as_deref() {
        Some("lua-") => &spec[4..],
        _ if spec.len() > 3 && spec[..3].eq_ignore_ascii_case("lua") => &spec[3..],
        _ => spec.strip_prefix(['v', 'V'])?,
    };
    let v = Version::parse(rest)?;
    (v.pre.is_none() && (1..=3).contains(&v.parts.len())).then_some(rest)
}

/// Orders text with embedded numbers by value (`beta10` after `beta9`).
pub fn natural(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let la = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let lb = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let na = std::str::from_utf8(&a[..la]).unwrap().trim_start_matches('0');
                let nb = std::str::from_utf8(&b[..lb]).unwrap().trim_start_matches('0');
                let ord = na.len().cmp(&nb.len()).then(na.cmp(nb));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[la..];
                b = &b[lb..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

/// Orders install names (`5.4.7`, `luajit-2.1.0-beta3`, `5.4.7-aarch64-…`): by family, then version.
pub fn compare_names(a: &str, b: &str) -> Ordering {
    let key = |n: &str| -> (String, Option<Version>, String) {
        let (family, rest) = match n.find(|c: char| c.is_ascii_digit()) {
            Some(i) => (n[..i].to_string(), &n[i..]),
            None => (n.to_string(), ""),
        };
        // A cross build's target suffix starts after the third dot-separated number.
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        (family, Version::parse(&rest[..end]), rest[end..].to_string())
    };
    let (fa, va, ra) = key(a);
    let (fb, vb, rb) = key(b);
    // PUC Lua (no family prefix) comes first in a newest-first list, then LuaJIT, then OpenResty.
    fb.cmp(&fa).then(va.cmp(&vb)).then(natural(&ra, &rb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_versions() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("5.4.10") > v("5.4.9"));
        assert!(v("2.1.0-beta3") < v("2.1.0"));
        assert!(v("2.1.0-beta10") > v("2.1.0-beta9"));
        assert!(v("5.1") < v("5.1.1"));
        assert_eq!(v("5.4.7").series(), "5.4");
        assert!(Version::parse("5.4.x").is_none());
        assert!(Version::parse("5..4").is_none());
    }

    #[test]
    fn reads_tag_and_archive_spellings_as_plain_specs() {
        for (typed, plain) in [("v5.4.7", "5.4.7"), ("V5.4", "5.4"), ("lua-5.4.7", "5.4.7"), ("Lua-5.4.7", "5.4.7"), ("lua-5.4", "5.4"), ("lua5.4", "5.4")] {
            assert_eq!(plain_lua_spec(typed), Some(plain), "{typed}");
        }
        for other in ["5.4.7", "luajit-2.1", "lua", "v", "vx", "lua-", "lua-5.4.x", "luajit-2.1.0-beta3", "v5.4.7-rc1"] {
            assert_eq!(plain_lua_spec(other), None, "{other}");
        }
    }

    #[test]
    fn orders_install_names() {
        let mut names = vec!["5.1.5", "luajit-2.1.0-beta3", "5.4.7", "5.4.10", "openresty-2.1-20251030"];
        names.sort_by(|a, b| compare_names(b, a));
        assert_eq!(names, ["5.4.10", "5.4.7", "5.1.5", "luajit-2.1.0-beta3", "openresty-2.1-20251030"]);
    }
}
