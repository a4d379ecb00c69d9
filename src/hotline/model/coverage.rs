//! Shift coverage for the next two weeks: a 24/7 hotline needs an advocate to answer and
//! a supervisor to alert at every moment, so every hour is checked for both.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};

use crate::kernel::auth::UserId;

/// Days a coverage window looks ahead.
pub const DAYS: i64 = 14;
/// Hours in a coverage window.
pub const HOURS: usize = 14 * 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShiftRole {
    Advocate,
    Supervisor,
}

/// One person's shift in one role, from `start` up to (not including) `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shift {
    person: UserId,
    role: ShiftRole,
    start: Timestamp,
    end: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("end: a shift must end after it starts")]
pub struct EmptyShift;

impl Shift {
    pub fn new(
        person: UserId,
        role: ShiftRole,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Self, EmptyShift> {
        if start < end {
            Ok(Self {
                person,
                role,
                start,
                end,
            })
        } else {
            Err(EmptyShift)
        }
    }

    pub fn person(&self) -> UserId {
        self.person
    }

    pub fn role(&self) -> ShiftRole {
        self.role
    }

    pub fn start(&self) -> Timestamp {
        self.start
    }

    pub fn end(&self) -> Timestamp {
        self.end
    }

    fn contains(&self, at: Timestamp) -> bool {
        self.start <= at && at < self.end
    }

    fn overlaps(&self, from: Timestamp, to: Timestamp) -> bool {
        self.start < to && from < self.end
    }
}

/// The 336 hours from a start, computed once so that no hour can fall outside the
/// range of time `jiff` represents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    bounds: Vec<Timestamp>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("window_start: fourteen days from here is past the last representable time")]
pub struct WindowOutOfRange;

impl Window {
    /// Hours are counted from `start` exactly; pass the top of an hour for clock hours.
    pub fn starting(start: Timestamp) -> Result<Self, WindowOutOfRange> {
        let bounds = (0..=DAYS * 24)
            .map(|h| start.checked_add(SignedDuration::from_hours(h)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| WindowOutOfRange)?;
        Ok(Self { bounds })
    }

    pub fn start(&self) -> Timestamp {
        self.bounds[0]
    }

    pub fn end(&self) -> Timestamp {
        self.bounds[HOURS]
    }

    fn hours(&self) -> impl Iterator<Item = (Timestamp, Timestamp)> + '_ {
        self.bounds.windows(2).map(|w| (w[0], w[1]))
    }
}

/// Who works one hour of the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HourCoverage {
    pub start: Timestamp,
    /// People in the role who work any part of the hour.
    pub advocates: usize,
    pub supervisors: usize,
    /// Some moment of the hour has no advocate: a half-covered hour is still a gap,
    /// because a call can come at any minute.
    pub advocate_gap: bool,
    pub supervisor_gap: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage {
    /// Every hour of the window, in order.
    pub hours: Vec<HourCoverage>,
}

impl Coverage {
    /// The starts of the hours with a moment without an advocate.
    pub fn advocate_gaps(&self) -> Vec<Timestamp> {
        self.gaps(|h| h.advocate_gap)
    }

    /// The starts of the hours with a moment without a supervisor.
    pub fn supervisor_gaps(&self) -> Vec<Timestamp> {
        self.gaps(|h| h.supervisor_gap)
    }

