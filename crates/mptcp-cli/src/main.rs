//! The `mptcp` command. Parses arguments, calls into the library, prints, and maps errors to a
//! message on stderr: exit code 2 for a usage or configuration error (bad options, settings or
//! scenario), 1 for a run or transfer that failed.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};
use mptcp_cli::decode::Report;
use mptcp_cli::decode::capture::{CaptureError, read_capture_file};
use mptcp_cli::decode::render::{write_json, write_text};
use mptcp_cli::demo::{self, DemoArgs};
use mptcp_cli::net::{self, ConnectArgs, DataArgs, ListenArgs};
use mptcp_cli::settings::{self, SettingsArgs};
use mptcp_cli::sim::{self, SimRun};
use mptcp_sim::RunOptions;

/// A userspace Multipath TCP stack, and tools to look at Multipath TCP.
#[derive(Debug, Parser)]
#[command(
    name = "mptcp",
    version,
    propagate_version = true,
    long_about = "A userspace Multipath TCP stack (RFC 8684), and tools to look at \
                  Multipath TCP.\n\nRun `mptcp help COMMAND` or `mptcp COMMAND --help` for the \
                  details of a command."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A phone downloads over Wi-Fi and cellular with Multipath TCP; Wi-Fi fails and comes
    /// back (simulated, no root needed)
    #[command(
        long_about = "A phone downloads a file from a server with Multipath TCP over Wi-Fi \
(30 Mbit/s, 20 ms RTT) and cellular (10 Mbit/s, 60 ms RTT) at once, in the deterministic \
simulator: no root, no network. Wi-Fi goes down mid-transfer (--fail-at, --fail-for) and comes \
back; the download goes on over cellular and takes Wi-Fi up again.

It prints a row per simulated second with the throughput each path carried (bytes its subflow \
received in order, re-injected data included) and what the application read, then the outcome: \
bytes (every byte checked against what the server sent), goodput, the failover time and Wi-Fi's \
recovery.

The failover time runs from the loss of Wi-Fi to the first 10 ms sample at which the application \
reads data again after the longest pause in its reading that starts within 2 s of the loss: the \
data Wi-Fi had in flight is lost with it and holds up in-order delivery until the server sends \
it again over cellular. 0 means reading never paused.

With --json: one JSON object with intact, finished, bytes, duration_s, goodput_bps, failover_ms, \
stall_ms, recovery_ms, the subflows, and per_second (from_s, to_s, wifi_bps, cellular_bps, \
goodput_bps, received). The exit code is 1 if the download is not intact and complete.",
        after_help = "Examples:
  mptcp demo
  mptcp demo --size 16M --fail-at 2 --fail-for 1
  mptcp demo --json | python3 -m json.tool
  mptcp demo --pcap out/ && mptcp decode out/link0-wifi.pcap | head"
    )]
    Demo(DemoArgs),
    /// Decode the packets of a capture file (pcap or pcapng)
    #[command(
        long_about = "Decode the packets of a capture file (pcap or pcapng).

Reads pcap (microsecond or nanosecond, either byte order) and pcapng (any number of sections \
and interfaces). Link layers: Ethernet (with VLAN tags), Linux cooked capture v1 and v2 \
(`tcpdump -i any`), raw IP, BSD loopback. Frames are numbered as Wireshark numbers them.

For each TCP packet it prints the frame number, time, addresses and ports, flags, sequence and \
acknowledgment numbers (raw and relative), window and payload length, then every MPTCP option \
with all its fields: keys with their tokens and IDSNs, nonces, HMACs (and whether they verify), \
data sequence numbers (raw and relative to the IDSN), DATA_ACKs, DSS checksums (and whether \
they verify over the captured payload), address ids, addresses, ports, reset reasons. Packets \
that are not TCP are listed as skipped. At the end, a summary per MPTCP connection: keys, \
tokens, IDSNs and its subflows (matched by the token in each MP_JOIN).

With --json: one JSON object per line, one per frame (\"type\": \"tcp\", \"skipped\" or \
\"malformed\") and then one per MPTCP connection (\"type\": \"connection\").

If the file is damaged or cut short, every packet before the damage is printed, then the \
problem, and the exit code is 1.",
        after_help = "Examples:
  tcpdump -i any -w trace.pcap 'tcp'   # capture, then:
  mptcp decode trace.pcap
  mptcp decode --json trace.pcapng | python3 -m json.tool --json-lines"
    )]
    Decode(DecodeArgs),
    /// Run a scenario in the simulator and report every connection
    #[command(
        long_about = "Run a scenario in the simulator and report every connection.

