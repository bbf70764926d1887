//! When a [`Cron`] fires next, in a time zone's local time (the host's `Local` in production, any
//! [`TimeZone`] in tests, so DST is tested without touching the process's `TZ`).
//!
//! The search walks local wall-clock times (skipping whole months, days and hours that cannot match), then
//! maps the first match to an instant. Daylight saving time:
//!
//! - a local time that does not exist (the hour skipped when clocks go forward) fires once, at the first
//!   valid instant after the gap;
//! - a local time that happens twice (the hour repeated when clocks go back) fires once, the first time.
use crate::cron::Cron;
use chrono::{DateTime, Datelike, LocalResult, NaiveDateTime, TimeDelta, TimeZone, Timelike};

/// How far ahead the search goes. The rarest valid expression, `0 0 29 2 *`, waits 8 years across a
/// century that is not a leap year (2096 → 2104).
pub const SEARCH_YEARS: i32 = 9;
/// The longest DST gap searched past, in minutes (real gaps are 30 minutes to 2 hours).
const GAP_MINUTES_MAX: i64 = 24 * 60;

impl Cron {
    /// The first instant strictly after `after` at which this fires, or `None` if there is none within
    /// [`SEARCH_YEARS`] (not for an expression [`Cron::parse`] accepted, short of the calendar's end).
    pub fn next_after<Tz: TimeZone>(&self, after: &DateTime<Tz>) -> Option<DateTime<Tz>> {
        let zone = after.timezone();
        let local = after.naive_local();
        let limit_year = local.year().saturating_add(SEARCH_YEARS);
        let mut from = minute_floor(local).checked_add_signed(TimeDelta::minutes(1))?;
        loop {
            let candidate = self.next_local(from, limit_year)?;
            match zone.from_local_datetime(&candidate) {
                LocalResult::Single(time) if time > *after => return Some(time),
                // A repeated hour: its first pass only. In the second pass the first has gone by: skip.
                LocalResult::Ambiguous(earliest, _) if earliest > *after => return Some(earliest),
                LocalResult::None => {
                    if let Some(valid) = gap_end(&zone, candidate) {
                        if valid > *after {
                            return Some(valid);
                        }
                    }
                }
                _ => {}
            }
            from = candidate.checked_add_signed(TimeDelta::minutes(1))?;
        }
    }

    /// The first local time at or after `from` (a whole minute) that matches, before `limit_year` ends.
    fn next_local(&self, from: NaiveDateTime, limit_year: i32) -> Option<NaiveDateTime> {
        let mut time = from;
        loop {
            if time.year() > limit_year {
                return None;
            }
            let date = time.date();
            if self.months & (1 << date.month()) == 0 {
                let (year, month) =
                    if date.month() == 12 { (date.year() + 1, 1) } else { (date.year(), date.month() + 1) };
                time = chrono::NaiveDate::from_ymd_opt(year, month, 1)?.and_hms_opt(0, 0, 0)?;
            } else if !self.day_matches(date.month(), date.day(), date.weekday().num_days_from_sunday()) {
                time = date.succ_opt()?.and_hms_opt(0, 0, 0)?;
            } else if self.hours & (1 << time.hour()) == 0 {
                time = time.with_minute(0)?.checked_add_signed(TimeDelta::hours(1))?;
            } else if self.minutes & (1 << time.minute()) == 0 {
                time = time.checked_add_signed(TimeDelta::minutes(1))?;
            } else {
                return Some(time);
            }
        }
    }
}

fn minute_floor(time: NaiveDateTime) -> NaiveDateTime {
    time.with_second(0).and_then(|time| time.with_nanosecond(0)).unwrap_or(time)
}