    fn gaps(&self, gap: impl Fn(&HourCoverage) -> bool) -> Vec<Timestamp> {
        self.hours
            .iter()
            .filter(|h| gap(h))
            .map(|h| h.start)
            .collect()
    }
}

/// Counts, for each hour of the window, the advocates and supervisors on duty and
/// whether either role leaves a moment uncovered. Shifts outside the window are ignored.
pub fn coverage(shifts: &[Shift], window: &Window) -> Coverage {
    let mut sorted: Vec<&Shift> = shifts
        .iter()
        .filter(|s| s.overlaps(window.start(), window.end()))
        .collect();
    sorted.sort_by_key(|s| s.start);
    let hours = window
        .hours()
        .map(|(from, to)| {
            let within: Vec<&Shift> = sorted
                .iter()
                .copied()
                .filter(|s| s.overlaps(from, to))
                .collect();
            let (advocates, advocate_gap) = staffing(&within, ShiftRole::Advocate, from, to);
            let (supervisors, supervisor_gap) = staffing(&within, ShiftRole::Supervisor, from, to);
            HourCoverage {
                start: from,
                advocates,
                supervisors,
                advocate_gap,
                supervisor_gap,
            }
        })
        .collect();
    Coverage { hours }
}

/// How many people of the role work within `from..to`, and whether their shifts leave a
/// moment uncovered. `within` is sorted by start, which the sweep relies on.
fn staffing(within: &[&Shift], role: ShiftRole, from: Timestamp, to: Timestamp) -> (usize, bool) {
    let mut people = BTreeSet::new();
    let mut reached = from;
    for shift in within.iter().filter(|s| s.role == role) {
        people.insert(shift.person);
        if shift.start <= reached {
            reached = reached.max(shift.end);
        }
    }
    (people.len(), reached < to)
}

/// The people on duty at `now`, in either role, each once.
pub fn on_duty(shifts: &[Shift], now: Timestamp) -> Vec<UserId> {
    people(shifts.iter().filter(|s| s.contains(now)))
}

/// The people on duty at `now` in one role, e.g. the supervisors to alert.
pub fn on_duty_as(shifts: &[Shift], now: Timestamp, role: ShiftRole) -> Vec<UserId> {
    people(shifts.iter().filter(|s| s.role == role && s.contains(now)))
}

fn people<'a>(shifts: impl Iterator<Item = &'a Shift>) -> Vec<UserId> {
    shifts
        .map(|s| s.person)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn at(minutes: i64) -> Timestamp {
        let start: Timestamp = "2026-03-02T00:00:00Z".parse().unwrap();
        start
            .checked_add(SignedDuration::from_mins(minutes))
            .unwrap()
    }

    fn window() -> Window {
        Window::starting(at(0)).unwrap()
    }

    fn shift(person: UserId, role: ShiftRole, from_min: i64, to_min: i64) -> Shift {
        Shift::new(person, role, at(from_min), at(to_min)).unwrap()
    }

    const WHOLE: i64 = DAYS * 24 * 60;

    #[test]
    fn a_shift_must_end_after_it_starts() {
        let id = UserId::new();
        assert_eq!(
            Shift::new(id, ShiftRole::Advocate, at(60), at(60)),
            Err(EmptyShift)
        );
        assert_eq!(
            Shift::new(id, ShiftRole::Advocate, at(60), at(0)),
            Err(EmptyShift)
        );
    }

    #[test]
    fn hours_count_people_and_find_gaps() {
        let (ana, ben, cy) = (UserId::new(), UserId::new(), UserId::new());
        let shifts = [
            shift(ana, ShiftRole::Advocate, 0, 8 * 60),
            shift(ben, ShiftRole::Advocate, 4 * 60, 12 * 60 + 30),
            shift(cy, ShiftRole::Supervisor, 0, 24 * 60),
        ];
        let c = coverage(&shifts, &window());
        assert_eq!(c.hours.len(), HOURS);
        assert_eq!((c.hours[0].advocates, c.hours[0].supervisors), (1, 1));
        assert_eq!(c.hours[5].advocates, 2);
        // Ben leaves at 12:30: someone works hour 12, but not all of it.
        assert_eq!(c.hours[12].advocates, 1);
        assert!(c.hours[12].advocate_gap);
        assert!(!c.hours[11].advocate_gap);
        assert_eq!(c.advocate_gaps().first(), Some(&at(12 * 60)));
        assert_eq!(c.advocate_gaps().len(), HOURS - 12);
        assert_eq!(c.supervisor_gaps().len(), HOURS - 24);
    }

    #[test]
    fn back_to_back_shifts_leave_no_gap_inside_an_hour() {
        let shifts = [
            shift(UserId::new(), ShiftRole::Advocate, 0, 90),
            shift(UserId::new(), ShiftRole::Advocate, 90, 180),
        ];
        let c = coverage(&shifts, &window());
        assert!(!c.hours[1].advocate_gap);
        assert_eq!(c.hours[1].advocates, 2);
        let gapped = [
            shift(UserId::new(), ShiftRole::Advocate, 0, 80),
            shift(UserId::new(), ShiftRole::Advocate, 90, 180),
        ];
        assert!(coverage(&gapped, &window()).hours[1].advocate_gap);
    }

    #[test]
    fn on_duty_lists_each_person_working_now_once() {
        let (ana, ben, cy) = (UserId::new(), UserId::new(), UserId::new());
        let shifts = [
            shift(ana, ShiftRole::Advocate, 0, 60),
            shift(ana, ShiftRole::Advocate, 30, 120),
            shift(ben, ShiftRole::Supervisor, 0, 60),
            shift(cy, ShiftRole::Advocate, 60, 120),
        ];
        let mut expected = vec![ana, ben];
        expected.sort();
        assert_eq!(on_duty(&shifts, at(45)), expected);
        // A shift ends at its end: Ben is gone at minute 60 and Cy has started.
        let mut later = vec![ana, cy];
        later.sort();
        assert_eq!(on_duty(&shifts, at(60)), later);
        assert_eq!(on_duty_as(&shifts, at(45), ShiftRole::Supervisor), [ben]);
        assert!(on_duty(&shifts, at(500)).is_empty());
    }

    #[test]
    fn a_window_at_the_end_of_time_is_refused() {
        assert_eq!(Window::starting(Timestamp::MAX), Err(WindowOutOfRange));
        assert_eq!(window().end(), at(WHOLE));
    }

    fn any_shifts() -> impl Strategy<Value = Vec<Shift>> {
        let people: Vec<UserId> = (0..6).map(|_| UserId::new()).collect();
        proptest::collection::vec(
            (
                proptest::sample::select(people),
                prop_oneof![Just(ShiftRole::Advocate), Just(ShiftRole::Supervisor)],
                -600..WHOLE + 600,
                1..1500_i64,
            )
                .prop_map(|(person, role, start, len)| shift(person, role, start, start + len)),
            0..40,
        )
    }

    proptest! {
        #[test]
        fn one_shift_per_role_over_the_whole_window_leaves_no_gap(
            before in 0..600_i64, after in 0..600_i64, extra in any_shifts()
        ) {
            let mut shifts = extra;
            shifts.push(shift(UserId::new(), ShiftRole::Advocate, -before, WHOLE + after));
            shifts.push(shift(UserId::new(), ShiftRole::Supervisor, -before, WHOLE + after));
            let c = coverage(&shifts, &window());
            prop_assert!(c.advocate_gaps().is_empty());
            prop_assert!(c.supervisor_gaps().is_empty());
            prop_assert!(c.hours.iter().all(|h| h.advocates >= 1 && h.supervisors >= 1));
        }

        #[test]
        fn adding_a_shift_never_opens_a_gap(shifts in any_shifts(), more in any_shifts()) {
            let before = coverage(&shifts, &window());
            let all: Vec<Shift> = shifts.iter().chain(&more).copied().collect();
            let after = coverage(&all, &window());
            for (b, a) in before.hours.iter().zip(&after.hours) {
                prop_assert!(a.advocates >= b.advocates && a.supervisors >= b.supervisors);
                prop_assert!(!a.advocate_gap || b.advocate_gap);
                prop_assert!(!a.supervisor_gap || b.supervisor_gap);
            }
        }
    }

    proptest! {
        // Checking every minute of two weeks is slow in a debug build; fewer cases do.
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn gaps_and_covered_hours_add_up_to_the_window(shifts in any_shifts()) {
            let c = coverage(&shifts, &window());
            prop_assert_eq!(c.hours.len(), HOURS);
            for (gaps, role) in [(c.advocate_gaps(), ShiftRole::Advocate), (c.supervisor_gaps(), ShiftRole::Supervisor)] {
                // Covered: every minute of the hour has someone of the role on duty.
                let covered = c.hours.iter().filter(|h| {
                    (0..60).all(|m| {
                        let t = h.start.checked_add(SignedDuration::from_mins(m)).unwrap();
                        !on_duty_as(&shifts, t, role).is_empty()
                    })
                }).count();
                prop_assert_eq!(gaps.len() + covered, HOURS);
            }
            for h in &c.hours {
                prop_assert!(h.advocates > 0 || h.advocate_gap);
                prop_assert!(h.supervisors > 0 || h.supervisor_gap);
            }
        }
    }
}
