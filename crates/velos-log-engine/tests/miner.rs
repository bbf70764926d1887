//! The miner's grouping rules, one behaviour each, through the public API.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test
use velos_log_engine::{mine_lines, HeaderModel, Miner};

/// Mines `lines` (messages, no header) and returns each line's template id.
fn groups(lines: &[&str]) -> Vec<u32> {
    let mut miner = Miner::default();
    let ids: Vec<u32> = lines.iter().map(|line| miner.add(line.as_bytes())).collect();
    ids.into_iter().map(|id| miner.find(id)).collect()
}

#[test]
fn numbers_ids_and_paths_are_variables() {
    let ids = groups(&[
        "Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106 dest: /10.250.19.102:50010",
        "Receiving block blk_7503483334202473044 src: /10.251.215.16:55695 dest: /10.251.215.16:50010",
        "Deleting file /var/cache/app/a3f9c2d1-77e0-4c3b-9f8e-0e5b1c2d3e4f.tmp",
        "Deleting file /tmp/x",
    ]);
    assert_eq!((ids[0], ids[2]), (ids[1], ids[3]));
    assert_ne!(ids[0], ids[2]);
}

#[test]
fn one_meaningful_word_keeps_events_apart() {
    let ids = groups(&[
        "[instance: 1] VM Started (Lifecycle Event)",
        "[instance: 2] VM Paused (Lifecycle Event)",
        "[instance: 3] VM Resumed (Lifecycle Event)",
        "[instance: 4] VM Stopped (Lifecycle Event)",
        "session opened for user root",
        "session closed for user root",
        "visible=true",
        "visible=false",
    ]);
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), ids.len(), "past-tense states, opened/closed, true/false: {ids:?}");
}

#[test]
fn a_position_with_several_plain_words_is_a_variable_but_not_the_first_word() {
    let ids = groups(&[
        "session opened for user cyrus",
        "session opened for user news",
        "session opened for user test",
        "session opened for user root",
        "boot (command 1)",
        "wait (command 2)",
        "halt (command 3)",
    ]);
    assert!(ids[..4].iter().all(|&id| id == ids[0]), "{ids:?}");
    assert!(ids[4] != ids[5] && ids[5] != ids[6] && ids[4] != ids[6], "the first word is the event: {ids:?}");
}

#[test]
fn names_and_empty_values_merge_with_variables() {
    let ids = groups(&[
        "connection from 10.0.0.1 (host-10-0-0-1.example.net) at 10:00",
        "connection from 10.0.0.2 () at 10:01",
        "connection from 10.0.0.3 (mail.example.org) at 10:02",
        "Registering class org.a.A for class org.a.B",
        "Registering class org.c.C for class org.c.D",
    ]);
    assert!(ids[..3].iter().all(|&id| id == ids[0]), "{ids:?}");
    assert_eq!(ids[3], ids[4], "two names may differ together");
}

#[test]
fn a_template_of_numbers_does_not_swallow_words() {
    let ids = groups(&["12345", "closeQs", "instantCollapse", "67890"]);
    assert_eq!(ids[0], ids[3]);
    assert!(ids[1] != ids[0] && ids[2] != ids[0] && ids[1] != ids[2], "{ids:?}");
}

#[test]
fn a_state_file_with_a_loop_in_it_is_repaired_not_followed() {
    let mut miner = Miner::default();
    miner.add(b"alpha 1");
    miner.add(b"beta 2");
    let mut state: serde_json::Value = serde_json::to_value(&miner).unwrap();
    state["parent"] = serde_json::json!([1, 0]);
    let loaded: Miner = serde_json::from_value(state).unwrap();
    assert_eq!(loaded.templates().count(), 2, "each template its own again");
    let mut resumed = loaded;
    assert_eq!(resumed.add(b"alpha 3"), resumed.find(0));
}

