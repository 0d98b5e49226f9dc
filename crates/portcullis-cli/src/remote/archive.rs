//! `analysis-archive images ...` and `analysis-archive rules ...`.

use anyhow::Result;
use clap::{Args, Subcommand};
use portcullis_api::*;

use super::{Session, render};

#[derive(Subcommand)]
pub enum ArchiveCommand {
    /// Archived image analyses: add, get, list, del, restore.
    #[command(subcommand)]
    Images(ArchivedImageCommand),
    /// Archive rules: add, get, list, del, preview.
    #[command(subcommand)]
    Rules(ArchiveRuleCommand),
}

#[derive(Subcommand)]
pub enum ArchivedImageCommand {
    /// Archive analysed images (the working copies stay); exits 1 if one could not be archived.
    Add {
        #[arg(required = true, value_parser = image_digest, value_name = "DIGEST")]
        digests: Vec<String>,
    },
    /// Show an archived image.
    Get {
        #[arg(value_parser = image_digest)]
        digest: String,
    },
    /// List the archived images, newest archive first.
    List,
    /// Delete an archived image.
    #[command(alias = "delete")]
    Del {
        #[arg(value_parser = image_digest)]
        digest: String,
        /// Delete even while it is still being archived.
        #[arg(long)]
        force: bool,
    },
    /// Restore a deleted image from the archive, analysis and all.
    Restore {
        #[arg(value_parser = image_digest)]
        digest: String,
    },
}

#[derive(Subcommand)]
pub enum ArchiveRuleCommand {
    /// Add a rule: images older than DAYS_OLD with TAG_VERSIONS_NEWER newer
    /// digests of their tag are archived (or, archived ones, deleted).
    Add(RuleArgs),
    /// Show a rule.
    Get { id: String },
    /// List the account's rules and the global ones.
    List,
    /// Delete a rule.
    #[command(alias = "delete")]
    Del { id: String },
    /// The digests the rule would archive (or delete) if the rules ran now.
    Preview { id: String },
}

#[derive(Args)]
pub struct RuleArgs {
    /// Minimum age in days of the analysis (of the archive record, for delete).
    #[arg(value_parser = clap::value_parser!(i64).range(0..))]
    pub days_old: i64,
    /// How many newer digests a tag must have had for the image to be selected.
    #[arg(value_parser = clap::value_parser!(i64).range(0..))]
    pub tag_versions_newer: i64,
    /// archive: move analysed images into the archive; delete: delete archived images.
    #[arg(value_parser = transition)]
    pub transition: ArchiveTransition,
    /// Registries the rule applies to (`*` wildcards).
    #[arg(long, default_value = "*", value_name = "PATTERN")]
    pub registry_selector: String,
    /// Repositories the rule applies to.
    #[arg(long, default_value = "*", value_name = "PATTERN")]
    pub repository_selector: String,
    /// Tags the rule applies to.
    #[arg(long, default_value = "*", value_name = "PATTERN")]
    pub tag_selector: String,
    /// Registries the rule leaves alone (`*` wildcards).
    #[arg(long, default_value = "", value_name = "PATTERN")]
    pub registry_exclude: String,
    /// Repositories the rule leaves alone.
    #[arg(long, default_value = "", value_name = "PATTERN")]
    pub repository_exclude: String,
    /// Tags the rule leaves alone.
    #[arg(long, default_value = "", value_name = "PATTERN")]
    pub tag_exclude: String,
    /// Days until the exclusion lapses (-1: never).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true, value_name = "DAYS")]
    pub exclude_expiration_days: i64,
    /// A rule for every account (admins only).
    #[arg(long, alias = "is-global")]
    pub global: bool,
    /// Keep at most N analysed images per account (a global archive rule without selectors).
    #[arg(long, value_name = "N")]
    pub max_images_per_account: Option<u64>,
}

impl RuleArgs {
    pub fn rule(&self) -> AnalysisArchiveTransitionRule {
        AnalysisArchiveTransitionRule {
            rule_id: None,
            transition: self.transition,
            system_global: self.global,
            analysis_age_days: self.days_old,
            tag_versions_newer: self.tag_versions_newer,
            selector: ImageSelector {
                registry: self.registry_selector.clone(),
                repository: self.repository_selector.clone(),
                tag: self.tag_selector.clone(),
            },
            exclude: ArchiveRuleExclude {
                selector: ImageSelector {
                    registry: self.registry_exclude.clone(),
                    repository: self.repository_exclude.clone(),
                    tag: self.tag_exclude.clone(),
                },
                expiration_days: self.exclude_expiration_days,
            },
            max_images_per_account: self.max_images_per_account,
            count_all_tag_versions: false,
            created_at: None,
            last_updated: None,
        }
    }
}

/// Only a bare `sha256:` digest names an archived image, as in `anchore-cli`.
fn image_digest(text: &str) -> Result<String, String> {
    match super::images::digest_of(text) {
        Some(digest) if digest == text => Ok(text.to_owned()),
        _ => Err(format!("{text:?} is not an image digest (sha256: and 64 hex digits)")),
    }
}

