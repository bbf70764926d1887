//! The imperative commands as edits of desired state (DESIGN §4). `velos start`, `stop`, `delete`, `scale`,
//! `set` and `unset` find the velos.toml that declares the app (velos-reconcile's `ownership`), edit it
//! with velos-config (comments and layout kept), validate and plan the result, write it atomically, then
//! apply only the actions on that app (`plan_app`: other apps' pending changes in the same file are left
//! for `velos apply`), and record the apply. A command that fails before the write writes and applies
//! nothing.
//!
//! Every write goes through one [`Session`], opened under `$VELOS_HOME/edit.lock`: two velos commands
//! never interleave a read-edit-write. Apps that no file declares (started outside any project) keep
//! working where it is safe: they can be deleted, and unlabelled ones started and stopped directly.
use super::declarative::{warn_unrecorded, Progress};
use super::process::{
    build_app, delete_direct, report_deleted, report_started, report_stopped, start_direct, stop_direct,
    NewApp, WAIT_GRACE,
};
use super::{colour, Context};
use crate::cli::{ScaleArgs, SetArgs, StartArgs, UnsetArgs};
use crate::error::{plan_error, CliError};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use velos_client::Client;
use velos_config::{DesiredState, Edit, Project};
use velos_core::{AppSpec, ProcessRecord, Status};
use velos_reconcile::controller::{tracking, SYSTEM_PROJECT};
use velos_reconcile::ownership::{
    self, default_project_file, orphan, owner_of, Orphan, Ownership, ProjectFile, DEFAULT_PROJECT_SOURCE,
};
use velos_reconcile::{
    apply as apply_plan, now_unix_ms, plan_app, record_apply, render as render_plan, render_summary,
    ActionType, ApplyEvent, ApplyOptions, ApplyReport, Daemon, DaemonError, Outcome, Plan,
    POLL_INTERVAL_DEFAULT, TIMEOUT_DEFAULT,
};

/// The imperative commands, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Start,
    Stop,
    Delete,
    Scale,
    Set,
    Unset,
}

impl Verb {
    fn as_str(self) -> &'static str {
        match self {
            Verb::Start => "start",
            Verb::Stop => "stop",
            Verb::Delete => "delete",
            Verb::Scale => "scale",
            Verb::Set => "set",
            Verb::Unset => "unset",
        }
    }

    fn past(self) -> &'static str {
        match self {
            Verb::Start => "started",
            Verb::Stop => "stopped",
            Verb::Delete => "deleted",
            Verb::Scale => "scaled",
            Verb::Set | Verb::Unset => "edited",
        }
    }
}

/// An app declared in a file: where, and the file as read under the lock.
#[derive(Debug, Clone)]
struct Declared {
    file: PathBuf,
    source: String,
    project: Project,
    /// The `[apps.NAME]` key.
    app: String,
}

/// What a name is on this host.
enum Found {
    Declared(Declared),
    /// Live, declared by no file.
    Orphan(ProcessRecord, Orphan),
    /// Neither declared nor live.
    Unknown,
}

/// An edit, validated and planned, not yet written.
struct Prepared {
    file: PathBuf,
    /// The new text differs from the old.
    changed: bool,
    text: String,
    project: Project,
    /// The actions on the edited app only.
    plan: Plan,
    app: String,
}

/// What an edit did.
struct Executed {
    report: ApplyReport,
    /// The last record the daemon returned for each app during the apply.
    seen: BTreeMap<String, ProcessRecord>,
}

/// One imperative command's view of the host, read once under the edit lock.
struct Session<'c> {
    context: &'c Context,
    _lock: File,
    client: Client,
    live: Vec<ProcessRecord>,
    files: Vec<ProjectFile>,
}

