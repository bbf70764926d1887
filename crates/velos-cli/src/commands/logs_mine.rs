//! `velos logs mine FILE [--labels|--json]`: the templates of any log file, without a daemon. `--labels`
//! prints one template id per input line, in order (how grouping accuracy is measured); `--json` the
//! templates with counts; by default a table, most frequent first.
use crate::error::CliError;
use clap::{Args, Subcommand};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use velos_log_engine::reader::LineReader;
use velos_log_engine::{FileMiner, MinedTemplate, Params};

#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// Mine a log file's templates, no daemon needed (an app named "mine": velos logs -- mine)
    Mine(MineArgs),
}

#[derive(Debug, Args)]
pub struct MineArgs {
    /// The log file; - reads stdin
    pub file: PathBuf,
    /// Print one template id per input line, in order
    #[arg(long, conflicts_with = "json")]
    pub labels: bool,
    /// Print the templates with their counts and an example each, as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(command: &LogsCommand, out: &mut dyn Write) -> Result<(), CliError> {
    let LogsCommand::Mine(args) = command;
    let input: Box<dyn BufRead> = if args.file.as_os_str() == "-" {
        Box::new(BufReader::with_capacity(1 << 16, std::io::stdin().lock()))
    } else {
        let file = std::fs::File::open(&args.file).map_err(|error| unreadable(args, &error))?;
        Box::new(BufReader::with_capacity(1 << 16, file))
    };
    let mut reader = LineReader::new(input);
    let mut miner = FileMiner::new(Params::default(), args.labels);
    while let Some(line) = reader.next_line().map_err(|error| unreadable(args, &error))? {
        miner.push(line.bytes);
    }
    let (templates, labels, _) = miner.finish();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    if let Some(labels) = labels {
        for id in labels {
            writeln!(out, "t{id}")?;
        }
    } else if args.json {
        let lines = templates.iter().map(|template| template.count).sum();
        let document = Mined { lines, templates: &templates };
        serde_json::to_writer(&mut out, &document).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        for template in &templates {
            writeln!(out, "{:>6} {:>9}  {}", template.template_id, template.count, template.template)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `velos logs mine --json`.
#[derive(serde::Serialize)]
struct Mined<'a> {
    lines: u64,
    templates: &'a [MinedTemplate],
}

fn unreadable(args: &MineArgs, error: &std::io::Error) -> CliError {
    CliError::new(format!("could not read {}", args.file.display()))
        .cause(error.to_string())
        .hint("give a readable log file, or - to read stdin: velos logs mine - < FILE")
}
