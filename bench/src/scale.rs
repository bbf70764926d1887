//! `velos scale web 100` from one instance until all 100 run: the edit path's pipelined starts
//! (`start_many` forwarded by every wrapper the edit goes through).
use crate::scenarios::Row;
use crate::{median, Home};
use std::path::Path;
use std::time::Instant;

const RUNS: usize = 5;

pub fn scale_scenarios(velos: &Path) -> Vec<Row> {
    let home = Home::new(velos);
    home.velos(&["start", "--name", "web", "/bin/sleep", "3600"]);
    let mut took_ms = Vec::new();
    for _ in 0..RUNS {
        let began = Instant::now();
        home.velos(&["scale", "web", "100"]); // waits until the apps run
        took_ms.push(began.elapsed().as_secs_f64() * 1000.0);
        let apps = home.list();
        assert_eq!(apps.len(), 100, "100 instances");
        assert!(apps.iter().all(|app| app["status"] == "running"), "all 100 running");
        home.velos(&["scale", "web", "1"]);
    }
    vec![Row {
        scenario: format!("`velos scale web 100` from 1 until all run (median of {RUNS})"),
        figure: format!("{:.0} ms", median(took_ms)),
        target: "<= 100 ms (start 100 from a config: 210 ms)",
    }]
}
