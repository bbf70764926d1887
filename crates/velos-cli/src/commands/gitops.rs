//! GitOps: `velos apply` of a project that asks for the controller (`[velos]` in the file, or `--git`),
//! `velos apply --watch`, `velos sync`, `velos hook install` and `velos controller`. The controller itself,
//! the registry of what it follows, the system project that runs it, git and the hook are velos-reconcile's
//! (`controller`); this module calls them in order and says what happened.
use super::declarative::{apply_options, converge, load, Shown};
use super::Context;
use crate::cli::{ApplyArgs, HookInstallArgs, SyncArgs, WaitArgs};
use crate::error::CliError;
use crate::render;
use std::io::{ErrorKind, Write};
use std::path::Path;
use velos_client::{Client, ClientError};
use velos_config::{ControllerSettings, GitSource, Project};
use velos_controller::{
    client_factory, controller_wanted, fetch_git_project, file_target, git_from_args, install_hook,
    is_followed, live_records, register_target, registered_targets, request_sync, run_controller,
    system_project_text, unregister_target, write_system_project, Controller, ControllerError,
    ControllerOptions, DaemonFactory, SourceError, Target, TargetSource, Targets, CONTROLLER_APP,
    CONTROLLER_DIR, HOOK_LOG, SYSTEM_FILE, TARGETS_DIR,
};
use velos_reconcile::{Daemon, SyncState, SystemClock};

// ---- apply ------------------------------------------------------------------------------------------------

/// `velos apply --git REPO [--ref REF] [--path PATH]`: fetch the project from the repository, apply it, and
/// have the controller follow the repository from then on. A source that cannot be fetched or parsed is an
/// error before anything is applied or registered.
pub fn apply_git(
    context: &Context,
    args: &ApplyArgs,
    repo: &str,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let git = git_arguments(repo, args)?;
    let _lock = context.lock_edits()?;
    let (fetched, project) =
        fetch_git_project(context.home(), &git).map_err(|error| source_error(&error, Origin::Flags))?;
    let target = Target::git(git.clone(), ControllerSettings::default());
    let settings = ControllerSettings { git: Some(git), ..ControllerSettings::default() };
    follow(context, args, &target, &settings, &project, &fetched.text, out)
}

/// `velos apply FILE` whose `[velos]` asks for the controller (`watch = true`, or `[velos.git]`): apply the
/// project (with `[velos.git]`, the one at the repository's commit, not the file's own apps), then have
/// the controller follow the file. The caller holds the edit lock.
pub fn apply_followed(
    context: &Context,
    args: &ApplyArgs,
    source: &str,
    project: &Project,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let settings = project.controller.clone().unwrap_or_default();
    let target = file_target(&args.file);
    match &settings.git {
        None => follow(context, args, &target, &settings, project, source, out),
        Some(git) => {
            if !project.apps.is_empty() {
                eprintln!(
                    "note: {} follows git ({}): its own [apps] are not applied, those of the repository are",
                    args.file.display(),
                    git.describe()
                );
            }
            let (fetched, from_git) =
                fetch_git_project(context.home(), git).map_err(|error| source_error(&error, Origin::File))?;
            follow(context, args, &target, &settings, &from_git, &fetched.text, out)
        }
    }
}

/// Registers `target` for the controller, applies `project`, makes sure the controller runs (the system
/// project), and tells it to look. The controller is started even when the apply fails: it retries.
fn follow(
    context: &Context,
    args: &ApplyArgs,
    target: &Target,
    settings: &ControllerSettings,
    project: &Project,
    text: &str,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let home = context.home();
    register_target(home, target).map_err(|error| {
        CliError::new(format!("could not register {} for the controller", target.key()))
            .cause(error.to_string())
            .hint(format!("nothing was applied; check that {} is writable", home.display()))
    })?;
    let mut client = context.client()?;
    let shown = if args.json { Shown::Json } else { Shown::Human };
    let applied = converge(context, &mut client, project, text, &args.wait, shown, out);
    let system = converge_system(context, &mut client, &args.wait, args.json, out);
    if let Err(error) = request_sync(home, Some(&project.name)) {
        eprintln!("warning: could not ask the controller to look at {} now: {error}", project.name);
    }
    if !args.json && system.is_ok() {
        writeln!(out, "{}", following(&project.name, target, settings))?;
    }
    applied.and(system)
}

