//! Shell integration: every script luaenv writes is a template in the top-level `shims/`
//! folder, filled by one renderer (`render`) that quotes each value for the template's shell.
//! (Completion scripts are the `completions` command's: a domain module never imports the CLI.)

use std::borrow::Cow;
use std::collections::HashSet;
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

/// What fills a template's `@NAME@` placeholder.
pub enum Value<'a> {
    /// A path or any text: one literal word, quoted for the template's shell.
    Word(Cow<'a, str>),
    /// A word that may be absent: a line holding it is written only when there is one.
    Optional(Option<Cow<'a, str>>),
    /// A name luaenv made (a shell, a program, a checked install name), written as it is:
    /// it must be a plain token (letters, digits, `.`, `_`, `-`, `+`) that no shell reads as code.
    Name(&'a str),
    /// Environment variables: each line holding `@X.NAME@` or `@X.VALUE@` is written once per
    /// variable, its name checked to be an identifier and its value quoted.
    Vars(&'a [(String, String)]),
    /// Another template, spliced in place of a line holding only its placeholder and filled
    /// with the same values.
    Include(&'a str),
}

impl<'a> Value<'a> {
    /// A path as one quoted word.
    pub fn path(path: &'a Path) -> Self {
        Value::Word(path.to_string_lossy())
    }
}

/// Fills `template` for `shell`. Every placeholder must have a value and every value a
/// placeholder: the templates are luaenv's own, so a mismatch is a bug, and it panics
/// (each template is rendered by a unit test).
pub fn render(template: &str, shell: Shell, values: &[(&str, Value)]) -> String {
    let mut used = HashSet::new();
    let text = splice_includes(template, values, &mut used);
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        render_line(line, shell, values, &mut used, &mut out);
    }
    for (key, _) in values {
        assert!(used.contains(key), "template has no @{key}@ for the value given");
    }
    out
}

/// Replaces each line that holds only the `@KEY@` of an `Include` value with that template.
fn splice_includes<'k>(template: &str, values: &[(&'k str, Value)], used: &mut HashSet<&'k str>) -> String {
    let mut text = String::with_capacity(template.len());
    for line in template.split_inclusive('\n') {
        let include = values.iter().find_map(|(key, value)| match value {
            Value::Include(included) if line.trim_end_matches('\n') == format!("@{key}@") => Some((*key, *included)),
            _ => None,
        });
        match include {
            Some((key, included)) => {
                used.insert(key);
                text.push_str(included);
            }
            None => text.push_str(line),
        }
    }
    text
}

/// A template's piece of text: as written, or a placeholder's key (`SHIMS`, `ENV.NAME`).
enum Piece<'t> {
    Text(&'t str),
    Key(&'t str),
}

/// Splits a line at its placeholders: `@` + capitals, digits, `_` or `.` + `@`; any other `@`
/// (`$@`, PowerShell's `@{`) is text.
fn pieces(line: &str) -> Vec<Piece<'_>> {
    let is_key = |k: &str| k.starts_with(|c: char| c.is_ascii_uppercase()) && k.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '.');
    let mut pieces = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find('@') {
        let after = &rest[at + 1..];
        match after.find('@').filter(|end| is_key(&after[..*end])) {
            Some(end) => {
                pieces.push(Piece::Text(&rest[..at]));
                pieces.push(Piece::Key(&after[..end]));
                rest = &after[end + 1..];
            }
            None => {
                pieces.push(Piece::Text(&rest[..=at]));
                rest = after;
            }
        }
    }
    pieces.push(Piece::Text(rest));
    pieces
}

/// Writes one line of a template: once, once per variable of the `Vars` it names, or not
/// at all for an absent `Optional`.
fn render_line<'v>(line: &str, shell: Shell, values: &'v [(&'v str, Value)], used: &mut HashSet<&'v str>, out: &mut String) {
    let pieces = pieces(line);
    let lookup = |key: &str| {
        let (key, value) = values.iter().find(|(k, _)| *k == key).unwrap_or_else(|| panic!("template has @{key}@ but no value for it"));
        (*key, value)
    };
    // The one list a line repeats over, if it names one.
    let mut list: Option<(&str, &[(String, String)])> = None;
    let mut absent = false;
    for piece in &pieces {
        let Piece::Key(key) = piece else { continue };
        let (key, value) = lookup(key.split('.').next().unwrap_or(key));
        used.insert(key);
        match value {
            Value::Optional(None) => absent = true,
            Value::Vars(vars) => {
                assert!(list.is_none_or(|(k, _)| k == key), "a template line repeats over one list only, not @{key}@ too");
                list = Some((key, vars));
            }
            _ => {}
        }
    }
    let rows: Vec<Option<&(String, String)>> = match list {
        _ if absent => Vec::new(),
        Some((_, vars)) => vars.iter().map(Some).collect(),
        None => vec![None],
    };
    for row in rows {
        for piece in &pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Key(key) => out.push_str(&fill(key, shell, row, &lookup)),
            }
        }
    }
}

