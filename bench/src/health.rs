//! Health checks, 100 apps every second: what probing costs the daemon (one LIST a second from the
//! controller's prober; the daemon never probes) and the controller that runs the probes. Each app has a
//! tcp readiness and a tcp liveness check, both every second, against a listener this process holds.
use crate::monit::cpu_percent_pair;
use crate::scenarios::Row;
use crate::{wait_for, Home};
use std::path::Path;
use std::time::Duration;

const APPS: usize = 100;
/// The measured window: long against the 1 s interval.
const WINDOW: Duration = Duration::from_secs(20);

pub fn health_scenarios(velos: &Path) -> Vec<Row> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    // Accept and close, as a health endpoint that answers at once.
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            drop(stream);
        }
    });
    let home = Home::new(velos);
    let mut file = String::from("[project]\nname = \"bench-health\"\n");
    for index in 0..APPS {
        file.push_str(&format!(
            "[apps.checked-{index:03}]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\nmin_uptime = \"0ms\"\n\
             readiness = {{ tcp = \"{address}\", interval = \"1s\" }}\n\
             liveness = {{ tcp = \"{address}\", interval = \"1s\" }}\n"
        ));
    }
    // The same 100 apps without checks first: the daemon's cost with nobody probing.
    let config = home.path().join("velos.toml");
    let unchecked: String =
        file.lines().filter(|line| !line.contains("tcp =")).map(|line| format!("{line}\n")).collect();
    std::fs::write(&config, unchecked).expect("velos.toml");
    home.velos(&["apply", &config.to_string_lossy()]);
    std::thread::sleep(Duration::from_secs(2));
    let (daemon_alone, _) = cpu_percent_pair(home.daemon_pid(), home.daemon_pid(), WINDOW);
    std::fs::write(&config, file).expect("velos.toml");
    home.velos(&["apply", &config.to_string_lossy()]);
    let state_file = home.path().join("health/state.json");
    let all_healthy = || {
        let text = std::fs::read_to_string(&state_file).unwrap_or_default();
        let state: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let instances = state["instances"].as_object().map_or(0, |instances| {
            instances.values().filter(|instance| instance["liveness"]["health"] == "healthy").count()
        });
        instances == APPS
    };
    if wait_for(Duration::from_secs(30), all_healthy).is_none() {
        return vec![Row {
            scenario: format!("health checks, {APPS} apps every second"),
            figure: "skipped: the prober never found every app healthy".into(),
            target: "",
        }];
    }
    let controller = home
        .list_all()
        .into_iter()
        .find(|app| app["name"] == "velos-controller")
        .and_then(|app| app["pid"].as_u64())
        .unwrap_or(0) as u32;
    let (daemon_cpu, controller_cpu) = cpu_percent_pair(home.daemon_pid(), controller, WINDOW);
    vec![
        Row {
            scenario: format!("health checks, {APPS} apps x 2 checks every 1 s: daemon CPU"),
            figure: format!("{daemon_cpu:.3} % of a core ({daemon_alone:.3} without checks)"),
            target: "<= 1 % of a core",
        },
        Row {
            scenario: "... the controller running the probes".into(),
            figure: format!("{controller_cpu:.3} % of a core"),
            target: "",
        },
    ]
}
