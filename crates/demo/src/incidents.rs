//! Incidents of the demo fiscal year (issue 6, R7) and a small known-error library (既知の障害).
//!
//! Loaded after the year's support work ([`crate::load_year`]), relative to `today` (JST) and only on days
//! before it, so no time lies in the future and the same day gives the same data:
//!
//! - the library: KE-0001 「集約ネットワーク機器の再起動後に疎通が回復しない」 and KE-0002
//!   「業務アプリ起動時に証明書エラー」 entered by hand, KE-0003 「定義ファイル更新後に端末が再起動を繰り返す」
//!   registered from the June incident below;
//! - June: 唐津土木事務所, a terminal rebooting after a virus-definition update — 完了 with a witness,
//!   and the source of KE-0003;
//! - August: the year's 障害時の緊急対応 request at 伊万里保健福祉事務所 (a floor switch's port) as an
//!   incident — 完了 with the witness, its investigation and recovery linked to the request's two work
//!   entries so that the hours reach the monthly record;
//! - three office days before today: 佐賀土木事務所, a very slow terminal — 回避策 with guidance, then
//!   復旧作業;
//! - two office days before: 唐津県税事務所, a certificate error at start-up — resolved by KE-0002,
//!   at 復旧確認 awaiting the witness;
//! - the office day before: an automatic incident from the connectivity checks (RT-鳥栖 not answering,
//!   detected twice, de-duplicated into one) in 原因調査, and a printer problem just reported (受付);
//! - every other outage the status board shows ([`crate::connectivity`]'s outages, at their times): the
//!   唐津 line's six hours (automatic, the carrier's failure, guidance, recovery, witness, 再発防止策,
//!   closed), a terminal that hung after an update (recovered, witnessed, 再発防止策, closed) and the
//!   remote-maintenance port of a 県庁 terminal since the evening before (原因調査).
//!
//! Each piece is skipped when its day is not before `today` or falls before the fiscal year (the first
//! days of April show less); the library is always loaded.

use crate::calendar::{add_office_days, office_day_of_month, on_or_after};
use chrono::{Datelike, NaiveDate};
use std::collections::HashMap;
use unyo_domain::incident::{
    AutoIncidentInput, EntryInput, IncidentInput, IncidentTransitionInput, KnownErrorInput,
    Severity, WitnessInput, parse_datetime,
};
use unyo_domain::wareki::FiscalYear;
use unyo_store::registry::ListQuery;
use unyo_store::support::{RequestQuery, WorkQuery, WorkRow};
use unyo_store::{Actor, Result, Store, StoreError};

/// What [`load`] created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentSummary {
    /// Incidents opened.
    pub incidents: usize,
    /// Of them, closed (with a witness).
    pub closed: usize,
    /// Known errors in the library.
    pub known_errors: usize,
    /// Work entries linked to incidents.
    pub linked_work: usize,
}

/// The August request the incident of that month follows.
pub const AUGUST_REQUEST_TITLE: &str = "伊万里保健福祉事務所 端末が集約ネットワークに接続できない";

/// `2026-05-12T09:30` for a day and a time (JST), as a form sends it.
fn t(day: NaiveDate, h: u32, m: u32) -> String {
    format!("{}T{h:02}:{m:02}", day.format("%Y-%m-%d"))
}

fn step(action: &str, at: String, comment: &str) -> IncidentTransitionInput {
    IncidentTransitionInput {
        action: action.into(),
        at,
        comment: comment.into(),
        ..Default::default()
    }
}

fn entry(kind: &str, at: String, text: &str) -> EntryInput {
    EntryInput {
        kind: kind.into(),
        at,
        text: text.into(),
        ..Default::default()
    }
}

/// The accounts and the registry ids the incidents need.
struct Ctx<'a> {
    store: &'a Store,
    staff: Actor,
    se: Actor,
    se2: Actor,
    sites: HashMap<String, i64>,
    terminals: HashMap<String, i64>,
    nodes: HashMap<String, i64>,
}

impl Ctx<'_> {
    fn site(&self, code: &str) -> Vec<i64> {
        self.sites.get(code).copied().into_iter().collect()
    }

    fn terminal(&self, host: &str) -> Vec<i64> {
        self.terminals.get(host).copied().into_iter().collect()
    }

    fn node(&self, name: &str) -> Vec<i64> {
        self.nodes.get(name).copied().into_iter().collect()
    }

    async fn step(&self, actor: &Actor, id: i64, input: IncidentTransitionInput) -> Result<()> {
        self.store.advance_incident(actor, id, &input).await?;
        Ok(())
    }

    async fn note(&self, actor: &Actor, id: i64, input: EntryInput) -> Result<()> {
        self.store.add_incident_entry(actor, id, &input).await?;
        Ok(())
    }

    async fn witness(
        &self,
        id: i64,
        name: &str,
        org: &str,
        at: String,
        remark: &str,
    ) -> Result<()> {
        self.store
            .record_witness(
                &self.staff,
                id,
                &WitnessInput {
                    witness_name: name.into(),
                    witness_org: org.into(),
                    witnessed_at: at,
                    remark: remark.into(),
                },
            )
            .await?;
        Ok(())
    }
}