/// `velos apply FILE` of a file without `[velos]`: the controller no longer follows it, and goes away when
/// nothing else asks for it.
pub fn unfollow_file(
    context: &Context,
    client: &mut Client,
    file: &Path,
    wait: &WaitArgs,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    if let Err(error) = unregister_target(context.home(), &file_target(file)) {
        eprintln!("warning: the controller may still follow {}: {error}", file.display());
    }
    converge_system(context, client, wait, json, out)
}

/// Applies the system project (`$VELOS_HOME/system/velos.toml`): the controller as a daemon-supervised app
/// while any target is registered, no app otherwise. Shown only when it changes something; skipped
/// entirely on a host that never ran the controller.
fn converge_system(
    context: &Context,
    client: &mut Client,
    wait: &WaitArgs,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let home = context.home();
    let wanted = controller_wanted(home);
    if !wanted && !home.join(SYSTEM_FILE).exists() {
        return Ok(());
    }
    let exe = context.velos_exe()?;
    let project = write_system_project(home, &exe, wanted).map_err(|error| {
        CliError::config(&error).hint(format!("{} is Velos's own file: velos apply writes it", SYSTEM_FILE))
    })?;
    let text = system_project_text(home, &exe, wanted);
    let shown = if json { Shown::Nothing } else { Shown::Changes };
    converge(context, client, &project, &text, wait, shown, out)
}

/// `velos-controller follows project shop: each save of /srv/shop/velos.toml is applied; drift is undone
/// at least every 30s.`
fn following(project: &str, target: &Target, settings: &ControllerSettings) -> String {
    let changes = match (&settings.git, &target.source) {
        (Some(git), _) => format!(
            "each new commit of {} is applied (fetched every {}; velos hook install {} applies a push at once)",
            git.describe(),
            render::duration_exact(git.poll_ms),
            git.repo.strip_prefix("file://").unwrap_or(&git.repo)
        ),
        (None, TargetSource::File { path }) if settings.watch => {
            format!("each save of {} is applied", path.display())
        }
        (None, _) => "its source is applied".to_string(),
    };
    let drift = if settings.self_heal { "undone" } else { "reported (self_heal = false)" };
    // Each look (a resync, or a poll of the repository) also compares the host with the source.
    let look_ms = settings.git.as_ref().map_or(settings.resync_ms, |git| git.poll_ms.min(settings.resync_ms));
    format!(
        "{CONTROLLER_APP} follows project {project}: {changes}; drift is {drift} at least every {}. velos status shows where it stands.",
        render::duration_exact(look_ms)
    )
}

/// `--git REPO --ref REF --path PATH`, checked as `[velos.git]` in a file is.
fn git_arguments(repo: &str, args: &ApplyArgs) -> Result<GitSource, CliError> {
    let cwd = std::env::current_dir()
        .map_err(|error| CliError::new("could not read the current directory").cause(error.to_string()))?;
    git_from_args(repo, args.git_ref.as_deref(), args.path.as_deref(), &cwd).map_err(|problems| {
        // One line per problem, each maybe followed by `  = help: ...`; the keys are named as flags here.
        let problems = problems
            .replace("`velos.git.repo`", "--git")
            .replace("`velos.git.ref`", "--ref")
            .replace("`velos.git.path`", "--path");
        let (helps, messages): (Vec<&str>, Vec<&str>) =
            problems.lines().partition(|line| line.trim_start().starts_with("= help: "));
        let mut messages = messages.into_iter();
        let mut error =
            CliError::new(format!("invalid --git source: {}", messages.next().unwrap_or("no repository given")));
        for message in messages {
            error = error.cause(message.to_string());
        }
        let helps: Vec<&str> =
            helps.iter().map(|line| line.trim_start().trim_start_matches("= help: ")).collect();
        if helps.is_empty() {
            error.hint("--git takes a path, a file:// or a git:// URL; --ref a branch, tag or commit; --path the file in the repository")
        } else {
            error.hint(helps.join("; "))
        }
    })
}

