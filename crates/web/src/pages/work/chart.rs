//! A stacked bar chart as inline SVG, drawn on the server: no scripts, no external files, no `style`
//! attributes (the CSP forbids them), only SVG presentation attributes.
//!
//! Accessibility: the `<svg>` is `role="img"` with an `aria-label`, a `<title>` and a `<desc>` that reads
//! out every bar's total; each segment carries its own `<title>` (shown as a tooltip); segments tall enough
//! show their series mark (①…) in text, each bar its total above it, and the legend names every series in
//! words, so nothing depends on colour alone. The same numbers are in the tables next to the chart.

use std::fmt::Write;

/// One series (stacked bottom to top in the order given).
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text, e.g. "①代表端末に係る運用支援".
    pub label: String,
    /// A short mark drawn inside tall enough segments, e.g. "①" (may be empty).
    pub mark: String,
    /// Fill colour (`#rrggbb`); dark enough for white text.
    pub fill: &'static str,
    /// One value per category (bar), in minutes.
    pub minutes: Vec<i64>,
}

/// What to draw.
#[derive(Debug, Clone)]
pub struct BarChart {
    /// The chart's title (also the start of its accessible name).
    pub title: String,
    /// The bars' labels, e.g. "4月" … "3月".
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    /// The y axis' label, e.g. "作業時間（時間）".
    pub y_label: String,
    /// The x axis' label, e.g. "月".
    pub x_label: String,
    /// The unit after a value in texts, e.g. "時間".
    pub unit: String,
}

/// Colours for up to five series, each with at least 4.5:1 contrast against white text.
pub const PALETTE: [&str; 5] = ["#0b4f8a", "#a14f00", "#2e7d32", "#6a3d9a", "#b3261e"];

const WIDTH: f64 = 760.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 744.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 288.0;
const LEGEND_TOP: f64 = 348.0;
const LEGEND_ROW: f64 = 24.0;
const LEGEND_COLUMNS: usize = 3;

/// XML-escapes text for element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Hours as text: `1.5` for 90 minutes.
fn hours(minutes: i64) -> String {
    unyo_domain::support::hours_label(minutes)
}

/// The axis maximum and tick step (in hours) for a largest bar of `max_hours`: at most five steps of
/// 1, 2 or 5 times a power of ten; an empty chart gets 0–5.
pub fn scale(max_hours: f64) -> (f64, f64) {
    if max_hours <= 0.0 {
        return (5.0, 1.0);
    }
    let mut base = 0.1;
    loop {
        for m in [1.0, 2.0, 5.0] {
            let step: f64 = base * m;
            // The tolerance keeps 0.3 / 0.1 from counting as four steps.
            if max_hours / step <= 5.0 + 1e-9 {
                return (((max_hours / step) - 1e-9).ceil() * step, step);
            }
        }
        base *= 10.0;
    }
}

