//! FIRST EPSS daily scores (`epss_scores-YYYY-MM-DD.csv.gz`), gzip-compressed as published
//! or plain:
//!
//! ```text
//! #model_version:v2023.03.01,score_date:2023-09-10T00:00:00+0000
//! cve,epss,percentile
//! CVE-1999-0001,0.01141,0.83404
//! ```
//!
//! The comment line (absent from the oldest files) gives the score date. Every row must be
//! complete and the text must end with a newline, as upstream writes it: a file cut inside
//! its last row would otherwise still parse, with a wrong last score.

use std::borrow::Cow;
use std::io::Read;

use flate2::read::MultiGzDecoder;
use portcullis_vulndb::{EpssEntry, Record};
use serde::Deserialize;

use super::FormatError;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The full file is about 10 MB of text; anything far larger is not an EPSS file.
const MAX_TEXT_BYTES: u64 = 256 << 20;

const HEADER: [&str; 3] = ["cve", "epss", "percentile"];

pub fn recognizes(path: &str, head: &[u8]) -> bool {
    if !(path.ends_with(".csv") || path.ends_with(".csv.gz")) {
        return false;
    }
    let text: Cow<'_, [u8]> = if head.starts_with(&GZIP_MAGIC) {
        // The head is a cut-off gzip stream: whatever decodes before the cut is enough.
        let mut prefix = Vec::new();
        let _cut_off = MultiGzDecoder::new(head).take(256).read_to_end(&mut prefix);
        Cow::Owned(prefix)
    } else {
        Cow::Borrowed(head)
    };
    let text = String::from_utf8_lossy(&text);
    let mut lines = text.lines();
    match lines.next() {
        Some(comment) if comment.starts_with("#model_version:") => true,
        Some(header) => header.trim().split(',').eq(HEADER),
        None => false,
    }
}

pub fn parse(path: &str, bytes: &[u8]) -> Result<Vec<Record>, FormatError> {
    let text = if bytes.starts_with(&GZIP_MAGIC) { Cow::Owned(gunzip(path, bytes)?) } else { Cow::Borrowed(bytes) };
    let text = std::str::from_utf8(&text).map_err(|e| FormatError::invalid(path, format!("not UTF-8: {e}")))?;
    if !text.ends_with('\n') {
        return Err(FormatError::invalid(path, "truncated: the last row does not end with a newline"));
    }
    let (date, table) = match text.strip_prefix('#') {
        Some(comment) => {
            let (comment, table) = comment.split_once('\n').unwrap_or((comment, ""));
            (score_date(comment), table)
        }
        None => (None, text),
    };
    let csv_error = |source| FormatError::Csv { path: path.to_owned(), source };
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(table.as_bytes());
    let header = reader.headers().map_err(csv_error)?;
    if !header.iter().map(str::trim).eq(HEADER) {
        return Err(FormatError::invalid(
            path,
            format!("header is {:?}, expected cve,epss,percentile", header.as_slice()),
        ));
    }
    let mut records = Vec::new();
    for row in reader.deserialize::<Row>() {
        let row = row.map_err(csv_error)?;
        let row_number = records.len() + 1;
        let in_unit_range = |value: f64| (0.0..=1.0).contains(&value);
        if !row.cve.starts_with("CVE-") || !in_unit_range(row.epss) || !in_unit_range(row.percentile) {
            return Err(FormatError::invalid(
                path,
                format!(
                    "row {row_number}: {} {} {} is not a CVE id with two scores in 0..1",
                    row.cve, row.epss, row.percentile
                ),
            ));
        }
        records.push(Record::Epss(EpssEntry {
            cve: row.cve,
            score: row.epss,
            percentile: row.percentile,
            date: date.clone(),
        }));
    }
    if records.is_empty() {
        return Err(FormatError::invalid(path, "no scores"));
    }
    Ok(records)
}

#[derive(Deserialize)]
struct Row {
    cve: String,
    epss: f64,
    percentile: f64,
}

