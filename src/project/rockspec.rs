//! The project's rockspec: where its rocks are declared, the LuaRocks way (`dependencies`).
//! A rockspec is Lua a repository controls, so luaenv never runs it: a small tokenizer (Lua
//! strings, comments, brackets) finds the `dependencies = { ... }` table, reads its strings and
//! edits it in place, keeping every other byte (the user's formatting and comments).

use std::cmp::Ordering;
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::error::usage;

/// The rockspec at the project's root; an error when there are several (which one is meant?).
pub fn find(project: &Path) -> Result<Option<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(project)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rockspec") && p.symlink_metadata().is_ok_and(|m| m.is_file()))
        .collect();
    found.sort();
    match found.len() {
        0 | 1 => Ok(found.pop()),
        _ => Err(usage(format!(
            "{} has several rockspecs ({}); keep the project's own at its root and move the others into a folder (e.g. rockspecs/)",
            project.display(),
            found.iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// A folder name made into a rock name: lower case letters, digits, `-`, `_` and `.`.
pub fn rock_name(folder: &str) -> String {
    let name: String = folder.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '.' { c } else { '-' }).collect();
    let name = name.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if name.is_empty() { "project".into() } else { name.chars().take(64).collect() }
}

/// A new project's rockspec: no rocks yet, and a `builtin` build so `luarocks make` works.
pub fn template(rock: &str, lua_series: &str) -> String {
    format!(
        "-- The project's rockspec: `luaenv add <rock>` and `luaenv remove <rock>` edit its dependencies.\n\
rockspec_format = \"3.0\"\npackage = \"{rock}\"\nversion = \"dev-1\"\nsource = {{\n   url = \"git+file://.\",\n}}\n\
description = {{\n   summary = \"{rock}\",\n}}\ndependencies = {{\n   \"lua >= {lua_series}\",\n}}\n\
build = {{\n   type = \"builtin\",\n   modules = {{}},\n}}\n"
    )
}

/// The path of the rockspec `init` writes for a project folder.
pub fn default_path(project: &Path) -> PathBuf {
    let folder = project.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    project.join(format!("{}-dev-1.rockspec", rock_name(&folder)))
}

/// Reads a rockspec's dependencies; exit 2 with the file's name when it does not parse.
pub fn read(path: &Path) -> Result<Vec<Dependency>> {
    // The project's own file: too big, not a file or not text is bad input (exit 2) too.
    let bytes = match crate::fs::read_small_file(path, crate::limits::MAX_TEXT) {
        Ok(bytes) => bytes,
        Err(e) if matches!(e.kind(), std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput) => return Err(invalid(path, &e.to_string())),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot read {}", path.display()))),
    };
    let text = String::from_utf8(bytes).map_err(|_| invalid(path, "it is not UTF-8 text"))?;
    dependencies(&text).map_err(|why| invalid(path, &why))
}

pub fn invalid(path: &Path, why: &str) -> anyhow::Error {
    usage(format!("{} cannot be read as a rockspec ({why}); fix it (luaenv reads it without running it), nothing was changed", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Versions and constraints, as LuaRocks compares them (luarocks/core/vers.lua).

/// A rock version (`1.2.3-1`): numbers compared one by one, the revision only when both have one.
#[derive(Debug, Clone, PartialEq)]
pub struct RockVersion {
    parts: Vec<f64>,
    revision: Option<f64>,
}

impl RockVersion {
    pub fn parse(text: &str) -> Option<RockVersion> {
        let text = text.trim();
        let (main, revision) = match text.rsplit_once('-') {
            Some((m, r)) => (m, Some(r.parse::<f64>().ok()?)),
            None => (text, None),
        };
        if main.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        for piece in main.split(['.', '_']) {
            let digits: String = piece.chars().take_while(char::is_ascii_digit).collect();
            let word = piece[digits.len()..].to_ascii_lowercase();
            if !digits.is_empty() {
                parts.push(digits.parse::<f64>().ok()?);
            }
            if !word.is_empty() {
                // LuaRocks' deltas: dev and scm above every release, pre-releases below.
                let delta = match word.as_str() {
                    "dev" => 120000000.0,
                    "scm" => 110000000.0,
                    "cvs" => 100000000.0,
                    "rc" => -1000.0,
                    "pre" => -10000.0,
                    "beta" => -100000.0,
                    "alpha" => -1000000.0,
                    _ => return None,
                };
                parts.push(delta);
            }
        }
        Some(RockVersion { parts, revision })
    }

    fn cmp(&self, other: &RockVersion) -> Ordering {
        for i in 0..self.parts.len().max(other.parts.len()) {
            let (a, b) = (self.parts.get(i).copied().unwrap_or(0.0), other.parts.get(i).copied().unwrap_or(0.0));
            if a != b {
                return a.partial_cmp(&b).unwrap_or(Ordering::Equal);
            }
        }
        match (self.revision, other.revision) {
            (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
            _ => Ordering::Equal,
        }
    }
}

/// The newest first: for choosing among a server's releases.
pub fn newer_first(a: &str, b: &str) -> Ordering {
    match (RockVersion::parse(a), RockVersion::parse(b)) {
        (Some(x), Some(y)) => y.cmp(&x),
        _ => b.cmp(a),
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Constraint {
    op: &'static str,
    version: RockVersion,
}

impl Constraint {
    fn matches(&self, v: &RockVersion) -> bool {
        let c = &self.version;
        match self.op {
            // As LuaRocks' `__eq`: `1.0` is not `1.0.0`.
            "==" => v.parts.len() == c.parts.len() && v.cmp(c) == Ordering::Equal,
            "~=" => !(v.parts.len() == c.parts.len() && v.cmp(c) == Ordering::Equal),
            ">" => v.cmp(c) == Ordering::Greater,
            "<" => v.cmp(c) == Ordering::Less,
            ">=" => v.cmp(c) != Ordering::Less,
            "<=" => v.cmp(c) != Ordering::Greater,
            // `~> 1.2`: any 1.2.x
            _ => c.parts.iter().enumerate().all(|(i, p)| v.parts.get(i).copied().unwrap_or(0.0) == *p) && c.revision.is_none_or(|r| v.revision == Some(r)),
        }
    }
}

/// One entry of `dependencies`: `"inspect >= 3.1, < 4"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    /// The rock's name, lower case as LuaRocks keeps it.
    pub name: String,
    constraints: Vec<Constraint>,
    /// The entry as written.
    pub text: String,
}

impl Dependency {
    /// Parses an entry; `Err` says what is wrong with it.
    pub fn parse(text: &str) -> Result<Dependency, String> {
        let trimmed = text.trim();
        let end = trimmed.find(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c))).unwrap_or(trimmed.len());
        let (name, rest) = trimmed.split_at(end);
        if name.is_empty() || name.len() > 128 || name.starts_with(['.', '-']) {
            return Err(format!("'{}' does not start with a rock name", text.escape_debug()));
        }
        let mut constraints = Vec::new();
        for piece in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let op = ["==", "~=", ">=", "<=", "~>", ">", "<"].into_iter().find(|op| piece.starts_with(op));
            let version_text = piece[op.map_or(0, str::len)..].trim();
            let version = RockVersion::parse(version_text).ok_or_else(|| format!("'{}': '{}' is not a version constraint such as >= 1.0", text.escape_debug(), piece.escape_debug()))?;
            constraints.push(Constraint { op: op.unwrap_or("=="), version });
        }
        Ok(Dependency { name: name.to_ascii_lowercase(), constraints, text: trimmed.to_string() })
    }

    /// Whether a version (`1.0-1`) satisfies every constraint.
    pub fn matches(&self, version: &str) -> bool {
        RockVersion::parse(version).is_some_and(|v| self.constraints.iter().all(|c| c.matches(&v)))
    }

    /// The Lua interpreter itself, which luaenv pins on its own.
    pub fn is_lua(&self) -> bool {
        self.name == "lua"
    }
}

// ---------------------------------------------------------------------------------------------
// A tokenizer for as much Lua as finding and editing one table takes.

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// A string literal and its value.
    Str(String),
    Name,
    /// Punctuation, one character (`=`, `{`, `,`, ...); `==` and friends come as two.
    Punct(char),
    Other,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    span: Range<usize>,
}

fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// The tokens of `text`, comments and white space left out.
fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let b = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if b[i..].starts_with(b"--") {
            i += 2;
            match long_bracket(b, i) {
                Some(level) => i = long_end(text, i, level).ok_or_else(|| format!("a long comment opened on line {} is never closed", line_of(text, start)))?,
                None => i = b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |p| i + p),
            }
        } else if c == b'"' || c == b'\'' {
            let (value, end) = short_string(text, i).ok_or_else(|| format!("a string on line {} is never closed", line_of(text, start)))?;
            tokens.push(Token { kind: Kind::Str(value), span: start..end });
            i = end;
        } else if c == b'[' && long_bracket(b, i).is_some() {
            let level = long_bracket(b, i).unwrap();
            let end = long_end(text, i, level).ok_or_else(|| format!("a long string opened on line {} is never closed", line_of(text, start)))?;
            let open = level + 2;
            let mut value = &text[i + open..end - open];
            if let Some(rest) = value.strip_prefix('\n') {
                value = rest;
            }
            tokens.push(Token { kind: Kind::Str(value.to_string()), span: start..end });
            i = end;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            tokens.push(Token { kind: Kind::Name, span: start..i });
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                i += 1;
            }
            tokens.push(Token { kind: Kind::Other, span: start..i });
        } else if c.is_ascii() {
            tokens.push(Token { kind: Kind::Punct(c as char), span: start..i + 1 });
            i += 1;
        } else {
            let len = text[i..].chars().next().map_or(1, char::len_utf8);
            tokens.push(Token { kind: Kind::Other, span: start..i + len });
            i += len;
        }
    }
    check_brackets(text, &tokens)?;
    Ok(tokens)
}

