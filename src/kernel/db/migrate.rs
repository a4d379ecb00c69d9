//! Embedded migrations, and the checks that keep atip from writing into a database
//! that is not its own or is newer than it.

use std::collections::BTreeSet;

use sqlx::Row;
use sqlx::migrate::Migrator;

use super::{Backend, Db};

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

pub fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "the database is not empty and was not created by atip (it has tables such as {example:?}); point --database-url at an empty database or an atip one"
    )]
    Foreign { example: String },
    #[error(
        "the database was last migrated by a newer atip (it has migration {version}, which this build does not know); run the newer atip or restore a backup"
    )]
    Newer { version: i64 },
    #[error(
        "migration {version} failed part-way on an earlier run; restore the database from a backup, then run `atip migrate` again"
    )]
    Dirty { version: i64 },
    #[error("migrating the database failed: {0}; nothing was changed by the failed step")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("reading the database schema failed: {0}")]
    Read(#[from] sqlx::Error),
}

/// Where the database stands against this build's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    pub applied: BTreeSet<i64>,
    pub known: BTreeSet<i64>,
}

impl MigrationState {
    pub fn is_current(&self) -> bool {
        self.applied == self.known
    }
}

impl Db {
    /// Brings the schema up to date after checking the database is atip's and not newer.
    pub async fn migrate(&self) -> Result<(), SchemaError> {
        self.check_schema().await?;
        migrator(self.backend).run(&self.write).await?;
        Ok(())
    }

    pub async fn migration_state(&self) -> Result<MigrationState, sqlx::Error> {
        let known = migrator(self.backend).iter().map(|m| m.version).collect();
        let applied = if self.table_names().await?.contains(MIGRATIONS_TABLE) {
            sqlx::query("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|row| row.try_get::<i64, _>(0))
                .collect::<Result<_, _>>()?
        } else {
            BTreeSet::new()
        };
        Ok(MigrationState { applied, known })
    }

    async fn check_schema(&self) -> Result<(), SchemaError> {
        let tables = self.table_names().await?;
        if !tables.contains(MIGRATIONS_TABLE) {
            return match tables.into_iter().next() {
                Some(example) => Err(SchemaError::Foreign { example }),
                None => Ok(()),
            };
        }
        let rows = sqlx::query(
            "SELECT version, CAST(CASE WHEN success THEN 1 ELSE 0 END AS BIGINT) FROM _sqlx_migrations ORDER BY version",
        )
            .fetch_all(&self.read)
            .await?;
        let known = migrator(self.backend);
        for row in rows {
            let version: i64 = row.try_get(0)?;
            let success = row.try_get::<i64, _>(1)? == 1;
            if !known.version_exists(version) {
                return Err(SchemaError::Newer { version });
            }
            if !success {
                return Err(SchemaError::Dirty { version });
            }
        }
        Ok(())
    }

    /// Names of the user tables in the current database (or PostgreSQL schema).
    pub async fn table_names(&self) -> Result<BTreeSet<String>, sqlx::Error> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            }
            Backend::Postgres => {
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            }
        };
        sqlx::query_scalar::<_, String>(sql)
            .fetch_all(&self.read)
            .await
            .map(|v| v.into_iter().collect())
    }

    /// (table, column, portable type) for every column: the migration parity test
    /// compares these between the two databases.
    pub async fn columns(&self) -> Result<BTreeSet<(String, String, String)>, sqlx::Error> {
        let mut out = BTreeSet::new();
        match self.backend {
            Backend::Sqlite => {
                for table in self.table_names().await? {
                    let rows = sqlx::query("SELECT name, type FROM pragma_table_info($1)")
                        .bind(&table)
                        .fetch_all(&self.read)
                        .await?;
                    for row in rows {
                        let name: String = row.try_get(0)?;
                        let ty: String = row.try_get(1)?;
                        out.insert((table.clone(), name, portable_type(&ty)));
                    }
                }
            }
            Backend::Postgres => {
                let rows = sqlx::query(
                    "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema()",
                )
                .fetch_all(&self.read)
                .await?;
                for row in rows {
                    out.insert((
                        row.try_get(0)?,
                        row.try_get(1)?,
                        portable_type(&row.try_get::<String, _>(2)?),
                    ));
                }
            }
        }
        Ok(out)
    }
}

/// Maps each dialect's name for a type to one word, so the two schemas compare.
fn portable_type(declared: &str) -> String {
    let t = declared.to_ascii_lowercase();
    let word = match t.as_str() {
        "text" | "character varying" | "varchar" => "text",
        "bigint" | "integer" | "int8" | "int" => "integer",
        "double precision" | "real" | "float8" => "float",
        "boolean" | "bool" => "boolean",
        "blob" | "bytea" => "bytes",
        other => other,
    };
    word.to_owned()
}
