//! What people read in their own language: the names of languages, and times in Dutch local
//! time (Europe/Amsterdam, with its summer time, from the IANA database in `chrono-tz`).
//! Shared by the console, the mails and the buddy pages.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Amsterdam;

/// A language people read the service in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Nl,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    /// `nl` or `en`; anything else is `None`.
    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "nl" => Some(Lang::Nl),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other of the two, for a language switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        }
    }
}

/// ISO 639-1 codes with their names in Dutch and English: the languages spoken by clients and
/// buddies of Dutch youth protection, and more. A code not listed is shown as the code itself.
const LANGUAGE_NAMES: &[(&str, &str, &str)] = &[
    ("af", "Afrikaans", "Afrikaans"),
    ("am", "Amhaars", "Amharic"),
    ("ar", "Arabisch", "Arabic"),
    ("bg", "Bulgaars", "Bulgarian"),
    ("bn", "Bengaals", "Bengali"),
    ("bs", "Bosnisch", "Bosnian"),
    ("cs", "Tsjechisch", "Czech"),
    ("da", "Deens", "Danish"),
    ("de", "Duits", "German"),
    ("el", "Grieks", "Greek"),
    ("en", "Engels", "English"),
    ("es", "Spaans", "Spanish"),
    ("et", "Estisch", "Estonian"),
    ("fa", "Perzisch", "Persian"),
    ("fi", "Fins", "Finnish"),
    ("fr", "Frans", "French"),
    ("fy", "Fries", "Frisian"),
    ("he", "Hebreeuws", "Hebrew"),
    ("hi", "Hindi", "Hindi"),
    ("hr", "Kroatisch", "Croatian"),
    ("hu", "Hongaars", "Hungarian"),
    ("hy", "Armeens", "Armenian"),
    ("id", "Indonesisch", "Indonesian"),
    ("it", "Italiaans", "Italian"),
    ("ja", "Japans", "Japanese"),
    ("ka", "Georgisch", "Georgian"),
    ("ku", "Koerdisch", "Kurdish"),
    ("lt", "Litouws", "Lithuanian"),
    ("lv", "Lets", "Latvian"),
    ("mk", "Macedonisch", "Macedonian"),
    ("nl", "Nederlands", "Dutch"),
    ("no", "Noors", "Norwegian"),
    ("pa", "Punjabi", "Punjabi"),
    ("pl", "Pools", "Polish"),
    ("ps", "Pasjtoe", "Pashto"),
    ("pt", "Portugees", "Portuguese"),
    ("ro", "Roemeens", "Romanian"),
    ("ru", "Russisch", "Russian"),
    ("sk", "Slowaaks", "Slovak"),
    ("sl", "Sloveens", "Slovenian"),
    ("so", "Somalisch", "Somali"),
    ("sq", "Albanees", "Albanian"),
    ("sr", "Servisch", "Serbian"),
    ("sv", "Zweeds", "Swedish"),
    ("sw", "Swahili", "Swahili"),
    ("ta", "Tamil", "Tamil"),
    ("th", "Thai", "Thai"),
    ("ti", "Tigrinya", "Tigrinya"),
    ("tl", "Tagalog", "Tagalog"),
    ("tr", "Turks", "Turkish"),
    ("uk", "Oekraïens", "Ukrainian"),
    ("ur", "Urdu", "Urdu"),
    ("vi", "Vietnamees", "Vietnamese"),
    ("zh", "Chinees", "Chinese"),
];

/// The name of the language `code` in `lang` ("Arabisch" in Dutch), or the code itself when it
/// is not known.
pub fn language_name(code: &str, lang: Lang) -> String {
    LANGUAGE_NAMES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, nl, en)| match lang {
            Lang::Nl => (*nl).to_owned(),
            Lang::En => (*en).to_owned(),
        })
        .unwrap_or_else(|| code.to_owned())
}

/// The codes with a name, for choosers.
pub fn known_languages() -> impl Iterator<Item = &'static str> {
    LANGUAGE_NAMES.iter().map(|(code, _, _)| *code)
}