/// `[[` or `[==[` at `i`: its level.
fn long_bracket(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'[') {
        return None;
    }
    let level = b[i + 1..].iter().take_while(|&&c| c == b'=').count();
    (b.get(i + 1 + level) == Some(&b'[')).then_some(level)
}

/// The end (exclusive) of the long bracket opened at `i`.
fn long_end(text: &str, i: usize, level: usize) -> Option<usize> {
    let close = format!("]{}]", "=".repeat(level));
    text[i + level + 2..].find(&close).map(|p| i + level + 2 + p + close.len())
}

/// A quoted string at `i`: its value (common escapes decoded) and where it ends.
fn short_string(text: &str, i: usize) -> Option<(String, usize)> {
    let quote = text.as_bytes()[i] as char;
    let mut value = String::new();
    let mut chars = text[i + 1..].char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            c if c == quote => return Some((value, i + 1 + at + 1)),
            '\n' => return None,
            '\\' => {
                let (_, e) = chars.next()?;
                value.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                });
            }
            c => value.push(c),
        }
    }
    None
}

fn check_brackets(text: &str, tokens: &[Token]) -> Result<(), String> {
    let mut open: Vec<(char, usize)> = Vec::new();
    for t in tokens {
        if let Kind::Punct(c) = t.kind {
            match c {
                '{' | '(' | '[' => open.push((c, t.span.start)),
                '}' | ')' | ']' => {
                    let want = match c { '}' => '{', ')' => '(', _ => '[' };
                    match open.pop() {
                        Some((o, _)) if o == want => {}
                        _ => return Err(format!("an unexpected '{c}' on line {}", line_of(text, t.span.start))),
                    }
                }
                _ => {}
            }
        }
    }
    match open.last() {
        Some((c, at)) => Err(format!("the '{c}' on line {} is never closed", line_of(text, *at))),
        None => Ok(()),
    }
}

