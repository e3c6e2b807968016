//! `/metrics`: the proxy's counters, histograms and gauges, kept and encoded by
//! `prometheus-client` (the OpenMetrics text format, which Prometheus scrapes as is).
//!
//! Names are those of the first, hand-formatted version (`mend_http_requests_total`,
//! `mend_waiters`, ...), plus the cluster's (store, fan-out, leases, connections);
//! docs/operations.md says what to watch. Label values are `&'static str` or small
//! integers, so counting a request allocates nothing: route names are interned once
//! (they are the router's templates, a short fixed list).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};

/// Upper bounds of the latency buckets, in seconds (long-polls reach 30 s).
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    op: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabels {
    op: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyLabels {
    key: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    direction: &'static str,
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The proxy's metrics (cheap to clone; all clones share them).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

struct Inner {
    registry: Registry,
    http: Family<HttpLabels, Counter>,
    http_duration: Histograms<RouteLabels>,
    upstream: Family<UpstreamLabels, Counter>,
    upstream_duration: Histograms<OpLabels>,
    renewals: Counter,
    rate_limited: Family<KeyLabels, Counter>,
    waiters: Gauge,
    pollers: Gauge,
    connections: Gauge,
    connections_max: Gauge,
    write_timeouts: Counter,
    store_up: Gauge,
    store_errors: Family<OpLabels, Counter>,
    replicas: Gauge,
    events: Family<EventLabels, Counter>,
    leases: Family<OutcomeLabels, Counter>,
    routes: RwLock<HashSet<&'static str>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let http = Family::<HttpLabels, Counter>::default();
        registry.register(
            "mend_http_requests",
            "HTTP requests answered, by route and status",
            http.clone(),
        );
        let http_duration: Histograms<RouteLabels> = Family::new_with_constructor(latency);
        registry.register(
            "mend_http_request_duration_seconds",
            "Time to answer, by route (long-polls included)",
            http_duration.clone(),
        );
        let upstream = Family::<UpstreamLabels, Counter>::default();
        registry.register(
            "mend_upstream_requests",
            "Requests sent to Powens (or held back), by operation and outcome",
            upstream.clone(),
        );
        let upstream_duration: Histograms<OpLabels> = Family::new_with_constructor(latency);
        registry.register(
            "mend_upstream_request_duration_seconds",
            "Time of one request to Powens, by operation",
            upstream_duration.clone(),
        );
        let renewals = Counter::default();
        registry.register(
            "mend_token_renewals",
            "Powens user tokens obtained through /auth/renew",
            renewals.clone(),
        );
        let rate_limited = Family::<KeyLabels, Counter>::default();
        registry.register(
            "mend_rate_limited",
            "Requests refused with 429, by bucket (ip, anonymous, session, waits)",
            rate_limited.clone(),
        );
        let waiters = Gauge::default();
        registry.register("mend_waiters", "Long-polls waiting now", waiters.clone());
        let pollers = Gauge::default();
        registry.register(
            "mend_pollers",
            "Connections watched by this replica now (polled here or by another replica)",
            pollers.clone(),
        );
        let connections = Gauge::default();
        registry.register(
            "mend_connections",
            "Client connections open now",
            connections.clone(),
        );
        let connections_max = Gauge::default();
        registry.register(
            "mend_connections_max",
            "MEND_MAX_CONNECTIONS: beyond it new connections wait in the listen backlog",
            connections_max.clone(),
        );
        let write_timeouts = Counter::default();
        registry.register(
            "mend_write_timeouts",
            "Connections cut because the client stopped reading (MEND_WRITE_TIMEOUT)",
            write_timeouts.clone(),
        );
        let store_up = Gauge::default();
        registry.register(
            "mend_store_up",
            "1 when the shared store answers (always 1 in process)",
            store_up.clone(),
        );
        let store_errors = Family::<OpLabels, Counter>::default();
        registry.register(
            "mend_store_errors",
            "Operations on the shared store that failed, by operation",
            store_errors.clone(),
        );
        let replicas = Gauge::default();
        registry.register(
            "mend_cluster_replicas",
            "Replicas alive in the cluster, as this one last saw them (1 in process)",
            replicas.clone(),
        );
        let events = Family::<EventLabels, Counter>::default();
        registry.register(
            "mend_events",
            "Fan-out events (statuses, deletions, resumes) sent to or received from other replicas",
            events.clone(),
        );
        let leases = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "mend_poll_leases",
            "Poll turns by outcome: granted (this replica polls), held (another does), unavailable (store down: polled here anyway)",
            leases.clone(),
        );
        store_up.set(1);
        replicas.set(1);
        Self {
            inner: Arc::new(Inner {
                registry,
                http,
                http_duration,
                upstream,
                upstream_duration,
                renewals,
                rate_limited,
                waiters,
                pollers,
                connections,
                connections_max,
                write_timeouts,
                store_up,
                store_errors,
                replicas,
                events,
                leases,
                routes: RwLock::default(),
            }),
        }
    }
}