/// `score_date` from `model_version:v2023.03.01,score_date:2023-09-10T00:00:00+0000`.
fn score_date(comment: &str) -> Option<String> {
    comment
        .split(',')
        .find_map(|field| field.trim().strip_prefix("score_date:"))
        .map(str::trim)
        .filter(|date| !date.is_empty())
        .map(str::to_owned)
}

fn gunzip(path: &str, bytes: &[u8]) -> Result<Vec<u8>, FormatError> {
    let mut text = Vec::new();
    MultiGzDecoder::new(bytes)
        .take(MAX_TEXT_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|e| FormatError::invalid(path, format!("gzip: {e}")))?;
    if text.len() as u64 > MAX_TEXT_BYTES {
        return Err(FormatError::invalid(path, format!("more than {MAX_TEXT_BYTES} bytes once decompressed")));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    /// The first rows of the 2023-09-10 file, in upstream's layout.
    const SCORES: &str = "#model_version:v2023.03.01,score_date:2023-09-10T00:00:00+0000\n\
                          cve,epss,percentile\n\
                          CVE-1999-0001,0.01141,0.83404\n\
                          CVE-1999-0002,0.02003,0.87912\n\
                          CVE-2021-44228,0.97565,0.99996\n\
                          CVE-2023-4911,0.00125,0.46729\n";

    fn gzip(text: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(text).unwrap();
        encoder.finish().unwrap()
    }

    fn entries(records: Vec<Record>) -> Vec<EpssEntry> {
        records
            .into_iter()
            .map(|record| match record {
                Record::Epss(entry) => entry,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn plain_and_gzip() {
        let compressed = gzip(SCORES.as_bytes());
        assert!(recognizes("epss_scores-2023-09-10.csv", SCORES.as_bytes()));
        assert!(recognizes("epss_scores-2023-09-10.csv.gz", &compressed[..compressed.len() - 10]));
        let plain = entries(parse("epss.csv", SCORES.as_bytes()).unwrap());
        assert_eq!(plain, entries(parse("epss.csv.gz", &compressed).unwrap()));
        assert_eq!(plain.len(), 4);
        assert_eq!(
            plain[2],
            EpssEntry {
                cve: "CVE-2021-44228".into(),
                score: 0.97565,
                percentile: 0.99996,
                date: Some("2023-09-10T00:00:00+0000".into())
            }
        );
        let undated = entries(parse("old.csv", b"cve,epss,percentile\nCVE-2021-1,0.5,0.5\n").unwrap());
        assert_eq!(undated[0].date, None);
    }

    #[test]
    fn other_csv_files_are_not_epss() {
        assert!(!recognizes("known_exploited_vulnerabilities.csv", b"cveID,vendorProject,product\n"));
        assert!(!recognizes("epss.json", SCORES.as_bytes()));
    }

    #[test]
    fn truncated_and_garbled_inputs_are_errors() {
        let compressed = gzip(SCORES.as_bytes());
        let cut_row = &SCORES[..SCORES.len() - 5];
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("cut inside the last row", cut_row.as_bytes().to_vec()),
            ("cut gzip", compressed[..compressed.len() - 12].to_vec()),
            ("short row", b"cve,epss,percentile\nCVE-2021-1,0.5\n".to_vec()),
            ("not a number", b"cve,epss,percentile\nCVE-2021-1,high,0.5\n".to_vec()),
            ("out of range", b"cve,epss,percentile\nCVE-2021-1,1.5,0.5\n".to_vec()),
            ("not a CVE", b"cve,epss,percentile\nGHSA-x,0.5,0.5\n".to_vec()),
            ("wrong header", b"cveID,vendorProject,product\nCVE-2021-1,a,b\n".to_vec()),
            ("header only", b"#model_version:v1,score_date:x\ncve,epss,percentile\n".to_vec()),
            ("empty", Vec::new()),
            ("binary", vec![0xff, 0xfe, b'\n']),
        ];
        for (case, bytes) in cases {
            let error = parse("epss.csv.gz", &bytes).expect_err(case).to_string();
            assert!(error.starts_with("epss.csv.gz: "), "{case}: {error}");
        }
    }
}
