//! What every page's layout needs: language, translations, the language switch, the
//! quick-exit target and the hotline numbers.

use std::sync::Arc;

use super::context::{self, SiteInfo};
use crate::kernel::i18n::{Lang, Tr};

#[derive(Clone, Debug)]
pub struct Shell {
    pub tr: Tr,
    pub lang: Lang,
    pub path: String,
    pub site: Arc<SiteInfo>,
}

impl Shell {
    /// The layout for the request being handled.
    pub fn current() -> Self {
        let ctx = context::current();
        Self {
            tr: Tr(ctx.lang),
            lang: ctx.lang,
            path: ctx.path,
            site: ctx.site,
        }
    }

    /// The same page in the other language (works without JavaScript).
    pub fn switch_href(&self) -> String {
        format!("{}?lang={}", self.path, self.lang.other().code())
    }

    pub fn switch_label(&self) -> String {
        self.tr.t("lang-switch")
    }

    pub fn other_lang(&self) -> &'static str {
        self.lang.other().code()
    }
}