/// The hand-made part of the library: (title, symptoms, cause, workaround).
const LIBRARY: &[(&str, &str, &str, &str)] = &[
    (
        "集約ネットワーク機器の再起動後に疎通が回復しない",
        "停電や保守作業で拠点のルータが再起動した後、配下の拠点の端末から都道府県サーバに疎通できない。拠点ルータまでは応答があるが、県庁コアルータから先に届かない。",
        "ルータの起動時に、VPNトンネルの確立が県庁コアルータ側に残った古いセッションと競合し、トンネルが確立しないことがある（機器の既知の不具合。次回のファームウェア更新で解消予定）。",
        "県庁コアルータで該当拠点のVPNセッションをクリアし、拠点ルータ側でトンネルを再確立する。復旧後、拠点の端末から都道府県サーバへの疎通と業務アプリケーションでの照会を確認する。",
    ),
    (
        "業務アプリ起動時に証明書エラー",
        "業務アプリケーションの起動時に「サーバ証明書の検証に失敗しました」と表示され、ログインできない。",
        "端末の時刻が大きくずれている（CMOS電池の劣化や長期間の電源断による）ため、証明書の有効期間外と判定される。",
        "端末の日時を確認し、時刻同期を実行してから業務アプリケーションを再起動する。再起動後に時刻が戻る場合はCMOS電池の交換を県に依頼する。",
    ),
];

/// The June incident's known error, as the SE rewrote it after registering it from the incident.
const DEFINITION_KE: (&str, &str, &str, &str) = (
    "定義ファイル更新後に端末が再起動を繰り返す",
    "ウイルス定義ファイルの更新後、業務端末がログオン画面の前で再起動を繰り返す。同じ日に同じ版の定義ファイルを適用した端末で起きる。",
    "特定の版の定義ファイルと端末の暗号化ドライバの競合（ウイルス対策ソフトのベンダーが修正版を公開済み）。",
    "セーフモードで起動して定義ファイルを前の版に戻し、自動更新を一時停止する。ベンダーの修正版が公開されたら手動で適用し、通常モードでの起動と業務アプリケーションの動作を確認してから自動更新を再開する。",
);

/// Loads the library and the incidents of the fiscal year containing `today` (see the module
/// documentation). Needs [`crate::load_fleet`]'s accounts and registry; uses the year's August request and
/// its work when [`crate::load_year`] created them.
pub async fn load(store: &Store, today: NaiveDate) -> Result<IncidentSummary> {
    let user = |name: &'static str| async move {
        store
            .user_by_name(name)
            .await?
            .ok_or_else(|| StoreError::Internal(format!("demo account {name} is missing")))
    };
    let all = ListQuery {
        per_page: Some(500),
        ..Default::default()
    };
    let c = Ctx {
        store,
        staff: user("staff").await?.actor("demo"),
        se: user("se").await?.actor("demo"),
        se2: user("se2").await?.actor("demo"),
        sites: store
            .sites(&all)
            .await?
            .items
            .into_iter()
            .map(|s| (s.code, s.id))
            .collect(),
        terminals: store
            .terminals(&all)
            .await?
            .items
            .into_iter()
            .map(|t| (t.hostname, t.id))
            .collect(),
        nodes: store
            .nodes(&all)
            .await?
            .items
            .into_iter()
            .map(|n| (n.name, n.id))
            .collect(),
    };
    let fy = FiscalYear::containing(today);
    let first = on_or_after(fy.start());
    let usable = |d: NaiveDate| d >= first && d < today;
    let mut sum = IncidentSummary::default();

    let mut library = Vec::new();
    for (title, symptoms, cause, workaround) in LIBRARY {
        let k = store
            .create_known_error(
                &c.se,
                &KnownErrorInput {
                    title: (*title).into(),
                    symptoms: (*symptoms).into(),
                    cause: (*cause).into(),
                    workaround: (*workaround).into(),
                    incident_ids: Vec::new(),
                },
            )
            .await?;
        library.push(k.id);
    }
    sum.known_errors = library.len();
    let certificate_ke = library[1];

    // Each piece of the year, loaded in the order of 認知 so that the numbers run in that order too.
    let june = office_day_of_month(fy.0, 6, 10);
    let before = |n: i32| add_office_days(today, -n);
    let [karatsu, hung, _tosu, winrm] = crate::connectivity::outages(today);
    let mut plan: Vec<(NaiveDate, u32, Piece)> = vec![
        (june, 10, Piece::June),
        (jst_day(karatsu.from), 13, Piece::KaratsuLine),
        (jst_day(hung.from), 8, Piece::HungTerminal),
        (before(3), 13, Piece::SlowTerminal),
        (before(2), 9, Piece::CertificateError),
        (before(1), 8, Piece::TosuLine),
        (before(1), 16, Piece::Printer),
        (jst_day(winrm.from), 17, Piece::WinRm),
    ];
    if let Some((day, number, work)) = august_request(store, fy, today).await? {
        plan.push((day, 9, Piece::August(number, work)));
    }
    plan.retain(|(day, ..)| usable(*day));
    plan.sort_by_key(|(day, hour, _)| (*day, *hour));
    if !plan.iter().any(|(.., p)| matches!(p, Piece::June)) {
        // The library's third entry exists all the same, written by hand.
        let (title, symptoms, cause, workaround) = DEFINITION_KE;
        store
            .create_known_error(
                &c.se,
                &KnownErrorInput {
                    title: title.into(),
                    symptoms: symptoms.into(),
                    cause: cause.into(),
                    workaround: workaround.into(),
                    incident_ids: Vec::new(),
                },
            )
            .await?;
    }
    sum.known_errors += 1;
    for (day, _, piece) in plan {
        sum.incidents += 1;
        match piece {
            // June: 唐津土木事務所, rebooting after a definition update; closed, then a known error.
            Piece::June => {
                let id = june_incident(&c, day).await?;
                sum.closed += 1;
                let k = store.create_known_error_from_incident(&c.se, id).await?;
                let (title, symptoms, cause, workaround) = DEFINITION_KE;
                store
                    .update_known_error(
                        &c.se,
                        k.id,
                        &KnownErrorInput {
                            title: title.into(),
                            symptoms: symptoms.into(),
                            cause: cause.into(),
                            workaround: workaround.into(),
                            incident_ids: vec![id],
                        },
                    )
                    .await?;
            }
            // August: the request's incident, with its two work entries.
            Piece::August(number, work) => {
                sum.linked_work += work.len();
                august_incident(&c, day, &number, &work).await?;
                sum.closed += 1;
            }
            // The outages the board shows (crate::connectivity::outages), each explained by its incident.
            Piece::KaratsuLine => {
                sum.closed += usize::from(karatsu_line_incident(&c, &karatsu, today).await?);
            }
            Piece::HungTerminal => {
                sum.closed += usize::from(hung_terminal_incident(&c, &hung, today).await?);
            }
            Piece::WinRm => winrm_incident(&c, &winrm).await?,
            // A slow terminal, workaround and guidance, then recovery work.
            Piece::SlowTerminal => slow_terminal(&c, day, before(2)).await?,
            // A certificate error, resolved by KE-0002, awaiting the witness.
            Piece::CertificateError => certificate_error(&c, day, certificate_ke).await?,
            // The 鳥栖 line: an automatic incident (detected twice).
            Piece::TosuLine => monitoring_incident(&c, day).await?,
            // A printer problem, just reported.
            Piece::Printer => printer_incident(&c, day).await?,
        }
    }
    Ok(sum)
}

