//! English and French, with Project Fluent (`fluent-bundle`): the messages are in
//! `i18n/en.ftl` and `i18n/fr.ftl`, compiled into the binary. The language is the owner's
//! choice (the `lang` cookie, set by the switch on every page) or else the best match of the
//! browser's `Accept-Language` (`fluent-langneg`); English when neither says.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::{langid, LanguageIdentifier};

/// A language the dashboard speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// French (Quebec usage).
    Fr,
}

impl Lang {
    /// The code used in `lang` attributes, cookies and links.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// `en` or `fr` (anything else: `None`).
    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            _ => None,
        }
    }

    /// The owner's choice (`cookie`), else the best match of `Accept-Language`, else English.
    pub fn choose(cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(l) = cookie.and_then(Lang::from_code) {
            return l;
        }
        let requested = fluent_langneg::accepted_languages::parse(accept_language.unwrap_or(""));
        let available = [langid!("en"), langid!("fr")];
        let default = langid!("en");
        let chosen = fluent_langneg::negotiate_languages(
            &requested,
            &available,
            Some(&default),
            fluent_langneg::NegotiationStrategy::Lookup,
        );
        match chosen.first().map(|l| l.language.as_str()) {
            Some("fr") => Lang::Fr,
            _ => Lang::En,
        }
    }
}

/// Both languages' messages.
pub struct Texts {
    en: FluentBundle<FluentResource>,
    fr: FluentBundle<FluentResource>,
}

fn bundle(id: LanguageIdentifier, source: &str) -> FluentBundle<FluentResource> {
    let resource = FluentResource::try_new(source.to_string())
        .unwrap_or_else(|(_, errors)| panic!("{id}.ftl does not parse: {errors:?}"));
    let mut b = FluentBundle::new_concurrent(vec![id.clone()]);
    // Plain text in HTML: no Unicode isolation marks around arguments.
    b.set_use_isolating(false);
    b.add_resource(resource)
        .unwrap_or_else(|errors| panic!("{id}.ftl: {errors:?}"));
    b
}

impl Default for Texts {
    fn default() -> Self {
        Texts::new()
    }
}

impl Texts {
    /// The compiled-in messages. (A message file that does not parse is a bug caught by the
    /// tests, which also check both files hold the same messages.)
    pub fn new() -> Texts {
        Texts {
            en: bundle(langid!("en"), include_str!("../i18n/en.ftl")),
            fr: bundle(langid!("fr-CA"), include_str!("../i18n/fr.ftl")),
        }
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        match lang {
            Lang::En => &self.en,
            Lang::Fr => &self.fr,
        }
    }

    /// Message `id` without arguments.
    pub fn get(&self, lang: Lang, id: &str) -> String {
        self.format(lang, id, &[])
    }

    /// Message `id` with its arguments (strings or numbers).
    pub fn format(&self, lang: Lang, id: &str, args: &[(&str, Arg)]) -> String {
        let b = self.bundle(lang);
        let Some(pattern) = b.get_message(id).and_then(|m| m.value()) else {
            return id.to_string();
        };
        let mut fa = FluentArgs::new();
        for (k, v) in args {
            match v {
                Arg::Str(s) => fa.set(*k, FluentValue::from(s.clone())),
                Arg::Num(n) => fa.set(*k, FluentValue::from(*n)),
            }
        }
        let mut errors = vec![];
        b.format_pattern(pattern, Some(&fa), &mut errors)
            .into_owned()
    }

    /// Whether `id` exists in both languages.
    pub fn has(&self, id: &str) -> bool {
        self.en.has_message(id) && self.fr.has_message(id)
    }

    /// Every message id of one language's file, for the test that both files say the same.
    pub fn ids(lang: Lang) -> Vec<String> {
        let src = match lang {
            Lang::En => include_str!("../i18n/en.ftl"),
            Lang::Fr => include_str!("../i18n/fr.ftl"),
        };
        src.lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim().to_string()))
            .collect()
    }
}

/// A message argument.
#[derive(Clone, Debug)]
pub enum Arg {
    /// Text.
    Str(String),
    /// A number (chooses plural forms).
    Num(i64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Str(s.to_string())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Str(s)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Arg::Num(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_hold_the_same_messages_and_every_one_formats() {
        let en = Texts::ids(Lang::En);
        let fr = Texts::ids(Lang::Fr);
        assert!(en.len() > 100, "{} messages", en.len());
        assert_eq!(
            en, fr,
            "en.ftl and fr.ftl must list the same messages in the same order"
        );
        let t = Texts::new();
        for id in &en {
            assert!(t.has(id), "{id}");
            let e = t.get(Lang::En, id);
            let f = t.get(Lang::Fr, id);
            assert!(!e.is_empty() && !f.is_empty(), "{id}");
        }
        // Plural forms are chosen by number.
        let one = t.format(Lang::Fr, "device-evidence", &[("count", 1.into())]);
        let many = t.format(Lang::Fr, "device-evidence", &[("count", 5.into())]);
        assert_eq!(one, "1 paquet conservé comme preuve");
        assert_eq!(many, "5 paquets conservés comme preuve");
    }

    #[test]
    fn the_owner_choice_wins_then_the_browser_then_english() {
        assert_eq!(
            Lang::choose(None, Some("fr-CA,fr;q=0.9,en;q=0.8")),
            Lang::Fr
        );
        assert_eq!(Lang::choose(None, Some("en-CA,fr;q=0.5")), Lang::En);
        assert_eq!(Lang::choose(None, Some("de-DE,fr;q=0.5")), Lang::Fr);
        assert_eq!(Lang::choose(None, Some("de-DE")), Lang::En);
        assert_eq!(Lang::choose(None, None), Lang::En);
        assert_eq!(Lang::choose(Some("en"), Some("fr-CA")), Lang::En);
        assert_eq!(Lang::choose(Some("xx"), Some("fr-CA")), Lang::Fr);
    }
}
