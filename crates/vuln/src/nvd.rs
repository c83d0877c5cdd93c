//! NVD CVE API 2.0 JSON: the response envelope (`vulnerabilities: [{cve: …}]`, streamed one record at a time so a
//! file of any size fits in little memory) or one bare `cve` object; plain or gzip (told by its magic bytes).

use std::fmt;
use std::io::{BufRead, BufReader, Read};

use flate2::read::MultiGzDecoder;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::{Cpe, Cvss, CvssVersion, FeedError, FeedKind, ReadSummary, Severity, Vulnerability};

/// How a node or configuration combines its parts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operator {
    /// Any part.
    #[default]
    #[serde(rename = "OR")]
    Or,
    /// Every part.
    #[serde(rename = "AND")]
    And,
}

/// One NVD configuration: nodes combined by `operator` (e.g. the product AND the platform it runs on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Configuration {
    /// How the nodes combine (OR when absent).
    #[serde(default)]
    pub operator: Operator,
    /// Inverts the configuration.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub negate: bool,
    /// Its nodes.
    #[serde(default)]
    pub nodes: Vec<Node>,
}

/// One node: CPE match entries combined by `operator`, maybe negated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    /// How the entries combine (OR when absent).
    #[serde(default)]
    pub operator: Operator,
    /// Inverts the node.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub negate: bool,
    /// Its entries.
    #[serde(default)]
    pub cpe_match: Vec<CpeMatch>,
}

/// One CPE match entry: a criteria name and an optional version range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CpeMatch {
    /// Whether products matching it are vulnerable (false: a platform they must run on).
    pub vulnerable: bool,
    /// The criteria name.
    pub criteria: Cpe,
    /// Range start, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_start_including: Option<String>,
    /// Range start, exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_start_excluding: Option<String>,
    /// Range end, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_end_including: Option<String>,
    /// Range end, exclusive (the first fixed version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_end_excluding: Option<String>,
}