/// The top-level `dependencies = { ... }` table: the tokens of its entries and its braces.
struct Table {
    open: usize,
    close: usize,
    /// Entries (string tokens), each with the separator after it, if any.
    entries: Vec<(Token, Option<Token>)>,
}

fn find_table(text: &str) -> Result<Option<Table>, String> {
    let tokens = tokenize(text)?;
    let mut depth = 0usize;
    let mut found = None;
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        match t.kind {
            Kind::Punct('{' | '(' | '[') => depth += 1,
            Kind::Punct('}' | ')' | ']') => depth = depth.saturating_sub(1),
            Kind::Name if depth == 0 && &text[t.span.clone()] == "dependencies" && tokens.get(i + 1).is_some_and(|n| n.kind == Kind::Punct('=')) => {
                let after_dot = i > 0 && tokens[i - 1].kind == Kind::Punct('.');
                if !after_dot {
                    if found.is_some() {
                        return Err("it sets dependencies twice".into());
                    }
                    if tokens.get(i + 2).is_none_or(|n| n.kind != Kind::Punct('{')) {
                        return Err(format!("dependencies on line {} is not a table of strings", line_of(text, t.span.start)));
                    }
                    found = Some(i + 2);
                }
            }
            _ => {}
        }
        i += 1;
    }
    let Some(open) = found else { return Ok(None) };
    let mut entries: Vec<(Token, Option<Token>)> = Vec::new();
    let mut j = open + 1;
    loop {
        let t = tokens.get(j).ok_or("the dependencies table is never closed")?;
        match &t.kind {
            Kind::Punct('}') => return Ok(Some(Table { open: tokens[open].span.start, close: t.span.start, entries })),
            Kind::Str(_) => {
                let sep = tokens.get(j + 1).filter(|n| matches!(n.kind, Kind::Punct(',' | ';'))).cloned();
                j += if sep.is_some() { 2 } else { 1 };
                if sep.is_none() && tokens.get(j).is_some_and(|n| n.kind != Kind::Punct('}')) {
                    return Err(format!("a ',' is missing after the dependency on line {}", line_of(text, t.span.start)));
                }
                entries.push((t.clone(), sep));
            }
            _ => return Err(format!("dependencies holds something other than strings on line {} (luaenv reads a plain list of strings)", line_of(text, t.span.start))),
        }
    }
}

