//! Shell integration: the activate scripts (templates in the top-level `shims/` folder),
//! filled in with one quoting helper per shell. (Completion scripts are the `completions`
//! command's: a domain module never imports the CLI.)

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

const ACTIVATE_SH: &str = include_str!("../shims/activate.sh");
const COMPLETIONS_BASH: &str = include_str!("../shims/completions.bash");
const COMPLETIONS_ZSH: &str = include_str!("../shims/completions.zsh");
const ACTIVATE_FISH: &str = include_str!("../shims/activate.fish");
const ACTIVATE_PS1: &str = include_str!("../shims/activate.ps1");

/// Quotes a string as one literal word for `shell`.
pub fn quote(shell: Shell, s: &str) -> String {
    match shell {
        Shell::Bash | Shell::Zsh => format!("'{}'", s.replace('\'', "'\\''")),
        Shell::Fish => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Shell::Powershell => format!("'{}'", s.replace('\'', "''")),
    }
}

pub fn activate_script(shell: Shell, exe: &Path, shims: &Path) -> String {
    let template = match shell {
        Shell::Bash => format!("{ACTIVATE_SH}{COMPLETIONS_BASH}"),
        Shell::Zsh => format!("{ACTIVATE_SH}{COMPLETIONS_ZSH}"),
        Shell::Fish => ACTIVATE_FISH.to_string(),
        Shell::Powershell => ACTIVATE_PS1.to_string(),
    };
    let bin_dir = exe.parent().unwrap_or(Path::new("/"));
    let mut script = template
        .replace("@SHELL@", &format!("{shell:?}").to_lowercase())
        .replace("@SHIMS@", &quote(shell, &shims.to_string_lossy()))
        .replace("@BIN_DIR@", &quote(shell, &bin_dir.to_string_lossy()))
        .replace("@EXE@", &quote(shell, &exe.to_string_lossy()));
    // A root chosen with LUAENV_ROOT at activation stays chosen for the shims.
    if let Some(root) = std::env::var_os("LUAENV_ROOT").filter(|r| !r.is_empty()) {
        let root = quote(shell, &root.to_string_lossy());
        script.push_str(&match shell {
            Shell::Bash | Shell::Zsh => format!("export LUAENV_ROOT={root}\n"),
            Shell::Fish => format!("set -gx LUAENV_ROOT {root}\n"),
            Shell::Powershell => format!("$env:LUAENV_ROOT = {root}\n"),
        });
    }
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_hostile_paths() {
        let p = "/tmp/a b/it's $HOME/\"q\"\\x";
        assert_eq!(quote(Shell::Bash, p), "'/tmp/a b/it'\\''s $HOME/\"q\"\\x'");
        assert_eq!(quote(Shell::Fish, p), "'/tmp/a b/it\\'s $HOME/\"q\"\\\\x'");
        assert_eq!(quote(Shell::Powershell, p), "'/tmp/a b/it''s $HOME/\"q\"\\x'");
    }

    #[test]
    fn activate_scripts_quote_hostile_paths() {
        let exe = Path::new("/opt/it's $HOME/\"bin\"\\x/luaenv");
        let shims = Path::new("/data/it's a \"root\" $HOME\\x/shims");
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Powershell] {
            insta::assert_snapshot!(format!("activate_{shell:?}").to_lowercase(), activate_script(shell, exe, shims));
        }
    }
}
