//! `atip bench directory`: the referral search measured on a large synthetic
//! directory, side by side with SQLite FTS5 + R*Tree. It prints figures; it asserts
//! nothing (see docs/benchmarks.md for the figures and the command that made them).

pub mod generate;
pub mod hotline;
mod postgres_peer;
mod sqlite_peer;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::directory::search::{self, Filters, Near, Point, Query, Search, Sort};
use crate::directory::taxonomy;
use crate::kernel::db::{DatabaseUrl, Db};
use crate::kernel::places;

pub struct Options {
    pub services: usize,
    pub queries: usize,
    pub seed: u64,
    /// Where the generated files and databases go (a temporary folder if `None`).
    pub work_dir: Option<PathBuf>,
    /// Also measure PostgreSQL full text + GiST here (in a schema of its own).
    pub postgres_url: Option<String>,
}

/// One of the alternatives atip is measured against.
enum Peer {
    Sqlite(sqlite_peer::Peer),
    Postgres(postgres_peer::Peer),
}

impl Peer {
    fn name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "SQLite FTS5 + R*Tree",
            Self::Postgres(_) => "PostgreSQL full text + GiST",
        }
    }

    async fn search(&self, q: &Query) -> Result<Answer, sqlx::Error> {
        match self {
            Self::Sqlite(p) => p.search(q).await,
            Self::Postgres(p) => p.search(q).await,
        }
    }

    async fn close(&self) {
        match self {
            Self::Sqlite(p) => p.pool().close().await,
            Self::Postgres(p) => p.close().await,
        }
    }
}

fn peak_memory_mib() -> Option<u64> {
    high_water_mib(&std::fs::read_to_string("/proc/self/status").ok()?)
}

/// `VmHWM` (the most resident memory a process has had) of a `/proc/PID/status` text.
fn high_water_mib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// The fixed, seeded mix: a word, a circle around a real town, two or three filters,
/// nearest first, top 20.
fn queries(n: usize, seed: u64) -> Vec<Query> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let towns: Vec<&places::Place> = places::all()
        .iter()
        .filter(|p| p.population >= 20_000)
        .collect();
    let service_types: Vec<String> = taxonomy::terms()
        .iter()
        .filter(|t| t.taxonomy == "service-type")
        .map(|t| t.id.clone())
        .collect();
    let languages = ["es", "zh", "vi", "ko", "tl", "ru", "ar"];
    (0..n)
        .map(|_| {
            let town = towns[rng.random_range(0..towns.len())];
            let mut filters = Filters::default();
            let mut chosen = 0;
            while chosen < rng.random_range(2..4) {
                match rng.random_range(0..4) {
                    0 if filters.terms.is_empty() => {
                        filters
                            .terms
                            .push(service_types[rng.random_range(0..service_types.len())].clone());
                    }
                    1 if filters.languages.is_empty() => {
                        filters
                            .languages
                            .push(languages[rng.random_range(0..languages.len())].to_owned());
                    }
                    2 if filters.age.is_none() => {
                        filters.age = Some(f64::from(rng.random_range(5..70)));
                    }
                    3 if !filters.open_24_7 => filters.open_24_7 = true,
                    _ => continue,
                }
                chosen += 1;
            }
            Query {
                text: Some(
                    generate::SERVICE_WORDS[rng.random_range(0..generate::SERVICE_WORDS.len())]
                        .to_owned(),
                ),
                near: Some(Near {
                    point: Point {
                        lat: town.latitude + rng.random_range(-0.02..0.02),
                        lng: town.longitude + rng.random_range(-0.02..0.02),
                    },
                    radius_km: [25.0, 50.0, 80.0, 160.0][rng.random_range(0..4)],
                    state: None,
                }),
                filters,
                sort: Sort::Distance,
                limit: 20,
                offset: 0,
                listed_since: None,
            }
        })
        .collect()
}

type Answer = Vec<(String, Option<String>, f64)>;

fn run_atip(
    search: &Search,
    queries: &[Query],
    now: jiff::Timestamp,
) -> anyhow::Result<(Vec<Duration>, Vec<Answer>)> {
    let mut times = Vec::with_capacity(queries.len());
    let mut answers = Vec::with_capacity(queries.len());
    for q in queries {
        let start = Instant::now();
        let found = search.index().search(q, now)?;
        times.push(start.elapsed());
        answers.push(
            found
                .hits
                .iter()
                .map(|h| {
                    (
                        h.doc.service_id.clone(),
                        h.doc.service_at_location_id.clone(),
                        h.distance_km.unwrap_or(0.0),
                    )
                })
                .collect(),
        );
    }
    Ok((times, answers))
}

