//! Parsing a 5-field cron expression (`minute hour day-of-month month day-of-week`) into sets of values.
//!
//! Each field is a comma-separated list of items; an item is `*`, a value, or a range `a-b`, each
//! optionally followed by a step (`*/15`, `10-50/10`, `5/15` = from 5 to the field's end). Months and
//! weekdays also take English names (`jan`, `mon`, any case); weekday 7 is Sunday, like 0. The `@hourly`,
//! `@daily` (`@midnight`), `@weekly`, `@monthly` and `@yearly` (`@annually`) shorthands are accepted.
//!
//! Errors carry the byte range of the offending field or item inside the expression, so a config error
//! can point its caret at exactly what is wrong.
use std::ops::Range;

/// The fields, in order, as a user names them.
pub const FIELD_NAMES: [&str; 5] = ["minute", "hour", "day of month", "month", "day of week"];

const MONTH_NAMES: [&str; 12] =
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAY_NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
/// The most days each month can have (February in a leap year).
const MONTH_DAYS_MAX: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// A parsed cron expression: for each field, the set of values it matches (bit `n` set = value `n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    pub(crate) minutes: u64,
    pub(crate) hours: u32,
    /// Bits 1 to 31.
    pub(crate) days: u32,
    /// Bits 1 to 12.
    pub(crate) months: u16,
    /// Bits 0 (Sunday) to 6.
    pub(crate) weekdays: u8,
    /// Both day fields are restricted (neither starts with `*`): a day matches when either matches, as in
    /// every cron since Vixie's. Otherwise both must match (the `*` one always does).
    pub(crate) days_either: bool,
}

/// Why an expression was refused, and where (`span`: bytes of the expression).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CronError {
    /// The field at fault (index into [`FIELD_NAMES`]), when one is.
    pub field: Option<usize>,
    pub span: Range<usize>,
    pub message: String,
    pub help: Option<String>,
}

/// What every field accepts.
struct FieldRule {
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// The first name's value (`jan` = 1, `sun` = 0).
    names_from: u32,
}

const RULES: [FieldRule; 5] = [
    FieldRule { min: 0, max: 59, names: &[], names_from: 0 },
    FieldRule { min: 0, max: 23, names: &[], names_from: 0 },
    FieldRule { min: 1, max: 31, names: &[], names_from: 0 },
    FieldRule { min: 1, max: 12, names: &MONTH_NAMES, names_from: 1 },
    // 7 is Sunday too; folded onto 0 after parsing.
    FieldRule { min: 0, max: 7, names: &WEEKDAY_NAMES, names_from: 0 },
];

const SHORTHANDS: [(&str, &str); 7] = [
    ("@hourly", "0 * * * *"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@weekly", "0 0 * * 0"),
    ("@monthly", "0 0 1 * *"),
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
];

const FORMAT_HELP: &str =
    "five fields: minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\" (every day at 03:00)";

impl std::str::FromStr for Cron {
    type Err = CronError;

    fn from_str(expression: &str) -> Result<Cron, CronError> {
        Cron::parse(expression)
    }
}

impl Cron {
    /// Parses `expression`; see the module's documentation for the syntax.
    pub fn parse(expression: &str) -> Result<Cron, CronError> {
        let whole = 0..expression.len();
        let trimmed = expression.trim();
        if trimmed.starts_with('@') {
            let lowered = trimmed.to_ascii_lowercase();
            return match SHORTHANDS.iter().find(|(name, _)| *name == lowered) {
                Some((_, fields)) => Cron::parse(fields),
                None if lowered == "@reboot" => Err(error(
                    None,
                    whole,
                    "`@reboot` is not a time of day".into(),
                    Some("an app is started when Velos starts it; cron_restart takes a time such as \"0 3 * * *\"".into()),
                )),
                None => Err(error(
                    None,
                    whole,
                    format!("unknown shorthand `{trimmed}`"),
                    Some("use @hourly, @daily, @weekly, @monthly or @yearly, or five fields".into()),
                )),
            };
        }
        let fields = words(expression);
        if fields.len() != 5 {
            let help = if fields.len() == 6 {
                "there is no seconds field; ".to_string() + FORMAT_HELP
            } else {
                FORMAT_HELP.to_string()
            };
            return Err(error(None, whole, format!("expected 5 fields, found {}", fields.len()), Some(help)));
        }
        let mut sets = [0u64; 5];
        for (index, (text, offset)) in fields.iter().enumerate() {
            sets[index] = parse_field(index, text, *offset)?;
        }
        // Weekday 7 is Sunday.
        let weekdays = (sets[4] | (sets[4] >> 7)) & 0x7f;
        let cron = Cron {
            minutes: sets[0],
            hours: sets[1] as u32,
            days: sets[2] as u32,
            months: sets[3] as u16,
            weekdays: weekdays as u8,
            days_either: !fields[2].0.starts_with('*') && !fields[4].0.starts_with('*'),
        };
        cron.check_days_exist(&fields[2], &fields[3])?;
        Ok(cron)
    }

    /// A day-of-month that no chosen month has (`30 2`) would never fire: refused rather than silent.
    fn check_days_exist(&self, days: &(&str, usize), months: &(&str, usize)) -> Result<(), CronError> {
        if self.days_either {
            return Ok(()); // the weekday field adds days of its own
        }
        let possible = (1..=12u32)
            .filter(|month| self.months & (1 << month) != 0)
            .any(|month| (1..=MONTH_DAYS_MAX[month as usize - 1]).any(|day| self.days & (1 << day) != 0));
        if possible {
            return Ok(());
        }
        let span = days.1..days.1 + days.0.len();
        Err(error(
            Some(2),
            span,
            format!("day of month `{}` never occurs in month `{}`: this would never fire", days.0, months.0),
            Some("pick a day every chosen month has (February has 28, or 29 in leap years)".into()),
        ))
    }

    /// Whether the day `day` of `month` (1-based), a `weekday` (0 = Sunday), is a day this fires on.
    pub(crate) fn day_matches(&self, month: u32, day: u32, weekday: u32) -> bool {
        if self.months & (1 << month) == 0 {
            return false;
        }
        let by_day = self.days & (1 << day) != 0;
        let by_weekday = self.weekdays & (1 << weekday) != 0;
        if self.days_either {
            by_day || by_weekday
        } else {
            by_day && by_weekday
        }
    }
}

fn error(field: Option<usize>, span: Range<usize>, message: String, help: Option<String>) -> CronError {
    CronError { field, span, message, help }
}

/// The whitespace-separated words of `text`, with their byte offsets.
fn words(text: &str) -> Vec<(&str, usize)> {
    let mut words = Vec::new();
    let mut start = None;
    for (offset, character) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        match (character.is_whitespace(), start) {
            (true, Some(begin)) => {
                words.push((&text[begin..offset], begin));
                start = None;
            }
            (false, None) => start = Some(offset),
            _ => {}
        }
    }
    words
}

