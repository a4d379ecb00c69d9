//! Start-up and graceful shutdown. Tests start the server through the same path.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::router;
use crate::accounts::model::SessionPolicy;
use crate::directory::reminders::Sweeper;
use crate::directory::search::Search;
use crate::kernel::config::Config;
use crate::kernel::crypto::{Crypto, CryptoError};
use crate::kernel::db::{Backend, Db, OpenError, SchemaError};
use crate::kernel::jobs::JobRunner;
use crate::kernel::mail::{Mailer, Sender};
use crate::kernel::web::context::SiteInfo;
use crate::library::Library;
use crate::library::service::Extractor;

/// Why the server could not start, in one sentence an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "cannot use the data folder {path}: {cause}; choose another with --data-dir or fix its permissions"
    )]
    DataDir {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "cannot listen on {addr}: {cause}; choose another address with --addr (port 0 picks a free one) or stop the program using it"
    )]
    Bind {
        addr: SocketAddr,
        cause: std::io::Error,
    },
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error(transparent)]
    Keys(#[from] CryptoError),
    #[error("installing the shipped directory taxonomy failed: {0}")]
    Taxonomy(sqlx::Error),
    #[error("building the directory search index failed: {0}")]
    Search(crate::directory::search::BuildError),
    #[error("building the library index failed: {0}")]
    Library(crate::library::BuildError),
    #[error("outgoing mail is not configured correctly: {0}")]
    Mail(crate::kernel::mail::MailError),
    #[error("starting the hotline's writer threads failed: {0}")]
    Writers(std::io::Error),
}

/// A bound, migrated server that has not started answering yet.
pub struct Application {
    listener: TcpListener,
    router: Router,
    db: Db,
    crypto: Crypto,
    search: Arc<Search>,
    library: Arc<Library>,
    background: Background,
    grace: Duration,
}

fn vetting(config: &Config) -> crate::directory::model::Vetting {
    crate::directory::model::Vetting {
        reverify_months: config.directory_reverify_months,
        grace_days: config.directory_grace_days,
    }
}

/// What the background work (jobs and periodic checks) needs besides the database.
#[derive(Clone)]
struct Background {
    mailer: Mailer,
    vetting: crate::directory::model::Vetting,
    reminder_days: u32,
    public_url: String,
}

