//! atip: software for anti-trafficking-in-persons programs. See DESIGN in docs/.

pub mod accounts;
pub mod admin;
pub mod apidocs;
pub mod app;
pub mod bench;
pub mod cli;
pub mod demo;
pub mod directory;
pub mod hotline;
pub mod kernel;
pub mod library;
pub mod ops;
pub mod orgs;
pub mod site;
