//! `velos apply`, `plan`, `diff`, `validate`, `status`, `history`, `rollback`, `schema`: velos.toml in,
//! plans and reports out. Every decision is velos-config's or velos-reconcile's; this module loads, calls,
//! records and renders.
use super::gitops;
use super::{colour, Context, Exit};
use crate::cli::{
    ApplyArgs, DiffArgs, HistoryArgs, PlanArgs, RollbackArgs, StatusArgs, ValidateArgs, WaitArgs,
};
use crate::error::{plan_error, CliError};
use crate::render;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use velos_client::{Client, ClientError};
use velos_config::Project;
use velos_controller::revision as git;
use velos_controller::SYSTEM_PROJECT;
use velos_core::ProcessRecord;
use velos_reconcile::history::read_projects;
use velos_reconcile::{
    apply as apply_plan, diff_projects, is_recorded, now_unix_ms, record_apply, record_failure,
    render as render_plan, render_summary, ApplyEvent, ApplyOptions, ApplyReport, History, Plan,
    RollbackTarget, POLL_INTERVAL_DEFAULT,
};

/// Loads a velos.toml with its text; a problem is printed as velos-config renders it.
pub fn load(path: &Path) -> Result<(String, Project), CliError> {
    velos_config::load_source(path).map_err(|error| match &error {
        velos_config::ConfigError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            CliError::config(&error).hint(format!(
                "name the file: velos COMMAND path/to/velos.toml (without one, {} in the current directory)",
                crate::cli::DEFAULT_FILE
            ))
        }
        _ => CliError::config(&error),
    })
}

/// `velos apply`: FILE, or with `--git` a repository; a project that asks for the controller (`[velos]`,
/// `--git`) is then followed by it ([`gitops`]); `--watch` follows it here instead.
pub fn apply(context: &Context, args: &ApplyArgs, out: &mut dyn Write) -> Result<(), CliError> {
    if args.watch {
        return gitops::watch(context, args, out);
    }
    if let Some(repo) = &args.git {
        return gitops::apply_git(context, args, repo, out);
    }
    let _lock = context.lock_edits()?;
    let (source, project) = load(&args.file)?;
    if project.controller.as_ref().is_some_and(|settings| settings.wants_controller()) {
        return gitops::apply_followed(context, args, &source, &project, out);
    }
    let mut client = context.client()?;
    let shown = if args.json { Shown::Json } else { Shown::Human };
    let applied = converge(context, &mut client, &project, &source, &args.wait, shown, out);
    // The file no longer asks for the controller (if it ever did).
    let unfollowed = gitops::unfollow_file(context, &mut client, &args.file, &args.wait, args.json, out);
    applied.and(unfollowed)
}

/// How an apply waits, from `--no-wait` and `--timeout`.
pub fn apply_options(wait: &WaitArgs) -> ApplyOptions {
    ApplyOptions { wait: !wait.no_wait, timeout: wait.timeout, poll_interval: POLL_INTERVAL_DEFAULT }
}

/// What [`converge`] prints on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// The plan, a line per action, the report.
    Human,
    /// `{"plan": ..., "report": ...}` at the end.
    Json,
    /// As `Human` when there is something to do, else nothing (the system project, after the user's).
    Changes,
    /// Nothing (the system project next to `--json` output).
    Nothing,
}

/// Plans `project` against the host, prints the plan, applies it with a progress line per action, prints
/// the report, records the apply (also when it fails), and fails if anything did not get done. Shared by
/// `apply`, `rollback` and the system project.
pub fn converge(
    context: &Context,
    client: &mut Client,
    project: &Project,
    source: &str,
    wait: &WaitArgs,
    shown: Shown,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let home = context.home();
    let live = client.list()?;
    let plan = match velos_reconcile::plan(project, &live) {
        Ok(plan) => plan,
        Err(error) => {
            if let Err(record_error) = record_failure(home, project, &error.to_string(), now_unix_ms()) {
                warn_unrecorded(&record_error);
            }
            return Err(plan_error(&error, &project.file));
        }
    };
    let json = shown == Shown::Json;
    let human = match shown {
        Shown::Human => true,
        Shown::Changes => !plan.is_empty(),
        Shown::Json | Shown::Nothing => false,
    };
    let colour = human && colour();
    if human {
        out.write_all(render_plan(&plan, colour).as_bytes())?;
        out.flush()?;
    }
    let report = if plan.is_empty() {
        ApplyReport::default()
    } else {
        let mut progress = Progress::new(out, human && std::io::stdout().is_terminal(), colour, !human);
        let report = apply_plan(&plan, client, apply_options(wait), &mut |event| progress.event(event));
        progress.finish()?;
        report
    };
    // An empty plan of a revision already recorded as applied touches nothing, not even the history.
    let recorded = plan.is_empty() && is_recorded(home, project).unwrap_or(false);
    if !recorded {
        if let Err(error) = record_apply(home, project, source, &plan, &report, now_unix_ms()) {
            warn_unrecorded(&error);
        }
    }
    if json {
        writeln!(out, "{}", render::to_json_pretty(&ApplyOutput { plan: &plan, report: &report }))?;
    } else if human && !plan.is_empty() {
        out.write_all(render_summary(&report, colour).as_bytes())?;
    }
    if report.ok() {
        Ok(())
    } else {
        Err(apply_failed(&plan, &report, &project.file))
    }
}

