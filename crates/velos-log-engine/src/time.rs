//! UTC timestamps as text, without a clock or a date library (days-to-civil after H. Hinnant).

/// `2026-11-30T10:41:02Z` for milliseconds since the Unix epoch.
pub fn format_utc(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// `2026-11-30T10:41:02.345Z`: as the daemon writes `log.timestamps`.
pub fn format_utc_ms(ms: i64) -> String {
    let seconds = format_utc(ms);
    format!("{}.{:03}Z", &seconds[..seconds.len() - 1], ms.rem_euclid(1000))
}

/// A duration as `45s`, `12m`, `3h`, `2d`.
pub fn format_duration(ms: i64) -> String {
    let seconds = ms.max(0) / 1000;
    match seconds {
        0..=119 => format!("{seconds}s"),
        120..=7199 => format!("{}m", seconds / 60),
        7200..=172_799 => format!("{}h", seconds / 3600),
        _ => format!("{}d", seconds / 86_400),
    }
}

/// Bytes of the daemon's time prefix, its space included.
pub const UTC_PREFIX_BYTES: usize = 25;

/// The RFC 3339 UTC prefix the daemon writes with `log.timestamps` (`2026-11-23T22:20:55.123Z `): the
/// time in milliseconds and the prefix's length (with its space), or None when the line has none.
pub fn parse_utc_prefix(line: &[u8]) -> Option<(i64, usize)> {
    const LEN: usize = UTC_PREFIX_BYTES - 1;
    let prefix = line.get(..LEN)?;
    let shape_ok = prefix.iter().enumerate().all(|(index, &byte)| match index {
        4 | 7 => byte == b'-',
        10 => byte == b'T',
        13 | 16 => byte == b':',
        19 => byte == b'.',
        23 => byte == b'Z',
        _ => byte.is_ascii_digit(),
    });
    if !shape_ok {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        prefix[range].iter().fold(0i64, |value, &digit| value * 10 + i64::from(digit - b'0'))
    };
    let (month, day) = (number(5..7), number(8..10));
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(number(0..4), month, day);
    let seconds = days * 86_400 + number(11..13) * 3600 + number(14..16) * 60 + number(17..19);
    let len = if line.get(LEN) == Some(&b' ') { LEN + 1 } else { LEN };
    Some((seconds * 1000 + number(20..23), len))
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_796_035_262_000), "2026-11-30T10:41:02Z");
        assert_eq!(format_utc(-1000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn the_daemons_timestamp_prefix_parses_back() {
        let line = b"2026-11-30T10:41:02.345Z GET / 200";
        assert_eq!(parse_utc_prefix(line), Some((1_796_035_262_345, 25)));
        assert_eq!(format_utc(1_796_035_262_345), "2026-11-30T10:41:02Z");
        assert_eq!(parse_utc_prefix(b"2026-13-30T10:41:02.345Z x"), None);
        assert_eq!(parse_utc_prefix(b"GET / 200"), None);
        assert_eq!(parse_utc_prefix(b"2000-02-29T00:00:00.000Z"), Some((951_782_400_000, 24)));
    }

    #[test]
    fn durations_read_short() {
        assert_eq!(format_duration(45_000), "45s");
        assert_eq!(format_duration(12 * 60_000), "12m");
        assert_eq!(format_duration(3 * 3_600_000), "3h");
        assert_eq!(format_duration(2 * 86_400_000), "2d");
    }
}