/// Most distinct route names kept; beyond, `other` (routes are the router's
/// templates, so this is never reached unless a bug feeds raw paths).
const MAX_ROUTES: usize = 256;

impl Metrics {
    /// The route name as a `&'static str`, interned once.
    fn route(&self, route: &str) -> &'static str {
        let routes = &self.inner.routes;
        if let Some(r) = routes.read().unwrap_or_else(|p| p.into_inner()).get(route) {
            return r;
        }
        let mut w = routes.write().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = w.get(route) {
            return r;
        }
        if w.len() >= MAX_ROUTES {
            return "other";
        }
        let leaked: &'static str = Box::leak(route.to_owned().into_boxed_str());
        w.insert(leaked);
        leaked
    }

    /// One HTTP answer.
    pub fn http(&self, route: &str, status: u16) {
        let route = self.route(route);
        self.inner
            .http
            .get_or_create(&HttpLabels { route, status })
            .inc();
    }

    /// How long an answer took.
    pub fn http_duration(&self, route: &str, secs: f64) {
        let route = self.route(route);
        self.inner
            .http_duration
            .get_or_create(&RouteLabels { route })
            .observe(secs);
    }

    /// One upstream request (or one held back before it was sent).
    pub fn upstream(&self, op: &'static str, outcome: &'static str) {
        self.inner
            .upstream
            .get_or_create(&UpstreamLabels { op, outcome })
            .inc();
    }

    /// How long one upstream request took.
    pub fn upstream_duration(&self, op: &'static str, secs: f64) {
        self.inner
            .upstream_duration
            .get_or_create(&OpLabels { op })
            .observe(secs);
    }

    /// One token renewal.
    pub fn renewal(&self) {
        self.inner.renewals.inc();
    }

    /// One 429, by bucket.
    pub fn rate_limited(&self, key: &'static str) {
        self.inner
            .rate_limited
            .get_or_create(&KeyLabels { key })
            .inc();
    }

    /// A long-poll started (+1) or ended (-1).
    pub fn waiters(&self, delta: i64) {
        self.inner.waiters.inc_by(delta);
    }

    /// A poller started (+1) or stopped (-1).
    pub fn pollers(&self, delta: i64) {
        self.inner.pollers.inc_by(delta);
    }

    /// A client connection opened (+1) or closed (-1).
    pub fn connections(&self, delta: i64) {
        self.inner.connections.inc_by(delta);
    }

    /// The connection cap in force.
    pub fn connections_max(&self, max: usize) {
        self.inner
            .connections_max
            .set(i64::try_from(max).unwrap_or(i64::MAX));
    }

    /// A connection cut for not reading its answer.
    pub fn write_timeout(&self) {
        self.inner.write_timeouts.inc();
    }

    /// Whether the shared store answers.
    pub fn store_up(&self, up: bool) {
        self.inner.store_up.set(i64::from(up));
    }

    /// A failed store operation.
    pub fn store_error(&self, op: &'static str) {
        self.inner
            .store_errors
            .get_or_create(&OpLabels { op })
            .inc();
    }

    /// Replicas alive, as last seen.
    pub fn replicas(&self, n: u64) {
        self.inner
            .replicas
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// A fan-out event `sent`, `received` or `dropped`.
    pub fn event(&self, direction: &'static str, kind: &'static str) {
        self.inner
            .events
            .get_or_create(&EventLabels { direction, kind })
            .inc();
    }

    /// A poll turn's lease outcome.
    pub fn lease(&self, outcome: &'static str) {
        self.inner
            .leases
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// The value of one counter or gauge line of [`Metrics::render`], by its full
    /// name and rendered labels (`""` for none): for tests and benchmarks.
    pub fn counter(&self, name: &str, labels: &str) -> u64 {
        let text = self.render();
        let wanted = if labels.is_empty() {
            name.to_owned()
        } else {
            format!("{name}{{{labels}}}")
        };
        text.lines()
            .filter_map(|l| l.rsplit_once(' '))
            .find(|(k, _)| *k == wanted)
            .and_then(|(_, v)| v.parse::<f64>().ok())
            .map_or(0, |v| v as u64)
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.inner.registry);
        out
    }
}

