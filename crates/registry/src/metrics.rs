//! Prometheus metrics (`GET /metrics`, OpenMetrics text via the `prometheus-client` crate).

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabel {
    error: String,
}

/// The registry's metrics. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    appended: Family<KindLabel, Counter>,
    requests: Family<RequestLabels, Counter>,
    refused: Family<ErrorLabel, Counter>,
    /// Submissions per committed batch.
    pub batch_size: Histogram,
    /// Seconds from taking a batch to its commit returning.
    pub commit_seconds: Histogram,
    /// Entries in the log.
    pub tree_size: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Fresh metrics, all zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("trustgate_registry");
        let appended = Family::<KindLabel, Counter>::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let refused = Family::<ErrorLabel, Counter>::default();
        let batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 14));
        let commit_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        let tree_size = Gauge::default();
        registry.register(
            "log_entries_appended",
            "Entries appended to the transparency log, by kind (label, status)",
            appended.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests by route and status code",
            requests.clone(),
        );
        registry.register(
            "submissions_refused",
            "Submissions refused, by error code",
            refused.clone(),
        );
        registry.register(
            "batch_size",
            "Submissions committed per sequencer transaction",
            batch_size.clone(),
        );
        registry.register(
            "commit_seconds",
            "Time to sequence and durably commit one batch",
            commit_seconds.clone(),
        );
        registry.register(
            "log_size",
            "Entries in the transparency log",
            tree_size.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            appended,
            requests,
            refused,
            batch_size,
            commit_seconds,
            tree_size,
        }
    }

    /// Counts one appended entry.
    pub(crate) fn appended(&self, kind: &str) {
        self.appended
            .get_or_create(&KindLabel { kind: kind.into() })
            .inc();
    }

    /// Counts one HTTP request.
    pub(crate) fn request(&self, route: &str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.into(),
                status,
            })
            .inc();
    }

    /// Counts one refused submission.
    pub(crate) fn refused(&self, error: &str) {
        self.refused
            .get_or_create(&ErrorLabel {
                error: error.into(),
            })
            .inc();
    }

    /// OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
