//! The edit engine: one [`Session`] per write of desired state, opened under the edit lock. It reads the
//! host once (live apps, project files), finds who declares a name, edits that file with velos-config
//! (comments and layout kept), plans the edited app, writes the file atomically, and runs the one converge
//! pass on that app. A command that fails before the write writes and applies nothing.
use super::refuse::{instance_error, system_error, Verb};
use crate::address::{is_system, ALL};
use crate::backend::Backend;
use crate::context::Ops;
use crate::convert::{config_error, daemon_error, history_error, plan_error};
use crate::error::{ErrorDetail, OpError, OpErrorKind};
use crate::outcome::Warning;
use crate::recording::Recording;
use std::fs::File;
use std::path::{Path, PathBuf};
use velos_config::{Edit, Project};
use velos_controller::{tracking, SYSTEM_PROJECT};
use velos_core::ProcessRecord;
use velos_reconcile::ownership::{self, orphan, owner_of, Orphan, Ownership, ProjectFile};
use velos_reconcile::{ApplyEvent, ApplyOptions, ConvergeError, Converged, Gate, Pass, Plan, Scope};

/// An app declared in a file: where, and the file as read under the lock.
#[derive(Debug, Clone)]
pub struct Declared {
    pub file: PathBuf,
    pub source: String,
    pub project: Project,
    /// The `[apps.NAME]` key.
    pub app: String,
}

/// What a name is on this host.
pub enum Found {
    Declared(Declared),
    /// Live, declared by no file.
    Orphan(ProcessRecord, Orphan),
    /// Neither declared nor live.
    Unknown,
}

/// An edit, validated and planned, not yet written.
pub struct Prepared {
    pub file: PathBuf,
    /// The new text differs from the old.
    pub changed: bool,
    pub text: String,
    pub project: Project,
    /// The actions on the edited app only.
    pub plan: Plan,
    pub app: String,
}

/// One write's view of the host, read once under the edit lock.
pub struct Session<'o> {
    pub ops: &'o Ops,
    _lock: File,
    pub backend: Box<dyn Backend>,
    pub live: Vec<ProcessRecord>,
    pub files: Vec<ProjectFile>,
}

