//! `velos serve` (the REST + WebSocket API of velos-api) and `velos metrics` (its exposition, once).
use super::Context;
use crate::error::CliError;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use velos_api::{Listen, ServeOptions};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; one off loopback needs a token in $VELOS_HOME/api.token
    #[arg(long, value_name = "ADDR", default_value = velos_api::LISTEN_DEFAULT, conflicts_with = "unix")]
    pub listen: std::net::SocketAddr,
    /// Listen on a Unix socket (created 0600) instead of TCP
    #[arg(long, value_name = "PATH")]
    pub unix: Option<PathBuf>,
    /// Another name the server answers to in the Host header (a DNS name of --listen)
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_hosts: Vec<String>,
    /// Print the tokens (created if needed) and how to use them, then exit
    #[arg(long)]
    pub print_token: bool,
    /// Also push the metrics and log lines to this OpenTelemetry collector (OTLP/HTTP JSON): http://HOST:PORT[/PREFIX]
    #[arg(long, value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// How often to push them
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::parse::parse_duration)]
    pub otlp_interval: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// OpenMetrics 1.0 instead of the Prometheus text format 0.0.4
    #[arg(long)]
    pub openmetrics: bool,
}

fn serve_error(error: &(dyn std::error::Error + 'static)) -> CliError {
    let mut cli = CliError::new(error.to_string());
    let mut source = error.source();
    while let Some(cause) = source {
        cli = cli.cause(cause.to_string());
        source = cause.source();
    }
    cli
}

pub fn serve(context: &Context, args: &ServeArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let home = context.ops.home().root().to_path_buf();
    let listen = match &args.unix {
        Some(path) => Listen::Unix(std::path::absolute(path)?),
        None => Listen::Tcp(args.listen),
    };
    if args.print_token {
        return print_token(context, &listen, out);
    }
    let otlp = args.otlp_endpoint.clone().map(|endpoint| velos_api::OtlpOptions {
        endpoint,
        interval: args.otlp_interval,
        headers: Vec::new(),
    });
    let options = ServeOptions { home, listen, allow_hosts: args.allow_hosts.clone(), otlp };
    velos_api::serve(options, |started| {
        let created = if started.created_tokens { "created " } else { "" };
        eprintln!(
            "velos serve: listening on {} (tokens: {created}{}; velos serve --print-token shows them)",
            started.url,
            started.token_file.display()
        );
    })
    .map_err(|error| {
        let hint = match &error {
            velos_api::ServeError::Bind { .. } => "another --listen address, or stop what holds this one",
            velos_api::ServeError::Token(_) => {
                "chmod 600 $VELOS_HOME/api.token, or move it away to get a new one"
            }
            _ => "velos serve --help",
        };
        serve_error(&error).hint(hint)
    })
}

fn print_token(context: &Context, listen: &Listen, out: &mut dyn Write) -> Result<(), CliError> {
    let home = context.ops.home().root();
    std::fs::create_dir_all(home)?;
    let lines = velos_api::token_lines(home).map_err(|error| serve_error(&error))?;
    let file = home.join(velos_api::TOKEN_FILE);
    writeln!(out, "# {}", file.display())?;
    for (kind, value) in &lines {
        writeln!(out, "{kind} {value}")?;
    }
    let token =
        lines.iter().find(|(kind, _)| kind == "read-only").map_or("TOKEN", |(_, value)| value.as_str());
    let example = match listen {
        Listen::Tcp(address) => format!("curl -H 'Authorization: Bearer {token}' http://{address}/v1/apps"),
        Listen::Unix(path) => {
            format!(
                "curl --unix-socket {} -H 'Authorization: Bearer {token}' http://localhost/v1/apps",
                path.display()
            )
        }
    };
    writeln!(out, "# reads: {example}")?;
    writeln!(out, "# writes (apply, edits, PATCH) need the read-write token")?;
    Ok(())
}

pub fn metrics(context: &Context, args: &MetricsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let format =
        if args.openmetrics { velos_metrics::Format::OpenMetrics } else { velos_metrics::Format::Text };
    let text = velos_api::metrics_text(context.ops.home().root(), format).map_err(|error| {
        let detail = *error.detail;
        let mut cli = CliError::new(detail.message);
        if let Some(hint) = detail.hint {
            cli = cli.hint(hint);
        }
        cli
    })?;
    out.write_all(text.as_bytes())?;
    Ok(())
}
