//! Human units: durations (`"1m30s"`), byte sizes (`"512M"`), signals (`"SIGTERM"`, `15`).
//!
//! Each parser returns a [`UnitError`] with a message and, when we can tell, the exact text to write instead.

/// Why a duration, size or signal was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnitError {
    pub(crate) message: String,
    pub(crate) help: Option<String>,
}

impl UnitError {
    fn new(message: impl Into<String>, help: Option<String>) -> Self {
        UnitError { message: message.into(), help }
    }
}

const DURATION_UNITS: [(&str, u64); 5] =
    [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)];
const DURATION_HELP: &str =
    "write a number and a unit (ms, s, m, h, d), largest first: \"250ms\", \"5s\", \"1m30s\"";

/// `"250ms"`, `"5s"`, `"2m"`, `"1h"`, `"1d"`, or several of them largest first (`"1h30m"`), in milliseconds.
pub(crate) fn parse_duration_ms(text: &str) -> Result<u64, UnitError> {
    if text.trim().is_empty() {
        return Err(UnitError::new("empty duration", Some(DURATION_HELP.into())));
    }
    let mut rest = text;
    let mut total_ms: u64 = 0;
    // Index into DURATION_UNITS of the last unit seen: each unit at most once, largest first.
    let mut previous_unit: Option<usize> = None;
    while !rest.is_empty() {
        let digits_end = rest.find(|character: char| !character.is_ascii_digit()).unwrap_or(rest.len());
        let (digits, after_digits) = rest.split_at(digits_end);
        if digits.is_empty() {
            return Err(not_a_duration(text));
        }
        let unit_end = after_digits
            .find(|character: char| !character.is_ascii_alphabetic())
            .unwrap_or(after_digits.len());
        let (unit, after_unit) = after_digits.split_at(unit_end);
        if unit.is_empty() {
            if let Some(fraction) = after_digits.strip_prefix('.') {
                return Err(fraction_error(text, digits, fraction));
            }
            if after_digits.is_empty() && previous_unit.is_none() {
                return Err(UnitError::new(
                    format!("{text:?} has no unit"),
                    Some(format!("write \"{digits}s\" for seconds or \"{digits}ms\" for milliseconds")),
                ));
            }
            // "5 seconds": say the short form.
            let spelled = after_digits.trim_start();
            if previous_unit.is_none() && spelled.chars().all(|character| character.is_ascii_alphabetic()) {
                if let Some(short) = known_duration_unit(spelled) {
                    return Err(UnitError::new(
                        format!("{text:?} is not a duration"),
                        Some(format!("write \"{digits}{short}\"")),
                    ));
                }
            }
            return Err(not_a_duration(text));
        }
        let Some(unit_index) = DURATION_UNITS.iter().position(|(name, _)| *name == unit) else {
            let help = match known_duration_unit(unit) {
                Some(short) if text == format!("{digits}{unit}") => format!("write \"{digits}{short}\""),
                _ => DURATION_HELP.into(),
            };
            return Err(UnitError::new(format!("unknown unit `{unit}` in {text:?}"), Some(help)));
        };
        if previous_unit.is_some_and(|previous| previous >= unit_index) {
            return Err(UnitError::new(
                format!("units out of order in {text:?}"),
                Some("write each unit once, largest first, as in \"1h30m\" or \"1m30s\"".into()),
            ));
        }
        previous_unit = Some(unit_index);
        let too_large = || UnitError::new(format!("{text:?} is too large"), None);
        let count: u64 = digits.parse().map_err(|_| too_large())?;
        let part_ms = count.checked_mul(DURATION_UNITS[unit_index].1).ok_or_else(too_large)?;
        total_ms = total_ms.checked_add(part_ms).ok_or_else(too_large)?;
        rest = after_unit;
    }
    Ok(total_ms)
}

fn not_a_duration(text: &str) -> UnitError {
    UnitError::new(format!("{text:?} is not a duration"), Some(DURATION_HELP.into()))
}

