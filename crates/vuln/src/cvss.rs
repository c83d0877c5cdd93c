//! Base scores from CVSS vectors, for feeds that give only the vector (OSV, RustSec): v3.x and v2 are computed
//! with the specifications' formulas; a v4.0 vector keeps no score (its scoring needs the specification's tables).

use crate::{Cvss, CvssVersion, Severity};

fn metrics(vector: &str) -> impl Iterator<Item = (&str, &str)> {
    vector.split('/').filter_map(|p| p.split_once(':'))
}

fn roundup(x: f64) -> f64 {
    let i = (x * 100_000.0).round() as i64;
    if i % 10_000 == 0 {
        i as f64 / 100_000.0
    } else {
        ((i / 10_000) + 1) as f64 / 10.0
    }
}

/// The CVSS v3.x base score of a vector (`CVSS:3.1/AV:N/…`), `None` if a base metric is missing.
pub fn v3_score(vector: &str) -> Option<f32> {
    let (mut av, mut ac, mut pr, mut ui, mut s, mut c, mut i, mut a) =
        (None, None, None, None, None, None, None, None);
    for (k, v) in metrics(vector) {
        match k {
            "AV" => av = Some(v),
            "AC" => ac = Some(v),
            "PR" => pr = Some(v),
            "UI" => ui = Some(v),
            "S" => s = Some(v),
            "C" => c = Some(v),
            "I" => i = Some(v),
            "A" => a = Some(v),
            _ => {}
        }
    }
    let changed = s? == "C";
    let av = match av? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match ac? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (pr?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match ui? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |x: Option<&str>| -> Option<f64> {
        Some(match x? {
            "H" => 0.56,
            "L" => 0.22,
            "N" => 0.0,
            _ => return None,
        })
    };
    let iss = 1.0 - (1.0 - cia(c)?) * (1.0 - cia(i)?) * (1.0 - cia(a)?);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let expl = 8.22 * av * ac * pr * ui;
    let score = if impact <= 0.0 {
        0.0
    } else if changed {
        roundup((1.08 * (impact + expl)).min(10.0))
    } else {
        roundup((impact + expl).min(10.0))
    };
    Some(score as f32)
}

/// The CVSS v2 base score of a vector (`AV:N/AC:L/Au:N/C:P/I:P/A:P`).
pub fn v2_score(vector: &str) -> Option<f32> {
    let (mut av, mut ac, mut au, mut c, mut i, mut a) = (None, None, None, None, None, None);
    for (k, v) in metrics(vector) {
        match k {
            "AV" => av = Some(v),
            "AC" => ac = Some(v),
            "Au" => au = Some(v),
            "C" => c = Some(v),
            "I" => i = Some(v),
            "A" => a = Some(v),
            _ => {}
        }
    }
    let av = match av? {
        "L" => 0.395,
        "A" => 0.646,
        "N" => 1.0,
        _ => return None,
    };
    let ac = match ac? {
        "H" => 0.35,
        "M" => 0.61,
        "L" => 0.71,
        _ => return None,
    };
    let au = match au? {
        "M" => 0.45,
        "S" => 0.56,
        "N" => 0.704,
        _ => return None,
    };
    let cia = |x: Option<&str>| -> Option<f64> {
        Some(match x? {
            "N" => 0.0,
            "P" => 0.275,
            "C" => 0.660,
            _ => return None,
        })
    };
    let impact = 10.41 * (1.0 - (1.0 - cia(c)?) * (1.0 - cia(i)?) * (1.0 - cia(a)?));
    let expl = 20.0 * av * ac * au;
    let f = if impact == 0.0 { 0.0 } else { 1.176 };
    let base = ((0.6 * impact) + (0.4 * expl) - 1.5) * f;
    Some(((base * 10.0).round() / 10.0) as f32)
}

/// A rating from a vector alone.
pub fn rate(version: CvssVersion, vector: &str) -> Cvss {
    let score = match version {
        CvssVersion::V30 | CvssVersion::V31 => v3_score(vector),
        CvssVersion::V2 => v2_score(vector),
        CvssVersion::V40 => None,
    };
    let severity = match (version, score) {
        (CvssVersion::V2, Some(s)) => Severity::from_v2_score(s),
        (_, Some(s)) => Severity::from_score(s),
        (_, None) => Severity::None,
    };
    Cvss {
        version,
        score,
        severity,
        vector: Some(vector.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_scores() {
        assert_eq!(
            v3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            Some(9.8)
        );
        assert_eq!(
            v3_score("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"),
            Some(7.8)
        );
        assert_eq!(
            v3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"),
            Some(7.5)
        );
        assert_eq!(
            v3_score("CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"),
            Some(6.1)
        );
        assert_eq!(v2_score("AV:N/AC:L/Au:N/C:C/I:C/A:C"), Some(10.0));
        assert_eq!(v2_score("AV:L/AC:L/Au:N/C:C/I:C/A:C"), Some(7.2));
        assert_eq!(v2_score("AV:N/AC:M/Au:N/C:N/I:P/A:N"), Some(4.3));
    }
}
