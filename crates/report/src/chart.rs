//! Bar charts as standalone, accessible SVG, shared by documents (embedded in the PDF) and web pages: the one
//! chart engine of unyo. A page adds what a reader of a screen needs and a document keeps in its data table
//! (the total over each bar, a mark or the value in each segment, an x axis label, units in the texts, its
//! own colours) through [`Annotations`] and [`BarChart::svg_annotated`].
//!
//! Pure string building: no fonts are measured, text widths are estimated (full-width characters one em,
//! others about half), which is plenty for axis labels and legends.

use std::fmt::Write as _;

use crate::model::{Cell, Chart, Column, ExcelChart, Table};
use crate::pdf::FONT_FAMILY;

/// Colour-blind-safe palette (Okabe–Ito), in series order.
pub(crate) const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#8C6D1F", "#555555",
];

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 380.0;

/// How several series share a category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BarMode {
    /// One bar per category, series stacked on each other (totals readable at a glance).
    #[default]
    Stacked,
    /// Series side by side.
    Grouped,
}

/// A bar chart: categories along the x axis, one or more series of values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarChart {
    /// Names the SVG's `<title>` and `<desc>` (`{id}-title`, `{id}-desc`), which its `aria-labelledby`
    /// points at; must be unique among the charts of one page or document (an HTML preview embeds them
    /// all). Characters other than ASCII letters, digits and `-` are written as `_hex_` (their code point),
    /// so distinct ids stay distinct. Empty: `chart-` and a hash of the title and numbers, so that
    /// different charts never share ids.
    pub id: String,
    pub title: String,
    pub categories: Vec<String>,
    /// (series name, one value per category). Missing values count as 0; negative values are drawn as 0.
    pub series: Vec<(String, Vec<f64>)>,
    pub y_label: String,
    pub mode: BarMode,
    /// Decimals for values in the data table and tooltips.
    pub decimals: u8,
}

/// Colours dark enough for white text on them (at least 4.5:1), for charts that write marks or values
/// inside their segments ([`SegmentText`]).
pub const DARK_PALETTE: [&str; 5] = ["#0b4f8a", "#a14f00", "#2e7d32", "#6a3d9a", "#b3261e"];

/// What is written inside a segment tall enough for it (white, hidden from screen readers: the segment's
/// own `<title>` says it in words).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum SegmentText {
    /// Nothing.
    #[default]
    None,
    /// One short mark per series, e.g. "①" (empty: none for that series).
    Marks(Vec<String>),
    /// The segment's value.
    Values,
}

/// What a page shows on a chart beyond a document's, where the data table beside the chart already says it.
/// The default adds nothing: [`BarChart::svg_annotated`] with it draws what [`BarChart::svg`] draws, named
/// inline.
#[derive(Debug, Clone, Default)]
pub struct Annotations {
    /// The x axis' label, written under the category labels, e.g. "月" (empty: none).
    pub x_label: String,
    /// The unit after a value in texts (tooltips, totals in the description), e.g. "時間" or "件".
    pub unit: String,
    /// One fill per series (`#rrggbb`); empty: [`PALETTE`].
    pub fills: Vec<&'static str>,
    /// What is written inside segments.
    pub segment_text: SegmentText,
    /// Whether each stacked bar carries its total above it (and the description reads every total).
    pub totals: bool,
    /// How a value is written; `None`: with [`BarChart::decimals`].
    pub format: Option<fn(f64) -> String>,
    /// Whether the y axis steps by whole numbers at least (counts: no 0.2 of an incident).
    pub whole_steps: bool,
}

/// A stacked bar chart as SVG; see [`BarChart`] for grouped bars and the matching data table. `id`
/// names the chart's title and description (see [`BarChart::id`]); give each chart of a page its own.
pub fn bar_chart_svg(
    id: &str,
    title: &str,
    categories: &[String],
    series: &[(String, Vec<f64>)],
    y_label: &str,
) -> String {
    BarChart {
        id: id.to_string(),
        title: title.to_string(),
        categories: categories.to_vec(),
        series: series.to_vec(),
        y_label: y_label.to_string(),
        mode: BarMode::Stacked,
        decimals: 0,
    }
    .svg()
}

