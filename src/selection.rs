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
}

pub const HOW_TO_SELECT: &str = "no Lua version selected: set LUAENV_VERSION, pin one for this folder with `luaenv local <name>`, or set a default with `luaenv global <name>`";

/// Finds the selected version. `start_dirs` are walked up in order (a script's folder, then the current one).
pub fn select(root: &Path, start_dirs: &[&Path]) -> Option<Selected> {
    if let Some(v) = std::env::var_os("LUAENV_VERSION") {
        let v = v.to_string_lossy().trim().to_string();
        if !v.is_empty() {
            return Some(Selected { requested: v, origin: Origin::Env });
        }
    }
    for start in start_dirs {
        if let Some(found) = find_version_file(start) {
            return Some(found);
        }
    }
    let global = root.join("version");
    let requested = read_version_file(&global)?;
    Some(Selected { requested, origin: Origin::Global(global) })
}

/// Walks up from `start` to the nearest `.lua-version`, or `.tool-versions` with a `lua` line.
pub fn find_version_file(start: &Path) -> Option<Selected> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let file = d.join(".lua-version");
        if let Some(requested) = read_version_file(&file) {
            return Some(Selected { requested, origin: Origin::File(file) });
        }
        let tools = d.join(".tool-versions");
        if let Some(requested) = read_tool_versions(&tools) {
            return Some(Selected { requested, origin: Origin::File(tools) });
        }
        dir = d.parent();
    }
    None
}

/// The first word of the first line that is not blank or a comment; CRLF tolerated.
pub fn read_version_file(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .find(|l| !l.is_empty())
        .and_then(|l| l.split_whitespace().next())
        .map(String::from)
}

fn read_tool_versions(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let mut words = l.split('#').next().unwrap_or("").split_whitespace();
        (words.next() == Some("lua")).then(|| words.next().map(String::from)).flatten()
    })
}

/// The installed name for what was asked: the name itself, or for a spec like `5.4`
/// (or `latest`) the newest installed release that matches.
pub fn installed_name(versions_dir: &Path, requested: &str) -> Option<String> {
    if !requested.is_empty() && !requested.contains('/') && versions_dir.join(requested).is_dir() {
        return Some(requested.to_string());
    }
    let wanted = if requested == "latest" { Some(vec![]) } else { Version::parse(requested).map(|v| v.parts) };
    let wanted = wanted.filter(|p| p.len() < 3)?;
    crate::context::installed_in(versions_dir)
        .into_iter()
        .find(|name| Version::parse(name).is_some_and(|v| v.pre.is_none() && v.starts_with(&wanted)))
}

/// The message for a selection that names a version that is not installed.
pub fn not_installed(selected: &Selected) -> String {
    let source = match &selected.origin {
        Origin::Env => "LUAENV_VERSION".to_string(),
        Origin::File(p) | Origin::Global(p) => p.display().to_string(),
    };
    format!(
        "{source} selects Lua '{}', which is not installed; run `luaenv install {}`",
        selected.requested, selected.requested
    )
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
        assert_eq!(read_tool_versions(&t).as_deref(), Some("5.3.6"));
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
    }
}
