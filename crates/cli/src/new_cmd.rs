//! `datapact new PATH`: a researcher's plugin crate, written from the datapact checkout it
//! depends on. The code and the scenario are `docs/extending.md`'s part 1 ([`crate::tutorial`]),
//! the lock file is the checkout's, and `Cargo.toml` is `templates/new/Cargo.toml`: every file
//! has one source, and the crate is the tutorial's.

use std::path::{Path, PathBuf};

use crate::failure::Failure;
use crate::tutorial;

/// The generated crate's manifest; `{name}` and `{datapact}` (the path of `crates/cli`) are
/// filled in.
const CARGO_TOML: &str = include_str!("../templates/new/Cargo.toml");
/// The generated crate's `.gitignore`.
const GITIGNORE: &str = include_str!("../templates/new/gitignore");

/// The checkout this program was built from (`crates/cli`'s grandparent): `--datapact-path`'s
/// default.
pub(crate) fn default_checkout() -> PathBuf {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR"));
    cli.ancestors().nth(2).unwrap_or(cli).to_path_buf()
}

fn refused(message: String) -> Failure {
    Failure {
        code: 2,
        message: format!("{message}; nothing was written"),
    }
}

/// Rust's keywords (strict, reserved, and `gen` of edition 2024): a binary crate's name may not
/// be one.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use",
    "where", "while", "abstract", "become", "box", "do", "final", "gen", "macro", "override",
    "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Names Cargo reserves (standard crates, and the directories of its target dir).
const RESERVED: &[&str] = &[
    "std",
    "core",
    "alloc",
    "proc_macro",
    "test",
    "deps",
    "examples",
    "build",
    "incremental",
];

/// Whether `name` may name the new crate: `Err` says why not. `taken` are the package names
/// of the datapact checkout it depends on.
fn check_name(name: &str, taken: &[String]) -> Result<(), String> {
    let rust = name.replace('-', "_");
    let why = if name.is_empty() || name.len() > 64 {
        "a crate's name has 1 to 64 characters".to_string()
    } else if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        "a crate's name starts with a letter".to_string()
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        "a crate's name has only letters, digits, `-` and `_`".to_string()
    } else if KEYWORDS.contains(&rust.as_str()) {
        format!("`{rust}` is a Rust keyword")
    } else if RESERVED.contains(&rust.as_str()) {
        format!("`{name}` is reserved by Cargo")
    } else if taken.iter().any(|t| t.replace('-', "_") == rust) {
        format!("`{name}` is a datapact crate, which the new crate depends on")
    } else {
        return Ok(());
    };
    Err(format!("`{name}` is not a valid crate name: {why}"))
}

/// What the new crate is written from: a datapact checkout's files.
struct Checkout {
    /// The checkout's `crates/cli`, canonical: the path dependency.
    cli: PathBuf,
    /// Its `Cargo.lock`.
    lock: Vec<u8>,
    /// Its `docs/extending.md`.
    tutorial: String,
    /// Its crates' package names.
    packages: Vec<String>,
}

/// The package name in a `Cargo.toml` (`[package] name`), parsed as TOML.
fn package_name(manifest: &str) -> Option<String> {
    let table: toml::Table = toml::from_str(manifest).ok()?;
    Some(table.get("package")?.get("name")?.as_str()?.to_string())
}

fn read_checkout(dir: &Path) -> Result<Checkout, Failure> {
    let shown = dir.display();
    let hint = "give the checkout with --datapact-path DIR";
    let root = dir
        .canonicalize()
        .map_err(|e| refused(format!("datapact checkout {shown}: {e}; {hint}")))?;
    let read = |rel: &str| {
        std::fs::read(root.join(rel)).map_err(|e| {
            refused(format!(
                "{shown} is not a datapact checkout ({rel}: {e}); {hint}"
            ))
        })
    };
    let text = |rel: &str| {
        String::from_utf8(read(rel)?).map_err(|_| refused(format!("{shown}/{rel}: not UTF-8 text")))
    };
    let cli_manifest = text("crates/cli/Cargo.toml")?;
    if package_name(&cli_manifest).as_deref() != Some("datapact") {
        return Err(refused(format!(
            "{shown} is not a datapact checkout (crates/cli/Cargo.toml is not the package \
             `datapact`); {hint}"
        )));
    }
    let lock = read("Cargo.lock")?;
    let tutorial = text("docs/extending.md")?;
    let mut packages: Vec<String> = std::fs::read_dir(root.join("crates"))
        .map_err(|e| refused(format!("{shown}/crates: {e}")))?
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("Cargo.toml")).ok())
        .filter_map(|m| package_name(&m))
        .collect();
    packages.sort();
    Ok(Checkout {
        cli: root.join("crates/cli"),
        lock,
        tutorial,
        packages,
    })
}

/// A TOML basic string's contents for `text` (a path): `\`, `"` and control characters
/// escaped.
fn toml_escaped(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\\' => "\\\\".to_string(),
            '"' => "\\\"".to_string(),
            c if c.is_control() => format!("\\u{:04X}", u32::from(c)),
            c => c.to_string(),
        })
        .collect()
}

