//! Problems found in a velos.toml, each pinned to `file:line:column`, and their rendering:
//!
//! ```text
//! error: unknown key `comand` in [apps.web]
//!   --> deploy/velos.toml:4:1
//!    |
//!  4 | comand = "/bin/sleep"
//!    | ^^^^^^
//!    = help: did you mean `command`?
//! ```
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem at one place in a file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    /// The file as the caller named it (shown as is, so relative paths stay short).
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// How many characters to underline (at least 1, at most to the end of the line).
    pub span_len: usize,
    pub message: String,
    pub help: Option<String>,
    /// The text of `line`, without its line break, so the diagnostic renders without the source.
    pub source_line: String,
}

impl Diagnostic {
    /// `file:line:column: message`, the one-line form (editors and CI annotations parse it).
    pub fn short(&self) -> String {
        format!("{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)
    }

    /// The multi-line form with the source line and a caret (see the module documentation).
    pub fn render(&self) -> String {
        let number = self.line.to_string();
        let gutter = " ".repeat(number.len() + 1);
        let mut out = String::new();
        let _ = writeln!(out, "error: {}", self.message);
        let _ = writeln!(out, "{gutter}--> {}:{}:{}", self.file.display(), self.line, self.column);
        let _ = writeln!(out, "{gutter} |");
        let line = self.source_line.replace('\t', " ");
        let _ = writeln!(out, " {number} | {line}");
        let indent = " ".repeat(self.column.saturating_sub(1));
        let _ = writeln!(out, "{gutter} | {indent}{}", "^".repeat(self.span_len.max(1)));
        if let Some(help) = &self.help {
            let _ = writeln!(out, "{gutter} = help: {help}");
        }
        out
    }
}

/// Everything that can go wrong while reading, validating or editing a velos.toml.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read (or, for an edit, its target directory inspected).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid velos.toml; every problem found, in file order.
    #[error("{}", summary(file, diagnostics))]
    Invalid { file: PathBuf, diagnostics: Vec<Diagnostic> },
    /// An edit names an app the file does not declare.
    #[error("{}: no app named `{app}`", file.display())]
    UnknownApp { file: PathBuf, app: String, suggestion: Option<String> },
    /// `AddApp` for a name the file already declares.
    #[error("{}: an app named `{app}` already exists", file.display())]
    AppExists { file: PathBuf, app: String },
    /// An edit that cannot be expressed on this document (bad key path, a value where a table is needed).
    #[error("{}: cannot edit `{app}`: {reason}", file.display())]
    BadEdit { file: PathBuf, app: String, reason: String },
    /// A patch that cannot be applied to this document (not an object, a null in an array, a number TOML
    /// cannot hold, a key below a value that is not a table).
    #[error("{}: cannot apply the patch: {reason}", file.display())]
    BadPatch { file: PathBuf, reason: String },
}

fn summary(file: &Path, diagnostics: &[Diagnostic]) -> String {
    match diagnostics {
        [] => format!("{}: invalid configuration", file.display()),
        [only] => only.short(),
        [first, rest @ ..] => format!("{} (and {} more)", first.short(), rest.len()),
    }
}

impl ConfigError {
    /// The diagnostics of an [`ConfigError::Invalid`], empty for the other variants.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ConfigError::Invalid { diagnostics, .. } => diagnostics,
            _ => &[],
        }
    }

    /// Human-readable, multi-line: what the CLI prints on stderr.
    pub fn render(&self) -> String {
        match self {
            ConfigError::Invalid { file, diagnostics } => {
                let mut out = diagnostics.iter().map(Diagnostic::render).collect::<Vec<_>>().join("\n");
                if diagnostics.len() > 1 {
                    let _ = writeln!(out, "\nerror: {} problems in {}", diagnostics.len(), file.display());
                }
                out
            }
            ConfigError::UnknownApp { suggestion, .. } => {
                let mut out = format!("error: {self}\n");
                if let Some(suggestion) = suggestion {
                    let _ = writeln!(out, "  = help: did you mean `{suggestion}`?");
                }
                out
            }
            ConfigError::Read { .. }
            | ConfigError::AppExists { .. }
            | ConfigError::BadEdit { .. }
            | ConfigError::BadPatch { .. } => {
                format!("error: {self}\n")
            }
        }
    }
}

/// Turns byte spans of one source text into [`Diagnostic`]s.
pub(crate) struct SourceMap<'a> {
    file: &'a Path,
    source: &'a str,
    /// Byte offset where each line starts.
    line_starts: Vec<usize>,
}

