//! Individuals in the directory: attorneys, trainers, researchers, survivor leaders,
//! interpreters. HSDS has no such object: atip keeps its own, publishes them in its
//! own API, and exports them as HSDS `contact` objects with `x_` extension fields
//! (which the official schemas accept).

pub mod model;
pub mod routes;
pub mod service;
mod store;