impl BarChart {
    /// The ids of the SVG's `<title>` and `<desc>`.
    fn element_ids(&self) -> (String, String) {
        let base = if self.id.is_empty() {
            // FNV-1a over everything the chart shows: stable between runs and builds.
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            let mut feed = |bytes: &[u8]| {
                for b in bytes.iter().chain([&0xff]) {
                    h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
                }
            };
            feed(&[self.mode as u8, self.decimals]);
            feed(self.title.as_bytes());
            feed(self.y_label.as_bytes());
            for c in &self.categories {
                feed(c.as_bytes());
            }
            for (name, values) in &self.series {
                feed(name.as_bytes());
                for v in values {
                    feed(&v.to_bits().to_le_bytes());
                }
            }
            format!("chart-{h:016x}")
        } else {
            let mut id = String::with_capacity(self.id.len());
            for c in self.id.chars() {
                if c.is_ascii_alphanumeric() || c == '-' {
                    id.push(c);
                } else {
                    let _ = write!(id, "_{:x}_", u32::from(c));
                }
            }
            id
        };
        (format!("{base}-title"), format!("{base}-desc"))
    }

    /// A value as the chart writes it.
    fn value_text(&self, v: f64, a: &Annotations) -> String {
        match a.format {
            Some(f) => f(v),
            None => crate::model::format_number(v, self.decimals),
        }
    }

    /// The sum of a category's (non-negative) values.
    fn total(&self, category: usize) -> f64 {
        (0..self.series.len())
            .map(|s| self.value(s, category))
            .sum()
    }

    /// "4月 3時間、5月 1.5時間": every category's total with its unit.
    fn totals_text(&self, a: &Annotations) -> String {
        self.categories
            .iter()
            .enumerate()
            .map(|(c, name)| format!("{name} {}{}", self.value_text(self.total(c), a), a.unit))
            .collect::<Vec<_>>()
            .join("、")
    }

    fn value(&self, series: usize, category: usize) -> f64 {
        let v = self.series[series].1.get(category).copied().unwrap_or(0.0);
        if v.is_finite() && v > 0.0 { v } else { 0.0 }
    }

    /// The same numbers as a table: the categories, one column per series, and a 計 column when stacked.
    pub fn data_table(&self) -> Table {
        let stacked = self.mode == BarMode::Stacked && self.series.len() > 1;
        let mut columns = vec![Column::left("区分", 30.0)];
        for (name, _) in &self.series {
            columns.push(Column::right(name.clone(), 22.0));
        }
        if stacked {
            columns.push(Column::right("計", 22.0));
        }
        let cell = |v: f64| {
            if self.decimals == 0 {
                Cell::Integer(v.round() as i64)
            } else {
                Cell::Number(v, self.decimals)
            }
        };
        let mut table = Table::new(columns);
        let mut column_totals = vec![0.0; self.series.len()];
        for (c, category) in self.categories.iter().enumerate() {
            let mut row = vec![Cell::text(category.clone())];
            let mut sum = 0.0;
            for ((_, values), total) in self.series.iter().zip(&mut column_totals) {
                let v = values.get(c).copied().unwrap_or(0.0);
                let v = if v.is_finite() { v } else { 0.0 };
                sum += v;
                *total += v;
                row.push(cell(v));
            }
            if stacked {
                row.push(cell(sum));
            }
            table.rows.push(row);
        }
        let mut totals = vec![Cell::text("合計")];
        totals.extend(column_totals.iter().map(|&v| cell(v)));
        if stacked {
            totals.push(cell(column_totals.iter().sum()));
        }
        table.totals = Some(totals);
        table
    }

