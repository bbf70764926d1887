//! Numbers as an operator reads them in a narrow column.

/// `512B`, `12.3K`, `45.0M`, `1.2G` (binary units, one decimal).
pub fn bytes(value: u64) -> String {
    const UNITS: [&str; 4] = ["K", "M", "G", "T"];
    if value < 1024 {
        return format!("{value}B");
    }
    let mut scaled = value as f64 / 1024.0;
    let mut unit = 0;
    while scaled >= 1024.0 && unit < UNITS.len() - 1 {
        scaled /= 1024.0;
        unit += 1;
    }
    format!("{scaled:.1}{}", UNITS[unit])
}

/// `0s`, `59s`, `12m`, `3h12m`, `4d2h`: the two largest units.
pub fn uptime(milliseconds: u64) -> String {
    let seconds = milliseconds / 1000;
    let (minutes, hours, days) = (seconds / 60, seconds / 3600, seconds / 86_400);
    match () {
        () if days > 0 => format!("{days}d{}h", hours % 24),
        () if hours > 0 => format!("{hours}h{}m", minutes % 60),
        () if minutes > 0 => format!("{minutes}m"),
        () => format!("{seconds}s"),
    }
}

pub fn cpu(percent: f64) -> String {
    format!("{percent:.1}%")
}

/// `1.5s`, `200ms`, `5m`.
pub fn duration_ms(milliseconds: u64) -> String {
    match milliseconds {
        0 => "0s".into(),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_read_well_in_a_column() {
        assert_eq!(bytes(512), "512B");
        assert_eq!(bytes(12 * 1024 * 1024 + 300 * 1024), "12.3M");
        assert_eq!(uptime(59_999), "59s");
        assert_eq!(uptime(3 * 3_600_000 + 12 * 60_000), "3h12m");
        assert_eq!(uptime(2 * 86_400_000 + 3_600_000), "2d1h");
        assert_eq!(duration_ms(60_000), "1m");
        assert_eq!(duration_ms(1500), "1500ms");
    }
}
