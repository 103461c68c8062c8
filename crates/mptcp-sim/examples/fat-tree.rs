//! The data-centre experiment of docs/datacenter.md: the k=4 fat-tree of
//! `scenarios/fat_tree_k4.toml` with permutation traffic, run with plain TCP and with
//! Multipath TCP at 2, 4 and 8 subflows (`ndiffports`) over several seeds. Prints each run's
//! aggregate throughput as a share of the optimum, then the figures as Markdown tables (per
//! seed; mean, lowest and highest beside the fluid model and the published figures) and,
//! with `--svg`, draws them.
//!
//! ```text
//! cargo run --release -p mptcp-sim --example fat-tree -- [--seeds 10] [--subflows 2,4,8] \
//!     [--svg docs/datacenter.svg]
//! cargo run --release -p mptcp-sim --example fat-tree -- scenario > scenarios/fat_tree_k4.toml
//! ```
//!
//! The plot is drawn with `plotters` (its SVG backend alone, no fonts or bitmaps), a
//! dev-dependency of this crate so that neither the simulator nor the `mptcp` command
//! carries it.

use std::time::Instant as WallClock;

use mptcp_sim::fat_tree::{FatTree, Transport, Window, measure};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Draws of the fluid model per transport.
const FLUID_TRIALS: usize = 2000;

/// The published figures (Raiciu et al., SIGCOMM 2011: a fat-tree with permutation
/// traffic), as shares of the optimum, for the transports they were given for.
fn published(transport: Transport) -> Option<f64> {
    match transport {
        Transport::Tcp => Some(0.5),
        Transport::Mptcp { subflows: 8 } => Some(0.9),
        Transport::Mptcp { .. } => None,
    }
}

/// What one transport did over the seeds.
struct Row {
    transport: Transport,
    /// Share of the optimum per seed, seeds 1, 2, ...
    shares: Vec<f64>,
    /// The fluid model's share.
    fluid: f64,
}

impl Row {
    fn mean(&self) -> f64 {
        self.shares.iter().sum::<f64>() / self.shares.len() as f64
    }

    fn min(&self) -> f64 {
        self.shares.iter().copied().fold(f64::INFINITY, f64::min)
    }

    fn max(&self) -> f64 {
        self.shares.iter().copied().fold(0.0, f64::max)
    }