The scenario file (TOML) describes hosts, routers, links with their impairments, scheduled link \
changes and applications; every host runs the userspace stack. Clients send a deterministic \
byte pattern that the receiving application checks byte by byte, so `intact` means every byte \
arrived, in order, unchanged, and no more than were sent.

The table shows per connection: payload bytes received, duration (from the client's connect to \
the last byte), goodput, segments retransmitted by both ends, the client's smoothed RTT, the \
longest stall (the longest an application went without reading while data was still to come, \
either direction) and whether the transfer is intact. The exit code is 1 if any transfer is not intact or did not \
finish by the scenario's end.

--set NAME=VALUE and --config FILE change the settings of every host, over the scenario's own \
(`mptcp settings` lists them; mptcp.scheduler replaces a host's profile).

With --json: one JSON object with the run and, per connection, bytes_sent, bytes_received, \
intact, finished, mptcp (false for plain TCP and after a fallback), duration_s, goodput_bps, \
retransmits, srtt_ms, stall_up_ms (the server reading the client's bytes), stall_down_ms (the \
client reading the server's) and problem. The exit code is 2 if the scenario or a setting is \
wrong.",
        after_help = "Examples:
  mptcp sim scenarios/clean_100mbit_20ms.toml
  mptcp sim --set mptcp.scheduler=roundrobin scenarios/failover.toml
  mptcp sim --seed 7 --pcap out/ scenarios/lossy_1pct.toml
  mptcp sim --json scenarios/two_way.toml | python3 -m json.tool"
    )]
    Sim(SimArgs),
    /// Connect to HOST:PORT over a TUN device and send/receive data, like netcat
    #[command(long_about = net::args::CONNECT_HELP, after_help = net::args::CONNECT_EXAMPLES)]
    Connect(ConnectArgs),
    /// Accept one connection over a TUN device and send/receive data, like `nc -l`
    #[command(long_about = net::args::LISTEN_HELP, after_help = net::args::LISTEN_EXAMPLES)]
    Listen(ListenArgs),
    /// List every setting of the stack with its value, default and meaning, like `sysctl -a`
    #[command(
        long_about = "List every setting of the stack with its value, default and meaning, \
like `sysctl -a`.

The names follow the seeds' multipath-tcp.org kernel (net.mptcp.mptcp_scheduler is \
mptcp.scheduler here, the roundrobin module's num_segments is roundrobin.num_segments); \
docs/settings.md maps each to its name there and in today's Linux. `connect`, `listen`, `demo` \
and `sim` take the same --set and --config; with them here, VALUE shows what those commands \
would run with. An unknown name or a bad value exits with status 2 and names what is valid.

With --json: an array of objects with name, value, default, takes, meaning, seeds and linux.",
        after_help = "Examples:
  mptcp settings
  mptcp settings --set mptcp.scheduler=roundrobin --set roundrobin.num_segments=3
  mptcp settings --config my.toml --json"
    )]
    Settings(SettingsCmdArgs),
}

#[derive(Debug, Args)]
struct SettingsCmdArgs {
    #[command(flatten)]
    settings: SettingsArgs,

    /// Print a JSON array instead of the table
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct SimArgs {
    /// The scenario file
    #[arg(value_name = "SCENARIO.toml")]
    scenario: PathBuf,

    /// Print one JSON object instead of the table
    #[arg(long)]
    json: bool,

    /// Write a pcap capture of every link into this directory
    #[arg(long, value_name = "DIR")]
    pcap: Option<PathBuf>,

    /// Use this seed instead of the scenario's
    #[arg(long, value_name = "N")]
    seed: Option<u64>,

    /// Settings for every host, over the scenario's own
    #[command(flatten)]
    settings: SettingsArgs,
}

#[derive(Debug, Args)]
struct DecodeArgs {
    /// The capture file to read
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// Print one JSON object per packet (JSON Lines) instead of text
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(args) => {
            print_records("demo", &args.settings, Records::Simulated);
            run_demo(&args)
        }
        Command::Decode(args) => decode(&args),
        Command::Sim(args) => {
            print_records("sim", &args.settings, Records::Simulated);
            simulate(&args)
        }
        Command::Connect(args) => {
            validate("connect", &args.data);
            print_records("connect", &args.net.settings, Records::Real);
            ExitCode::from(net::connect(&args))
        }
        Command::Listen(args) => {
            validate("listen", &args.data);
            print_records("listen", &args.net.settings, Records::Real);
            ExitCode::from(net::listen(&args))
        }
        Command::Settings(args) => show_settings(&args),
    }
}

