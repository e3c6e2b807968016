//! `/metrics` in the Prometheus text format, hand-rolled.
//!
//! The proxy needs a handful of counters, two latency histograms and two gauges. The `metrics` +
//! `metrics-exporter-prometheus` pair would bring a recorder, a registry, quanta,
//! sketches and (by default) its own HTTP server for that: a mutex-guarded map of
//! label sets to `u64` is all this needs, and costs nothing at build time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

/// The proxy's counters (cheap to clone; all clones share them).
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// (metric name, rendered label set) → count.
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
    /// (metric name, rendered label set) → histogram.
    histograms: Mutex<BTreeMap<(&'static str, String), Histogram>>,
    /// Long-polls waiting now.
    waiters: AtomicI64,
    /// Connection pollers running now.
    pollers: AtomicI64,
}

const HELP: &[(&str, &str)] = &[
    (
        "mend_http_requests_total",
        "HTTP requests answered, by route and status.",
    ),
    (
        "mend_upstream_requests_total",
        "Requests sent to Powens, by operation and outcome.",
    ),
    (
        "mend_token_renewals_total",
        "Powens user tokens obtained through /auth/renew.",
    ),
    (
        "mend_rate_limited_total",
        "Requests refused with 429, by key kind.",
    ),
];

/// Upper bounds of the latency buckets, in seconds (long-polls reach 30 s).
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

const HISTOGRAM_HELP: &[(&str, &str)] = &[
    (
        "mend_http_request_duration_seconds",
        "Time to answer, by route (long-polls included).",
    ),
    (
        "mend_upstream_request_duration_seconds",
        "Time of one request to Powens, by operation.",
    ),
];

#[derive(Debug, Clone, Default)]
struct Histogram {
    /// Non-cumulative counts per bucket of [`BUCKETS`], then +Inf.
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
}

impl Metrics {
    fn observe(&self, name: &'static str, labels: String, secs: f64) {
        let mut h = self
            .inner
            .histograms
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let h = h.entry((name, labels)).or_default();
        let i = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        h.counts[i] += 1;
        h.sum += secs;
    }

    /// How long an answer took.
    pub fn http_duration(&self, route: &str, secs: f64) {
        self.observe(
            "mend_http_request_duration_seconds",
            format!("route=\"{}\"", escape(route)),
            secs,
        );
    }

    /// How long one upstream request took.
    pub fn upstream_duration(&self, op: &'static str, secs: f64) {
        self.observe(
            "mend_upstream_request_duration_seconds",
            format!("op=\"{op}\""),
            secs,
        );
    }

    fn add(&self, name: &'static str, labels: String) {
        let mut c = self
            .inner
            .counters
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *c.entry((name, labels)).or_default() += 1;
    }

    /// One HTTP answer.
    pub fn http(&self, route: &str, status: u16) {
        self.add(
            "mend_http_requests_total",
            format!("route=\"{}\",status=\"{status}\"", escape(route)),
        );
    }

    /// One upstream request.
    pub fn upstream(&self, op: &'static str, outcome: &'static str) {
        self.add(
            "mend_upstream_requests_total",
            format!("op=\"{op}\",outcome=\"{outcome}\""),
        );
    }

    /// One token renewal.
    pub fn renewal(&self) {
        self.add("mend_token_renewals_total", String::new());
    }

    /// One 429.
    pub fn rate_limited(&self, kind: &'static str) {
        self.add("mend_rate_limited_total", format!("key=\"{kind}\""));
    }

    /// A long-poll started (+1) or ended (-1).
    pub fn waiters(&self, delta: i64) {
        self.inner.waiters.fetch_add(delta, Ordering::Relaxed);
    }

    /// A poller started (+1) or stopped (-1).
    pub fn pollers(&self, delta: i64) {
        self.inner.pollers.fetch_add(delta, Ordering::Relaxed);
    }

    /// The value of one counter (for tests and benchmarks).
    pub fn counter(&self, name: &str, labels: &str) -> u64 {
        let c = self
            .inner
            .counters
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        c.iter()
            .find(|((n, l), _)| *n == name && l == labels)
            .map_or(0, |(_, v)| *v)
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters = self
            .inner
            .counters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for (name, help) in HELP {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for ((n, labels), v) in counters.iter().filter(|((n, _), _)| n == name) {
                if labels.is_empty() {
                    let _ = writeln!(out, "{n} {v}");
                } else {
                    let _ = writeln!(out, "{n}{{{labels}}} {v}");
                }
            }
        }
        let histograms = self
            .inner
            .histograms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for (name, help) in HISTOGRAM_HELP {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
            for ((_, labels), h) in histograms.iter().filter(|((n, _), _)| n == name) {
                let mut cumulative = 0;
                for (i, count) in h.counts.iter().enumerate() {
                    cumulative += count;
                    let le = BUCKETS
                        .get(i)
                        .map_or_else(|| "+Inf".to_owned(), |b| b.to_string());
                    let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
                }
                let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
                let _ = writeln!(out, "{name}_count{{{labels}}} {cumulative}");
            }
        }
        let _ = writeln!(
            out,
            "# HELP mend_waiters Long-polls waiting now.\n# TYPE mend_waiters gauge\nmend_waiters {}",
            self.inner.waiters.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP mend_pollers Connections polled now.\n# TYPE mend_pollers gauge\nmend_pollers {}",
            self.inner.pollers.load(Ordering::Relaxed)
        );
        out
    }
}

/// A label value as the text format wants it (a copy only when something needs escaping:
/// this runs for every request).
fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains(['\\', '"', '\n']) {
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
            .into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_only_when_needed() {
        assert!(matches!(
            escape("/healthz"),
            std::borrow::Cow::Borrowed("/healthz")
        ));
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn counters_render_in_the_text_format() {
        let m = Metrics::default();
        m.http("/api/v1/connections/{id}", 200);
        m.http("/api/v1/connections/{id}", 200);
        m.renewal();
        let text = m.render();
        assert!(text.contains(
            "mend_http_requests_total{route=\"/api/v1/connections/{id}\",status=\"200\"} 2"
        ));
        assert!(text.contains("mend_token_renewals_total 1"));
        assert!(text.contains("# TYPE mend_waiters gauge"));
        m.http_duration("/healthz", 0.003);
        m.http_duration("/healthz", 0.2);
        m.http_duration("/healthz", 99.0);
        let text = m.render();
        assert!(
            text.contains(
                "mend_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains(
            "mend_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.25\"} 2"
        ));
        assert!(text.contains(
            "mend_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 3"
        ));
        assert!(text.contains("mend_http_request_duration_seconds_count{route=\"/healthz\"} 3"));
    }
}
