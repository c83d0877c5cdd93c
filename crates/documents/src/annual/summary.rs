//! The pack's opening page: the year told in sentences a council member reads — what was done, what went
//! wrong and why, what was changed so that it does not recur, and the security status. Every number is
//! written from [`PackFigures`] through the same [`Cell`] the sections and the figure table show, so the
//! sentence, the PDF's table and the XLSX cell are one figure.

use super::AnnualData;
use super::figures::{PackFigures, has_prevention};
use crate::text::{duration, hours};
use unyo_domain::incident::EntryKind;
use unyo_domain::wareki::format_long;
use unyo_report::{Cell, format_integer};

/// A count as the sentences write it (`1,234件`).
pub fn count(n: i64) -> String {
    format!("{}件", format_integer(n))
}

/// Minutes as hours, as the tables show them (`175.00時間`).
pub fn hours_label(minutes: i64) -> String {
    Cell::Amount(hours(minutes), 2, "時間".into()).display()
}

/// The availability cell (a fraction with two decimals), or the reason there is none.
pub fn availability_cell(percent: Option<f64>) -> Cell {
    match percent {
        Some(a) => Cell::Percent(a / 100.0, 2),
        None => Cell::text("該当なし（監視未導入）"),
    }
}

/// The first sentence of a recorded text, for quoting.
fn first_sentence(s: &str) -> String {
    let s = s.trim();
    match s.find('。') {
        Some(i) => s[..i + '。'.len_utf8()].to_string(),
        None => s.to_string(),
    }
}