impl<'a> SourceMap<'a> {
    pub(crate) fn new(file: &'a Path, source: &'a str) -> Self {
        let line_starts =
            std::iter::once(0).chain(source.match_indices('\n').map(|(index, _)| index + 1)).collect();
        SourceMap { file, source, line_starts }
    }

    /// The source text of `span` (empty when out of range).
    pub(crate) fn text(&self, span: Range<usize>) -> &'a str {
        self.source.get(span).unwrap_or_default()
    }

    pub(crate) fn diagnostic(&self, span: Range<usize>, message: String, help: Option<String>) -> Diagnostic {
        let start = floor_char_boundary(self.source, span.start.min(self.source.len()));
        let end = floor_char_boundary(self.source, span.end.clamp(start, self.source.len()));
        let line_index = self.line_starts.partition_point(|&line_start| line_start <= start) - 1;
        let line_start = self.line_starts[line_index];
        let line_end =
            self.source[line_start..].find('\n').map_or(self.source.len(), |index| line_start + index);
        let source_line = self.source[line_start..line_end].trim_end_matches('\r').to_string();
        let column = self.source[line_start..start].chars().count() + 1;
        let underlined = self.source[start..end.min(line_end)].chars().count();
        Diagnostic {
            file: self.file.to_path_buf(),
            line: line_index + 1,
            column,
            span_len: underlined.max(1),
            message,
            help,
            source_line,
        }
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// The closest of `candidates` to `word`, if it is close enough to be what the user meant.
pub(crate) fn did_you_mean<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<String> {
    let lowered = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            let distance = strsim::damerau_levenshtein(&lowered, &candidate.to_ascii_lowercase());
            let similarity = strsim::jaro_winkler(&lowered, &candidate.to_ascii_lowercase());
            (candidate, distance, similarity)
        })
        .filter(|&(candidate, distance, similarity)| {
            distance <= 2.max(candidate.len() / 4) || similarity >= 0.88
        })
        .min_by(|a, b| a.1.cmp(&b.1).then(b.2.total_cmp(&a.2)))
        .map(|(candidate, _, _)| candidate.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let source = "a = 1\nname = \"é\" # x\n";
        let map = SourceMap::new(Path::new("v.toml"), source);
        let string = map.diagnostic(13..17, "m".into(), None);
        assert_eq!((string.line, string.column, string.span_len), (2, 8, 3));
        let diagnostic = map.diagnostic(18..21, "m".into(), None);
        assert_eq!((diagnostic.line, diagnostic.column, diagnostic.span_len), (2, 12, 3));
        assert_eq!(diagnostic.source_line, "name = \"é\" # x");
        let first = map.diagnostic(0..1, "m".into(), None);
        assert_eq!((first.line, first.column), (1, 1));
    }

    #[test]
    fn spans_past_the_end_or_across_lines_are_clamped() {
        let source = "a = [\n1]";
        let map = SourceMap::new(Path::new("v.toml"), source);
        let across = map.diagnostic(4..8, "m".into(), None);
        assert_eq!((across.line, across.column, across.span_len), (1, 5, 1));
        let past = map.diagnostic(100..200, "m".into(), None);
        assert_eq!((past.line, past.column, past.span_len), (2, 3, 1));
        let empty = SourceMap::new(Path::new("v.toml"), "").diagnostic(0..0, "m".into(), None);
        assert_eq!((empty.line, empty.column, empty.source_line.as_str()), (1, 1, ""));
    }

    #[test]
    fn render_matches_the_documented_layout() {
        let map = SourceMap::new(Path::new("deploy/velos.toml"), "[apps.web]\n\n\ncomand = \"/bin/sleep\"\n");
        let diagnostic = map.diagnostic(
            13..19,
            "unknown key `comand` in [apps.web]".into(),
            Some("did you mean `command`?".into()),
        );
        assert_eq!(
            diagnostic.render(),
            "error: unknown key `comand` in [apps.web]\n  --> deploy/velos.toml:4:1\n   |\n 4 | comand = \"/bin/sleep\"\n   | ^^^^^^\n   = help: did you mean `command`?\n"
        );
    }

    #[test]
    fn suggestions_are_close_or_absent() {
        let keys = ["command", "args", "cwd", "env", "depends_on", "kill_timeout"];
        assert_eq!(did_you_mean("comand", keys).as_deref(), Some("command"));
        assert_eq!(did_you_mean("dependson", keys).as_deref(), Some("depends_on"));
        assert_eq!(did_you_mean("Env", keys).as_deref(), Some("env"));
        assert_eq!(did_you_mean("killtimeout", keys).as_deref(), Some("kill_timeout"));
        assert_eq!(did_you_mean("zzzzzz", keys), None);
        assert_eq!(did_you_mean("port", keys), None);
    }
}
