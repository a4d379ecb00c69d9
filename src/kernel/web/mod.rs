//! The web kernel: request context, errors, layout, assets, middleware, extractors.

pub mod assets;
pub mod context;
pub mod error;
pub mod extract;
pub mod limit;
pub mod metrics;
pub mod page;
pub mod security;

pub use error::{ApiError, HtmlError};
pub use page::Shell;
