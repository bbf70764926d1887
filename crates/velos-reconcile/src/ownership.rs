//! Which project owns an app: the one whose velos.toml declares it (DESIGN §4). Imperative commands
//! (`velos stop web`, `velos scale web 3`) edit that file, so they first ask here.
//!
//! The files looked at are those of the projects registered on this host (every `velos apply` registers
//! its project, see [`crate::history`]) and the default project's, `$VELOS_HOME/velos.toml`, where apps
//! started without a file (`velos start server.js`) are declared.
use crate::history::{read_projects, HistoryError};
use crate::plan::project_of;
use std::path::{Path, PathBuf};
use velos_config::{ConfigError, Project};
use velos_core::ProcessRecord;

/// The default project's name.
pub const DEFAULT_PROJECT: &str = velos_config::FALLBACK_PROJECT_NAME;
/// The default project's file name, in `VELOS_HOME`.
pub const DEFAULT_PROJECT_FILE: &str = "velos.toml";

/// The text of a new default project file: it lives in `VELOS_HOME`, outside any repository, so it says
/// who writes it instead of pointing at a schema.
pub const DEFAULT_PROJECT_SOURCE: &str = "\
# The default Velos project: the apps started with `velos start PROGRAM`, which have no file of their own.
# `velos start`, `stop`, `delete`, `scale`, `set` and `unset` edit this file, keeping what you write; you
# may also edit it by hand, then run `velos apply` on it. The reference is docs/CONFIG.md.

[project]
name = \"default\"
";

/// `$VELOS_HOME/velos.toml`.
pub fn default_project_file(home: &Path) -> PathBuf {
    home.join(DEFAULT_PROJECT_FILE)
}

/// A project file of this host, as read now.
#[derive(Debug)]
pub struct ProjectFile {
    /// The file (absolute, as registered).
    pub file: PathBuf,
    /// The project the registry has for this file (`None` for a default project file never applied).
    pub registered: Option<String>,
    /// Its text and project, or why it could not be read.
    pub loaded: Result<(String, Project), ConfigError>,
}

impl ProjectFile {
    /// The project, when the file could be read.
    pub fn project(&self) -> Option<&Project> {
        self.loaded.as_ref().ok().map(|(_, project)| project)
    }

    /// The project name: as declared in the file, else as registered.
    pub fn project_name(&self) -> Option<&str> {
        self.project().map(|project| project.name.as_str()).or(self.registered.as_deref())
    }
}

/// The files of every registered project, then the default project's file if it exists and is not
/// registered, each read once. A registered file that cannot be read is listed with its error.
pub fn project_files(home: &Path) -> Result<Vec<ProjectFile>, HistoryError> {
    let mut files: Vec<ProjectFile> = Vec::new();
    for record in read_projects(home)? {
        if files.iter().any(|file| file.file == record.file) {
            continue;
        }
        let loaded = velos_config::load_source(&record.file);
        files.push(ProjectFile { file: record.file, registered: Some(record.project), loaded });
    }
    let default_file = default_project_file(home);
    let default_canonical = velos_config::canonical_file_path(&default_file).unwrap_or(default_file.clone());
    let registered = files.iter().any(|file| file.file == default_file || file.file == default_canonical);
    if !registered && default_file.exists() {
        let loaded = velos_config::load_source(&default_file);
        files.push(ProjectFile { file: default_canonical, registered: None, loaded });
    }
    Ok(files)
}

/// Who declares a name, among `files`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// `[apps.NAME]` of `files[index]`.
    App { index: usize },
    /// An instance (`web-1`) of `[apps.APP]` of `files[index]`: instances are not edited one by one.
    Instance { index: usize, app: String },
    /// No readable file declares it.
    Undeclared,
}

/// The file that declares `name`. App names are unique on a host, but two files may declare one name when
/// the second was refused at apply: the file of the project whose label the live process carries wins,
/// else the first in `files` order.
pub fn owner_of(files: &[ProjectFile], name: &str, live: &[ProcessRecord]) -> Ownership {
    let label = live.iter().find(|record| record.name == name).and_then(project_of);
    let mut found: Vec<(usize, Ownership)> = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let Some(project) = file.project() else { continue };
        if project.app_names().contains(&name) {
            found.push((index, Ownership::App { index }));
        } else if let Some(desired) = project.app(name) {
            found.push((index, Ownership::Instance { index, app: desired.app.clone() }));
        }
    }
    let preferred = found
        .iter()
        .position(|(index, _)| label.is_some() && files[*index].project_name() == label)
        .unwrap_or(0);
    found.into_iter().nth(preferred).map_or(Ownership::Undeclared, |(_, ownership)| ownership)
}

/// Why a live app that no file declares has no file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Orphan {
    /// No project label: started outside any project (by an older velos, or over the socket directly).
    Unlabelled,
    /// Its project is not registered on this host, and is not the default project.
    Unregistered { project: String },
    /// Its project's file is gone.
    FileGone { project: String, file: PathBuf },
    /// Its project's file cannot be read or is not valid now.
    FileInvalid { project: String, file: PathBuf, message: String },
    /// Its project's file no longer declares it: the next `velos apply` of that file deletes it.
    NotInFile { project: String, file: PathBuf },
}

