//! What a mirror says it holds: the names in its `SHA256SUMS`, its folder page (an nginx or
//! Apache autoindex, python's http.server), or a local folder's files.
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
        Location::Url(_) => match fetch::read_text(&Location::in_mirror(mirror, "SHA256SUMS")).ok()? {
            Some(sums) => Some(names_in_sums(&sums)),
            // No SHA256SUMS: the folder's own page, read no further than read_text's cap.
            None => {
                let page = fetch::read_text(&Location::in_mirror(mirror, "")).ok()??;
                Some(names_in_folder_page(&page)).filter(|names| !names.is_empty())
            }
        },
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

/// The release files a folder page links to. The page is hostile: only a link to a file in
/// this very folder counts (no `/`, no scheme, no `..`), and only when its name has the shape
/// of a release tarball; everything else on the page is ignored.
pub fn names_in_folder_page(page: &str) -> BTreeSet<String> {
    page.split("href=")
        .skip(1)
        .filter_map(|rest| {
            let quote = rest.chars().next()?;
            let value = match quote {
                '"' | '\'' => rest[1..].split(quote).next()?,
                _ => rest.split(|c: char| c.is_whitespace() || c == '>').next()?,
            };
            let value = value.split(['?', '#']).next()?;
            let value = value.strip_prefix("./").unwrap_or(value);
            let name = percent_encoding::percent_decode_str(value).decode_utf8().ok()?;
            is_release_file(&name).then(|| name.into_owned())
        })
        .collect()
}

/// `lua-5.4.7.tar.gz`, `LuaJIT-2.1.tar.gz`, `luajit2-2.1-20251030.tar.gz`, `luarocks-3.12.2.tar.gz`:
/// a known prefix, then version characters only.
fn is_release_file(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".tar.gz") else { return false };
    let version = ["lua-", "LuaJIT-", "luajit2-", "luarocks-"].iter().find_map(|p| stem.strip_prefix(p));
    version.is_some_and(|v| {
        !v.is_empty() && !v.contains("..") && v.starts_with(|c: char| c.is_ascii_digit()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b".-".contains(&b))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_names_of_a_sums_file() {
        let names = super::names_in_sums("abc  lua-5.4.7.tar.gz\ndef *lua-5.3.6.tar.gz\n\nbad\n0 ../x\n");
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["lua-5.3.6.tar.gz", "lua-5.4.7.tar.gz"]);
    }

    #[test]
    fn reads_the_release_files_of_a_folder_page_and_nothing_else() {
        // nginx autoindex, Apache, python's http.server, and hostile links.
        let page = r#"<html><body><h1>Index of /lua/</h1><pre><a href="../">../</a>
<a href="lua-5.4.6.tar.gz">lua-5.4.6.tar.gz</a>      02-May-2023 18:00  363329
<tr><td><a href='lua-5.3.6.tar.gz'>lua-5.3.6.tar.gz</a></td></tr>
<li><a href="lua-5.1.5.tar.gz?C=M">x</a></li><a href=./LuaJIT-2.1.tar.gz>j</a>
<a href="luarocks-3.12.2.tar.gz#top">r</a> <a href="luajit2-2.1-20251030.tar.gz">o</a>
<a href="../lua-5.4.9.tar.gz">up</a> <a href="http://elsewhere/lua-5.4.8.tar.gz">out</a>
<a href="/lua-5.4.5.tar.gz">abs</a> <a href="sub/lua-5.4.4.tar.gz">sub</a>
<a href="lua-5.4.3.tar.gz.sig">sig</a> <a href="lua-..%2Fx.tar.gz">dots</a> <a href="lua-%2e%2e.tar.gz">enc</a>
<a href="lua-5.4.2%2F..%2F.tar.gz">enc-slash</a> <a href="SHA256SUMS">sums</a> <a href="">empty</a> href="
"#;
        let names: Vec<String> = super::names_in_folder_page(page).into_iter().collect();
        assert_eq!(names, ["LuaJIT-2.1.tar.gz", "lua-5.1.5.tar.gz", "lua-5.3.6.tar.gz", "lua-5.4.6.tar.gz", "luajit2-2.1-20251030.tar.gz", "luarocks-3.12.2.tar.gz"]);
    }
}
