//! Open Referral HSDS 3.0: its tables, values, nested JSON and tabular files.

pub mod check;
pub mod dataset;
pub mod nest;
pub mod tables;
pub mod tabular;
pub mod value;
