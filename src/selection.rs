//! Which version is selected, and why: `$LUAENV_VERSION`, the nearest `.lua-version`
//! (or a `lua` line of `.tool-versions`), the global `version` file. Shared by the shims
//! and the CLI so there is one truth; kept free of anything slow.

use std::path::{Path, PathBuf};

use crate::version::Version;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Env,
    File(PathBuf),
    Global(PathBuf),
}

impl Origin {
    pub fn describe(&self) -> String {
        match self {
            Origin::Env => "set by LUAENV_VERSION".into(),
            Origin::File(p) | Origin::Global(p) => format!("set by {}", p.display()),
        }
    }

    /// The file that pins a project, if the choice came from one.
    pub fn project_file(&self) -> Option<&Path> {
        match self {
            Origin::File(p) => Some(p),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Selected {
    /// What was asked for: an install name or a spec such as `5.4`.
    pub requested: String,
    pub origin: Origin,
    /// Why the file that made the choice cannot be read (a FIFO, a device, bad UTF-8, too big):
    /// the choice is then an error, never a silent fall-through to another file.
    pub problem: Option<String>,
}

impl Selected {
    fn new(requested: String, origin: Origin) -> Selected {
        Selected { requested, origin, problem: None }
    }

    fn broken(origin: Origin, problem: String) -> Selected {
        Selected { requested: String::new(), origin, problem: Some(problem) }
    }
}

/// Version files, `projects`, `mirror` and lock files are small: anything bigger is refused.
pub const SMALL_FILE_MAX: u64 = 64 * 1024;
/// The registry of projects and lock files may be longer than a version file.
pub const PROJECTS_MAX: u64 = 1024 * 1024;

/// A small text file: `Ok(None)` when it does not exist, an error that names the file when it
/// is not a regular file, too big or not UTF-8.
pub fn read_small_text(path: &Path, max: u64) -> Result<Option<String>, String> {
    let bytes = match crate::fs::read_small_file(path, max) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}; replace it with a plain text file", path.display())),
    };
    String::from_utf8(bytes).map(Some).map_err(|_| format!("{} is not UTF-8 text; rewrite it (e.g. `echo 5.4.7 > {}`)", path.display(), path.display()))
}

pub const HOW_TO_SELECT: &str = "no Lua version selected: set LUAENV_VERSION, pin one for this folder with `luaenv local <name>`, or set a default with `luaenv global <name>`";

/// Finds the selected version. `start_dirs` are walked up in order (a script's folder, then the current one).
pub fn select(root: &Path, start_dirs: &[&Path]) -> Option<Selected> {
    if let Some(v) = std::env::var_os("LUAENV_VERSION") {
        let v = v.to_string_lossy().trim().to_string();
        if !v.is_empty() {
            return Some(Selected::new(v, Origin::Env));
        }
    }
    for start in start_dirs {
        if let Some(found) = find_version_file(start) {
            return Some(found);
        }
    }
    let global = root.join("version");
    match read_version_file_checked(&global) {
        Ok(requested) => Some(Selected::new(requested?, Origin::Global(global))),
        Err(problem) => Some(Selected::broken(Origin::Global(global), problem)),
    }
}

/// Walks up from `start` to the nearest `.lua-version`, or `.tool-versions` with a `lua` line.
pub fn find_version_file(start: &Path) -> Option<Selected> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let file = d.join(".lua-version");
        match read_version_file_checked(&file) {
            Ok(Some(_)) if leaves_its_folder(&file) => return Some(Selected::broken(Origin::File(file.clone()), link_refused(&file))),
            Ok(Some(requested)) => return Some(Selected::new(requested, Origin::File(file))),
            Ok(None) => {}
            Err(problem) => return Some(Selected::broken(Origin::File(file), problem)),
        }
        let tools = d.join(".tool-versions");
        match read_small_text(&tools, SMALL_FILE_MAX).map(|t| t.and_then(|t| tool_versions_lua(&t))) {
            Ok(Some(_)) if leaves_its_folder(&tools) => return Some(Selected::broken(Origin::File(tools.clone()), link_refused(&tools))),
            Ok(Some(requested)) => return Some(Selected::new(requested, Origin::File(tools))),
            Ok(None) => {}
            Err(problem) => return Some(Selected::broken(Origin::File(tools), problem)),
        }
        dir = d.parent();
    }
    None
}