impl<'o> Session<'o> {
    pub fn open(ops: &'o Ops) -> Result<Session<'o>, OpError> {
        let lock = ops.lock_edits()?;
        let mut backend = ops.connect_or_start()?;
        let live = backend.list().map_err(|error| daemon_error(error, None))?;
        let files = ownership::project_files(ops.home().root()).map_err(|error| history_error(&error))?;
        Ok(Session { ops, _lock: lock, backend, live, files })
    }

    pub fn live(&self, name: &str) -> Option<&ProcessRecord> {
        self.live.iter().find(|record| record.name == name)
    }

    /// Where `name` is declared; an instance name is refused (it cannot be expressed in the file).
    pub fn find(&self, name: &str, verb: Verb) -> Result<Found, OpError> {
        if self.live(name).is_some_and(is_system) {
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

    /// [`Session::find`] of a name that must exist: unknown is `not_found` with did-you-mean.
    pub fn find_existing(&self, name: &str, verb: Verb) -> Result<Found, OpError> {
        match self.find(name, verb)? {
            Found::Unknown => Err(self.no_such_app(name)),
            found => Ok(found),
        }
    }

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
    fn refuse_git(&self, declared: &Declared, verb: Verb) -> Result<(), OpError> {
        let Some(source) = tracking(self.ops.home().root(), &declared.project) else { return Ok(()) };
        Err(follows_git(
            &declared.project,
            &source,
            &format!("`velos {}` cannot change {} here", verb.as_str(), declared.app),
        ))
    }

    /// The apps a user may name here (declared and live), for did-you-mean.
    pub fn known_apps(&self) -> Vec<String> {
        let mut known: Vec<String> =
            self.live.iter().filter(|record| !is_system(record)).map(|record| record.name.clone()).collect();
        for file in &self.files {
            if let Some(project) = file.project().filter(|project| project.name != SYSTEM_PROJECT) {
                known.extend(project.app_names().iter().map(|name| name.to_string()));
            }
        }
        known.sort();
        known.dedup();
        known
    }

    /// `no app named "x"`, with close names. A project file that cannot be read is not named here: it has
    /// nothing to do with this name, and `velos status` says it once.
    pub fn no_such_app(&self, name: &str) -> OpError {
        let known = self.known_apps();
        let mut error = crate::address::no_such_app(name, known.iter().map(String::as_str));
        if name == ALL {
            error.message = "no app to act on: none is declared or running".into();
        }
        error
    }

    /// Applies `edits` to `source` (the text of `file`), validates, and plans the actions on `app`.
    pub fn prepare(&self, file: &Path, source: &str, edits: &[Edit], app: &str) -> Result<Prepared, OpError> {
        let (text, project) = velos_config::apply_edits(source, file, edits).map_err(|error| {
            let mut op_error = config_error(&error);
            if op_error.hint.is_none() {
                op_error =
                    op_error.hint(format!("nothing was written or applied: {} is unchanged", file.display()));
            }
            op_error
        })?;
        let plan =
            velos_reconcile::plan_app(&project, &self.live, app).map_err(|error| plan_error(&error, file))?;
        Ok(Prepared {
            file: file.to_path_buf(),
            changed: text != source,
            text,
            project,
            plan,
            app: app.to_string(),
        })
    }

    /// Writes the edited file (if it changed), then runs the converge pass on the app.
    pub fn execute(
        &mut self,
        prepared: &Prepared,
        options: ApplyOptions,
        progress: &mut dyn FnMut(ApplyEvent<'_>),
        warnings: &mut Vec<Warning>,
    ) -> Result<Executed, OpError> {
        if prepared.changed {
            velos_config::write_atomically(&prepared.file, &prepared.text).map_err(|error| {
                OpError::io(format!("could not write {}", prepared.file.display()), &error).hint(
                    "nothing was applied; make the file and its folder writable, then run the command again",
                )
            })?;
        }
        let pass = Pass {
            home: self.ops.home().root(),
            project: &prepared.project,
            text: &prepared.text,
            scope: Scope::App(&prepared.app),
            options,
        };
        let mut recording = Recording::new(self.backend.as_mut());
        let mut clock = self.ops.clock();
        let converged = pass.run(&mut recording, clock.as_mut(), &mut |_, _, _| Gate::Apply, progress);
        let seen = recording.into_seen();
        let converged = converged.map_err(|error| converge_error(error, &prepared.file, warnings))?;
        if let Some(error) = &converged.unrecorded {
            warnings.push(Warning::unrecorded(error));
        }
        if prepared.project.name != SYSTEM_PROJECT {
            // An edit can add or remove the last check or schedule: the controller app follows, as after
            // an apply (nothing to do, cheaply, on a host that never ran it).
            let system = crate::follow::converge_system(
                self.ops,
                self.backend.as_mut(),
                crate::outcome::WaitOptions::default(),
                &mut |_| {},
                warnings,
            );
            if let Err(error) = system {
                warnings.push(Warning::new(
                    crate::outcome::WarningKind::Controller,
                    format!("the controller app was not updated: {}", error.message),
                ));
            }
        }
        Ok(Executed { converged, seen })
    }
}

/// What an edit did: the pass, and the last record the daemon returned for each app during it.
pub struct Executed {
    pub converged: Converged,
    pub seen: std::collections::BTreeMap<String, ProcessRecord>,
}

/// A converge pass that applied nothing.
pub fn converge_error(error: ConvergeError, file: &Path, warnings: &mut Vec<Warning>) -> OpError {
    match error {
        ConvergeError::List(error) => daemon_error(error, None),
        ConvergeError::Plan { error, unrecorded } => {
            if let Some(unrecorded) = unrecorded {
                warnings.push(Warning::unrecorded(&unrecorded));
            }
            plan_error(&error, file)
        }
    }
}

/// `follows_git`: a change of `project` that belongs in its repository.
pub fn follows_git(project: &Project, source: &str, what: &str) -> OpError {
    let git = project.controller.as_ref().and_then(|settings| settings.git.as_ref());
    let (repository, ref_name, path) = match git {
        Some(git) => (git.repo.clone(), git.ref_name.clone(), git.path.clone()),
        None => (source.to_string(), String::new(), String::new()),
    };
    OpError::new(OpErrorKind::FollowsGit, format!("project `{}` follows git ({source}), so {what}", project.name))
        .hint("commit the change to the repository; the controller applies it (velos restart acts without an edit; velos apply --force-local takes the project off git)")
        .detail(ErrorDetail::FollowsGit { project: project.name.clone(), repository, ref_name, path })
}