/// Exits with a usage error (status 2): `message` about the options of `mptcp NAME`.
fn usage_error(name: &str, kind: ErrorKind, message: impl std::fmt::Display) -> ! {
    let mut cli = Cli::command();
    cli.build();
    let command = cli
        .find_subcommand_mut(name)
        .expect("every command is a subcommand");
    command.error(kind, message).exit()
}

/// Where a command's stack runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Records {
    /// On a TUN device: the runtime's own warnings show too, and records carry the time.
    Real,
    /// In the simulator: only connections record (each host's `mptcp.debug`, in a
    /// scenario's settings too), and the wall clock means nothing.
    Simulated,
}

/// Prints the stack's records on standard error. Connections record what their
/// `mptcp.debug` asks (DEBUG at 1, TRACE at 2); on a real network, the level of the command
/// line's `mptcp.debug` also lets the runtime's records through (only warnings at 0).
fn print_records(name: &str, settings: &SettingsArgs, runs: Records) {
    let settings = settings
        .settings()
        .unwrap_or_else(|error| settings_error(name, error));
    let level = match (runs, settings.get("mptcp.debug").as_deref()) {
        (Records::Simulated, _) | (Records::Real, Ok("2")) => {
            tracing_subscriber::filter::LevelFilter::TRACE
        }
        (Records::Real, Ok("1")) => tracing_subscriber::filter::LevelFilter::DEBUG,
        (Records::Real, _) => tracing_subscriber::filter::LevelFilter::WARN,
    };
    let records = tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .with_max_level(level);
    match runs {
        Records::Real => records.init(),
        Records::Simulated => records.without_time().init(),
    }
}

/// Exits with a usage error if the settings of `mptcp NAME` cannot be used.
fn settings_error(name: &str, error: settings::ConfigError) -> ! {
    usage_error(name, ErrorKind::ValueValidation, error)
}

