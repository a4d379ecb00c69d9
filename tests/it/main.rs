//! End-to-end tests through the real server and the real binary. One test binary with
//! modules keeps link time down.

// Tests may unwrap and panic: a failure is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::missing_panics_doc,
    // A user journey reads best as one long test.
    clippy::too_many_lines
)]

mod helpers;

mod accounts;
mod admin;
mod api;
mod assistance;
mod audit;
mod authz;
mod browser;
mod cases;
mod chat;
mod cli;
mod coverage;
mod directory;
mod hotline;
mod hotline_pages;
mod individuals;
mod jobs;
mod library;
mod mfa;
mod ops;
mod privacy;
mod storage;
mod tokens;
mod voice;
mod web;