/// Whether a version file found in a folder is a link to a file outside that folder: a
/// repository could point it at any file of the user's (`~/.git-credentials`), whose first
/// line every message would then show. Checked only for a file that was found (one `lstat`).
fn leaves_its_folder(file: &Path) -> bool {
    if !file.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
        return false;
    }
    let (Ok(target), Some(Ok(folder))) = (std::fs::canonicalize(file), file.parent().map(std::fs::canonicalize)) else { return true };
    !target.starts_with(folder)
}

fn link_refused(file: &Path) -> String {
    format!(
        "{} is a link to a file outside its folder, which luaenv does not read (a repository can point it anywhere); replace it with a plain file naming the version: `luaenv local <name>`",
        file.display()
    )
}

/// The first word of the first line that is not blank or a comment; CRLF tolerated.
/// `None` when the file is missing, empty or unreadable (see `read_version_file_checked`).
pub fn read_version_file(path: &Path) -> Option<String> {
    read_version_file_checked(path).ok().flatten()
}

/// As `read_version_file`, with an error naming the file when it cannot be read safely.
pub fn read_version_file_checked(path: &Path) -> Result<Option<String>, String> {
    let Some(text) = read_small_text(path, SMALL_FILE_MAX)? else { return Ok(None) };
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .find(|l| !l.is_empty())
        .and_then(|l| l.split_whitespace().next())
        .map(String::from))
}

fn tool_versions_lua(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let mut words = l.split('#').next().unwrap_or("").split_whitespace();
        (words.next() == Some("lua")).then(|| words.next().map(String::from)).flatten()
    })
}

/// The installed name for what was asked: the name itself, or for a spec like `5.4`
/// (or `latest`) the newest installed release that matches.
pub fn installed_name(versions_dir: &Path, requested: &str) -> Option<String> {
    // A name from a file never reaches the file system unchecked (`..`, `.staging-*`, `a/b`).
    if !crate::context::is_install_name(requested) {
        return None;
    }
    if versions_dir.join(requested).is_dir() {
        return Some(requested.to_string());
    }
    // `v5.4.7`, `lua-5.4` in a version file or an argument: what `5.4.7`, `5.4` name.
    if let Some(plain) = crate::version::plain_lua_spec(requested) {
        return installed_name(versions_dir, plain);
    }
    let wanted = if requested == "latest" { Some(vec![]) } else { Version::parse(requested).map(|v| v.parts) };
    let wanted = wanted.filter(|p| p.len() < 3)?;
    crate::context::installed_in(versions_dir)
        .into_iter()
        .find(|name| Version::parse(name).is_some_and(|v| v.pre.is_none() && v.starts_with(&wanted)))
}

/// The message for a selection that names a version that is not installed (or that cannot
/// name one: an unreadable file, a name that is not a version name).
pub fn not_installed(selected: &Selected) -> String {
    if let Some(problem) = &selected.problem {
        return problem.clone();
    }
    let source = match &selected.origin {
        Origin::Env => "LUAENV_VERSION".to_string(),
        Origin::File(p) | Origin::Global(p) => p.display().to_string(),
    };
    if !crate::context::is_install_name(&selected.requested) {
        // Shown short: whatever the file holds, the message stays one line.
        let mut shown: String = selected.requested.chars().take(40).collect::<String>().escape_debug().to_string();
        if selected.requested.chars().count() > 40 {
            shown.push('…');
        }
        return format!("{source} selects '{shown}', which is not a Lua version name (expected something like 5.4.7); fix it, or pick one with `luaenv local <name>`");
    }
    let requested = &selected.requested;
    match install_hint(requested) {
        Some(spec) => format!("{source} selects Lua '{requested}', which is not installed; run `luaenv install {spec}`"),
        None => format!(
            "{source} selects Lua '{requested}', which is not installed and is not a version luaenv knows; fix {} (`luaenv install --list` shows what luaenv can install, `luaenv versions` what is installed)",
            if matches!(selected.origin, Origin::Env) { "that variable" } else { "that file" }
        ),
    }
}