/// Why no file declares the live `record` (call when [`owner_of`] said [`Ownership::Undeclared`]).
pub fn orphan(record: &ProcessRecord, files: &[ProjectFile]) -> Orphan {
    let Some(project) = project_of(record) else { return Orphan::Unlabelled };
    let project = project.to_string();
    let file = files.iter().find(|file| file.registered.as_deref() == Some(project.as_str())).or_else(|| {
        files.iter().find(|file| file.registered.is_none() && file.project_name() == Some(project.as_str()))
    });
    match file {
        None => Orphan::Unregistered { project },
        Some(ProjectFile { file, loaded: Err(ConfigError::Read { source, .. }), .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Orphan::FileGone { project, file: file.clone() }
        }
        Some(ProjectFile { file, loaded: Err(error), .. }) => {
            Orphan::FileInvalid { project, file: file.clone(), message: error.to_string() }
        }
        Some(ProjectFile { file, .. }) => Orphan::NotInFile { project, file: file.clone() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::record_for;
    use velos_core::{AppSpec, Status};

    fn file(path: &str, text: &str, registered: Option<&str>) -> ProjectFile {
        let loaded = velos_config::parse(text, Path::new(path)).map(|project| (text.to_string(), project));
        ProjectFile { file: PathBuf::from(path), registered: registered.map(str::to_string), loaded }
    }

    fn live(name: &str, project: Option<&str>) -> ProcessRecord {
        let mut spec = AppSpec::new(name, "/bin/sleep", "/");
        if let Some(project) = project {
            spec.labels.insert("project".into(), project.into());
        }
        record_for(&spec, Status::Running, 42)
    }

    fn files() -> Vec<ProjectFile> {
        vec![
            file(
                "/srv/shop/velos.toml",
                "[project]\nname = \"shop\"\n[apps.web]\ncommand = \"/bin/sleep\"\ninstances = 2\n[apps.db]\ncommand = \"/bin/sleep\"\n",
                Some("shop"),
            ),
            file("/srv/gone/velos.toml", "", Some("gone")).with_error(),
            file("/home/v/velos.toml", "[project]\nname = \"default\"\n[apps.api]\ncommand = \"/bin/sleep\"\n", None),
        ]
    }

    impl ProjectFile {
        fn with_error(mut self) -> ProjectFile {
            self.loaded = Err(ConfigError::Read {
                path: self.file.clone(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
            self
        }
    }

    #[test]
    fn apps_and_instances_are_found_in_their_files() {
        let files = files();
        assert_eq!(owner_of(&files, "db", &[]), Ownership::App { index: 0 });
        assert_eq!(owner_of(&files, "web", &[]), Ownership::App { index: 0 });
        assert_eq!(owner_of(&files, "web-1", &[]), Ownership::Instance { index: 0, app: "web".into() });
        assert_eq!(owner_of(&files, "api", &[]), Ownership::App { index: 2 });
        assert_eq!(owner_of(&files, "ghost", &[]), Ownership::Undeclared);
    }

    #[test]
    fn the_live_label_breaks_a_tie() {
        let mut files = files();
        files.push(file(
            "/srv/other/velos.toml",
            "[project]\nname = \"other\"\n[apps.db]\ncommand = \"/bin/true\"\n",
            Some("other"),
        ));
        assert_eq!(owner_of(&files, "db", &[]), Ownership::App { index: 0 });
        assert_eq!(owner_of(&files, "db", &[live("db", Some("other"))]), Ownership::App { index: 3 });
    }

    #[test]
    fn orphans_say_why_they_have_no_file() {
        let files = files();
        assert_eq!(orphan(&live("x", None), &files), Orphan::Unlabelled);
        assert_eq!(
            orphan(&live("x", Some("nowhere")), &files),
            Orphan::Unregistered { project: "nowhere".into() }
        );
        assert_eq!(
            orphan(&live("x", Some("gone")), &files),
            Orphan::FileGone { project: "gone".into(), file: "/srv/gone/velos.toml".into() }
        );
        assert_eq!(
            orphan(&live("old", Some("shop")), &files),
            Orphan::NotInFile { project: "shop".into(), file: "/srv/shop/velos.toml".into() }
        );
        assert_eq!(
            orphan(&live("old", Some("default")), &files),
            Orphan::NotInFile { project: "default".into(), file: "/home/v/velos.toml".into() }
        );
    }

    #[test]
    fn registered_files_and_the_default_file_are_read() {
        let home = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        assert!(project_files(home.path()).unwrap_or_else(|error| panic!("{error}")).is_empty());
        std::fs::write(default_project_file(home.path()), DEFAULT_PROJECT_SOURCE)
            .unwrap_or_else(|error| panic!("{error}"));
        let files = project_files(home.path()).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(files.len(), 1);
        let project = files[0].project().unwrap_or_else(|| panic!("{:?}", files[0].loaded));
        assert_eq!(project.name, DEFAULT_PROJECT);
        assert!(project.apps.is_empty());
    }
}
