//! Splitting `command = "python3 -m http.server 8000"` into words the way a POSIX shell would, without
//! running one: quotes and backslashes are honoured, nothing is expanded. Shell syntax that would mean
//! something else to a shell (`$VAR`, pipes, redirections, `;`, `&`, a leading `~`) is refused, because
//! passing it through literally would silently do something other than what the user expects.

/// Why a command line could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitError {
    /// Byte offset of the offending character in the command text.
    pub(crate) offset: usize,
    pub(crate) message: String,
    pub(crate) help: String,
}

const SHELL_HELP: &str = "Velos runs the program directly, without a shell; to use shell syntax write \
                          `command = \"/bin/sh\"` and `args = [\"-c\", \"...\"]`";

/// Splits `text` into words: whitespace separates words; `'...'` is literal; in `"..."` a backslash escapes
/// `"`, `\`, `$` and `` ` `` only; outside quotes a backslash escapes the next character.
pub(crate) fn split_words(text: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word is open once any of its characters (or an empty pair of quotes) has been seen.
    let mut in_word = false;
    let mut characters = text.char_indices().peekable();
    while let Some((offset, character)) = characters.next() {
        match character {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match characters.next() {
                        Some((_, '\'')) => break,
                        Some((_, quoted)) => word.push(quoted),
                        None => return Err(unclosed(offset, '\'')),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match characters.next() {
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match characters.next() {
                            Some((_, escaped @ ('"' | '\\' | '$' | '`'))) => word.push(escaped),
                            Some((_, '\n')) => {}
                            Some((_, other)) => {
                                word.push('\\');
                                word.push(other);
                            }
                            None => return Err(unclosed(offset, '"')),
                        },
                        Some((inner, special @ ('$' | '`'))) => return Err(syntax(inner, special)),
                        Some((_, quoted)) => word.push(quoted),
                        None => return Err(unclosed(offset, '"')),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match characters.next() {
                    Some((_, '\n')) => {}
                    Some((_, escaped)) => word.push(escaped),
                    None => {
                        return Err(SplitError {
                            offset,
                            message: "the command ends with a lone backslash".into(),
                            help: "remove it, or write `\\\\` for a backslash".into(),
                        })
                    }
                }
            }
            '~' if !in_word => {
                return Err(SplitError {
                    offset,
                    message: "`~` is not expanded in a command".into(),
                    help: "write the absolute path (Velos does not use the environment of whoever runs it)"
                        .into(),
                })
            }
            '$' | '`' | '|' | '&' | ';' | '<' | '>' | '(' | ')' => return Err(syntax(offset, character)),
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The `command` value that runs exactly `program` (its `args` written apart): the program as is, or, when
/// it contains whitespace (which would split it), single-quoted the way [`split_words`] reads it back.
/// `command = "/opt/My App/server"` would run `/opt/My` with an argument; this gives
/// `command = "'/opt/My App/server'"`. Text without whitespace is never split, so it needs no quoting.
pub fn quote_program(program: &str) -> String {
    if !program.contains(char::is_whitespace) {
        return program.to_string();
    }
    format!("'{}'", program.replace('\'', "'\\''"))
}

fn unclosed(offset: usize, quote: char) -> SplitError {
    SplitError {
        offset,
        message: format!("unclosed `{quote}` in the command"),
        help: format!("close the quote, or escape it with a backslash: `\\{quote}`"),
    }
}

fn syntax(offset: usize, character: char) -> SplitError {
    let what = match character {
        '$' => "`$` (variables and substitutions are not expanded)",
        '`' => "a backquote (command substitution is not run)",
        '|' => "a pipe `|`",
        '&' => "`&`",
        ';' => "`;`",
        '<' | '>' => "a redirection",
        _ => "a parenthesis",
    };
    SplitError { offset, message: format!("the command contains {what}"), help: SHELL_HELP.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        split_words(text).unwrap_or_else(|error| panic!("{text:?}: {error:?}"))
    }

    #[test]
    fn splits_on_whitespace() {
        assert_eq!(words("python3 -m http.server 8000"), ["python3", "-m", "http.server", "8000"]);
        assert_eq!(words("  a\t b\n c  "), ["a", "b", "c"]);
        assert_eq!(words(""), Vec::<String>::new());
        assert_eq!(words("   "), Vec::<String>::new());
    }

    #[test]
    fn respects_quotes_and_escapes() {
        assert_eq!(words("echo 'a b' \"c d\""), ["echo", "a b", "c d"]);
        assert_eq!(words("echo '' \"\""), ["echo", "", ""]);
        assert_eq!(words("echo a'b c'd"), ["echo", "ab cd"]);
        assert_eq!(words(r#"echo "say \"hi\"" 'it''s'"#), ["echo", "say \"hi\"", "its"]);
        assert_eq!(words(r"echo a\ b \$HOME"), ["echo", "a b", "$HOME"]);
        assert_eq!(words(r#"echo "\n" '\n' '$HOME'"#), ["echo", "\\n", "\\n", "$HOME"]);
        assert_eq!(words("'/opt/My App/bin/server' --port 80"), ["/opt/My App/bin/server", "--port", "80"]);
        assert_eq!(words("a~b x=~ *.log"), ["a~b", "x=~", "*.log"]);
    }

    #[test]
    fn quoted_programs_read_back_as_one_word() {
        for program in ["/bin/sleep", "/opt/My App/server", "it's here/x y", "a\tb c", "$HOME/x y", "~/a b"] {
            let command = quote_program(program);
            let read_back =
                if command.contains(char::is_whitespace) { words(&command) } else { vec![command] };
            assert_eq!(read_back, [program], "{program:?}");
        }
        assert_eq!(quote_program("/bin/sleep"), "/bin/sleep");
        assert_eq!(quote_program("/opt/My App/server"), "'/opt/My App/server'");
    }

    #[test]
    fn refuses_what_a_shell_would_interpret() {
        for (text, offset) in [
            ("echo $HOME", 5),
            ("echo \"$HOME\"", 6),
            ("echo `date`", 5),
            ("a | b", 2),
            ("a > log", 2),
            ("a < in", 2),
            ("a && b", 2),
            ("a; b", 1),
            ("a &", 2),
            ("~/bin/app", 0),
            ("echo $(date)", 5),
        ] {
            let error = split_words(text).expect_err(text);
            assert_eq!(error.offset, offset, "{text}");
        }
        assert_eq!(
            split_words("echo 'oops").expect_err("must be refused").message,
            "unclosed `'` in the command"
        );
        assert_eq!(
            split_words("echo \"oops").expect_err("must be refused").message,
            "unclosed `\"` in the command"
        );
        assert_eq!(split_words("echo \\").expect_err("must be refused").offset, 5);
    }
}
