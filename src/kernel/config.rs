//! Layered configuration: built-in defaults, then a TOML file (`--config`), then
//! `ATIP_*` environment variables, then command-line flags. Secrets can also come from
//! a file named by `ATIP_<KEY>_FILE`, so they need not sit in the environment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use super::db::DatabaseUrl;

/// Every setting atip reads. Unknown keys in a config file are an error naming the key.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `sqlite://PATH` or `postgres://…`; default: `atip.db` in the data folder.
    pub database_url: Option<DatabaseUrl>,
    /// A file holding the database URL (keeps a password out of the environment).
    pub database_url_file: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port.
    pub addr: SocketAddr,
    /// Folder for the SQLite database and other local files.
    pub data_dir: PathBuf,
    /// `text` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// A tracing filter such as `info` or `atip=debug,info`.
    pub log_level: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Seconds that in-flight requests get to finish after a stop signal.
    pub shutdown_grace_secs: u64,
    /// Where the quick-exit button sends a visitor: a neutral site.
    pub quick_exit_url: String,
    /// Hotline numbers printed in every page footer.
    pub hotline_number: String,
    pub text_line: String,
    /// Mark cookies `Secure` (and name the session cookie `__Host-…`). Turn off only
    /// for plain-http localhost: atip refuses to start otherwise.
    pub secure_cookies: bool,
    /// Minutes without a request after which a session ends.
    pub session_idle_minutes: u64,
    /// Hours after sign-in after which a session ends however active.
    pub session_absolute_hours: u64,
    /// Seconds a server relies on a session it checked before checking it again; 0
    /// checks on every request. A sign-out or account change made on another server
    /// process (or with `atip user`) reaches this one within that time.
    pub session_recheck_secs: u64,
    /// Sign-in attempts (password or second factor) one IP address may make per minute.
    /// Behind a proxy every request comes from the proxy: set this per proxy then.
    pub sign_in_per_ip_per_minute: u32,
    /// Roles that can read personal data must use a second factor (TOTP). Only a
    /// demonstration should turn this off.
    pub require_mfa: bool,
    /// The master key file (created with mode 0600 if missing); default
    /// `master.key` in the data folder. Keep a copy apart from database backups.
    pub master_key_file: Option<PathBuf>,
    /// A directory listing must be re-verified this many months after its last check.
    pub directory_reverify_months: u32,
    /// Days after the re-verification is due before an unverified listing drops out
    /// of public results (it stays, flagged, in the staff search).
    pub directory_grace_days: u32,
    /// Reminders to re-verify go to a listing's contact this many days before it is due
    /// (and again every 14 days while it stays due).
    pub directory_reminder_days: u32,
    /// The sender of atip's mail.
    pub mail_from: String,
    /// SMTP server for outgoing mail; without it, mail is written to DATA_DIR/outbox.
    /// Also `smtp_url_file`.
    pub smtp_url: Option<crate::kernel::mail::SmtpUrl>,
    pub smtp_url_file: Option<PathBuf>,
    /// The address people use to reach this server, for links in mail
    /// (default: http:// and `addr`).
    pub public_base_url: Option<String>,
    /// The largest file a curator may upload to the library (all other requests
    /// keep `max_body_bytes`).
    pub library_max_upload_bytes: usize,
    /// Twilio (or a compatible service) for the hotline's text line: the account's auth
    /// token checks every webhook's signature (no token: every webhook is refused).
    /// Also `twilio_auth_token_file`.
    pub twilio_auth_token: Option<Secret>,
    pub twilio_auth_token_file: Option<PathBuf>,
    pub twilio_account_sid: Option<String>,
    /// The REST API advocates' replies go to.
    pub twilio_api_base: String,
    /// The time zone the hotline's schedule is shown in (an IANA name).
    pub hotline_time_zone: String,
    /// Set by `atip demo`, never by configuration: every page then says it is a demo.
    #[serde(skip)]
    pub demo: bool,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: None,
            database_url_file: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("atip-data"),
            log_format: LogFormat::Text,
            log_level: "info".to_owned(),
            max_body_bytes: 2 * 1024 * 1024,
            shutdown_grace_secs: 30,
            quick_exit_url: "https://www.google.com/".to_owned(),
            hotline_number: "1-888-373-7888".to_owned(),
            text_line: "233733".to_owned(),
            secure_cookies: true,
            session_idle_minutes: 15,
            session_absolute_hours: 12,
            session_recheck_secs: 5,
            require_mfa: true,
            sign_in_per_ip_per_minute: 20,
            master_key_file: None,
            directory_reverify_months: 12,
            directory_grace_days: 60,
            library_max_upload_bytes: 50 * 1024 * 1024,
            directory_reminder_days: 30,
            mail_from: "atip <no-reply@atip.localhost>".to_owned(),
            smtp_url: None,
            smtp_url_file: None,
            public_base_url: None,
            twilio_auth_token: None,
            twilio_auth_token_file: None,
            twilio_account_sid: None,
            twilio_api_base: "https://api.twilio.com".to_owned(),
            hotline_time_zone: "America/New_York".to_owned(),
            demo: false,
        }
    }
}

