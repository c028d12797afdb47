//! What a mirror says it holds: the names in its `SHA256SUMS`, or a local folder's files.
//! Lets a series spec (`5.4`) pick the newest release that is really there.

use std::collections::BTreeSet;

use crate::install::fetch::{self, Location};

/// The file names a mirror publishes, or `None` when it publishes no list (or it cannot be
/// read now: the fetch that follows reports that with its own words).
pub fn list(mirror: &str) -> Option<BTreeSet<String>> {
    match Location::parse(mirror) {
        Location::Path(dir) if dir.is_dir() => {
            let names = std::fs::read_dir(&dir).ok()?.flatten().filter(|e| e.path().is_file()).filter_map(|e| e.file_name().into_string().ok());
            Some(names.collect())
        }
        Location::Path(_) => None,
        Location::Url(_) => {
            let sums = fetch::read_text(&Location::in_mirror(mirror, "SHA256SUMS")).ok()??;
            Some(names_in_sums(&sums))
        }
    }
}

/// The file names of a `sha256sum` listing (`<hex>  <name>`, or `<hex> *<name>` in binary mode).
pub fn names_in_sums(sums: &str) -> BTreeSet<String> {
    sums.lines()
        .filter_map(|line| line.trim().split_once(char::is_whitespace))
        .map(|(_, name)| name.trim_start().trim_start_matches('*').to_string())
        .filter(|name| !name.is_empty() && !name.contains('/'))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_names_of_a_sums_file() {
        let names = super::names_in_sums("abc  lua-5.4.7.tar.gz\ndef *lua-5.3.6.tar.gz\n\nbad\n0 ../x\n");
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["lua-5.3.6.tar.gz", "lua-5.4.7.tar.gz"]);
    }
}
