//! The offline gazetteer: U.S. places of 5,000 or more people, from GeoNames (CC BY 4.0),
//! compiled into the binary (data/us-places.csv).

use std::sync::LazyLock;

#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct Place {
    pub geonameid: u32,
    pub name: String,
    pub state: String,
    pub latitude: f64,
    pub longitude: f64,
    pub population: u32,
    pub timezone: String,
}

static PLACES: LazyLock<Vec<Place>> = LazyLock::new(|| {
    let mut reader = csv::Reader::from_reader(include_str!("../../data/us-places.csv").as_bytes());
    // The file is part of the binary and a test reads all of it.
    #[allow(clippy::expect_used)]
    reader
        .deserialize()
        .collect::<Result<Vec<Place>, _>>()
        .expect("data/us-places.csv parses")
});

/// Every place, in file order (by state, then name).
pub fn all() -> &'static [Place] {
    &PLACES
}

/// The place called `name` in `state`, ignoring case.
pub fn find(name: &str, state: &str) -> Option<&'static Place> {
    PLACES
        .iter()
        .find(|p| p.state.eq_ignore_ascii_case(state) && p.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gazetteer_has_every_state_and_dc() {
        let states: std::collections::BTreeSet<_> =
            all().iter().map(|p| p.state.as_str()).collect();
        assert_eq!(states.len(), 51, "{states:?}");
        assert!(all().len() > 7000);
    }

    #[test]
    fn places_are_found_by_name_and_state() {
        let anchorage = find("anchorage", "ak").unwrap();
        assert!((anchorage.latitude - 61.2).abs() < 0.1);
    }
}
