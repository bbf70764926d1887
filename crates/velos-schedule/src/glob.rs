//! Ignore patterns for `watch.ignore`, read the way `.gitignore` is:
//!
//! - a pattern without a `/` (`*.log`, `node_modules`) matches a file or folder name at any depth;
//! - a pattern with a `/` (`build/*.js`, `src/**/gen`) matches the path relative to the app's `cwd`;
//! - a folder that matches hides everything under it; a trailing `/` is allowed and ignored.
//!
//! `*` matches within a name, `**` across folders (`**/` also matches no folder at all), `?` one
//! character, `[abc]`, `[a-z]` and `[!a-z]` one character of (or not of) a set. Matching is a table over
//! pattern × text positions, so its cost is bounded by their lengths whatever the pattern.
use std::path::Path;

/// One character class item: a single character or an inclusive range.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ClassItem {
    One(char),
    Range(char, char),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    /// `?`
    One,
    /// `*`: any run of characters but `/`.
    Star,
    /// `**` not followed by `/`: anything.
    Stars,
    /// `**/`: nothing, or anything ending with `/`.
    StarsSlash,
    Class {
        items: Vec<ClassItem>,
        negated: bool,
    },
}

/// A compiled glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    text: String,
    tokens: Vec<Token>,
}

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    #[error("the pattern is empty")]
    Empty,
    #[error("`[` opens a character class that is never closed")]
    UnclosedClass,
}