impl CpeMatch {
    /// Whether the entry has a version range.
    pub fn has_range(&self) -> bool {
        self.version_start_including.is_some()
            || self.version_start_excluding.is_some()
            || self.version_end_including.is_some()
            || self.version_end_excluding.is_some()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCve {
    id: String,
    published: Option<String>,
    last_modified: Option<String>,
    vuln_status: Option<String>,
    #[serde(default)]
    cve_tags: Vec<RawTag>,
    #[serde(default)]
    descriptions: Vec<LangValue>,
    #[serde(default)]
    metrics: RawMetrics,
    #[serde(default)]
    configurations: Vec<Configuration>,
}

#[derive(Deserialize)]
struct RawTag {
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
struct LangValue {
    lang: String,
    value: String,
}

#[derive(Deserialize, Default)]
struct RawMetrics {
    #[serde(default, rename = "cvssMetricV40")]
    v40: Vec<RawMetric>,
    #[serde(default, rename = "cvssMetricV31")]
    v31: Vec<RawMetric>,
    #[serde(default, rename = "cvssMetricV30")]
    v30: Vec<RawMetric>,
    #[serde(default, rename = "cvssMetricV2")]
    v2: Vec<RawMetric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMetric {
    #[serde(rename = "type")]
    kind: Option<String>,
    cvss_data: RawCvssData,
    /// v2 keeps its severity beside `cvssData`.
    base_severity: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCvssData {
    vector_string: Option<String>,
    base_score: Option<f32>,
    base_severity: Option<String>,
}

#[derive(Deserialize)]
struct RawItem {
    cve: RawCve,
}

fn pick(metrics: &[RawMetric], version: CvssVersion) -> Option<Cvss> {
    // The NVD's own (Primary) rating first, a CNA's otherwise.
    let m = metrics
        .iter()
        .find(|m| m.kind.as_deref() == Some("Primary"))
        .or_else(|| metrics.first())?;
    let score = m.cvss_data.base_score;
    let severity = m
        .cvss_data
        .base_severity
        .as_deref()
        .or(m.base_severity.as_deref())
        .and_then(Severity::parse)
        .or_else(|| {
            score.map(|s| {
                if version == CvssVersion::V2 {
                    Severity::from_v2_score(s)
                } else {
                    Severity::from_score(s)
                }
            })
        })
        .unwrap_or(Severity::None);
    Some(Cvss {
        version,
        score,
        severity,
        vector: m.cvss_data.vector_string.clone(),
    })
}

fn convert(raw: RawCve) -> Vulnerability {
    let mut v = Vulnerability::new(raw.id, FeedKind::Nvd);
    for d in raw.descriptions {
        match d.lang.as_str() {
            "en" if v.description.is_none() => v.description = Some(d.value),
            "ja" if v.description_ja.is_none() => v.description_ja = Some(d.value),
            _ => {}
        }
    }
    v.published = raw.published.as_deref().and_then(crate::parse_date);
    v.last_modified = raw.last_modified.as_deref().and_then(crate::parse_date);
    v.rejected = raw.vuln_status.as_deref() == Some("Rejected");
    v.disputed = raw
        .cve_tags
        .iter()
        .any(|t| t.tags.iter().any(|t| t == "disputed"));
    v.status = raw.vuln_status;
    let m = &raw.metrics;
    v.cvss = [
        (&m.v40, CvssVersion::V40),
        (&m.v31, CvssVersion::V31),
        (&m.v30, CvssVersion::V30),
        (&m.v2, CvssVersion::V2),
    ]
    .into_iter()
    .filter_map(|(ms, ver)| pick(ms, ver))
    .collect();
    v.configurations = raw.configurations;
    v
}

/// The sink records go to; an `Err` stops the reading with that message.
pub type Sink<'a> = dyn FnMut(Vulnerability) -> Result<(), String> + 'a;

struct State<'a, 'b> {
    sink: &'a mut Sink<'b>,
    summary: ReadSummary,
    sink_error: Option<String>,
    envelope: bool,
}

impl State<'_, '_> {
    fn give<E: de::Error>(&mut self, raw: RawCve) -> Result<(), E> {
        let v = convert(raw);
        self.summary.saw(&v);
        if let Err(e) = (self.sink)(v) {
            self.sink_error = Some(e);
            return Err(E::custom("sink stopped"));
        }
        Ok(())
    }
}

struct Top<'s, 'a, 'b>(&'s mut State<'a, 'b>);

impl<'de> Visitor<'de> for Top<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an NVD CVE API 2.0 response or a cve object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut rest = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "vulnerabilities" {
                self.0.envelope = true;
                map.next_value_seed(Items(&mut *self.0))?;
            } else {
                let value: serde_json::Value = map.next_value()?;
                rest.insert(key, value);
            }
        }
        if !self.0.envelope {
            if !rest.contains_key("id") {
                return Err(de::Error::custom(
                    "NVD の応答（vulnerabilities）でも CVE レコード（id）でもありません",
                ));
            }
            let raw: RawCve = serde_json::from_value(serde_json::Value::Object(rest))
                .map_err(de::Error::custom)?;
            self.0.give(raw)?;
        }
        Ok(())
    }
}

struct Items<'s, 'a, 'b>(&'s mut State<'a, 'b>);

impl<'de> DeserializeSeed<'de> for Items<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of {cve: …}")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<RawItem>()? {
            self.0.give(item.cve)?;
        }
        Ok(())
    }
}

/// Reads an NVD file (plain or gzip), handing each record to `sink` as soon as it is read.
pub fn read<R: Read>(r: R, sink: &mut Sink<'_>) -> Result<ReadSummary, FeedError> {
    let mut buf = BufReader::with_capacity(256 * 1024, r);
    let gz = buf.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    if gz {
        read_json(
            BufReader::with_capacity(256 * 1024, MultiGzDecoder::new(buf)),
            sink,
        )
    } else {
        read_json(buf, sink)
    }
}

fn read_json<R: Read>(r: R, sink: &mut Sink<'_>) -> Result<ReadSummary, FeedError> {
    let mut state = State {
        sink,
        summary: ReadSummary::default(),
        sink_error: None,
        envelope: false,
    };
    let mut de = serde_json::Deserializer::from_reader(r);
    let res = de::Deserializer::deserialize_map(&mut de, Top(&mut state)).and_then(|()| de.end());
    if let Some(e) = state.sink_error {
        return Err(FeedError::Sink(e));
    }
    match res {
        Ok(()) => Ok(state.summary),
        Err(e) => Err(FeedError::Malformed {
            format: "JSON",
            reason: e.to_string(),
        }),
    }
}