fn atip_throughput(search: &Search, queries: &[Query], now: jiff::Timestamp) -> f64 {
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let start = Instant::now();
    std::thread::scope(|s| {
        for chunk in queries.chunks(queries.len().div_ceil(threads).max(1)) {
            s.spawn(move || {
                for q in chunk {
                    let _ = search.index().search(q, now);
                }
            });
        }
    });
    per_second(queries.len(), start.elapsed())
}

async fn peer_throughput(peer: &Arc<Peer>, queries: &[Query]) -> f64 {
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for chunk in queries.chunks(queries.len().div_ceil(threads).max(1)) {
        let peer = Arc::clone(peer);
        let chunk = chunk.to_vec();
        tasks.push(tokio::spawn(async move {
            for q in &chunk {
                let _ = peer.search(q).await;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    per_second(queries.len(), start.elapsed())
}

/// Counts this small are exact in an f64.
#[allow(clippy::cast_precision_loss)]
fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

fn same(a: &Answer, b: &Answer) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.0 == y.0 && x.1 == y.1 && (x.2 - y.2).abs() < 1e-9)
}

/// Generates the directory and imports it the way an operator does, with
/// `atip import hsds` in a process of its own, so the import's memory is measured
/// apart from the search's; prints the rates.
async fn load(dir: &std::path::Path, options: &Options) -> anyhow::Result<Db> {
    let package = dir.join("package");
    let start = Instant::now();
    let (services, seed) = (options.services, options.seed);
    let package_dir = package.clone();
    tokio::task::spawn_blocking(move || generate::write(&package_dir, services, seed)).await??;
    println!(
        "generate datapackage: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let db_file = dir.join("atip.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db_file.display()));
    }
    let url = DatabaseUrl::sqlite_file(&db_file);
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    taxonomy::install(&db).await?;
    db.close().await;
    let start = Instant::now();
    let child = std::process::Command::new(std::env::current_exe()?)
        .args(["import", "hsds"])
        .arg(&package)
        .arg("--data-dir")
        .arg(dir)
        .arg("--database-url")
        .arg(url.expose())
        .env_remove("ATIP_CONFIG")
        .env_remove("ATIP_MASTER_KEY_FILE")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let (status, peak) = wait_measuring_memory(child).await?;
    let took = start.elapsed();
    anyhow::ensure!(status.success(), "atip import hsds failed: {status}");
    let db = Db::connect(&url).await?;
    let rows: i64 = hsds_rows(&db).await?;
    println!(
        "import into SQLite (atip import hsds): {:.1} s, {:.0} services/s ({rows} rows, {:.0} rows/s)",
        took.as_secs_f64(),
        per_second(options.services, took),
        per_second(usize::try_from(rows).unwrap_or(0), took)
    );
    println!("peak memory of the import process: {peak} MiB");
    Ok(db)
}

/// Waits for `child`, reading its high-water mark of resident memory (`VmHWM`) every
/// 20 ms; the mark only grows, so the last reading is the peak to within the last
/// 20 ms of the process.
async fn wait_measuring_memory(
    mut child: std::process::Child,
) -> anyhow::Result<(std::process::ExitStatus, u64)> {
    let status_file = PathBuf::from(format!("/proc/{}/status", child.id()));
    let mut peak = 0;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok((status, peak));
        }
        if let Some(mib) = std::fs::read_to_string(&status_file)
            .ok()
            .as_deref()
            .and_then(high_water_mib)
        {
            peak = peak.max(mib);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Rows in the HSDS tables, to report the import's rate in rows.
async fn hsds_rows(db: &Db) -> anyhow::Result<i64> {
    let mut rows = 0;
    for table in crate::directory::hsds::tables::all() {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {}",
            table.sql_name()
        )))
        .fetch_one(db.reader())
        .await?;
        rows += n;
    }
    Ok(rows)
}

