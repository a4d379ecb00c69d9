//! The public application to be listed and the curators' library and individual forms,
//! parsed from arbitrary text: a value or named problems, never a panic.
#![no_main]

use atip::directory::individuals::model::IndividualForm;
use atip::directory::model::ApplicationForm;
use atip::library::model::MetadataForm;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\u{1f}').map(str::to_owned);
    let mut next = || parts.next().unwrap_or_default();
    let library = MetadataForm {
        title: next(),
        summary: next(),
        audiences: next(),
        topics: next(),
        languages: next(),
        publisher: next(),
        published_on: next(),
        visibility: next(),
    };
    let _ = library.parse();
    let person = IndividualForm {
        name: next(),
        title: next(),
        bio: next(),
        expertise: next(),
        languages: next(),
        states: next(),
        organization_id: next(),
        email: next(),
        phone: next(),
        preference: next(),
        listed: next(),
    };
    let _ = person.parse(|s| s.len() == 2);
    let application = ApplicationForm {
        name: next(),
        description: next(),
        email: next(),
        website: next(),
        phone: next(),
        city: next(),
        state: next(),
        service_types: next().split(',').map(str::to_owned).collect(),
        languages: next().split(',').map(str::to_owned).collect(),
        agrees_referrals: next().is_empty(),
        agrees_warm_transfers: next().is_empty(),
        references: next(),
    };
    let _ = application.parse(|t| t.len() == 36, |_, _| Some((30.0, -97.0)));
    let _ = atip::directory::hsds::value::escape_formula(text);
});
