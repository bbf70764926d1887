//! A rolling update of 10 instances with instant readiness (`min_uptime = "0ms"`), stop-first and
//! start-first: `velos apply` of an env change until every instance runs the new version, one at a time.
use crate::scenarios::Row;
use crate::{median, Home};
use std::path::Path;
use std::time::Instant;

const RUNS: usize = 5;
const INSTANCES: usize = 10;

fn config(strategy: &str, version: usize) -> String {
    format!(
        "[project]\nname = \"bench\"\n\n[apps.web]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\n\
         instances = {INSTANCES}\nmin_uptime = \"0ms\"\nrollout = {{ strategy = \"{strategy}\" }}\n\
         env = {{ VERSION = \"{version}\" }}\n"
    )
}

pub fn rolling_scenarios(velos: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    for strategy in ["stop-first", "start-first"] {
        let home = Home::new(velos);
        let file = home.path().join("velos.toml");
        std::fs::write(&file, config(strategy, 0)).expect("write config");
        home.velos(&["apply", file.to_str().expect("utf-8 path")]);
        let mut took_ms = Vec::new();
        for version in 1..=RUNS {
            std::fs::write(&file, config(strategy, version)).expect("write config");
            let began = Instant::now();
            home.velos(&["apply", file.to_str().expect("utf-8 path")]); // rolls, each instance ready
            took_ms.push(began.elapsed().as_secs_f64() * 1000.0);
            let apps = home.list();
            assert_eq!(apps.len(), INSTANCES, "no surge left: {apps:?}");
            assert!(apps.iter().all(|app| app["status"] == "running"), "all running");
        }
        rows.push(Row {
            scenario: format!("rolling update of {INSTANCES} instances, {strategy} (median of {RUNS})"),
            figure: format!("{:.0} ms", median(took_ms)),
            target: "<= 1 s with instant readiness",
        });
    }
    rows
}