fn value(t: &Token) -> &str {
    match &t.kind {
        Kind::Str(s) => s,
        _ => "",
    }
}

/// The dependencies the rockspec declares, in order.
pub fn dependencies(text: &str) -> Result<Vec<Dependency>, String> {
    let Some(table) = find_table(text)? else { return Ok(Vec::new()) };
    table.entries.iter().map(|(t, _)| Dependency::parse(value(t))).collect()
}

/// `text` with `dep` in its dependencies: replacing the entry for the same rock, else added
/// after the last one in the same layout and quotes; a table is added when there is none.
pub fn add(text: &str, dep: &Dependency) -> Result<String, String> {
    // A file with Windows line ends keeps them.
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let Some(table) = find_table(text)? else {
        let sep = if text.is_empty() || text.ends_with('\n') { "" } else { nl };
        return Ok(format!("{text}{sep}dependencies = {{{nl}   {},{nl}}}{nl}", quoted(&dep.text, '"')));
    };
    let same = table.entries.iter().find(|(t, _)| Dependency::parse(value(t)).is_ok_and(|d| d.name == dep.name));
    if let Some((t, _)) = same {
        let q = quote_of(text, t);
        return Ok(splice(text, t.span.clone(), &quoted(&dep.text, q)));
    }
    let Some((last, sep)) = table.entries.last() else {
        let inner = &text[table.open + 1..table.close];
        return Ok(if inner.contains('\n') {
            splice(text, table.open + 1..table.open + 1, &format!("{nl}   {},", quoted(&dep.text, '"')))
        } else {
            splice(text, table.open + 1..table.close, &format!(" {} ", quoted(&dep.text, '"')))
        });
    };
    let entry = quoted(&dep.text, quote_of(text, last));
    let after = sep.as_ref().map_or(last.span.end, |s| s.span.end);
    let multiline = text[last.span.end..table.close].contains('\n');
    if !multiline {
        return Ok(match sep {
            Some(_) => splice(text, after..after, &format!(" {entry}{}", &text[sep.as_ref().unwrap().span.clone()])),
            None => splice(text, after..after, &format!(", {entry}")),
        });
    }
    // One entry a line: the new one on its own line, indented like the last, at the end of
    // the table (below any comment lines after the last entry) when `}` starts its line.
    let line_start = text[..last.span.start].rfind('\n').map_or(0, |p| p + 1);
    let indent: String = text[line_start..last.span.start].chars().take_while(|c| c.is_whitespace()).collect();
    let close_line = text[..table.close].rfind('\n').map_or(0, |p| p + 1);
    let trailing = sep.as_ref().map_or(String::new(), |s| text[s.span.clone()].to_string());
    let mut out = text.to_string();
    if close_line > after && text[close_line..table.close].trim().is_empty() {
        out.insert_str(close_line, &format!("{indent}{entry}{trailing}{nl}"));
    } else {
        let line_end = text[after..].find(nl).map_or(text.len(), |p| after + p);
        out.insert_str(line_end, &format!("{nl}{indent}{entry}{trailing}"));
    }
    if sep.is_none() {
        out.insert(last.span.end, ',');
    }
    Ok(out)
}