    fn subflows(&self) -> usize {
        match self.transport {
            Transport::Tcp => 1,
            Transport::Mptcp { subflows } => usize::from(subflows),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tree = FatTree::k4();
    if args.first().map(String::as_str) == Some("scenario") {
        print!("{}", tree.to_toml());
        return;
    }
    let mut seeds = 10u64;
    let mut subflows: Vec<u8> = vec![2, 4, 8];
    let mut svg = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = || {
            rest.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--seeds" => seeds = value().parse().unwrap_or_else(|_| usage("--seeds N")),
            "--subflows" => {
                subflows = value()
                    .split(',')
                    .map(|n| n.parse().unwrap_or_else(|_| usage("--subflows 2,4,8")))
                    .collect();
            }
            "--svg" => svg = Some(value().clone()),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if seeds == 0 {
        usage("--seeds must be at least 1");
    }
    let transports = std::iter::once(Transport::Tcp)
        .chain(subflows.iter().map(|&n| Transport::Mptcp { subflows: n }));
    let mut rows = Vec::new();
    for transport in transports {
        let mut shares = Vec::new();
        for seed in 1..=seeds {
            let mut scenario = tree.scenario();
            scenario.seed = seed;
            transport.apply(&mut scenario);
            let wall = WallClock::now();
            let run = measure(&scenario, Window::K4).unwrap_or_else(|e| panic!("{e}"));
            let share = run.share_of(tree.optimum_bps());
            let flows: Vec<String> = run
                .goodputs_bps()
                .iter()
                .map(|bps| format!("{:.1}", bps / 1e6))
                .collect();
            println!(
                "{transport:18} seed {seed:2}: {:5.1} % of the optimum, {} in {:.1} s of wall \
                 time; per flow (Mbit/s): {}",
                100.0 * share,
                if run.report.all_ok() && run.none_done {
                    "every transfer whole"
                } else {
                    "SOME TRANSFER CUT SHORT OR DAMAGED"
                },
                wall.elapsed().as_secs_f64(),
                flows.join(" ")
            );
            shares.push(share);
        }
        let mut row = Row {
            transport,
            shares,
            fluid: 0.0,
        };
        row.fluid = tree.fluid_share(row.subflows(), FLUID_TRIALS, 1);
        rows.push(row);
    }
    print_tables(&rows);
    if let Some(path) = svg {
        plot(&rows, &path).unwrap_or_else(|e| panic!("{path}: {e}"));
        println!("\nwrote {path}");
    }
}

/// A share as a percentage with one decimal.
fn percent(share: f64) -> String {
    format!("{:.1} %", 100.0 * share)
}

/// The figures as two Markdown tables.
fn print_tables(rows: &[Row]) {
    let seeds = rows[0].shares.len();
    println!("\n| transport | mean | lowest | highest | fluid model | Raiciu et al. |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            row.transport,
            percent(row.mean()),
            percent(row.min()),
            percent(row.max()),
            percent(row.fluid),
            published(row.transport).map_or(String::new(), |p| format!("about {:.0} %", 100.0 * p))
        );
    }
    let header: Vec<String> = (1..=seeds).map(|s| format!("seed {s}")).collect();
    println!("\n| transport | {} |", header.join(" | "));
    println!("| --- |{}", " ---: |".repeat(seeds));
    for row in rows {
        let cells: Vec<String> = row.shares.iter().map(|&s| percent(s)).collect();
        println!("| {} | {} |", row.transport, cells.join(" | "));
    }
}

/// Draws the figures into an SVG file at `path`: a bar per transport (the mean over the
/// seeds) with each seed as a dot, the fluid model as a line across the bar, and the
/// published figures as triangles.
fn plot(rows: &[Row], path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (760, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let (upper, legend) = root.split_vertically(440);
    let last = rows.len() as f64 - 0.5;
    let mut chart = ChartBuilder::on(&upper)
        .caption(
            "k=4 fat-tree, ECMP, permutation traffic: aggregate throughput",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(-0.5..last, 0.0..100.0)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        // The transports are categories: their names go under the bars, below.
        .x_labels(0)
        .y_labels(11)
        .light_line_style(TRANSPARENT)
        .y_desc("share of the optimum (%)")
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style(("sans-serif", 14))
        .draw()?;
    let centred = ("sans-serif", 14)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    for (i, row) in rows.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(i as f64, 0.0));
        upper.draw(&Text::new(
            row.transport.to_string(),
            (x, y + 8),
            centred.clone(),
        ))?;
    }
    let bar = RGBColor(0x4c, 0x78, 0xa8).mix(0.55).filled();
    let dot = RGBColor(0x1f, 0x2f, 0x4f).filled();
    let fluid = RGBColor(0xe4, 0x57, 0x56).stroke_width(3);
    let paper = RGBColor(0x54, 0xa2, 0x4b).filled();
    chart.draw_series(rows.iter().enumerate().map(|(i, row)| {
        let x = i as f64;
        Rectangle::new([(x - 0.3, 0.0), (x + 0.3, 100.0 * row.mean())], bar)
    }))?;
    chart.draw_series(rows.iter().enumerate().flat_map(|(i, row)| {
        let count = row.shares.len();
        row.shares.iter().enumerate().map(move |(seed, &share)| {
            // Spread the seeds across the bar so that equal shares stay visible.
            let offset = (seed as f64 + 0.5) / count as f64 * 0.4 - 0.2;
            Circle::new((i as f64 + offset, 100.0 * share), 3, dot)
        })
    }))?;
    chart.draw_series(rows.iter().enumerate().map(|(i, row)| {
        let (x, y) = (i as f64, 100.0 * row.fluid);
        PathElement::new(vec![(x - 0.36, y), (x + 0.36, y)], fluid)
    }))?;
    chart.draw_series(rows.iter().enumerate().filter_map(|(i, row)| {
        let share = published(row.transport)?;
        Some(TriangleMarker::new(
            (i as f64 + 0.42, 100.0 * share),
            7,
            paper,
        ))
    }))?;
    // The legend, one row under the chart.
    let text = ("sans-serif", 13)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let y = 16;
    let mut x = 70;
    let label = |x: &mut i32, words: &str| -> Result<(), Box<dyn std::error::Error>> {
        legend.draw(&Text::new(words, (*x + 20, y), text.clone()))?;
        *x += 30 + 7 * words.len() as i32;
        Ok(())
    };
    legend.draw(&Rectangle::new([(x, y - 6), (x + 14, y + 6)], bar))?;
    label(&mut x, "measured, mean of the seeds")?;
    legend.draw(&Circle::new((x + 7, y), 3, dot))?;
    label(&mut x, "one seed")?;
    legend.draw(&PathElement::new(vec![(x, y), (x + 14, y)], fluid))?;
    label(&mut x, "fluid model")?;
    legend.draw(&TriangleMarker::new((x + 7, y), 6, paper))?;
    label(&mut x, "Raiciu et al. 2011 (about)")?;
    root.present()?;
    Ok(())
}

/// Prints the usage with `problem` and exits.
fn usage(problem: &str) -> ! {
    eprintln!(
        "fat-tree: {problem}\nusage: fat-tree [--seeds N] [--subflows 2,4,8] [--svg FILE] | \
         fat-tree scenario"
    );
    std::process::exit(2)
}