const MONTHS_NL: [&str; 12] = [
    "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
];
const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A UTC time as Dutch local time: `7 dec 2026 10:15` (Dutch) or `7 Dec 2026 10:15` (English).
pub fn local_time(at: NaiveDateTime, lang: Lang) -> String {
    let local = Amsterdam.from_utc_datetime(&at);
    use chrono::{Datelike, Timelike};
    format!(
        "{} {} {} {:02}:{:02}",
        local.day(),
        month(local.month0(), lang),
        local.year(),
        local.hour(),
        local.minute()
    )
}

/// The local date of a UTC time: `7 dec 2026`.
pub fn local_date(at: NaiveDateTime, lang: Lang) -> String {
    use chrono::Datelike;
    let local = Amsterdam.from_utc_datetime(&at);
    format!(
        "{} {} {}",
        local.day(),
        month(local.month0(), lang),
        local.year()
    )
}

/// A calendar date (no time of day): `7 dec 2026`.
pub fn date(day: chrono::NaiveDate, lang: Lang) -> String {
    use chrono::Datelike;
    format!("{} {} {}", day.day(), month(day.month0(), lang), day.year())
}

/// The local date of a UTC time, for date inputs: `2026-12-07`.
pub fn local_day(at: NaiveDateTime) -> chrono::NaiveDate {
    Amsterdam.from_utc_datetime(&at).date_naive()
}

fn month(index: u32, lang: Lang) -> &'static str {
    let months = match lang {
        Lang::Nl => &MONTHS_NL,
        Lang::En => &MONTHS_EN,
    };
    months[index as usize % 12]
}

/// A time as UTC, for machine-readable attributes (`<time datetime>`) and CSV.
pub fn utc_text(at: NaiveDateTime) -> String {
    DateTime::<Utc>::from_naive_utc_and_offset(at, Utc)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// How long ago `at` was at `now`, coarsely: "3 dagen" / "3 days", "5 uur" / "5 hours",
/// "12 min".
pub fn duration_text(from: NaiveDateTime, to: NaiveDateTime, lang: Lang) -> String {
    let span = to - from;
    let (n, nl_one, nl_many, en_one, en_many) = if span.num_days() >= 1 {
        (span.num_days(), "dag", "dagen", "day", "days")
    } else if span.num_hours() >= 1 {
        (span.num_hours(), "uur", "uur", "hour", "hours")
    } else {
        (span.num_minutes().max(0), "min", "min", "min", "min")
    };
    let unit = match (lang, n == 1) {
        (Lang::Nl, true) => nl_one,
        (Lang::Nl, false) => nl_many,
        (Lang::En, true) => en_one,
        (Lang::En, false) => en_many,
    };
    format!("{n} {unit}")
}

const MONTH_NAMES_NL: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];
const MONTH_NAMES_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A UTC time as Dutch local time in full, with the zone named so nobody reads it as their
/// own: `9 december 2026 om 14:30 (Nederlandse tijd)` or `9 December 2026 at 14:30 (Dutch
/// time)`. For mails and the pages buddies and clients see.
pub fn local_time_in_full(at: NaiveDateTime, lang: Lang) -> String {
    use chrono::{Datelike, Timelike};
    let local = Amsterdam.from_utc_datetime(&at);
    let (months, at_word, zone) = match lang {
        Lang::Nl => (&MONTH_NAMES_NL, "om", "Nederlandse tijd"),
        Lang::En => (&MONTH_NAMES_EN, "at", "Dutch time"),
    };
    format!(
        "{} {} {} {at_word} {:02}:{:02} ({zone})",
        local.day(),
        months[local.month0() as usize % 12],
        local.year(),
        local.hour(),
        local.minute()
    )
}

/// The local date of a UTC time in full: `9 december 2026` / `9 December 2026`.
pub fn local_date_in_full(at: NaiveDateTime, lang: Lang) -> String {
    use chrono::Datelike;
    let local = Amsterdam.from_utc_datetime(&at);
    let months = match lang {
        Lang::Nl => &MONTH_NAMES_NL,
        Lang::En => &MONTH_NAMES_EN,
    };
    format!(
        "{} {} {}",
        local.day(),
        months[local.month0() as usize % 12],
        local.year()
    )
}