/// Where the git settings of a failed fetch came from, for the hint.
#[derive(Debug, Clone, Copy)]
enum Origin {
    Flags,
    File,
}

/// A git source that could not be fetched or parsed: nothing was applied.
fn source_error(error: &SourceError, origin: Origin) -> CliError {
    let (repo, ref_name, path) = match origin {
        Origin::Flags => ("--git", "--ref", "--path"),
        Origin::File => ("[velos.git] repo", "[velos.git] ref", "[velos.git] path"),
    };
    match error {
        SourceError::Invalid { error: config, .. } => CliError::config(config)
            .hint("nothing was applied: fix the file in the repository, commit and push, then apply again"),
        SourceError::Unreachable { .. } => CliError::new(error.to_string()).hint(format!(
            "nothing was applied; {repo} takes a local path, a file:// or a git:// URL (for https or ssh, follow a local mirror: git clone --mirror)"
        )),
        SourceError::MissingRef { .. } => CliError::new(error.to_string())
            .hint(format!("nothing was applied; {ref_name} names a branch, a tag or a commit id")),
        SourceError::MissingPath { .. } | SourceError::NotAFile { .. } => CliError::new(error.to_string())
            .hint(format!("nothing was applied; {path} names the velos.toml from the repository's root")),
        _ => CliError::new(error.to_string()).causes_of(error).hint("nothing was applied"),
    }
}

// ---- the controller ---------------------------------------------------------------------------------------

/// `velos apply --watch`: the controller's loop in the foreground, for FILE (watched whatever its `[velos]`
/// says) or `--git`. Registers nothing; when the system controller follows the project already, this one
/// stands by.
pub fn watch(context: &Context, args: &ApplyArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (target, what) = match &args.git {
        Some(repo) => {
            let git = git_arguments(repo, args)?;
            let what = format!("git {}", git.describe());
            (Target::git(git, ControllerSettings::default()), what)
        }
        None => {
            load(&args.file)?; // a missing or invalid file is said now, with its diagnostics
            let target = Target::watched_file(&args.file);
            let what = match &target.source {
                TargetSource::File { path } => path.display().to_string(),
                TargetSource::Git { git } => git.describe(),
            };
            (target, what)
        }
    };
    writeln!(
        out,
        "Following {what} here until Ctrl-C: each change is applied and drift undone (what happens is logged below)."
    )?;
    out.flush()?;
    let options =
        ControllerOptions { verbose: true, apply: apply_options(&args.wait), ..ControllerOptions::default() };
    let home = context.home();
    run_controller(
        home,
        Targets::Fixed(vec![target]),
        client_factory(home.to_path_buf(), context.velos_exe()?),
        options,
    )
    .map_err(controller_error)
}

/// `velos controller`: what the `velos-controller` system app runs. Follows the registered targets until
/// the process is stopped (SIGTERM ends it at once: every reconcile is idempotent, so nothing is lost).
pub fn controller(context: &Context) -> Result<(), CliError> {
    let home = context.home();
    eprintln!(
        "velos controller: started (pid {}), following what {} lists",
        std::process::id(),
        home.join(CONTROLLER_DIR).join(TARGETS_DIR).display()
    );
    let options = ControllerOptions { verbose: true, ..ControllerOptions::default() };
    run_controller(
        home,
        Targets::Registered,
        client_factory(home.to_path_buf(), context.velos_exe()?),
        options,
    )
    .map_err(controller_error)
}

fn controller_error(error: ControllerError) -> CliError {
    let hint = match &error {
        ControllerError::Watch(_) => {
            "raise fs.inotify.max_user_instances / max_user_watches, or set watch = false"
        }
        ControllerError::Home { .. } | ControllerError::Socket { .. } => {
            "VELOS_HOME must be a directory you own (mode 0700), with a path under 108 bytes"
        }
    };
    CliError::new(error.to_string()).causes_of(&error).hint(hint)
}

// ---- sync -------------------------------------------------------------------------------------------------