impl<'c> Session<'c> {
    fn open(context: &'c Context) -> Result<Session<'c>, CliError> {
        let lock = context.lock_edits()?;
        let mut client = context.client()?;
        let live = client.list()?;
        let files = ownership::project_files(context.home())?;
        Ok(Session { context, _lock: lock, client, live, files })
    }

    fn live(&self, name: &str) -> Option<&ProcessRecord> {
        self.live.iter().find(|record| record.name == name)
    }

    /// Where `name` is declared; an instance name is refused (it cannot be expressed in the file).
    fn find(&self, name: &str, verb: Verb) -> Result<Found, CliError> {
        if self.live(name).is_some_and(super::list::is_system) {
            return Err(system_error(name, verb));
        }
        match owner_of(&self.files, name, &self.live) {
            Ownership::App { index } => match self.declared(index, name) {
                Some(declared) if declared.project.name == SYSTEM_PROJECT => Err(system_error(name, verb)),
                Some(declared) => {
                    self.refuse_git(&declared, verb)?;
                    Ok(Found::Declared(declared))
                }
                None => Ok(Found::Unknown),
            },
            Ownership::Instance { index, app } => {
                Err(instance_error(name, &app, &self.files[index].file, verb))
            }
            Ownership::Undeclared => Ok(match self.live(name) {
                Some(record) => Found::Orphan(record.clone(), orphan(record, &self.files)),
                None => Found::Unknown,
            }),
        }
    }

    /// The file `files[index]` as read, with `app` in it; `None` if it did not load (owner_of only answers
    /// with files that did).
    fn declared(&self, index: usize, app: &str) -> Option<Declared> {
        let file = &self.files[index];
        let (source, project) = file.loaded.as_ref().ok()?;
        Some(Declared {
            file: file.file.clone(),
            source: source.clone(),
            project: project.clone(),
            app: app.to_string(),
        })
    }

    /// A project that follows git is changed in git (DESIGN §4): an edit here would be a silent local
    /// drift, undone at the next fetch. Refused, naming where to commit.
    fn refuse_git(&self, declared: &Declared, verb: Verb) -> Result<(), CliError> {
        let Some(source) = tracking(self.context.home(), &declared.project) else { return Ok(()) };
        Err(CliError::new(format!(
            "project `{}` follows git ({source}), so `velos {}` cannot change {} here",
            declared.project.name,
            verb.as_str(),
            declared.app
        ))
        .hint("commit the change to the repository; the controller applies it (velos restart acts without an edit)"))
    }

    /// `no app named "x"`, with the files that could not be read as causes (the app may be in one).
    fn no_such_app(&self, name: &str) -> CliError {
        let mut error = CliError::no_such_app(name);
        for file in &self.files {
            if let Err(problem) = &file.loaded {
                error = error.cause(format!("{} could not be read: {problem}", file.file.display()));
            }
        }
        error
    }

    /// Applies `edits` to `source` (the text of `file`), validates, and plans the actions on `app`.
    fn prepare(&self, file: &Path, source: &str, edits: &[Edit], app: &str) -> Result<Prepared, CliError> {
        let (text, project) = velos_config::apply_edits(source, file, edits).map_err(|error| {
            CliError::config(&error)
                .hint(format!("nothing was written or applied: {} is unchanged", file.display()))
        })?;
        let plan = plan_app(&project, &self.live, app).map_err(|error| plan_error(&error, file))?;
        Ok(Prepared {
            file: file.to_path_buf(),
            changed: text != source,
            text,
            project,
            plan,
            app: app.to_string(),
        })
    }

    /// Writes the edited file (if it changed), applies the app's actions, records the apply.
    fn execute(
        &mut self,
        prepared: &Prepared,
        wait: bool,
        progress: &mut dyn FnMut(ApplyEvent<'_>),
    ) -> Result<Executed, CliError> {
        if prepared.changed {
            velos_config::write_atomically(&prepared.file, &prepared.text).map_err(|error| {
                CliError::new(format!("could not write {}", prepared.file.display()))
                    .cause(error.to_string())
                    .hint("nothing was applied; make the file and its folder writable, then run the command again")
            })?;
        }
        // Stops wait up to the apps' kill timeouts: never give up before the longest one has passed.
        let kill_timeout_ms = self.live.iter().map(|record| record.spec.kill_timeout_ms).max().unwrap_or(0);
        let options = ApplyOptions {
            wait,
            timeout: TIMEOUT_DEFAULT.max(Duration::from_millis(kill_timeout_ms) + WAIT_GRACE),
            poll_interval: POLL_INTERVAL_DEFAULT,
        };
        let mut recording = Recording { client: &mut self.client, seen: BTreeMap::new() };
        let report = if prepared.plan.is_empty() {
            ApplyReport::default()
        } else {
            apply_plan(&prepared.plan, &mut recording, options, progress)
        };
        let seen = recording.seen;
        if prepared.changed || !prepared.plan.is_empty() {
            let recorded = record_apply(
                self.context.home(),
                &prepared.project,
                &prepared.text,
                &prepared.plan,
                &report,
                now_unix_ms(),
            );
            if let Err(error) = recorded {
                warn_unrecorded(&error);
            }
        }
        Ok(Executed { report, seen })
    }
}

/// The [`Daemon`] of an edit: the client, keeping the last record it returned for each app, so the
/// messages can name the pids the daemon reported (`started web (pid 1234)`).
struct Recording<'c> {
    client: &'c mut Client,
    seen: BTreeMap<String, ProcessRecord>,
}

impl Recording<'_> {
    fn keep(&mut self, record: ProcessRecord) -> ProcessRecord {
        self.seen.insert(record.name.clone(), record.clone());
        record
    }
}