/// `velos apply --json`: `{"plan": ..., "report": ...}`, each in its own key order.
#[derive(serde::Serialize)]
struct ApplyOutput<'a> {
    plan: &'a Plan,
    report: &'a ApplyReport,
}

/// The error of an apply that did not finish.
fn apply_failed(plan: &Plan, report: &ApplyReport, file: &Path) -> CliError {
    let first = report.not_running.first().map(|app| app.name.clone()).or_else(|| {
        report
            .results
            .iter()
            .find(|result| result.outcome != velos_reconcile::Outcome::Done)
            .map(|result| result.name.clone())
    });
    let logs = first.map(|name| format!("velos logs {name} --stderr shows why; then ")).unwrap_or_default();
    CliError::new(format!("the apply of project {} did not complete: {}", plan.project, report.summary()))
        .hint(format!("{logs}velos apply {} finishes the job", file.display()))
}

/// Recording is not the apply: what was done stays done, and the user is told the history missed it.
pub fn warn_unrecorded(error: &velos_reconcile::HistoryError) {
    eprintln!("warning: the apply is done but could not be recorded in the history: {error}");
}

/// The progress of an apply: on a terminal, the running action (or the wait) on a line rewritten in
/// place, then each result; elsewhere, each result as a line when it ends. Nothing in `--json` mode.
pub struct Progress<'o> {
    out: &'o mut dyn Write,
    terminal: bool,
    colour: bool,
    quiet: bool,
    /// A transient line is on screen (terminal only).
    transient: bool,
    error: Option<std::io::Error>,
}

impl<'o> Progress<'o> {
    pub fn new(out: &'o mut dyn Write, terminal: bool, colour: bool, quiet: bool) -> Progress<'o> {
        Progress { out, terminal, colour, quiet, transient: false, error: None }
    }

    pub fn event(&mut self, event: ApplyEvent<'_>) {
        if self.quiet || self.error.is_some() {
            return;
        }
        let text = match event {
            ApplyEvent::ActionStarted { index, total, action } if self.terminal => Some((
                format!("  [{}/{total}] {} {}...", index + 1, action.kind.kind().verb(), action.name),
                true,
            )),
            ApplyEvent::ActionStarted { .. } => None,
            ApplyEvent::ActionFinished { result, .. } => {
                Some((velos_reconcile::render_result(result, self.colour), false))
            }
            ApplyEvent::Waiting { running, wanted } if self.terminal => {
                Some((format!("  waiting for the apps to run: {running}/{wanted}"), true))
            }
            ApplyEvent::Waiting { .. } => None,
        };
        let Some((text, transient)) = text else { return };
        let clear = if self.transient { "\r\x1b[2K" } else { "" };
        let written = write!(self.out, "{clear}{text}").and_then(|()| self.out.flush());
        self.transient = transient;
        if let Err(error) = written {
            self.error = Some(error);
        }
    }

    /// Clears a transient line; returns the first write error, if any.
    pub fn finish(mut self) -> Result<(), CliError> {
        if let Some(error) = self.error.take() {
            return Err(error.into());
        }
        if self.transient {
            write!(self.out, "\r\x1b[2K")?;
        }
        Ok(())
    }
}

/// The live records of a running daemon, or none (said on stderr) when no daemon runs: `plan`, `diff` and
/// `status` never start one.
fn live_or_empty(context: &Context, what: &str) -> Result<Vec<ProcessRecord>, CliError> {
    match context.client_if_running() {
        Ok(mut client) => Ok(client.list()?),
        Err(ClientError::DaemonNotRunning { .. }) => {
            eprintln!("note: the velos daemon is not running: {what} against an empty host");
            Ok(Vec::new())
        }
        Err(error) => Err(error.into()),
    }
}

pub fn plan(context: &Context, args: &PlanArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (_, project) = load(&args.file)?;
    let live = live_or_empty(context, "planning")?;
    let plan = velos_reconcile::plan(&project, &live).map_err(|error| plan_error(&error, &project.file))?;
    print_plan(&plan, args.json, out, None)
}

fn print_plan(plan: &Plan, json: bool, out: &mut dyn Write, against: Option<&str>) -> Result<(), CliError> {
    if json {
        writeln!(out, "{}", render::to_json_pretty(plan))?;
    } else if let (true, Some(against)) = (plan.is_empty(), against) {
        writeln!(out, "{}", render::no_differences(plan, against))?;
    } else {
        out.write_all(render_plan(plan, colour()).as_bytes())?;
    }
    Ok(())
}

/// What `velos diff --against` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Against {
    /// The daemon's records.
    Live,
    /// Another velos.toml.
    File(PathBuf),
    /// A git revision of the file.
    Revision(String),
}