/// Runs the same queries on `peer`, compares; returns its sorted latencies and
/// throughput.
async fn measure(
    peer: Peer,
    queries: &[Query],
    answers: &[Answer],
) -> anyhow::Result<(Vec<Duration>, f64)> {
    let peer = Arc::new(peer);
    // Warm the page cache with a tenth of the mix (a full pass takes minutes).
    for q in queries.iter().take(queries.len() / 10 + 1) {
        let _ = peer.search(q).await?;
    }
    let mut times = Vec::with_capacity(queries.len());
    let mut mismatches = Vec::new();
    for (n, q) in queries.iter().enumerate() {
        let start = Instant::now();
        let answer = peer.search(q).await?;
        times.push(start.elapsed());
        if !same(&answer, &answers[n]) {
            mismatches.push(n);
        }
    }
    times.sort();
    let qps = peer_throughput(&peer, queries).await;
    println!(
        "{} (sqlx): p50 {} p95 {} p99 {} max {}; {qps:.0} queries/s on all cores",
        peer.name(),
        ms(percentile(&times, 0.50)),
        ms(percentile(&times, 0.95)),
        ms(percentile(&times, 0.99)),
        ms(percentile(&times, 1.0)),
    );
    println!(
        "identical result lists: {}/{}{}",
        queries.len() - mismatches.len(),
        queries.len(),
        mismatches
            .first()
            .map(|n| format!(" (first difference: query {n})"))
            .unwrap_or_default()
    );
    peer.close().await;
    Ok((times, qps))
}

/// Builds the SQLite peer from the documents.
async fn sqlite(dir: &std::path::Path, docs: &[Arc<search::Doc>]) -> anyhow::Result<Peer> {
    let file = dir.join("peer.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    let start = Instant::now();
    let peer = sqlite_peer::Peer::build(&file, docs).await?;
    println!(
        "SQLite FTS5 + R*Tree build: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(Peer::Sqlite(peer))
}

/// Builds the PostgreSQL peer from the documents.
async fn postgres(url: &str, docs: &[Arc<search::Doc>]) -> anyhow::Result<Peer> {
    let start = Instant::now();
    let peer = postgres_peer::Peer::build(url, docs).await?;
    println!(
        "PostgreSQL full text + GiST build: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(Peer::Postgres(peer))
}

/// Runs the benchmark and prints its figures.
pub async fn directory(options: Options) -> anyhow::Result<()> {
    let dir = match &options.work_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => tempfile_dir()?,
    };
    println!(
        "# atip bench directory: {} services, {} queries, seed {}",
        options.services, options.queries, options.seed
    );
    let db = load(&dir, &options).await?;
    let start = Instant::now();
    let search = Search::build(&db).await?;
    println!(
        "index build from the database: {:.1} s ({} referral targets)",
        start.elapsed().as_secs_f64(),
        search.index().len()
    );
    let queries = queries(options.queries, options.seed);
    let now: jiff::Timestamp = "2026-11-30T18:00:00Z".parse()?;
    // One pass to warm caches, then the measured pass.
    let _ = run_atip(&search, &queries, now)?;
    let (mut times, answers) = run_atip(&search, &queries, now)?;
    times.sort();
    let qps = atip_throughput(&search, &queries, now);
    let hits: usize = answers.iter().map(Vec::len).sum();
    println!(
        "atip (tantivy + grid, in process): p50 {} p95 {} p99 {} max {}; {qps:.0} queries/s on all cores; {:.1} results per query",
        ms(percentile(&times, 0.50)),
        ms(percentile(&times, 0.95)),
        ms(percentile(&times, 0.99)),
        ms(percentile(&times, 1.0)),
        per_second(hits, Duration::from_secs(1))
            / per_second(queries.len(), Duration::from_secs(1)),
    );
    println!(
        "peak memory of the search process (index built, queries run): {} MiB",
        peak_memory_mib().unwrap_or(0)
    );
    // The peer gets the same documents, loaded whole (the index keeps them slim).
    let docs: Vec<Arc<search::Doc>> = search::load::documents(&db, None)
        .await?
        .into_iter()
        .map(Arc::new)
        .collect();
    let ratio = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64().max(1e-12);
    let mut peers = vec![("SQLite", sqlite(&dir, &docs).await?)];
    match &options.postgres_url {
        Some(url) => peers.push(("PostgreSQL", postgres(url, &docs).await?)),
        None => println!("PostgreSQL peer: not run (give --postgres-url)"),
    }
    drop(docs);
    for (label, peer) in peers {
        let (peer_times, peer_qps) = measure(peer, &queries, &answers).await?;
        println!(
            "atip vs {label}: p50 {:.1}x, p99 {:.1}x faster; {:.1}x the queries/s",
            ratio(percentile(&times, 0.5), percentile(&peer_times, 0.5)),
            ratio(percentile(&times, 0.99), percentile(&peer_times, 0.99)),
            qps / peer_qps.max(1e-9)
        );
    }
    println!(
        "peak memory (whole run): {} MiB",
        peak_memory_mib().unwrap_or(0)
    );
    db.close().await;
    if options.work_dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

fn tempfile_dir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("atip-bench-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