    /// A short description of the chart for readers who cannot see it.
    pub fn alt_text(&self) -> String {
        let names: Vec<&str> = self.series.iter().map(|(n, _)| n.as_str()).collect();
        let kind = match self.mode {
            BarMode::Stacked if self.series.len() > 1 => "積み上げ棒グラフ",
            _ => "棒グラフ",
        };
        let mut text = format!("{}（{}）。", self.title, kind);
        if let (Some(first), Some(last)) = (self.categories.first(), self.categories.last()) {
            let _ = write!(text, "横軸: {first}〜{last}。");
        }
        if !self.y_label.is_empty() {
            let _ = write!(text, "縦軸: {}。", self.y_label);
        }
        if !names.is_empty() {
            let _ = write!(text, "系列: {}。", names.join("、"));
        }
        text.push_str("数値は表のとおり。");
        text
    }

    /// This chart as a document block: SVG, alt text and data table agree by construction.
    pub fn to_chart(&self) -> Chart {
        Chart {
            title: self.title.clone(),
            // The document shows the title above the chart; the SVG keeps it only as its <title>.
            svg: self.render(false, None),
            alt_text: self.alt_text(),
            data: self.data_table(),
            width_mm: None,
            show_data: false,
            excel_chart: Some(ExcelChart {
                stacked: self.mode == BarMode::Stacked,
                series_columns: (1..=self.series.len()).collect(),
            }),
        }
    }

    /// The chart as a standalone SVG document (760×380 user units, scalable), its title drawn on top.
    pub fn svg(&self) -> String {
        self.render(true, None)
    }

    /// The chart for a web page, its title drawn on top, with what `annotations` adds. It names itself
    /// inline (`aria-label` with the title and, with totals, every bar's total; `<title>` and `<desc>`
    /// without ids), so it needs no id unique in the page.
    pub fn svg_annotated(&self, annotations: &Annotations) -> String {
        self.render(true, Some(annotations))
    }