impl Application {
    /// Binds the address first (so a port in use fails before anything is written),
    /// then opens and migrates the database.
    pub async fn build(config: &Config) -> Result<Self, StartError> {
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|cause| StartError::Bind {
                addr: config.addr,
                cause,
            })?;
        let db = open_database(config).await?;
        let crypto = open_keys(config, db.clone())?;
        let search = Search::build(&db).await.map_err(StartError::Search)?;
        let library = Library::build(&db).await.map_err(StartError::Library)?;
        let mailer = Mailer::new(
            &config.mail_from,
            config.smtp_url.as_ref(),
            config.outbox_dir(),
        )
        .map_err(StartError::Mail)?;
        tracing::info!(to = %mailer.describe(), "outgoing mail");
        let background = Background {
            mailer,
            vetting: vetting(config),
            reminder_days: config.directory_reminder_days,
            public_url: config.public_url(),
        };
        Self::with_parts(listener, db, crypto, search, library, background, config)
    }

    fn with_parts(
        listener: TcpListener,
        db: Db,
        crypto: Crypto,
        search: Arc<Search>,
        library: Arc<Library>,
        background: Background,
        config: &Config,
    ) -> Result<Self, StartError> {
        let site = SiteInfo {
            quick_exit_url: config.quick_exit_url.clone(),
            hotline_phone: config.hotline_number.clone(),
            hotline_sms: config.text_line.clone(),
            demo: config.demo,
        };
        let sessions = SessionPolicy {
            idle: Duration::from_mins(config.session_idle_minutes),
            absolute: Duration::from_hours(config.session_absolute_hours),
            recheck: Duration::from_secs(config.session_recheck_secs),
            secure_cookies: config.secure_cookies,
            require_mfa: config.require_mfa,
        };
        Ok(Self {
            router: router::build(
                db.clone(),
                crypto.clone(),
                Arc::clone(&search),
                Arc::clone(&library),
                site,
                sessions,
                router::Limits {
                    max_body_bytes: config.max_body_bytes,
                    sign_in_per_ip_per_minute: config.sign_in_per_ip_per_minute,
                    vetting: vetting(config),
                    max_upload_bytes: config.library_max_upload_bytes,
                    text_line: crate::hotline::sms::TextLine {
                        auth_token: config.twilio_auth_token.clone(),
                        public_base_url: config.public_url(),
                        hotline_number: config.hotline_number.clone(),
                        text_line: config.text_line.clone(),
                        account_sid: config.twilio_account_sid.clone(),
                        api_base: config.twilio_api_base.clone(),
                    },
                    // Checked when the configuration was read.
                    hotline_zone: config.hotline_zone().unwrap_or(jiff::tz::TimeZone::UTC),
                },
            )
            .map_err(StartError::Writers)?,
            crypto,
            search,
            library,
            background,
            listener,
            db,
            grace: Duration::from_secs(config.shutdown_grace_secs),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        // A bound listener always has an address.
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn crypto(&self) -> &Crypto {
        &self.crypto
    }

    /// Serves until `stop` is cancelled; then stops taking connections, lets requests
    /// in flight finish (up to the grace period), stops the job worker and the SQLite
    /// checkpoints and closes the database.
    pub async fn run(self, stop: CancellationToken) -> std::io::Result<()> {
        let runner = JobRunner::new(self.db.clone())
            .with_handler(Arc::new(Extractor {
                db: self.db.clone(),
            }))
            .with_handler(Arc::new(Sweeper {
                db: self.db.clone(),
                vetting: self.background.vetting,
                days: self.background.reminder_days,
                public_url: self.background.public_url.clone(),
            }))
            .with_handler(Arc::new(Sender {
                mailer: self.background.mailer.clone(),
                crypto: self.crypto.clone(),
            }));
        let worker = tokio::spawn(runner.run(Duration::from_secs(1), stop.child_token()));
        let reminders = tokio::spawn(schedule_reminders(self.db.clone(), stop.child_token()));
        let checkpoints = tokio::spawn(self.db.clone().keep_log_short(stop.child_token()));
        let follower = Arc::clone(&self.search).follow(self.db.clone(), stop.child_token());
        let library = Arc::clone(&self.library).follow(self.db.clone(), stop.child_token());
        // The peer address feeds the per-IP limits; it is never logged.
        let app = self
            .router
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let server =
            axum::serve(self.listener, app).with_graceful_shutdown(stop.clone().cancelled_owned());
        let mut server = std::pin::pin!(server.into_future());
        let result = tokio::select! {
            result = &mut server => result,
            () = async {
                stop.cancelled().await;
                tokio::time::sleep(self.grace).await;
            } => {
                tracing::warn!("requests still running after the grace period were cut off");
                Ok(())
            }
        };
        let _ = worker.await;
        let _ = follower.await;
        let _ = library.await;
        let _ = reminders.await;
        let _ = checkpoints.await;
        self.db.close().await;
        tracing::info!("stopped");
        result
    }
}

/// Checks every hour whether the day's reminder sweep is due (one server queues it).
async fn schedule_reminders(db: Db, stop: CancellationToken) {
    loop {
        if let Err(e) =
            crate::directory::reminders::schedule(&db, crate::kernel::time::now_micros()).await
        {
            tracing::warn!(error = %e, "could not schedule the directory reminders; retrying");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(crate::directory::reminders::CHECK_EVERY) => {}
        }
    }
}

/// Opens the configured database (creating the data folder for the default SQLite
/// file) and migrates it.
pub async fn open_database(config: &Config) -> Result<Db, StartError> {
    open_database_with(config, false).await
}

/// As [`open_database`]; with `bulk`, for a command that writes much alone (see
/// [`Db::connect_for_bulk`]).
pub async fn open_database_with(config: &Config, bulk: bool) -> Result<Db, StartError> {
    let url = config.database();
    if url.backend() == Backend::Sqlite && config.database_url.is_none() {
        ensure_writable(&config.data_dir)?;
    }
    let db = if bulk {
        Db::connect_for_bulk(&url).await?
    } else {
        Db::connect(&url).await?
    };
    db.migrate().await?;
    crate::directory::taxonomy::install(&db)
        .await
        .map_err(StartError::Taxonomy)?;
    Ok(db)
}

/// Loads the master key file (creating it on first run).
pub fn open_keys(config: &Config, db: Db) -> Result<Crypto, StartError> {
    let path = config.master_key_path();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        ensure_writable(parent)?;
    }
    Ok(Crypto::open(db, &path)?)
}

fn ensure_writable(dir: &Path) -> Result<(), StartError> {
    let fail = |cause| StartError::DataDir {
        path: dir.to_path_buf(),
        cause,
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(".atip-write-check");
    std::fs::write(&probe, b"").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)
}
