//! The large synthetic directory: services at locations in real towns (the gazetteer,
//! weighted by population), written as an HSDS datapackage so the benchmark imports
//! it through the same path as users do. Seeded: the same seed gives the same files.

use std::fs;
use std::io;
use std::path::Path;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::directory::taxonomy;
use crate::kernel::places;

/// Words that name services; none is within one typo of another, so typo tolerance
/// does not blur the comparison with engines that have none.
pub const SERVICE_WORDS: [&str; 16] = [
    "shelter",
    "legal",
    "housing",
    "counseling",
    "medical",
    "employment",
    "transport",
    "food",
    "interpreter",
    "hotline",
    "advocacy",
    "education",
    "clinic",
    "recovery",
    "training",
    "childcare",
];

const ORG_WORDS: [&str; 12] = [
    "Harbor", "Beacon", "Bridge", "Compass", "Haven", "Lantern", "Anchor", "Summit", "Horizon",
    "Meadow", "Cedar", "Willow",
];

const LANGUAGES: [&str; 8] = ["en", "es", "zh", "vi", "ko", "tl", "ru", "ar"];

fn uuid(rng: &mut ChaCha8Rng) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .to_string()
}

/// Picks a town with probability proportional to its population.
struct Towns {
    cumulative: Vec<u64>,
}

impl Towns {
    fn new() -> Self {
        let mut total = 0u64;
        let cumulative = places::all()
            .iter()
            .map(|p| {
                total += u64::from(p.population);
                total
            })
            .collect();
        Self { cumulative }
    }

    fn pick(&self, rng: &mut ChaCha8Rng) -> &'static places::Place {
        let total = self.cumulative.last().copied().unwrap_or(1);
        let x = rng.random_range(0..total);
        let i = self.cumulative.partition_point(|&c| c <= x);
        &places::all()[i.min(places::all().len() - 1)]
    }
}

type Writer = csv::Writer<io::BufWriter<fs::File>>;

fn writer(dir: &Path, name: &str, header: &[&str]) -> io::Result<Writer> {
    let mut w = csv::Writer::from_writer(io::BufWriter::new(fs::File::create(dir.join(name))?));
    w.write_record(header)?;
    Ok(w)
}

/// Organizations, each with three locations (usually in its own town), and their
/// addresses. Returns each organization's id and location ids.
fn organizations(
    dir: &Path,
    count: usize,
    rng: &mut ChaCha8Rng,
) -> io::Result<Vec<(String, Vec<String>)>> {
    let towns = Towns::new();
    let mut orgs = writer(dir, "organizations.csv", &["id", "name", "description"])?;
    let mut locs = writer(
        dir,
        "locations.csv",
        &[
            "id",
            "location_type",
            "organization_id",
            "name",
            "latitude",
            "longitude",
        ],
    )?;
    let mut addrs = writer(
        dir,
        "addresses.csv",
        &[
            "id",
            "location_id",
            "address_1",
            "city",
            "state_province",
            "postal_code",
            "country",
            "address_type",
        ],
    )?;
    let mut out = Vec::with_capacity(count);
    for n in 0..count {
        let id = uuid(rng);
        let town = towns.pick(rng);
        let name = format!(
            "{} {} Alliance {n}",
            ORG_WORDS[rng.random_range(0..ORG_WORDS.len())],
            town.name
        );
        orgs.write_record([
            id.as_str(),
            &name,
            "A synthetic organization for the benchmark.",
        ])?;
        let mut mine = Vec::new();
        for _ in 0..3 {
            let lid = uuid(rng);
            let place = if rng.random_range(0..3) == 0 {
                towns.pick(rng)
            } else {
                town
            };
            let lat = place.latitude + rng.random_range(-0.05..0.05);
            let lng = place.longitude + rng.random_range(-0.05..0.05);
            locs.write_record([
                lid.as_str(),
                "physical",
                &id,
                &format!("{} office", place.name),
                &format!("{lat:.5}"),
                &format!("{lng:.5}"),
            ])?;
            addrs.write_record([
                &uuid(rng),
                lid.as_str(),
                "1 Main St",
                &place.name,
                &place.state,
                "00000",
                "US",
                "physical",
            ])?;
            mine.push(lid);
        }
        out.push((id, mine));
    }
    for w in [&mut orgs, &mut locs, &mut addrs] {
        w.flush()?;
    }
    Ok(out)
}

/// Writes `services` services of `services / 5` organizations at about
/// `services * 3 / 5` locations into `dir`.
pub fn write(dir: &Path, services: usize, seed: u64) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let terms: Vec<&taxonomy::Term> = taxonomy::terms()
        .iter()
        .filter(|t| {
            t.taxonomy == "service-type" || t.taxonomy == "population" || t.taxonomy == "feature"
        })
        .collect();
    let orgs = organizations(dir, (services / 5).max(1), &mut rng)?;
    let mut svcs = writer(
        dir,
        "services.csv",
        &[
            "id",
            "organization_id",
            "name",
            "description",
            "status",
            "minimum_age",
            "maximum_age",
        ],
    )?;
    let mut sals = writer(
        dir,
        "service_at_location.csv",
        &["id", "service_id", "location_id"],
    )?;
    let mut attrs = writer(
        dir,
        "attributes.csv",
        &["id", "link_id", "taxonomy_term_id", "link_entity"],
    )?;
    let mut langs = writer(dir, "languages.csv", &["id", "service_id", "code"])?;
    let mut scheds = writer(
        dir,
        "schedules.csv",
        &["id", "service_id", "freq", "byday", "opens_at", "closes_at"],
    )?;
    for n in 0..services {
        let (org, locations) = &orgs[n % orgs.len()];
        let sid = uuid(&mut rng);
        let word = SERVICE_WORDS[rng.random_range(0..SERVICE_WORDS.len())];
        let other = SERVICE_WORDS[rng.random_range(0..SERVICE_WORDS.len())];
        let (min_age, max_age) =
            [("18", ""), ("", "17"), ("12", "24"), ("", "")][rng.random_range(0..4)];
        svcs.write_record([
            sid.as_str(),
            org,
            &format!("{word} program {n}"),
            &format!("Offers {word} and {other} for survivors of trafficking."),
            "active",
            min_age,
            max_age,
        ])?;
        let location = &locations[rng.random_range(0..locations.len())];
        sals.write_record([uuid(&mut rng).as_str(), &sid, location])?;
        for _ in 0..rng.random_range(1..4) {
            let term = &terms[rng.random_range(0..terms.len())];
            attrs.write_record([uuid(&mut rng).as_str(), &sid, &term.id, "service"])?;
        }
        for _ in 0..rng.random_range(1..3) {
            let code = LANGUAGES[rng.random_range(0..LANGUAGES.len())];
            langs.write_record([uuid(&mut rng).as_str(), &sid, code])?;
        }
        let (days, open, close) = [
            ("MO,TU,WE,TH,FR,SA,SU", "00:00", "23:59"),
            ("MO,TU,WE,TH,FR", "09:00", "17:00"),
            ("MO,WE,FR", "10:00", "18:00"),
            ("SA,SU", "08:00", "20:00"),
        ][rng.random_range(0..4)];
        scheds.write_record([uuid(&mut rng).as_str(), &sid, "WEEKLY", days, open, close])?;
    }
    for w in [&mut svcs, &mut sals, &mut attrs, &mut langs, &mut scheds] {
        w.flush()?;
    }
    Ok(())
}