/// `mptcp settings`.
fn show_settings(args: &SettingsCmdArgs) -> ExitCode {
    let settings = args
        .settings
        .settings()
        .unwrap_or_else(|error| settings_error("settings", error));
    let mut out = BufWriter::new(io::stdout().lock());
    let written = if args.json {
        writeln!(out, "{:#}", settings::to_json(&settings))
    } else {
        settings::write_text(&mut out, &settings)
    };
    match written.and_then(|()| out.flush()) {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => {
            let _ = writeln!(io::stderr(), "mptcp settings: cannot write output: {error}");
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}

/// Exits with a usage error (status 2) if the data options of `mptcp NAME` do not fit.
fn validate(name: &str, data: &DataArgs) {
    if let Err(message) = data.validate() {
        usage_error(name, ErrorKind::ArgumentConflict, message);
    }
}

/// `mptcp sim`: status 2 if the scenario or the settings are wrong, 1 if the run failed or
/// any transfer is not intact and done.
fn simulate(args: &SimArgs) -> ExitCode {
    let options = RunOptions {
        pcap_dir: args.pcap.clone(),
        ..RunOptions::default()
    };
    let settings = args
        .settings
        .spec()
        .unwrap_or_else(|error| settings_error("sim", error));
    let mut progress = SimProgress::new();
    let shown = |at, total| progress.show(at, total);
    let run = sim::run_file(&args.scenario, args.seed, &settings, &options, shown);
    progress.clear();
    let run = match run {
        Ok(run) => run,
        Err(error) => {
            let _ = writeln!(io::stderr(), "mptcp sim: {error}");
            return if error.is_usage() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            };
        }
    };
    if let Err(error) = print_run(&run, args.json)
        && error.kind() != io::ErrorKind::BrokenPipe
    {
        let _ = writeln!(io::stderr(), "mptcp sim: cannot write output: {error}");
        return ExitCode::FAILURE;
    }
    if run.report.all_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `mptcp demo`: failure if the download is not intact and complete.
fn run_demo(args: &DemoArgs) -> ExitCode {
    let config = args
        .config()
        .unwrap_or_else(|error| settings_error("demo", error));
    let mut out = BufWriter::new(io::stdout().lock());
    let mut shown = 0;
    let mut written = Ok(());
    if !args.json {
        written = demo::write_header(&mut out, &config).and_then(|()| out.flush());
    }
    let run = demo::run(&config, args.pcap.clone(), |row| {
        shown += 1;
        if !args.json && written.is_ok() {
            written = demo::write_row(&mut out, row, &config).and_then(|()| out.flush());
        }
    });
    let run = match run {
        Ok(run) => run,
        Err(error) => {
            let _ = writeln!(io::stderr(), "mptcp demo: {error}");
            return ExitCode::FAILURE;
        }
    };
    let finish = |out: &mut BufWriter<io::StdoutLock<'_>>| -> io::Result<()> {
        if args.json {
            writeln!(out, "{}", demo::to_json(&run))?;
        } else {
            for row in run.intervals().iter().skip(shown) {
                demo::write_row(out, row, &config)?;
            }
            demo::write_summary(out, &run)?;
        }
        out.flush()
    };
    if let Err(error) = written.and_then(|()| finish(&mut out))
        && error.kind() != io::ErrorKind::BrokenPipe
    {
        let _ = writeln!(io::stderr(), "mptcp demo: cannot write output: {error}");
        return ExitCode::FAILURE;
    }
    if run.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `mptcp sim`'s progress line on a terminal, for runs longer than a second of wall time.
struct SimProgress {
    started: std::time::Instant,
    /// When the line was last redrawn.
    shown: Option<std::time::Instant>,
}

impl SimProgress {
    fn new() -> Self {
        Self {
            started: std::time::Instant::now(),
            shown: None,
        }
    }

    /// The run reached `at` of `total` simulated time: redraw the line at most ten times a
    /// second.
    fn show(&mut self, at: std::time::Duration, total: std::time::Duration) {
        let now = std::time::Instant::now();
        let recent = self
            .shown
            .is_some_and(|t| now - t < std::time::Duration::from_millis(100));
        if recent || !io::stderr().is_terminal() || self.started.elapsed().as_secs() < 1 {
            return;
        }
        self.shown = Some(now);
        let _ = write!(
            io::stderr(),
            "\rsimulated {:.0} of {:.0} s ({:.0} s of wall time)",
            at.as_secs_f64(),
            total.as_secs_f64(),
            self.started.elapsed().as_secs_f64()
        );
    }

    /// Erases the line, if one was shown.
    fn clear(&self) {
        if self.shown.is_some() {
            let _ = write!(io::stderr(), "\r\x1b[2K");
        }
    }
}

fn print_run(run: &SimRun, json: bool) -> io::Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    if json {
        writeln!(out, "{}", sim::to_json(&run.report))?;
    } else {
        sim::write_text(&mut out, run)?;
    }
    out.flush()
}

/// `mptcp decode`: the packets that could be read, then the error that stopped reading.
fn decode(args: &DecodeArgs) -> ExitCode {
    let capture = match read_capture_file(&args.file) {
        Ok(capture) => capture,
        Err(error) => return fail(&args.file, &error),
    };
    let report = Report::new(&capture.packets);
    let mut out = BufWriter::new(io::stdout().lock());
    let printed = if args.json {
        write_json(&mut out, &report)
    } else {
        write_text(&mut out, &report)
    }
    .and_then(|()| out.flush());
    match (printed, capture.error) {
        // A reader that went away (`mptcp decode FILE | head`) is not an error.
        (Err(error), _) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        (Err(error), _) => {
            let _ = writeln!(io::stderr(), "mptcp decode: cannot write output: {error}");
            ExitCode::FAILURE
        }
        (Ok(()), Some(error)) => fail(&args.file, &error),
        (Ok(()), None) => ExitCode::SUCCESS,
    }
}

fn fail(path: &Path, error: &CaptureError) -> ExitCode {
    let message = match error {
        // Already names the file.
        CaptureError::Io { .. } => format!("mptcp decode: {error}"),
        _ => format!("mptcp decode: {}: {error}", path.display()),
    };
    let _ = writeln!(io::stderr(), "{message}");
    ExitCode::FAILURE
}