/// The new crate's files, relative path and contents.
fn files(name: &str, checkout: &Checkout) -> Result<Vec<(&'static str, Vec<u8>)>, Failure> {
    let cli = checkout.cli.to_str().ok_or_else(|| {
        refused(format!(
            "{}: the path is not UTF-8, so Cargo.toml cannot name it",
            checkout.cli.display()
        ))
    })?;
    let main = tutorial::part1_code(&checkout.tutorial);
    let scenario = tutorial::part1_scenario(&checkout.tutorial);
    let (true, Some(scenario)) = (main.contains("fn main()"), scenario) else {
        return Err(refused(format!(
            "{}: docs/extending.md has no part 1 to write a crate from (a `fn main()` in its \
             Rust blocks and a block after the line \"`scenario.toml`:\")",
            checkout.cli.display()
        )));
    };
    let manifest = CARGO_TOML
        .replace("{name}", name)
        .replace("{datapact}", &toml_escaped(cli));
    Ok(vec![
        ("Cargo.toml", manifest.into_bytes()),
        ("Cargo.lock", checkout.lock.clone()),
        ("src/main.rs", main.into_bytes()),
        ("scenario.toml", scenario.into_bytes()),
        (".gitignore", GITIGNORE.as_bytes().to_vec()),
    ])
}

/// `datapact new PATH [--datapact-path DIR]`: writes the crate into a hidden temporary
/// directory beside PATH, then renames it to PATH, which must not exist. Bad input (PATH
/// exists, its name is no crate name, DIR is no checkout) is exit code 2 with nothing written.
pub(crate) fn new(path: &Path, datapact: &Path) -> Result<(), Failure> {
    let shown = path.display();
    let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
        refused(format!(
            "{shown}: no crate name (the path's last component)"
        ))
    })?;
    let checkout = read_checkout(datapact)?;
    check_name(name, &checkout.packages).map_err(refused)?;
    let free = || match std::fs::symlink_metadata(path) {
        Ok(_) => Err(refused(format!(
            "{shown} already exists; give a new directory"
        ))),
        Err(_) => Ok(()),
    };
    free()?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(refused(format!(
            "{}: no such directory (the new crate's parent must exist)",
            parent.display()
        )));
    }
    datapact_trace::claim::check_not_inside_a_run(path, false, false).map_err(|e| Failure {
        code: e.exit_code(),
        message: format!("{e}; nothing was written"),
    })?;
    let files = files(name, &checkout)?;

    let io = |what: &str, e: std::io::Error| Failure {
        code: 1,
        message: format!("{shown}: cannot write {what}: {e}; nothing was written"),
    };
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o777));
    // Dropped before the rename (an error), the temporary directory is deleted.
    let tmp = builder
        .tempdir_in(parent)
        .map_err(|e| io("a temporary directory", e))?;
    std::fs::create_dir(tmp.path().join("src")).map_err(|e| io("src", e))?;
    for (rel, bytes) in &files {
        std::fs::write(tmp.path().join(rel), bytes).map_err(|e| io(rel, e))?;
    }
    // Checked again just before the rename, which could replace an empty directory created at
    // PATH meanwhile (never one with files, nor a file).
    free()?;
    std::fs::rename(tmp.path(), path).map_err(|e| io("the crate", e))?;
    let _ = tmp.keep();
    println!(
        "Created the plugin crate `{name}` in {shown} (datapact: {}).\n\
         Next: cd {shown} && cargo test --release && cargo run --release -- run scenario.toml\n\
         (the first build takes a while: docs/extending.md §1)",
        checkout.cli.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_names_follow_cargo() {
        let taken = ["datapact".to_string(), "datapact-model".to_string()];
        for ok in ["my-deposit", "ppm_2", "a", "Deposit"] {
            assert_eq!(check_name(ok, &taken), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("", "1 to 64"),
            ("2fast", "starts with a letter"),
            ("-x", "starts with a letter"),
            ("my deposit", "only letters"),
            ("dépôt", "only letters"),
            ("a/b", "only letters"),
            ("fn", "keyword"),
            ("gen", "keyword"),
            ("test", "reserved"),
            ("proc-macro", "reserved"),
            ("datapact", "datapact crate"),
            ("datapact_model", "datapact crate"),
        ] {
            let err = check_name(bad, &taken).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
        assert!(check_name(&"a".repeat(65), &taken).is_err());
    }

    #[test]
    fn package_names_and_escapes() {
        let manifest = "[package]\nname = \"datapact-sim\"\nversion = \"1\"\n";
        assert_eq!(package_name(manifest).as_deref(), Some("datapact-sim"));
        assert_eq!(package_name("[package]\nnamed = 1\n"), None);
        assert_eq!(toml_escaped(r#"C:\a "b""#), r#"C:\\a \"b\""#);
        assert_eq!(toml_escaped("a\nb"), "a\\u000Ab");
    }

    /// The template's profiles are the workspace's, so a crate sharing the checkout's target
    /// dir reuses its dependencies' artifacts (a profile that differs rebuilds them all).
    #[test]
    fn the_template_has_the_workspace_profiles_and_parses() {
        let root = default_checkout();
        let workspace: toml::Table =
            toml::from_str(&std::fs::read_to_string(root.join("Cargo.toml")).unwrap()).unwrap();
        let manifest = CARGO_TOML
            .replace("{name}", "x")
            .replace("{datapact}", &toml_escaped(r#"/a "b"\c"#));
        let generated: toml::Table = toml::from_str(&manifest).unwrap();
        assert_eq!(generated["profile"], workspace["profile"]);
        assert_eq!(generated["package"]["name"].as_str(), Some("x"));
        assert_eq!(
            generated["dependencies"]["datapact"]["path"].as_str(),
            Some(r#"/a "b"\c"#)
        );
        assert!(generated["workspace"].as_table().unwrap().is_empty());
    }
}
