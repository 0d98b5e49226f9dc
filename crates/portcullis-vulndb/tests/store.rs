//! The store against both engines: SQLite in a temporary directory and a
//! fresh database on the machine's PostgreSQL server.

use portcullis_testkit::postgres::TempDatabase;
use portcullis_vulndb::{
    Advisory, Affected, Backend, EpssEntry, FileSummary, FixState, KevEntry, RangeEvent, Record, Scheme, SourceInfo,
    VersionRange, VulnStore,
};

fn advisory(id: &str, package: &str, fixed: &str) -> Record {
    Record::Advisory(Box::new(Advisory {
        id: id.to_owned(),
        aliases: vec![format!("GHSA-{id}")],
        affected: vec![Affected {
            namespace: "pypi".to_owned(),
            package: package.to_owned(),
            scheme: Scheme::Pep440,
            ranges: vec![VersionRange::Events {
                events: vec![RangeEvent::Introduced("0".to_owned()), RangeEvent::Fixed(fixed.to_owned())],
            }],
            versions: Vec::new(),
            state: FixState::Fixed,
            fixed: vec![fixed.to_owned()],
            severity: None,
            note: None,
            cpe: None,
        }],
        ..Advisory::default()
    }))
}

fn file(path: &str, digest: &str) -> FileSummary {
    FileSummary {
        path: path.to_owned(),
        digest: digest.to_owned(),
        format: Some("osv".to_owned()),
        advisories: 1,
        ..FileSummary::default()
    }
}

fn source(name: &str, digest: &str) -> SourceInfo {
    SourceInfo {
        name: name.to_owned(),
        location: "/somewhere".to_owned(),
        formats: vec!["osv".to_owned()],
        digest: digest.to_owned(),
        files: 2,
        advisories: 2,
        synced_at: "2026-11-26T00:00:00Z".to_owned(),
        ..SourceInfo::default()
    }
}

async fn exercise(store: VulnStore) {
    let mut tx = store.begin_sync().await.unwrap();
    tx.replace_file("osv-pypi", &file("a.yaml", "sha256:1"), &[advisory("PYSEC-1", "requests", "2.20.0")])
        .await
        .unwrap();
    tx.replace_file(
        "osv-pypi",
        &file("b.yaml", "sha256:2"),
        &[
            advisory("PYSEC-2", "urllib3", "1.24.2"),
            Record::Kev(KevEntry {
                cve: "CVE-2021-44228".to_owned(),
                vendor: "Apache".to_owned(),
                product: "Log4j2".to_owned(),
                name: "Log4Shell".to_owned(),
                date_added: "2021-12-10".to_owned(),
                due_date: None,
                ransomware: Some("Known".to_owned()),
                required_action: None,
            }),
            Record::Epss(EpssEntry {
                cve: "CVE-2021-44228".to_owned(),
                score: 0.97,
                percentile: 0.9999,
                date: Some("2023-09-10".to_owned()),
            }),
        ],
    )
    .await
    .unwrap();
    tx.set_source(&source("osv-pypi", "sha256:first")).await.unwrap();
    tx.commit().await.unwrap();

    let rows = store.affected("pypi", &["requests".to_owned(), "django".to_owned()]).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].advisory_id, "PYSEC-1");
    assert_eq!(rows[0].affected.fixed, vec!["2.20.0"]);
    let advisories = store.advisories(&["PYSEC-2".to_owned(), "nope".to_owned()]).await.unwrap();
    assert_eq!(advisories.len(), 1);
    assert_eq!(advisories[0].advisory.aliases, vec!["GHSA-PYSEC-2"]);
    assert_eq!(store.kev(&["CVE-2021-44228".to_owned()]).await.unwrap()[0].date_added, "2021-12-10");
    assert_eq!(store.epss(&["CVE-2021-44228".to_owned()]).await.unwrap()[0].score, 0.97);
    let files = store.files("osv-pypi").await.unwrap();
    let b = files.iter().find(|f| f.path == "b.yaml").unwrap();
    assert_eq!((b.digest.as_str(), b.format.as_deref(), b.advisories, b.kev), ("sha256:2", Some("osv"), 1, 0));

    // A sync that is dropped before commit changes nothing.
    {
        let mut tx = store.begin_sync().await.unwrap();
        tx.remove_file("osv-pypi", "a.yaml").await.unwrap();
        tx.set_source(&source("osv-pypi", "sha256:second")).await.unwrap();
    }
    assert_eq!(store.affected("pypi", &["requests".to_owned()]).await.unwrap().len(), 1);
    assert_eq!(store.sources().await.unwrap()[0].digest, "sha256:first");

    // Replacing a file replaces its records; removing a source removes everything it had.
    let mut tx = store.begin_sync().await.unwrap();
    tx.replace_file("osv-pypi", &file("a.yaml", "sha256:3"), &[advisory("PYSEC-3", "requests", "2.31.0")])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let rows = store.affected("pypi", &["requests".to_owned()]).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.advisory_id.as_str()).collect::<Vec<_>>(), vec!["PYSEC-3"]);
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.advisories, counts.affected, counts.kev, counts.epss), (2, 2, 1, 1));

    let mut tx = store.begin_sync().await.unwrap();
    tx.remove_source("osv-pypi").await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.sources().await.unwrap().is_empty());
    assert_eq!(store.counts().await.unwrap().advisories, 0);
    store.close().await;
}

#[tokio::test]
async fn sqlite_store_round_trips_and_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/vulns.db");
    let store = VulnStore::open(path.to_str().unwrap()).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    exercise(store).await;
    // Reopening runs no migration twice.
    VulnStore::open(path.to_str().unwrap()).await.unwrap();
}

#[tokio::test]
async fn postgres_store_round_trips_and_rolls_back() {
    let db = TempDatabase::create();
    let store = VulnStore::open(&db.url()).await.unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
    exercise(store).await;
    VulnStore::open(&db.url()).await.unwrap().close().await;
}

#[tokio::test]
async fn unreachable_and_unsupported_locations_are_errors() {
    let err = VulnStore::open("mysql://localhost/x").await.unwrap_err();
    assert!(err.to_string().contains("unsupported database URL"), "{err}");
    let err = VulnStore::open("postgres://postgres@127.0.0.1:1/none").await.unwrap_err();
    assert!(err.to_string().contains("cannot open the database"), "{err}");
}
