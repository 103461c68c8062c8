use std::sync::Arc;

use super::*;
use crate::cc::FixedFactory;
use crate::stack::StackConfig;

/// The fields of a configuration the settings write, for comparison.
fn written(tcp: &TcpConfig, mptcp: &MptcpConfig) -> String {
    format!(
        "{:?} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}",
        mptcp.enabled,
        mptcp.checksum,
        mptcp.syn_retries,
        mptcp.debug,
        mptcp.path_manager.name(),
        mptcp.scheduler.name(),
        mptcp.max_subflows,
        mptcp.max_half_open_joins,
        mptcp.max_add_addr_accepted,
        mptcp.add_addr_timeout.as_secs(),
        mptcp.close_timeout.as_secs(),
        tcp.congestion_control.name(),
        tcp.send_buffer,
        tcp.recv_buffer,
        tcp.recv_buffer_max,
        tcp.syn_retries,
        tcp.nodelay,
        tcp.sack,
        tcp.timestamps,
        tcp.window_scaling,
        tcp.pacing,
    )
}

#[test]
fn the_defaults_are_the_stacks() {
    let config = StackConfig::default();
    let settings = Settings::default();
    assert_eq!(settings, Settings::from_config(&config.tcp, &config.mptcp));
    for setting in SETTINGS {
        assert_eq!(setting.value(&settings), setting.default_value());
    }
    assert_eq!(settings.get("mptcp.scheduler").unwrap(), "default");
    assert_eq!(settings.get("tcp.recv_buffer_max").unwrap(), "8388608");
}

#[test]
fn apply_writes_only_what_was_set() {
    let mut config = StackConfig::default();
    config.tcp.send_buffer = 1 << 20;
    config.tcp.congestion_control = Arc::new(FixedFactory { segments: 7 });
    config.mptcp.scheduler = SchedulerChoice::new(RoundRobin::new(5, false));
    let mut settings = Settings::from_config(&config.tcp, &config.mptcp);
    assert_eq!(settings.get("tcp.send_buffer").unwrap(), "1048576");
    assert_eq!(settings.get("tcp.congestion_control").unwrap(), "fixed");
    settings.set("tcp.sack", "0").unwrap();
    // Its own scheduler's parameters change only when that scheduler is the one named.
    settings.set("blest.lambda", "1.1").unwrap();
    settings.apply(&mut config.tcp, &mut config.mptcp);
    assert!(!config.tcp.sack);
    assert_eq!(config.tcp.send_buffer, 1 << 20);
    assert_eq!(
        format!("{:?}", config.tcp.congestion_control),
        format!("{:?}", FixedFactory { segments: 7 })
    );
    assert_eq!(
        format!("{:?}", config.mptcp.scheduler),
        format!("{:?}", SchedulerChoice::new(RoundRobin::new(5, false)))
    );
}

#[test]
fn every_setting_reads_back_what_was_set_and_reaches_the_config() {
    let mut settings = Settings::default();
    for (name, value) in [
        ("mptcp.enabled", "2"),
        ("mptcp.checksum", "1"),
        ("mptcp.syn_retries", "1"),
        ("mptcp.version", "1"),
        ("mptcp.debug", "2"),
        ("mptcp.path_manager", "default"),
        ("fullmesh.num_subflows", "2"),
        ("fullmesh.create_on_err", "1"),
        ("ndiffports.num_subflows", "4"),
        ("mptcp.scheduler", "blest"),
        ("roundrobin.num_segments", "3"),
        ("roundrobin.cwnd_limited", "0"),
        ("blest.lambda", "1.1"),
        ("ecf.r_beta", "8"),
        ("tcp.congestion_control", "reno"),
        ("limits.subflows", "2"),
        ("limits.half_open_joins", "4"),
        ("limits.add_addr_accepted", "1"),
        ("mptcp.add_addr_timeout", "5"),
        ("mptcp.close_timeout", "7"),
        ("tcp.send_buffer", "65536"),
        ("tcp.recv_buffer", "131072"),
        ("tcp.recv_buffer_max", "131072"),
        ("tcp.syn_retries", "3"),
        ("tcp.nodelay", "1"),
        ("tcp.sack", "0"),
        ("tcp.timestamps", "0"),
        ("tcp.window_scaling", "0"),
        ("tcp.pacing", "0"),
    ] {
        settings.set(name, value).unwrap();
        assert_eq!(settings.get(name).unwrap(), value, "{name}");
    }
    assert_eq!(
        SETTINGS.len(),
        29,
        "a new setting needs a line in this test (and in docs/settings.md)"
    );
    let mut config = StackConfig::default();
    settings.apply(&mut config.tcp, &mut config.mptcp);
    assert_eq!(
        written(&config.tcp, &config.mptcp),
        "OnRequest true 1 2 default blest 2 4 1 5 7 reno 65536 131072 131072 3 true false false false false"
    );
}