impl Against {
    /// `live`; else an existing path is a file; else a git revision.
    pub fn from_arg(text: &str) -> Against {
        if text == "live" {
            Against::Live
        } else if Path::new(text).exists() {
            Against::File(PathBuf::from(text))
        } else {
            Against::Revision(text.to_string())
        }
    }
}

pub fn diff(context: &Context, args: &DiffArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let (_, project) = load(&args.file)?;
    let (plan, against) = match Against::from_arg(&args.against) {
        Against::Live => {
            let live = live_or_empty(context, "comparing")?;
            let plan =
                velos_reconcile::plan(&project, &live).map_err(|error| plan_error(&error, &project.file))?;
            (plan, "the host".to_string())
        }
        Against::File(path) => {
            let (text, _) = load(&path)?;
            let shown = path.display().to_string();
            (compare(&project, &shown, &text)?, shown)
        }
        Against::Revision(revision) => {
            let at = git::file_at_revision(&project.file, &revision)?;
            // No file there at that revision: nothing was declared, so everything is a create.
            let text = at.text.unwrap_or_default();
            (compare(&project, &at.shown, &text)?, at.shown)
        }
    };
    print_plan(&plan, args.json, out, Some(&against))?;
    Ok(if plan.is_empty() { Exit::Success } else { Exit::Changes })
}

/// What applying `project` would change on a host running `text`, read as another version of the same
/// file: parsed with the project's path, so the specs hash alike (the default `cwd` is the file's folder),
/// and named `shown` in messages.
fn compare(project: &Project, shown: &str, text: &str) -> Result<Plan, CliError> {
    let other = velos_config::parse_as(text, Path::new(shown), &project.file)
        .map_err(|error| CliError::config(&error))?;
    diff_projects(project, &other).map_err(|error| plan_error(&error, &project.file))
}

pub fn validate(args: &ValidateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let mut invalid = 0;
    for path in &args.files {
        match velos_config::load(path) {
            Ok(project) => writeln!(out, "{}", render::valid(path, &project))?,
            Err(error) => {
                out.flush()?;
                eprint!("{}", error.render());
                invalid += 1;
            }
        }
    }
    match invalid {
        0 => Ok(()),
        1 if args.files.len() == 1 => Err(CliError::reported("invalid file")),
        _ => Err(CliError::new(format!("{invalid} of {} files are invalid", args.files.len()))),
    }
}

pub fn status(context: &Context, args: &StatusArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let live = live_or_empty(context, "status is computed")?;
    let mut statuses = velos_reconcile::status(context.home(), &live)?;
    if !args.all {
        statuses.retain(|status| status.project != SYSTEM_PROJECT);
    }
    if args.json {
        writeln!(out, "{}", render::to_json_pretty(&statuses))?;
    } else if statuses.is_empty() {
        writeln!(out, "No project has been applied on this host yet (velos apply FILE applies one).")?;
    } else {
        out.write_all(render::status_table(&statuses, now_unix_ms(), colour()).as_bytes())?;
    }
    Ok(())
}

pub fn history(context: &Context, args: &HistoryArgs, out: &mut dyn Write) -> Result<(), CliError> {
    // Opening the history creates its folder: only when VELOS_HOME has one already.
    let entries = if context.home().join(velos_reconcile::history::HISTORY_DIR).is_dir() {
        History::open(context.home())?.list(args.project.as_deref())?
    } else {
        Vec::new()
    };
    if args.json {
        writeln!(out, "{}", render::history_json(&entries))?;
    } else if entries.is_empty() {
        writeln!(out, "No apply has been recorded on this host yet.")?;
    } else {
        out.write_all(render::history_table(&entries).as_bytes())?;
    }
    Ok(())
}

