//! The exit codes, in one place (README "Exit codes"): 0 success, 1 any error (usage errors too), 2 only
//! when `velos diff` found changes. Every [`velos_ops::OpErrorKind`] is 1: the kind is for faces that can
//! say more than a number (REST statuses, MCP tool errors); the CLI says it in the `error:` line.
use std::process::ExitCode;

/// `velos diff`: the two sides differ.
pub const CHANGES: u8 = 2;

/// A command line clap refused: 1 (2 means "changes" to CI); `--help` and `--version` are 0.
pub fn usage(error: &clap::Error) -> u8 {
    match error.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
        _ => 1,
    }
}

/// Any error a command returns.
pub fn error() -> ExitCode {
    ExitCode::from(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    #[test]
    fn a_typo_is_never_read_as_changes() {
        let typo = Cli::try_parse_from(["velos", "diff", "--agianst", "HEAD"]).expect_err("unknown flag");
        assert_eq!(usage(&typo), 1);
        let help = Cli::try_parse_from(["velos", "--help"]).expect_err("help is an early exit");
        assert_eq!(usage(&help), 0);
    }
}