/// A secret from the configuration (an API token): it never prints.
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: &str) -> Self {
        Self(value.to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Keys that can be set from the environment as `ATIP_<KEY>`.
const KEYS: &[&str] = &[
    "database_url",
    "database_url_file",
    "addr",
    "data_dir",
    "log_format",
    "log_level",
    "max_body_bytes",
    "shutdown_grace_secs",
    "quick_exit_url",
    "hotline_number",
    "text_line",
    "secure_cookies",
    "session_idle_minutes",
    "session_absolute_hours",
    "session_recheck_secs",
    "require_mfa",
    "sign_in_per_ip_per_minute",
    "master_key_file",
    "directory_reverify_months",
    "directory_grace_days",
    "library_max_upload_bytes",
    "directory_reminder_days",
    "mail_from",
    "smtp_url",
    "smtp_url_file",
    "public_base_url",
    "twilio_auth_token",
    "twilio_auth_token_file",
    "twilio_account_sid",
    "twilio_api_base",
    "hotline_time_zone",
];

/// `ATIP_*` variables that are not configuration keys but are read elsewhere.
const OTHER_ENV: &[&str] = &[
    "config",
    "test_postgres_url",
    "bench_postgres_url",
    "require_browser",
    "axe_core_js",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the configuration is not valid: {0}")]
    Invalid(String),
    #[error("cannot read the secret file {path} named by {key}: {cause}")]
    SecretFile {
        key: &'static str,
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("both {0} and {0}_file are set; keep one")]
    TwoSources(&'static str),
    #[error(
        "secure_cookies = false is allowed only on a loopback address (127.0.0.1 or ::1), not {0}; serve over TLS instead"
    )]
    InsecureCookies(SocketAddr),
}

/// Values given on the command line; `None` leaves the lower layers in force.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

impl Config {
    /// Reads every layer. `base` supplies the defaults (the demo uses its own folder).
    pub fn load(base: Config, file: Option<&Path>, flags: &Overrides) -> Result<Self, ConfigError> {
        warn_unknown_env();
        let mut figment = Figment::from(Serialized::defaults(base));
        if let Some(file) = file {
            if !file.is_file() {
                return Err(ConfigError::Invalid(format!(
                    "the config file {} does not exist",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        figment = figment
            .merge(Env::prefixed("ATIP_").only(KEYS))
            .merge(Serialized::defaults(flags));
        let mut config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(first_error(&e)))?;
        config.read_secret_files()?;
        config.hotline_zone()?;
        if !config.secure_cookies && !config.addr.ip().is_loopback() {
            return Err(ConfigError::InsecureCookies(config.addr));
        }
        Ok(config)
    }

    /// The hotline's time zone; refused at start if the name is not one.
    pub fn hotline_zone(&self) -> Result<jiff::tz::TimeZone, ConfigError> {
        jiff::tz::TimeZone::get(&self.hotline_time_zone).map_err(|_| {
            ConfigError::Invalid(format!(
                "hotline_time_zone: {:?} is not a time zone name such as America/New_York",
                self.hotline_time_zone
            ))
        })
    }

    fn read_secret_files(&mut self) -> Result<(), ConfigError> {
        if let Some(path) = self.database_url_file.take() {
            if self.database_url.is_some() {
                return Err(ConfigError::TwoSources("database_url"));
            }
            let raw = std::fs::read_to_string(&path).map_err(|cause| ConfigError::SecretFile {
                key: "database_url_file",
                path: path.clone(),
                cause,
            })?;
            let url = DatabaseUrl::parse(&raw).map_err(|e| ConfigError::Invalid(e.to_string()))?;
            self.database_url = Some(url);
        }
        if let Some(path) = self.twilio_auth_token_file.take() {
            if self.twilio_auth_token.is_some() {
                return Err(ConfigError::TwoSources("twilio_auth_token"));
            }
            let raw = std::fs::read_to_string(&path).map_err(|cause| ConfigError::SecretFile {
                key: "twilio_auth_token_file",
                path: path.clone(),
                cause,
            })?;
            self.twilio_auth_token = Some(Secret::new(raw.trim()));
        }
        if let Some(path) = self.smtp_url_file.take() {
            if self.smtp_url.is_some() {
                return Err(ConfigError::TwoSources("smtp_url"));
            }
            let raw = std::fs::read_to_string(&path).map_err(|cause| ConfigError::SecretFile {
                key: "smtp_url_file",
                path: path.clone(),
                cause,
            })?;
            self.smtp_url = Some(crate::kernel::mail::SmtpUrl::new(raw.trim()));
        }
        Ok(())
    }

    /// Where outgoing mail goes when there is no SMTP server.
    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    /// The address of this server for links in mail.
    pub fn public_url(&self) -> String {
        self.public_base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.addr))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The master key file to use.
    pub fn master_key_path(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }

    /// The database to open: the configured URL, or `atip.db` in the data folder.
    pub fn database(&self) -> DatabaseUrl {
        self.database_url
            .clone()
            .unwrap_or_else(|| DatabaseUrl::sqlite_file(&self.data_dir.join("atip.db")))
    }
}

fn first_error(err: &figment::Error) -> String {
    // figment's message names the key and the layer (file or environment) it came from.
    err.clone()
        .into_iter()
        .next()
        .map_or_else(|| err.to_string(), |e| e.to_string())
}

fn warn_unknown_env() {
    for (name, _) in std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v))) {
        let Some(key) = name.strip_prefix("ATIP_") else {
            continue;
        };
        let key = key.to_ascii_lowercase();
        if !KEYS.contains(&key.as_str()) && !OTHER_ENV.contains(&key.as_str()) {
            eprintln!("warning: ignoring unknown environment variable {name}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_key_in_the_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("atip.toml");
        std::fs::write(
            &file,
            "addr = \"127.0.0.1:9000\"\ndatabse_url = \"sqlite://x\"\n",
        )
        .unwrap();
        let err = Config::load(Config::default(), Some(&file), &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("databse_url"), "{err}");
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("atip.toml");
        std::fs::write(&file, "addr = \"127.0.0.1:9000\"\nlog_level = \"debug\"\n").unwrap();
        let flags = Overrides {
            addr: Some("127.0.0.1:9001".parse().unwrap()),
            ..Overrides::default()
        };
        let config = Config::load(Config::default(), Some(&file), &flags).unwrap();
        assert_eq!(config.addr.port(), 9001);
        assert_eq!(config.log_level, "debug");
    }

    #[test]
    fn the_database_url_can_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("db-url");
        std::fs::write(&secret, "postgres://atip:pw@localhost/atip\n").unwrap();
        let file = dir.path().join("atip.toml");
        std::fs::write(
            &file,
            format!("database_url_file = {:?}\n", secret.display().to_string()),
        )
        .unwrap();
        let config = Config::load(Config::default(), Some(&file), &Overrides::default()).unwrap();
        assert_eq!(
            config.database().expose(),
            "postgres://atip:pw@localhost/atip"
        );
    }
}