pub fn rollback(context: &Context, args: &RollbackArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let _lock = context.lock_edits()?;
    let project_name = match &args.project {
        Some(project) => project.clone(),
        None => rollback_project(context.home())?,
    };
    if project_name == SYSTEM_PROJECT {
        return Err(CliError::new(format!(
            "project {SYSTEM_PROJECT} holds the apps Velos runs for itself: velos apply writes it, nothing rolls it back"
        ))
        .hint("velos rollback --project PROJECT names one of yours (velos status lists them)"));
    }
    let target = velos_reconcile::rollback(context.home(), &project_name, RollbackTarget::Steps(args.steps))?;
    if target.revision.starts_with("git:") {
        return Err(CliError::new(format!(
            "project {project_name} follows git: its revisions are commits, so rollback does not write its file"
        ))
        .hint("revert the commit in the repository, or follow an earlier commit with its `ref`"));
    }
    let project = velos_config::parse_as(&target.source_text, &target.file, &target.file)
        .map_err(|error| CliError::config(&error))?;
    velos_config::write_atomically(&target.file, &target.source_text).map_err(|error| {
        CliError::new(format!("could not write {}", target.file.display()))
            .cause(error.to_string())
            .hint("nothing was applied; check that the file and its folder are writable")
    })?;
    writeln!(
        out,
        "Rolled back project {project_name} to {} (applied as #{}): wrote it to {}, then applying it.",
        velos_reconcile::short_revision(&target.revision),
        target.seq,
        target.file.display()
    )?;
    let mut client = context.client()?;
    converge(context, &mut client, &project, &target.source_text, &args.wait, Shown::Human, out)
}

/// The project `velos rollback` means without `--project`: that of ./velos.toml if it is registered, else
/// the only registered one.
fn rollback_project(home: &Path) -> Result<String, CliError> {
    let mut registered = read_projects(home)?;
    registered.retain(|record| record.project != SYSTEM_PROJECT);
    if let Ok(here) = velos_config::load(Path::new(crate::cli::DEFAULT_FILE)) {
        if registered.iter().any(|record| record.project == here.name) {
            return Ok(here.name);
        }
    }
    match registered.as_slice() {
        [] => Err(CliError::new(
            "no project has been applied on this host yet, so there is nothing to roll back",
        )
        .hint("velos apply FILE applies one")),
        [only] => Ok(only.project.clone()),
        several => {
            let names: Vec<&str> = several.iter().map(|record| record.project.as_str()).collect();
            Err(CliError::new(format!("several projects are applied on this host: {}", names.join(", ")))
                .hint(format!("velos rollback --project {}", names[0])))
        }
    }
}

