//! The soak's verdict: the figures printed, and whether the targets hold (0 doubled,
//! 0 lost, 0 stuck, every OTP client repaired, memory flat after warm-up).

use super::log::Upstream;
use super::memory::{self, Series};
use super::widget::{CONVERGE, Outcome, Records};
use std::time::Duration;

/// The `p`-th percentile (0–100) of `sorted`, nearest rank; 0 when empty.
pub fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Prints the figures and checks the targets; `true` when all hold. `check_memory`:
/// whether the run is long enough for "flat after warm-up" to mean something; it is
/// checked on every process never restarted.
pub fn report(
    records: &Records,
    up: &Upstream,
    outcomes: &[Outcome],
    series: &[Series],
    faulty: Duration,
    check_memory: bool,
) -> bool {
    let doubled: Vec<_> = up.otps.iter().filter(|(_, s)| s.len() > 1).collect();
    let lost: Vec<_> = records
        .submitted
        .iter()
        .filter(|(k, acked)| {
            **acked
                && !up
                    .otps
                    .get(*k)
                    .is_some_and(|s| s.iter().any(|st| (200..300).contains(st)))
        })
        .collect();
    let acked = records.submitted.values().filter(|a| **a).count();
    let stuck = outcomes
        .iter()
        .filter(|o| o.converged.is_none_or(|t| t > CONVERGE))
        .count();
    // A connection whose action a stopped replica cut keeps its slot until the slot
    // expires (`MEND_SUBMISSION_TIMEOUT` + 60 s): whether the bank got the action is
    // unknown, and a second one could race it. Its repair refused with
    // `action_in_flight` is that rule at work, counted apart; any other is a failure.
    let held = |o: &&Outcome| o.repair_in_flight && records.cut_actions.contains(&o.id);
    let waiting = outcomes
        .iter()
        .filter(|o| o.repaired == Some(false))
        .filter(held)
        .count();
    let not_repaired = outcomes
        .iter()
        .filter(|o| o.repaired == Some(false))
        .count()
        - waiting;
    let slowest = outcomes.iter().filter_map(|o| o.converged).max();
    println!("\nanswers to the widgets (HTTP status / error code):");
    for (k, n) in &records.answers {
        println!("  {k:<32} {n:>8}");
    }
    println!(
        "  {:<32} {:>8}",
        "no answer (transport)", records.transport_errors
    );
    let mut lat = records.latencies_ms.clone();
    lat.sort_unstable();
    println!(
        "\nlatency of {} answered requests (long polls left out): p50 {} ms, p90 {} ms, \
         p99 {} ms, max {} ms",
        lat.len(),
        percentile(&lat, 50.0),
        percentile(&lat, 90.0),
        percentile(&lat, 99.0),
        lat.last().copied().unwrap_or(0)
    );
    memory::print_samples(series);
    let judged = memory::judged(series, faulty);
    let growth = judged.iter().copied().fold(0.0, f64::max);
    println!("\nPowens requests (sandbox log)      {:>8}", up.total);
    println!("  of which user tokens renewed      {:>8}", up.renewals);
    println!(
        "OTP submissions sent / acknowledged {:>7} / {acked}",
        records.submitted.len()
    );
    println!("reached Powens twice (doubled)      {:>8}", doubled.len());
    println!("acknowledged, never sent (lost)     {:>8}", lost.len());
    println!(
        "stuck (no state {}s after faults)    {:>8}",
        CONVERGE.as_secs(),
        stuck
    );
    println!(
        "slowest convergence                 {:>7.1}s",
        slowest.unwrap_or_default().as_secs_f64()
    );
    println!("OTP clients not repaired at the end {not_repaired:>8}");
    println!(
        "  connections with an action cut by a stopped replica {:>4}, of which still \
         held (repair refused action_in_flight) {waiting}",
        records.cut_actions.len()
    );
    memory::print_growth(series, faulty, check_memory);
    for o in outcomes
        .iter()
        .filter(|o| o.converged.is_none_or(|t| t > CONVERGE))
        .take(5)
    {
        println!(
            "  stuck: connection {} ({:?}), last answer {}",
            o.id,
            o.converged,
            records
                .last_answer
                .get(&o.id)
                .map_or("none", String::as_str)
        );
    }
    for (k, s) in doubled.iter().take(5) {
        println!("  doubled: connection {} code {}: statuses {s:?}", k.0, k.1);
    }
    for (k, _) in lost.iter().take(5) {
        let answered = up.otps.get(*k).cloned().unwrap_or_default();
        println!(
            "  lost: connection {} code {}: Powens answered {answered:?}",
            k.0, k.1
        );
    }
    let ok = doubled.is_empty()
        && lost.is_empty()
        && stuck == 0
        && not_repaired == 0
        && (!check_memory || (growth <= 0.10 && !judged.is_empty()))
        && acked > 0;
    println!(
        "\n{}",
        if ok {
            "soak: all targets met (0 doubled, 0 lost, 0 stuck, every client converged)"
        } else {
            "soak: TARGETS MISSED"
        }
    );
    ok
}

#[cfg(test)]
mod tests {
    use super::super::memory::Sample;
    use super::*;
    use std::collections::BTreeMap;

    fn converged() -> Outcome {
        Outcome {
            converged: Some(Duration::from_secs(1)),
            repaired: Some(true),
            ..Outcome::default()
        }
    }

    fn one(samples: Vec<Sample>) -> Vec<Series> {
        vec![Series {
            samples,
            ..Series::new("proxy")
        }]
    }