/// A number for SVG coordinates (one decimal, no trailing `.0`).
fn n(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// A tick label: whole hours without decimals.
fn tick(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// The chart as an `<svg>` element.
pub fn stacked_bars_svg(c: &BarChart) -> String {
    let bars = c.categories.len().max(1);
    let totals: Vec<i64> = (0..c.categories.len())
        .map(|i| {
            c.series
                .iter()
                .map(|s| s.minutes.get(i).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0) as f64 / 60.0;
    let (top, step) = scale(max);
    let plot_h = BOTTOM - TOP;
    let y_of = |h: f64| BOTTOM - h / top * plot_h;
    let slot = (RIGHT - LEFT) / bars as f64;
    let bar_w = (slot * 0.6).min(40.0);
    let legend_rows = c.series.len().div_ceil(LEGEND_COLUMNS).max(1);
    let height = LEGEND_TOP + legend_rows as f64 * LEGEND_ROW + 8.0;

    let summary = c
        .categories
        .iter()
        .zip(&totals)
        .map(|(cat, t)| format!("{cat} {}{}", hours(*t), c.unit))
        .collect::<Vec<_>>()
        .join("、");
    let mut s = String::new();
    // Writing into a String cannot fail.
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" class="chart">"#,
        label = esc(&format!("{}: {summary}", c.title)),
        w = n(WIDTH),
        h = n(height),
    );
    let _ = write!(
        s,
        "<title>{}</title><desc>{}</desc>",
        esc(&c.title),
        esc(&summary)
    );
    let _ = write!(
        s,
        r##"<text x="{x}" y="24" text-anchor="middle" font-size="16" font-weight="bold" fill="#1a1a1a">{t}</text>"##,
        x = n(WIDTH / 2.0),
        t = esc(&c.title)
    );
    // Grid lines and tick labels.
    let steps = (top / step).round() as i64;
    for i in 0..=steps {
        let v = step * i as f64;
        let y = y_of(v);
        let _ = write!(
            s,
            r##"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{stroke}" stroke-width="1"/><text x="{tx}" y="{ty}" text-anchor="end" font-size="12" fill="#1a1a1a">{label}</text>"##,
            x1 = n(LEFT),
            x2 = n(RIGHT),
            y = n(y),
            stroke = if i == 0 { "#4a4a4a" } else { "#d0d4da" },
            tx = n(LEFT - 8.0),
            ty = n(y + 4.0),
            label = tick(v),
        );
    }
    // Axis labels.
    let _ = write!(
        s,
        r##"<text x="18" y="{y}" text-anchor="middle" font-size="13" fill="#1a1a1a" transform="rotate(-90 18 {y})">{t}</text>"##,
        y = n((TOP + BOTTOM) / 2.0),
        t = esc(&c.y_label)
    );
    let _ = write!(
        s,
        r##"<text x="{x}" y="{y}" text-anchor="middle" font-size="13" fill="#1a1a1a">{t}</text>"##,
        x = n((LEFT + RIGHT) / 2.0),
        y = n(BOTTOM + 44.0),
        t = esc(&c.x_label)
    );
    // Bars.
    for (i, cat) in c.categories.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
        let _ = write!(
            s,
            r##"<text x="{x}" y="{y}" text-anchor="middle" font-size="12" fill="#1a1a1a">{t}</text>"##,
            x = n(x + bar_w / 2.0),
            y = n(BOTTOM + 18.0),
            t = esc(cat)
        );
        let mut base = 0i64;
        for series in &c.series {
            let m = series.minutes.get(i).copied().unwrap_or(0);
            if m <= 0 {
                continue;
            }
            let y0 = y_of(base as f64 / 60.0);
            let y1 = y_of((base + m) as f64 / 60.0);
            base += m;
            let _ = write!(
                s,
                r##"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}" stroke="#ffffff" stroke-width="1"><title>{t}</title></rect>"##,
                x = n(x),
                y = n(y1),
                w = n(bar_w),
                h = n(y0 - y1),
                fill = series.fill,
                t = esc(&format!("{cat} {}: {}{}", series.label, hours(m), c.unit)),
            );
            if !series.mark.is_empty() && y0 - y1 >= 16.0 {
                let _ = write!(
                    s,
                    r##"<text x="{x}" y="{y}" text-anchor="middle" font-size="11" fill="#ffffff" aria-hidden="true">{t}</text>"##,
                    x = n(x + bar_w / 2.0),
                    y = n((y0 + y1) / 2.0 + 4.0),
                    t = esc(&series.mark)
                );
            }
        }
        if totals[i] > 0 {
            let _ = write!(
                s,
                r##"<text x="{x}" y="{y}" text-anchor="middle" font-size="12" font-weight="bold" fill="#1a1a1a">{t}</text>"##,
                x = n(x + bar_w / 2.0),
                y = n(y_of(totals[i] as f64 / 60.0) - 5.0),
                t = hours(totals[i])
            );
        }
    }
    // Legend: a swatch with the mark, and the series' name in words.
    let col_w = (RIGHT - LEFT) / LEGEND_COLUMNS as f64;
    for (k, series) in c.series.iter().enumerate() {
        let x = LEFT + col_w * (k % LEGEND_COLUMNS) as f64;
        let y = LEGEND_TOP + LEGEND_ROW * (k / LEGEND_COLUMNS) as f64;
        let _ = write!(
            s,
            r##"<rect x="{x}" y="{y}" width="16" height="16" fill="{fill}"/><text x="{tx}" y="{ty}" font-size="12" fill="#1a1a1a">{t}</text>"##,
            x = n(x),
            y = n(y),
            fill = series.fill,
            tx = n(x + 22.0),
            ty = n(y + 13.0),
            t = esc(&series.label)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> BarChart {
        BarChart {
            title: "令和8年度 月別作業時間".into(),
            categories: vec!["4月".into(), "5月".into()],
            series: vec![
                Series {
                    label: "①代表端末に係る運用支援".into(),
                    mark: "①".into(),
                    fill: PALETTE[0],
                    minutes: vec![120, 0],
                },
                Series {
                    label: "⑤障害発生時の緊急対応".into(),
                    mark: "⑤".into(),
                    fill: PALETTE[4],
                    minutes: vec![60, 90],
                },
            ],
            y_label: "作業時間（時間）".into(),
            x_label: "月".into(),
            unit: "時間".into(),
        }
    }

    #[test]
    fn scales_are_round() {
        assert_eq!(scale(0.0), (5.0, 1.0));
        assert_eq!(scale(3.0), (3.0, 1.0));
        assert_eq!(scale(7.5), (8.0, 2.0));
        assert_eq!(scale(23.0), (25.0, 5.0));
        assert_eq!(scale(120.0), (150.0, 50.0));
        let (top, step) = scale(0.3);
        assert!((top - 0.3).abs() < 1e-9 && (step - 0.1).abs() < 1e-9);
    }

    #[test]
    fn known_input_draws_known_bars() {
        let svg = stacked_bars_svg(&chart());
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\""));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("aria-label=\"令和8年度 月別作業時間: 4月 3時間、5月 1.5時間\""));
        assert!(svg.contains("<title>令和8年度 月別作業時間</title>"));
        // Largest bar 3 h: the axis runs 0–3 in steps of 1 over 240 px, so 1 h is 80 px.
        // Bar 1 (April): ① 2 h at the bottom (160 px), ⑤ 1 h on top (80 px).
        let slot = (RIGHT - LEFT) / 2.0;
        let x = n(LEFT + (slot - 40.0) / 2.0);
        assert!(
            svg.contains(&format!(
                "<rect x=\"{x}\" y=\"128\" width=\"40\" height=\"160\" fill=\"#0b4f8a\""
            )),
            "{svg}"
        );
        assert!(svg.contains(&format!(
            "<rect x=\"{x}\" y=\"48\" width=\"40\" height=\"80\" fill=\"#b3261e\""
        )));
        assert!(svg.contains("<title>4月 ①代表端末に係る運用支援: 2時間</title>"));
        assert!(svg.contains("<title>5月 ⑤障害発生時の緊急対応: 1.5時間</title>"));
        // No empty segment for May's ①.
        assert_eq!(
            svg.matches("<rect").count(),
            3 + 2,
            "3 segments + 2 swatches"
        );
        // Axis and month labels in Japanese, legend in words, no style attributes.
        for t in [
            "作業時間（時間）",
            ">月<",
            ">4月<",
            ">5月<",
            ">⑤障害発生時の緊急対応<",
        ] {
            assert!(svg.contains(t), "{t}");
        }
        assert!(!svg.contains("style="));
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn text_is_escaped() {
        let mut c = chart();
        c.title = "<b>&\"".into();
        let svg = stacked_bars_svg(&c);
        assert!(svg.contains("<title>&lt;b&gt;&amp;&quot;</title>"));
        assert!(!svg.contains("<b>"));
    }
}