/// The spec to suggest installing for a name (`v5.4.7` → `5.4.7`) when it names a release
/// luaenv knows, read from the catalogue's table on this cold path: the shim has no resolver,
/// and must not suggest an install that would be refused.
pub fn install_hint(name: &str) -> Option<String> {
    const TABLE: &str = include_str!("catalog.tsv");
    let plain = crate::version::plain_lua_spec(name).unwrap_or(name);
    let rows = || TABLE.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split_once('\t')).filter_map(|(kind, rest)| Some((kind, rest.split('\t').next()?)));
    let known = if let Some(tag) = plain.strip_prefix("luajit-") {
        matches!(tag, "2.1" | "2.0") || rows().any(|(kind, v)| kind == "luajit" && v == tag)
    } else if let Some(date) = plain.strip_prefix("openresty-2.1-") {
        date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit())
    } else {
        // A release, or a series one of them belongs to (`5.4` installs the newest 5.4).
        let shape = crate::version::Version::parse(plain).is_some_and(|v| v.pre.is_none() && (1..=3).contains(&v.parts.len()));
        plain == "latest" || (shape && rows().any(|(kind, v)| kind == "lua" && (v == plain || v.strip_prefix(plain).is_some_and(|r| r.starts_with('.')))))
    };
    known.then(|| plain.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_version_files_leniently() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join(".lua-version");
        std::fs::write(&f, "# pinned\r\n\r\n5.4.7 extra words\r\n").unwrap();
        assert_eq!(read_version_file(&f).as_deref(), Some("5.4.7"));
        let t = dir.path().join(".tool-versions");
        std::fs::write(&t, "nodejs 20\nlua 5.3.6 # comment\n").unwrap();
        assert_eq!(tool_versions_lua(&std::fs::read_to_string(&t).unwrap()).as_deref(), Some("5.3.6"));
    }

    #[test]
    fn spec_picks_newest_installed() {
        let dir = tempfile::tempdir().unwrap();
        for v in ["5.4.6", "5.4.7", "5.3.6", "5.4.10-aarch64-unknown-linux-gnu"] {
            std::fs::create_dir(dir.path().join(v)).unwrap();
        }
        assert_eq!(installed_name(dir.path(), "5.4").as_deref(), Some("5.4.7"));
        assert_eq!(installed_name(dir.path(), "5.3.6").as_deref(), Some("5.3.6"));
        assert_eq!(installed_name(dir.path(), "latest").as_deref(), Some("5.4.7"));
        assert_eq!(installed_name(dir.path(), "5.1"), None);
        assert_eq!(installed_name(dir.path(), "v5.4").as_deref(), Some("5.4.7"));
        assert_eq!(installed_name(dir.path(), "lua-5.3.6").as_deref(), Some("5.3.6"));
        std::fs::create_dir(dir.path().join(".staging-5.4.7-x")).unwrap();
        for hostile in ["..", ".", ".staging-5.4.7-x", "../versions/5.4.7", ""] {
            assert_eq!(installed_name(dir.path(), hostile), None, "{hostile}");
        }
    }

    #[test]
    fn hostile_version_files_are_errors_that_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join(".lua-version");
        std::os::unix::fs::symlink("/dev/zero", &f).unwrap();
        let err = read_version_file_checked(&f).unwrap_err();
        assert!(err.contains(".lua-version") && err.contains("not a regular file"), "{err}");
        std::fs::remove_file(&f).unwrap();
        assert!(std::process::Command::new("mkfifo").arg(&f).status().unwrap().success());
        assert!(read_version_file_checked(&f).unwrap_err().contains("not a regular file"));
        std::fs::remove_file(&f).unwrap();
        std::fs::write(&f, b"5.4.7\xff\n").unwrap();
        assert!(read_version_file_checked(&f).unwrap_err().contains("not UTF-8"));
        std::fs::write(&f, vec![b'5'; 70 * 1024]).unwrap();
        assert!(read_version_file_checked(&f).unwrap_err().contains("larger than 64 KiB"));
        // The nearest file decides, even when it is broken: no silent fall-through to a parent's.
        std::fs::write(dir.path().join(".tool-versions"), "lua 5.3.6\n").unwrap();
        let sel = find_version_file(dir.path()).unwrap();
        assert!(sel.problem.is_some() && not_installed(&sel).contains("larger than"));
    }
}
