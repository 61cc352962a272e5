//! crontab(5) schedules, evaluated in a time zone.
//!
//! The `cron` crate is Quartz-style: a seconds field, day-of-week 1 = Sunday,
//! and both day fields must match. The contract is crontab(5): five fields,
//! day-of-week 0–7 with 0 and 7 = Sunday, and when both day fields are
//! restricted either one matches. This module translates once, at load; the
//! rest of veille only asks "when is the next firing after this instant?".

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// A compiled crontab(5) expression.
#[derive(Debug, Clone)]
pub struct Schedule {
    source: String,
    /// One schedule, or two when both day fields are restricted (crontab ORs them).
    parts: Vec<cron::Schedule>,
}

const DAY_NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

impl Schedule {
    /// Parses a 5-field crontab expression; the error is one human sentence.
    pub fn parse(expr: &str) -> Result<Schedule, String> {
        let fields: Vec<&str> = expr.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "a schedule has 5 fields (minute hour day-of-month month day-of-week), this one has {}",
                fields.len()
            ));
        }
        let [minute, hour, dom, month, dow] =
            [fields[0], fields[1], fields[2], fields[3], fields[4]];
        let days = weekdays(dow)?;
        let dow_all = dow.starts_with('*');
        let dom_all = dom.starts_with('*');
        let dow_cron = if dow_all {
            "*".to_string()
        } else {
            days.iter()
                .map(|d| (d + 1).to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let build = |dom: &str, dow: &str| {
            let quartz = format!("0 {minute} {hour} {dom} {month} {dow}");
            cron::Schedule::from_str(&quartz).map_err(|e| format!("invalid schedule `{expr}`: {e}"))
        };
        let parts = if !dom_all && !dow_all {
            vec![build(dom, "*")?, build("*", &dow_cron)?]
        } else {
            vec![build(dom, &dow_cron)?]
        };
        Ok(Schedule {
            source: expr.to_string(),
            parts,
        })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The first firing strictly after `after`, in `tz`.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&tz);
        self.parts
            .iter()
            .filter_map(|s| s.after(&local).next())
            .min()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// Longest wait between two polls of a failing source.
pub const MAX_BACKOFF: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// When a source polled at `last` is due again: its interval or next
/// schedule firing, pushed back by doubling delays (capped at
/// [`MAX_BACKOFF`]) while it keeps failing.
pub fn next_poll(
    when: &crate::config::When,
    tz: Tz,
    last: DateTime<Utc>,
    failures: u32,
) -> Option<DateTime<Utc>> {
    let regular = match when {
        crate::config::When::Every(d) => last + chrono::Duration::from_std(*d).ok()?,
        crate::config::When::Schedule(s) => s.next_after(last, tz)?,
    };
    if failures == 0 {
        return Some(regular);
    }
    let base = (regular - last)
        .to_std()
        .ok()?
        .max(std::time::Duration::from_secs(60));
    let backoff = base
        .checked_mul(1u32 << failures.min(16).saturating_sub(1))
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF);
    Some(
        last + chrono::Duration::from_std(backoff)
            .ok()?
            .max(regular - last),
    )
}

/// Expands a crontab day-of-week field into days 0 (Sunday) to 6.
fn weekdays(field: &str) -> Result<Vec<u32>, String> {
    let bad = |why: &str| format!("invalid day-of-week `{field}`: {why}");
    let mut set = [false; 7];
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s.parse().map_err(|_| bad("the step is not a number"))?;
                if step == 0 {
                    return Err(bad("a step of 0"));
                }
                (r, step)
            }
            None => (item, 1),
        };
        let (lo, hi) = if range == "*" {
            (0, 6)
        } else if let Some((a, b)) = range.split_once('-') {
            (day(a).ok_or_else(|| bad(a))?, day(b).ok_or_else(|| bad(b))?)
        } else {
            let d = day(range).ok_or_else(|| bad(range))?;
            // `5/2` means from 5 to the end, as in cronie.
            if step > 1 { (d, 7) } else { (d, d) }
        };
        if lo > hi {
            return Err(bad("a range goes backwards"));
        }
        let mut d = lo;
        while d <= hi {
            set[(d % 7) as usize] = true;
            d += step;
        }
    }
    Ok((0..7).filter(|d| set[*d as usize]).collect())
}

