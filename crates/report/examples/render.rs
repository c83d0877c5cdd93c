//! Renders a 20-page sample document and prints how long it takes:
//! `cargo run -p unyo-report --example render --release [-- PAGES]`.
//! The files are written to `artifacts/report/example/`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pages: usize = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => 20,
    };
    let doc = common::long_document(pages);
    let out =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/report/example");
    std::fs::create_dir_all(&out)?;

    let t = Instant::now();
    let pdf = unyo_report::render_pdf(&doc)?;
    let first = t.elapsed();
    let mut other = doc.clone();
    other.title = "業務実績簿（別版）".to_string();
    let t = Instant::now();
    let _ = unyo_report::render_pdf(&other)?;
    let second = t.elapsed();
    let t = Instant::now();
    let xlsx = unyo_report::render_xlsx(&doc)?;
    let xlsx_time = t.elapsed();

    std::fs::write(out.join("long.pdf"), &pdf)?;
    std::fs::write(out.join("long.xlsx"), &xlsx)?;
    let months: Vec<String> = (4..=12).chain(1..=3).map(|m| format!("{m}月")).collect();
    let series: Vec<(String, Vec<f64>)> = common::CATEGORIES
        .iter()
        .enumerate()
        .map(|(k, name)| {
            (
                name.to_string(),
                (0..12).map(|m| ((m * 3 + k * 7) % 11) as f64).collect(),
            )
        })
        .collect();
    let svg = unyo_report::bar_chart_svg(
        "work-by-month",
        "月別・区分別作業件数（令和8年度）",
        &months,
        &series,
        "（件）",
    );
    std::fs::write(out.join("chart.svg"), svg)?;
    println!(
        "document: about {pages} pages requested, {} bytes of PDF",
        pdf.len()
    );
    println!("PDF  first render (fonts, library, template): {first:?}");
    println!("PDF  another document of the same size:       {second:?}");
    println!(
        "XLSX render:                                  {xlsx_time:?} ({} bytes)",
        xlsx.len()
    );
    println!("written to {}", out.display());
    Ok(())
}