impl Daemon for Recording<'_> {
    fn list(&mut self) -> Result<Vec<ProcessRecord>, DaemonError> {
        let records = <Client as Daemon>::list(self.client)?;
        for record in &records {
            self.seen.insert(record.name.clone(), record.clone());
        }
        Ok(records)
    }

    fn info(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        <Client as Daemon>::info(self.client, name).map(|record| self.keep(record))
    }

    fn start(&mut self, spec: &AppSpec) -> Result<ProcessRecord, DaemonError> {
        <Client as Daemon>::start(self.client, spec).map(|record| self.keep(record))
    }

    fn start_existing(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        <Client as Daemon>::start_existing(self.client, name).map(|record| self.keep(record))
    }

    fn stop(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        <Client as Daemon>::stop(self.client, name).map(|record| self.keep(record))
    }

    fn delete(&mut self, name: &str) -> Result<(), DaemonError> {
        <Client as Daemon>::delete(self.client, name)
    }

    fn update_in_place(&mut self, spec: &AppSpec) -> Result<ProcessRecord, DaemonError> {
        <Client as Daemon>::update_in_place(self.client, spec).map(|record| self.keep(record))
    }
}

// ---- start ------------------------------------------------------------------------------------------------

pub fn start(context: &Context, args: &StartArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let mut session = Session::open(context)?;
    if args.is_bare_name() {
        // `velos start api`: an app by name if there is one, else `api` is a program to run.
        match session.find(&args.program, Verb::Start)? {
            Found::Declared(declared) => return start_declared(&mut session, &declared, out),
            Found::Orphan(record, Orphan::Unlabelled) => {
                return start_direct(&mut session.client, &record.name, out);
            }
            Found::Orphan(record, orphan) => return Err(orphan_error(&record.name, &orphan, Verb::Start)),
            Found::Unknown => {}
        }
    }
    let current_dir = std::env::current_dir()
        .map_err(|error| CliError::new("could not read the current directory").cause(error.to_string()))?;
    let caller_env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)))
        .collect();
    let new_app = build_app(args, &caller_env, &current_dir)?;
    match session.find(&new_app.name, Verb::Start)? {
        // The same command again is idempotent: the app is started if it is not running.
        Found::Declared(declared) if same_spec(&declared, &new_app) => {
            start_declared(&mut session, &declared, out)
        }
        Found::Declared(declared) => Err(exists_error(&new_app.name, Some(&declared.file))),
        Found::Orphan(record, Orphan::Unlabelled) => {
            let candidate = default_candidate(context, &new_app)?;
            if candidate.as_deref() == Some(record.spec.spec_hash.as_str()) {
                start_direct(&mut session.client, &record.name, out)
            } else {
                Err(exists_error(&new_app.name, None))
            }
        }
        // An app of the default project whose file lost it (edited or removed by hand): declared again if
        // it is the same program, so the file and the host agree.
        Found::Orphan(record, Orphan::NotInFile { project, .. } | Orphan::FileGone { project, .. })
            if project == ownership::DEFAULT_PROJECT
                && default_candidate(context, &new_app)?.as_deref()
                    == Some(record.spec.spec_hash.as_str()) =>
        {
            add_to_default(&mut session, new_app, out)
        }
        Found::Orphan(record, orphan) => Err(orphan_error(&record.name, &orphan, Verb::Start).hint(format!(
            "another app already has that name: velos delete {} first, or choose another --name",
            record.name
        ))),
        Found::Unknown => add_to_default(&mut session, new_app, out),
    }
}

