//! The pinned Python tools (`make py-tools` installs tests/python/requirements.txt into .tools/python) and
//! the scripts under tests/python that drive real HTTP and MCP clients.
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (tests/ is one level down).
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `PYTHONPATH` that holds the pinned tools; panics with the command to run when they are missing.
pub fn python_path() -> String {
    let tools = repository_root().join(".tools/python");
    assert!(
        tools.join(".stamp").exists(),
        "the pinned Python test tools are missing from {}: run `make py-tools`",
        tools.display()
    );
    tools.display().to_string()
}

/// `python3 tests/python/SCRIPT` with the pinned tools on its path.
pub fn python_script(script: &str) -> Command {
    let mut command = Command::new("python3");
    command
        .arg(repository_root().join("tests/python").join(script))
        .env("PYTHONPATH", python_path())
        .env("PYTHONDONTWRITEBYTECODE", "1");
    command
}