#[test]
fn scheduler_parameters_reach_the_scheduler_whatever_the_order() {
    let mut settings = Settings::default();
    settings.assign("roundrobin.num_segments=4").unwrap();
    settings.assign("mptcp.scheduler = roundrobin").unwrap();
    assert_eq!(
        format!("{:?}", settings.scheduler_choice()),
        format!("{:?}", SchedulerChoice::new(RoundRobin::new(4, true)))
    );
    settings.set("mptcp.scheduler", "ecf").unwrap();
    settings.set("ecf.r_beta", "2").unwrap();
    assert_eq!(
        format!("{:?}", settings.scheduler_choice()),
        format!(
            "{:?}",
            SchedulerChoice::new(Ecf::new(NonZeroU32::new(2).unwrap()))
        )
    );
}

#[test]
fn path_manager_parameters_reach_the_path_manager_whatever_the_order() {
    let mut settings = Settings::default();
    settings.assign("ndiffports.num_subflows=3").unwrap();
    settings.assign("mptcp.path_manager=ndiffports").unwrap();
    let mut config = StackConfig::default();
    settings.apply(&mut config.tcp, &mut config.mptcp);
    assert_eq!(
        format!("{:?}", config.mptcp.path_manager.build()),
        format!("{:?}", NDiffPorts::new(3))
    );
    settings.assign("mptcp.path_manager=fullmesh").unwrap();
    settings.assign("fullmesh.create_on_err=1").unwrap();
    settings.assign("fullmesh.num_subflows=2").unwrap();
    settings.apply(&mut config.tcp, &mut config.mptcp);
    assert_eq!(
        format!("{:?}", config.mptcp.path_manager.build()),
        format!("{:?}", FullMesh::new(2, true))
    );
    let error = settings.set("ndiffports.num_subflows", "0").unwrap_err();
    assert!(error.to_string().contains("1 to 32"), "{error}");
}

#[test]
fn unknown_names_and_bad_values_are_refused_naming_what_is_valid() {
    let mut settings = Settings::default();
    let before = settings.clone();
    let error = settings.set("mptcp.shceduler", "default").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("unknown setting \"mptcp.shceduler\"; valid: mptcp.enabled, "),
        "{error}"
    );
    for (name, value, expected) in [
        (
            "mptcp.scheduler",
            "nonsense",
            "one of: default, roundrobin, redundant, blest, ecf, standby",
        ),
        ("mptcp.enabled", "3", "an integer from 0 to 2"),
        ("mptcp.version", "0", "one of: 1"),
        ("blest.lambda", "1.5", "a number from 1 to 1.3"),
        ("roundrobin.num_segments", "0", "an integer from 1 to 65535"),
        ("limits.subflows", "9", "an integer from 0 to 8"),
        ("tcp.recv_buffer", "-1", "an integer from 4096 to 268435456"),
        (
            "tcp.congestion_control",
            "vegas",
            "one of: reno, cubic, lia, olia, balia, wvegas, fixed",
        ),
    ] {
        let error = settings.set(name, value).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("bad value \"{value}\" for {name}: expected {expected}")
        );
    }
    assert_eq!(
        settings.assign("mptcp.scheduler").unwrap_err(),
        SettingError::NotAnAssignment("mptcp.scheduler".to_owned())
    );
    assert_eq!(settings, before, "nothing changed");
}

#[test]
fn every_setting_has_a_default_its_kind_accepts_and_a_line_of_documentation() {
    for setting in SETTINGS {
        let default = setting.default_value();
        assert!(
            setting.kind.parse(&default).is_some(),
            "{}: {default}",
            setting.name
        );
        assert!(!setting.doc.is_empty(), "{}", setting.name);
        assert_eq!(Setting::find(setting.name).unwrap().name, setting.name);
    }
}