/// The text of one placeholder; `row` is the variable of the line's `Vars` being written.
fn fill<'v>(key: &str, shell: Shell, row: Option<&(String, String)>, lookup: &impl Fn(&str) -> (&'v str, &'v Value<'v>)) -> String {
    let (base, field) = match key.split_once('.') {
        Some((base, field)) => (base, Some(field)),
        None => (key, None),
    };
    match (lookup(base).1, field, row) {
        (Value::Word(word) | Value::Optional(Some(word)), None, _) => quote(shell, word),
        (Value::Name(name), None, _) => {
            let plain = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'));
            assert!(plain, "@{key}@: {name:?} is not a plain name");
            name.to_string()
        }
        (Value::Vars(_), Some("NAME"), Some((name, _))) => {
            let identifier = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            assert!(identifier, "@{key}@: {name:?} is not a variable name");
            name.clone()
        }
        (Value::Vars(_), Some("VALUE"), Some((_, value))) => quote(shell, value),
        _ => panic!("template's @{key}@ does not fit the kind of value given for it"),
    }
}

/// The code `luaenv activate <shell>` prints: the shims first on PATH, completions, and a
/// root chosen with LUAENV_ROOT kept for the shims.
pub fn activate_script(shell: Shell, exe: &Path, shims: &Path) -> String {
    let (template, completions) = match shell {
        Shell::Bash => (ACTIVATE_SH, Some(COMPLETIONS_BASH)),
        Shell::Zsh => (ACTIVATE_SH, Some(COMPLETIONS_ZSH)),
        Shell::Fish => (ACTIVATE_FISH, None),
        Shell::Powershell => (ACTIVATE_PS1, None),
    };
    let shell_name = format!("{shell:?}").to_lowercase();
    let root = std::env::var_os("LUAENV_ROOT").filter(|r| !r.is_empty());
    let mut values = vec![
        ("SHIMS", Value::path(shims)),
        ("BIN_DIR", Value::path(exe.parent().unwrap_or(Path::new("/")))),
        ("EXE", Value::path(exe)),
        ("ROOT", Value::Optional(root.as_deref().map(|r| r.to_string_lossy()))),
    ];
    if let Some(completions) = completions {
        values.push(("SHELL", Value::Name(&shell_name)));
        values.push(("COMPLETIONS", Value::Include(completions)));
    }
    render(template, shell, &values)
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

    fn word(s: &str) -> Value<'_> {
        Value::Word(Cow::Borrowed(s))
    }

    #[test]
    fn render_quotes_words_for_each_shell_and_leaves_other_at_signs() {
        let t = "x=@P@ \"$@\" @{ a } @(b) me@host @lower@\n";
        assert_eq!(render(t, Shell::Bash, &[("P", word("it's"))]), "x='it'\\''s' \"$@\" @{ a } @(b) me@host @lower@\n");
        assert_eq!(render(t, Shell::Fish, &[("P", word("it's"))]), "x='it\\'s' \"$@\" @{ a } @(b) me@host @lower@\n");
        assert_eq!(render(t, Shell::Powershell, &[("P", word("it's"))]), "x='it''s' \"$@\" @{ a } @(b) me@host @lower@\n");
    }

    #[test]
    fn render_repeats_a_line_per_variable_and_drops_absent_lines() {
        let vars = [("A".to_string(), "1 2".to_string()), ("B_2".to_string(), "$x".to_string())];
        let t = "head\n@ENV.NAME@=@ENV.VALUE@; export @ENV.NAME@\nroot=@ROOT@\n@MORE@\ntail @N@\n";
        let values = [("ENV", Value::Vars(&vars)), ("ROOT", Value::Optional(None)), ("MORE", Value::Include("more @N@\n")), ("N", Value::Name("5.4.7"))];
        assert_eq!(render(t, Shell::Bash, &values), "head\nA='1 2'; export A\nB_2='$x'; export B_2\nmore 5.4.7\ntail 5.4.7\n");
        let none: [(String, String); 0] = [];
        let values = [("ENV", Value::Vars(&none)), ("ROOT", Value::Optional(Some("/r".into()))), ("MORE", Value::Include("")), ("N", Value::Name("x"))];
        assert_eq!(render(t, Shell::Bash, &values), "head\nroot='/r'\ntail x\n");
    }

    #[test]
    #[should_panic(expected = "template has @MISSING@ but no value for it")]
    fn render_refuses_an_unfilled_placeholder() {
        render("a @MISSING@ b\n", Shell::Bash, &[]);
    }

    #[test]
    #[should_panic(expected = "template has no @EXTRA@ for the value given")]
    fn render_refuses_a_value_without_placeholder() {
        render("a @P@ b\n", Shell::Bash, &[("P", word("x")), ("EXTRA", word("y"))]);
    }

    #[test]
    #[should_panic(expected = "is not a plain name")]
    fn render_refuses_a_name_that_is_code() {
        render("# @N@\n", Shell::Bash, &[("N", Value::Name("x\nrm -rf ~"))]);
    }

    #[test]
    #[should_panic(expected = "is not a variable name")]
    fn render_refuses_a_variable_name_that_is_code() {
        let vars = [("A=1; rm".to_string(), "v".to_string())];
        render("@E.NAME@=@E.VALUE@\n", Shell::Bash, &[("E", Value::Vars(&vars))]);
    }

    #[test]
    #[should_panic(expected = "does not fit")]
    fn render_refuses_a_word_where_a_list_is_expected() {
        render("@E.NAME@\n", Shell::Bash, &[("E", word("x"))]);
    }

    #[test]
    #[should_panic(expected = "does not fit")]
    fn render_includes_a_template_only_on_a_line_of_its_own() {
        render("x @MORE@\n", Shell::Bash, &[("MORE", Value::Include("y\n"))]);
    }
}
