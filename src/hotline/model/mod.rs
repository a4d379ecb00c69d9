//! The hotline's rules, without I/O: a contact as sent, the crisis checklist, the screening questionnaire and
//! its suggested indicator level, the consent rule for reports to authorities, and
//! shift coverage.

pub mod assistance;
pub mod case;
pub mod chat;
pub mod consent;
pub mod contact;
pub mod coverage;
pub mod crisis;
pub mod identifier;
pub mod referral;
pub mod related;
pub mod screening;
pub mod voice;
