//! The evaluator's path awareness without the network: the set of down nodes follows the nodes' own checks
//! as they go down and recover, also with two checks on one node and with states restored from storage.

use std::collections::HashSet;
use std::time::{Duration, Instant};
use unyo_domain::connectivity::{ProbeStatus, State};
use unyo_probe::{CheckPlace, Evaluator, FLAG_IMPACTED, ResultRecord};

fn place(check_id: i64, own_node: Option<i64>, path: &[i64], state: Option<State>) -> CheckPlace {
    CheckPlace {
        check_id,
        site_id: None,
        own_node,
        path: path.to_vec(),
        flap_n: 1,
        state,
    }
}

fn result(check_id: i64, status: ProbeStatus) -> ResultRecord {
    ResultRecord {
        check_id,
        ts: 1_700_000_000,
        status,
        latency_ms: None,
        message: String::new(),
        cert_days_left: None,
        lateness: Duration::ZERO,
        started: Instant::now(),
    }
}

#[test]
fn down_nodes_follow_their_checks() {
    // Node 2 has two checks (ICMP 1 and TCP 2); terminal check 10 sits behind node 2.
    let mut ev = Evaluator::new(
        vec![
            place(1, Some(2), &[], Some(State::Up)),
            place(2, Some(2), &[], Some(State::Up)),
            place(10, None, &[2], Some(State::Up)),
        ],
        vec![],
    );
    assert!(ev.down_nodes().is_empty());
    ev.apply(&result(1, ProbeStatus::Down));
    ev.apply(&result(2, ProbeStatus::Down));
    assert_eq!(ev.down_nodes(), HashSet::from([2]));
    let e = ev.apply(&result(10, ProbeStatus::Down));
    assert_eq!(e.impacted_by, Some(2));
    assert!(e.code & FLAG_IMPACTED != 0);
    // One of the node's checks recovers: the other still says the node is down.
    ev.apply(&result(1, ProbeStatus::Up));
    assert_eq!(ev.down_nodes(), HashSet::from([2]));
    ev.apply(&result(2, ProbeStatus::Up));
    assert!(ev.down_nodes().is_empty());
    assert_eq!(ev.apply(&result(10, ProbeStatus::Down)).impacted_by, None);
}

#[test]
fn restored_down_state_counts() {
    let mut ev = Evaluator::new(
        vec![
            place(1, Some(7), &[], Some(State::Down)),
            place(10, None, &[7], None),
        ],
        vec![],
    );
    assert_eq!(ev.impacted_by(10), Some(7));
    ev.apply(&result(1, ProbeStatus::Up));
    assert_eq!(ev.impacted_by(10), None);
}
