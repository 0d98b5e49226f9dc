//! `migrate`: db -> localfs -> s3 -> db on one database, every document
//! compared at each step; reruns, bucket filters, --nodelete and a run
//! cancelled half-way (as a crash would stop it).

mod common;

use std::collections::BTreeMap;

use common::{Backend, s3_config, s3_object};
use object_store::ObjectStoreExt;
use portcullis_objstore::{DocumentStore, MigrateOptions, ObjectStoreConfig, migrate};
use portcullis_testkit::s3::S3Server;
use serde_json::json;

type Snapshot = BTreeMap<(String, String, String), Vec<u8>>;

async fn snapshot(store: &DocumentStore) -> Snapshot {
    let mut all = Snapshot::new();
    for doc in store.list(None, None).await.unwrap() {
        let data = store.get(&doc.account, &doc.bucket, &doc.key).await.unwrap().unwrap();
        all.insert((doc.account, doc.bucket, doc.key), data);
    }
    all
}

async fn schemes(store: &DocumentStore) -> Vec<String> {
    let mut schemes: Vec<String> =
        store.list(None, None).await.unwrap().iter().map(|d| d.url.split("://").next().unwrap().to_owned()).collect();
    schemes.dedup();
    schemes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn db_to_localfs_to_s3_to_db() {
    let backend = Backend::db_sqlite().await;
    let server = S3Server::start();
    let mut db_config = ObjectStoreConfig::default();
    db_config.compression.enabled = true;
    db_config.compression.min_size_kbytes = 1;
    let localfs = ObjectStoreConfig::with_driver("localfs", json!({"archive_data_dir": backend.dir.path().join("fs")}));
    let s3 = s3_config(&server, "migrated", true);

    let store = DocumentStore::open(&db_config, &backend.db).await.unwrap();
    for account in ["admin", "team ü"] {
        for bucket in ["manifest_data", "analysis_data", "policy_evaluations"] {
            for i in 0..5 {
                let data = format!("{account}/{bucket}/{i} ").repeat(if i == 0 { 500 } else { 3 });
                store.put(account, bucket, &format!("sha256:{i:064}"), data.as_bytes()).await.unwrap();
            }
        }
    }
    let before = snapshot(&store).await;
    assert_eq!(before.len(), 30);

    // A partial run (one bucket), then the rest: the second run finishes the job.
    let only = MigrateOptions { buckets: vec!["manifest_data".into()], ..MigrateOptions::default() };
    let report = migrate(&backend.db, &db_config, &localfs, &only, &mut |_| {}).await.unwrap();
    assert_eq!((report.total, report.migrated), (10, 10));
    let mut seen = Vec::new();
    let report =
        migrate(&backend.db, &db_config, &localfs, &MigrateOptions::default(), &mut |p| seen.push((p.done, p.total)))
            .await
            .unwrap();
    assert_eq!((report.total, report.migrated, report.already_migrated), (30, 20, 10));
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(seen.last(), Some(&(30, 30)));
    assert_eq!(schemes(&store).await, ["file"]);
    assert_eq!(snapshot(&store).await, before);
    let blobs: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM objstore_blobs").fetch_one(backend.db.pool()).await.unwrap();
    assert_eq!(blobs, 0, "source copies are deleted by default");

    // localfs -> s3, cancelled after a few documents as a crash would stop it, then run again.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let defaults = MigrateOptions::default();
    let mut cut = |p: &portcullis_objstore::MigrateProgress| {
        if p.done == 7 {
            let _ = tx.send(());
        }
    };
    let run = migrate(&backend.db, &localfs, &s3, &defaults, &mut cut);
    tokio::select! {
        biased;
        _ = rx.recv() => {}
        report = run => panic!("the run was meant to be cut short: {report:?}"),
    }
    // Half the documents are on S3 now: a store configured for S3 reads both.
    let s3_store = DocumentStore::open(&s3, &backend.db).await.unwrap();
    assert_eq!(snapshot(&s3_store).await, before, "no document is lost half-way");
    let report = migrate(&backend.db, &localfs, &s3, &MigrateOptions::default(), &mut |_| {}).await.unwrap();
    assert!(report.migrated >= 30 - 8 && report.migrated + report.already_migrated == 30, "{report:?}");
    assert_eq!(schemes(&store).await, ["s3"]);
    assert_eq!(snapshot(&s3_store).await, before);

    // s3 -> db keeping the source copies: every document now reads from the db and S3 keeps its copy.
    let keep = MigrateOptions { delete_source: false, ..MigrateOptions::default() };
    let s3_urls: Vec<String> = store.list(None, None).await.unwrap().into_iter().map(|d| d.url).collect();
    let report = migrate(&backend.db, &s3, &db_config, &keep, &mut |_| {}).await.unwrap();
    assert_eq!(report.migrated, 30);
    assert_eq!(schemes(&store).await, ["db"]);
    assert_eq!(snapshot(&store).await, before);
    for url in &s3_urls {
        let (bucket, path) = s3_object(&server, url).unwrap();
        assert!(bucket.get(&path).await.is_ok(), "{url} kept");
    }

    // Idempotent: nothing left to do.
    let report = migrate(&backend.db, &s3, &db_config, &keep, &mut |_| {}).await.unwrap();
    assert_eq!((report.migrated, report.already_migrated), (0, 30));
}

/// A source document whose bytes were tampered with is reported, never copied.
#[tokio::test]
async fn corrupt_sources_are_reported_and_stay() {
    let backend = Backend::db_sqlite().await;
    let store = DocumentStore::open(&backend.config, &backend.db).await.unwrap();
    let good = store.put("admin", "b", "good", b"fine").await.unwrap();
    let bad = store.put("admin", "b", "bad", b"original").await.unwrap();
    backend.tamper(&bad.url, b"forged").await;
    let localfs = ObjectStoreConfig::with_driver("localfs", json!({"archive_data_dir": backend.dir.path().join("fs")}));
    let report =
        migrate(&backend.db, &backend.config, &localfs, &MigrateOptions::default(), &mut |_| {}).await.unwrap();
    assert_eq!(report.migrated, 1);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].key, "bad");
    assert!(report.failures[0].error.contains("integrity"), "{}", report.failures[0].error);
    assert_eq!(store.meta("admin", "b", "bad").await.unwrap().unwrap().url, bad.url);
    assert_ne!(store.meta("admin", "b", "good").await.unwrap().unwrap().url, good.url);
}