/// `velos sync [PROJECT]`: tell the controller to look now. With no controller running, look here, once,
/// at every followed source, so that `sync` always converges; then print where each one stands.
pub fn sync(context: &Context, args: &SyncArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let home = context.home();
    let project = args.project.as_deref();
    match request_sync(home, project) {
        Ok(true) => {
            match project {
                Some(name) if !is_followed(home, name) => writeln!(
                    out,
                    "Asked the controller to sync now, but it does not follow project {name} (velos status lists what it follows)."
                )?,
                Some(name) => writeln!(
                    out,
                    "Asked the controller to sync project {name} now; velos status shows the result."
                )?,
                None => writeln!(
                    out,
                    "Asked the controller to sync every project it follows now; velos status shows the result."
                )?,
            }
            return Ok(());
        }
        Ok(false) => {}
        Err(error) => {
            return Err(CliError::new("the controller did not take the sync request")
                .cause(error.to_string())
                .hint(format!(
                    "velos list --all shows {CONTROLLER_APP}; velos logs {CONTROLLER_APP} --stderr shows what it says"
                )))
        }
    }
    let targets = registered_targets(home);
    if targets.is_empty() {
        let error = CliError::new("no controller is running, and no project asks for one: nothing to sync");
        return Err(error.hint(
            "velos apply FILE applies a file; [velos] watch = true in it, or velos apply --git REPO, has the controller follow it",
        ));
    }
    // A stopped daemon is left stopped: `velos kill` means it, and a push (the hook runs `velos sync`) must
    // not bring the host back behind the operator's back. Started, it restores the controller, which syncs.
    match context.client_if_running() {
        Ok(_) => {}
        Err(ClientError::DaemonNotRunning { .. }) => {
            return Err(CliError::new("the velos daemon is not running, so there is nothing to sync").hint(
                format!("velos daemon starts it, with its apps and {CONTROLLER_APP}, which then syncs"),
            ));
        }
        Err(error) => return Err(error.into()),
    }
    writeln!(
        out,
        "No controller is running: syncing here, once ({}).",
        render::plural(targets.len(), "source")
    )?;
    out.flush()?;
    let options = ControllerOptions { verbose: true, ..ControllerOptions::default() };
    let running_daemon = home.to_path_buf();
    let factory: DaemonFactory =
        Box::new(move || Ok(Box::new(Client::connect(&running_daemon)?) as Box<dyn Daemon>));
    let mut controller =
        Controller::new(home, Targets::Registered, factory, Box::new(SystemClock), options, None)
            .map_err(controller_error)?;
    controller.reconcile_all();
    // While this process holds the projects' locks, its records are what status believes: read them now.
    let followed = live_records(home);
    let live = context.client_if_running()?.list()?;
    let mut statuses = velos_reconcile::status(home, &live)?;
    drop(controller);
    statuses.retain(|status| followed.contains_key(&status.project));
    if let Some(name) = project {
        if !statuses.iter().any(|status| status.project == name) {
            return Err(CliError::new(format!("no followed project is named {name}"))
                .hint("velos status lists the projects; velos sync without a name syncs every one"));
        }
    }
    out.write_all(
        render::status_table(&statuses, velos_reconcile::now_unix_ms(), super::colour()).as_bytes(),
    )?;
    let failed: Vec<String> = statuses
        .iter()
        .filter(|status| {
            status.state == SyncState::Error && project.is_none_or(|name| status.project == name)
        })
        .map(|status| format!("{}: {}", status.project, status.message))
        .collect();
    match failed.split_first() {
        None => Ok(()),
        Some((first, rest)) => {
            let mut error = CliError::new(format!("sync failed for {first}"));
            for more in rest {
                error = error.cause(more.clone());
            }
            Err(error.hint("the apps were left as they were; fix the source, then velos sync again"))
        }
    }
}

// ---- hook -------------------------------------------------------------------------------------------------