fn transition(text: &str) -> Result<ArchiveTransition, String> {
    match text {
        "archive" => Ok(ArchiveTransition::Archive),
        "delete" => Ok(ArchiveTransition::Delete),
        _ => Err(format!("unknown transition {text:?}; use archive or delete")),
    }
}

pub fn run(session: &Session, command: ArchiveCommand) -> Result<u8> {
    let client = &session.client;
    match command {
        ArchiveCommand::Images(ArchivedImageCommand::Add { digests }) => {
            let results = client.archive_images(&digests)?;
            session.show(&results, |results| add_results(results))?;
            return Ok(u8::from(results.iter().any(|result| result.status == "error")));
        }
        ArchiveCommand::Images(ArchivedImageCommand::Get { digest }) => {
            let archived = vec![client.get_archived(&digest)?];
            session.show(&archived, |archived| archived_table(archived))?;
        }
        ArchiveCommand::Images(ArchivedImageCommand::List) => {
            session.show(&client.list_archived()?, |archived| archived_table(archived))?;
        }
        ArchiveCommand::Images(ArchivedImageCommand::Del { digest, force }) => {
            let deleted = client.delete_archived(&digest, force)?;
            session.show(&deleted, |_| "Success".to_owned())?;
        }
        ArchiveCommand::Images(ArchivedImageCommand::Restore { digest }) => {
            session.show(&client.restore_archived(&digest)?, |images| render::images_detail(images))?;
        }
        ArchiveCommand::Rules(ArchiveRuleCommand::Add(args)) => {
            let rule = client.add_archive_rule(&args.rule())?;
            session.show(&rule, |rule| rules_table(std::slice::from_ref(rule)))?;
        }
        ArchiveCommand::Rules(ArchiveRuleCommand::Get { id }) => {
            session.show(&client.get_archive_rule(&id)?, |rule| rules_table(std::slice::from_ref(rule)))?;
        }
        ArchiveCommand::Rules(ArchiveRuleCommand::List) => {
            session.show(&client.list_archive_rules(true)?, |rules| rules_table(rules))?;
        }
        ArchiveCommand::Rules(ArchiveRuleCommand::Del { id }) => {
            client.delete_archive_rule(&id)?;
            session.success()?;
        }
        ArchiveCommand::Rules(ArchiveRuleCommand::Preview { id }) => {
            session.show(&client.preview_archive_rule(&id)?, preview)?;
        }
    }
    Ok(0)
}

/// `images add`: one row per digest, as `anchore-cli` prints it.
pub fn add_results(results: &[AnalysisArchiveAddResult]) -> String {
    let rows = results.iter().map(|r| vec![r.digest.clone(), r.status.clone(), render::or_none(r.detail.clone())]);
    render::table(&["Image Digest", "Archive Status", "Details"], rows.collect::<Vec<_>>())
}

/// `images list|get`, newest archive first.
pub fn archived_table(archived: &[ArchivedAnalysis]) -> String {
    let mut sorted: Vec<&ArchivedAnalysis> = archived.iter().collect();
    sorted.sort_by_key(|archived| std::cmp::Reverse(archived.created_at));
    let rows = sorted.into_iter().map(|a| {
        let tags: Vec<&str> = a.image_detail.iter().map(|detail| detail.pullstring.as_str()).collect();
        vec![
            a.image_digest.clone(),
            tags.join(","),
            render::or_none(a.analyzed_at.map(|at| at.to_rfc3339())),
            a.created_at.to_rfc3339(),
            a.status.as_str().to_owned(),
            a.archive_size_bytes.to_string(),
        ]
    });
    render::table(
        &["Digest", "Tags", "Analyzed At", "Archived At", "Status", "Archive Size Bytes"],
        rows.collect::<Vec<_>>(),
    )
}

/// `rules list|get|add`: `anchore-cli`'s columns, newest change first.
pub fn rules_table(rules: &[AnalysisArchiveTransitionRule]) -> String {
    let mut sorted: Vec<&AnalysisArchiveTransitionRule> = rules.iter().collect();
    sorted.sort_by_key(|rule| std::cmp::Reverse(rule.last_updated));
    let rows = sorted.into_iter().map(|rule| {
        vec![
            render::or_none(rule.rule_id.clone()),
            super::manage::python_bool(rule.system_global),
            rule.transition.as_str().to_owned(),
            rule.analysis_age_days.to_string(),
            rule.tag_versions_newer.to_string(),
            rule.selector.registry.clone(),
            rule.selector.repository.clone(),
            rule.selector.tag.clone(),
            render::or_none(rule.max_images_per_account),
            rule.exclude.selector.registry.clone(),
            rule.exclude.selector.repository.clone(),
            rule.exclude.selector.tag.clone(),
            rule.exclude.expiration_days.to_string(),
            render::or_none(rule.last_updated.map(|at| at.to_rfc3339())),
        ]
    });
    render::table(
        &[
            "Rule Id",
            "Global",
            "Transition",
            "Analysis Age (Days)",
            "Tag Versions Newer",
            "Registry",
            "Repository",
            "Tag",
            "Max Images",
            "Registry Exclude",
            "Repo Exclude",
            "Tag Exclude",
            "Exclude Exp Days",
            "Last Updated",
        ],
        rows.collect::<Vec<_>>(),
    )
}

