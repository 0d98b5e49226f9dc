//! One suite, run against every driver on a real backend: db on SQLite and
//! on PostgreSQL, localfs, s3 on moto, swift on a single-node Swift.

mod common;

use common::Backend;
use portcullis_objstore::{DocumentStore, ObjectStoreError};
use sha2::{Digest, Sha256};

/// Bytes that zlib cannot shrink (an xorshift stream).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

async fn suite(backend: &Backend, compression: bool) {
    let mut config = backend.config.clone();
    config.compression.enabled = compression;
    config.compression.min_size_kbytes = 1;
    let store = DocumentStore::open(&config, &backend.db).await.unwrap();
    let scheme = match store.driver_name() {
        "localfs" => "file://",
        "db" => "db://",
        "s3" => "s3://",
        _ => "swift://",
    };
    let account = if compression { "acct-zlib" } else { "acct-plain" };

    // put / get / metadata
    let small = br#"{"manifest": "small"}"#;
    let meta = store.put(account, "manifest_data", "sha256:abc", small).await.unwrap();
    assert!(meta.url.starts_with(scheme), "{}", meta.url);
    assert!(!meta.compressed, "documents under min_size_kbytes stay as they are");
    assert_eq!(meta.size, small.len() as u64);
    assert_eq!(meta.digest, format!("sha256:{}", hex::encode(Sha256::digest(small))));
    assert_eq!(store.get(account, "manifest_data", "sha256:abc").await.unwrap().unwrap(), small);
    assert!(store.exists(account, "manifest_data", "sha256:abc").await.unwrap());
    assert_eq!(store.get(account, "manifest_data", "nope").await.unwrap(), None);
    assert!(!store.exists(account, "manifest_data", "nope").await.unwrap());

    // compression: a large, repetitive document shrinks only when enabled
    let sbom = "{\"package\": \"libc6\", \"version\": \"2.36-9\"}\n".repeat(2000).into_bytes();
    let meta = store.put(account, "analysis_data", "img1", &sbom).await.unwrap();
    assert_eq!(meta.compressed, compression);
    assert_eq!(meta.size, sbom.len() as u64);
    if compression {
        assert!(meta.stored_size * 10 < meta.size, "{meta:?}");
    } else {
        assert_eq!(meta.stored_size, meta.size);
    }
    let raw = backend.raw_get(&meta.url).await.unwrap();
    assert_eq!(raw.len() as u64, meta.stored_size);
    assert_eq!(store.get(account, "analysis_data", "img1").await.unwrap().unwrap(), sbom);

    // overwrite replaces, and the replaced object goes
    let old_url = meta.url.clone();
    let second = b"second version".to_vec();
    let meta2 = store.put(account, "analysis_data", "img1", &second).await.unwrap();
    assert_ne!(meta2.url, old_url);
    assert_eq!(meta2.created_at, meta.created_at);
    assert_eq!(store.get(account, "analysis_data", "img1").await.unwrap().unwrap(), second);
    assert_eq!(backend.raw_get(&old_url).await, None, "the replaced version is deleted");

    // JSON
    let value = serde_json::json!({"policy": "default", "rules": [1, 2, 3]});
    store.put_json(account, "policy_bundles", "default", &value).await.unwrap();
    let back: serde_json::Value = store.get_json(account, "policy_bundles", "default").await.unwrap().unwrap();
    assert_eq!(back, value);
    let not_json = store.get_json::<serde_json::Value>(account, "analysis_data", "img1").await.unwrap_err();
    assert!(matches!(not_json, ObjectStoreError::Json { .. }), "{not_json}");

    // odd names are distinct documents, each readable
    let long = "k".repeat(400);
    let odd = ["ключ/ünï €/日本", "a//b", "a/b", "../../etc/passwd", ".", "with space & ?#%=+", long.as_str()];
    for (i, key) in odd.iter().enumerate() {
        store.put(account, "odd/bucket ü", key, format!("doc {i}").as_bytes()).await.unwrap();
    }
    for (i, key) in odd.iter().enumerate() {
        let got = store.get(account, "odd/bucket ü", key).await.unwrap().unwrap();
        assert_eq!(got, format!("doc {i}").as_bytes(), "{key}");
    }

    // a large document (incompressible, so it is stored as it is even with compression on)
    let large = noise(6 << 20, 7);
    let meta = store.put(account, "image_content", "big", &large).await.unwrap();
    assert!(!meta.compressed);
    assert_eq!(store.get(account, "image_content", "big").await.unwrap().unwrap(), large);

    // concurrent puts: distinct keys, and many writers of one key
    let mut tasks = Vec::new();
    for i in 0..24 {
        let store = store.clone();
        let account = account.to_owned();
        tasks.push(tokio::spawn(async move {
            let key = if i % 2 == 0 { format!("k{i}") } else { "shared".to_owned() };
            store.put(&account, "concurrent", &key, format!("writer {i}").as_bytes()).await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let listed = store.list(Some(account), Some("concurrent")).await.unwrap();
    assert_eq!(listed.len(), 13);
    for doc in &listed {
        let data = String::from_utf8(store.get(account, "concurrent", &doc.key).await.unwrap().unwrap()).unwrap();
        assert!(data.starts_with("writer "), "{data}");
        if doc.key == "shared" {
            let writer: u32 = data["writer ".len()..].parse().unwrap();
            assert!(writer % 2 == 1);
        } else {
            assert_eq!(doc.key, format!("k{}", &data["writer ".len()..]));
        }
    }

    // list: filters and order
    let all = store.list(Some(account), None).await.unwrap();
    let names: Vec<_> = all.iter().map(|d| (d.bucket.clone(), d.key.clone())).collect();
    let sorted = {
        let mut sorted = names.clone();
        sorted.sort();
        sorted
    };
    assert_eq!(names, sorted);
    assert_eq!(all.len(), 1 + 1 + 1 + odd.len() + 1 + 13);
    assert_eq!(store.list(None, Some("manifest_data")).await.unwrap().len(), 1);

    // integrity: tampered bytes are an error, never data
    let meta = store.put(account, "vulnerability_report", "img1", b"{\"vulns\": []}").await.unwrap();
    backend.tamper(&meta.url, b"{\"vulns\": [\"forged\"]}").await;
    match store.get(account, "vulnerability_report", "img1").await {
        Err(ObjectStoreError::Integrity { account: a, bucket, key, expected, actual }) => {
            assert_eq!((a.as_str(), bucket.as_str(), key.as_str()), (account, "vulnerability_report", "img1"));
            assert_eq!(expected, meta.digest);
            assert_ne!(actual, expected);
        }
        other => panic!("expected an integrity error, got {other:?}"),
    }
    // ... and a vanished object is an error too, not a missing document
    let meta = store.put(account, "vulnerability_report", "img2", b"x").await.unwrap();
    let deleted_under = store.list(Some(account), Some("vulnerability_report")).await.unwrap();
    assert_eq!(deleted_under.len(), 2);
    backend.raw_delete(&meta.url).await;
    let missing = store.get(account, "vulnerability_report", "img2").await.unwrap_err();
    assert!(matches!(missing, ObjectStoreError::Missing { .. }), "{missing}");

    // delete
    let url = store.list(Some(account), Some("manifest_data")).await.unwrap()[0].url.clone();
    assert!(store.delete(account, "manifest_data", "sha256:abc").await.unwrap());
    assert!(!store.delete(account, "manifest_data", "sha256:abc").await.unwrap());
    assert_eq!(store.get(account, "manifest_data", "sha256:abc").await.unwrap(), None);
    assert_eq!(backend.raw_get(&url).await, None);

    // bad names
    let empty = store.put(account, "", "k", b"x").await.unwrap_err();
    assert!(matches!(empty, ObjectStoreError::InvalidName(_)), "{empty}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn db_on_sqlite() {
    let backend = Backend::db_sqlite().await;
    suite(&backend, false).await;
    suite(&backend, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn db_on_postgres() {
    let backend = Backend::db_postgres().await;
    suite(&backend, false).await;
    suite(&backend, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn localfs() {
    let backend = Backend::localfs().await;
    suite(&backend, false).await;
    suite(&backend, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_on_moto() {
    let backend = Backend::s3().await;
    suite(&backend, false).await;
    suite(&backend, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn swift_single_node() {
    let backend = Backend::swift().await;
    suite(&backend, false).await;
    suite(&backend, true).await;
}
