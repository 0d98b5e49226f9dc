//! `sync` on the real feed snapshot: full sync, incremental re-sync, broken
//! files that must keep the previous data, zip archives and URL sources
//! served over real HTTP with conditional requests.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use portcullis_feeds::sync::{NoProgress, SyncOptions};
use portcullis_feeds::{SourceSpec, sync};
use portcullis_testkit::data::{feed, feeds_root};
use portcullis_testkit::http::{HttpServer, Response};
use portcullis_vulndb::VulnStore;

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
            // Shared data is read-only; the copies must be editable.
            let mut permissions = fs::metadata(&target).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            permissions.set_readonly(false);
            fs::set_permissions(&target, permissions).unwrap();
        }
    }
}

async fn store_in(dir: &Path) -> VulnStore {
    VulnStore::open(dir.join("vulndb.sqlite").to_str().unwrap()).await.unwrap()
}

fn options(dir: &Path) -> SyncOptions {
    SyncOptions::new(dir.join("cache"))
}

#[tokio::test(flavor = "multi_thread")]
async fn full_snapshot_syncs_and_a_repeat_sync_parses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path()).await;
    let spec = SourceSpec::parse(feeds_root().to_str().unwrap());
    assert_eq!(spec.name(), "feeds");
    let report = sync(&store, std::slice::from_ref(&spec), &options(dir.path()), &NoProgress).await;
    let outcome = &report.sources[0];
    assert_eq!(outcome.error, None);
    assert!(outcome.files > 14_000, "{outcome:?}");
    assert_eq!(outcome.parsed, outcome.files);

    let info = &store.sources().await.unwrap()[0];
    // Per-feed provenance with the counts the feeds README states.
    assert_eq!(info.feeds["kev"].kev, 1404);
    assert_eq!(info.feeds["kev"].upstream_date.as_deref(), Some("2025-08-25"));
    assert_eq!(info.feeds["osv-pypi"].advisories, 2661);
    assert_eq!(info.feeds["osv-go"].advisories, 4291);
    assert_eq!(info.feeds["ghsa-subset"].advisories, 16);
    assert_eq!(info.feeds["packagist-friendsofphp"].advisories, 1592);
    assert!(info.feeds["osv-pypi"].formats.contains(&"osv".to_owned()));
    assert!(info.feeds["osv-pypi"].upstream_date.as_deref().unwrap() >= "2024-10-08");
    assert!(info.digest.starts_with("sha256:"));
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.kev, 1404);
    assert_eq!(counts.advisories, info.advisories);

    // Nothing changed: nothing parsed, same digest.
    let again = sync(&store, &[spec], &options(dir.path()), &NoProgress).await;
    assert_eq!(again.sources[0].error, None);
    assert_eq!(again.sources[0].parsed, 0);
    assert_eq!(again.sources[0].unchanged, outcome.files);
    let info_again = &store.sources().await.unwrap()[0];
    assert_eq!(info_again.digest, info.digest);
    assert_eq!(store.counts().await.unwrap(), counts);
}

#[tokio::test(flavor = "multi_thread")]
async fn changed_removed_and_broken_files() {
    let dir = tempfile::tempdir().unwrap();
    let mirror = dir.path().join("mirror");
    copy_dir(&feed("ghsa-subset"), &mirror.join("ghsa-subset"));
    copy_dir(&feed("kev"), &mirror.join("kev"));
    let store = store_in(dir.path()).await;
    let spec = SourceSpec::parse(&format!("offline={}", mirror.display()));
    let first = sync(&store, std::slice::from_ref(&spec), &options(dir.path()), &NoProgress).await;
    assert_eq!(first.sources[0].error, None);
    assert_eq!(first.sources[0].advisories, 16);
    let lodash = store.affected("npm", &["lodash".to_owned()]).await.unwrap();
    assert_eq!(lodash.len(), 3);

    // A truncated advisory: the sync fails naming the file, and every
    // previous record (including the file's own) stays.
    let victim = walk(&mirror.join("ghsa-subset"))
        .into_iter()
        .find(|p| p.to_string_lossy().contains("GHSA-jf85-cpcp-j695"))
        .unwrap();
    let text = fs::read(&victim).unwrap();
    fs::write(&victim, &text[..text.len() / 2]).unwrap();
    fs::remove_file(mirror.join("kev/known_exploited_vulnerabilities.csv")).unwrap();
    let broken = sync(&store, std::slice::from_ref(&spec), &options(dir.path()), &NoProgress).await;
    let error = broken.sources[0].error.clone().expect("a truncated file fails the source");
    assert!(error.contains("GHSA-jf85-cpcp-j695"), "{error}");
    assert_eq!(store.affected("npm", &["lodash".to_owned()]).await.unwrap().len(), 3);
    assert_eq!(store.files("offline").await.unwrap().len(), first.sources[0].files as usize);

    // Fixed again, minus one advisory file: that advisory goes away, only the changes are parsed.
    fs::write(&victim, &text).unwrap();
    let moment = walk(&mirror.join("ghsa-subset"))
        .into_iter()
        .find(|p| p.to_string_lossy().contains("GHSA-8hfj-j24r-96c4"))
        .unwrap();
    fs::remove_file(moment).unwrap();
    let repaired = sync(&store, &[spec], &options(dir.path()), &NoProgress).await;
    assert_eq!(repaired.sources[0].error, None);
    assert_eq!(repaired.sources[0].removed, 2, "the moment advisory and the KEV CSV");
    assert_eq!(repaired.sources[0].parsed, 0, "the repaired file has its old digest again");
    assert!(store.affected("npm", &["moment".to_owned()]).await.unwrap().is_empty());
    assert_eq!(store.sources().await.unwrap()[0].advisories, 15);
}