/// The text of the default project's file now (a new one if it does not exist yet).
fn default_source(context: &Context) -> Result<(PathBuf, String), CliError> {
    let file = default_project_file(context.home());
    match std::fs::read_to_string(&file) {
        Ok(source) => Ok((file, source)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            Ok((file, DEFAULT_PROJECT_SOURCE.to_string()))
        }
        Err(error) => {
            Err(CliError::new(format!("could not read {}", file.display())).cause(error.to_string()))
        }
    }
}

/// The spec hash `new_app` would have in the default project, if it can be added there.
fn default_candidate(context: &Context, new_app: &NewApp) -> Result<Option<String>, CliError> {
    let (file, source) = default_source(context)?;
    let edit = Edit::AddApp { app: new_app.name.clone(), table: new_app.table.clone() };
    Ok(velos_config::apply_edits(&source, &file, &[edit])
        .ok()
        .and_then(|(_, project)| project.app(&new_app.name).map(|app| app.spec.spec_hash.clone())))
}

/// Whether `new_app` declares what `declared` already does (same instances, same specs).
fn same_spec(declared: &Declared, new_app: &NewApp) -> bool {
    let edits = [
        Edit::RemoveApp { app: declared.app.clone() },
        Edit::AddApp { app: declared.app.clone(), table: new_app.table.clone() },
    ];
    let specs = |project: &Project| -> Vec<(String, String)> {
        project
            .instances_of(&declared.app)
            .iter()
            .map(|app| (app.spec.name.clone(), app.spec.spec_hash.clone()))
            .collect()
    };
    velos_config::apply_edits(&declared.source, &declared.file, &edits)
        .is_ok_and(|(_, candidate)| specs(&candidate) == specs(&declared.project))
}

fn exists_error(name: &str, file: Option<&Path>) -> CliError {
    let error =
        CliError::new(format!("an app named {name:?} already exists, with another command or settings"));
    let error = match file {
        Some(file) => error.cause(format!("it is declared in {}", file.display())),
        None => error,
    };
    let edit = file.map(|file| format!(", or edit {}", file.display())).unwrap_or_default();
    error.hint(format!(
        "velos restart {name} restarts it as it is; to change it, velos delete {name} first{edit}"
    ))
}

/// Adds `[apps.NAME]` to the default project's file (creating it), then creates the app.
fn add_to_default(session: &mut Session<'_>, new_app: NewApp, out: &mut dyn Write) -> Result<(), CliError> {
    let (file, source) = default_source(session.context)?;
    let edits = [Edit::AddApp { app: new_app.name.clone(), table: new_app.table }];
    let prepared = session.prepare(&file, &source, &edits, &new_app.name)?;
    started(session, &prepared, out)
}

/// `velos start NAME` of a declared app: `state = "running"` (when it said otherwise), then start it.
fn start_declared(
    session: &mut Session<'_>,
    declared: &Declared,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let edits = [Edit::SetState { app: declared.app.clone(), state: DesiredState::Running }];
    let prepared = session.prepare(&declared.file, &declared.source, &edits, &declared.app)?;
    started(session, &prepared, out)
}