/// `text` without the dependency on `name`; `None` when there is none.
pub fn remove(text: &str, name: &str) -> Result<Option<String>, String> {
    let Some(table) = find_table(text)? else { return Ok(None) };
    let Some(index) = table.entries.iter().position(|(t, _)| Dependency::parse(value(t)).is_ok_and(|d| d.name == name)) else { return Ok(None) };
    let (entry, sep) = &table.entries[index];
    let end = sep.as_ref().map_or(entry.span.end, |s| s.span.end);
    let line_start = text[..entry.span.start].rfind('\n').map_or(0, |p| p + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |p| end + p);
    let rest = text[end..line_end].trim_start();
    let own_line = text[line_start..entry.span.start].trim().is_empty() && (rest.is_empty() || (rest.starts_with("--") && !rest.starts_with("--[")));
    if own_line && line_end < table.close {
        // The whole line goes, its comment with it: it spoke of this entry.
        return Ok(Some(splice(text, line_start..(line_end + 1).min(text.len()), "")));
    }
    if sep.is_some() {
        let next = text[end..].len() - text[end..].trim_start_matches([' ', '\t']).len();
        return Ok(Some(splice(text, entry.span.start..end + next, "")));
    }
    // The last entry without a separator: the one before it goes instead.
    let from = match index.checked_sub(1).and_then(|i| table.entries[i].1.as_ref()) {
        Some(prev_sep) => prev_sep.span.start,
        None => entry.span.start,
    };
    Ok(Some(splice(text, from..entry.span.end, "")))
}

fn splice(text: &str, range: Range<usize>, with: &str) -> String {
    format!("{}{with}{}", &text[..range.start], &text[range.end..])
}

fn quote_of(text: &str, t: &Token) -> char {
    match text.as_bytes()[t.span.start] {
        b'\'' => '\'',
        _ => '"',
    }
}