/// The first valid instant after the local time `missing`, which falls in a gap.
fn gap_end<Tz: TimeZone>(zone: &Tz, missing: NaiveDateTime) -> Option<DateTime<Tz>> {
    (1..=GAP_MINUTES_MAX).find_map(|minutes| {
        let later = missing.checked_add_signed(TimeDelta::minutes(minutes))?;
        zone.from_local_datetime(&later).earliest()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, NaiveDate, Offset, Utc};

    fn utc(text: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap_or_else(|e| panic!("{e}"));
        Utc.from_utc_datetime(&naive)
    }

    fn next(expression: &str, after: &str) -> String {
        let cron = Cron::parse(expression).unwrap_or_else(|error| panic!("{expression}: {error}"));
        let fire = cron.next_after(&utc(after)).unwrap_or_else(|| panic!("{expression} never fires"));
        fire.format("%Y-%m-%d %H:%M %a").to_string()
    }

    #[test]
    fn simple_times() {
        assert_eq!(next("0 3 * * *", "2026-11-30 11:21"), "2026-12-01 03:00 Tue");
        assert_eq!(next("0 3 * * *", "2026-11-30 02:59"), "2026-11-30 03:00 Mon");
        // Strictly after: a fire time is never returned twice.
        assert_eq!(next("0 3 * * *", "2026-11-30 03:00"), "2026-12-01 03:00 Tue");
        assert_eq!(next("* * * * *", "2026-11-30 11:21"), "2026-11-30 11:22 Mon");
        assert_eq!(next("*/15 * * * *", "2026-11-30 23:50"), "2026-12-01 00:00 Tue");
    }

    #[test]
    fn seconds_are_floored() {
        let cron = Cron::parse("* * * * *").unwrap_or_else(|error| panic!("{error}"));
        let after = utc("2026-11-30 11:21") + TimeDelta::seconds(59);
        let fire = cron.next_after(&after).map(|time| time.format("%H:%M:%S").to_string());
        assert_eq!(fire.as_deref(), Some("11:22:00"));
    }

    #[test]
    fn ranges_steps_and_names() {
        assert_eq!(next("30 9-17/4 * * mon-fri", "2026-11-28 12:00"), "2026-11-30 09:30 Mon");
        assert_eq!(next("30 9-17/4 * * mon-fri", "2026-11-30 09:30"), "2026-11-30 13:30 Mon");
        assert_eq!(next("0 0 1 jan,jul *", "2026-11-30 00:00"), "2027-01-01 00:00 Fri");
        assert_eq!(next("@monthly", "2026-12-31 23:59"), "2027-01-01 00:00 Fri");
        assert_eq!(next("0 12 * * sun", "2026-11-30 00:00"), "2026-12-06 12:00 Sun");
    }

    #[test]
    fn day_of_month_or_day_of_week() {
        // Both restricted: the 13th, or any Friday.
        assert_eq!(next("0 0 13 * fri", "2026-11-30 00:00"), "2026-12-04 00:00 Fri");
        assert_eq!(next("0 0 13 * fri", "2026-12-11 00:00"), "2026-12-13 00:00 Sun");
        // A `*` day of month: only Fridays.
        assert_eq!(next("0 0 * * fri", "2026-12-04 00:00"), "2026-12-11 00:00 Fri");
        // A step counts as `*`: every other day that is also a Friday.
        assert_eq!(next("0 0 */2 * fri", "2026-11-30 00:00"), "2026-12-11 00:00 Fri");
    }

    #[test]
    fn february_29_and_month_ends() {
        assert_eq!(next("0 0 29 2 *", "2026-11-30 00:00"), "2028-02-29 00:00 Tue");
        // 2100 is not a leap year: the next one is 2104.
        assert_eq!(next("0 0 29 2 *", "2096-03-01 00:00"), "2104-02-29 00:00 Fri");
        assert_eq!(next("0 0 31 * *", "2026-11-30 00:00"), "2026-12-31 00:00 Thu");
        assert_eq!(next("0 0 31 * *", "2027-01-31 00:00"), "2027-03-31 00:00 Wed");
    }

    /// A zone like Europe/Berlin in 2026: UTC+1, and UTC+2 from 29 March 01:00 UTC to 25 October 01:00
    /// UTC (local 02:00 → 03:00 in spring, 03:00 → 02:00 in autumn).
    #[derive(Debug, Clone, Copy)]
    struct Berlin;

    const SUMMER_FROM_UTC: (u32, u32) = (3, 29);
    const SUMMER_TO_UTC: (u32, u32) = (10, 25);

    fn utc_switch((month, day): (u32, u32)) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, month, day)
            .and_then(|date| date.and_hms_opt(1, 0, 0))
            .unwrap_or_default()
    }

    fn offset_hours(hours: i32) -> FixedOffset {
        FixedOffset::east_opt(hours * 3600).unwrap_or(Utc.fix())
    }

    impl TimeZone for Berlin {
        type Offset = FixedOffset;

        fn from_offset(_: &FixedOffset) -> Berlin {
            Berlin
        }

        fn offset_from_local_date(&self, local: &NaiveDate) -> LocalResult<FixedOffset> {
            self.offset_from_local_datetime(&local.and_hms_opt(12, 0, 0).unwrap_or_default())
        }

        fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> LocalResult<FixedOffset> {
            let winter = offset_hours(1);
            let summer = offset_hours(2);
            let valid = |offset: FixedOffset| {
                let utc = *local - TimeDelta::seconds(i64::from(offset.local_minus_utc()));
                self.offset_from_utc_datetime(&utc) == offset
            };
            match (valid(summer), valid(winter)) {
                (true, true) => LocalResult::Ambiguous(summer, winter),
                (true, false) => LocalResult::Single(summer),
                (false, true) => LocalResult::Single(winter),
                (false, false) => LocalResult::None,
            }
        }

        fn offset_from_utc_date(&self, utc: &NaiveDate) -> FixedOffset {
            self.offset_from_utc_datetime(&utc.and_hms_opt(0, 0, 0).unwrap_or_default())
        }

        fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> FixedOffset {
            let summer = *utc >= utc_switch(SUMMER_FROM_UTC) && *utc < utc_switch(SUMMER_TO_UTC);
            offset_hours(if summer { 2 } else { 1 })
        }
    }

    fn berlin(expression: &str, after_utc: &str) -> String {
        let cron = Cron::parse(expression).unwrap_or_else(|error| panic!("{expression}: {error}"));
        let after = utc(after_utc).with_timezone(&Berlin);
        let fire = cron.next_after(&after).unwrap_or_else(|| panic!("{expression} never fires"));
        format!("{} = {} UTC", fire.format("%m-%d %H:%M %:z"), fire.naive_utc().format("%H:%M"))
    }

    #[test]
    fn a_skipped_time_fires_once_when_the_clock_is_valid_again() {
        // 29 March: local 02:00 to 02:59 does not exist. 02:30 fires at 03:00 local (01:00 UTC).
        assert_eq!(berlin("30 2 * * *", "2026-03-28 23:00"), "03-29 03:00 +02:00 = 01:00 UTC");
        // Several skipped times still fire once; the next is the day after.
        assert_eq!(berlin("*/10 2 * * *", "2026-03-28 23:00"), "03-29 03:00 +02:00 = 01:00 UTC");
        assert_eq!(berlin("*/10 2 * * *", "2026-03-29 01:00"), "03-30 02:00 +02:00 = 00:00 UTC");
        // A time right after the gap is not doubled by a skipped one.
        assert_eq!(berlin("30 2 * * *", "2026-03-29 01:00"), "03-30 02:30 +02:00 = 00:30 UTC");
        // Times outside the gap are unaffected.
        assert_eq!(berlin("0 3 * * *", "2026-03-28 23:00"), "03-29 03:00 +02:00 = 01:00 UTC");
        assert_eq!(berlin("0 1 * * *", "2026-03-28 23:00"), "03-29 01:00 +01:00 = 00:00 UTC");
    }

    #[test]
    fn a_repeated_hour_fires_once() {
        // 25 October: local 02:00 to 02:59 happens at +02:00 (00:00 UTC) then at +01:00 (01:00 UTC).
        assert_eq!(berlin("30 2 * * *", "2026-10-24 23:00"), "10-25 02:30 +02:00 = 00:30 UTC");
        // After that first 02:30, the second one is skipped: the next is the day after.
        assert_eq!(berlin("30 2 * * *", "2026-10-25 00:30"), "10-26 02:30 +01:00 = 01:30 UTC");
        // Starting inside the second pass (say the controller restarted then): no second fire either.
        assert_eq!(berlin("45 2 * * *", "2026-10-25 01:10"), "10-26 02:45 +01:00 = 01:45 UTC");
        // Every minute: the repeated hour is not run twice, and the clock goes on after it.
        assert_eq!(berlin("* * * * *", "2026-10-25 00:59"), "10-25 03:00 +01:00 = 02:00 UTC");
    }

    #[test]
    fn local_time_not_utc() {
        // 03:00 in Berlin in winter is 02:00 UTC.
        assert_eq!(berlin("0 3 * * *", "2026-11-30 11:21"), "12-01 03:00 +01:00 = 02:00 UTC");
    }
}
