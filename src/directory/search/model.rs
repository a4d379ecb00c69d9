//! Referral search rules without I/O: distance, opening hours, filters, and the
//! reasons a result is shown.

use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;

/// A point on the globe, in degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub lat: f64,
    pub lng: f64,
}

impl Point {
    /// A point, if both coordinates are on the globe.
    pub fn new(lat: f64, lng: f64) -> Option<Self> {
        ((-90.0..=90.0).contains(&lat)
            && (-180.0..=180.0).contains(&lng)
            && lat.is_finite()
            && lng.is_finite())
        .then_some(Self { lat, lng })
    }
}

const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance (haversine).
pub fn distance_km(a: Point, b: Point) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lat2 - lat1;
    let dlng = (b.lng - a.lng).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlng / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// The latitude and longitude span of a circle, for a coarse first cut.
pub fn bounding_box(center: Point, radius_km: f64) -> (f64, f64, f64, f64) {
    let angle = radius_km / EARTH_RADIUS_KM;
    let dlat = angle.to_degrees();
    // The circle is widest in longitude at the points where it touches a meridian,
    // poleward of its center (asin(sin(angle) / cos(lat))), not at the center's
    // latitude; near a pole it spans every longitude.
    let ratio = angle.sin() / center.lat.to_radians().cos();
    let dlng = if ratio >= 1.0 || !ratio.is_finite() {
        180.0
    } else {
        ratio.asin().to_degrees()
    };
    (
        (center.lat - dlat).max(-90.0),
        (center.lat + dlat).min(90.0),
        center.lng - dlng,
        center.lng + dlng,
    )
}

/// One weekly opening window: on `days` (bit 0 = Monday), from `open` to `close`
/// minutes after local midnight; a close at or before the open runs past midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub days: u8,
    pub open: u16,
    pub close: u16,
}

const ALL_DAYS: u8 = 0b111_1111;
const DAY_MINUTES: u16 = 24 * 60;

fn minutes(text: &str) -> Option<u16> {
    let clock = text.get(..5)?;
    let (h, m) = clock.split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn day_bit(code: &str) -> Option<u8> {
    let index = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
        .iter()
        .position(|d| code.trim().ends_with(d))?;
    Some(1 << index)
}

impl Window {
    /// A weekly HSDS schedule as a window; `None` for what cannot be read as one
    /// (monthly rules, missing times).
    pub fn from_schedule(
        freq: Option<&str>,
        byday: Option<&str>,
        opens_at: Option<&str>,
        closes_at: Option<&str>,
    ) -> Option<Self> {
        if freq.is_some_and(|f| f != "WEEKLY") {
            return None;
        }
        let days = match byday.filter(|d| !d.trim().is_empty()) {
            Some(list) => list
                .split(',')
                .map(day_bit)
                .collect::<Option<Vec<u8>>>()?
                .into_iter()
                .fold(0, |a, b| a | b),
            None => ALL_DAYS,
        };
        let open = minutes(opens_at?)?;
        let mut close = minutes(closes_at?)?;
        // "23:59" means the end of the day.
        if close == DAY_MINUTES - 1 {
            close = DAY_MINUTES;
        }
        Some(Self { days, open, close })
    }

    fn open_at(self, weekday: u8, minute: u16) -> bool {
        let today = self.days & (1 << weekday) != 0;
        let yesterday = self.days & (1 << ((weekday + 6) % 7)) != 0;
        if self.close > self.open {
            today && minute >= self.open && minute < self.close
        } else {
            // Runs past midnight (or round the clock when open == close).
            (today && minute >= self.open) || (yesterday && minute < self.close)
        }
    }

    fn whole_days(self) -> bool {
        self.days == ALL_DAYS
            && (self.open == self.close || (self.open == 0 && self.close == DAY_MINUTES))
    }
}

/// When a service is open, in its location's time zone.
#[derive(Clone, Debug, Default)]
pub struct Hours {
    pub windows: Vec<Window>,
    pub zone: Option<TimeZone>,
}

impl Hours {
    /// Whether it is open at `now`; `None` when its hours are not known.
    pub fn open_at(&self, now: Timestamp) -> Option<bool> {
        if self.windows.is_empty() {
            return None;
        }
        if self.always() {
            return Some(true);
        }
        let local = now.to_zoned(self.zone.clone()?);
        let weekday = match local.weekday() {
            Weekday::Monday => 0,
            Weekday::Tuesday => 1,
            Weekday::Wednesday => 2,
            Weekday::Thursday => 3,
            Weekday::Friday => 4,
            Weekday::Saturday => 5,
            Weekday::Sunday => 6,
        };
        let minute =
            u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).unwrap_or(0);
        Some(self.windows.iter().any(|w| w.open_at(weekday, minute)))
    }

    /// Open every hour of every day.
    pub fn always(&self) -> bool {
        self.windows.iter().copied().any(Window::whole_days)
    }
}

