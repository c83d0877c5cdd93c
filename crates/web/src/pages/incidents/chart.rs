//! A stacked bar chart of counts (incidents per month by severity) as inline SVG, drawn on the server the
//! same way as the work chart (`pages::work::chart`): no scripts, no `style` attributes (the CSP forbids
//! them), `role="img"` with an `aria-label`, a `<title>` and a `<desc>` reading out every bar, a `<title>`
//! on every segment, the total above each bar and the legend in words, so nothing depends on colour.

use std::fmt::Write;

/// One series, stacked bottom to top in the order given.
#[derive(Debug, Clone)]
pub struct CountSeries {
    /// Legend text, e.g. "重大".
    pub label: String,
    /// Fill colour (`#rrggbb`), dark enough for white text.
    pub fill: &'static str,
    /// One count per bar.
    pub counts: Vec<i64>,
}

/// What to draw.
#[derive(Debug, Clone)]
pub struct CountChart {
    pub title: String,
    /// Bar labels, e.g. "4月" … "3月".
    pub categories: Vec<String>,
    pub series: Vec<CountSeries>,
    pub y_label: String,
    pub x_label: String,
    /// The unit after a count in texts, e.g. "件".
    pub unit: String,
}

/// Colours of the severities (重大, 高, 中, 低), each with at least 4.5:1 contrast against white text.
pub const SEVERITY_FILLS: [&str; 4] = ["#b3261e", "#a14f00", "#0b4f8a", "#4a5568"];

const WIDTH: f64 = 760.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 744.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 288.0;
const LEGEND_TOP: f64 = 348.0;

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

fn n(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// The axis maximum and whole-number step for a largest bar of `max`: at most five steps of 1, 2 or 5
/// times a power of ten; an empty chart gets 0–5.
pub fn scale(max: i64) -> (i64, i64) {
    if max <= 0 {
        return (5, 1);
    }
    let mut base = 1i64;
    loop {
        for m in [1, 2, 5] {
            let step = base * m;
            if max <= step * 5 {
                return (((max + step - 1) / step) * step, step);
            }
        }
        base *= 10;
    }
}

/// The chart as an `<svg>` element.
pub fn count_bars_svg(c: &CountChart) -> String {
    let bars = c.categories.len().max(1);
    let totals: Vec<i64> = (0..c.categories.len())
        .map(|i| {
            c.series
                .iter()
                .map(|s| s.counts.get(i).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let (top, step) = scale(totals.iter().copied().max().unwrap_or(0));
    let plot_h = BOTTOM - TOP;
    let y_of = |v: f64| BOTTOM - v / top as f64 * plot_h;
    let slot = (RIGHT - LEFT) / bars as f64;
    let bar_w = (slot * 0.6).min(40.0);
    let height = LEGEND_TOP + 32.0;
    let summary = c
        .categories
        .iter()
        .zip(&totals)
        .map(|(cat, t)| format!("{cat} {t}{}", c.unit))
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
    let mut v = 0;
    while v <= top {
        let y = y_of(v as f64);
        let _ = write!(
            s,
            r##"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{stroke}" stroke-width="1"/><text x="{tx}" y="{ty}" text-anchor="end" font-size="12" fill="#1a1a1a">{v}</text>"##,
            x1 = n(LEFT),
            x2 = n(RIGHT),
            y = n(y),
            stroke = if v == 0 { "#4a4a4a" } else { "#d0d4da" },
            tx = n(LEFT - 8.0),
            ty = n(y + 4.0),
        );
        v += step;
    }
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
            let k = series.counts.get(i).copied().unwrap_or(0);
            if k <= 0 {
                continue;
            }
            let y0 = y_of(base as f64);
            let y1 = y_of((base + k) as f64);
            base += k;
            let _ = write!(
                s,
                r##"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}" stroke="#ffffff" stroke-width="1"><title>{t}</title></rect>"##,
                x = n(x),
                y = n(y1),
                w = n(bar_w),
                h = n(y0 - y1),
                fill = series.fill,
                t = esc(&format!("{cat} {}: {k}{}", series.label, c.unit)),
            );
            if y0 - y1 >= 16.0 {
                let _ = write!(
                    s,
                    r##"<text x="{x}" y="{y}" text-anchor="middle" font-size="11" fill="#ffffff" aria-hidden="true">{k}</text>"##,
                    x = n(x + bar_w / 2.0),
                    y = n((y0 + y1) / 2.0 + 4.0),
                );
            }
        }
        if totals[i] > 0 {
            let _ = write!(
                s,
                r##"<text x="{x}" y="{y}" text-anchor="middle" font-size="12" font-weight="bold" fill="#1a1a1a">{t}</text>"##,
                x = n(x + bar_w / 2.0),
                y = n(y_of(totals[i] as f64) - 5.0),
                t = totals[i]
            );
        }
    }
    let col_w = (RIGHT - LEFT) / c.series.len().max(1) as f64;
    for (k, series) in c.series.iter().enumerate() {
        let x = LEFT + col_w * k as f64;
        let _ = write!(
            s,
            r##"<rect x="{x}" y="{y}" width="16" height="16" fill="{fill}"/><text x="{tx}" y="{ty}" font-size="12" fill="#1a1a1a">{t}</text>"##,
            x = n(x),
            y = n(LEGEND_TOP),
            fill = series.fill,
            tx = n(x + 22.0),
            ty = n(LEGEND_TOP + 13.0),
            t = esc(&series.label)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_whole_numbers() {
        assert_eq!(scale(0), (5, 1));
        assert_eq!(scale(3), (3, 1));
        assert_eq!(scale(5), (5, 1));
        assert_eq!(scale(7), (8, 2));
        assert_eq!(scale(23), (25, 5));
        assert_eq!(scale(120), (150, 50));
    }

    #[test]
    fn known_counts_draw_known_bars() {
        let svg = count_bars_svg(&CountChart {
            title: "令和8年度 月別の障害件数".into(),
            categories: vec!["4月".into(), "5月".into()],
            series: vec![
                CountSeries {
                    label: "重大".into(),
                    fill: SEVERITY_FILLS[0],
                    counts: vec![1, 0],
                },
                CountSeries {
                    label: "高".into(),
                    fill: SEVERITY_FILLS[1],
                    counts: vec![2, 1],
                },
            ],
            y_label: "件数（件）".into(),
            x_label: "月".into(),
            unit: "件".into(),
        });
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\""));
        assert!(svg.contains("aria-label=\"令和8年度 月別の障害件数: 4月 3件、5月 1件\""));
        assert!(svg.contains("<title>4月 高: 2件</title>"));
        // 3 at most: 0–3 in steps of 1 over 240 px (80 px each); April's 重大 at the bottom.
        assert!(
            svg.contains("y=\"208\" width=\"40\" height=\"80\" fill=\"#b3261e\""),
            "{svg}"
        );
        assert_eq!(svg.matches("<rect").count(), 3 + 2);
        assert!(svg.contains(">重大<") && svg.contains(">月<"));
        assert!(!svg.contains("style="));
    }
}