/// One field: the union of its comma-separated items.
fn parse_field(index: usize, text: &str, offset: usize) -> Result<u64, CronError> {
    let mut set = 0u64;
    let mut item_offset = offset;
    for item in text.split(',') {
        set |= parse_item(index, item, item_offset)?;
        item_offset += item.len() + 1;
    }
    Ok(set)
}

fn parse_item(index: usize, item: &str, offset: usize) -> Result<u64, CronError> {
    let rule = &RULES[index];
    let field = FIELD_NAMES[index];
    let span = offset..offset + item.len().max(1);
    let fail = |message: String, help: Option<String>| Err(error(Some(index), span.clone(), message, help));
    if item.is_empty() {
        return fail(format!("empty item in the {field} field"), Some("remove the extra comma".into()));
    }
    let (base, step) = match item.split_once('/') {
        Some((base, step)) => match step.parse::<u32>() {
            Ok(step) if step > 0 && step <= rule.max => (base, step),
            _ => {
                return fail(
                    format!("invalid step `/{step}` in the {field} field"),
                    Some(format!("a step is a whole number from 1 to {}, as in `*/15`", rule.max)),
                )
            }
        },
        None => (item, 1),
    };
    let (first, last) = if base == "*" {
        (rule.min, rule.max)
    } else if let Some((from, to)) = base.split_once('-') {
        let (from, to) = (value(rule, from), value(rule, to));
        match (from, to) {
            (Some(from), Some(to)) if from <= to => (from, to),
            (Some(from), Some(to)) => {
                return fail(
                    format!("the range `{base}` in the {field} field goes backwards ({from} > {to})"),
                    Some("write the smaller value first, or two items: `22-23,0-2`".into()),
                )
            }
            _ => return fail(out_of_range(field, rule, base), Some(accepted(rule))),
        }
    } else {
        match value(rule, base) {
            // `5/15`: from 5 to the end of the field.
            Some(start) if item.contains('/') => (start, rule.max),
            Some(single) => (single, single),
            None if base == "?" => {
                return fail(
                    format!("`?` in the {field} field is not cron syntax here"),
                    Some("write `*`".into()),
                )
            }
            None => return fail(out_of_range(field, rule, base), Some(accepted(rule))),
        }
    };
    Ok((first..=last).step_by(step as usize).fold(0u64, |set, value| set | (1u64 << value)))
}

/// A number or a name of `rule`'s field, if it is one in range.
fn value(rule: &FieldRule, text: &str) -> Option<u32> {
    if let Ok(number) = text.parse::<u32>() {
        return (rule.min..=rule.max).contains(&number).then_some(number);
    }
    let lowered = text.to_ascii_lowercase();
    let position = rule.names.iter().position(|name| *name == lowered)?;
    Some(rule.names_from + position as u32)
}

fn out_of_range(field: &str, rule: &FieldRule, text: &str) -> String {
    let is_number = text.chars().all(|character| character.is_ascii_digit());
    if is_number {
        format!("{text} is out of range for the {field} field ({} to {})", rule.min, rule.max)
    } else {
        format!("`{text}` is not a valid {field}")
    }
}