/// What a caller needs, beyond words and a place. All filters combine (AND).
#[derive(Clone, Debug, Default, PartialEq)]
#[allow(clippy::struct_excessive_bools)] // Each is one independent yes/no filter.
pub struct Filters {
    /// Taxonomy terms (ids); a term matches its child terms too.
    pub terms: Vec<String>,
    /// With `terms`: every term (true) or any of them (false).
    pub all_terms: bool,
    /// Population terms (ids), each required.
    pub populations: Vec<String>,
    /// Language codes (`es`, `spa`) or names (`Spanish`), each required.
    pub languages: Vec<String>,
    /// The caller's age, within the service's minimum and maximum.
    pub age: Option<f64>,
    pub open_now: bool,
    pub open_24_7: bool,
    pub accepts_referrals: bool,
    pub warm_transfers: bool,
    pub free: bool,
    /// Verified within this many months.
    pub verified_within_months: Option<u32>,
    /// Reports beds available.
    pub has_capacity: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Sort {
    /// Nearest first (the default when a place is given).
    Distance,
    /// Best text match first (the default otherwise).
    #[default]
    Relevance,
}

/// Where the caller is, and how far they can go.
#[derive(Clone, Debug, PartialEq)]
pub struct Near {
    pub point: Point,
    pub radius_km: f64,
    /// The state the point is in, so statewide services match anywhere in it.
    pub state: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    pub text: Option<String>,
    pub near: Option<Near>,
    pub filters: Filters,
    pub sort: Sort,
    pub limit: usize,
    pub offset: usize,
    /// Leave out listings last verified before this (microseconds): the public
    /// surfaces drop lapsed listings; staff see them, flagged.
    pub listed_since: Option<i64>,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn distances_are_great_circle() {
        let sf = Point::new(37.7749, -122.4194).unwrap();
        let la = Point::new(34.0522, -118.2437).unwrap();
        let d = distance_km(sf, la);
        assert!((d - 559.1).abs() < 1.0, "{d}");
        assert!(Point::new(100.0, 0.0).is_none());
        assert!(Point::new(0.0, f64::NAN).is_none());
    }

    #[test]
    fn weekly_hours_read_as_hsds_writes_them() {
        let weekdays = Window::from_schedule(
            Some("WEEKLY"),
            Some("MO,TU,WE,TH,FR"),
            Some("09:00"),
            Some("17:00:00"),
        )
        .unwrap();
        assert!(weekdays.open_at(0, 9 * 60));
        assert!(!weekdays.open_at(0, 17 * 60));
        assert!(!weekdays.open_at(5, 12 * 60));
        let night = Window::from_schedule(None, Some("FR"), Some("22:00"), Some("06:00")).unwrap();
        assert!(night.open_at(4, 23 * 60));
        assert!(
            night.open_at(5, 5 * 60),
            "Friday night runs into Saturday morning"
        );
        assert!(!night.open_at(5, 7 * 60));
        let always = Hours {
            windows: vec![
                Window::from_schedule(Some("WEEKLY"), None, Some("00:00"), Some("23:59")).unwrap(),
            ],
            zone: None,
        };
        assert!(always.always());
        assert_eq!(always.open_at(Timestamp::now()), Some(true));
        assert!(
            Window::from_schedule(Some("MONTHLY"), None, Some("09:00"), Some("10:00")).is_none()
        );
        assert!(Window::from_schedule(None, Some("XX"), Some("09:00"), Some("10:00")).is_none());
        assert_eq!(
            Hours::default().open_at(Timestamp::now()),
            None,
            "unknown hours are not 'closed'"
        );
    }

    #[test]
    fn open_now_is_judged_in_the_locations_time_zone() {
        let hours = Hours {
            windows: vec![Window::from_schedule(None, None, Some("09:00"), Some("17:00")).unwrap()],
            zone: Some(TimeZone::get("America/Los_Angeles").unwrap()),
        };
        // 17:30 UTC is 09:30 in Los Angeles in winter.
        let t: Timestamp = "2026-01-15T17:30:00Z".parse().unwrap();
        assert_eq!(hours.open_at(t), Some(true));
        let t: Timestamp = "2026-01-15T16:30:00Z".parse().unwrap();
        assert_eq!(hours.open_at(t), Some(false));
    }

    proptest! {
        #[test]
        fn a_circle_fits_in_its_box(lat in -80.0f64..80.0, lng in -170.0f64..170.0, r in 0.1f64..500.0, bearing in 0.0f64..360.0) {
            let center = Point::new(lat, lng).unwrap();
            let (s, n, w, e) = bounding_box(center, r);
            // A point just inside the circle in any direction is inside the box.
            let d = (r * 0.999) / EARTH_RADIUS_KM;
            let (lat1, lng1, b) = (lat.to_radians(), lng.to_radians(), bearing.to_radians());
            let lat2 = (lat1.sin() * d.cos() + lat1.cos() * d.sin() * b.cos()).asin();
            let lng2 = lng1 + (b.sin() * d.sin() * lat1.cos()).atan2(d.cos() - lat1.sin() * lat2.sin());
            let (lat2, lng2) = (lat2.to_degrees(), lng2.to_degrees());
            prop_assert!(lat2 >= s - 1e-9 && lat2 <= n + 1e-9);
            prop_assert!(lng2 >= w - 1e-9 && lng2 <= e + 1e-9, "{lng2} not in {w}..{e}");
        }

        #[test]
        fn any_schedule_text_is_read_without_panicking(freq in "\\PC{0,8}", byday in "\\PC{0,20}", open in "\\PC{0,8}", close in "\\PC{0,8}") {
            let _ = Window::from_schedule(Some(&freq), Some(&byday), Some(&open), Some(&close));
        }
    }
}