/// `velos hook install REPO`: each push to REPO then runs `velos sync` for this VELOS_HOME.
pub fn hook_install(context: &Context, args: &HookInstallArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let home = context.home();
    let written = install_hook(&args.repo, &context.velos_exe()?, home).map_err(|error| {
        let hint = match error.kind() {
            ErrorKind::NotFound => "name the repository the host follows: a bare repository, or a work tree",
            ErrorKind::AlreadyExists => "add that line to the end of the existing hook by hand",
            _ => "check that the repository's hooks folder is writable",
        };
        CliError::new(format!("could not install the hook in {}", args.repo.display()))
            .cause(error.to_string())
            .hint(hint)
    })?;
    writeln!(
        out,
        "Wrote {}: each push to {} now runs `velos sync` for {} in the background (its output: {}).",
        written.display(),
        args.repo.display(),
        home.display(),
        home.join(HOOK_LOG).display()
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn apply_args(args: &[&str]) -> ApplyArgs {
        match Cli::try_parse_from(["velos", "apply"].iter().chain(args)).expect("parses").command {
            Command::Apply(apply) => apply,
            other => panic!("not apply: {other:?}"),
        }
    }

    #[test]
    fn what_the_controller_follows_is_said_in_one_line() {
        let file = Target {
            source: TargetSource::File { path: "/srv/shop/velos.toml".into() },
            settings: ControllerSettings::default(),
        };
        let watch = ControllerSettings { watch: true, resync_ms: 1000, ..ControllerSettings::default() };
        assert_eq!(
            following("shop", &file, &watch),
            "velos-controller follows project shop: each save of /srv/shop/velos.toml is applied; drift is \
             undone at least every 1s. velos status shows where it stands."
        );
        let git = GitSource {
            repo: "file:///srv/deploy.git".into(),
            ref_name: "main".into(),
            path: "velos.toml".into(),
            poll_ms: 5000,
        };
        let settings =
            ControllerSettings { git: Some(git.clone()), self_heal: false, ..ControllerSettings::default() };
        let text = following("shop", &Target::git(git, ControllerSettings::default()), &settings);
        assert!(
            text.contains("each new commit of file:///srv/deploy.git@main:velos.toml is applied"),
            "{text}"
        );
        assert!(text.contains("fetched every 5s; velos hook install /srv/deploy.git applies"), "{text}");
        assert!(text.contains("drift is reported (self_heal = false) at least every 5s"), "{text}");
    }

    #[test]
    fn git_arguments_are_checked_before_anything_is_fetched() {
        let git = git_arguments(
            "/srv/deploy.git",
            &apply_args(&["--git", "x", "--ref", "v2", "--path", "a/velos.toml"]),
        )
        .expect("valid");
        assert_eq!(git.describe(), "/srv/deploy.git@v2:a/velos.toml");
        let error = git_arguments(
            "https://example.invalid/deploy.git",
            &apply_args(&["--git", "x", "--path", "../up"]),
        )
        .expect_err("invalid");
        let text = error.render();
        assert!(text.starts_with("error: invalid --git source: "), "{text}");
        assert!(text.contains("https"), "{text}");
        assert!(text.contains("\n  caused by: ") && text.contains("cannot leave the repository"), "{text}");
        assert!(text.contains("\nhint: keep a mirror on this host"), "{text}");
        let error = git_arguments("", &apply_args(&["--git", ""])).expect_err("empty");
        assert!(error.render().contains("hint: "), "{}", error.render());
    }

    #[test]
    fn a_source_error_names_the_setting_to_fix() {
        let missing = SourceError::MissingRef {
            repo: "/srv/deploy.git".into(),
            ref_name: "nope".into(),
            known: vec!["main".into()],
        };
        let text = source_error(&missing, Origin::Flags).render();
        assert!(
            text.starts_with("error: /srv/deploy.git has no branch, tag or commit `nope` (it has: main)"),
            "{text}"
        );
        assert!(text.contains("hint: nothing was applied; --ref names"), "{text}");
        let text = source_error(&missing, Origin::File).render();
        assert!(text.contains("hint: nothing was applied; [velos.git] ref names"), "{text}");
        let path = SourceError::MissingPath {
            repo: "/srv/deploy.git".into(),
            commit: "0123456789abcdef0123".into(),
            path: "deploy/velos.toml".into(),
        };
        let text = source_error(&path, Origin::Flags).render();
        assert!(text.starts_with("error: commit 0123456789ab has no file deploy/velos.toml"), "{text}");
        assert!(text.contains("--path names"), "{text}");
    }
}