impl AnnualData {
    /// The summary's paragraphs, in order.
    pub fn summary_paragraphs(&self, f: &PackFigures) -> Vec<String> {
        let mut out = Vec::new();

        // What was done.
        let clauses: Vec<String> = f
            .work_by_clause
            .iter()
            .filter(|(_, n, _)| *n > 0)
            .map(|(c, n, m)| format!("{} {}・{}", c.label_ja(), count(*n), hours_label(*m)))
            .collect();
        let mut done = format!(
            "【実施した業務】当年度は仕様書1(6)①～⑤の作業を計{}・{}実施しました",
            count(f.work_count),
            hours_label(f.work_minutes)
        );
        if clauses.is_empty() {
            done.push('。');
        } else {
            done.push_str(&format!("（{}）。", clauses.join("、")));
        }
        done.push_str(&format!(
            "県からの支援要請は{}を受け、うち{}は県の確認まで終えています。",
            count(f.requests),
            count(f.requests_confirmed)
        ));
        if f.campaigns == 0 {
            done.push_str(
                "ウイルス対策ソフトの定義ファイル・更新プログラムの展開の記録はありません。",
            );
        } else {
            done.push_str(&format!(
                "ウイルス対策ソフトの定義ファイルと更新プログラムの展開は{}（うち完了{}）で、対象とした端末のべ{}台のうち{}台で適用を確認しました。",
                count(f.campaigns),
                count(f.campaigns_closed),
                format_integer(f.rollout_targets),
                format_integer(f.rollout_done)
            ));
        }
        done.push_str(&format!(
            "協議は{}行い、業務実績簿は{}か月分が県の確認を受けています。",
            count(f.consultations),
            f.records_confirmed
        ));
        out.push(done);

        // What went wrong and why.
        let y = &f.incidents;
        let mut wrong = if y.count == 0 {
            "【発生した障害と原因】当年度の障害はありません。".to_string()
        } else {
            let parts: Vec<String> = y
                .by_progress()
                .iter()
                .map(|(label, n)| format!("{label}{}", count(*n)))
                .collect();
            let causes: Vec<String> = f
                .cause_groups
                .iter()
                .map(|(g, n)| format!("{g} {}", count(*n)))
                .collect();
            let mut s = format!(
                "【発生した障害と原因】障害は{}発生し、作成時点で{}です。原因の内訳は、{}です。",
                count(y.count),
                parts.join("・"),
                causes.join("、")
            );
            if !f.longest.is_empty() {
                let l: Vec<String> = f
                    .longest
                    .iter()
                    .map(|(n, t, m)| format!("{n}「{t}」（{}）", duration(Some(*m))))
                    .collect();
                s.push_str(&format!(
                    "復旧までの時間が長かったものは{}で、平均復旧時間（MTTR）は{}です。",
                    l.join("、"),
                    duration(y.mttr_minutes)
                ));
            }
            s
        };
        match f.availability {
            None => wrong.push_str("疎通確認による常時監視の記録はないため、監視に基づく稼働率は該当なし（監視未導入）です。"),
            Some(_) => {
                wrong.push_str(&format!(
                    "疎通監視による全拠点の稼働率は{}、停止時間は計{}でした（保守時間帯を除く）。",
                    availability_cell(f.availability).display(),
                    duration(Some(f.down_minutes))
                ));
                if f.outages_listed > 0 {
                    if f.outages_unexplained == 0 {
                        wrong.push_str(&format!(
                            "{}分以上の停止{}は、すべて障害記録で原因と対応を説明しています。",
                            super::outages::LISTED_MINUTES,
                            count(f.outages_listed)
                        ));
                    } else {
                        wrong.push_str(&format!(
                            "{}分以上の停止{}のうち{}は障害記録がなく、原因を確認中です。",
                            super::outages::LISTED_MINUTES,
                            count(f.outages_listed),
                            count(f.outages_unexplained)
                        ));
                    }
                }
                if f.outages_ongoing > 0 {
                    wrong.push_str(&format!(
                        "作成時点で継続中の停止が{}あります。",
                        count(f.outages_ongoing)
                    ));
                }
            }
        }
        out.push(wrong);

        // What was changed so that it does not recur.
        if y.count > 0 {
            let mut prevent = format!(
                "【再発防止策】障害{}のうち{}で再発防止策を定め、実施しています",
                count(y.count),
                count(f.preventions)
            );
            let quotes: Vec<String> = self
                .accounts
                .iter()
                .filter(|a| has_prevention(a))
                .filter_map(|a| {
                    let e = a.texts(EntryKind::Prevention).last().copied()?;
                    Some(format!(
                        "{}では「{}」",
                        a.incident.number,
                        first_sentence(&e.text)
                    ))
                })
                .collect();
            if quotes.is_empty() {
                prevent.push('。');
            } else {
                prevent.push_str(&format!("。{}。", quotes.join("、")));
            }
            let rest = y.count - f.preventions;
            if rest > 0 {
                prevent.push_str(&format!(
                    "残る{}は原因調査中または再発防止策が未記録で、4章の一覧に「未記録」と示しています。",
                    count(rest)
                ));
            }
            out.push(prevent);
        }

        // Security.
        let chain = if f.chain_intact {
            format!(
                "監査ログのハッシュチェーンを{}に検証し、{}の記録に改ざんのないことを確認しました。",
                format_long(self.issued_on),
                count(f.chain_entries)
            )
        } else {
            format!(
                "監査ログのハッシュチェーンを{}に検証したところ、連鎖の切れた記録があり、調査が必要です。",
                format_long(self.issued_on)
            )
        };
        let mut security = format!(
            "【セキュリティ】{chain}利用者アカウント{}のうち{}が2要素認証（TOTP）を利用しています。データ出力は{}、証跡・実績簿の取得は{}で、すべて監査ログに記録しています。ログイン失敗は{}、アカウントロックは{}でした。個人番号・住民票コード等の個人識別情報を含む入力は、すべての自由記述欄で受け付けず保存しません（当年度の拒否は{}で、拒否の事実のみ監査ログに記録しています）。",
            count(f.accounts),
            count(f.accounts_2fa),
            count(f.exports),
            count(f.downloads),
            count(f.login_failures),
            count(f.lockouts),
            count(f.pii_refusals)
        );
        if f.feeds_imported == 0 {
            security.push_str("脆弱性情報のフィードはまだ取り込まれていないため、脆弱性の状況は確認できていません。");
        } else {
            let by: Vec<String> = f
                .findings_by_status
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(s, n)| format!("{} {}", s.label_ja(), count(*n)))
                .collect();
            security.push_str(&format!(
                "脆弱性情報は{}種類のフィードを取り込み（うち{}種類は最新の記録が{}日より古く、更新が必要です）、端末と本システムの構成と照合した該当は{}",
                f.feeds_imported,
                f.feeds_stale,
                unyo_store::vulns::DEFAULT_STALE_DAYS,
                count(f.findings_total())
            ));
            if by.is_empty() {
                security.push_str("です。");
            } else {
                security.push_str(&format!("（{}）です。", by.join("、")));
            }
            security.push_str(&format!(
                "重大（Critical）で対応を終えていないものは{}です。",
                count(f.findings_active_critical)
            ));
        }
        out.push(security);
        out
    }
}
