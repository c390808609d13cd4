//! [`Report`]: the mistakes and warnings found in a config file, located by line and
//! column from byte spans.

use std::ops::Range;
use std::path::Path;

use super::Located;

/// Turns byte offsets into line and column, and collects mistakes.
pub(super) struct Report<'a> {
    pub(super) file: &'a Path,
    pub(super) text: &'a str,
    pub(super) errors: Vec<Located>,
    pub(super) warnings: Vec<Located>,
}

impl Report<'_> {
    pub(super) fn locate(
        &self,
        span: Range<usize>,
        field: &str,
        what: impl Into<String>,
    ) -> Located {
        let start = span.start.min(self.text.len());
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let column = before.rfind('\n').map_or(start, |n| start - n - 1) + 1;
        Located {
            file: self.file.to_path_buf(),
            line,
            column,
            field: field.to_string(),
            what: what.into(),
        }
    }

    /// A mistake: the file is refused.
    pub(super) fn at(&mut self, span: Range<usize>, field: &str, what: impl Into<String>) {
        let e = self.locate(span, field, what);
        self.errors.push(e);
    }

    /// Something that works but is likely not what was meant: reported, not refused.
    pub(super) fn warn(&mut self, span: Range<usize>, field: &str, what: impl Into<String>) {
        let w = self.locate(span, field, what);
        self.warnings.push(w);
    }

    /// The key assigned on the line where `span` starts, for errors toml reports by value.
    pub(super) fn key_at(&self, span: &Range<usize>) -> String {
        let start = span.start.min(self.text.len());
        let line_start = self.text[..start].rfind('\n').map_or(0, |n| n + 1);
        let line = self.text[line_start..].lines().next().unwrap_or("");
        match line.split_once('=') {
            Some((k, _)) if !k.trim().starts_with('[') => k.trim().to_string(),
            _ => String::new(),
        }
    }
}

impl Report<'_> {
    /// A mistake toml or serde found (the text unreadable as TOML, an unknown key, a value
    /// of the wrong type), located where toml says, with a suggestion for a key that is
    /// near a known one.
    pub(super) fn toml_error(&mut self, e: &toml::de::Error) {
        let span = e.span().unwrap_or(0..0);
        let field = self.key_at(&span);
        let mut what = e.message().trim_end().to_string();
        if let Some(hint) = did_you_mean(&what) {
            what = format!("{what}; did you mean `{hint}`?");
        }
        self.at(span, &field, what);
    }

    /// The mistakes, in file order.
    pub(super) fn into_error(mut self) -> super::ConfigFileError {
        self.errors.sort_by_key(|e| (e.line, e.column));
        super::ConfigFileError {
            errors: self.errors,
        }
    }

    /// The warnings, in file order.
    pub(super) fn into_warnings(mut self) -> Vec<Located> {
        self.warnings.sort_by_key(|e| (e.line, e.column));
        self.warnings
    }
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (or "expected `a` or `b`"),
/// the expected name nearest to `x`, when it is near enough to be what was meant: as
/// cargo does, within a third of the name's length in edits (at least one).
fn did_you_mean(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, expected) = rest.split_once('`')?;
    let names = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|n| !n.is_empty());
    let limit = (unknown.chars().count() / 3).max(1);
    names
        .map(|n| (strsim::levenshtein(unknown, n), n))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n.to_string())
}

/// `; did you mean "x"?` for the name in `names` nearest to `name`, when near enough.
pub(super) fn suggestion<'a>(name: &str, names: impl Iterator<Item = &'a str>) -> String {
    let limit = (name.chars().count() / 3).max(1);
    names
        .map(|n| (strsim::levenshtein(name, n), n))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| format!("; did you mean {n:?}?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn near_misses_get_a_suggestion() {
        let m = "unknown field `interface`, expected one of `interfaces`, `journal`, `store`";
        assert_eq!(did_you_mean(m).as_deref(), Some("interfaces"));
        let m = "unknown field `dns_server`, expected one of `routers`, `dns_servers`";
        assert_eq!(did_you_mean(m).as_deref(), Some("dns_servers"));
        let m = "unknown field `bogus`, expected `url` or `name`";
        assert_eq!(did_you_mean(m), None);
        assert_eq!(did_you_mean("invalid type: string"), None);
    }
}