/// Long unit names people write out of habit, mapped to ours (only used for the help text).
fn known_duration_unit(unit: &str) -> Option<&'static str> {
    match unit.to_ascii_lowercase().as_str() {
        "ms" | "msec" | "msecs" | "millis" | "millisecond" | "milliseconds" => Some("ms"),
        "s" | "sec" | "secs" | "second" | "seconds" => Some("s"),
        "m" | "min" | "mins" | "minute" | "minutes" => Some("m"),
        "h" | "hr" | "hrs" | "hour" | "hours" => Some("h"),
        "d" | "day" | "days" => Some("d"),
        _ => None,
    }
}

/// `"1.5s"`: suggest the same amount in the next smaller unit when it is a whole number there.
fn fraction_error(text: &str, whole: &str, fraction_and_unit: &str) -> UnitError {
    let fraction_end = fraction_and_unit
        .find(|character: char| !character.is_ascii_digit())
        .unwrap_or(fraction_and_unit.len());
    let (fraction, unit) = fraction_and_unit.split_at(fraction_end);
    let message = format!("{text:?} has a fraction; durations are whole numbers");
    let smaller = match unit {
        "d" => Some(("h", 24)),
        "h" => Some(("m", 60)),
        "m" => Some(("s", 60)),
        "s" => Some(("ms", 1000)),
        _ => None,
    };
    let help = smaller.and_then(|(smaller_unit, factor)| {
        let scale = 10u64.checked_pow(u32::try_from(fraction.len()).ok()?)?;
        let numerator = format!("{whole}{fraction}").parse::<u64>().ok()?.checked_mul(factor)?;
        (numerator % scale == 0).then(|| format!("write \"{}{smaller_unit}\"", numerator / scale))
    });
    UnitError::new(message, Some(help.unwrap_or_else(|| DURATION_HELP.into())))
}

const SIZE_HELP: &str =
    "write a whole number and a binary unit: \"512K\", \"512M\", \"1G\" (or KiB, MiB, GiB; no unit = bytes)";