#[tokio::test(flavor = "multi_thread")]
async fn zip_archives_and_their_errors() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("Go-all.zip");
    zip_files(&archive, &[feed("osv-go/data/osv/GO-2022-1059.json"), feed("osv-go/data/osv/GO-2023-2102.json")]);
    let store = store_in(dir.path()).await;
    let report = sync(&store, &[SourceSpec::parse(archive.to_str().unwrap())], &options(dir.path()), &NoProgress).await;
    assert_eq!(report.sources[0].error, None);
    assert_eq!(report.sources[0].name, "Go-all");
    assert_eq!(report.sources[0].advisories, 2);
    assert_eq!(store.affected("go", &["golang.org/x/text".to_owned()]).await.unwrap().len(), 1);

    // A truncated archive is refused as a whole and keeps the previous data.
    let bytes = fs::read(&archive).unwrap();
    fs::write(&archive, &bytes[..bytes.len() - 40]).unwrap();
    let report = sync(&store, &[SourceSpec::parse(archive.to_str().unwrap())], &options(dir.path()), &NoProgress).await;
    let error = report.sources[0].error.clone().unwrap();
    assert!(error.contains("invalid zip archive"), "{error}");
    assert_eq!(store.affected("go", &["golang.org/x/text".to_owned()]).await.unwrap().len(), 1);

    let report = sync(&store, &[SourceSpec::parse("/nonexistent/feeds")], &options(dir.path()), &NoProgress).await;
    assert!(report.sources[0].error.clone().unwrap().contains("not a file, directory or zip archive"));
}

#[tokio::test(flavor = "multi_thread")]
async fn url_sources_download_once_and_revalidate() {
    let kev = fs::read(feed("kev/known_exploited_vulnerabilities.json")).unwrap();
    let server = HttpServer::start(move |request| {
        if request.path() != "/feeds/kev.json" {
            return Response::new(404);
        }
        if request.header("if-none-match") == Some("\"v1\"") {
            return Response::new(304);
        }
        Response::new(200).header("ETag", "\"v1\"").body(kev.clone())
    });
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path()).await;
    let spec = SourceSpec::parse(&format!("{}/feeds/kev.json", server.url()));
    assert_eq!(spec.name(), "kev");
    let first = sync(&store, std::slice::from_ref(&spec), &options(dir.path()), &NoProgress).await;
    assert_eq!(first.sources[0].error, None);
    assert_eq!(store.counts().await.unwrap().kev, 1404);
    let second = sync(&store, std::slice::from_ref(&spec), &options(dir.path()), &NoProgress).await;
    assert_eq!(second.sources[0].error, None);
    assert_eq!(second.sources[0].parsed, 0);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("if-none-match"), Some("\"v1\""), "the second request is conditional");

    let missing = SourceSpec::parse(&format!("{}/feeds/nothing.json", server.url()));
    let report = sync(&store, &[missing], &options(dir.path()), &NoProgress).await;
    assert!(report.sources[0].error.clone().unwrap().contains("404"), "{:?}", report.sources[0]);
    let unreachable = SourceSpec::parse("http://127.0.0.1:1/kev.json");
    let report = sync(&store, &[unreachable], &options(dir.path()), &NoProgress).await;
    assert!(report.sources[0].error.clone().unwrap().contains("cannot download"));
    assert_eq!(store.counts().await.unwrap().kev, 1404, "failures keep the data");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn zip_files(archive: &Path, files: &[PathBuf]) {
    let mut writer = zip::ZipWriter::new(fs::File::create(archive).unwrap());
    for file in files {
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        writer.start_file(file.file_name().unwrap().to_str().unwrap(), options).unwrap();
        writer.write_all(&fs::read(file).unwrap()).unwrap();
    }
    writer.finish().unwrap();
}
