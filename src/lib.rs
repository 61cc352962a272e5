//! veille: a job-offer watch daemon.
//!
//! The modules follow the data, in pipeline order:
//!
//! - [`config`]: the TOML watchlist, read and compiled into checked values
//!   (every problem reported as `FILE:LINE:COL`);
//! - [`schedule`]: crontab(5) schedules in a time zone, poll backoff;
//! - [`fetch`]: the one HTTP client: conditional GET, per-host politeness,
//!   body cap, timeouts;
//! - [`source`]: one adapter per source kind, each turning its wire format
//!   into [`offer::Item`]s;
//! - [`normalise`]: canonical URLs, HTML to plain text, body decoding;
//! - [`store`]: sled: offers, dedupe keys, source state, channel queues;
//! - [`matcher`]: the profile query language, evaluated on each new offer;
//! - [`notify`]: digests and the channels that deliver them;
//! - [`pipeline`]: one poll cycle, the only place that knows this order;
//! - [`daemon`]: `veille run`: schedules, systemd, reload, the control socket;
//! - [`metrics`]: the daemon's optional /healthz, /metrics and Atom endpoint;
//! - [`cli`] and [`logs`]: the command line around it;
//! - [`fuzz`]: the byte-level entry points `fuzz/` and its regression test
//!   drive.

pub mod cli;
pub mod config;
pub mod daemon;
pub mod fetch;
pub mod fuzz;
pub mod logs;
pub mod matcher;
pub mod metrics;
pub mod normalise;
pub mod notify;
pub mod offer;
pub mod pipeline;
pub mod schedule;
pub mod source;
pub mod store;
#[cfg(test)]
mod test_corpus;