/// `"512K"`, `"512M"`, `"1G"`, `"2T"` (also `KB`/`KiB`..., any case; all binary: K = 1024), or bytes.
pub(crate) fn parse_size_bytes(text: &str) -> Result<u64, UnitError> {
    let digits_end = text.find(|character: char| !character.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    if digits.is_empty() {
        return Err(UnitError::new(format!("{text:?} is not a size"), Some(SIZE_HELP.into())));
    }
    // One space is allowed between the number and the unit, as in "10 M".
    let unit_text = unit.strip_prefix(' ').unwrap_or(unit);
    if let Some(fraction) = unit_text.strip_prefix('.') {
        let fraction_end =
            fraction.find(|character: char| !character.is_ascii_digit()).unwrap_or(fraction.len());
        let (fraction_digits, fraction_unit) = fraction.split_at(fraction_end);
        let help = size_shift(fraction_unit).filter(|&shift| shift >= 10).and_then(|shift| {
            let scale = 10u64.checked_pow(u32::try_from(fraction_digits.len()).ok()?)?;
            let numerator = format!("{digits}{fraction_digits}").parse::<u64>().ok()?.checked_mul(1024)?;
            let smaller = ["", "K", "M", "G"][usize::try_from(shift / 10).ok()? - 1];
            (numerator % scale == 0).then(|| format!("write \"{}{smaller}\"", numerator / scale))
        });
        return Err(UnitError::new(
            format!("{text:?} has a fraction; sizes are whole numbers"),
            Some(help.unwrap_or_else(|| SIZE_HELP.into())),
        ));
    }
    let Some(shift) = size_shift(unit_text) else {
        return Err(UnitError::new(
            format!("unknown unit `{unit_text}` in {text:?}"),
            Some(SIZE_HELP.into()),
        ));
    };
    let too_large = || UnitError::new(format!("{text:?} is too large"), None);
    let count: u64 = digits.parse().map_err(|_| too_large())?;
    count.checked_mul(1u64 << shift).ok_or_else(too_large)
}

/// The power of two of a size unit: `""`/`B` → 0, `K` → 10, ... `T` → 40.
fn size_shift(unit: &str) -> Option<u32> {
    let lowered = unit.to_ascii_lowercase();
    let prefix = lowered.strip_suffix("ib").or_else(|| lowered.strip_suffix('b')).unwrap_or(&lowered);
    match prefix {
        "" if !lowered.ends_with("ib") => Some(0),
        "k" => Some(10),
        "m" => Some(20),
        "g" => Some(30),
        "t" => Some(40),
        _ => None,
    }
}

/// Signals a program may be asked to stop with, by name, with this platform's numbers.
const SIGNALS: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("IOT", libc::SIGABRT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("CHLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("SYS", libc::SIGSYS),
    #[cfg(target_os = "linux")]
    ("POLL", libc::SIGPOLL),
    #[cfg(target_os = "linux")]
    ("PWR", libc::SIGPWR),
    #[cfg(target_os = "linux")]
    ("STKFLT", libc::SIGSTKFLT),
    #[cfg(target_os = "macos")]
    ("INFO", libc::SIGINFO),
    #[cfg(target_os = "macos")]
    ("EMT", libc::SIGEMT),
];

/// Highest signal number accepted as a number (the classic signals; real-time ones are not stop signals).
pub(crate) const SIGNAL_NUMBER_MAX: u8 = *velos_core::limits::KILL_SIGNAL.end();

/// `"SIGTERM"`, `"TERM"`, `"sigterm"` or `"15"`: the signal number on this platform.
pub(crate) fn parse_signal_name(text: &str) -> Result<u8, UnitError> {
    let trimmed = text;
    if !trimmed.is_empty() && trimmed.bytes().all(|byte| byte.is_ascii_digit()) {
        return trimmed
            .parse::<i64>()
            .map_err(|_| signal_range_error(text))
            .and_then(|number| parse_signal_number(number).map_err(|_| signal_range_error(text)));
    }
    let upper = trimmed.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(&(_, number)) = SIGNALS.iter().find(|(name, _)| *name == bare) {
        return u8::try_from(number).map_err(|_| signal_range_error(text));
    }
    let names = SIGNALS.iter().map(|(name, _)| format!("SIG{name}")).collect::<Vec<_>>();
    let suggestion = crate::diagnostic::did_you_mean(&format!("SIG{bare}"), names.iter().map(String::as_str));
    Err(UnitError::new(
        format!("unknown signal {text:?}"),
        Some(match suggestion {
            Some(name) => format!("did you mean `{name}`?"),
            None => "use a name such as \"SIGTERM\", \"SIGINT\", \"SIGQUIT\", \"SIGHUP\" or a number".into(),
        }),
    ))
}

/// A signal given as a TOML integer.
pub(crate) fn parse_signal_number(number: i64) -> Result<u8, UnitError> {
    u8::try_from(number)
        .ok()
        .filter(|number| (1..=SIGNAL_NUMBER_MAX).contains(number))
        .ok_or_else(|| signal_range_error(&number.to_string()))
}

fn signal_range_error(text: &str) -> UnitError {
    UnitError::new(
        format!("{text} is not a signal number"),
        Some(format!(
            "signal numbers go from 1 to {SIGNAL_NUMBER_MAX}; a name such as \"SIGTERM\" reads better"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (text, ms) in [
            ("250ms", 250),
            ("0s", 0),
            ("5s", 5_000),
            ("2m", 120_000),
            ("1h", 3_600_000),
            ("1d", 86_400_000),
            ("1m30s", 90_000),
            ("1h0m5s", 3_605_000),
            ("1s500ms", 1_500),
            ("007s", 7_000),
        ] {
            assert_eq!(parse_duration_ms(text), Ok(ms), "{text}");
        }
    }

    #[test]
    fn bad_durations_say_what_to_write() {
        let help =
            |text: &str| parse_duration_ms(text).expect_err("must be refused").help.unwrap_or_default();
        assert_eq!(help("5"), "write \"5s\" for seconds or \"5ms\" for milliseconds");
        assert_eq!(help("1.5s"), "write \"1500ms\"");
        assert_eq!(help("2.5m"), "write \"150s\"");
        assert_eq!(help("5sec"), "write \"5s\"");
        assert_eq!(help("5S"), "write \"5s\"");
        assert_eq!(help("10 minutes"), "write \"10m\"");
        assert_eq!(help("10 fortnights"), DURATION_HELP);
        assert!(help("30s1m").contains("largest first"));
        assert!(help("1s1s").contains("largest first"));
        for bad in
            ["", " ", "s", "-5s", "5s ", "5S", "1m30", "forever", "99999999999999999999s", "999999999999d"]
        {
            assert!(parse_duration_ms(bad).is_err(), "{bad:?} must be refused");
        }
        assert_eq!(
            parse_duration_ms("5x").expect_err("must be refused").message,
            "unknown unit `x` in \"5x\""
        );
    }

    #[test]
    fn sizes_are_binary() {
        for (text, bytes) in [
            ("0", 0),
            ("1024", 1024),
            ("100B", 100),
            ("512K", 512 << 10),
            ("512k", 512 << 10),
            ("512KB", 512 << 10),
            ("512KiB", 512 << 10),
            ("512M", 512 << 20),
            ("512MiB", 512 << 20),
            ("512mb", 512 << 20),
            ("1G", 1 << 30),
            ("1GiB", 1 << 30),
            ("2T", 2 << 40),
            ("10 M", 10 << 20),
        ] {
            assert_eq!(parse_size_bytes(text), Ok(bytes), "{text}");
        }
        for bad in ["", "M", "-1M", "1X", "1MiBs", "1iB", "99999999999T", " 1M", "1M ", "1  M"] {
            assert!(parse_size_bytes(bad).is_err(), "{bad:?} must be refused");
        }
        assert_eq!(
            parse_size_bytes("1.5G").expect_err("must be refused").help.as_deref(),
            Some("write \"1536M\"")
        );
        assert_eq!(
            parse_size_bytes("0.5K").expect_err("must be refused").help.as_deref(),
            Some("write \"512\"")
        );
    }

    #[test]
    fn signals_by_name_or_number() {
        for text in ["SIGTERM", "TERM", "sigterm", "term", "15"] {
            assert_eq!(parse_signal_name(text), Ok(15), "{text}");
        }
        assert_eq!(parse_signal_name("SIGINT"), Ok(2));
        assert_eq!(parse_signal_name("KILL"), Ok(9));
        assert_eq!(parse_signal_name("SIGHUP"), Ok(1));
        assert_eq!(parse_signal_name("SIGUSR1"), Ok(u8::try_from(libc::SIGUSR1).unwrap_or_default()));
        assert_eq!(parse_signal_number(3), Ok(3));
        for bad in [0, 32, 64, -1, 1000] {
            assert!(parse_signal_number(bad).is_err(), "{bad}");
        }
        assert!(parse_signal_name("0").is_err());
        assert!(parse_signal_name("99999999999999999999999").is_err());
        let error = parse_signal_name("SIGTREM").expect_err("must be refused");
        assert_eq!(error.message, "unknown signal \"SIGTREM\"");
        assert_eq!(error.help.as_deref(), Some("did you mean `SIGTERM`?"));
    }
}

/// The human units of velos.toml for other front ends (the CLI's `--kill-timeout 5s`, `--kill-signal TERM`):
/// a value typed on the command line ends up in a velos.toml, so it is read by exactly these rules.
pub mod human {
    #[cfg(test)]
    use super::SIGNAL_NUMBER_MAX;
    use super::{parse_duration_ms, parse_signal_name, UnitError, SIGNALS};

    fn message(error: UnitError) -> String {
        match error.help {
            Some(help) => format!("{} ({help})", error.message),
            None => error.message,
        }
    }

    /// `"250ms"`, `"5s"`, `"1m30s"` → milliseconds.
    pub fn duration_ms(text: &str) -> Result<u64, String> {
        parse_duration_ms(text.trim()).map_err(message)
    }

    /// `"SIGTERM"`, `"TERM"`, `"term"` or `"15"` → this platform's signal number.
    pub fn signal(text: &str) -> Result<u8, String> {
        parse_signal_name(text.trim()).map_err(message)
    }

    /// `SIGTERM` for 15 on this platform; `signal 40` for a number without a name here (for prose; a
    /// value to write into velos.toml is [`format_signal`]'s).
    pub fn signal_name(number: u8) -> String {
        match signal_symbol(number) {
            Some(name) => name,
            None => format!("signal {number}"),
        }
    }

    fn signal_symbol(number: u8) -> Option<String> {
        SIGNALS
            .iter()
            .find(|(_, candidate)| *candidate == i32::from(number))
            .map(|(name, _)| format!("SIG{name}"))
    }

    // ---- the formatters: each one's output is read back by the parser above (velos.toml accepts it) ----

    /// Milliseconds the way velos.toml writes them: `250ms`, `5s`, `1m30s`, `2h`, `1d2h`, `0s`.
    pub fn format_duration_ms(milliseconds: u64) -> String {
        if milliseconds == 0 {
            return "0s".into();
        }
        let mut rest = milliseconds;
        let mut text = String::new();
        for (unit, size) in super::DURATION_UNITS {
            if rest >= size {
                text.push_str(&format!("{}{unit}", rest / size));
                rest %= size;
            }
        }
        text
    }

    /// Bytes the way velos.toml writes them: the largest binary unit that divides them (`512M`, `1G`, `64K`),
    /// else bytes (`1000B`).
    pub fn format_size(bytes: u64) -> String {
        const UNITS: [(&str, u64); 4] = [("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)];
        UNITS
            .iter()
            .find(|(_, unit)| bytes >= *unit && bytes.is_multiple_of(*unit))
            .map(|(name, unit)| format!("{}{name}", bytes / unit))
            .unwrap_or_else(|| format!("{bytes}B"))
    }

    /// A signal the way velos.toml writes it: its name on this platform (`SIGTERM`), else the number.
    pub fn format_signal(number: u8) -> String {
        signal_symbol(number).unwrap_or_else(|| number.to_string())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_cli_reads_what_the_file_reads() {
            assert_eq!(duration_ms(" 1m30s "), Ok(90_000));
            assert!(duration_ms("1.5s").expect_err("decimal").contains("1500ms"), "the help names the fix");
            assert!(duration_ms("500").is_err());
            for text in ["SIGTERM", "TERM", "term", "15"] {
                assert_eq!(signal(text), Ok(15), "{text}");
            }
            assert!(signal("SIGTREM").expect_err("typo").contains("SIGTERM"), "did you mean");
            assert_eq!(signal_name(15), "SIGTERM");
            assert_eq!(signal_name(9), "SIGKILL");
            assert_eq!(signal_name(60), "signal 60");
        }

        #[test]
        fn what_is_formatted_reads_back_the_same() {
            for milliseconds in
                [0, 1, 250, 1000, 1500, 60_000, 90_000, 3_600_000, 86_400_000 + 7_200_000, 93_784_005]
            {
                let text = format_duration_ms(milliseconds);
                assert_eq!(duration_ms(&text), Ok(milliseconds), "{text}");
            }
            assert_eq!(format_duration_ms(90_000), "1m30s");
            for bytes in [1, 1000, 1024, 512 << 20, 3 << 30, (1 << 40) + 1] {
                let text = format_size(bytes);
                assert_eq!(
                    super::super::parse_size_bytes(&text).map_err(|error| error.message),
                    Ok(bytes),
                    "{text}"
                );
            }
            assert_eq!(format_size(512 << 20), "512M");
            for number in 1..=SIGNAL_NUMBER_MAX {
                let text = format_signal(number);
                assert_eq!(signal(&text), Ok(number), "{text}");
            }
            assert_eq!(format_signal(15), "SIGTERM");
        }
    }
}
