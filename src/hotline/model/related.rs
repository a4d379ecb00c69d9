//! Which cases a contact may be about because of the caller's number: the cases of
//! earlier contacts from that number, and the cases that name it as an identifier.

/// How a case came to be found for a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// An earlier contact came from the number.
    Calls,
    /// The case names the number as an identifier.
    Names,
}

/// A case found for a number (by the number's blind index), with when it was last
/// found so: the latest contact's start, or the latest naming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sighting {
    pub number: String,
    pub case_id: String,
    pub source: Source,
    pub latest: i64,
}

/// Cases shown of each source at most.
pub const PER_SOURCE: usize = 20;

/// The cases a contact from `number` may be about besides `own_case`: those of its
/// calls, newest first, then those naming it, newest first; twenty of each at most,
/// each case once. `sightings` may hold other numbers' too, and for each number and
/// source it needs the newest `PER_SOURCE + 1` (one may be the contact's own case).
pub fn related(sightings: &[Sighting], number: &str, own_case: Option<&str>) -> Vec<String> {
    let mut found: Vec<&Sighting> = sightings
        .iter()
        .filter(|s| s.number == number && Some(s.case_id.as_str()) != own_case)
        .collect();
    found.sort_by(|a, b| {
        (a.source, std::cmp::Reverse(a.latest), &a.case_id).cmp(&(
            b.source,
            std::cmp::Reverse(b.latest),
            &b.case_id,
        ))
    });
    let mut related: Vec<String> = Vec::new();
    for source in [Source::Calls, Source::Names] {
        for sighting in found.iter().filter(|s| s.source == source).take(PER_SOURCE) {
            if !related.contains(&sighting.case_id) {
                related.push(sighting.case_id.clone());
            }
        }
    }
    related
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn seen(number: &str, case: &str, source: Source, latest: i64) -> Sighting {
        Sighting {
            number: number.to_owned(),
            case_id: case.to_owned(),
            source,
            latest,
        }
    }

    #[test]
    fn calls_come_first_newest_first_then_namings_and_never_the_contacts_own_case() {
        let sightings = [
            seen("n1", "old-call", Source::Calls, 10),
            seen("n1", "own", Source::Calls, 99),
            seen("n1", "new-call", Source::Calls, 30),
            seen("n1", "named", Source::Names, 50),
            seen("n1", "new-call", Source::Names, 60),
            seen("n2", "other-number", Source::Calls, 70),
        ];
        assert_eq!(
            related(&sightings, "n1", Some("own")),
            ["new-call", "old-call", "named"]
        );
        assert_eq!(
            related(&sightings, "n1", None),
            ["own", "new-call", "old-call", "named"]
        );
        assert!(related(&sightings, "n3", None).is_empty());
    }

    proptest! {
        #[test]
        fn at_most_twenty_of_each_source_each_case_once_never_the_own_case(
            raw in proptest::collection::vec((0u8..3, 0u8..40, any::<bool>(), 0i64..50), 0..120),
            own in proptest::option::of(0u8..40),
        ) {
            let sightings: Vec<Sighting> = raw
                .iter()
                .map(|(n, c, names, at)| seen(
                    &format!("n{n}"),
                    &format!("c{c}"),
                    if *names { Source::Names } else { Source::Calls },
                    *at,
                ))
                .collect();
            let own = own.map(|c| format!("c{c}"));
            let got = related(&sightings, "n0", own.as_deref());
            prop_assert!(got.len() <= 2 * PER_SOURCE);
            let mut unique = got.clone();
            unique.sort();
            unique.dedup();
            prop_assert_eq!(unique.len(), got.len());
            prop_assert!(own.as_ref().is_none_or(|own| !got.contains(own)));
            for case in &got {
                prop_assert!(sightings.iter().any(|s| s.number == "n0" && &s.case_id == case));
            }
        }
    }
}