fn accepted(rule: &FieldRule) -> String {
    let mut text = format!("a number from {} to {}", rule.min, rule.max);
    if let (Some(first), Some(last)) = (rule.names.first(), rule.names.last()) {
        text.push_str(&format!(" or a name ({first} to {last})"));
    }
    text + ", `*`, a range `a-b`, a list `a,b` or a step `*/n`"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(set: u64) -> Vec<u32> {
        (0..64).filter(|bit| set & (1 << bit) != 0).collect()
    }

    fn parse(text: &str) -> Cron {
        Cron::parse(text).unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    fn refused(text: &str) -> CronError {
        match Cron::parse(text) {
            Ok(cron) => panic!("{text} was accepted: {cron:?}"),
            Err(error) => error,
        }
    }

    #[test]
    fn lists_ranges_and_steps() {
        let cron = parse("*/15 9-17/4 1,15,31 * mon-fri");
        assert_eq!(bits(cron.minutes), [0, 15, 30, 45]);
        assert_eq!(bits(u64::from(cron.hours)), [9, 13, 17]);
        assert_eq!(bits(u64::from(cron.days)), [1, 15, 31]);
        assert_eq!(bits(u64::from(cron.months)), (1..=12).collect::<Vec<_>>());
        assert_eq!(bits(u64::from(cron.weekdays)), [1, 2, 3, 4, 5]);
        assert!(cron.days_either);
        assert_eq!(bits(parse("5/20 * * * *").minutes), [5, 25, 45]);
        assert_eq!(bits(parse("0,10-12,58 * * * *").minutes), [0, 10, 11, 12, 58]);
    }

    #[test]
    fn names_in_any_case_and_sunday_as_seven() {
        let cron = parse("0 0 * JAN,jul-Sep Sun");
        assert_eq!(bits(u64::from(cron.months)), [1, 7, 8, 9]);
        assert_eq!(bits(u64::from(cron.weekdays)), [0]);
        assert_eq!(parse("0 0 * * 7").weekdays, parse("0 0 * * 0").weekdays);
        assert_eq!(bits(u64::from(parse("0 0 * * 5-7").weekdays)), [0, 5, 6]);
    }

    #[test]
    fn the_day_rule_is_or_only_when_both_fields_are_restricted() {
        assert!(parse("0 0 13 * fri").days_either);
        assert!(!parse("0 0 13 * *").days_either);
        assert!(!parse("0 0 * * fri").days_either);
        // A field starting with `*` counts as unrestricted, a step included (Vixie cron's reading).
        assert!(!parse("0 0 */2 * fri").days_either);
    }

    #[test]
    fn shorthands() {
        assert_eq!(parse("@daily"), parse("0 0 * * *"));
        assert_eq!(parse(" @Weekly "), parse("0 0 * * 0"));
        assert_eq!(parse("@yearly"), parse("0 0 1 jan *"));
        assert!(refused("@reboot").help.is_some_and(|help| help.contains("0 3 * * *")));
        assert!(refused("@sometimes").message.contains("unknown shorthand"));
    }

    #[test]
    fn errors_point_at_the_wrong_field() {
        let error = refused("0 25 * * *");
        assert_eq!((error.field, error.span.clone()), (Some(1), 2..4));
        assert_eq!(error.message, "25 is out of range for the hour field (0 to 23)");
        let error = refused("0 3 * foo *");
        assert_eq!((error.field, error.span.clone()), (Some(3), 6..9));
        assert_eq!(error.message, "`foo` is not a valid month");
        let error = refused("*/0 * * * *");
        assert_eq!((error.field, error.span.clone()), (Some(0), 0..3));
        // The second item of a list: the span is that item.
        let error = refused("0 1,99 * * *");
        assert_eq!((error.field, error.span.clone()), (Some(1), 4..6));
        let error = refused("0 0 * * fri-mon");
        assert!(error.message.contains("goes backwards"), "{}", error.message);
        assert_eq!(refused("0 0 1,,2 * *").field, Some(2));
        assert_eq!(refused("0 0 ? * *").help.as_deref(), Some("write `*`"));
    }

    #[test]
    fn wrong_field_counts() {
        let error = refused("0 3 * *");
        assert_eq!((error.field, error.message.as_str()), (None, "expected 5 fields, found 4"));
        assert!(refused("0 0 3 * * *").help.is_some_and(|help| help.contains("no seconds field")));
        assert_eq!(refused("").message, "expected 5 fields, found 0");
    }

    #[test]
    fn a_day_no_chosen_month_has_is_refused() {
        let error = refused("0 0 30 2 *");
        assert_eq!((error.field, error.span.clone()), (Some(2), 4..6));
        assert!(error.message.contains("never occurs"), "{}", error.message);
        refused("0 0 31 apr,jun,sep,nov *");
        parse("0 0 29 2 *"); // leap years
        parse("0 0 31 apr,may *");
        parse("0 0 30 2 mon"); // OR rule: every Monday of February
    }
}