    fn flat() -> Vec<Series> {
        one(vec![
            (Duration::from_secs(20), 1000, 10),
            (Duration::from_secs(60), 1050, 10),
        ])
    }

    fn log(otps: BTreeMap<(i64, String), Vec<u16>>) -> Upstream {
        Upstream {
            otps,
            total: 10,
            renewals: 1,
        }
    }

    fn one_acked() -> Records {
        let mut r = Records::default();
        r.submitted.insert((7, "000001".into()), true);
        r
    }

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn a_clean_run_meets_the_targets() {
        let mut r = one_acked();
        r.submitted.insert((7, "000002".into()), false);
        let up = log(BTreeMap::from([
            ((7, "000001".into()), vec![200]),
            ((7, "000002".into()), vec![500]),
        ]));
        assert!(report(&r, &up, &[converged()], &flat(), MINUTE, true));
    }

    #[test]
    fn a_submission_reaching_powens_twice_fails() {
        let twice = log(BTreeMap::from([((7, "000001".into()), vec![500, 200])]));
        assert!(!report(
            &one_acked(),
            &twice,
            &[converged()],
            &flat(),
            MINUTE,
            true
        ));
    }

    #[test]
    fn an_acknowledged_submission_powens_only_faulted_is_lost() {
        let never = log(BTreeMap::from([((7, "000001".into()), vec![0])]));
        assert!(!report(
            &one_acked(),
            &never,
            &[converged()],
            &flat(),
            MINUTE,
            true
        ));
        assert!(!report(
            &one_acked(),
            &log(BTreeMap::new()),
            &[converged()],
            &flat(),
            MINUTE,
            true
        ));
    }

    #[test]
    fn a_client_converging_late_or_never_or_not_repaired_fails() {
        let once = log(BTreeMap::from([((7, "000001".into()), vec![200])]));
        for o in [
            Outcome {
                converged: Some(CONVERGE * 2),
                ..Outcome::default()
            },
            Outcome::default(),
            Outcome {
                converged: Some(Duration::from_secs(1)),
                repaired: Some(false),
                ..Outcome::default()
            },
        ] {
            assert!(
                !report(
                    &one_acked(),
                    &once,
                    std::slice::from_ref(&o),
                    &flat(),
                    MINUTE,
                    true
                ),
                "{o:?}"
            );
        }
    }

    #[test]
    fn memory_growing_after_warm_up_fails_a_long_run_only() {
        let once = log(BTreeMap::from([((7, "000001".into()), vec![200])]));
        let growing = one(vec![
            (Duration::from_secs(20), 1000, 10),
            (Duration::from_secs(60), 1200, 10),
        ]);
        assert!(!report(
            &one_acked(),
            &once,
            &[converged()],
            &growing,
            MINUTE,
            true
        ));
        assert!(report(
            &one_acked(),
            &once,
            &[converged()],
            &growing,
            MINUTE,
            false
        ));
    }

    #[test]
    fn a_repair_refused_in_flight_is_excused_only_after_a_cut_action() {
        let once = log(BTreeMap::from([((7, "000001".into()), vec![200])]));
        let blocked = Outcome {
            id: 7,
            converged: Some(Duration::from_secs(1)),
            repaired: Some(false),
            repair_in_flight: true,
        };
        let r = one_acked();
        assert!(!report(
            &r,
            &once,
            std::slice::from_ref(&blocked),
            &flat(),
            MINUTE,
            true
        ));
        let mut cut = one_acked();
        cut.cut_actions.insert(7);
        assert!(report(
            &cut,
            &once,
            std::slice::from_ref(&blocked),
            &flat(),
            MINUTE,
            true
        ));
        let refused_otherwise = Outcome {
            repair_in_flight: false,
            ..blocked
        };
        assert!(!report(
            &cut,
            &once,
            &[refused_otherwise],
            &flat(),
            MINUTE,
            true
        ));
    }

    #[test]
    fn a_restarted_replica_growing_is_not_judged_the_others_are() {
        let once = log(BTreeMap::from([((7, "000001".into()), vec![200])]));
        let restarted = Series {
            samples: vec![
                (Duration::from_secs(20), 1000, 10),
                (Duration::from_secs(60), 3000, 10),
            ],
            restarted: vec![Duration::from_secs(30)],
            ..Series::new("r2")
        };
        let mut cluster = flat();
        cluster.push(restarted);
        assert!(report(
            &one_acked(),
            &once,
            &[converged()],
            &cluster,
            MINUTE,
            true
        ));
        cluster[0].samples[1].1 = 1200;
        assert!(!report(
            &one_acked(),
            &once,
            &[converged()],
            &cluster,
            MINUTE,
            true
        ));
    }

    #[test]
    fn the_reading_after_the_run_is_not_judged() {
        let once = log(BTreeMap::from([((7, "000001".into()), vec![200])]));
        let mut burst = flat();
        burst[0].samples.push((Duration::from_secs(75), 4000, 900));
        assert!(report(
            &one_acked(),
            &once,
            &[converged()],
            &burst,
            MINUTE,
            true
        ));
    }

    #[test]
    fn a_run_where_nothing_was_acknowledged_proves_nothing() {
        let mut r = Records::default();
        r.submitted.insert((7, "000001".into()), false);
        let up = log(BTreeMap::from([((7, "000001".into()), vec![500])]));
        assert!(!report(&r, &up, &[converged()], &flat(), MINUTE, true));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
    }
}
