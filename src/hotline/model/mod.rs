//! The hotline's rules, without I/O.

pub mod contact;
