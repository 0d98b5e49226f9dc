//! `portcullis objectstorage`: every command and its error paths, against
//! real databases and a real S3 server (moto with credential checks).

use std::path::Path;
use std::process::{Command, Output};

use portcullis_objstore::{DocumentStore, ObjectStoreConfig};
use portcullis_sql::Database;
use portcullis_testkit::s3::S3Server;

fn portcullis(args: &[&str], db: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["--quiet", "objectstorage"])
        .args(args)
        .env("PORTCULLIS_DATABASE_URL", db)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap()
}

#[test]
fn list_drivers() {
    let dir = tempfile::tempdir().unwrap();
    let out = portcullis(&["list-drivers"], &dir.path().join("db.sqlite"));
    assert!(out.status.success(), "{}", stderr(&out));
    let names: Vec<String> = stdout(&out).lines().map(|l| l.split_whitespace().next().unwrap().to_owned()).collect();
    assert_eq!(names, ["db", "localfs", "s3", "swift"]);
}

#[test]
fn check_accepts_good_configurations_and_explains_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("service.sqlite");
    let archive = dir.path().join("archive");
    let localfs = write(
        dir.path(),
        "localfs.yaml",
        &format!(
            "services:\n  catalog:\n    object_store:\n      storage_driver:\n        name: localfs\n        config:\n          archive_data_dir: {}\n",
            archive.display()
        ),
    );
    let out = portcullis(&["check", &localfs], &db);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("the localfs driver passed"), "{}", stdout(&out));
    assert!(archive.is_dir());

    // --database-url wins over the environment.
    let other = dir.path().join("other.sqlite");
    let bare = write(dir.path(), "db.yaml", "storage_driver: {name: db}\n");
    let out = portcullis(&["check", &bare, "--database-url", other.to_str().unwrap()], &db);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(other.is_file());

    let cases = [
        (dir.path().join("absent.yaml").display().to_string(), "cannot read the configuration file"),
        (write(dir.path(), "bad.yaml", "storage_driver: {name: db\n"), "invalid YAML"),
        (write(dir.path(), "ftp.yaml", "storage_driver: {name: ftp}\n"), "unknown storage driver \"ftp\""),
        (
            write(dir.path(), "typo.yaml", "storage_driver: {name: s3, config: {bucket: b, acess_key: x}}\n"),
            "unknown field `acess_key`",
        ),
    ];
    for (file, message) in cases {
        let out = portcullis(&["check", &file], &db);
        assert_eq!(out.status.code(), Some(2), "{file}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{file}: {}", stderr(&out));
    }
}

#[test]
fn check_reports_refused_s3_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start_with_auth();
    let config = |secret: &str| {
        format!(
            "storage_driver:\n  name: s3\n  config:\n    access_key: {}\n    secret_key: {secret}\n    url: {}\n    bucket: docs\n    create_bucket: true\n",
            server.access_key(),
            server.endpoint()
        )
    };
    let db = dir.path().join("service.sqlite");
    let good = write(dir.path(), "good.yaml", &config(server.secret_key()));
    let out = portcullis(&["check", &good], &db);
    assert!(out.status.success(), "{}", stderr(&out));
    let bad = write(dir.path(), "bad.yaml", &config("not-the-secret"));
    let out = portcullis(&["check", &bad], &db);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("refused the credentials"), "{}", stderr(&out));
}

#[test]
fn migrate_moves_documents_and_finishes_on_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("service.sqlite");
    let archive = dir.path().join("archive");
    let rt = runtime();
    let (db, store) = rt.block_on(async {
        let db = Database::open(db_path.to_str().unwrap()).await.unwrap();
        let store = DocumentStore::open(&ObjectStoreConfig::default(), &db).await.unwrap();
        for bucket in ["manifest_data", "analysis_data"] {
            for key in ["a", "b"] {
                store.put("admin", bucket, key, format!("{bucket}/{key}").as_bytes()).await.unwrap();
            }
        }
        (db, store)
    });
    let from = write(dir.path(), "from.yaml", "storage_driver: {name: db}\n");
    let to = write(
        dir.path(),
        "to.yaml",
        &format!("services: {{catalog: {{object_store: {{archive_data_dir: {}}}}}}}\n", archive.display()),
    );

    let out = portcullis(&["migrate", &from, &to, "--bucket", "analysis_data", "--nodelete"], &db_path);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("2 document(s): 2 migrated"), "{}", stdout(&out));
    let out = portcullis(&["migrate", &from, &to], &db_path);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("2 migrated"), "{}", stdout(&out));
    assert!(stdout(&out).contains("2 already there"), "{}", stdout(&out));
    rt.block_on(async {
        for doc in store.list(None, None).await.unwrap() {
            assert!(doc.url.starts_with("file://"), "{}", doc.url);
            let data = store.get(&doc.account, &doc.bucket, &doc.key).await.unwrap().unwrap();
            assert_eq!(data, format!("{}/{}", doc.bucket, doc.key).as_bytes());
        }
        // --nodelete kept the analysis_data copies in the db; the others went.
        let blobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM objstore_blobs").fetch_one(db.pool()).await.unwrap();
        assert_eq!(blobs, 2);
    });

    // A document whose bytes were tampered with fails the run (exit 2) and stays.
    let tampered = rt.block_on(async {
        let doc = store.list(None, Some("manifest_data")).await.unwrap().remove(0);
        std::fs::write(doc.url.strip_prefix("file://").unwrap(), b"forged").unwrap();
        doc
    });
    let out = portcullis(&["migrate", &to, &from], &db_path);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).contains("3 migrated"), "{}", stdout(&out));
    assert!(stderr(&out).contains("failed its integrity check"), "{}", stderr(&out));
    let kept = rt.block_on(store.meta("admin", "manifest_data", &tampered.key)).unwrap().unwrap();
    assert_eq!(kept.url, tampered.url);

    // Errors in either file are reported before anything moves.
    let out = portcullis(&["migrate", &from, &dir.path().join("nope.yaml").display().to_string()], &db_path);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope.yaml"), "{}", stderr(&out));
}