/// Applies a start (no waiting, as before: the reply of START names the pid) and prints one line per
/// instance, or the error of the first that failed.
fn started(session: &mut Session<'_>, prepared: &Prepared, out: &mut dyn Write) -> Result<(), CliError> {
    show_other_actions(prepared, &[ActionType::Create, ActionType::Start], out)?;
    let executed = session.execute(prepared, false, &mut |_| {})?;
    let mut failures = Vec::new();
    let mut at_rest = Vec::new();
    for desired in prepared.project.instances_of(&prepared.app) {
        let name = desired.spec.name.as_str();
        let before = session.live(name);
        match outcome(&executed.report, name) {
            Some(Outcome::Failed { message }) => failures.push(message.clone()),
            Some(Outcome::Skipped { reason }) => failures.push(format!("{name}: skipped: {reason}")),
            Some(Outcome::Done) => match executed.seen.get(name) {
                Some(record) => report_started(out, before, record)?,
                None => writeln!(out, "started {name}")?,
            },
            None => match before {
                Some(record) if record.pid != 0 => report_started(out, Some(record), record)?,
                // A finished job or an app the daemon gave up on: a plan leaves it alone (its spec did not
                // change), but a user's start is asked for, so it runs again.
                Some(record) if matches!(record.status, Status::Completed | Status::Errored) => {
                    at_rest.push(name.to_string());
                }
                Some(record) => writeln!(out, "{name} is {}", record.status)?,
                None => writeln!(out, "{name} is not running")?,
            },
        }
    }
    for name in &at_rest {
        if let Err(error) = start_direct(&mut session.client, name, out) {
            failures.push(error.message);
        }
    }
    note_edit(session.context, prepared, out)?;
    match failures.split_first() {
        None => Ok(()),
        Some((first, rest)) => {
            let mut error = CliError::new(first.clone());
            for more in rest {
                error = error.cause(more.clone());
            }
            Err(error.hint(format!("check the path, then velos delete {}", prepared.app)))
        }
    }
}

// ---- stop and delete --------------------------------------------------------------------------------------

pub fn stop(context: &Context, name: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let mut session = Session::open(context)?;
    let declared = match session.find(name, Verb::Stop)? {
        Found::Declared(declared) => declared,
        Found::Orphan(record, Orphan::Unlabelled) => {
            return stop_direct(&mut session.client, &record.name, out)
        }
        Found::Orphan(record, orphan) => return Err(orphan_error(&record.name, &orphan, Verb::Stop)),
        Found::Unknown => return Err(session.no_such_app(name)),
    };
    let edits = [Edit::SetState { app: declared.app.clone(), state: DesiredState::Stopped }];
    let prepared = session.prepare(&declared.file, &declared.source, &edits, &declared.app)?;
    show_other_actions(&prepared, &[ActionType::Stop], out)?;
    let executed = session.execute(&prepared, false, &mut |_| {})?;
    let mut failures = Vec::new();
    for desired in prepared.project.instances_of(&prepared.app) {
        let name = desired.spec.name.as_str();
        let pid_before = session.live(name).map_or(0, |record| record.pid);
        match outcome(&executed.report, name) {
            Some(Outcome::Failed { message }) => failures.push(message.clone()),
            Some(Outcome::Skipped { reason }) => failures.push(format!("{name}: skipped: {reason}")),
            Some(Outcome::Done) | None => match executed.seen.get(name).or_else(|| session.live(name)) {
                Some(record) => report_stopped(out, name, pid_before, record.status)?,
                None => writeln!(out, "{name} is not running")?,
            },
        }
    }
    note_edit(context, &prepared, out)?;
    failed_actions(failures, &prepared.app, Verb::Stop)
}

