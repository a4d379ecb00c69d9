//! The `atip` command line. Parses arguments, then calls into the library.

use std::io::Write as _;
use std::path::{Path, PathBuf};
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
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Check or export the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Show the authorization policy.
    #[command(subcommand)]
    Authz(AuthzCommand),
    /// Manage the encryption keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Outgoing mail written to the outbox folder (when no SMTP server is set).
    #[command(subcommand)]
    Mail(MailCommand),
    /// Load data into the directory.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Write the directory out as files.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Measure performance (prints figures; see docs/benchmarks.md).
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Generate a large synthetic directory, import it (`atip import hsds` in its own
    /// process), build the referral index and run a fixed, seeded mix of queries
    /// against it and against SQLite FTS5 + R*Tree (and PostgreSQL, if given).
    Directory {
        /// Services to generate (at about 3/5 as many locations in real towns).
        #[arg(long, default_value_t = 500_000)]
        services: usize,
        /// Queries in the mix.
        #[arg(long, default_value_t = 10_000)]
        queries: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Keep the generated files and databases here (default: a temporary folder,
        /// removed afterwards).
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// Also measure PostgreSQL full text + GiST on this database (the benchmark
        /// makes and drops a schema `atip_bench_peer` in it).
        #[arg(long, env = "ATIP_BENCH_POSTGRES_URL")]
        postgres_url: Option<String>,
    },
    /// Seed a hotline database (contacts, cases, text threads, referrals, shifts,
    /// alerts), start the real server on it and measure over HTTP on loopback: saving
    /// contacts and the text line's webhook from many clients, an advocate's reads, and
    /// a tenfold surge; then count the rows to show none was lost or doubled.
    Hotline(HotlineBenchArgs),
}

#[derive(Args)]
struct HotlineBenchArgs {
    /// Contacts to seed.
    #[arg(long, default_value_t = 1_000_000, value_parser = at_least_one)]
    contacts: usize,
    /// Cases to seed.
    #[arg(long, default_value_t = 200_000, value_parser = at_least_one)]
    cases: usize,
    /// Concurrent clients (the surge has ten times as many).
    #[arg(long, default_value_t = 200, value_parser = at_least_one)]
    clients: usize,
    /// Requests of each kind (contacts, texts) in each run.
    #[arg(long, default_value_t = 20_000, value_parser = at_least_one)]
    requests: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Keep the database and key file here (default: a temporary folder, removed
    /// afterwards).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Run on this PostgreSQL database instead of SQLite (the benchmark makes and
    /// drops a schema `atip_bench_hotline` in it).
    #[arg(long)]
    postgres_url: Option<String>,
}

/// A count that must be a whole number from 1 up: with none, nothing is measured.
fn at_least_one(raw: &str) -> Result<usize, String> {
    match raw.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("give a whole number of at least 1".to_owned()),
    }
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import Open Referral HSDS 3.0 data: a datapackage folder (datapackage.json and
    /// CSV files) or JSON files of nested objects (organizations.json, services.json…).
    /// Records are matched by id: importing again updates them. All or nothing,
    /// unless --skip-invalid.
    Hsds {
        #[command(flatten)]
        common: CommonArgs,
        /// The folder or JSON file.
        path: PathBuf,
        /// Store the valid records and report the invalid ones, instead of storing
        /// nothing when any record is invalid.
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Import library documents: a folder of files (PDF, HTML, text) and a
    /// metadata.csv describing them (columns file or url, title, summary, audiences,
    /// topics, languages, publisher, published_on, visibility, note). Documents are
    /// matched by file name or link: importing again updates descriptions and adds a
    /// version where a file changed. All or nothing. The server extracts the text.
    Library {
        #[command(flatten)]
        common: CommonArgs,
        /// The folder holding metadata.csv.
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Write the directory as HSDS 3.0 files into a folder: datapackage.json, one CSV
    /// per table, and json/ with nested organizations and taxonomies. Confidential
    /// addresses are written without their street.
    Hsds {
        #[command(flatten)]
        common: CommonArgs,
        /// The folder (created if missing).
        path: PathBuf,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Make a token for an account and print it once (it is stored only hashed).
    Create {
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long)]
        email: String,
        /// An action the token may take, such as list-organizations; repeat for
        /// several. Without any, the token carries all of the account's permissions.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// How long the token lives: a number of days (`30d`) or hours (`12h`).
        #[arg(long, default_value = "30d")]
        expires: String,
    },
    /// List an account's tokens (ids, scopes, dates; never the tokens).
    List(EmailArgs),
    /// Revoke a token at once, by the id `token list` shows.
    Revoke {
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new master key, re-wrap every data key with it, and retire the old one.
    /// Servers keep running; restart them afterwards so they load the new key file.
    Rotate(CommonArgs),
    /// Show the master key's and the data keys' ages.
    Status(CommonArgs),
}

#[derive(Subcommand)]
enum MailCommand {
    /// Print a sealed message (`NAME.eml.sealed`: mail about a person, such as a
    /// document emailed to a caller) with the keys of this data folder.
    Read {
        #[command(flatten)]
        common: CommonArgs,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input.
    Create {
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long)]
        email: String,
        /// A role identifier such as hotline-advocate; repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The organization (id) of an organization-scoped role.
        #[arg(long)]
        org: Option<String>,
        /// The name shown in the interface (default: the email).
        #[arg(long)]
        name: Option<String>,
        /// An on-call phone number with its country code (stored encrypted).
        #[arg(long)]
        phone: Option<String>,
        /// Read the password from standard input (required, so it never sits in the
        /// shell history).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Lock an account (it cannot sign in; its sessions end).
    Lock(EmailArgs),
    /// Unlock a locked account and clear its failed sign-ins.
    Unlock(EmailArgs),
    /// Disable an account for good (for staff who left).
    Disable(EmailArgs),
}

#[derive(Args)]
struct EmailArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[arg(long)]
    email: String,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; exit non-zero naming the first broken link.
    Verify(CommonArgs),
    /// Write events as JSON lines to standard output.
    Export {
        #[command(flatten)]
        common: CommonArgs,
        /// Only events at or after this time (RFC 3339, e.g. 2026-11-01T00:00:00Z).
        #[arg(long)]
        since: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuthzCommand {
    /// Print which role may call which route, as a Markdown table.
    Matrix,
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
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Account(#[from] crate::accounts::service::AccountError),
    #[error("the audit chain is broken: {0}")]
    Audit(#[from] crate::kernel::audit::VerifyError),
    #[error("{0}")]
    Directory(String),
    #[error("{0}")]
    Bench(String),
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

async fn bench_hotline(args: HotlineBenchArgs) -> Result<(), Failure> {
    crate::bench::hotline::hotline(crate::bench::hotline::Options {
        contacts: args.contacts,
        cases: args.cases,
        clients: args.clients,
        requests: args.requests,
        seed: args.seed,
        work_dir: args.work_dir,
        postgres_url: args.postgres_url,
    })
    .await
    .map_err(|e| Failure::Bench(format!("{e:#}")))
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
        Command::User(command) => user(command).await,
        Command::Audit(command) => audit(command).await,
        Command::Keys(command) => keys(command).await,
        Command::Token(command) => token(command).await,
        Command::Mail(MailCommand::Read { common, file }) => read_mail(&common, &file).await,
        Command::Import(command) => import(command).await,
        Command::Bench(BenchCommand::Directory {
            services,
            queries,
            seed,
            work_dir,
            postgres_url,
        }) => crate::bench::directory(crate::bench::Options {
            services,
            queries,
            seed,
            work_dir,
            postgres_url,
        })
        .await
        .map_err(|e| Failure::Directory(format!("{e:#}"))),
        Command::Bench(BenchCommand::Hotline(args)) => bench_hotline(args).await,
        Command::Export(ExportCommand::Hsds { common, path }) => export_hsds(&common, &path).await,
        Command::Authz(AuthzCommand::Matrix) => {
            print!("{}", crate::kernel::authz::matrix_markdown());
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
                // The demo serves plain http on localhost, and its printed passwords let
                // anyone in; it says so on every page.
                secure_cookies: false,
                require_mfa: false,
                ..Config::default()
            };
            let mut config = load(base, &args.serve.common, args.serve.addr)?;
            // Not a configuration key: only this command makes a demo.
            config.demo = true;
            init_logging(&config);
            let app = Application::build(&config).await?;
            let seeded = demo::seed(app.db(), app.crypto(), args.seed, args.scale)
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
            let password = demo::password(args.seed);
            lines.push(format!(
                "sign in at http://{addr}/sign-in with any of these accounts, password {password}"
            ));
            for role in crate::kernel::auth::Role::ALL {
                lines.push(format!("  {}", demo::email(role)));
            }
            lines.push("press Ctrl-C to stop".to_owned());
            announce(&lines.join("\n"));
            app.run(stop_on_signal()).await.map_err(Failure::Serve)
        }
    }
}

async fn export_hsds(common: &CommonArgs, path: &std::path::Path) -> Result<(), Failure> {
    let (db, crypto) = open_with_keys(common).await?;
    let services = crate::directory::service::export(&db, &crypto, path)
        .await
        .map_err(|e| Failure::Directory(e.to_string()));
    db.close().await;
    println!("wrote {} services to {}", services?, path.display());
    Ok(())
}

async fn import_hsds(
    common: &CommonArgs,
    path: &std::path::Path,
    skip_invalid: bool,
) -> Result<(), Failure> {
    use crate::directory::model::Severity;
    let (db, crypto) = open_for_bulk(common).await?;
    // Drawn only on a terminal; a pipe or a log file gets the report alone.
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} records ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let options = crate::directory::service::ImportOptions { skip_invalid };
    let report = crate::directory::service::import(&db, &crypto, path, options, &progress)
        .await
        .map_err(|e| Failure::Directory(e.to_string()));
    bar.finish_and_clear();
    db.close().await;
    let report = report?;
    for problem in &report.problems {
        eprintln!("{problem}");
    }
    let errors = report
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    if report.written.is_empty() {
        return Err(Failure::Directory(format!(
            "nothing was imported: {errors} errors (above); fix them, or use --skip-invalid to import the valid records"
        )));
    }
    let written: Vec<String> = report
        .written
        .iter()
        .map(|(table, n)| format!("{n} {table}"))
        .collect();
    println!("imported {}", written.join(", "));
    if errors > 0 {
        println!("skipped the {errors} invalid records reported above");
    }
    Ok(())
}

async fn import(command: ImportCommand) -> Result<(), Failure> {
    match command {
        ImportCommand::Hsds {
            common,
            path,
            skip_invalid,
        } => import_hsds(&common, &path, skip_invalid).await,
        ImportCommand::Library { common, dir } => import_library(&common, &dir).await,
    }
}

async fn import_library(common: &CommonArgs, dir: &std::path::Path) -> Result<(), Failure> {
    let db = open(common).await?;
    let report = crate::library::service::import_dir(&db, dir)
        .await
        .map_err(|e| Failure::Directory(e.to_string()));
    db.close().await;
    let report = report?;
    for problem in &report.problems {
        eprintln!("{problem}");
    }
    if !report.problems.is_empty() {
        return Err(Failure::Directory(format!(
            "nothing was imported: {} problems (above)",
            report.problems.len()
        )));
    }
    println!(
        "imported {} new documents, {} new versions; {} files unchanged",
        report.created, report.new_versions, report.unchanged_files
    );
    Ok(())
}

/// Opens (and migrates) the database named by the common arguments.
async fn open(args: &CommonArgs) -> Result<crate::kernel::db::Db, Failure> {
    let config = load(Config::default(), args, None)?;
    init_logging(&config);
    Ok(crate::app::open_database(&config).await?)
}

type Opened = (crate::kernel::db::Db, crate::kernel::crypto::Crypto);

async fn open_with_keys(args: &CommonArgs) -> Result<Opened, Failure> {
    open_keyed(args, false).await
}

/// As [`open_with_keys`], for a bulk write (see [`crate::kernel::db::Db::connect_for_bulk`]).
async fn open_for_bulk(args: &CommonArgs) -> Result<Opened, Failure> {
    open_keyed(args, true).await
}

async fn open_keyed(args: &CommonArgs, bulk: bool) -> Result<Opened, Failure> {
    let config = load(Config::default(), args, None)?;
    init_logging(&config);
    let db = crate::app::open_database_with(&config, bulk).await?;
    let crypto = crate::app::open_keys(&config, db.clone())?;
    Ok((db, crypto))
}

/// `30d` or `12h`.
fn parse_lifetime(text: &str) -> Result<std::time::Duration, Failure> {
    let bad = || {
        Failure::Usage(format!(
            "--expires {text:?} must be a number of days (30d) or hours (12h)"
        ))
    };
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let n: u64 = number.parse().map_err(|_| bad())?;
    match unit {
        "d" if n > 0 => Ok(std::time::Duration::from_hours(n * 24)),
        "h" if n > 0 => Ok(std::time::Duration::from_hours(n)),
        _ => Err(bad()),
    }
}

async fn token(command: TokenCommand) -> Result<(), Failure> {
    let (common, email, scopes, expires) = match command {
        TokenCommand::Create {
            common,
            email,
            scopes,
            expires,
        } => (common, email, scopes, expires),
        TokenCommand::List(args) => {
            let db = open(&args.common).await?;
            let tokens = crate::accounts::tokens::list(&db, &args.email).await;
            db.close().await;
            let time = crate::kernel::time::rfc3339;
            for t in tokens? {
                println!(
                    "{}  scopes: {}  created {}  expires {}  last used {}  {}",
                    t.id,
                    t.scopes,
                    time(t.created_at),
                    time(t.expires_at),
                    t.last_used_at.map_or_else(|| "never".to_owned(), time),
                    if t.revoked_at.is_some() {
                        "REVOKED"
                    } else {
                        ""
                    }
                );
            }
            return Ok(());
        }
        TokenCommand::Revoke { common, id } => {
            let db = open(&common).await?;
            let revoked = crate::accounts::tokens::revoke(&db, &id, None).await;
            db.close().await;
            return if revoked? {
                println!("token {id} is revoked");
                Ok(())
            } else {
                Err(Failure::Usage(format!("no live token has the id {id:?}")))
            };
        }
    };
    let lifetime = parse_lifetime(&expires)?;
    let scopes = if scopes.is_empty() {
        None
    } else {
        Some(
            scopes
                .iter()
                .map(|s| {
                    crate::kernel::authz::Action::parse(s)
                        .ok_or_else(|| Failure::Usage(format!("--scope {s:?} is not an action id")))
                })
                .collect::<Result<Vec<_>, _>>()?,
        )
    };
    let db = open(&common).await?;
    let token = crate::accounts::tokens::create(&db, &email, scopes, lifetime).await;
    db.close().await;
    println!(
        "{}",
        token.map_err(|e| Failure::Usage(format!("cannot make the token: {e}")))?
    );
    Ok(())
}

async fn read_mail(common: &CommonArgs, file: &Path) -> Result<(), Failure> {
    let (db, crypto) = open_with_keys(common).await?;
    let message = crate::kernel::mail::read_sealed_file(&crypto, file).await;
    db.close().await;
    let message =
        message.map_err(|e| Failure::Usage(format!("cannot read {}: {e}", file.display())))?;
    print!("{message}");
    Ok(())
}

async fn keys(command: KeysCommand) -> Result<(), Failure> {
    let (KeysCommand::Rotate(args) | KeysCommand::Status(args)) = &command;
    let (db, crypto) = open_with_keys(args).await?;
    let result = match command {
        KeysCommand::Rotate(_) => crypto.rotate().await.map(|r| {
            println!(
                "new master key {}; {} data keys re-wrapped; the old master key is retired",
                r.new_master_key, r.data_keys
            );
        }),
        KeysCommand::Status(_) => crypto.status().await.map(|s| {
            let now = crate::kernel::time::now_micros();
            let days = |t: i64| (now - t) / 86_400_000_000;
            println!(
                "master key {} is {} days old",
                s.master_key_id,
                days(s.master_created_at)
            );
            for (scope, created, rewrapped) in s.data_keys {
                println!(
                    "data key {scope}: {} days old, re-wrapped {} days ago",
                    days(created),
                    days(rewrapped)
                );
            }
        }),
    };
    db.close().await;
    result.map_err(|e| Failure::Usage(format!("key operation failed: {e}")))
}

async fn user(command: UserCommand) -> Result<(), Failure> {
    use crate::accounts::model::{Email, NewUser, Status};
    use crate::accounts::service;
    let (args, email, status) = match command {
        UserCommand::Create {
            common,
            email,
            roles,
            org,
            name,
            phone,
            password_stdin: _,
        } => {
            let phone = phone
                .map(|p| {
                    crate::accounts::model::Phone::parse(&p)
                        .map_err(|e| Failure::Usage(format!("--phone: {e}")))
                })
                .transpose()?;
            let email = Email::parse(&email).map_err(|_| {
                Failure::Usage(format!("--email {email:?} is not an email address"))
            })?;
            let roles = roles
                .iter()
                .map(|r| {
                    crate::kernel::auth::Role::parse(r).ok_or_else(|| {
                        Failure::Usage(format!(
                            "--role {r:?} is not a role; `atip authz matrix` lists them"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let organization = org
                .map(|o| {
                    o.parse().map_err(|_| {
                        Failure::Usage(format!("--org {o:?} is not an organization id"))
                    })
                })
                .transpose()?;
            let mut password = String::new();
            std::io::stdin().read_line(&mut password).map_err(|e| {
                Failure::Usage(format!("cannot read the password from standard input: {e}"))
            })?;
            let password = crate::kernel::auth::password::Password::new(
                password.trim_end_matches(['\r', '\n']).to_owned(),
            );
            let (db, crypto) = open_with_keys(&common).await?;
            let user = NewUser {
                display_name: name.unwrap_or_else(|| email.as_str().to_owned()),
                phone,
                email,
                roles,
                organization,
                password,
            };
            let id = service::create_user(&db, &crypto, user).await;
            db.close().await;
            println!("created account {}", id?);
            return Ok(());
        }
        UserCommand::Lock(a) => (a.common, a.email, Status::Locked),
        UserCommand::Unlock(a) => (a.common, a.email, Status::Active),
        UserCommand::Disable(a) => (a.common, a.email, Status::Disabled),
    };
    let db = open(&args).await?;
    let result = service::set_status(&db, &email, status).await;
    db.close().await;
    result?;
    println!("{email} is now {}", status.as_str());
    Ok(())
}

async fn audit(command: AuditCommand) -> Result<(), Failure> {
    match command {
        AuditCommand::Verify(common) => {
            let db = open(&common).await?;
            let result = crate::kernel::audit::verify(&db).await;
            db.close().await;
            println!("the audit chain is intact: {} events", result?);
            Ok(())
        }
        AuditCommand::Export { common, since } => {
            let since = match since {
                Some(s) => s
                    .parse::<jiff::Timestamp>()
                    .map_err(|e| {
                        Failure::Usage(format!("--since {s:?} is not an RFC 3339 time: {e}"))
                    })?
                    .as_microsecond(),
                None => 0,
            };
            let db = open(&common).await?;
            let mut out = std::io::stdout().lock();
            let result = crate::kernel::audit::export(&db, since, &mut out).await;
            db.close().await;
            result
                .map(|_| ())
                .map_err(|e| Failure::Usage(format!("exporting the audit log failed: {e}")))
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
    // The WebSocket library traces whole chat messages: never, whatever RUST_LOG says.
    let filter = ["tungstenite=off", "tokio_tungstenite=off"]
        .into_iter()
        .filter_map(|d| d.parse().ok())
        .fold(filter, tracing_subscriber::EnvFilter::add_directive);
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
