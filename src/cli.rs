//! The `atip` command line. Parses arguments, then calls into the library.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::app::{Application, StartError};
use crate::demo::{self, Scale, Seeded};
use crate::kernel::config::{Config, ConfigError, LogFormat, Overrides};
use crate::kernel::db::DatabaseUrl;

#[derive(Parser)]
#[command(
    name = "atip",
    version,
    about = "Software for anti-trafficking-in-persons programs: hotline, directory, case management, letters, grants."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Create a data folder with synthetic demo data and run the server on it.
    Demo(DemoArgs),
    /// Bring the database schema up to date, then exit.
    Migrate(CommonArgs),
    /// Print the version and the schema version this build migrates to.
    Version,
}

#[derive(Args, Clone)]
struct CommonArgs {
    /// TOML configuration file; unknown keys are an error.
    #[arg(long, env = "ATIP_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB` (default: atip.db in the
    /// data folder). Also ATIP_DATABASE_URL, or ATIP_DATABASE_URL_FILE naming a file.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Folder for the SQLite database and other local files. Also ATIP_DATA_DIR.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Address to listen on (port 0 picks a free one; the chosen address is printed).
    /// Also ATIP_ADDR. Default 127.0.0.1:8080.
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<std::net::SocketAddr>,
}

#[derive(Args)]
struct DemoArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// How much data to make.
    #[arg(long, value_enum, default_value = "small")]
    scale: Scale,
    /// The same seed makes the same data.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

/// An error that ends the command: printed as one sentence.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("the server stopped with an error: {0}")]
    Serve(std::io::Error),
    #[error("filling the demo database failed: {0}")]
    Demo(String),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("{0}")]
    Url(#[from] crate::kernel::db::UnsupportedScheme),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return report(&Failure::Runtime(e)),
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(&failure),
    }
}

fn report(failure: &Failure) -> ExitCode {
    eprintln!("error: {failure}");
    ExitCode::FAILURE
}

async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Version => {
            let schema = crate::kernel::db::migrator(crate::kernel::db::Backend::Sqlite)
                .iter()
                .map(|m| m.version)
                .max()
                .unwrap_or_default();
            println!("atip {} (schema {schema})", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Migrate(args) => {
            let config = load(Config::default(), &args, None)?;
            init_logging(&config);
            let db = crate::app::open_database(&config).await?;
            db.close().await;
            println!("the database at {} is up to date", config.database());
            Ok(())
        }
        Command::Serve(args) => {
            let config = load(Config::default(), &args.common, args.addr)?;
            init_logging(&config);
            let app = Application::build(&config).await?;
            announce(&format!("atip is listening on http://{}", app.local_addr()));
            app.run(stop_on_signal()).await.map_err(Failure::Serve)
        }
        Command::Demo(args) => {
            let base = Config {
                data_dir: PathBuf::from("atip-demo"),
                ..Config::default()
            };
            let config = load(base, &args.serve.common, args.serve.addr)?;
            init_logging(&config);
            let app = Application::build(&config).await?;
            let seeded = demo::seed(app.db(), args.seed, args.scale)
                .await
                .map_err(|e| Failure::Demo(e.to_string()))?;
            let addr = app.local_addr();
            let mut lines = vec![format!("atip demo is listening on http://{addr}")];
            lines.push(match seeded {
                Seeded::Created { organizations } => format!(
                    "created demo data in {} ({organizations} organizations, seed {}, {} scale)",
                    config.data_dir.display(),
                    args.seed,
                    if args.scale == Scale::Small {
                        "small"
                    } else {
                        "large"
                    }
                ),
                Seeded::AlreadyThere { seed } => format!(
                    "reusing the demo data already in {} (seed/scale {seed})",
                    config.data_dir.display()
                ),
            });
            lines.push(
                "sign-in accounts: none yet; one per role arrives with the security kernel"
                    .to_owned(),
            );
            lines.push("press Ctrl-C to stop".to_owned());
            announce(&lines.join("\n"));
            app.run(stop_on_signal()).await.map_err(Failure::Serve)
        }
    }
}

fn load(
    base: Config,
    args: &CommonArgs,
    addr: Option<std::net::SocketAddr>,
) -> Result<Config, Failure> {
    let database_url = args
        .database_url
        .as_deref()
        .map(DatabaseUrl::parse)
        .transpose()?
        .map(String::from);
    let flags = Overrides {
        database_url,
        addr,
        data_dir: args.data_dir.clone(),
    };
    Ok(Config::load(base, args.config.as_deref(), &flags)?)
}

/// Prints to standard output (logs go to standard error) and flushes at once, so a
/// script waiting for the address sees it.
fn announce(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&config.log_level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Cancelled on Ctrl-C or SIGTERM.
fn stop_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let stop = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(err) => {
                        tracing::error!(error = %err, "cannot listen for SIGTERM");
                        let _ = ctrl_c.await;
                        stop.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("stop signal received; finishing requests in flight");
        stop.cancel();
    });
    token
}