pub fn delete(context: &Context, name: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let mut session = Session::open(context)?;
    let declared = match session.find(name, Verb::Delete)? {
        Found::Declared(declared) => declared,
        // No file declares it, so nothing would bring it back: deleting it is safe.
        Found::Orphan(record, _) => return delete_direct(&mut session.client, &record.name, out),
        Found::Unknown => return Err(session.no_such_app(name)),
    };
    let dependents = declared.project.dependents_of(&declared.app);
    if let Some(first) = dependents.first() {
        let list = dependents.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ");
        let verb = if dependents.len() == 1 { "depends" } else { "depend" };
        return Err(CliError::new(format!(
            "cannot delete {}: {list} {verb} on it in {}",
            declared.app,
            declared.file.display()
        ))
        .hint(format!(
            "remove `{}` from the depends_on of {first} (velos set {first} depends_on=[...]), or velos delete {first} first",
            declared.app
        )));
    }
    let edits = [Edit::RemoveApp { app: declared.app.clone() }];
    let prepared = session.prepare(&declared.file, &declared.source, &edits, &declared.app)?;
    show_other_actions(&prepared, &[ActionType::Delete], out)?;
    let executed = session.execute(&prepared, false, &mut |_| {})?;
    let mut failures = Vec::new();
    let mut deleted = 0;
    for result in &executed.report.results {
        let name = result.name.as_str();
        match (&result.outcome, result.action) {
            (Outcome::Done, ActionType::Delete) => {
                deleted += 1;
                report_deleted(out, name, session.live(name).map_or(0, |record| record.pid))?;
            }
            (Outcome::Done, _) => {}
            (Outcome::Failed { message }, _) => failures.push(message.clone()),
            (Outcome::Skipped { reason }, _) => failures.push(format!("{name}: skipped: {reason}")),
        }
    }
    if deleted == 0 && failures.is_empty() {
        // Declared, never applied: only the file had it.
        writeln!(out, "deleted {}", declared.app)?;
    }
    note_edit(context, &prepared, out)?;
    failed_actions(failures, &prepared.app, Verb::Delete)
}

// ---- scale, set, unset ------------------------------------------------------------------------------------

pub fn scale(context: &Context, args: &ScaleArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let edits = [Edit::SetInstances { app: args.name.clone(), instances: args.instances }];
    edit_and_apply(context, &args.name, Verb::Scale, &edits, out)
}

pub fn set(context: &Context, args: &SetArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let edits: Vec<Edit> = args
        .assignments
        .iter()
        .map(|(key, value)| Edit::Set { app: args.name.clone(), key: key.clone(), value: value.clone() })
        .collect();
    edit_and_apply(context, &args.name, Verb::Set, &edits, out)
}

pub fn unset(context: &Context, args: &UnsetArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let edits: Vec<Edit> =
        args.keys.iter().map(|key| Edit::Unset { app: args.name.clone(), key: key.clone() }).collect();
    edit_and_apply(context, &args.name, Verb::Unset, &edits, out)
}

/// An edit of one declared app, applied like `velos apply` (plan, progress, report, wait), limited to it.
fn edit_and_apply(
    context: &Context,
    name: &str,
    verb: Verb,
    edits: &[Edit],
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut session = Session::open(context)?;
    let declared = match session.find(name, verb)? {
        Found::Declared(declared) => declared,
        Found::Orphan(record, orphan) => return Err(orphan_error(&record.name, &orphan, verb)),
        Found::Unknown => return Err(session.no_such_app(name)),
    };
    let prepared = session.prepare(&declared.file, &declared.source, edits, &declared.app)?;
    if !prepared.changed && prepared.plan.is_empty() {
        writeln!(out, "No changes: {} already says so, and the host runs it.", prepared.file.display())?;
        return Ok(());
    }
    let colour = colour();
    if prepared.changed {
        writeln!(out, "Edited {}.", prepared.file.display())?;
    }
    if prepared.plan.is_empty() {
        writeln!(out, "No changes to apply: the host already runs {}.", prepared.app)?;
    } else {
        out.write_all(render_plan(&prepared.plan, colour).as_bytes())?;
    }
    out.flush()?;
    let executed = {
        let mut progress = Progress::new(out, std::io::stdout().is_terminal(), colour, false);
        let executed = session.execute(&prepared, true, &mut |event| progress.event(event))?;
        progress.finish()?;
        executed
    };
    if !prepared.plan.is_empty() {
        out.write_all(render_summary(&executed.report, colour).as_bytes())?;
    }
    if executed.report.ok() {
        Ok(())
    } else {
        Err(CliError::new(format!(
            "{} {} did not complete: {}",
            verb.as_str(),
            prepared.app,
            executed.report.summary()
        ))
        .hint(format!(
            "velos logs {} --stderr shows why; {} already holds the change, so velos apply {} retries it",
            prepared.app,
            prepared.file.display(),
            prepared.file.display()
        )))
    }
}

// ---- shared -----------------------------------------------------------------------------------------------

