//! `velos hook install <repo>`: a post-receive hook that tells the controller to sync as soon as a push
//! lands, so a push is applied in well under a second instead of at the next poll.
//!
//! The hook must never fail or slow a push, Velos running or not: it starts `velos sync` in the
//! background, detached from the push's output (so git does not wait for it), logging to
//! `$VELOS_HOME/hook.log`, and exits 0.
use std::io::{Error, ErrorKind};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// A line every hook Velos writes holds: how a re-install recognises its own.
pub const HOOK_MARKER: &str = "# velos-hook: tells the Velos controller to sync";
/// The file Velos writes beside a post-receive hook it must not replace.
pub const CHAINED_HOOK: &str = "post-receive.velos";
/// Where the hook's `velos sync` writes, inside `VELOS_HOME`.
pub const HOOK_LOG: &str = "hook.log";

/// Installs the hook in the repository at `repo` (bare, or a work tree's `.git`). Returns the file
/// written: `hooks/post-receive`, or `hooks/post-receive.velos` when a post-receive hook of someone
/// else's exists, which is then made to call ours at its end — only if it is a shell script (anything
/// else is refused, with what to add by hand). Installing twice changes nothing.
pub fn install_hook(repo: &Path, velos_exe: &Path, home: &Path) -> std::io::Result<PathBuf> {
    let repository = git2::Repository::open(repo).map_err(|error| {
        Error::new(
            ErrorKind::NotFound,
            format!("{} is not a git repository: {}", repo.display(), error.message()),
        )
    })?;
    let hooks = repository.path().join("hooks");
    std::fs::create_dir_all(&hooks)?;
    let script = hook_script(velos_exe, home);
    let main = hooks.join("post-receive");
    let existing = match std::fs::read(&main) {
        Ok(bytes) => Some(bytes),
        Err(error) if error.kind() == ErrorKind::NotFound => None,
        Err(error) => return Err(error),
    };
    let Some(existing) = existing else {
        write_executable(&main, &script)?;
        return Ok(main);
    };
    let text = String::from_utf8_lossy(&existing);
    if text.contains(HOOK_MARKER) && !text.contains(CHAINED_HOOK) {
        write_executable(&main, &script)?; // ours: refreshed (another velos or home)
        return Ok(main);
    }
    let shell = text.lines().next().is_some_and(|first| {
        let first = first.trim_end();
        [
            "#!/bin/sh",
            "#!/bin/bash",
            "#!/usr/bin/sh",
            "#!/usr/bin/bash",
            "#!/usr/bin/env sh",
            "#!/usr/bin/env bash",
        ]
        .iter()
        .any(|shebang| first == *shebang || first.starts_with(&format!("{shebang} ")))
    });
    if !shell {
        return Err(Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "{} exists and is not a shell script, so Velos will not change it; make it run this at its end:\n  {}",
                main.display(),
                sync_command(velos_exe, home)
            ),
        ));
    }
    let chained = hooks.join(CHAINED_HOOK);
    write_executable(&chained, &script)?;
    if !text.contains(CHAINED_HOOK) {
        let mut appended = text.into_owned();
        if !appended.ends_with('\n') {
            appended.push('\n');
        }
        appended.push_str(&format!(
            "\n{HOOK_MARKER} (velos hook install)\n\"$(dirname \"$0\")/{CHAINED_HOOK}\" </dev/null || true\n"
        ));
        let mode = std::fs::metadata(&main)?.permissions().mode() | 0o111;
        write_atomically(&main, &appended, mode)?;
    }
    Ok(chained)
}

/// `VELOS_HOME='…' '…/velos' sync`: what the hook runs.
fn sync_command(velos_exe: &Path, home: &Path) -> String {
    format!(
        "VELOS_HOME={} {} sync",
        quote(&home.display().to_string()),
        quote(&velos_exe.display().to_string())
    )
}

fn hook_script(velos_exe: &Path, home: &Path) -> String {
    let log = quote(&home.join(HOOK_LOG).display().to_string());
    format!(
        "#!/bin/sh\n\
         {HOOK_MARKER} (velos hook install)\n\
         # Runs in the background, output to the log, so a push never waits for Velos nor fails because of it.\n\
         cat >/dev/null 2>&1\n\
         ({} >>{log} 2>&1 </dev/null &) >/dev/null 2>&1\n\
         exit 0\n",
        sync_command(velos_exe, home)
    )
}

/// `text` in single quotes for sh (a `'` inside becomes `'\''`).
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn write_executable(path: &Path, text: &str) -> std::io::Result<()> {
    write_atomically(path, text, 0o755)
}

fn write_atomically(path: &Path, text: &str, mode: u32) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temporary = tempfile::Builder::new().prefix(".velos-hook-").tempfile_in(dir)?;
    temporary.write_all(text.as_bytes())?;
    temporary.as_file().set_permissions(std::fs::Permissions::from_mode(mode))?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|error| error.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting_for_sh() {
        assert_eq!(quote("/usr/bin/velos"), "'/usr/bin/velos'");
        assert_eq!(quote("/opt/it's here"), r"'/opt/it'\''s here'");
    }
}
