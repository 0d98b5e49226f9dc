//! The human-readable table printed by `portcullis sbom` by default.

use comfy_table::{Table, presets::NOTHING};

use crate::Sbom;

/// Renders the packages of `sbom` as an aligned text table, sorted by name,
/// version and type, followed by a one-line summary.
pub fn render_table(sbom: &Sbom) -> String {
    let mut rows: Vec<_> = sbom.packages.iter().collect();
    rows.sort_by(|a, b| {
        (a.name.as_str(), a.version.as_str(), a.package_type).cmp(&(
            b.name.as_str(),
            b.version.as_str(),
            b.package_type,
        ))
    });
    let mut table = Table::new();
    table.load_style(NOTHING);
    table.set_header(["NAME", "VERSION", "TYPE", "LAYER"]);
    for package in rows {
        let layer = package.introduced_in_layer.map(|l| l.to_string()).unwrap_or_else(|| "-".to_owned());
        table.add_row([package.name.as_str(), package.version.as_str(), package.package_type.as_str(), layer.as_str()]);
    }
    let distro = sbom.distro.as_ref().map(|d| d.pretty_name.clone().unwrap_or_else(|| d.purl_qualifier()));
    let mut out = String::new();
    if !sbom.packages.is_empty() {
        // comfy-table pads every line with one leading space under the NOTHING preset.
        for line in table.to_string().lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line).trim_end());
            out.push('\n');
        }
    }
    out.push_str(&format!(
        "{} packages, {} layers, distro: {}\n",
        sbom.packages.len(),
        sbom.layers.len(),
        distro.as_deref().unwrap_or("unknown")
    ));
    out
}
