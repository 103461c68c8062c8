//! `mptcp.add_addr_timeout` ([`MptcpConfig::add_addr_timeout`]): B (two addresses) announces
//! its second one to A; every echo A sends is lost, so B sends its ADD_ADDR again each time
//! its timeout passes, five times in all, then gives up.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use common::pair::{Fate, Logged, Pair, WireConfig, mptcp_config};
use mptcp_proto::conn::MptcpConfig;
use mptcp_proto::stack::{InterfaceConfig, StackConfig};
use mptcp_proto::tcp::TcpConfig;
use mptcp_proto::time::Instant;
use mptcp_proto::wire::{MptcpOption, TcpOption, TcpOptions};

/// The ADD_ADDR of `l`, if it carries one: whether it is an echo.
fn add_addr_echo(l: &Logged) -> Option<bool> {
    TcpOptions::new(&l.options).find_map(|o| match o {
        Ok(TcpOption::Mptcp(MptcpOption::AddAddr(a))) => Some(a.echo),
        _ => None,
    })
}

/// When B sent its ADD_ADDR, with `timeout` as its add_addr_timeout, A's echoes all lost.
fn announcements(timeout: Duration) -> Vec<Instant> {
    let a = mptcp_config(TcpConfig::default(), MptcpConfig::default(), "10.0.0.1");
    let b = StackConfig {
        interfaces: ["10.0.0.2", "10.0.1.2"]
            .iter()
            .map(|a| InterfaceConfig::new(a.parse().unwrap()))
            .collect(),
        mptcp: MptcpConfig {
            add_addr_timeout: timeout,
            ..MptcpConfig::default()
        },
        ..StackConfig::default()
    };
    let wire = WireConfig {
        delay: Duration::from_millis(5),
        ..WireConfig::default()
    };
    let mut p = Pair::with_configs(a, b, wire);
    let sent = Rc::new(RefCell::new(Vec::new()));
    let seen = sent.clone();
    p.hook = Some(Box::new(move |l: &Logged| {
        match (l.from, add_addr_echo(l)) {
            (0, Some(true)) => Fate::Drop,
            (1, Some(false)) => {
                seen.borrow_mut().push(l.at);
                Fate::Deliver
            }
            _ => Fate::Deliver,
        }
    }));
    p.connected();
    p.run_for(Duration::from_secs(30));
    sent.take()
}

#[test]
fn an_unechoed_add_addr_goes_again_each_add_addr_timeout_five_times() {
    for timeout in [Duration::from_secs(1), Duration::from_secs(2)] {
        let sent = announcements(timeout);
        let gaps: Vec<Duration> = sent.windows(2).map(|w| w[1] - w[0]).collect();
        println!("add_addr_timeout {timeout:?}: ADD_ADDR gaps {gaps:?}");
        assert_eq!(sent.len(), 5, "{timeout:?}: {gaps:?}");
        for gap in gaps {
            assert!(
                gap >= timeout && gap < timeout + Duration::from_millis(300),
                "{timeout:?}: {gap:?}"
            );
        }
    }
}