/// The `MEND_METRICS_TOKEN` a scrape of the main listener must present as
/// `Authorization: Bearer …`, compared in constant time: both sides are MACed with a
/// key random per start and the MACs compared by `verify_slice`, so neither the
/// token's bytes nor its length leak through timing.
#[derive(Clone)]
pub struct Token {
    key: hmac::Hmac<sha2::Sha256>,
    expected: Vec<u8>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token([redacted])")
    }
}

impl Token {
    /// The token to expect.
    pub fn new(token: &secrecy::SecretString) -> Self {
        use hmac::Mac as _;
        use secrecy::ExposeSecret as _;
        let mut k = [0u8; 32];
        if getrandom::fill(&mut k).is_err() {
            tracing::error!("the OS random generator failed");
        }
        let key = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&k)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        let mut m = key.clone();
        m.update(token.expose_secret().as_bytes());
        Self {
            key,
            expected: m.finalize().into_bytes().to_vec(),
        }
    }

    /// Whether `headers` carry the token.
    pub fn accepts(&self, headers: &axum::http::HeaderMap) -> bool {
        use hmac::Mac as _;
        let Some(candidate) = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return false;
        };
        let mut m = self.key.clone();
        m.update(candidate.trim().as_bytes());
        m.verify_slice(&self.expected).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metrics_token_is_accepted_only_exactly() {
        let t = Token::new(&secrecy::SecretString::from("scrape-token-0123456789"));
        let with = |v: &str| {
            let mut h = axum::http::HeaderMap::new();
            h.insert(axum::http::header::AUTHORIZATION, v.parse().unwrap());
            h
        };
        assert!(t.accepts(&with("Bearer scrape-token-0123456789")));
        assert!(!t.accepts(&with("Bearer scrape-token-012345678")));
        assert!(!t.accepts(&with("Bearer scrape-token-0123456789x")));
        assert!(!t.accepts(&with("Basic scrape-token-0123456789")));
        assert!(!t.accepts(&axum::http::HeaderMap::new()));
    }

    #[test]
    fn metrics_render_in_the_text_format_with_their_names() {
        let m = Metrics::default();
        m.http("/api/v1/connections/{id}", 200);
        m.http("/api/v1/connections/{id}", 200);
        m.renewal();
        m.waiters(2);
        m.waiters(-1);
        let text = m.render();
        assert!(
            text.contains(
                "mend_http_requests_total{route=\"/api/v1/connections/{id}\",status=\"200\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains("mend_token_renewals_total 1"), "{text}");
        assert!(text.contains("# TYPE mend_waiters gauge"), "{text}");
        assert!(text.contains("mend_waiters 1"), "{text}");
        assert!(text.trim_end().ends_with("# EOF"), "{text}");
        m.http_duration("/healthz", 0.003);
        m.http_duration("/healthz", 0.2);
        m.http_duration("/healthz", 99.0);
        let text = m.render();
        assert!(
            text.contains(
                "mend_http_request_duration_seconds_bucket{le=\"0.005\",route=\"/healthz\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains(
            "mend_http_request_duration_seconds_bucket{le=\"0.25\",route=\"/healthz\"} 2"
        ));
        assert!(text.contains(
            "mend_http_request_duration_seconds_bucket{le=\"+Inf\",route=\"/healthz\"} 3"
        ));
        assert!(text.contains("mend_http_request_duration_seconds_count{route=\"/healthz\"} 3"));
        assert_eq!(m.counter("mend_token_renewals_total", ""), 1);
        assert_eq!(
            m.counter(
                "mend_http_requests_total",
                "route=\"/api/v1/connections/{id}\",status=\"200\""
            ),
            2
        );
    }

    #[test]
    fn route_names_are_interned_once_and_bounded() {
        let m = Metrics::default();
        let a = m.route("/healthz");
        let b = m.route(&String::from("/healthz"));
        assert!(std::ptr::eq(a, b));
        for i in 0..(MAX_ROUTES + 10) {
            m.route(&format!("/r{i}"));
        }
        assert_eq!(m.route("/never-seen-before"), "other");
    }
}