/// The outcome of the last action on `name`.
fn outcome<'r>(report: &'r ApplyReport, name: &str) -> Option<&'r Outcome> {
    let mut results = report.results.iter().filter(|result| result.name == name);
    results
        .clone()
        .find(|result| result.outcome != Outcome::Done)
        .or_else(|| results.next_back())
        .map(|result| &result.outcome)
}

/// When an edit also applies something the command does not say (the file held a pending change of this
/// app, e.g. a new command written by hand), the plan is shown first, so nothing happens unannounced.
fn show_other_actions(
    prepared: &Prepared,
    expected: &[ActionType],
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let other = prepared.plan.actions.iter().any(|action| !expected.contains(&action.kind.kind()));
    if other {
        out.write_all(render_plan(&prepared.plan, colour()).as_bytes())?;
    }
    Ok(())
}

/// `(velos.toml edited: /srv/shop/velos.toml)` after an edit of a project's own file. The default project's
/// file is Velos's own and goes unmentioned, so `velos start` prints what it always did.
fn note_edit(context: &Context, prepared: &Prepared, out: &mut dyn Write) -> Result<(), CliError> {
    let default_file = default_project_file(context.home());
    if prepared.changed && prepared.file != default_file {
        writeln!(out, "(edited {})", prepared.file.display())?;
    }
    Ok(())
}

fn failed_actions(failures: Vec<String>, app: &str, verb: Verb) -> Result<(), CliError> {
    match failures.split_first() {
        None => Ok(()),
        Some((first, rest)) => {
            let mut error = CliError::new(first.clone());
            for more in rest {
                error = error.cause(more.clone());
            }
            Err(error.hint(format!(
                "velos info {app} shows its state; the file already says it is {}, so velos {} {app} retries",
                verb.past(),
                verb.as_str()
            )))
        }
    }
}

fn instance_error(name: &str, app: &str, file: &Path, verb: Verb) -> CliError {
    CliError::new(format!(
        "{name} is an instance of app `{app}` ({}): instances cannot be {} one by one",
        file.display(),
        verb.past()
    ))
    .hint(format!(
        "velos {} {app} acts on every instance; velos scale {app} N changes how many run",
        verb.as_str()
    ))
}

/// The apps of the system project are Velos's own: `velos apply` writes their file.
fn system_error(name: &str, verb: Verb) -> CliError {
    CliError::new(format!(
        "{name} is run by Velos itself (project {SYSTEM_PROJECT}), so it cannot be {}",
        verb.past()
    ))
    .hint(format!(
        "it runs while a project asks for the controller ([velos] in its velos.toml, or velos apply --git); velos restart {name} restarts it"
    ))
}

/// Why an app that no file declares cannot be edited.
fn orphan_error(name: &str, orphan: &Orphan, verb: Verb) -> CliError {
    match orphan {
        Orphan::Unlabelled => CliError::new(format!(
            "{name} runs outside any project: no velos.toml declares it, so it cannot be {}",
            verb.past()
        ))
        .hint(format!(
            "velos delete {name}, then velos start it again: it is then declared in the default project"
        )),
        Orphan::Unregistered { project } => CliError::new(format!(
            "{name} belongs to project `{project}`, which has not been applied on this host (VELOS_HOME)"
        ))
        .hint(format!(
            "velos apply on that project's file registers it; velos delete {name} removes the app"
        )),
        Orphan::FileGone { project, file } => CliError::new(format!(
            "{name} belongs to project `{project}`, whose file {} is gone",
            file.display()
        ))
        .hint(format!(
            "restore {} and run velos apply on it; or remove the app: velos delete {name}",
            file.display()
        )),
        Orphan::FileInvalid { project, file, message } => CliError::new(format!(
            "{name} belongs to project `{project}`, whose file {} is not valid now",
            file.display()
        ))
        .cause(message.clone())
        .hint(format!(
            "velos validate {} shows the problems; fix them, then run the command again",
            file.display()
        )),
        Orphan::NotInFile { project, file } => {
            CliError::new(format!("{name} is no longer declared in {} (project `{project}`)", file.display()))
                .hint(format!(
                    "velos apply {} deletes it; velos delete {name} deletes it now",
                    file.display()
                ))
        }
    }
}