/// A UTC time as the service writes it: `2026-12-09T13:30:00` (with or without fractions or
/// `Z`), RFC 3339 with an offset, or `2026-12-09 13:30`.
pub fn parse_utc(text: &str) -> Option<NaiveDateTime> {
    let trimmed = text.trim().trim_end_matches('Z');
    trimmed
        .parse::<NaiveDateTime>()
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%d %H:%M").ok())
        .or_else(|| NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%d %H:%M:%S").ok())
        .or_else(|| {
            chrono::DateTime::parse_from_rfc3339(text.trim())
                .ok()
                .map(|t| t.naive_utc())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        text.parse().unwrap()
    }

    #[test]
    fn times_are_dutch_local_time_with_summer_time() {
        // Winter: UTC+1.
        assert_eq!(
            local_time(at("2026-12-07T09:15:00"), Lang::Nl),
            "7 dec 2026 10:15"
        );
        assert_eq!(
            local_time(at("2026-12-07T09:15:00"), Lang::En),
            "7 Dec 2026 10:15"
        );
        // Summer: UTC+2.
        assert_eq!(
            local_time(at("2026-07-01T22:30:00"), Lang::Nl),
            "2 jul 2026 00:30"
        );
        assert_eq!(
            local_date(at("2026-03-28T23:30:00"), Lang::Nl),
            "29 mrt 2026"
        );
        assert_eq!(utc_text(at("2026-12-07T09:15:00")), "2026-12-07T09:15:00Z");
    }

    #[test]
    fn times_in_full_name_the_dutch_zone_with_its_summer_time() {
        // Winter (CET, UTC+1).
        assert_eq!(
            local_time_in_full(at("2026-12-09T13:30:00"), Lang::Nl),
            "9 december 2026 om 14:30 (Nederlandse tijd)"
        );
        assert_eq!(
            local_time_in_full(at("2026-12-09T13:30:00"), Lang::En),
            "9 December 2026 at 14:30 (Dutch time)"
        );
        // Summer (CEST, UTC+2), across midnight.
        assert_eq!(
            local_time_in_full(at("2027-06-30T22:05:00"), Lang::Nl),
            "1 juli 2027 om 00:05 (Nederlandse tijd)"
        );
        // The night summer time starts: 01:59 UTC is 03:59 CEST.
        assert_eq!(
            local_time_in_full(at("2027-03-28T01:59:00"), Lang::En),
            "28 March 2027 at 03:59 (Dutch time)"
        );
        assert_eq!(
            local_date_in_full(at("2027-03-27T23:30:00"), Lang::Nl),
            "28 maart 2027"
        );
        for text in [
            "2026-12-09T13:30:00",
            "2026-12-09T13:30:00Z",
            "2026-12-09T13:30:00.000001",
            "2026-12-09 13:30",
            "2026-12-09T14:30:00+01:00",
        ] {
            assert_eq!(
                parse_utc(text).map(|t| t.format("%H:%M").to_string()),
                Some("13:30".to_owned()),
                "{text}"
            );
        }
        assert_eq!(parse_utc("tomorrow"), None);
    }

    #[test]
    fn languages_are_named_in_the_reader_s_language() {
        assert_eq!(language_name("ar", Lang::Nl), "Arabisch");
        assert_eq!(language_name("ar", Lang::En), "Arabic");
        assert_eq!(language_name("nl", Lang::En), "Dutch");
        assert_eq!(language_name("xx", Lang::Nl), "xx");
        let mut codes: Vec<_> = known_languages().collect();
        let count = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), count, "each code once");
    }

    #[test]
    fn durations_are_coarse() {
        let from = at("2026-12-01T09:00:00");
        assert_eq!(
            duration_text(from, at("2026-12-04T10:00:00"), Lang::Nl),
            "3 dagen"
        );
        assert_eq!(
            duration_text(from, at("2026-12-02T09:00:00"), Lang::En),
            "1 day"
        );
        assert_eq!(
            duration_text(from, at("2026-12-01T14:00:00"), Lang::En),
            "5 hours"
        );
        assert_eq!(
            duration_text(from, at("2026-12-01T09:12:00"), Lang::Nl),
            "12 min"
        );
    }
}
