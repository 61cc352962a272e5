//! The daemon's optional HTTP endpoint (`[http] listen`): `/healthz`,
//! `/metrics` in Prometheus text format, and `/feeds/PROFILE.atom`.
//!
//! Owns the counters (fetches by outcome, new offers, matches, deliveries by
//! outcome, cycle durations) and the gauges read from the store at scrape
//! time (sources by state, queue depth per channel). The daemon records into
//! it; the pipeline and the channels know nothing of it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::Utc;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::sync::RwLock;
use tracing::warn;

use crate::config::Config;
use crate::pipeline::{Outcome, PollReport};
use crate::store::Store;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabel {
    profile: String,
    channel: String,
}

/// Counters and gauges of one daemon.
pub struct Metrics {
    registry: Registry,
    fetches: Family<OutcomeLabel, Counter>,
    offers_new: Counter,
    matches: Counter,
    deliveries: Family<OutcomeLabel, Counter>,
    cycle_seconds: Histogram,
    sources: Family<StateLabel, Gauge>,
    queued: Family<ChannelLabel, Gauge>,
    /// Unix seconds of the scheduler loop's last tick, for `/healthz`.
    pub last_tick: AtomicI64,
    /// Unix seconds of the earliest poll due (past means late), for `/healthz`.
    pub next_due: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("veille");
        let fetches = Family::<OutcomeLabel, Counter>::default();
        let offers_new = Counter::default();
        let matches = Counter::default();
        let deliveries = Family::<OutcomeLabel, Counter>::default();
        let cycle_seconds =
            Histogram::new([0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0]);
        let sources = Family::<StateLabel, Gauge>::default();
        let queued = Family::<ChannelLabel, Gauge>::default();
        registry.register("fetches", "Source fetches by outcome", fetches.clone());
        registry.register("offers_new", "New offers stored", offers_new.clone());
        registry.register(
            "matches",
            "Matches queued (offer x profile)",
            matches.clone(),
        );
        registry.register(
            "deliveries",
            "Delivery attempts by outcome",
            deliveries.clone(),
        );
        registry.register(
            "cycle_duration_seconds",
            "Poll cycle duration",
            cycle_seconds.clone(),
        );
        registry.register("sources", "Sources by state", sources.clone());
        registry.register("queue_depth", "Matches waiting per channel", queued.clone());
        Metrics {
            registry,
            fetches,
            offers_new,
            matches,
            deliveries,
            cycle_seconds,
            sources,
            queued,
            last_tick: AtomicI64::new(Utc::now().timestamp()),
            next_due: AtomicI64::new(i64::MAX),
        }
    }

    /// Records one poll cycle.
    pub fn poll(&self, report: &PollReport, seconds: f64) {
        for (_, o) in &report.outcomes {
            let outcome = match o {
                Outcome::Ok { .. } => "ok",
                Outcome::NotModified => "not_modified",
                Outcome::Failed(_) => "failed",
            };
            self.fetches
                .get_or_create(&OutcomeLabel {
                    outcome: outcome.into(),
                })
                .inc();
        }
        self.offers_new.inc_by(report.new.len() as u64);
        self.matches.inc_by(report.matches as u64);
        self.cycle_seconds.observe(seconds);
    }

    /// Records one delivery attempt: `delivered`, `nothing`, `failed`, `refused`.
    pub fn delivery(&self, outcome: &str) {
        self.deliveries
            .get_or_create(&OutcomeLabel {
                outcome: outcome.into(),
            })
            .inc();
    }

    /// The text exposition, with the store-backed gauges refreshed.
    pub fn render(&self, config: &Config, store: &Store) -> String {
        let (mut ok, mut failing, mut never) = (0, 0, 0);
        for s in &config.sources {
            match store.source_state(&s.name) {
                Ok(st) if st.last_poll.is_none() => never += 1,
                Ok(st) if st.consecutive_failures > 0 => failing += 1,
                Ok(_) => ok += 1,
                Err(_) => failing += 1,
            }
        }
        for (state, n) in [("ok", ok), ("failing", failing), ("never_polled", never)] {
            self.sources
                .get_or_create(&StateLabel {
                    state: state.into(),
                })
                .set(n);
        }
        for p in &config.profiles {
            for c in &p.channels {
                self.queued
                    .get_or_create(&ChannelLabel {
                        profile: p.name.clone(),
                        channel: c.id.clone(),
                    })
                    .set(store.count(false, &p.name, &c.id) as i64);
            }
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            warn!("Cannot encode the metrics.");
        }
        out
    }
}

/// What the endpoint serves from.
pub struct Endpoint {
    pub config: Arc<RwLock<Arc<Config>>>,
    pub store: Arc<Store>,
    pub metrics: Arc<Metrics>,
}

/// The scheduler ticks every second; longer than this without one is unhealthy.
const STALE_TICK_SECS: i64 = 30;
/// A poll this late (a cycle stuck, or too slow for the schedules) is unhealthy.
const LATE_CYCLE_SECS: i64 = 15 * 60;

/// Serves the endpoint on `addr` until `stop` fires.
pub async fn serve(
    addr: SocketAddr,
    ep: Arc<Endpoint>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            warn!(listen = %addr, error = %e, "Cannot listen; the HTTP endpoint is off.");
            return;
        }
    };
    loop {
        let conn = tokio::select! {
            c = listener.accept() => c,
            _ = stop.changed() => return,
        };
        let Ok((stream, _)) = conn else { continue };
        let ep = ep.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let ep = ep.clone();
                async move { Ok::<_, std::convert::Infallible>(route(&ep, req).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

async fn route(ep: &Endpoint, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    if req.method() != hyper::Method::GET {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".into(),
        );
    }
    let config = ep.config.read().await.clone();
    let path = req.uri().path();
    if path == "/healthz" {
        let now = Utc::now().timestamp();
        let age = now - ep.metrics.last_tick.load(Ordering::Relaxed);
        let late = now.saturating_sub(ep.metrics.next_due.load(Ordering::Relaxed));
        let unhealthy = if age > STALE_TICK_SECS {
            Some(format!("scheduler stalled for {age} s\n"))
        } else if late > LATE_CYCLE_SECS {
            Some(format!("polls are {late} s late\n"))
        } else {
            None
        };
        return match unhealthy {
            Some(why) => reply(StatusCode::SERVICE_UNAVAILABLE, "text/plain", why),
            None => reply(StatusCode::OK, "text/plain", "ok\n".into()),
        };
    }
    if path == "/metrics" {
        return reply(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            ep.metrics.render(&config, &ep.store),
        );
    }
    if let Some(name) = path
        .strip_prefix("/feeds/")
        .and_then(|p| p.strip_suffix(".atom"))
        && let Some(profile) = config.profiles.iter().find(|p| p.name == name)
    {
        return match crate::notify::profile_feed(&ep.store, &profile.name, Utc::now()) {
            Ok(xml) => reply(StatusCode::OK, "application/atom+xml; charset=utf-8", xml),
            Err(e) => reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                format!("{e}\n"),
            ),
        };
    }
    reply(StatusCode::NOT_FOUND, "text/plain", "not found\n".into())
}
