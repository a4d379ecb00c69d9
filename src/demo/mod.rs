//! Synthetic demo data, the same for the same seed: organizations placed in real towns
//! from the gazetteer. Never real people: names are made from word lists.

mod library;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use scoped_futures::ScopedFutureExt;

use crate::accounts::model::{Email, NewUser, Phone};
use crate::accounts::service::{self as accounts, AccountError};
use crate::kernel::auth::Role;
use crate::kernel::auth::password::Password;
use crate::kernel::crypto::Crypto;
use crate::kernel::db::Db;
use crate::kernel::places::{self, Place};
use crate::kernel::settings;
use crate::orgs::model::{NewOrganization, OrgId, OrgKind, OrgName, StateCode};
use crate::orgs::service as orgs;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// A few hundred records: enough to try every screen.
    Small,
    /// Thousands of organizations (the directory's 500,000 services arrive with the
    /// directory capability), for benchmarks.
    Large,
}

struct Counts {
    sub_awardees: usize,
    law_enforcement: usize,
}

impl Scale {
    fn counts(self) -> Counts {
        match self {
            Self::Small => Counts {
                sub_awardees: 45,
                law_enforcement: 30,
            },
            Self::Large => Counts {
                sub_awardees: 3_000,
                law_enforcement: 1_500,
            },
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Small => "small",
            Self::Large => "large",
        }
    }
}

/// The program's three national grantees (invented names).
const GRANTEES: [(&str, &str, &str); 3] = [
    ("Harbor Light Survivor Network", "Baltimore", "MD"),
    ("Northstar Freedom Alliance", "Minneapolis", "MN"),
    ("Open Door Services Collaborative", "San Antonio", "TX"),
];
const COALITIONS: usize = 24;
const DEMO_SEED: &str = "demo_seed";
const NGO_FIRST: &[&str] = &[
    "Safe Harbor",
    "New Dawn",
    "Bridgeway",
    "Lighthouse",
    "Haven",
    "Pathways",
    "Open Hands",
    "Restore",
    "Compass",
    "Beacon",
    "Hope Springs",
    "Clear Path",
    "Firm Ground",
    "True North",
    "Kindred",
    "Wayfinder",
];
const NGO_LAST: &[&str] = &[
    "Center",
    "Services",
    "House",
    "Project",
    "Alliance",
    "Outreach",
    "Network",
    "Collective",
];

#[derive(Debug, PartialEq, Eq)]
pub enum Seeded {
    /// The database was empty and now holds the demo data.
    Created { organizations: usize },
    /// The demo data was already there; nothing was added.
    AlreadyThere { seed: String },
}

/// Fills an empty database with demo data for `seed`, or leaves an already seeded
/// one as it is. All of it lands in one transaction or none of it does.
pub async fn seed(db: &Db, crypto: &Crypto, seed: u64, scale: Scale) -> anyhow::Result<Seeded> {
    let marker = format!("{seed}/{}", scale.as_str());
    if let Some(existing) = settings::get(db, DEMO_SEED).await? {
        return Ok(Seeded::AlreadyThere { seed: existing });
    }
    if orgs::count(db).await? > 0 {
        anyhow::bail!(
            "the folder holds a demo that was not filled completely; delete it and run `atip demo` again"
        );
    }
    let organizations = generate(seed, scale);
    let count = organizations.len();
    db.transaction(|tx| orgs::insert_in(tx, &organizations).scope_boxed())
        .await?;
    create_accounts(db, crypto, seed, &organizations).await?;
    seed_directory(db, crypto, seed, scale).await?;
    library::seed(db).await?;
    // Written last: its presence means everything above landed.
    db.transaction(|tx| settings::put(tx, DEMO_SEED, &marker).scope_boxed())
        .await?;
    Ok(Seeded::Created {
        organizations: count,
    })
}

