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

    /// How much RSS grew after warm-up, read from its trend: the least-squares line
    /// through the readings from the end of warm-up to the end of the faults, from its
    /// value at the first to its value at the last. Warm-up: the first quarter of the
    /// faulty phase (allocator arenas, pools). A trend, not the peak over the first
    /// reading: RSS follows open connections (a burst of clients retrying at once
    /// lifts it for a reading and it comes back down), and only a climb that lasts is
    /// a leak. The reading taken once every client has finished is left out: it falls
    /// in the burst of every client converging and repairing at the same moment.
    pub fn growth(&self, faulty: Duration) -> f64 {
        let warm = faulty / 4;
        let after: Vec<(f64, f64)> = self
            .samples
            .iter()
            .filter(|(t, ..)| *t >= warm && *t <= faulty)
            .map(|(t, kib, _)| (t.as_secs_f64(), *kib as f64))
            .collect();
        let (Some(first), Some(last)) = (after.first(), after.last()) else {
            return 0.0;
        };
        let n = after.len() as f64;
        let mean_t = after.iter().map(|s| s.0).sum::<f64>() / n;
        let mean_r = after.iter().map(|s| s.1).sum::<f64>() / n;
        let var: f64 = after.iter().map(|s| (s.0 - mean_t).powi(2)).sum();
        let slope = if var > 0.0 {
            after
                .iter()
                .map(|s| (s.0 - mean_t) * (s.1 - mean_r))
                .sum::<f64>()
                / var
        } else {
            0.0
        };
        let at = |t: f64| mean_r + slope * (t - mean_t);
        if at(first.0) > 0.0 {
            at(last.0) / at(first.0) - 1.0
        } else {
            0.0
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

#[cfg(test)]
mod tests {
    use super::*;

    fn series(kib: &[u64]) -> Series {
        Series {
            samples: kib
                .iter()
                .enumerate()
                .map(|(i, k)| (Duration::from_secs(10 * i as u64), *k, 0))
                .collect(),
            ..Series::new("proxy")
        }
    }

    #[test]
    fn a_burst_that_comes_back_down_is_not_growth() {
        // Warm-up is the first quarter of 100 s: the readings from 30 s on count.
        let s = series(&[
            9000, 9500, 10000, 10000, 10100, 10500, 12000, 10400, 10000, 9950, 10000,
        ]);
        let g = s.growth(Duration::from_secs(100));
        assert!(g.abs() < 0.05, "{g}");
    }

    #[test]
    fn a_steady_climb_is_growth() {
        let s = series(&[
            9000, 9500, 10000, 10000, 10500, 11000, 11500, 12000, 12500, 13000, 13500,
        ]);
        let g = s.growth(Duration::from_secs(100));
        // From 10,000 at 30 s to 13,500 at 100 s on the fitted line.
        assert!((g - 0.35).abs() < 0.02, "{g}");
    }

    #[test]
    fn too_few_readings_are_no_growth() {
        assert_eq!(series(&[]).growth(Duration::from_secs(100)), 0.0);
        assert_eq!(series(&[9000]).growth(Duration::from_secs(100)), 0.0);
    }
}
