//! The OpenAPI document and a browsable page made from it.

pub mod routes;