/// A synthetic directory in real towns (the benchmark's generator), loaded through
/// the HSDS import like any partner's data.
async fn seed_directory(db: &Db, crypto: &Crypto, seed: u64, scale: Scale) -> anyhow::Result<()> {
    let services = if scale == Scale::Small {
        2_000
    } else {
        100_000
    };
    let dir = std::env::temp_dir().join(format!("atip-demo-{}", uuid::Uuid::now_v7().simple()));
    let package = dir.clone();
    tokio::task::spawn_blocking(move || crate::bench::generate::write(&package, services, seed))
        .await??;
    let report = crate::directory::service::import(
        db,
        crypto,
        &dir,
        crate::directory::service::ImportOptions::default(),
        &|_, _| {},
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(problem) = report?.errors().next() {
        anyhow::bail!("the demo directory did not import: {problem}");
    }
    Ok(())
}

/// The sign-in email of the demo account for `role`.
pub fn email(role: Role) -> String {
    format!("{}@demo.atip.example", role.id())
}

/// The password of every demo account: derived from the seed, so a second run prints
/// the same one. It is a demo: the password is printed and predictable.
pub fn password(seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let words = [
        "lantern", "harbor", "compass", "meadow", "orchard", "beacon", "canyon", "willow",
        "summit", "river",
    ];
    let pick: Vec<&str> = (0..4)
        .map(|_| words[rng.random_range(0..words.len())])
        .collect();
    format!("{}-{}", pick.join("-"), rng.random_range(100..1000))
}

/// One account per role; organization-scoped roles belong to a demo organization of
/// the matching kind.
async fn create_accounts(
    db: &Db,
    crypto: &Crypto,
    seed: u64,
    organizations: &[(OrgId, NewOrganization)],
) -> Result<(), AccountError> {
    let first_of = |kind: OrgKind| {
        organizations
            .iter()
            .find(|(_, o)| o.kind == kind)
            .map(|(id, _)| *id)
    };
    for role in Role::ALL {
        let organization = match role {
            Role::ProviderCaseManager | Role::ProviderAdmin | Role::RegionalPartner => {
                first_of(OrgKind::SubAwardee)
            }
            Role::GranteeManager => first_of(OrgKind::NationalGrantee),
            Role::LawEnforcementLiaison => first_of(OrgKind::LawEnforcement),
            Role::CoalitionCoordinator => first_of(OrgKind::Coalition),
            Role::BenefitsVerifier => first_of(OrgKind::FederalAgency),
            _ => None,
        };
        let user = NewUser {
            email: Email::parse(&email(role)).map_err(|_| AccountError::UnknownEmail)?,
            display_name: format!("Demo {}", role.id().replace('-', " ")),
            // The demo provider's case manager is on call, so a demo supervisor can
            // break the glass to reach them (a number reserved for fiction).
            phone: (role == Role::ProviderCaseManager)
                .then(|| Phone::parse("+1 202 555 0123").ok())
                .flatten(),
            roles: vec![role],
            organization,
            password: Password::new(password(seed)),
        };
        accounts::create_user(db, crypto, user).await?;
    }
    Ok(())
}

/// The demo organizations for `seed`: the same list every time.
pub fn generate(seed: u64, scale: Scale) -> Vec<(OrgId, NewOrganization)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let places = places::all();
    let counts = scale.counts();
    let mut names = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut push = |out: &mut Vec<(OrgId, NewOrganization)>,
                    rng: &mut ChaCha8Rng,
                    name: String,
                    kind,
                    parent,
                    place: &Place| {
        if !names.insert(name.clone()) {
            return None;
        }
        let (Ok(name), Ok(state)) = (OrgName::parse(&name), StateCode::parse(&place.state)) else {
            return None;
        };
        let id = deterministic_id(rng);
        out.push((id, NewOrganization::at(name, kind, parent, state, place)));
        Some(id)
    };

    let mut grantees = Vec::new();
    for (name, city, state) in GRANTEES {
        let place = places::find(city, state).unwrap_or(&places[0]);
        if let Some(id) = push(
            &mut out,
            &mut rng,
            name.to_owned(),
            OrgKind::NationalGrantee,
            None,
            place,
        ) {
            grantees.push(id);
        }
    }
    if let Some(dc) = places::find("Washington", "DC") {
        push(
            &mut out,
            &mut rng,
            "Federal Anti-Trafficking Office (demo)".to_owned(),
            OrgKind::FederalAgency,
            None,
            dc,
        );
    }
    let mut made = 0;
    while made < counts.sub_awardees {
        let place = &places[rng.random_range(0..places.len())];
        let first = NGO_FIRST[rng.random_range(0..NGO_FIRST.len())];
        let last = NGO_LAST[rng.random_range(0..NGO_LAST.len())];
        let parent = grantees.get(made % grantees.len().max(1)).copied();
        let name = format!("{first} {last} of {}, {}", place.name, place.state);
        if push(&mut out, &mut rng, name, OrgKind::SubAwardee, parent, place).is_some() {
            made += 1;
        }
    }
    made = 0;
    while made < counts.law_enforcement {
        let place = &places[rng.random_range(0..places.len())];
        let name = format!(
            "{} Area Anti-Trafficking Task Force ({})",
            place.name, place.state
        );
        if push(
            &mut out,
            &mut rng,
            name,
            OrgKind::LawEnforcement,
            None,
            place,
        )
        .is_some()
        {
            made += 1;
        }
    }
    // Coalitions sit in the largest places, as Rescue & Restore coalitions did.
    let mut largest: Vec<&Place> = places.iter().collect();
    largest.sort_by_key(|p| std::cmp::Reverse(p.population));
    for place in largest.into_iter().take(COALITIONS) {
        let name = format!(
            "Rescue & Restore Coalition of {}, {}",
            place.name, place.state
        );
        push(&mut out, &mut rng, name, OrgKind::Coalition, None, place);
    }
    out
}

/// An id drawn from the seeded generator, so the same seed gives the same ids (links
/// in demo walkthroughs keep working).
fn deterministic_id(rng: &mut ChaCha8Rng) -> OrgId {
    OrgId::from_uuid(uuid::Builder::from_random_bytes(rng.random()).into_uuid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_data() {
        let a = generate(7, Scale::Small);
        let b = generate(7, Scale::Small);
        assert_eq!(a.len(), b.len());
        for ((ia, oa), (ib, ob)) in a.iter().zip(&b) {
            assert_eq!(ia, ib);
            assert_eq!(oa.name, ob.name);
        }
        let c = generate(8, Scale::Small);
        assert_ne!(a[10].1.name, c[10].1.name);
    }

    #[test]
    fn every_kind_is_present_and_towns_are_real() {
        let orgs = generate(1, Scale::Small);
        for kind in OrgKind::ALL {
            assert!(orgs.iter().any(|(_, o)| o.kind == kind), "{kind:?}");
        }
        for (_, org) in &orgs {
            assert!(
                places::find(&org.city, org.state.as_str()).is_some(),
                "{}",
                org.city
            );
            org.check().unwrap();
        }
        assert_eq!(
            orgs.iter()
                .filter(|(_, o)| o.kind == OrgKind::NationalGrantee)
                .count(),
            3
        );
        assert_eq!(
            orgs.iter()
                .filter(|(_, o)| o.kind == OrgKind::Coalition)
                .count(),
            24
        );
    }
}
