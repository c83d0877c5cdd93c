//! JVN iPedia XML as MyJVN publishes it: VULDEF documents (`getVulnDetailInfo`, the detail data feed) and JVNRSS /
//! JVNDBRSS (`getVulnOverviewList`, the RSS data feed). Titles and descriptions are Japanese; products are CPE 2.2
//! names with versions in words. A file that is not well-formed XML is refused whole, saying where.

use roxmltree::{Document, Node, ParsingOptions};

use crate::{
    Cvss, CvssVersion, FeedError, FeedKind, NamedProduct, ReadSummary, Severity, Vulnerability,
};

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn children<'a, 'i: 'a>(n: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    n.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn text(n: Option<Node<'_, '_>>) -> Option<String> {
    let t: String = n?
        .descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect();
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    (!t.is_empty()).then_some(t)
}

fn push_alias(v: &mut Vulnerability, id: &str) {
    let id = id.trim();
    if id.starts_with("CVE-") && !v.aliases.iter().any(|a| a == id) {
        v.aliases.push(id.to_owned());
    }
}

fn cvss_of(
    version: Option<&str>,
    score: Option<&str>,
    severity: Option<&str>,
    vector: Option<&str>,
) -> Option<Cvss> {
    let version = CvssVersion::parse(version?)?;
    let score = score.and_then(|s| s.trim().parse::<f32>().ok());
    let severity = severity
        .and_then(Severity::parse)
        .or_else(|| score.map(Severity::from_score))
        .unwrap_or(Severity::None);
    if score.is_none() && severity == Severity::None {
        return None;
    }
    Some(Cvss {
        version,
        score,
        severity,
        vector: vector
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty()),
    })
}

fn vuldef(root: Node<'_, '_>, japanese: bool) -> Vec<Vulnerability> {
    let mut out = Vec::new();
    for info in root.descendants().filter(|n| {
        n.has_tag_name(("http://jvn.jp/vuldef/", "Vulinfo"))
            || (n.is_element() && n.tag_name().name() == "Vulinfo")
    }) {
        let Some(id) = text(child(info, "VulinfoID")) else {
            continue;
        };
        let mut v = Vulnerability::new(id, FeedKind::Jvn);
        let Some(data) = child(info, "VulinfoData") else {
            out.push(v);
            continue;
        };
        let title = text(child(data, "Title"));
        let overview = child(data, "VulinfoDescription").and_then(|d| text(child(d, "Overview")));
        if japanese {
            v.title_ja = title;
            v.description_ja = overview;
        } else {
            v.title = title;
            v.description = overview;
        }
        if let Some(aff) = child(data, "Affected") {
            for item in children(aff, "AffectedItem") {
                v.products.push(NamedProduct {
                    cpe: text(child(item, "Cpe")).and_then(|c| c.parse().ok()),
                    vendor: text(child(item, "Name")).unwrap_or_default(),
                    product: text(child(item, "ProductName")).unwrap_or_default(),
                    versions: children(item, "VersionNumber")
                        .filter_map(|n| text(Some(n)))
                        .collect(),
                });
            }
        }
        if let Some(imp) = child(data, "Impact") {
            for c in children(imp, "Cvss") {
                if let Some(r) = cvss_of(
                    c.attribute("version"),
                    text(child(c, "Base")).as_deref(),
                    text(child(c, "Severity")).as_deref(),
                    text(child(c, "Vector")).as_deref(),
                ) {
                    v.cvss.push(r);
                }
            }
        }
        if let Some(rel) = child(data, "Related") {
            for item in children(rel, "RelatedItem") {
                if let Some(id) = text(child(item, "VulinfoID")) {
                    push_alias(&mut v, &id);
                }
            }
        }
        v.published = text(child(data, "DateFirstPublished"))
            .as_deref()
            .and_then(crate::parse_date);
        v.last_modified = text(child(data, "DateLastUpdated"))
            .as_deref()
            .and_then(crate::parse_date)
            .or(v.published);
        out.push(v);
    }
    out
}

fn rss(root: Node<'_, '_>, japanese: bool) -> Vec<Vulnerability> {
    let mut out = Vec::new();
    for item in root
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "item")
    {
        let Some(id) = text(child(item, "identifier")) else {
            continue;
        };
        let mut v = Vulnerability::new(id, FeedKind::Jvn);
        let title = text(child(item, "title"));
        let desc = text(child(item, "description"));
        if japanese {
            v.title_ja = title;
            v.description_ja = desc;
        } else {
            v.title = title;
            v.description = desc;
        }
        for r in children(item, "references") {
            if let Some(id) = r.attribute("id") {
                push_alias(&mut v, id);
            }
        }
        for c in children(item, "cpe") {
            v.products.push(NamedProduct {
                cpe: text(Some(c)).and_then(|c| c.parse().ok()),
                vendor: c.attribute("vendor").unwrap_or_default().to_owned(),
                product: c.attribute("product").unwrap_or_default().to_owned(),
                versions: Vec::new(),
            });
        }
        for c in children(item, "cvss") {
            if let Some(r) = cvss_of(
                c.attribute("version"),
                c.attribute("score"),
                c.attribute("severity"),
                c.attribute("vector"),
            ) {
                v.cvss.push(r);
            }
        }
        v.published = text(child(item, "issued"))
            .or_else(|| text(child(item, "date")))
            .as_deref()
            .and_then(crate::parse_date);
        v.last_modified = text(child(item, "modified"))
            .as_deref()
            .and_then(crate::parse_date)
            .or(v.published);
        out.push(v);
    }
    out
}

/// Reads a JVN XML file (VULDEF or JVNRSS) and hands each record to `sink`.
pub fn read(bytes: &[u8], sink: &mut crate::nvd::Sink<'_>) -> Result<ReadSummary, FeedError> {
    let text = std::str::from_utf8(bytes).map_err(|e| FeedError::Malformed {
        format: "XML",
        reason: format!("UTF-8 ではありません（{} バイト目）", e.valid_up_to()),
    })?;
    let text = text.trim_start_matches('\u{feff}');
    let opts = ParsingOptions {
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, opts).map_err(|e| {
        let p = e.pos();
        FeedError::Malformed {
            format: "XML",
            reason: format!("整形式ではありません（{}行{}列: {e}）", p.row, p.col),
        }
    })?;
    let root = doc.root_element();
    let japanese = root
        .attribute((XML_NS, "lang"))
        .is_none_or(|l| l.starts_with("ja"));
    let records = match root.tag_name().name() {
        "VULDEF-Document" => vuldef(root, japanese),
        "RDF" => rss(root, japanese),
        other => {
            return Err(FeedError::Unrecognized(format!(
                "JVN の VULDEF でも JVNRSS でもない XML です（ルート要素 {other}）"
            )));
        }
    };
    let mut summary = ReadSummary::default();
    for v in records {
        summary.saw(&v);
        sink(v).map_err(FeedError::Sink)?;
    }
    Ok(summary)
}