/// Header shapes of formats outside the accuracy set, written for this test: each must leave the message.
#[test]
fn headers_of_other_formats_are_found() {
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties",
                "[Sun Dec 04 04:47:45 2005] [error] mod_jk child workerEnv in error state 6",
                "[Mon Dec 05 11:02:10 2005] [notice] jk2_init() Found child 6725 in scoreboard slot 10",
            ],
            "mod_jk child workerEnv in error state 6",
        ),
        (
            &[
                "20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579",
                "20171223-22:15:29:615|Step_LSC|30002312|onExtend:1514038530000 14 0 4",
                "20171223-22:15:29:633|Step_StandReportReceiver|30002312|onReceive action: android.intent.action.SCREEN_ON",
            ],
            "onExtend:1514038530000 14 0 4",
        ),
        (
            &[
                "[10.30 16:49:06] chrome.exe - proxy.example.edu:5070 open through proxy proxy.example.edu:5070 HTTPS",
                "[10.30 16:49:07] chrome.exe - proxy.example.edu:5070 close, 0 bytes sent, 0 bytes received, lifetime 00:01",
                "[10.30 16:49:08] firefox.exe - www.example.com:443 open through proxy proxy.example.edu:5070 HTTPS",
            ],
            "www.example.com:443 open through proxy proxy.example.edu:5070 HTTPS",
        ),
        (
            &[
                "- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed for user root",
                "- 1131566462 2005.11.09 dn229 Nov 9 12:01:02 dn229/dn229 crond[2916]: (root) CMD (run-parts /etc/cron.hourly)",
                "- 1131566463 2005.11.09 dn230 Nov 9 12:01:03 dn230/dn230 sshd[2917]: Accepted password for root",
            ],
            "(root) CMD (run-parts /etc/cron.hourly)",
        ),
        (
            &[
                "Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo for host failed",
                "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
                "Dec 10 07:02:47 LabSZ sshd[24203]: Connection closed by 212.47.254.145 [preauth]",
            ],
            "Invalid user webmaster from 173.234.31.186",
        ),
        (
            &[
                "nova-api.log.1 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b-2096 113d3a99 54fdadf6 - - -] 10.11.10.1 \"GET /v2/servers/detail HTTP/1.1\" status: 200",
                "nova-api.log.1 2017-05-16 00:00:00.272 25746 INFO nova.osapi_compute.wsgi.server [req-9bc36dd9-91c5 113d3a99 54fdadf6 - - -] 10.11.10.1 \"GET /v2/servers/detail HTTP/1.1\" status: 200",
                "nova-compute.log.1 2017-05-16 00:00:04.500 2931 INFO nova.compute.manager [req-3ea4052c-895d 113d3a99 54fdadf6 - - -] [instance: b9000564] VM Started (Lifecycle Event)",
            ],
            "[instance: b9000564] VM Started (Lifecycle Event)",
        ),
    ];
    for (lines, message_of_line_2) in cases {
        let model = HeaderModel::learn(lines.iter().map(|line| line.as_bytes()));
        let line = lines.iter().find(|line| line.ends_with(message_of_line_2)).unwrap();
        let start = model.split(line.as_bytes()).content_start;
        assert_eq!(line[start..].trim_start(), message_of_line_2, "{model:?}");
    }
}

#[test]
fn whole_files_get_one_label_per_line() {
    let lines: Vec<&[u8]> = vec![b"a 1", b"", b"a 2", b"\xff\xfe"];
    let (_, labels) = mine_lines(&lines);
    assert_eq!(labels.len(), 4);
    assert_eq!(labels[0], labels[2]);
}

#[test]
fn lookup_labels_a_line_without_learning_from_it() {
    let mut miner = Miner::default();
    let known = miner.add(b"GET /a 200 5ms");
    miner.add(b"session opened for user cyrus");
    miner.add(b"session opened for user news");
    let users = miner.add(b"session opened for user test");
    let before = miner.templates().count();
    assert_eq!(miner.lookup(b"GET /b/c 404 17ms"), Some(known));
    assert_eq!(
        miner.lookup(b"session opened for user mallory"),
        Some(miner.find(users)),
        "a learned variable"
    );
    assert_eq!(miner.lookup(b"never seen before"), None);
    assert_eq!(miner.templates().count(), before);
}
