//! The built-in catalogue of known releases and their official SHA-256 sums.
//! `catalog.tsv` is the project's copy of the facts in `shared/checksums.tsv`.

use crate::version::Version;

const TABLE: &str = include_str!("catalog.tsv");

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Lua,
    Luajit,
    Luarocks,
}

#[derive(Debug, Clone)]
pub struct Release {
    pub kind: Kind,
    pub version: Version,
    pub url: String,
    pub sha256: String,
}

impl Release {
    /// The file name this release has in a mirror (SPEC "Where sources come from").
    pub fn file_name(&self) -> String {
        match self.kind {
            Kind::Lua => format!("lua-{}.tar.gz", self.version),
            Kind::Luarocks => format!("luarocks-{}.tar.gz", self.version),
            Kind::Luajit => {
                let tag = self.url.rsplit('/').next().unwrap_or_default();
                format!("LuaJIT-{}", tag.trim_start_matches('v'))
            }
        }
    }
}

/// Every release in the table, in table order.
pub fn releases() -> Vec<Release> {
    TABLE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let kind = match *cols.first()? {
                "lua" => Kind::Lua,
                "luajit" => Kind::Luajit,
                "luarocks" => Kind::Luarocks,
                _ => return None,
            };
            Some(Release {
                kind,
                version: Version::parse(cols.get(1)?)?,
                url: cols.get(2)?.to_string(),
                sha256: cols.get(3)?.to_ascii_lowercase(),
            })
        })
        .collect()
}

/// Releases of one kind, newest first.
pub fn of_kind(kind: Kind) -> Vec<Release> {
    let mut list: Vec<Release> = releases().into_iter().filter(|r| r.kind == kind).collect();
    list.sort_by(|a, b| b.version.cmp(&a.version));
    list
}

/// The official sum for a file name, if the table knows that file: such a file must match it.
pub fn official_sum(file_name: &str) -> Option<String> {
    releases().into_iter().find(|r| r.file_name() == file_name).map(|r| r.sha256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_the_fixture_sums() {
        assert_eq!(
            official_sum("lua-5.4.7.tar.gz").as_deref(),
            Some("9fbf5e28ef86c69858f6d3d34eccc32e911c1a28b4120ff3e84aaa70cfbf1e30")
        );
        assert_eq!(
            official_sum("lua-5.5.1.tar.gz").as_deref(),
            Some("1c4b4068d67061f2a2231ad2b5422e77acea1487ea9890f6320af614f4373dce")
        );
        assert!(official_sum("luajit2-2.1-20251030.tar.gz").is_none());
        assert_eq!(of_kind(Kind::Lua)[0].version.to_string(), "5.5.1");
        assert_eq!(of_kind(Kind::Luajit)[0].file_name(), "LuaJIT-2.1.0-beta3.tar.gz");
    }
}