    /// `annotations`: `None` for a document's chart (named through ids), else a page's.
    fn render(&self, visible_title: bool, annotations: Option<&Annotations>) -> String {
        let plain = Annotations::default();
        let a = annotations.unwrap_or(&plain);
        let fill = |s: usize| {
            if a.fills.is_empty() {
                PALETTE[s % PALETTE.len()]
            } else {
                a.fills[s % a.fills.len()]
            }
        };
        let stacked_totals = a.totals && self.mode == BarMode::Stacked;
        let n_cat = self.categories.len();
        let n_ser = self.series.len();
        let max = (0..n_cat)
            .map(|c| match self.mode {
                BarMode::Stacked => (0..n_ser).map(|s| self.value(s, c)).sum::<f64>(),
                BarMode::Grouped => (0..n_ser).map(|s| self.value(s, c)).fold(0.0, f64::max),
            })
            .fold(0.0, f64::max);
        let (step, top) = if a.whole_steps {
            let step = nice_scale(max).0.max(1.0);
            (step, ((max / step).ceil() * step).max(step))
        } else {
            nice_scale(max)
        };

        let mut svg = String::new();
        if annotations.is_some() {
            let mut desc = self.alt_text();
            let mut label = self.title.clone();
            if stacked_totals && !self.categories.is_empty() {
                let totals = self.totals_text(a);
                let _ = write!(desc, "計: {totals}。");
                let _ = write!(label, ": {totals}");
            }
            let _ = write!(
                svg,
                r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{}" font-family="'{FONT_FAMILY}', sans-serif" font-size="12">"##,
                esc(&label)
            );
            let _ = write!(
                svg,
                r#"<title>{}</title><desc>{}</desc>"#,
                esc(&self.title),
                esc(&desc)
            );
        } else {
            let (title_id, desc_id) = self.element_ids();
            let _ = write!(
                svg,
                r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="{title_id} {desc_id}" font-family="'{FONT_FAMILY}', sans-serif" font-size="12">"##
            );
            let _ = write!(
                svg,
                r#"<title id="{title_id}">{}</title><desc id="{desc_id}">{}</desc>"#,
                esc(&self.title),
                esc(&self.alt_text())
            );
        }
        let _ = write!(
            svg,
            r##"<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>"##
        );
        let mut ly = 22.0;
        if visible_title {
            let _ = write!(
                svg,
                r##"<text x="{}" y="24" text-anchor="middle" font-size="16" font-weight="bold" fill="#1a1a1a">{}</text>"##,
                WIDTH / 2.0,
                esc(&self.title)
            );
            ly = 46.0;
        }

        // Legend under the title, wrapping onto more rows when needed.
        let mut legend = String::new();
        let mut lx = 60.0;
        for (s, (name, _)) in self.series.iter().enumerate() {
            let w = 14.0 + 6.0 + text_width(name, 12.0) + 18.0;
            if lx + w > WIDTH - 20.0 && lx > 60.0 {
                lx = 60.0;
                ly += 18.0;
            }
            let _ = write!(
                legend,
                r##"<rect x="{lx}" y="{}" width="14" height="14" fill="{}"/><text x="{}" y="{}" fill="#1a1a1a">{}</text>"##,
                ly - 11.0,
                fill(s),
                lx + 20.0,
                ly,
                esc(name)
            );
            lx += w;
        }
        if n_ser > 0 {
            let _ = write!(svg, r#"<g aria-label="凡例">{legend}</g>"#);
        }

        // Plot area.
        let left = 72.0;
        let right = WIDTH - 20.0;
        // Room for the legend, then for the axis label written above the y axis.
        let legend_bottom = if n_ser > 0 { ly } else { ly - 20.0 };
        let axis_label_room = if self.y_label.is_empty() { 0.0 } else { 14.0 };
        let plot_top = legend_bottom + 24.0 + axis_label_room;
        let longest = self
            .categories
            .iter()
            .map(|c| text_width(c, 11.0))
            .fold(0.0, f64::max);
        let band = if n_cat > 0 {
            (right - left) / n_cat as f64
        } else {
            right - left
        };
        let rotate = longest > band - 4.0;
        let label_room = if rotate {
            (longest * 0.72).min(110.0) + 16.0
        } else {
            24.0
        };
        let x_label_room = if a.x_label.is_empty() { 0.0 } else { 18.0 };
        let bottom = HEIGHT - label_room - x_label_room;
        let height = (bottom - plot_top).max(40.0);
        let y_of = |v: f64| bottom - v / top * height;

        // Grid lines and y ticks.
        let mut tick = 0.0;
        while tick <= top + step * 1e-9 {
            let y = y_of(tick);
            let _ = write!(
                svg,
                r##"<line x1="{left}" y1="{y:.1}" x2="{right}" y2="{y:.1}" stroke="{}" stroke-width="1"/><text x="{}" y="{:.1}" text-anchor="end" font-size="11" fill="#333333">{}</text>"##,
                if tick == 0.0 { "#333333" } else { "#d9d9d9" },
                left - 6.0,
                y + 4.0,
                esc(&tick_label(tick, step))
            );
            tick += step;
        }
        if !self.y_label.is_empty() {
            // Written horizontally above the axis, as Japanese charts do (e.g. "（件）").
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="#333333">{}</text>"##,
                left - 22.0,
                plot_top - 12.0,
                esc(&self.y_label)
            );
        }

        if !a.x_label.is_empty() {
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="#333333">{}</text>"##,
                (left + right) / 2.0,
                HEIGHT - 6.0,
                esc(&a.x_label)
            );
        }