pub fn schema(out: &mut dyn Write) -> Result<(), CliError> {
    let schema = velos_config::json_schema();
    out.write_all(schema.as_bytes())?;
    if !schema.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    const SHOP: &str = r#"#:schema ../../schemas/velos.schema.json
[project]
name = "shop"

[apps.db]
command = "/bin/sleep"
args = ["3600"]

[apps.web]
command = "python3 -m http.server 8080"
env = { PORT = "8080", API_TOKEN = "old" }
depends_on = ["db"]

[apps.worker]
command = "/bin/sleep"
args = ["3600"]
instances = 2
"#;

    /// The next version: web's env changes (a secret too), worker scales to 3, db goes, api comes, and a
    /// comment changes nothing.
    fn shop_next() -> String {
        SHOP.replace("[apps.db]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\n\n", "")
            .replace("depends_on = [\"db\"]\n", "max_memory = \"512M\"  # a comment\n")
            .replace("PORT = \"8080\", API_TOKEN = \"old\"", "PORT = \"8081\", API_TOKEN = \"new\"")
            .replace(
                "instances = 2",
                "instances = 3\n\n[apps.api]\ncommand = \"/usr/bin/node\"\nargs = [\"server.js\"]",
            )
    }

    /// `velos diff ARGS` run in `dir` against a home with no daemon: (exit, stdout).
    fn run_diff(home: &Path, args: &[&str]) -> (Exit, String) {
        let Command::Diff(diff_args) =
            Cli::try_parse_from(["velos", "diff"].iter().chain(args)).expect("parses").command
        else {
            panic!("not diff")
        };
        let context = Context { home: home.to_path_buf() };
        let mut out = Vec::new();
        let exit = diff(&context, &diff_args, &mut out).unwrap_or_else(|error| panic!("{}", error.render()));
        (exit, String::from_utf8(out).expect("utf-8"))
    }

    #[test]
    fn diff_against_another_file_reads_like_a_plan() {
        let home = tempfile::tempdir().expect("home");
        let new = tempfile::tempdir().expect("new");
        let old = tempfile::tempdir().expect("old");
        let new_file = new.path().join("velos.toml");
        let old_file = old.path().join("velos.toml");
        std::fs::write(&new_file, shop_next()).expect("write");
        std::fs::write(&old_file, SHOP).expect("write");
        let (exit, text) = run_diff(
            home.path(),
            &[new_file.to_str().expect("utf-8"), "--against", old_file.to_str().expect("utf-8")],
        );
        assert_eq!(exit, Exit::Changes);
        insta::assert_snapshot!(text, @r#"
        velos plan for project shop (file:b6ce720f…)
          ~ scale worker: 2 → 3
          - delete db
          + create api
          ~ replace web
              env.API_TOKEN: *** → ***
              env.PORT: "8080" → "8081"
              max_memory: (none) → 512M
          + create worker-2
        Plan: 2 to create, 1 to replace, 1 to delete.
        "#);

        // The same text in another folder is the same project: its default cwd is read as this file's.
        std::fs::write(&old_file, shop_next()).expect("write");
        let (exit, text) = run_diff(
            home.path(),
            &[new_file.to_str().expect("utf-8"), "--against", old_file.to_str().expect("utf-8")],
        );
        assert_eq!(exit, Exit::Success, "{text}");
        assert!(text.starts_with("No changes: shop (5 apps) is the same as in /"), "{text}");
        assert!(
            !home.path().join("velos.sock").exists() && !home.path().join("daemon.log").exists(),
            "no daemon"
        );
    }

    #[test]
    fn diff_against_a_git_revision_and_a_path_it_did_not_have() {
        let home = tempfile::tempdir().expect("home");
        let repo_dir = tempfile::tempdir().expect("repo");
        let repository = git2::Repository::init(repo_dir.path()).expect("init");
        let file = repo_dir.path().join("deploy").join("velos.toml");
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&file, SHOP).expect("write");
        let mut index = repository.index().expect("index");
        index.add_path(Path::new("deploy/velos.toml")).expect("add");
        index.write().expect("write index");
        let tree = repository.find_tree(index.write_tree().expect("tree")).expect("find tree");
        let signature = git2::Signature::now("t", "t@example.invalid").expect("signature");
        repository.commit(Some("HEAD"), &signature, &signature, "first", &tree, &[]).expect("commit");
        let file_arg = file.to_str().expect("utf-8");

        assert_eq!(run_diff(home.path(), &[file_arg, "--against", "HEAD"]).0, Exit::Success);
        std::fs::write(&file, shop_next()).expect("write");
        let (exit, text) = run_diff(home.path(), &[file_arg, "--against", "HEAD", "--json"]);
        assert_eq!(exit, Exit::Changes);
        let plan: serde_json::Value = serde_json::from_str(&text).expect("json");
        let actions: Vec<String> = plan["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .map(|action| {
                format!(
                    "{} {}",
                    action["action"].as_str().unwrap_or(""),
                    action["name"].as_str().unwrap_or("")
                )
            })
            .collect();
        assert_eq!(actions, ["delete db", "create api", "replace web", "create worker-2"]);

        // A file the revision did not have: everything is a create.
        let other = repo_dir.path().join("velos.toml");
        std::fs::write(&other, SHOP).expect("write");
        let (exit, text) = run_diff(home.path(), &[other.to_str().expect("utf-8"), "--against", "HEAD"]);
        assert_eq!(exit, Exit::Changes);
        assert!(text.contains("Plan: 4 to create."), "{text}");

        let context = Context { home: home.path().to_path_buf() };
        let Command::Diff(args) =
            Cli::try_parse_from(["velos", "diff", file_arg, "--against", "no-such-rev"])
                .expect("parses")
                .command
        else {
            panic!("not diff")
        };
        let error = diff(&context, &args, &mut Vec::new()).expect_err("unknown revision");
        let text = error.render();
        assert!(text.starts_with("error: unknown git revision `no-such-rev`\n"), "{text}");
        assert!(text.contains("hint:"), "{text}");
    }

    #[test]
    fn against_is_live_a_file_or_a_revision() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("old.toml");
        std::fs::write(&file, "").expect("write");
        assert_eq!(Against::from_arg("live"), Against::Live);
        assert_eq!(Against::from_arg(&file.display().to_string()), Against::File(file.clone()));
        assert_eq!(Against::from_arg("origin/main"), Against::Revision("origin/main".into()));
        assert_eq!(Against::from_arg("HEAD~2"), Against::Revision("HEAD~2".into()));
    }
}