/// `rules preview`: the rule, then one digest a line.
pub fn preview(preview: &ArchiveRulePreview) -> String {
    let mut text = render::block(&[
        ("Rule Id", preview.rule_id.clone()),
        ("Transition", preview.transition.as_str().to_owned()),
        ("Account", preview.account.clone()),
        ("Image Count", preview.digests.len().to_string()),
    ]);
    for digest in &preview.digests {
        text.push_str(digest);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::json;

    use super::*;
    use crate::{Cli, Command};

    fn parse(args: &[&str]) -> Result<ArchiveCommand, clap::Error> {
        let mut argv = vec!["portcullis", "analysis-archive"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv)?.command {
            Command::Remote(super::super::RemoteCommand::AnalysisArchive(group)) => Ok(group.command),
            _ => panic!("not an analysis-archive command"),
        }
    }

    fn rule_of(args: &[&str]) -> serde_json::Value {
        let mut full = vec!["rules", "add"];
        full.extend_from_slice(args);
        let Ok(ArchiveCommand::Rules(ArchiveRuleCommand::Add(args))) = parse(&full) else { panic!("not rules add") };
        serde_json::to_value(args.rule()).unwrap()
    }

    #[test]
    fn rule_arguments_make_anchores_rule() {
        let rule = rule_of(&["30", "2", "archive", "--repository-selector", "app/*", "--tag-exclude", "keep-*"]);
        assert_eq!(
            (&rule["analysis_age_days"], &rule["tag_versions_newer"], &rule["transition"], &rule["system_global"]),
            (&json!(30), &json!(2), &json!("archive"), &json!(false))
        );
        assert_eq!(rule["selector"], json!({"registry": "*", "repository": "app/*", "tag": "*"}));
        assert_eq!(
            rule["exclude"],
            json!({"selector": {"registry": "", "repository": "", "tag": "keep-*"},
            "expiration_days": -1})
        );
        let global = rule_of(&["0", "1", "delete", "--is-global", "--exclude-expiration-days", "-1"]);
        assert_eq!((&global["transition"], &global["system_global"]), (&json!("delete"), &json!(true)));
        let max = rule_of(&["0", "0", "archive", "--global", "--max-images-per-account", "5"]);
        assert_eq!(max["max_images_per_account"], 5);
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        assert!(parse(&["rules", "add", "-1", "2", "archive"]).is_err());
        assert!(parse(&["rules", "add", "1", "2", "sideways"]).is_err());
        assert!(parse(&["images", "add"]).is_err());
        let error = parse(&["images", "add", "alpine:3"]).err().unwrap().to_string();
        assert!(error.contains("is not an image digest"), "{error}");
        let digest = format!("sha256:{}", "a".repeat(64));
        assert!(parse(&["images", "get", &format!("repo@{digest}")]).is_err());
        let Ok(ArchiveCommand::Images(ArchivedImageCommand::Del { force: true, .. })) =
            parse(&["images", "del", &digest, "--force"])
        else {
            panic!("not images del --force")
        };
    }

    #[test]
    fn tables() {
        let archived: ArchivedAnalysis = serde_json::from_value(json!({"imageDigest": "sha256:ab",
            "status": "archived", "image_detail": [{"pullstring": "r/a:1", "registry": "r", "repository": "a",
            "tag": "1"}, {"pullstring": "r/a:2", "registry": "r", "repository": "a", "tag": "2"}],
            "created_at": "2024-01-02T03:04:05Z", "last_updated": "2024-01-02T03:04:05Z",
            "archive_size_bytes": 1234}))
        .unwrap();
        let text = archived_table(&[archived]);
        let row = text.lines().nth(1).unwrap();
        for cell in ["sha256:ab", "r/a:1,r/a:2", "None", "2024-01-02T03:04:05+00:00", "archived", "1234"] {
            assert!(row.split_whitespace().any(|word| word == cell), "{cell} missing from {row}");
        }
        let results = [AnalysisArchiveAddResult { digest: "sha256:ab".into(), status: "error".into(), detail: None }];
        assert!(add_results(&results).lines().nth(1).unwrap().contains("error"));
        let text = preview(&ArchiveRulePreview {
            rule_id: "r1".into(),
            transition: ArchiveTransition::Delete,
            account: "admin".into(),
            digests: vec!["sha256:ab".into()],
        });
        assert_eq!(text, "Rule Id: r1\nTransition: delete\nAccount: admin\nImage Count: 1\n\nsha256:ab\n");
    }
}
