//! An uploaded library file: sniffed, then its text extracted as every kind.
#![no_main]

use atip::library::extract;
use atip::library::model::{Content, Kind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Content::File { kind, bytes, .. }) = Content::file("upload", data.to_vec()) {
        let _ = extract::text(kind, &bytes);
    }
    // Every reader, whatever the bytes claim to be.
    for kind in [Kind::Pdf, Kind::Html, Kind::Text] {
        let _ = extract::text(kind, data);
    }
});
