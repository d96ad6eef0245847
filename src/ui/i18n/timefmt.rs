//! Dates and times as people read them in each language: "Yesterday", "Nov 23",
//! "Nov 23, 2025" in English; "昨天", "11月23日", "2025年11月23日" in Chinese. Times are
//! 24-hour "15:04" in both.

use crate::ui::i18n::{Lang, T, tr};
use chrono::{DateTime, Datelike, Local, NaiveDate, NaiveDateTime, TimeZone};

/// A timestamp (milliseconds since 1970) in local time.
pub fn local(timestamp_ms: i64) -> Option<DateTime<Local>> {
    DateTime::from_timestamp_millis(timestamp_ms).map(|t| t.with_timezone(&Local))
}

/// The time of day, "15:04".
pub fn time<Tz: TimeZone>(at: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    at.format("%H:%M").to_string()
}

/// The date without relative words: "Nov 23" / "11月23日" this year, with the year
/// otherwise.
pub fn date(lang: Lang, day: NaiveDate, today: NaiveDate) -> String {
    let same_year = day.year() == today.year();
    match (lang, same_year) {
        (Lang::En, true) => day.format("%b %-d").to_string(),
        (Lang::En, false) => day.format("%b %-d, %Y").to_string(),
        (Lang::ZhCn, true) => format!("{}月{}日", day.month(), day.day()),
        (Lang::ZhCn, false) => format!("{}年{}月{}日", day.year(), day.month(), day.day()),
    }
}

/// A day separator: "Today", "Yesterday", or the date.
pub fn day_label(lang: Lang, day: NaiveDate, today: NaiveDate) -> String {
    if day == today {
        tr(lang, T::Today).to_string()
    } else if today.pred_opt() == Some(day) {
        tr(lang, T::Yesterday).to_string()
    } else {
        date(lang, day, today)
    }
}

/// A full date and time: "Nov 23, 2026 15:04" / "2026年11月23日 15:04".
pub fn date_time(lang: Lang, at: NaiveDateTime) -> String {
    let day = at.date();
    let clock = at.format("%H:%M");
    match lang {
        Lang::En => format!("{} {clock}", day.format("%b %-d, %Y")),
        Lang::ZhCn => format!("{}年{}月{}日 {clock}", day.year(), day.month(), day.day()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn relative_days_in_both_languages() {
        let today = d(2026, 11, 23);
        assert_eq!(day_label(Lang::En, today, today), "Today");
        assert_eq!(day_label(Lang::ZhCn, today, today), "今天");
        assert_eq!(day_label(Lang::En, d(2026, 11, 22), today), "Yesterday");
        assert_eq!(day_label(Lang::ZhCn, d(2026, 11, 22), today), "昨天");
        // Yesterday across a year boundary.
        assert_eq!(
            day_label(Lang::ZhCn, d(2025, 12, 31), d(2026, 1, 1)),
            "昨天"
        );
    }

    #[test]
    fn dates_this_year_and_before() {
        let today = d(2026, 11, 23);
        assert_eq!(day_label(Lang::En, d(2026, 3, 5), today), "Mar 5");
        assert_eq!(day_label(Lang::ZhCn, d(2026, 3, 5), today), "3月5日");
        assert_eq!(day_label(Lang::En, d(2025, 11, 23), today), "Nov 23, 2025");
        assert_eq!(
            day_label(Lang::ZhCn, d(2025, 11, 23), today),
            "2025年11月23日"
        );
    }

    #[test]
    fn full_date_and_time() {
        let at = d(2026, 11, 23).and_hms_opt(15, 4, 59).unwrap();
        assert_eq!(date_time(Lang::ZhCn, at), "2026年11月23日 15:04");
        assert_eq!(date_time(Lang::En, at), "Nov 23, 2026 15:04");
        let utc = at.and_utc();
        assert_eq!(time(&utc), "15:04");
        assert!(local(0).is_some());
    }
}