/// A Lua string literal in the given quotes; dependency texts hold no quote or backslash.
fn quoted(s: &str, q: char) -> String {
    format!("{q}{s}{q}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(s: &str) -> Dependency {
        Dependency::parse(s).unwrap()
    }

    #[test]
    fn constraints_compare_as_luarocks_does() {
        assert!(dep("inspect >= 3.1").matches("3.1.3-0"));
        assert!(!dep("inspect >= 3.1, < 3.1.3").matches("3.1.3-0"));
        assert!(dep("inspect ~> 3.1").matches("3.1.9-1") && !dep("inspect ~> 3.1").matches("3.2-1"));
        assert!(dep("inspect 1.0").matches("1.0-1") && !dep("inspect 1.0").matches("1.1-1"));
        assert!(dep("inspect").matches("0.1-1"));
        assert!(dep("inspect == 1.0-2").matches("1.0-2") && !dep("inspect == 1.0-2").matches("1.0-1"));
        assert!(dep("x >= 1.0").matches("scm-1") && !dep("x >= 1.0").matches("1.0rc1-1"));
        assert_eq!(dep("Inspect>=1").name, "inspect");
        for bad in ["", ">= 1.0", "x >= banana", "x >=", "x 1.0 2.0"] {
            assert!(Dependency::parse(bad).is_err(), "{bad}");
        }
        let mut versions = vec!["1.0-1", "1.10-1", "1.2-1", "1.2-2"];
        versions.sort_by(|a, b| newer_first(a, b));
        assert_eq!(versions, ["1.10-1", "1.2-2", "1.2-1", "1.0-1"]);
    }

    const SPEC: &str = "package = \"app\"\n-- our rocks\ndependencies = {\n   \"lua >= 5.1\", -- the interpreter\n   'inspect >= 3.1',\n   -- json for the API\n   \"dkjson\",\n}\nbuild = { type = \"builtin\", modules = { dependencies = \"x\" } }\n";

    #[test]
    fn reads_the_dependencies_in_both_quote_styles_and_long_strings() {
        let names: Vec<String> = dependencies(SPEC).unwrap().into_iter().map(|d| d.name).collect();
        assert_eq!(names, ["lua", "inspect", "dkjson"]);
        assert_eq!(dependencies("x = 1\n").unwrap(), vec![]);
        assert_eq!(dependencies("dependencies = { [[penlight]]; \"a > 1\" }").unwrap().len(), 2);
        assert_eq!(dependencies("--[==[ dependencies = { \"no\" } ]==]\ndependencies = {}").unwrap(), vec![]);
        for bad in ["dependencies = { \"a\"", "dependencies = { \"a\" \"b\" }", "dependencies = { f() }", "dependencies = { \"a }", "dependencies = {}\ndependencies = {}", "x = [[ open"] {
            assert!(dependencies(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn adding_keeps_comments_quotes_and_layout() {
        let added = add(SPEC, &dep("penlight >= 1.5")).unwrap();
        assert_eq!(added, SPEC.replace("   \"dkjson\",\n", "   \"dkjson\",\n   \"penlight >= 1.5\",\n"));
        // The same rock again replaces its entry, in its own quotes.
        let replaced = add(SPEC, &dep("inspect ~> 3.1")).unwrap();
        assert_eq!(replaced, SPEC.replace("'inspect >= 3.1'", "'inspect ~> 3.1'"));
        // One line, no trailing separator; an empty table; none at all.
        assert_eq!(add("dependencies = { 'lua >= 5.1' } -- mine\n", &dep("a")).unwrap(), "dependencies = { 'lua >= 5.1', 'a' } -- mine\n");
        assert_eq!(add("dependencies = {}\n", &dep("a")).unwrap(), "dependencies = { \"a\" }\n");
        assert_eq!(add("dependencies = {\n}\n", &dep("a")).unwrap(), "dependencies = {\n   \"a\",\n}\n");
        assert_eq!(add("package = 'x'", &dep("a 1.0")).unwrap(), "package = 'x'\ndependencies = {\n   \"a 1.0\",\n}\n");
        // Multi-line without a trailing comma: one is added after the old last entry.
        assert_eq!(add("dependencies = {\n  \"a\" -- A\n}\n", &dep("b")).unwrap(), "dependencies = {\n  \"a\", -- A\n  \"b\"\n}\n");
        assert_eq!(add("dependencies = {\n  'a', -- A\n  -- more below\n}\n", &dep("b")).unwrap(), "dependencies = {\n  'a', -- A\n  -- more below\n  'b',\n}\n");
        assert_eq!(add("dependencies = {\n  'a',\n  'b' }\n", &dep("c")).unwrap(), "dependencies = {\n  'a',\n  'b', 'c' }\n");
        let crlf = SPEC.replace('\n', "\r\n");
        assert_eq!(add(&crlf, &dep("penlight")).unwrap(), crlf.replace("   \"dkjson\",\r\n", "   \"dkjson\",\r\n   \"penlight\",\r\n"));
        assert_eq!(remove(&crlf, "inspect").unwrap().unwrap(), crlf.replace("   'inspect >= 3.1',\r\n", ""));
        let again = add(&added, &dep("zzz")).unwrap();
        assert_eq!(dependencies(&again).unwrap().len(), 5);
    }

    #[test]
    fn removing_keeps_everything_else() {
        assert_eq!(remove(SPEC, "inspect").unwrap().unwrap(), SPEC.replace("   'inspect >= 3.1',\n", ""));
        assert_eq!(remove(SPEC, "nope").unwrap(), None);
        assert_eq!(remove("dependencies = { 'a', 'b' }", "b").unwrap().unwrap(), "dependencies = { 'a' }");
        assert_eq!(remove("dependencies = { 'a', 'b' }", "a").unwrap().unwrap(), "dependencies = { 'b' }");
        // The last one: an empty table stays.
        assert_eq!(remove("dependencies = {\n   \"a\", -- why\n}\n", "a").unwrap().unwrap(), "dependencies = {\n}\n");
        assert_eq!(remove("dependencies = { \"a\" }", "a").unwrap().unwrap(), "dependencies = {  }");
        let removed = remove(&remove(SPEC, "dkjson").unwrap().unwrap(), "inspect").unwrap().unwrap();
        assert_eq!(removed, "package = \"app\"\n-- our rocks\ndependencies = {\n   \"lua >= 5.1\", -- the interpreter\n   -- json for the API\n}\nbuild = { type = \"builtin\", modules = { dependencies = \"x\" } }\n");
    }

    #[test]
    fn a_new_project_gets_a_rockspec_luaenv_can_read() {
        assert_eq!(rock_name("My App!"), "my-app");
        assert_eq!(rock_name("--"), "project");
        let spec = template("my-app", "5.4");
        assert_eq!(dependencies(&spec).unwrap(), vec![dep("lua >= 5.4")]);
    }
}