/// One incident of the year (see the module documentation).
enum Piece {
    June,
    August(String, Vec<WorkRow>),
    KaratsuLine,
    HungTerminal,
    SlowTerminal,
    CertificateError,
    TosuLine,
    Printer,
    WinRm,
}

/// The JST day of an instant.
fn jst_day(at: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    unyo_domain::time::to_jst(at).date()
}

/// An instant as a form sends it (JST).
fn form_time(at: chrono::DateTime<chrono::Utc>) -> String {
    unyo_domain::time::to_jst(at)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// The 唐津 line's six hours: detected by the connectivity checks, the carrier's failure, guidance to the
/// three sites, recovery, the witness, and what was changed. Closed on the next office day when that is
/// before `today`. Returns whether it was closed.
async fn karatsu_line_incident(
    c: &Ctx<'_>,
    outage: &crate::connectivity::Outage,
    today: NaiveDate,
) -> Result<bool> {
    let monitor = Actor::system("monitor");
    let node = c.node("RT-唐津");
    let sites: Vec<i64> = crate::connectivity::sites_behind("RT-唐津")
        .into_iter()
        .flat_map(|code| c.site(code))
        .collect();
    let from = outage.from;
    let to = outage.to.unwrap_or(from);
    let at = |minutes: i64| form_time(from + chrono::Duration::minutes(minutes));
    let opened = c
        .store
        .open_automatic_incident(
            &monitor,
            &AutoIncidentInput {
                probable_cause: format!("node:{}:unreachable", node.first().copied().unwrap_or(0)),
                title: "唐津地区 疎通不可（RT-唐津）".into(),
                severity: Severity::Critical,
                observed_at: from,
                site_ids: sites.clone(),
                terminal_ids: Vec::new(),
                node_ids: node.clone(),
                detail: format!(
                    "疎通確認「RT-唐津 死活（ICMP）」: 応答なし（3回連続）。配下の{}拠点の端末にも到達できない。",
                    sites.len()
                ),
            },
        )
        .await?;
    let id = opened.incident.id;
    c.step(&c.se, id, step("investigate", at(12), "")).await?;
    c.note(&c.se, id, entry("finding", at(30), "RT-唐津 のWAN側回線がリンクダウン。拠点側の電源・機器に異常なし。通信事業者の故障受付に連絡し、同地区で中継設備の故障が発生していることを確認した。")).await?;
    let mut w = step(
        "workaround",
        at(45),
        "回線の復旧まで、唐津地区の拠点からの至急の照会は県庁 市町村課で代行する。",
    );
    w.guidance_to = "唐津地区の各拠点（拠点担当者）".into();
    w.guidance = "端末の再起動や配線の変更はせず、至急の照会は県庁に電話で依頼すること、回線復旧の連絡を待つことを説明。".into();
    c.step(&c.se, id, w).await?;
    c.note(&c.se, id, entry("cause", at(150), "通信事業者の中継設備（唐津地区）の故障による回線断。事業者が設備を交換して復旧する見込み。")).await?;
    c.step(
        &c.se,
        id,
        step(
            "start_recovery",
            at(300),
            "事業者の設備交換に合わせ、RT-唐津 と配下の端末の疎通を監視。",
        ),
    )
    .await?;
    c.step(&c.se, id, step("recover", form_time(to), "通信事業者が設備を交換し回線が復旧。RT-唐津 と配下3拠点の端末から都道府県サーバへの疎通、業務アプリケーションでの照会を確認した。"))
        .await?;
    c.note(&c.se, id, entry("prevention", form_time(to + chrono::Duration::minutes(30)), "通信事業者から故障報告書を受領した。回線断の連絡経路（事業者→SE→県→拠点）と、県庁での照会代行の手順を運用手順書に追加し、各拠点に周知した。集約ネットワークのバックアップ回線の導入を次年度の検討事項として県に提案した。")).await?;
    c.witness(
        id,
        "山口 恵子",
        "唐津県税事務所 総務課",
        form_time(to + chrono::Duration::minutes(20)),
        "唐津地区の端末で照会・更新ができることを確認した。",
    )
    .await?;
    let next = add_office_days(jst_day(to), 1);
    if next < today {
        c.step(&c.staff, id, step("close", t(next, 9, 30), ""))
            .await?;
        return Ok(true);
    }
    Ok(false)
}

/// The terminal that did not come back after an update: reported by the site, recovered by the SE on
/// the phone with the site, witnessed and closed the same day (when that day is before `today`).
async fn hung_terminal_incident(
    c: &Ctx<'_>,
    outage: &crate::connectivity::Outage,
    today: NaiveDate,
) -> Result<bool> {
    let host = outage
        .check
        .and_then(|name| name.split_whitespace().next())
        .unwrap_or("jk-dbk-kito01");
    let site = crate::TERMINALS
        .iter()
        .find(|t| t.0 == host)
        .map_or("DOBOKU-KITO", |t| t.1);
    let from = outage.from;
    let to = outage.to.unwrap_or(from);
    let at = |minutes: i64| form_time(from + chrono::Duration::minutes(minutes));
    let inc = c
        .store
        .report_incident(
            &c.staff,
            &IncidentInput {
                title: format!("{host} 更新プログラムの適用後に起動しない"),
                severity: "high".into(),
                source: "phone".into(),
                occurred_at: form_time(from),
                noticed_at: at(15),
                site_ids: c.site(site),
                terminal_ids: c.terminal(host),
                description: "拠点担当者から電話連絡。始業時に端末の電源を入れたところ「更新プログラムを構成しています」の表示のまま進まない。疎通監視でも応答なし。".into(),
                ..Default::default()
            },
        )
        .await?;
    let id = inc.id;
    c.step(&c.se2, id, step("investigate", at(25), "")).await?;
    c.note(&c.se2, id, entry("finding", at(45), "前夜に配信した累積更新プログラムの構成処理で停止している。ディスクへの書き込みは続いており、強制終了は更新の失敗につながるため待機とした。")).await?;
    c.step(
        &c.se2,
        id,
        step(
            "start_recovery",
            at(120),
            "拠点担当者と電話で画面を確認しながら再起動の完了を待つ。",
        ),
    )
    .await?;
    c.note(&c.se2, id, entry("cause", at(180), "累積更新プログラムの構成処理が、始業時の電源投入と重なって長時間化した（前夜の配信後に端末の電源が切られていた）。")).await?;
    c.step(
        &c.se2,
        id,
        step(
            "recover",
            form_time(to),
            "更新の構成が完了して起動。OSのビルドと業務アプリケーションでの照会を確認した。",
        ),
    )
    .await?;
    c.note(&c.se2, id, entry("prevention", form_time(to + chrono::Duration::minutes(20)), "更新プログラムの適用は配信当日の夕方に端末の電源を入れたまま完了させ、翌朝の始業前にSEが全端末の疎通と起動を確認する手順とした（作業手順書を改訂）。")).await?;
    c.witness(
        id,
        "中島 誠",
        "杵藤土木事務所 総務課",
        form_time(to + chrono::Duration::minutes(30)),
        "端末が起動し、業務アプリケーションで照会できることを確認した。",
    )
    .await?;
    let day = jst_day(to);
    if day < today {
        c.step(
            &c.staff,
            id,
            step("close", form_time(to + chrono::Duration::minutes(60)), ""),
        )
        .await?;
        return Ok(true);
    }
    Ok(false)
}

/// The remote-maintenance port of a 県庁 terminal stopped answering in the evening: the SE reported it
/// and is investigating (the board's 停止 of that check).
async fn winrm_incident(c: &Ctx<'_>, outage: &crate::connectivity::Outage) -> Result<()> {
    let host = "jk-kencho-biz02";
    let from = outage.from;
    let at = |minutes: i64| form_time(from + chrono::Duration::minutes(minutes));
    let inc = c
        .store
        .report_incident(
            &c.se,
            &IncidentInput {
                title: format!("{host} リモート保守（WinRM）に接続できない"),
                severity: "low".into(),
                source: "monitoring".into(),
                probable_cause: format!(
                    "terminal:{}:tcp:5985",
                    c.terminal(host).first().copied().unwrap_or(0)
                ),
                occurred_at: form_time(from),
                noticed_at: at(5),
                site_ids: c.site("KENCHO"),
                terminal_ids: c.terminal(host),
                description: "リモート保守の接続（TCP 5985）が拒否される。端末の死活（ICMP）は正常で、業務での利用に影響はない。疎通確認に当該ポートの監視を追加した。".into(),
                ..Default::default()
            },
        )
        .await?;
    c.step(&c.se, inc.id, step("investigate", at(10), ""))
        .await?;
    c.note(
        &c.se,
        inc.id,
        entry(
            "hypothesis",
            at(20),
            "端末のWinRMサービスが停止している可能性。翌開庁日に県庁で端末を確認する。",
        ),
    )
    .await?;
    Ok(())
}

async fn june_incident(c: &Ctx<'_>, day: NaiveDate) -> Result<i64> {
    let inc = c
        .store
        .report_incident(
            &c.staff,
            &IncidentInput {
                title: "唐津土木事務所 業務端末が定義ファイル更新後に再起動を繰り返す".into(),
                severity: "high".into(),
                source: "phone".into(),
                occurred_at: t(day, 10, 5),
                noticed_at: t(day, 10, 12),
                site_ids: c.site("DOBOKU-KARATSU"),
                terminal_ids: c.terminal("jk-dbk-karatsu01"),
                description: "唐津土木事務所の拠点担当者から電話連絡。ウイルス定義ファイルの更新後、業務端末がログオン画面の前で再起動を繰り返し、照会ができない。".into(),
                ..Default::default()
            },
        )
        .await?;
    let id = inc.id;
    c.step(
        &c.se2,
        id,
        step("investigate", t(day, 10, 20), "リモートで状況を確認する。"),
    )
    .await?;
    c.note(&c.se2, id, entry("finding", t(day, 10, 40), "リモート接続は不可。拠点担当者に画面を確認してもらい、ログオン画面の前で再起動していることを確認。同日配信の定義ファイル（当月第2版）を適用した端末でのみ起きている。")).await?;
    c.note(
        &c.se2,
        id,
        entry(
            "hypothesis",
            t(day, 11, 0),
            "定義ファイルと起動時に読み込まれるドライバの競合を疑う。ベンダーの障害情報を確認中。",
        ),
    )
    .await?;
    let mut w = step(
        "workaround",
        t(day, 11, 30),
        "セーフモードで起動し、定義ファイルを前の版に戻した。当面は定義ファイルの自動更新を停止。",
    );
    w.guidance_to = "唐津土木事務所 総務課（拠点担当者）".into();
    w.guidance = "同じ症状の端末があれば電源を切らずに連絡すること、復旧までの至急の照会は県庁 市町村課に代行を依頼することを説明。".into();
    c.step(&c.se2, id, w).await?;
    c.step(&c.se, id, step("start_recovery", t(day, 13, 30), ""))
        .await?;
    c.note(&c.se, id, entry("cause", t(day, 14, 10), "定義ファイル（当月第2版）と端末の暗号化ドライバの競合。ベンダーが同日午後に修正版を公開した。")).await?;
    c.step(&c.se, id, step("recover", t(day, 15, 20), "修正版の定義ファイルを手動で適用し、通常モードで起動すること、業務アプリケーションで照会できることを確認。自動更新を再開した。")).await?;
    c.witness(
        id,
        "松浦 由美",
        "唐津土木事務所 総務課",
        t(day, 15, 40),
        "端末が正常に起動し、業務アプリケーションで照会・更新ができることを確認した。",
    )
    .await?;
    c.step(&c.staff, id, step("close", t(day, 15, 50), ""))
        .await?;
    Ok(id)
}

/// The day, number and work entries of the year's August incident request, when it was recorded.
async fn august_request(
    store: &Store,
    fy: FiscalYear,
    today: NaiveDate,
) -> Result<Option<(NaiveDate, String, Vec<WorkRow>)>> {
    let august = NaiveDate::from_ymd_opt(fy.0, 8, 1).unwrap_or(fy.start());
    if august >= today {
        return Ok(None);
    }
    let found = store
        .requests(
            &RequestQuery {
                q: Some(AUGUST_REQUEST_TITLE.into()),
                category: Some("incident_response".into()),
                per_page: Some(5),
                ..Default::default()
            },
            today,
        )
        .await?;
    let Some(r) = found
        .items
        .into_iter()
        .find(|r| r.title == AUGUST_REQUEST_TITLE && r.fiscal_year == i64::from(fy.0))
    else {
        return Ok(None);
    };
    let Ok(day) = NaiveDate::parse_from_str(&r.filed_on, "%Y-%m-%d") else {
        return Ok(None);
    };
    if day.month() != 8 {
        return Ok(None);
    }
    let work = store
        .work_entries_all(&WorkQuery {
            request_id: Some(r.id),
            ..Default::default()
        })
        .await?;
    if work.is_empty() {
        return Ok(None);
    }
    Ok(Some((day, r.number, work)))
}

async fn august_incident(
    c: &Ctx<'_>,
    day: NaiveDate,
    number: &str,
    work: &[WorkRow],
) -> Result<()> {
    let inc = c
        .store
        .report_incident(
            &c.staff,
            &IncidentInput {
                title: AUGUST_REQUEST_TITLE.into(),
                severity: "high".into(),
                source: "request".into(),
                occurred_at: t(day, 9, 20),
                noticed_at: t(day, 9, 30),
                site_ids: c.site("HOFUKU-IMARI"),
                terminal_ids: c.terminal("jk-hfk-imari01"),
                node_ids: c.node("RT-伊万里"),
                description: format!("9時30分頃、伊万里保健福祉事務所から業務端末が住基ネットに接続できないとの連絡（支援要請 {number}）。9時20分頃から照会ができない。"),
                ..Default::default()
            },
        )
        .await?;
    let id = inc.id;
    // The first (remote) work entry is the investigation, the rest the recovery on site.
    let (remote, onsite): (Vec<&WorkRow>, Vec<&WorkRow>) =
        work.iter().partition(|w| w.mode == "remote");
    let (remote, onsite) = if remote.is_empty() {
        (work.iter().take(1).collect(), work.iter().skip(1).collect())
    } else {
        (remote, onsite)
    };
    let ids = |v: &[&WorkRow]| v.iter().map(|w| w.id).collect::<Vec<_>>();
    c.step(
        &c.se2,
        id,
        step("investigate", t(day, 9, 45), "リモートで疎通を確認する。"),
    )
    .await?;
    let mut finding = entry(
        "finding",
        t(day, 10, 40),
        "リモートで疎通を確認（端末→RT-伊万里は応答なし、RT-伊万里→県庁は正常）。拠点内の配線またはスイッチの障害と切り分け。現地での確認が必要と判断し、県に第一報。",
    );
    finding.work_entry_ids = ids(&remote);
    c.note(&c.se2, id, finding).await?;
    let mut w = step(
        "workaround",
        t(day, 10, 50),
        "現地対応までの間、至急の照会は県庁の代表端末で代行する。",
    );
    w.guidance_to = "伊万里保健福祉事務所 総務課（拠点担当者）".into();
    w.guidance = "至急の照会は県庁 市町村課に電話で依頼すること、端末とスイッチの電源を切らずに現地対応を待つことを説明。".into();
    c.step(&c.se2, id, w).await?;
    c.step(
        &c.se,
        id,
        step(
            "start_recovery",
            t(day, 13, 30),
            "現地に到着し、作業を開始。",
        ),
    )
    .await?;
    c.note(&c.se, id, entry("cause", t(day, 14, 20), "拠点内スイッチ（執務室に設置）のポート障害。端末を接続しているポートのリンクが確立しない。")).await?;
    let mut r = step(
        "recover",
        t(day, 14, 50),
        "予備ポートへ接続を変更して復旧。業務アプリケーションによる住基ネットへの接続を確認した。",
    );
    r.work_entry_ids = ids(&onsite);
    c.step(&c.se, id, r).await?;
    c.witness(
        id,
        "有田 健一",
        "伊万里保健福祉事務所 総務課",
        t(day, 14, 55),
        "業務アプリケーションから住基ネットに接続し、照会・更新が正常に行えることを確認した。",
    )
    .await?;
    c.step(
        &c.staff,
        id,
        step(
            "close",
            t(day, 15, 30),
            "スイッチの交換は県で手配する（協議のうえ決定）。",
        ),
    )
    .await?;
    Ok(())
}

async fn slow_terminal(c: &Ctx<'_>, day: NaiveDate, next: NaiveDate) -> Result<()> {
    let inc = c
        .store
        .report_incident(
            &c.staff,
            &IncidentInput {
                title: "佐賀土木事務所 業務端末の動作が著しく遅い".into(),
                severity: "medium".into(),
                source: "phone".into(),
                occurred_at: t(day, 13, 30),
                noticed_at: t(day, 13, 45),
                site_ids: c.site("DOBOKU-SAGA"),
                terminal_ids: c.terminal("jk-dbk-saga01"),
                description: "佐賀土木事務所から電話連絡。午後から業務端末の動作が著しく遅く、照会の結果が表示されるまで数分かかる。".into(),
                ..Default::default()
            },
        )
        .await?;
    let id = inc.id;
    c.step(&c.se2, id, step("investigate", t(day, 14, 5), ""))
        .await?;
    c.note(&c.se2, id, entry("finding", t(day, 14, 25), "リモートで確認。ディスク使用率が100%のまま下がらない。更新プログラムのバックグラウンド処理とウイルス対策ソフトのフルスキャンが重なっている。")).await?;
    let mut w = step(
        "workaround",
        t(day, 14, 40),
        "フルスキャンを一時停止し、業務時間外（19時）に実行するよう設定を変更した。",
    );
    w.guidance_to = "佐賀土木事務所 総務課（拠点担当者）".into();
    w.guidance = "応答が遅いときに端末を再起動しないこと、当面は一括の照会を午前中に行うこと、改善しなければ連絡することを説明。".into();
    c.step(&c.se2, id, w).await?;
    c.step(&c.se2, id, step("start_recovery", t(next, 10, 0), ""))
        .await?;
    c.note(&c.se2, id, entry("recovery", t(next, 11, 30), "ディスクの健全性を確認（SMART値に警告なし）。更新プログラムの適用完了を待って、動作速度を再確認する。")).await?;
    Ok(())
}

async fn certificate_error(c: &Ctx<'_>, day: NaiveDate, known_error: i64) -> Result<()> {
    let inc = c
        .store
        .report_incident(
            &c.staff,
            &IncidentInput {
                title: "唐津県税事務所 業務アプリ起動時に証明書エラー".into(),
                severity: "high".into(),
                source: "phone".into(),
                occurred_at: t(day, 8, 50),
                noticed_at: t(day, 9, 10),
                site_ids: c.site("ZEI-KARATSU"),
                terminal_ids: c.terminal("jk-zei-karatsu01"),
                description: "唐津県税事務所から電話連絡。朝、業務アプリケーションを起動すると「サーバ証明書の検証に失敗しました」と表示され、ログインできない。".into(),
                known_error_id: Some(known_error),
                ..Default::default()
            },
        )
        .await?;
    let id = inc.id;
    c.step(&c.se, id, step("investigate", t(day, 9, 25), ""))
        .await?;
    c.note(&c.se, id, entry("finding", t(day, 9, 35), "リモートで確認。端末の時刻が2019年1月1日になっている（CMOS電池の劣化と推定）。既知の障害 KE-0002 に該当。")).await?;
    c.store
        .resolve_by_known_error(&c.se, id, known_error)
        .await?;
    c.step(&c.se, id, step("start_recovery", t(day, 9, 40), ""))
        .await?;
    c.step(&c.se, id, step("recover", t(day, 10, 5), "時刻同期を実行し、業務アプリケーションが正常に起動してログインできることを確認。CMOS電池の交換を県に依頼した。")).await?;
    Ok(())
}

async fn monitoring_incident(c: &Ctx<'_>, day: NaiveDate) -> Result<()> {
    let monitor = Actor::system("monitor");
    let node = c.node("RT-鳥栖");
    let key = format!("node:{}:unreachable", node.first().copied().unwrap_or(0));
    let auto = |h: u32, m: u32, detail: &str| AutoIncidentInput {
        probable_cause: key.clone(),
        title: "鳥栖保健福祉事務所 疎通監視で応答なし（RT-鳥栖）".into(),
        severity: Severity::High,
        observed_at: parse_datetime(&t(day, h, m)).unwrap_or_default(),
        site_ids: c.site("HOFUKU-TOSU"),
        terminal_ids: c.terminal("jk-hfk-tosu01"),
        node_ids: node.clone(),
        detail: detail.into(),
    };
    // 発生 as the board has it: the first unanswered check of the outage (crate::connectivity::outages).
    let first = c
        .store
        .open_automatic_incident(
            &monitor,
            &auto(
                8,
                4,
                "定期疎通確認（ICMP）で RT-鳥栖 から応答なし（3回連続）。配下の鳥栖保健福祉事務所の端末にも到達できない。",
            ),
        )
        .await?;
    // The same cause again: one incident, a comment on its timeline.
    c.store
        .open_automatic_incident(&monitor, &auto(8, 25, "再試行でも RT-鳥栖 から応答なし。"))
        .await?;
    let id = first.incident.id;
    c.step(&c.se, id, step("investigate", t(day, 8, 40), ""))
        .await?;
    c.note(&c.se, id, entry("finding", t(day, 9, 10), "RT-鳥栖 のWAN側インタフェースでリンクのアップ・ダウンを繰り返している。拠点側の電源・配線に異常なし（拠点担当者に確認）。")).await?;
    c.note(
        &c.se,
        id,
        entry(
            "hypothesis",
            t(day, 9, 30),
            "回線終端装置（ONU）または回線の不調の可能性。回線事業者に調査を依頼した（回答待ち）。",
        ),
    )
    .await?;
    Ok(())
}

async fn printer_incident(c: &Ctx<'_>, day: NaiveDate) -> Result<()> {
    c.store
        .report_incident(
            &c.staff,
            &IncidentInput {
                title: "杵藤保健福祉事務所 帳票が印刷できない".into(),
                severity: "low".into(),
                source: "phone".into(),
                occurred_at: t(day, 16, 20),
                noticed_at: t(day, 16, 40),
                site_ids: c.site("HOFUKU-KITO"),
                terminal_ids: c.terminal("jk-hfk-kito01"),
                description: "杵藤保健福祉事務所から電話連絡。業務アプリケーションから帳票を印刷しようとすると、印刷待ちのまま出力されない。照会の画面表示は正常。".into(),
                ..Default::default()
            },
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{load_fleet, load_year};
    use unyo_domain::time::{from_storage, to_jst};
    use unyo_store::audit::ChainReport;
    use unyo_store::incidents::{IncidentQuery, KnownErrorQuery};

    async fn loaded(today: NaiveDate) -> (unyo_store::testing::TestDb, IncidentSummary) {
        let db = unyo_store::testing::test_store().await.expect("store");
        load_fleet(&db.store).await.expect("fleet");
        load_year(&db.store, today).await.expect("year");
        let s = load(&db.store, today).await.expect("incidents");
        (db, s)
    }

    #[tokio::test]
    async fn incidents_at_every_stage_on_a_day_in_november() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
        let (db, s) = loaded(today).await;
        let store = &db.store;
        assert_eq!(
            s,
            IncidentSummary {
                incidents: 9,
                closed: 4,
                known_errors: 3,
                linked_work: 2,
            }
        );
        let all = store
            .incidents(
                &IncidentQuery {
                    per_page: Some(100),
                    ..Default::default()
                },
                chrono::Utc::now(),
            )
            .await
            .expect("incidents");
        assert_eq!(all.total, 9);
        let mut stages: Vec<&str> = all.items.iter().map(|i| i.stage.as_str()).collect();
        stages.sort_unstable();
        assert_eq!(
            stages,
            [
                "closed",
                "closed",
                "closed",
                "closed",
                "investigating",
                "investigating",
                "recovered",
                "recovering",
                "reported"
            ]
        );
        // Numbered in order of 認知, all in 令和8年度, none in the future or on/after today.
        let mut numbers: Vec<(String, String)> = all
            .items
            .iter()
            .map(|i| (i.noticed_at.clone(), i.number.clone()))
            .collect();
        numbers.sort();
        let want: Vec<String> = (1..=9).map(|n| format!("INC-R8-{n:04}")).collect();
        assert_eq!(
            numbers.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>(),
            want
        );
        for i in &all.items {
            let times = i.times().expect("times");
            for at in [
                Some(times.occurred_at),
                Some(times.noticed_at),
                times.first_response_at,
                times.recovered_at,
                times.closed_at,
            ]
            .into_iter()
            .flatten()
            {
                let day = to_jst(at).date();
                assert!(day < today, "{} at {day}", i.number);
                assert!(FiscalYear(2026).contains(day));
            }
        }
        // The August incident: closed with a witness, its two work entries linked.
        let aug = all
            .items
            .iter()
            .find(|i| i.title == AUGUST_REQUEST_TITLE)
            .expect("august");
        let d = store
            .incident(aug.id, chrono::Utc::now())
            .await
            .expect("detail");
        assert_eq!(d.incident.stage, "closed");
        assert_eq!(d.work.len(), 2);
        assert_eq!(d.work_minutes, 180);
        assert_eq!(
            d.witness.as_ref().and_then(|w| w.witness_name.clone()),
            Some("有田 健一".into())
        );
        let occurred = from_storage(&d.incident.occurred_at).expect("time");
        assert_eq!(to_jst(occurred).date().month(), 8);
        assert_eq!(d.incident.mttr_minutes, Some(330));
        // The one at 復旧確認 waits for its witness, resolved by KE-0002.
        let waiting = all
            .items
            .iter()
            .find(|i| i.stage == "recovered")
            .expect("recovered");
        assert!(!waiting.witnessed());
        assert!(waiting.resolved_by_known_error);
        assert_eq!(waiting.known_error_number.as_deref(), Some("KE-0002"));
        // The automatic one of the 鳥栖 line: de-duplicated, two detections on one timeline.
        let auto = all
            .items
            .iter()
            .find(|i| i.source == "monitoring" && i.title.contains("RT-鳥栖"))
            .expect("monitoring");
        assert_eq!(auto.stage, "investigating");
        let d = store
            .incident(auto.id, chrono::Utc::now())
            .await
            .expect("detail");
        assert!(d.entries.iter().any(|e| e.kind == "comment"));
        // The library: three, one from the June incident.
        let ke = store
            .known_errors(&KnownErrorQuery::default())
            .await
            .expect("known errors");
        assert_eq!(ke.total, 3);
        let from_incident = ke
            .items
            .iter()
            .find(|k| k.created_from_incident_id.is_some())
            .expect("from an incident");
        assert_eq!(from_incident.number, "KE-0003");
        assert_eq!(
            from_incident.title,
            "定義ファイル更新後に端末が再起動を繰り返す"
        );
        let titles: Vec<&str> = ke.items.iter().map(|k| k.title.as_str()).collect();
        assert!(titles.contains(&"集約ネットワーク機器の再起動後に疎通が回復しない"));
        assert!(titles.contains(&"業務アプリ起動時に証明書エラー"));
        // The figures count the year's incidents.
        let stats = store.incident_stats(FiscalYear(2026)).await.expect("stats");
        assert_eq!(stats.year.count, 9);
        assert_eq!(stats.year.open, 5);
        assert_eq!(
            stats.year.by_progress().map(|(_, n)| n),
            [4, 1, 4],
            "完了, 復旧済（確認待ち）, 対応中"
        );
        // Every outage of the board has its incident, at the board's times, with its 再発防止策 once
        // recovered.
        for o in crate::connectivity::outages(today) {
            let what = o.node.or(o.check).unwrap_or_default();
            let key = what.split_whitespace().next().unwrap_or(what);
            let found = all
                .items
                .iter()
                .find(|i| i.title.contains(key))
                .unwrap_or_else(|| panic!("no incident explains the outage of {what}"));
            let times = found.times().expect("times");
            assert_eq!(times.occurred_at, o.from, "{}", found.title);
            assert_eq!(times.recovered_at, o.to, "{}", found.title);
            if o.to.is_some() {
                let d = store
                    .incident(found.id, chrono::Utc::now())
                    .await
                    .expect("detail");
                assert!(
                    d.entries.iter().any(|e| e.kind == "prevention"),
                    "{} has its 再発防止策",
                    found.title
                );
            }
        }
        assert!(matches!(
            store.verify_audit_chain().await.expect("verify"),
            ChainReport::Intact { .. }
        ));
    }

    #[tokio::test]
    async fn the_first_day_of_the_year_has_only_the_library() {
        let today = NaiveDate::from_ymd_opt(2026, 4, 1).expect("date");
        let (_db, s) = loaded(today).await;
        assert_eq!(s.incidents, 0);
        assert_eq!(s.known_errors, 3);
    }

    #[tokio::test]
    async fn the_same_day_gives_the_same_incidents() {
        let today = NaiveDate::from_ymd_opt(2026, 9, 15).expect("date");
        let (a, sa) = loaded(today).await;
        let (b, sb) = loaded(today).await;
        assert_eq!(sa, sb);
        let q = IncidentQuery {
            per_page: Some(100),
            ..Default::default()
        };
        let now = chrono::Utc::now();
        let list = |rows: Vec<unyo_store::incidents::IncidentRow>| {
            rows.into_iter()
                .map(|i| (i.number, i.title, i.stage, i.occurred_at, i.recovered_at))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            list(a.store.incidents(&q, now).await.expect("a").items),
            list(b.store.incidents(&q, now).await.expect("b").items)
        );
    }
}