/// A day number 0–7 (0 and 7 = Sunday) or a three-letter name.
fn day(s: &str) -> Option<u32> {
    if let Ok(n) = s.parse::<u32>() {
        return (n <= 7).then_some(n);
    }
    let lower = s.to_ascii_lowercase();
    DAY_NAMES.iter().position(|n| *n == lower).map(|p| p as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Timelike, Weekday};

    fn firings(expr: &str, tz: Tz, from: DateTime<Utc>, n: usize) -> Vec<DateTime<Tz>> {
        let s = Schedule::parse(expr).unwrap();
        let mut t = from;
        let mut out = Vec::new();
        for _ in 0..n {
            t = s.next_after(t, tz).unwrap();
            out.push(t.with_timezone(&tz));
        }
        out
    }

    #[test]
    fn weekdays_fire_monday_to_friday() {
        // 2026-11-21 is a Saturday.
        let from = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let got = firings("0 8 * * 1-5", chrono_tz::Europe::Paris, from, 10);
        let days: Vec<Weekday> = got.iter().map(|t| t.weekday()).collect();
        use Weekday::*;
        assert_eq!(days, [Mon, Tue, Wed, Thu, Fri, Mon, Tue, Wed, Thu, Fri]);
        assert!(got.iter().all(|t| t.hour() == 8 && t.minute() == 0));
    }

    #[test]
    fn zero_and_seven_are_sunday() {
        let from = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        for expr in ["0 8 * * 0", "0 8 * * 7", "0 8 * * sun", "0 8 * * SUN"] {
            let got = firings(expr, chrono_tz::UTC, from, 3);
            assert!(
                got.iter().all(|t| t.weekday() == Weekday::Sun),
                "{expr}: {got:?}"
            );
            assert_eq!(got[0].day(), 22);
        }
    }

    #[test]
    fn named_ranges_and_months() {
        let from = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let got = firings("30 9 * jan mon-fri", chrono_tz::UTC, from, 1);
        assert_eq!(got[0].month(), 1);
        assert_eq!(got[0].weekday(), Weekday::Fri);
        assert_eq!((got[0].year(), got[0].day()), (2027, 1));
    }

    #[test]
    fn both_day_fields_restricted_means_either() {
        // The 1st of the month or any Monday.
        let from = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let got = firings("0 8 1 * 1", chrono_tz::UTC, from, 3);
        let dates: Vec<(u32, u32)> = got.iter().map(|t| (t.month(), t.day())).collect();
        assert_eq!(dates, [(11, 23), (11, 30), (12, 1)]);
    }

    #[test]
    fn morning_digest_once_a_day_across_dst_changes() {
        let tz = chrono_tz::Europe::Paris;
        for (m, d) in [(3, 28), (10, 24)] {
            let from = Utc.with_ymd_and_hms(2026, m, d, 12, 0, 0).unwrap();
            let got = firings("0 8 * * *", tz, from, 3);
            for (i, t) in got.iter().enumerate() {
                assert_eq!((t.hour(), t.minute()), (8, 0));
                assert_eq!(t.day(), d + 1 + i as u32);
            }
        }
    }

    #[test]
    fn bad_expressions_are_refused_with_a_reason() {
        for expr in [
            "",
            "0 8 * *",
            "0 8 * * * *",
            "0 25 * * *",
            "0 8 * * 8",
            "0 8 * * 5-1",
            "x 8 * * *",
        ] {
            assert!(Schedule::parse(expr).is_err(), "{expr}");
        }
        let e = Schedule::parse("0 8 * *").unwrap_err();
        assert!(e.contains("5 fields"), "{e}");
    }
}