        // Bars.
        let _ = write!(svg, r#"<g aria-label="データ">"#);
        for (c, category) in self.categories.iter().enumerate() {
            let x0 = left + band * c as f64;
            let inner = band * 0.7;
            let start = x0 + (band - inner) / 2.0;
            let mut acc = 0.0;
            for s in 0..n_ser {
                let v = self.value(s, c);
                let (x, w, y1, y2) = match self.mode {
                    BarMode::Stacked => {
                        let r = (start, inner, y_of(acc + v), y_of(acc));
                        acc += v;
                        r
                    }
                    BarMode::Grouped => {
                        let w = inner / n_ser as f64;
                        (start + w * s as f64, w, y_of(v), y_of(0.0))
                    }
                };
                if v <= 0.0 {
                    continue;
                }
                let _ = write!(
                    svg,
                    r##"<rect x="{x:.1}" y="{y1:.1}" width="{w:.1}" height="{:.1}" fill="{}" stroke="#ffffff" stroke-width="0.5"><title>{} {}: {}{}</title></rect>"##,
                    (y2 - y1).max(0.0),
                    fill(s),
                    esc(category),
                    esc(&self.series[s].0),
                    esc(&self.value_text(v, a)),
                    esc(&a.unit)
                );
                let inside = match &a.segment_text {
                    SegmentText::None => String::new(),
                    SegmentText::Marks(marks) => marks.get(s).cloned().unwrap_or_default(),
                    SegmentText::Values => self.value_text(v, a),
                };
                if !inside.is_empty() && y2 - y1 >= 16.0 {
                    let _ = write!(
                        svg,
                        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="#ffffff" aria-hidden="true">{}</text>"##,
                        x + w / 2.0,
                        (y1 + y2) / 2.0 + 4.0,
                        esc(&inside)
                    );
                }
            }
            if stacked_totals && acc > 0.0 {
                let _ = write!(
                    svg,
                    r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="12" font-weight="bold" fill="#1a1a1a">{}</text>"##,
                    x0 + band / 2.0,
                    y_of(acc) - 5.0,
                    esc(&self.value_text(acc, a))
                );
            }
            let cx = x0 + band / 2.0;
            if rotate {
                let _ = write!(
                    svg,
                    r##"<text x="{cx:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="#1a1a1a" transform="rotate(-40 {cx:.1} {:.1})">{}</text>"##,
                    bottom + 14.0,
                    bottom + 14.0,
                    esc(category)
                );
            } else {
                let _ = write!(
                    svg,
                    r##"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="#1a1a1a">{}</text>"##,
                    bottom + 16.0,
                    esc(category)
                );
            }
        }
        svg.push_str("</g></svg>");
        svg
    }
}

/// A step of 1, 2 or 5 × 10^k giving about five ticks, and the top of the axis.
fn nice_scale(max: f64) -> (f64, f64) {
    if max.is_nan() || max <= 0.0 {
        return (1.0, 5.0);
    }
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let top = (max / step).ceil() * step;
    (step, top)
}

fn tick_label(value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as u8
    };
    crate::model::format_number(value, decimals)
}

/// Estimated width of a text: full-width characters one em, others about 0.55 em.
fn text_width(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| if (c as u32) < 0x2E80 { 0.55 } else { 1.0 })
        .sum::<f64>()
        * size
}

