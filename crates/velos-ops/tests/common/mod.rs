//! An [`Ops`] over the fake daemon in a temporary VELOS_HOME, with a test clock.
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::sync::Arc;
use velos_ops::testing::FakeConnector;
use velos_ops::{Home, NewAppOptions, OpError, Ops, StartOutcome, StartRequest};
use velos_reconcile::clock::TestClock;

pub struct Host {
    pub dir: tempfile::TempDir,
    pub ops: Ops,
    pub fake: FakeConnector,
}

impl Host {
    /// A host whose daemon is not running yet (a write verb starts it).
    pub fn new() -> Host {
        Host::with(FakeConnector::new())
    }

    pub fn running() -> Host {
        Host::with(FakeConnector::running())
    }

    fn with(fake: FakeConnector) -> Host {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path().join("home")).expect("home");
        let ops = Ops::new(home)
            .with_connector(Arc::new(fake.clone()))
            .with_test_clock(TestClock::new())
            .with_velos_exe(PathBuf::from("/usr/bin/velos"));
        Host { dir, ops, fake }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` to `name` under the temporary folder.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
        path
    }

    /// `velos start PROGRAM ARGS --name NAME` from the temporary folder.
    pub fn start(&self, target: &str, args: &[&str], name: Option<&str>) -> Result<StartOutcome, OpError> {
        self.ops.start(StartRequest {
            target: target.into(),
            args: args.iter().map(|arg| arg.to_string()).collect(),
            options: NewAppOptions { name: name.map(str::to_string), ..NewAppOptions::default() },
            caller_dir: self.dir.path().to_path_buf(),
            caller_env: [("PATH".to_string(), "/usr/bin:/bin".to_string())].into(),
            wait: Default::default(),
        })
    }

    /// The names the fake daemon runs (status aside).
    pub fn names(&self) -> Vec<String> {
        self.fake.lock().daemon.records().into_iter().map(|record| record.name).collect()
    }

    /// The pid of `name` now.
    pub fn pid(&self, name: &str) -> u32 {
        self.fake.lock().daemon.record(name).map_or(0, |record| record.pid)
    }
}

/// A project file with app `api` (2 instances) and `web` depending on it.
pub const SHOP: &str = r#"[project]
name = "shop"

[apps.api]
command = "/bin/sleep"
args = ["3600"]
instances = 2

[apps.web]
command = "/bin/sleep"
args = ["3600"]
depends_on = ["api"]
"#;
