//! The proxy processes' memory over the soak: a series of readings per process (the
//! proxy, or each replica of a cluster), printed as a table, and the growth after
//! warm-up of each process never restarted, which the verdict judges.

use std::time::Duration;

/// One reading of a proxy process: time since the start, RSS (KiB), open fds.
pub type Sample = (Duration, u64, usize);

/// One proxy process's readings (`proxy`, or a replica `r1`…), and when it was
/// restarted: its memory then starts over, so its trend is printed, not judged.
#[derive(Debug, Clone, Default)]
pub struct Series {
    pub name: String,
    pub samples: Vec<Sample>,
    pub restarted: Vec<Duration>,
}

impl Series {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }

    /// How much the highest RSS after warm-up exceeds the first reading after it.
    /// Warm-up: the first quarter of the faulty phase (allocator arenas, pools). The
    /// reading taken once every client has finished is left out: it falls in the
    /// burst of every client converging and repairing at the same moment.
    pub fn growth(&self, faulty: Duration) -> f64 {
        let warm = faulty / 4;
        let after: Vec<_> = self
            .samples
            .iter()
            .filter(|(t, ..)| *t >= warm && *t <= faulty)
            .collect();
        match (after.first(), after.iter().map(|s| s.1).max()) {
            (Some(first), Some(max)) if first.1 > 0 => max as f64 / first.1 as f64 - 1.0,
            _ => 0.0,
        }
    }
}

/// The readings as a table, a row per moment, a column pair per process.
pub fn print_samples(series: &[Series]) {
    let mut times: Vec<Duration> = series
        .iter()
        .flat_map(|s| s.samples.iter().map(|x| x.0))
        .collect();
    times.sort();
    times.dedup();
    let names: String = series
        .iter()
        .map(|s| format!(" {:>14} {:>5}", format!("{} KiB", s.name), "fds"))
        .collect();
    println!(
        "
proxy RSS and open fds over time:
  {:>5}{names}",
        "t"
    );
    for t in times {
        let cells: String = series
            .iter()
            .map(|s| match s.samples.iter().find(|x| x.0 == t) {
                Some((_, rss, fds)) => format!(" {rss:>14} {fds:>5}"),
                None => format!(" {:>14} {:>5}", "-", "-"),
            })
            .collect();
        println!("  {:>4}s{cells}", t.as_secs());
    }
}

/// The growth after warm-up of every process never restarted (a restarted one's
/// memory starts over).
pub fn judged(series: &[Series], faulty: Duration) -> Vec<f64> {
    series
        .iter()
        .filter(|s| s.restarted.is_empty())
        .map(|s| s.growth(faulty))
        .collect()
}

/// A line per process: its growth after warm-up, its RSS when the faults stopped, and
/// why it is not judged if it is not.
pub fn print_growth(series: &[Series], faulty: Duration, check_memory: bool) {
    for x in series {
        let restarted: Vec<String> = x
            .restarted
            .iter()
            .map(|t| format!("{} s", t.as_secs()))
            .collect();
        let note = if !restarted.is_empty() {
            format!(" (restarted at {}: not judged)", restarted.join(", "))
        } else if check_memory {
            String::new()
        } else {
            " (not checked: too short a run)".to_owned()
        };
        let last = x
            .samples
            .iter()
            .rfind(|s| s.0 <= faulty)
            .map_or(0.0, |s| s.1 as f64 / 1024.0);
        println!(
            "RSS growth after warm-up, {:<8} {:>7.1} %, {last:.1} MiB when faults stop{note}",
            x.name,
            x.growth(faulty) * 100.0
        );
    }
}
