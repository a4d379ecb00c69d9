//! Organizations taking part in the program: the national grantees, their sub-awardee
//! NGOs, law-enforcement agencies, coalitions and federal offices. They are the tenants
//! that scope provider data in later capabilities.

pub mod model;
pub mod pages;
pub mod routes;
pub mod service;
mod store;