impl Glob {
    pub fn new(text: &str) -> Result<Glob, GlobError> {
        if text.is_empty() {
            return Err(GlobError::Empty);
        }
        let characters: Vec<char> = text.chars().collect();
        let mut tokens = Vec::new();
        let mut index = 0;
        while index < characters.len() {
            let character = characters[index];
            index += 1;
            match character {
                '*' if characters.get(index) == Some(&'*') => {
                    index += 1;
                    if characters.get(index) == Some(&'/') {
                        index += 1;
                        tokens.push(Token::StarsSlash);
                    } else {
                        tokens.push(Token::Stars);
                    }
                }
                '*' => tokens.push(Token::Star),
                '?' => tokens.push(Token::One),
                '[' => {
                    let (token, next) = class(&characters, index)?;
                    tokens.push(token);
                    index = next;
                }
                '\\' if index < characters.len() => {
                    tokens.push(Token::Literal(characters[index]));
                    index += 1;
                }
                other => tokens.push(Token::Literal(other)),
            }
        }
        Ok(Glob { text: text.to_string(), tokens })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the whole of `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let columns = text.len();
        // next[j]: tokens[i + 1..] match text[j..]; row[j]: tokens[i..] match text[j..].
        let mut next = vec![false; columns + 1];
        next[columns] = true;
        for token in self.tokens.iter().rev() {
            let mut row = vec![false; columns + 1];
            let mut after_slash = false; // StarsSlash: some k > j with text[k - 1] == '/' and next[k]
            for j in (0..=columns).rev() {
                let here = text.get(j).copied();
                row[j] = match token {
                    Token::Literal(literal) => here == Some(*literal) && next[j + 1],
                    Token::One => here.is_some_and(|c| c != '/') && next[j + 1],
                    Token::Class { items, negated } => {
                        here.is_some_and(|c| c != '/' && class_contains(items, c) != *negated) && next[j + 1]
                    }
                    Token::Star => next[j] || (here.is_some_and(|c| c != '/') && row[j + 1]),
                    Token::Stars => next[j] || (here.is_some() && row[j + 1]),
                    Token::StarsSlash => {
                        if here == Some('/') && next[j + 1] {
                            after_slash = true;
                        }
                        next[j] || after_slash
                    }
                };
            }
            next = row;
        }
        next[0]
    }
}

fn class(characters: &[char], start: usize) -> Result<(Token, usize), GlobError> {
    let mut index = start;
    let negated = matches!(characters.get(index), Some('!' | '^'));
    if negated {
        index += 1;
    }
    let mut items = Vec::new();
    // A `]` right after the opening (or its `!`) is a member, not the end.
    let mut first = true;
    loop {
        let character = *characters.get(index).ok_or(GlobError::UnclosedClass)?;
        if character == ']' && !first {
            return Ok((Token::Class { items, negated }, index + 1));
        }
        first = false;
        match (characters.get(index + 1), characters.get(index + 2)) {
            (Some('-'), Some(&end)) if end != ']' => {
                items.push(ClassItem::Range(character, end));
                index += 3;
            }
            _ => {
                items.push(ClassItem::One(character));
                index += 1;
            }
        }
    }
}

fn class_contains(items: &[ClassItem], character: char) -> bool {
    items.iter().any(|item| match item {
        ClassItem::One(one) => *one == character,
        ClassItem::Range(from, to) => (*from..=*to).contains(&character),
    })
}

/// A set of ignore patterns, rooted at an app's `cwd`.
#[derive(Debug, Clone, Default)]
pub struct IgnoreSet {
    /// Patterns without a `/`: matched against each name of a path.
    names: Vec<Glob>,
    /// Patterns with a `/`: matched against the path relative to `cwd` and each of its parent folders.
    anchored: Vec<Glob>,
}

impl IgnoreSet {
    /// Compiles `patterns` (checked beforehand by velos-config; a bad one is left out here).
    pub fn new(patterns: &[String]) -> IgnoreSet {
        let mut set = IgnoreSet::default();
        for pattern in patterns {
            let trimmed = pattern.trim_end_matches('/');
            let anchored = trimmed.contains('/');
            let Ok(glob) = Glob::new(trimmed.trim_start_matches('/')) else { continue };
            if anchored {
                set.anchored.push(glob);
            } else {
                set.names.push(glob);
            }
        }
        set
    }

    /// Whether `path` (absolute) is ignored for an app whose working directory is `cwd`. Only the part of
    /// the path below `cwd` is looked at (a watched path outside `cwd`: the part below `root`).
    pub fn is_ignored(&self, path: &Path, cwd: &Path, root: &Path) -> bool {
        let relative = path.strip_prefix(cwd).or_else(|_| path.strip_prefix(root)).unwrap_or(path);
        let names: Vec<String> =
            relative.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
        if names.iter().any(|name| self.names.iter().any(|glob| glob.matches(name))) {
            return true;
        }
        if self.anchored.is_empty() || !path.starts_with(cwd) {
            return false;
        }
        (1..=names.len()).any(|depth| {
            let prefix = names[..depth].join("/");
            self.anchored.iter().any(|glob| glob.matches(&prefix))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(text: &str) -> Glob {
        Glob::new(text).unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    #[test]
    fn stars_question_marks_and_classes() {
        assert!(glob("*.log").matches("app.log"));
        assert!(glob("*.log").matches(".log"));
        assert!(!glob("*.log").matches("app.log.1"));
        assert!(!glob("*.log").matches("dir/app.log"));
        assert!(glob("file?.txt").matches("file1.txt"));
        assert!(!glob("file?.txt").matches("file10.txt"));
        assert!(glob("[a-c]x[!0-9]").matches("bxy"));
        assert!(!glob("[a-c]x[!0-9]").matches("bx5"));
        assert!(glob("[]]").matches("]"));
        assert!(glob("\\*").matches("*") && !glob("\\*").matches("a"));
        assert_eq!(Glob::new("[ab"), Err(GlobError::UnclosedClass));
        assert_eq!(Glob::new(""), Err(GlobError::Empty));
    }

    #[test]
    fn double_stars_cross_folders() {
        assert!(glob("src/**/gen").matches("src/gen"));
        assert!(glob("src/**/gen").matches("src/a/b/gen"));
        assert!(!glob("src/**/gen").matches("src/a/b/gen2"));
        assert!(glob("build/**").matches("build/x/y.js"));
        assert!(glob("**/*.tmp").matches("a/b.tmp") && glob("**/*.tmp").matches("b.tmp"));
        assert!(!glob("build/*").matches("build/x/y.js"));
    }

    #[test]
    fn many_stars_stay_cheap() {
        let text = "a".repeat(2000);
        assert!(!glob("*a*a*a*a*a*a*a*a*a*a*a*a*b").matches(&text));
    }

    #[test]
    fn ignore_sets_read_like_gitignore() {
        let set = IgnoreSet::new(&["*.log".into(), "node_modules/".into(), "build/*.js".into()]);
        let cwd = Path::new("/srv/app");
        let root = Path::new("/srv/app/src");
        let ignored = |path: &str| set.is_ignored(Path::new(path), cwd, root);
        assert!(ignored("/srv/app/src/debug.log"));
        assert!(ignored("/srv/app/node_modules/x/index.js"));
        assert!(ignored("/srv/app/src/node_modules"));
        assert!(ignored("/srv/app/build/main.js"));
        assert!(!ignored("/srv/app/build/sub/main.js"));
        assert!(!ignored("/srv/app/src/main.js"));
        // Only what lies below cwd is looked at: a parent folder named like a pattern does not count.
        let set = IgnoreSet::new(&["srv".into()]);
        assert!(!set.is_ignored(Path::new("/srv/app/src/main.js"), cwd, root));
    }
}