/// Escapes text for SVG/XML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_is_nice() {
        assert_eq!(nice_scale(0.0), (1.0, 5.0));
        assert_eq!(nice_scale(47.0), (10.0, 50.0));
        assert_eq!(nice_scale(120.0), (50.0, 150.0));
        assert_eq!(nice_scale(3.2), (1.0, 4.0));
    }

    #[test]
    fn svg_is_accessible_and_escaped() {
        let svg = bar_chart_svg(
            "work-months",
            "月別作業件数 <R&D>",
            &["4月".to_string(), "5月".to_string()],
            &[
                ("①定期".to_string(), vec![3.0, 4.0]),
                ("②障害\"対応\"".to_string(), vec![1.0, f64::NAN]),
            ],
            "件数",
        );
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("aria-labelledby=\"work-months-title work-months-desc\""));
        assert!(
            svg.contains("<title id=\"work-months-title\">月別作業件数 &lt;R&amp;D&gt;</title>")
        );
        assert!(svg.contains(
            "<desc id=\"work-months-desc\">月別作業件数 &lt;R&amp;D&gt;（積み上げ棒グラフ）"
        ));
        assert!(svg.contains("②障害&quot;対応&quot;"));
        assert!(svg.contains("BIZ UDPGothic"));
        assert!(svg.contains(">4月</text>"));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn data_table_matches_series() {
        let chart = BarChart {
            id: "t".into(),
            title: "t".into(),
            categories: vec!["a".into(), "b".into()],
            series: vec![("x".into(), vec![1.0, 2.0]), ("y".into(), vec![3.0])],
            y_label: String::new(),
            mode: BarMode::Stacked,
            decimals: 0,
        };
        let t = chart.data_table();
        assert_eq!(t.columns.len(), 4);
        assert_eq!(
            t.rows[1],
            vec![
                Cell::text("b"),
                Cell::Integer(2),
                Cell::Integer(0),
                Cell::Integer(2)
            ]
        );
        assert_eq!(t.totals.as_ref().unwrap()[3], Cell::Integer(6));
    }

    /// A page's chart: totals over the bars and in its name, marks in tall segments, units in the
    /// tooltips, the x axis label, its own colours, values written by the page's function.
    #[test]
    fn annotated_chart_shows_totals_marks_and_units() {
        fn hours(v: f64) -> String {
            let s = format!("{v:.2}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        let chart = BarChart {
            title: "令和8年度 月別作業時間".into(),
            categories: vec!["4月".into(), "5月".into()],
            series: vec![
                ("①代表端末に係る運用支援".into(), vec![2.0, 0.0]),
                ("⑤障害発生時の緊急対応".into(), vec![1.0, 1.5]),
            ],
            y_label: "作業時間（時間）".into(),
            ..Default::default()
        };
        let svg = chart.svg_annotated(&Annotations {
            x_label: "月".into(),
            unit: "時間".into(),
            fills: DARK_PALETTE.to_vec(),
            segment_text: SegmentText::Marks(vec!["①".into(), "⑤".into()]),
            totals: true,
            format: Some(hours),
            whole_steps: false,
        });
        assert!(svg.contains("aria-label=\"令和8年度 月別作業時間: 4月 3時間、5月 1.5時間\""));
        assert!(svg.contains("<title>令和8年度 月別作業時間</title><desc>"));
        assert!(svg.contains("計: 4月 3時間、5月 1.5時間。</desc>"));
        assert!(!svg.contains("aria-labelledby"), "named inline");
        assert!(svg.contains("<title>4月 ①代表端末に係る運用支援: 2時間</title>"));
        assert!(svg.contains("<title>5月 ⑤障害発生時の緊急対応: 1.5時間</title>"));
        assert!(svg.contains("aria-hidden=\"true\">①</text>"));
        assert!(svg.contains("font-weight=\"bold\" fill=\"#1a1a1a\">3</text>"));
        assert!(svg.contains("font-weight=\"bold\" fill=\"#1a1a1a\">1.5</text>"));
        assert!(svg.contains(">月</text>"));
        assert!(svg.contains("fill=\"#0b4f8a\"") && svg.contains("fill=\"#a14f00\""));
        assert!(
            !svg.contains(PALETTE[0]),
            "the page's colours, not the palette"
        );
        // No empty segment for May's ①: three segments, two swatches, the background.
        assert_eq!(svg.matches("<rect").count(), 3 + 2 + 1);
        assert!(!svg.contains("style="));

        // Counts: the value inside each tall segment; no totals when not asked.
        let counts = BarChart {
            title: "件数".into(),
            categories: vec!["4月".into()],
            series: vec![("重大".into(), vec![4.0])],
            ..Default::default()
        }
        .svg_annotated(&Annotations {
            unit: "件".into(),
            segment_text: SegmentText::Values,
            ..Default::default()
        });
        assert!(counts.contains("aria-hidden=\"true\">4</text>"));
        assert!(counts.contains("<title>4月 重大: 4件</title>"));
        assert!(!counts.contains("font-weight=\"bold\" fill=\"#1a1a1a\">4</text>"));
        assert!(counts.contains("aria-label=\"件数\""));
        // Four at most, whole steps: 0 to 4 by 1, never 0.8 of a count.
        let whole = BarChart {
            categories: vec!["4月".into()],
            series: vec![("重大".into(), vec![1.0])],
            ..Default::default()
        }
        .svg_annotated(&Annotations {
            whole_steps: true,
            ..Default::default()
        });
        assert!(
            whole.contains(">1</text>") && !whole.contains(">0.2</text>"),
            "{whole}"
        );
    }

    /// `(aria-labelledby, title id, title text, desc id)` of each chart in `page`, in order.
    fn labels(page: &str) -> Vec<(String, String, String, String)> {
        let attr = |from: &str, start: &str, end: &str| -> String {
            let i = from.find(start).expect(start) + start.len();
            from[i..i + from[i..].find(end).expect(end)].to_string()
        };
        page.split("<svg ")
            .skip(1)
            .map(|svg| {
                (
                    attr(svg, "aria-labelledby=\"", "\""),
                    attr(svg, "<title id=\"", "\""),
                    attr(svg, "<title id=\"", "</title>")
                        .split_once('>')
                        .map(|(_, t)| t.to_string())
                        .unwrap_or_default(),
                    attr(svg, "<desc id=\"", "\""),
                )
            })
            .collect()
    }

    #[test]
    fn charts_of_one_page_have_their_own_ids() {
        let months = vec!["4月".to_string(), "5月".to_string()];
        let chart = |id: &str, title: &str, values: Vec<f64>| BarChart {
            id: id.into(),
            title: title.into(),
            categories: months.clone(),
            series: vec![("件数".into(), values)],
            ..Default::default()
        };
        let charts = [
            chart("logins", "月別のログイン", vec![3.0, 4.0]),
            chart("operations", "月別の注意を要する操作", vec![1.0, 2.0]),
            // Without an id: derived from what the chart shows.
            chart("", "月別の障害件数", vec![1.0, 0.0]),
            chart("", "月別の障害件数（前年度）", vec![1.0, 0.0]),
            // Characters that cannot be in an id list are replaced.
            chart("年度 計", "年度計", vec![5.0, 5.0]),
        ];
        // The same chart in a page (SVG with its title drawn) and in a document (title above it).
        let page: String = charts
            .iter()
            .map(|c| {
                format!(
                    "<figure>{}</figure><figure>{}</figure>",
                    c.svg(),
                    c.to_chart().svg
                )
            })
            .collect();
        let found = labels(&page);
        assert_eq!(found.len(), 2 * charts.len());
        let mut ids = std::collections::BTreeSet::new();
        for (pair, c) in found.chunks(2).zip(&charts) {
            assert_eq!(pair[0], pair[1], "one chart, one set of ids");
            let (labelledby, title_id, title, desc_id) = &pair[0];
            assert_eq!(labelledby, &format!("{title_id} {desc_id}"));
            assert_eq!(title, &esc(&c.title), "{title_id} names its own chart");
            assert!(
                title_id
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'),
                "{title_id}"
            );
            assert!(ids.insert(title_id.clone()) && ids.insert(desc_id.clone()));
        }
        assert_eq!(found[0].1, "logins-title");
        assert_eq!(found[8].1, "_5e74__5ea6__20__8a08_-title");
        assert!(found[4].1.starts_with("chart-") && found[4].1 != found[6].1);
    }
}
