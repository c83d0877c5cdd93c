//! The fiscal year so far (issue 3): a contract for the current fiscal year, support requests from April
//! up to today with their timelines, work entries by two SEs, and consultations (協議記録).
//!
//! Everything is generated relative to the fiscal year that contains `today` (April 1 to March 31), so
//! the demo looks the same on any day: the months already past are complete and confirmed, the current
//! month has work under way. Nothing is random: the same `today` gives the same data.
//!
//! How it is built:
//! 1. A *plan*: requests (with filing day, assignee and the work they need) and work without a request
//!    (monthly 定期点検, 定期疎通確認), each piece of work with its earliest day, length, workers, site and
//!    terminals.
//! 2. A *diary* places every piece of work on an office day (weekdays that are not holidays nor the
//!    year-end closure) between 09:00–12:00 or 13:00–17:15, with travel time before and after on-site work
//!    away from 県庁, never overlapping another entry of the same worker. Fixed appointments (an incident,
//!    the council) are placed first.
//! 3. Each request's status follows from its dates: work not started yet (受付), partly done (対応中),
//!    done (完了) and confirmed two office days later (確認済). A few requests near `today` are given a
//!    fixed fate so that every status appears: one 要請 not yet accepted, 受付 ones (one of them past its
//!    planned date, i.e. overdue), 完了 awaiting confirmation, one 差戻し, and one 取下げ earlier in the year.
//! 4. The steps are replayed in date order through the ordinary store calls (the right account for each
//!    step: 県職員 files, confirms and sends back; the SEs accept, start, complete and log work), so the
//!    numbering (R8-0001 …), the checks (contract term, terminals at the site, no overlaps) and the audit
//!    chain are the real ones. Only work before `today` is recorded. The timeline's timestamps are the
//!    moment of loading (the store stamps them); the dates that matter for reports — filing day, planned
//!    date, work date — are the planned ones.

use crate::calendar::{
    add_office_days, nth_weekday, office_day_of_month, on_or_after, on_or_before,
};
use crate::{SITES, TERMINALS};
use chrono::{Datelike, NaiveDate, Weekday};
use std::collections::HashMap;
use unyo_domain::support::{
    Category, ConsultationInput, ContractInput, RequestInput, TransitionInput, WorkInput,
};
use unyo_domain::wareki::{FiscalYear, WarekiDate, format_long};
use unyo_store::registry::ListQuery;
use unyo_store::{Result, Store, StoreError};

/// The demo contract's name.
pub const CONTRACT_NAME: &str = "住民基本台帳ネットワークシステム運用支援SE業務委託";
/// The (fictional) contractor.
pub const CONTRACTOR: &str = "九州システムサポート株式会社";
/// The contractor's person in charge (作業責任者).
pub const MANAGER: &str = "保守 技郎";

/// What [`crate::load_year`] created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearSummary {
    /// The fiscal year.
    pub fiscal_year: FiscalYear,
    /// The contract's id.
    pub contract_id: i64,
    /// Requests filed.
    pub requests: usize,
    /// Work entries recorded.
    pub work_entries: usize,
    /// Consultations recorded.
    pub consultations: usize,
}

// ------------------------------------------------------------------------------------------------ plan

/// The two SEs of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Se {
    /// `se`, 保守 技郎.
    Hoshu,
    /// `se2`, 運用 花子.
    Unyo,
}

/// Minutes after midnight.
type Min = i64;
const MORNING: (Min, Min) = (9 * 60, 12 * 60);
const AFTERNOON: (Min, Min) = (13 * 60, 17 * 60 + 15);

/// One piece of work to be placed in the diary.
struct Work {
    earliest: NaiveDate,
    /// A fixed appointment: this start on `earliest`.
    fixed: Option<Min>,
    /// Preferred earliest start of the day.
    not_before: Min,
    minutes: Min,
    workers: Vec<Se>,
    onsite: bool,
    site: Option<&'static str>,
    terminals: Vec<&'static str>,
    category: Category,
    description: String,
    result: String,
    follow_up: String,
    /// Index of the request it answers.
    request: Option<usize>,
    /// Where the diary put it.
    slot: Option<(NaiveDate, Min)>,
}

impl Work {
    fn new(
        earliest: NaiveDate,
        minutes: Min,
        who: Se,
        category: Category,
        description: impl Into<String>,
        result: impl Into<String>,
    ) -> Work {
        Work {
            earliest,
            fixed: None,
            not_before: MORNING.0,
            minutes,
            workers: vec![who],
            onsite: false,
            site: None,
            terminals: Vec::new(),
            category,
            description: description.into(),
            result: result.into(),
            follow_up: String::new(),
            request: None,
            slot: None,
        }
    }

    /// At a site, on some of its terminals (none: the site itself, e.g. a meeting at 県庁).
    fn at(mut self, site: &'static str, hosts: &[&'static str]) -> Work {
        self.site = Some(site);
        self.terminals = hosts.to_vec();
        self
    }

    /// At a site, on every terminal there.
    fn at_all(self, site: &'static str) -> Work {
        let hosts = hosts_at(site);
        self.at(site, &hosts)
    }

    fn onsite(mut self) -> Work {
        self.onsite = true;
        self
    }

    fn with(mut self, other: Se) -> Work {
        if !self.workers.contains(&other) {
            self.workers.push(other);
        }
        self
    }

    fn fixed(mut self, h: Min, m: Min) -> Work {
        self.fixed = Some(h * 60 + m);
        self
    }

    fn after(mut self, h: Min, m: Min) -> Work {
        self.not_before = h * 60 + m;
        self
    }

    fn follow(mut self, text: &str) -> Work {
        self.follow_up = text.into();
        self
    }

    /// Travel time before and after, for on-site work away from 県庁 (where the SEs are stationed).
    fn travel(&self) -> Min {
        match (self.onsite, self.site) {
            (false, _) | (true, None | Some("KENCHO")) => 0,
            (true, Some("ZEI-SAGA" | "DOBOKU-SAGA" | "ARIAKE" | "FUKUSHI-C" | "HOFUKU-CHUBU")) => {
                30
            }
            (true, Some(_)) => 60,
        }
    }
}

/// How a request ends up, when its dates alone do not decide.
enum Fate {
    /// By its dates: 受付 → 対応中 → 完了 → 確認済 two office days after the last work.
    Natural,
    /// Filed, not accepted yet.
    Requested,
    /// Accepted, no work yet (with an explicit planned date, possibly past: overdue).
    Accepted,
    /// Started, part of the work done (whatever its dates say).
    InProgress,
    /// Completed, the prefecture has not confirmed yet.
    Completed,
    /// Completed and sent back with this reason.
    Returned(&'static str),
    /// Accepted, then withdrawn on that day with this reason.
    Withdrawn(NaiveDate, &'static str),
}

struct Req {
    filed_on: NaiveDate,
    accept_on: NaiveDate,
    title: String,
    category: Category,
    sites: Vec<&'static str>,
    terminals: Vec<&'static str>,
    wished: Option<NaiveDate>,
    description: String,
    assignee: Se,
    /// The planned date given at 受付; by default the last day of its planned work.
    planned: Option<NaiveDate>,
    /// The completion report.
    result: String,
    /// The prefecture's comment on confirming.
    confirm: &'static str,
    fate: Fate,
}

impl Req {
    fn new(
        filed_on: NaiveDate,
        category: Category,
        title: impl Into<String>,
        description: impl Into<String>,
        assignee: Se,
    ) -> Req {
        Req {
            filed_on,
            accept_on: add_office_days(filed_on, 1),
            title: title.into(),
            category,
            sites: Vec::new(),
            terminals: Vec::new(),
            wished: Some(add_office_days(filed_on, 7)),
            description: description.into(),
            assignee,
            planned: None,
            result: String::new(),
            confirm: "作業結果を確認しました。",
            fate: Fate::Natural,
        }
    }

    fn hosts(mut self, hosts: &[&'static str]) -> Req {
        self.terminals = hosts.to_vec();
        self
    }

    fn sites(mut self, sites: &[&'static str]) -> Req {
        self.sites = sites.to_vec();
        self
    }

    fn result(mut self, text: impl Into<String>) -> Req {
        self.result = text.into();
        self
    }

    fn wished(mut self, d: NaiveDate) -> Req {
        self.wished = Some(d);
        self
    }

    fn planned(mut self, d: NaiveDate) -> Req {
        self.planned = Some(d);
        self
    }

    fn same_day(mut self) -> Req {
        self.accept_on = self.filed_on;
        self.wished = Some(self.filed_on);
        self.planned = Some(self.filed_on);
        self
    }

    fn fate(mut self, fate: Fate) -> Req {
        self.fate = fate;
        self
    }
}

/// A consultation (協議記録).
struct Talk {
    held_on: NaiveDate,
    by: &'static str,
    participants: String,
    topic: String,
    agreed: String,
    requests: Vec<usize>,
}

#[derive(Default)]
struct Plan {
    reqs: Vec<Req>,
    work: Vec<Work>,
    talks: Vec<Talk>,
}

impl Plan {
    /// Adds a request and the work it needs (none of which can start before it is accepted).
    fn request(&mut self, req: Req, work: Vec<Work>) -> usize {
        let i = self.reqs.len();
        for mut w in work {
            w.request = Some(i);
            w.earliest = w.earliest.max(req.accept_on);
            self.work.push(w);
        }
        self.reqs.push(req);
        i
    }

    fn work(&mut self, w: Work) {
        self.work.push(w);
    }
}

/// Hostnames of the terminals at a site, in the fleet's order.
fn hosts_at(site: &str) -> Vec<&'static str> {
    TERMINALS
        .iter()
        .filter(|t| t.1 == site)
        .map(|t| t.0)
        .collect()
}

fn site_name(code: &str) -> &'static str {
    SITES
        .iter()
        .find(|s| s.0 == code)
        .map_or("（不明な拠点）", |s| s.1)
}

/// A deterministic mix of a seed (SplitMix64), for variety without randomness.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<T: Copy>(seed: u64, items: &[T]) -> T {
    items[(mix(seed) % items.len() as u64) as usize]
}

/// `R8.04版`: the version label of the business application released in a month.
fn app_version(d: NaiveDate) -> String {
    match WarekiDate::from_gregorian(d) {
        Some(w) => format!("{}{}.{:02}版", w.era.letter(), w.year, w.month),
        None => format!("{}.{:02}版", d.year(), d.month()),
    }
}

/// `R8`: the era letter and year of a fiscal year.
fn era_tag(fy: FiscalYear) -> String {
    fy.label_short().trim_end_matches("年度").to_string()
}

const PREFECTURE: &str = "佐賀県 市町村課 市民 課男";
const SES: &str = "九州システムサポート株式会社 保守 技郎、運用 花子";

/// A technical-support request that recurs in the demo year: site, title, description, the work (minutes,
/// on site, what was done, result, follow-up) and the completion report.
struct Support {
    site: &'static str,
    hosts: &'static [&'static str],
    title: &'static str,
    description: &'static str,
    steps: &'static [(Min, bool, &'static str, &'static str, &'static str)],
    report: &'static str,
}

const SUPPORT: &[Support] = &[
    Support {
        site: "ZEI-TAKEO",
        hosts: &[],
        title: "プリンタドライバの再設定（武雄県税事務所）",
        description: "業務端末から本人確認情報の照会結果が印刷できなくなりました。プリンタドライバの再設定をお願いします。",
        steps: &[
            (
                30,
                false,
                "リモートで印刷キューとプリンタドライバの状態を確認。ドライバの構成ファイルの破損を確認。",
                "現地での再インストールが必要と判断し、拠点担当者と日程を調整。",
                "",
            ),
            (
                60,
                true,
                "プリンタドライバを削除・再インストールし、テスト印刷と照会結果の印刷を確認。",
                "正常に印刷できることを拠点担当者と確認。",
                "",
            ),
        ],
        report: "プリンタドライバを再インストールし、印刷できることを確認しました。",
    },
    Support {
        site: "HOFUKU-KITO",
        hosts: &[],
        title: "業務端末の動作が遅い件の調査（杵藤保健福祉事務所）",
        description: "業務端末の起動と業務アプリケーションの画面遷移に時間がかかるとの連絡がありました。原因の調査と対応をお願いします。",
        steps: &[
            (
                60,
                false,
                "パフォーマンスログとイベントログを確認。起動時にディスク使用率が100%近くで推移していることを確認。",
                "一時ファイルの蓄積とディスク最適化の未実行が原因と推定。",
                "",
            ),
            (
                45,
                false,
                "一時ファイルの削除とディスクの最適化を実施し、再起動後の起動時間を計測。",
                "起動時間が約4分から約1分30秒に改善。画面遷移も通常どおり。",
                "",
            ),
        ],
        report: "一時ファイルの削除とディスクの最適化により、起動時間が約1分30秒に改善しました。",
    },
    Support {
        site: "DOBOKU-KARATSU",
        hosts: &[],
        title: "操作者カードリーダーの認識不良の調査（唐津土木事務所）",
        description: "操作者カードを読み取れないことがあるとの連絡がありました。調査と対応をお願いします。",
        steps: &[
            (
                30,
                false,
                "リモートでデバイスマネージャーとイベントログを確認。カードリーダーの接続・切断が繰り返し記録されていることを確認。",
                "ケーブルまたは機器の不良の可能性が高いと判断。",
                "",
            ),
            (
                90,
                true,
                "カードリーダーのUSBケーブルの接触不良を確認し、予備ケーブルに交換。操作者カードの読取りを10回確認。",
                "操作者カードを正常に認識することを拠点担当者と確認。",
                "",
            ),
        ],
        report: "USBケーブルの接触不良が原因でした。予備ケーブルに交換し、正常に読み取れることを確認しました。",
    },
    Support {
        site: "KENCHO",
        hosts: &["jk-kencho-biz02"],
        title: "操作者の異動に伴う端末設定の確認（県庁）",
        description: "人事異動に伴い操作者が変わります。業務端末のログオン設定と業務アプリケーションの利用者設定の確認をお願いします。",
        steps: &[(
            60,
            true,
            "異動に伴う操作者の変更について、端末のログオン設定と業務アプリケーションの利用者設定を確認。不要となった設定を削除。",
            "設定の変更を完了。新しい操作者のログオンを確認。",
            "",
        )],
        report: "設定の変更を完了し、新しい操作者がログオンできることを確認しました。",
    },
    Support {
        site: "FUKUSHI-C",
        hosts: &[],
        title: "端末の時刻ずれの調査（総合福祉センター）",
        description: "業務端末の時計が数分ずれているとの連絡がありました。確認をお願いします。",
        steps: &[(
            45,
            false,
            "時刻同期の設定とイベントログを確認。同期先の設定誤りにより同期に失敗していたため、正しい同期先に再設定。",
            "約3分のずれを解消し、同期の成功を確認。",
            "",
        )],
        report: "時刻同期の設定を修正し、同期できることを確認しました。",
    },
    Support {
        site: "HOFUKU-CHUBU",
        hosts: &[],
        title: "業務アプリケーションのエラー表示の調査（佐賀中部保健福祉事務所）",
        description: "業務アプリケーションの起動時にエラーが表示されることがあります。調査をお願いします。",
        steps: &[
            (
                60,
                false,
                "エラー画面の内容と業務アプリケーションのログを確認。一時フォルダの権限設定の不整合を確認し、既定値に戻した。",
                "エラーが解消したことを確認。",
                "",
            ),
            (
                30,
                false,
                "翌業務日の業務開始時に再発していないことを確認。",
                "再発なし。",
                "",
            ),
        ],
        report: "一時フォルダの権限設定を既定値に戻し、エラーが解消したことを確認しました。",
    },
    Support {
        site: "ZEI-SAGA",
        hosts: &[],
        title: "端末の画面が表示されない件の対応（佐賀県税事務所）",
        description: "業務端末の画面が表示されなくなりました。至急確認をお願いします。",
        steps: &[(
            60,
            true,
            "モニタとケーブルの状態を確認。ディスプレイケーブルがコネクタから外れかけていたため、固定して再接続。",
            "画面の表示を確認。",
            "",
        )],
        report: "ディスプレイケーブルを再接続し、表示を確認しました。",
    },
    Support {
        site: "HOFUKU-TOSU",
        hosts: &[],
        title: "UPSの警告音の確認（鳥栖保健福祉事務所）",
        description: "端末のUPSから警告音が鳴っています。確認をお願いします。",
        steps: &[(
            90,
            true,
            "UPSの警告内容を確認し、バッテリー交換時期の警告であることを確認。自己診断を実施。",
            "自己診断は正常。バッテリーは交換推奨時期。",
            "県でバッテリーの調達を検討。交換時はSEが立ち会う。",
        )],
        report: "バッテリー交換時期の警告でした。自己診断は正常です。バッテリーの交換をご検討ください。",
    },
    Support {
        site: "ARIAKE",
        hosts: &[],
        title: "端末にログオンできない件の対応（有明海沿岸道路整備事務所）",
        description: "操作者が端末にログオンできなくなりました。対応をお願いします。",
        steps: &[(
            45,
            false,
            "ログオンの失敗履歴を確認。パスワードの連続誤入力によるアカウントのロックを確認し、県の承認を得て解除。",
            "ロックを解除し、ログオンできることを確認。",
            "",
        )],
        report: "アカウントのロックを解除し、ログオンできることを確認しました。",
    },
    Support {
        site: "DOBOKU-IMARI",
        hosts: &[],
        title: "ディスク空き容量不足の警告への対応（伊万里土木事務所）",
        description: "ディスクの空き容量が少ないとの警告が表示されています。対応をお願いします。",
        steps: &[(
            60,
            false,
            "ディスクの使用状況を確認。更新プログラムの一時ファイルが約12GB残っていたため、ディスククリーンアップで削除。",
            "空き容量が9%から31%に回復。",
            "",
        )],
        report: "不要な一時ファイルを削除し、空き容量が31%に回復しました。",
    },
    Support {
        site: "HOFUKU-KARATSU",
        hosts: &[],
        title: "端末の再起動が繰り返される件の調査（唐津保健福祉事務所）",
        description: "業務中に端末が突然再起動することが続いています。調査をお願いします。",
        steps: &[
            (
                45,
                false,
                "イベントログを確認。電源の瞬断による予期しないシャットダウンが記録されていることを確認。",
                "電源周りの確認が必要と判断。",
                "",
            ),
            (
                120,
                true,
                "電源タップとUPSの接続を確認。電源タップの劣化を確認し、県の予備品に交換。",
                "交換後、再起動の再発なし。",
                "1週間後にイベントログを再確認する。",
            ),
        ],
        report: "電源タップの劣化が原因でした。予備品に交換し、再発していないことを確認しました。",
    },
    Support {
        site: "DOBOKU-SAGA",
        hosts: &[],
        title: "業務端末のキーボード交換（佐賀土木事務所）",
        description: "キーボードの一部のキーが反応しません。予備品への交換をお願いします。",
        steps: &[(
            30,
            true,
            "一部のキーが反応しないキーボードを県の予備品に交換し、入力を確認。",
            "交換完了。入力に問題なし。",
            "",
        )],
        report: "キーボードを予備品に交換しました。",
    },
    Support {
        site: "HOFUKU-IMARI",
        hosts: &[],
        title: "端末の設置場所変更に伴う動作確認（伊万里保健福祉事務所）",
        description: "執務室のレイアウト変更に伴い端末を移設します。移設と動作確認をお願いします。",
        steps: &[(
            90,
            true,
            "執務室のレイアウト変更に伴い、端末・カードリーダー・プリンタを移設。LAN接続と住基ネットへの疎通を確認。",
            "移設後の業務アプリケーションの起動と疎通を確認。",
            "",
        )],
        report: "移設後の起動と疎通を確認しました。",
    },
    Support {
        site: "ZEI-KARATSU",
        hosts: &[],
        title: "業務アプリケーションの操作に関する問合せ対応（唐津県税事務所）",
        description: "照会結果を一括で出力する操作方法を教えてください。",
        steps: &[(
            30,
            false,
            "照会結果の一括出力の操作方法について、画面共有で説明。",
            "操作方法を理解いただいたことを確認。",
            "",
        )],
        report: "操作方法をご説明しました。",
    },
    Support {
        site: "KENCHO",
        hosts: &["jk-kencho-rep01"],
        title: "代表端末のイベントログ警告の調査（県庁）",
        description: "代表端末のイベントログに警告が記録されています。内容の確認をお願いします。",
        steps: &[(
            60,
            true,
            "代表端末のイベントログに記録された警告（ディスクの遅延書き込み）を確認。ディスクの自己診断（S.M.A.R.T.）を実施。",
            "自己診断は正常。警告は一時的なものと判断。",
            "次回の定期点検で再確認する。",
        )],
        report: "ディスクの自己診断は正常でした。次回の定期点検で再確認します。",
    },
    Support {
        site: "DOBOKU-KITO",
        hosts: &[],
        title: "Windows 10 LTSC 端末のサポート期限の確認（杵藤土木事務所）",
        description: "杵藤土木事務所の端末のOSのサポート期限と、更新の方法を確認してください。",
        steps: &[(
            60,
            false,
            "端末のOSのエディションとサポート期限を確認し、更新計画の検討資料を作成。",
            "サポート期限と更新の選択肢を整理し、県に報告。",
            "",
        )],
        report: "サポート期限と更新の選択肢を資料にまとめて報告しました。",
    },
    Support {
        site: "ZEI-TAKEO",
        hosts: &[],
        title: "業務アプリケーションが起動しない件の対応（武雄県税事務所）",
        description: "業務アプリケーションが起動しなくなりました。対応をお願いします。",
        steps: &[(
            45,
            false,
            "業務アプリケーションの起動ログを確認。更新後の設定ファイルの反映漏れを確認し、正しい設定ファイルを配置。",
            "起動と照会画面の表示を確認。",
            "",
        )],
        report: "設定ファイルを修正し、起動を確認しました。",
    },
    Support {
        site: "HOFUKU-KITO",
        hosts: &[],
        title: "操作者カードの有効期限に関する問合せ対応（杵藤保健福祉事務所）",
        description: "操作者カードの有効期限の確認方法と更新の手続を教えてください。",
        steps: &[(
            30,
            false,
            "操作者カードの有効期限の確認方法と更新手続の流れを電話と画面共有で説明。",
            "拠点担当者が手続を理解したことを確認。",
            "",
        )],
        report: "確認方法と手続の流れをご説明しました。",
    },
    Support {
        site: "KENCHO",
        hosts: &["jk-kencho-biz01"],
        title: "業務端末のプリンタの用紙詰まりの確認（県庁）",
        description: "業務端末のプリンタで用紙詰まりが頻発しています。確認をお願いします。",
        steps: &[(
            45,
            true,
            "プリンタの給紙ローラーの摩耗を確認し、清掃。テスト印刷を20枚実施。",
            "用紙詰まりは再現せず。",
            "再発時はプリンタの保守業者に連絡するよう案内。",
        )],
        report: "給紙ローラーを清掃し、用紙詰まりが再現しないことを確認しました。",
    },
    Support {
        site: "ARIAKE",
        hosts: &[],
        title: "端末の電源が入らない件の対応（有明海沿岸道路整備事務所）",
        description: "業務端末の電源が入りません。至急対応をお願いします。",
        steps: &[(
            90,
            true,
            "電源ユニットとケーブルを確認。電源ケーブルの断線を確認し交換。",
            "起動と業務アプリケーションの動作を確認。",
            "",
        )],
        report: "電源ケーブルの断線が原因でした。交換して起動を確認しました。",
    },
];

/// OS build after the monthly update of fiscal month `i` (plausible, not real numbers); month `-1` is
/// the build the year started with. The inventories of [`crate::rollouts`] report the same builds.
pub(crate) fn os_build(host: &str, i: i64) -> String {
    let win10 = TERMINALS
        .iter()
        .any(|t| t.0 == host && t.4.starts_with("Windows 10"));
    if win10 {
        format!("19044.{}", 5737 + 61 * i)
    } else {
        format!("22631.{}", 4751 + 61 * i)
    }
}

/// The antivirus definition version released for fiscal month `(y, m)`: dated the month's second office
/// day, when the monthly ウイルス定義ファイルの更新 is requested.
pub(crate) fn definition_version(y: i32, m: u32) -> String {
    let filed = office_day_of_month(y, m, 2);
    format!("{y}{m:02}{:02}.001", filed.day())
}

/// Builds the plan of the fiscal year containing `today`, up to `today`'s month (work planned after
/// `today` is placed in the diary but not recorded).
fn plan(fy: FiscalYear, today: NaiveDate) -> Plan {
    let mut p = Plan::default();
    let first = on_or_after(fy.start());
    let clamp = |d: NaiveDate| d.max(first);
    let current = (today.year(), today.month());
    let hoshu = Se::Hoshu;
    let unyo = Se::Unyo;
    let business: Vec<(&'static str, &'static str)> = TERMINALS
        .iter()
        .filter(|t| t.2 == "business")
        .map(|t| (t.0, t.1))
        .collect();
    let business_hosts: Vec<&'static str> = business.iter().map(|b| b.0).collect();
    let all_hosts: Vec<&'static str> = TERMINALS.iter().map(|t| t.0).collect();
    let mut windows_requests = Vec::new();

    for (i, (y, m)) in fy.months().enumerate() {
        if (y, m) > current {
            break;
        }
        let seed = i as u64;
        let od = |n: u32| office_day_of_month(y, m, n);

        // Monthly 定期疎通確認 of the 集約ネットワーク (no request).
        let who = if i % 2 == 0 { unyo } else { hoshu };
        let finding = i % 5 == 3;
        p.work(
            Work::new(
                od(3),
                60,
                who,
                Category::ConnectivityCheck,
                "集約ネットワークの定期疎通確認（全15拠点：ICMP、都道府県サーバへのHTTPS接続、名前解決）。結果を疎通確認結果表に記録。",
                if finding {
                    "RT-伊万里 配下の2拠点で応答時間の増加（平均120ms）を確認。回線事業者に照会し、回線工事の影響と判明。その他の拠点は正常。"
                } else {
                    "全拠点で応答あり。応答時間は平均8ms～23msで前月と同程度。"
                },
            )
            .after(9, 30)
            .follow(if finding { "翌月の定期疎通確認で再確認する。" } else { "" }),
        );

        // ウイルス定義ファイルの更新 (monthly request).
        let filed = od(2);
        let off = pick(seed * 7 + 1, &business_hosts);
        let av = Req::new(
            filed,
            Category::AntivirusUpdate,
            format!("ウイルス定義ファイルの更新（全端末・{m}月）"),
            "ウイルス対策ソフトの定義ファイルの配信状況を確認し、未更新の端末があれば手動で更新してください。代表端末は現地で更新とスキャン結果の確認をお願いします。",
            hoshu,
        )
        .hosts(&all_hosts)
        .result("代表端末は現地で更新し、業務端末16台は配信状況を確認のうえ未更新の端末を手動で更新しました。全端末が最新の定義ファイルです。");
        let version = definition_version(y, m);
        p.request(
            av,
            vec![
                Work::new(
                    add_office_days(filed, 2),
                    45,
                    hoshu,
                    Category::AntivirusUpdate,
                    "代表端末のウイルス対策ソフト定義ファイルの更新（手動）とフルスキャン結果の確認、前月分のWindows月例更新プログラムの適用（現地）",
                    format!(
                        "定義ファイルを最新版（{version}）に更新。フルスキャンで検出なし。Windows月例更新を適用し、OSビルド {} を確認。",
                        os_build("jk-kencho-rep01", i as i64 - 1)
                    ),
                )
                .at("KENCHO", &["jk-kencho-rep01"])
                .onsite()
                .after(9, 15),
                Work::new(
                    add_office_days(filed, 2),
                    60,
                    unyo,
                    Category::AntivirusUpdate,
                    "業務端末16台の定義ファイル配信状況を管理コンソールで確認し、未更新の端末に手動で配信",
                    if i % 3 == 1 {
                        format!("16台中15台は自動更新済み。{off} は電源が切られていたため未更新だったが、拠点担当者に起動を依頼し手動で配信、更新を確認。")
                    } else {
                        "全16台が最新の定義ファイルに更新済みであることを確認。".to_string()
                    },
                ),
            ],
        );

        // Windows月例更新 (monthly request after the patch Tuesday).
        let patch_tuesday = nth_weekday(y, m, Weekday::Tue, 2).unwrap_or(od(8));
        let filed = on_or_after(add_office_days(patch_tuesday, 2));
        let mut items = Vec::new();
        let kencho_biz: Vec<&'static str> = hosts_at("KENCHO")
            .into_iter()
            .filter(|h| h.contains("biz"))
            .collect();
        items.push(
            Work::new(
                add_office_days(filed, 2),
                45,
                unyo,
                Category::RemoteUpdate,
                format!("Windows月例更新プログラム（{y}年{m}月 累積更新）の先行適用（県庁 業務端末2台）。適用前に業務アプリケーションの終了と利用者への周知を確認し、適用後に再起動してOSビルド番号と業務アプリケーションの起動を確認。"),
                format!("適用完了（OSビルド {}）。業務アプリケーションの起動と住基ネットへの接続を確認。", os_build("jk-kencho-biz01", i as i64)),
            )
            .at("KENCHO", &kencho_biz)
            .after(13, 0),
        );
        let slow = pick(seed * 13 + 5, &business);
        for (k, (host, site)) in business.iter().filter(|b| b.1 != "KENCHO").enumerate() {
            let who = if k % 4 == 3 { hoshu } else { unyo };
            let troubled = i % 4 == 2 && *host == slow.0;
            let mut w = Work::new(
                add_office_days(filed, 3),
                if troubled { 60 } else { 30 },
                who,
                Category::RemoteUpdate,
                format!("{} 業務端末（{host}）へのWindows月例更新プログラム（{m}月分）のリモート適用と、再起動後の動作確認", site_name(site)),
                if troubled {
                    format!("適用完了（OSビルド {}）。再起動に約20分を要したため、ディスクの状態を確認。業務への影響なし。", os_build(host, i as i64))
                } else {
                    format!("適用完了（OSビルド {}）。業務アプリケーションの起動を確認。", os_build(host, i as i64))
                },
            )
            .at(site, &[host]);
            if troubled {
                w = w.follow("次回の定期点検でディスクの状態を確認する。");
            }
            items.push(w);
        }
        let win = Req::new(
            filed,
            Category::RemoteUpdate,
            format!("Windows月例更新（{m}月分）のリモート適用"),
            format!("{y}年{m}月の月例セキュリティ更新プログラムについて、県での検証で問題がなかったため、業務端末16台へのリモート適用をお願いします。業務に支障のない時間帯に適用し、適用結果（OSビルド番号）を報告してください。"),
            unyo,
        )
        .hosts(&business_hosts)
        .result(format!("業務端末16台すべてに{m}月分の更新プログラムを適用し、OSビルド番号と業務アプリケーションの起動を確認しました。端末ごとの結果は作業記録のとおりです。"));
        let win = Req {
            confirm: "適用結果を確認しました。",
            ..win
        };
        windows_requests.push(p.request(win, items));

        // Monthly 定期点検 (no request): 県庁 on site, the other offices remotely.
        let check_day = od(8);
        p.work(
            Work::new(
                check_day,
                120,
                hoshu,
                Category::TechnicalSupport,
                "代表端末・業務端末（県庁 3台）の月次定期点検（イベントログ、ディスク空き容量、時刻同期、ウイルス対策ソフトの稼働状況、UPSの状態）",
                match i % 4 {
                    1 => "jk-kencho-biz02 のディスク空き容量が15%を下回っていたため、一時ファイルを削除し32%まで回復。その他は異常なし。",
                    3 => "代表端末のUPSの自己診断で警告なし。イベントログに重大なエラーなし。異常なし。",
                    _ => "3台とも異常なし。",
                },
            )
            .at_all("KENCHO")
            .onsite()
            .after(9, 30),
        );
        p.work(
            Work::new(
                check_day,
                150,
                unyo,
                Category::TechnicalSupport,
                "出先機関の業務端末（14台）のリモート定期点検（イベントログ、ディスク空き容量、時刻同期、更新プログラムの適用状況）",
                if i % 3 == 2 {
                    "jk-hfk-karatsu01 で時刻のずれ（約40秒）を確認し、手動で同期。その他の端末は異常なし。"
                } else {
                    "14台とも異常なし。"
                },
            )
            .after(13, 15),
        );

        // Two technical-support requests a month.
        for k in 0..2u32 {
            let t = &SUPPORT[(i * 2 + k as usize) % SUPPORT.len()];
            let filed = od(if k == 0 { 6 } else { 12 });
            let who = if k == 0 { hoshu } else { unyo };
            let hosts = if t.hosts.is_empty() {
                hosts_at(t.site)
            } else {
                t.hosts.to_vec()
            };
            let mut day = add_office_days(filed, 1);
            let mut items = Vec::new();
            for (n, (minutes, onsite, what, result, follow)) in t.steps.iter().enumerate() {
                let mut w = Work::new(
                    day,
                    *minutes,
                    who,
                    Category::TechnicalSupport,
                    *what,
                    *result,
                )
                .at(t.site, &hosts)
                .after(if n == 0 { 10 } else { 13 }, 0)
                .follow(follow);
                if *onsite {
                    w = w.onsite();
                }
                items.push(w);
                day = add_office_days(day, 1);
            }
            let req = Req::new(
                filed,
                Category::TechnicalSupport,
                t.title,
                t.description,
                who,
            )
            .hosts(&hosts)
            .result(t.report);
            p.request(req, items);
        }

        // 業務アプリ更新版のインストール（代表端末）, quarterly.
        if i % 3 == 0 {
            let filed = od(4);
            let version = app_version(filed);
            let req = Req::new(
                filed,
                Category::AppInstall,
                "業務アプリ更新版のインストール（代表端末）",
                format!("業務アプリケーションの更新版（{version}）が配布されました。代表端末へのインストールと、住基ネットへの接続・主要な業務画面の表示確認をお願いします。"),
                hoshu,
            )
            .hosts(&["jk-kencho-rep01"])
            .result(format!("代表端末に更新版（{version}）をインストールし、住基ネットへの接続と主要な業務画面の表示を確認しました。"));
            p.request(
                req,
                vec![
                    Work::new(
                        add_office_days(filed, 1),
                        60,
                        unyo,
                        Category::AppInstall,
                        format!("更新版（{version}）の配布媒体のハッシュ値確認とインストール手順書の確認（事前準備）"),
                        "ハッシュ値が配布元の通知と一致することを確認。手順書に変更点なし。",
                    )
                    .at("KENCHO", &["jk-kencho-rep01"]),
                    Work::new(
                        add_office_days(filed, 2),
                        120,
                        hoshu,
                        Category::AppInstall,
                        format!("代表端末への業務アプリケーション更新版（{version}）のインストール、住基ネットへの接続と主要な業務画面の表示確認"),
                        "インストール正常終了。接続と業務画面の表示を確認。",
                    )
                    .at("KENCHO", &["jk-kencho-rep01"])
                    .onsite()
                    .after(13, 30),
                ],
            );
        }

        // The year's particular events.
        match i {
            0 => {
                p.talks.push(Talk {
                    held_on: od(2),
                    by: "staff",
                    participants: format!("{PREFECTURE}、{SES}"),
                    topic: format!("{}の業務開始打合せ（作業計画・連絡体制の確認）", fy.label()),
                    agreed: "月例更新は第2火曜日の週の木曜日以降に県が要請し、翌週中に適用を完了する。定期点検は毎月中旬、定期疎通確認は毎月上旬に行う。障害時はSEがまずリモートで切り分け、30分以内に県へ第一報を入れる。".into(),
                    requests: Vec::new(),
                });
                let filed = od(3);
                let req = Req::new(
                    filed,
                    Category::ConnectivityCheck,
                    "年度当初の集約ネットワーク疎通確認の支援",
                    "年度当初の点検として、全拠点から集約ネットワーク・都道府県サーバへの疎通確認を支援してください。結果は疎通確認結果表にまとめてください。",
                    unyo,
                )
                .result("全15拠点の疎通を確認し、疎通確認結果表を提出しました。");
                p.request(
                    req,
                    vec![
                        Work::new(add_office_days(filed, 1), 90, unyo, Category::ConnectivityCheck, "年度当初の全拠点疎通確認（ICMP・HTTPS・DNS）と疎通確認結果表の作成", "全拠点で疎通を確認。結果表を作成。").after(10, 0),
                        Work::new(add_office_days(filed, 2), 60, hoshu, Category::ConnectivityCheck, "県庁コアルータ・ファイアウォールのログ確認と、疎通確認結果の県への説明", "ログに異常なし。結果を県に説明し了承を得た。").at("KENCHO", &[]).onsite().after(14, 0),
                    ],
                );
            }
            1 => {
                let filed = od(5);
                let sites = ["ZEI-KARATSU", "DOBOKU-KARATSU", "HOFUKU-KARATSU"];
                let req = Req::new(
                    filed,
                    Category::ConnectivityCheck,
                    "RT-唐津 機器更新に伴う疎通確認の支援",
                    "唐津地区のルータ（RT-唐津）の機器更新に伴い、配下の3拠点（唐津県税事務所・唐津土木事務所・唐津保健福祉事務所）の端末から住基ネットへの疎通確認を現地で支援してください。",
                    hoshu,
                )
                .sites(&sites)
                .result("機器更新後、唐津地区の3拠点すべてで住基ネットへの疎通と業務アプリケーションの接続を確認しました。");
                let items = sites
                    .iter()
                    .map(|s| {
                        Work::new(add_office_days(filed, 3), 60, hoshu, Category::ConnectivityCheck,
                            format!("{} の端末から住基ネット（都道府県サーバ）への疎通確認（ping、HTTPS、業務アプリケーションの接続）", site_name(s)),
                            "疎通・接続とも正常。")
                        .at_all(s)
                        .onsite()
                        .after(10, 0)
                    })
                    .collect();
                p.request(req, items);
            }
            2 => {
                let council = on_or_after(nth_weekday(y, 7, Weekday::Thu, 3).unwrap_or(od(15)));
                let filed = od(3);
                let req = Req::new(
                    filed,
                    Category::CouncilSupport,
                    "本人確認情報保護審議会 資料作成の支援",
                    format!("{}開催予定の本人確認情報保護審議会に向けて、前年度の運用状況（作業実績、障害対応、セキュリティ対策、端末の更新状況）の統計資料と説明資料案の作成を支援してください。審議会当日は説明補助をお願いします。", format_long(council)),
                    hoshu,
                )
                .sites(&["KENCHO"])
                .wished(council)
                .planned(council)
                .result("統計資料と説明資料案を作成し、審議会当日の説明補助を行いました。");
                let req = Req {
                    confirm: "審議会は滞りなく終了しました。ありがとうございました。",
                    ..req
                };
                let council_req = p.request(
                    req,
                    vec![
                        Work::new(add_office_days(filed, 3), 180, hoshu, Category::CouncilSupport, "前年度の作業実績・障害対応記録の集計（統計資料の作成）", "統計資料（作業件数・作業時間・障害件数）を作成。").at("KENCHO", &[]),
                        Work::new(add_office_days(filed, 5), 150, unyo, Category::CouncilSupport, "セキュリティ対策（更新プログラム・ウイルス対策）と端末の更新状況の説明資料案の作成", "説明資料案を作成し、県に提出。").at("KENCHO", &[]).after(13, 0),
                        Work::new(add_office_days(council, -5), 90, hoshu, Category::CouncilSupport, "審議会資料の読み合わせ（県 市町村課と）と指摘事項の修正", "指摘事項3点を修正し、最終版を提出。").with(unyo).at("KENCHO", &[]).onsite().after(10, 0),
                        Work::new(council, 150, hoshu, Category::CouncilSupport, "本人確認情報保護審議会の説明補助（運用状況・セキュリティ対策の説明、質疑への技術的な補足）", "審議会は予定どおり終了。委員からの質問（更新プログラムの適用時期）に補足説明を行った。").at("KENCHO", &[]).onsite().fixed(13, 30),
                    ],
                );
                p.talks.push(Talk {
                    held_on: add_office_days(filed, 2),
                    by: "staff",
                    participants: format!("{PREFECTURE}、{SES}"),
                    topic: "本人確認情報保護審議会に向けた資料作成支援の進め方".into(),
                    agreed: format!("統計資料は前年度と同じ項目（作業件数・作業時間、障害件数、更新プログラムの適用状況、ウイルス対策の状況）とし、{}までに案を提出する。審議会当日はSE 1名が説明補助として同席する。", format_long(add_office_days(filed, 10))),
                    requests: vec![council_req],
                });
                p.talks.push(Talk {
                    held_on: add_office_days(council, -2),
                    by: "se",
                    participants: format!("{PREFECTURE}、九州システムサポート株式会社 保守 技郎"),
                    topic: "審議会資料の最終確認と当日の説明分担".into(),
                    agreed: "資料の最終版を了承。当日は県が運用状況の概要を、SEがセキュリティ対策の技術的な内容を説明する。".into(),
                    requests: vec![council_req],
                });
            }
            4 => {
                let day = od(6);
                let req = Req::new(
                    day,
                    Category::IncidentResponse,
                    "伊万里保健福祉事務所 端末が集約ネットワークに接続できない",
                    "9時30分頃、伊万里保健福祉事務所から業務端末が住基ネットに接続できないとの連絡がありました。原因の調査と復旧をお願いします。",
                    hoshu,
                )
                .same_day()
                .hosts(&["jk-hfk-imari01"])
                .result("拠点内スイッチのポート障害が原因でした。予備ポートへの接続変更で復旧し、拠点担当者の立会いのもと業務の再開を確認しました。");
                let req = Req {
                    confirm: "復旧を確認しました。再発防止策は協議のとおり進めます。",
                    ..req
                };
                let incident = p.request(
                    req,
                    vec![
                        Work::new(day, 60, unyo, Category::IncidentResponse, "障害連絡を受け、リモートで疎通を確認（端末→RT-伊万里は応答なし、RT-伊万里→県庁は正常）。拠点内の配線またはスイッチの障害と切り分け。", "現地での確認が必要と判断し、県に第一報。").at_all("HOFUKU-IMARI").fixed(9, 45),
                        Work::new(day, 120, hoshu, Category::IncidentResponse, "現地で拠点内スイッチのポート障害を確認し、予備ポートへ接続を変更して復旧。拠点担当者の立会いのもと、業務アプリケーションによる住基ネットへの接続を確認。", "14時50分に復旧。立会者（拠点担当者）が業務の再開を確認。").at_all("HOFUKU-IMARI").onsite().fixed(13, 30).follow("スイッチの交換について県と協議する。"),
                    ],
                );
                p.talks.push(Talk {
                    held_on: add_office_days(day, 2),
                    by: "staff",
                    participants: format!("{PREFECTURE}、{SES}"),
                    topic: "伊万里保健福祉事務所の接続障害の原因と再発防止策".into(),
                    agreed: "拠点内スイッチを予備機に交換する（県で手配、交換時はSEが立ち会う）。同様の障害時は、SEがまずリモートで切り分け、30分以内に県へ第一報を入れる運用を継続する。".into(),
                    requests: vec![incident],
                });
            }
            5 => {
                let filed = od(4);
                let req = Req::new(
                    filed,
                    Category::TechnicalSupport,
                    "総合福祉センター 端末の移設に伴う設定変更",
                    "総合福祉センターの執務室移転に伴い、端末の移設と設定変更をお願いします。",
                    hoshu,
                )
                .hosts(&["jk-fukushi01"])
                .planned(od(14))
                .fate(Fate::Withdrawn(
                    od(8),
                    "移転工事が来年度に延期となったため、取り下げます。",
                ));
                p.request(req, Vec::new());
            }
            7 => {
                let filed = od(9);
                let req = Req::new(
                    filed,
                    Category::ConnectivityCheck,
                    "県庁コアルータ設定変更後の疎通確認の支援",
                    "県庁コアルータの設定変更（経路の冗長化）を行います。変更後、全拠点からの疎通確認を支援してください。",
                    unyo,
                )
                .result("設定変更後、全15拠点から都道府県サーバへの疎通を確認しました。");
                p.request(
                    req,
                    vec![Work::new(add_office_days(filed, 2), 90, unyo, Category::ConnectivityCheck, "県庁コアルータの設定変更後、全15拠点からの疎通確認（ICMP・HTTPS）と経路の確認", "全拠点で疎通を確認。冗長経路への切替えも確認。").after(16, 0)],
                );
            }
            8 => {
                let filed = od(10);
                let req = Req::new(
                    filed,
                    Category::TechnicalSupport,
                    "年末年始の端末停止・起動手順の確認支援",
                    "年末年始の閉庁期間に向けて、端末の停止・起動手順を確認し、拠点向けの案内を作成してください。",
                    hoshu,
                )
                .result("停止・起動手順を確認し、拠点向けの案内を作成しました。");
                p.request(
                    req,
                    vec![
                        Work::new(
                            add_office_days(filed, 1),
                            60,
                            hoshu,
                            Category::TechnicalSupport,
                            "年末年始の端末停止・起動手順の確認と拠点向け案内の作成",
                            "案内を作成し、県に提出。",
                        )
                        .at_all("KENCHO")
                        .onsite(),
                    ],
                );
            }
            9 => {
                let day = od(9);
                let req = Req::new(
                    day,
                    Category::IncidentResponse,
                    "武雄県税事務所 端末が起動しない",
                    "武雄県税事務所の業務端末が起動しなくなりました（画面に修復中と表示されたまま）。至急対応をお願いします。",
                    hoshu,
                )
                .same_day()
                .hosts(&["jk-zei-takeo01"])
                .result("ファイルシステムの不整合が原因でした。回復環境から修復して起動を確認し、拠点担当者の立会いのもと業務の再開を確認しました。");
                p.request(
                    req,
                    vec![
                        Work::new(day, 30, unyo, Category::IncidentResponse, "障害連絡を受け、リモート接続を試行（応答なし）。拠点担当者に画面の表示内容を確認し、起動時の自動修復の失敗と判断。", "現地対応が必要と判断し、県に第一報。").at_all("ZEI-TAKEO").fixed(10, 0),
                        Work::new(day, 180, hoshu, Category::IncidentResponse, "現地で回復環境からディスクのエラーチェックとファイルシステムの修復を実施し、起動を確認。業務アプリケーションの動作を拠点担当者の立会いのもと確認。", "15時40分に復旧。立会者（拠点担当者）が業務の再開を確認。").at_all("ZEI-TAKEO").onsite().fixed(13, 0).follow("ディスクの状態を1か月間、定期点検で重点的に確認する。"),
                    ],
                );
            }
            10 => {
                let filed = od(5);
                let req = Req::new(
                    filed,
                    Category::TechnicalSupport,
                    "次年度に向けた端末OSのサポート期限の調査",
                    "次年度の予算要求に向けて、全端末のOSのサポート期限と更新の要否を調査してください。",
                    unyo,
                )
                .result("全17台のOSのサポート期限を調査し、更新が必要な2台（Windows 10 LTSC）を含む一覧を提出しました。");
                p.request(
                    req,
                    vec![
                        Work::new(
                            add_office_days(filed, 2),
                            120,
                            unyo,
                            Category::TechnicalSupport,
                            "全端末のOSのエディション・バージョンとサポート期限の調査、一覧の作成",
                            "一覧を作成し、県に提出。",
                        )
                        .after(13, 0),
                    ],
                );
            }
            11 => {
                let filed = od(6);
                let req = Req::new(
                    filed,
                    Category::TechnicalSupport,
                    "年度末の操作者アカウント棚卸しの支援",
                    "年度末の人事異動に備えて、各端末の操作者アカウントの棚卸しを支援してください。",
                    hoshu,
                )
                .result("全端末の操作者アカウントを一覧にし、異動予定者のアカウントを県と確認しました。");
                p.request(
                    req,
                    vec![
                        Work::new(
                            add_office_days(filed, 2),
                            120,
                            hoshu,
                            Category::TechnicalSupport,
                            "全端末の操作者アカウントの一覧作成と、県との突合せ",
                            "一覧を作成し、突合せを完了。",
                        )
                        .at_all("KENCHO")
                        .onsite(),
                    ],
                );
            }
            _ => {}
        }
    }

    // The consultation on the update schedule, once May's update has been requested.
    if let Some(&may) = windows_requests.get(1) {
        let filed = p.reqs[may].filed_on;
        p.talks.push(Talk {
            held_on: add_office_days(filed, 6),
            by: "staff",
            participants: format!("{PREFECTURE}、{SES}"),
            topic: "Windows月例更新の適用日程の変更".into(),
            agreed: "県税事務所の月末の繁忙期を避けるため、翌月分から、県の要請の翌々業務日に県庁の業務端末へ先行適用し、その翌業務日に出先機関へ適用する。適用は13時以降に行う。".into(),
            requests: vec![may],
        });
    }

    // Requests around today, so that every status is on the screens.
    let back = |n: i32| clamp(add_office_days(on_or_before(today), -n));
    let ahead = |n: i32| add_office_days(on_or_before(today), n);

    // 差戻し: work done early, sent back; its planned date (the deadline) is still ahead.
    let filed = back(8);
    let kito = ["jk-dbk-kito01", "jk-hfk-kito01"];
    let req = Req::new(
        filed,
        Category::RemoteUpdate,
        "Windows臨時更新プログラムの適用（定例外・Windows 10 端末）",
        "Windows 10 LTSC の端末2台について、定例外で公開された更新プログラムの適用をお願いします。",
        unyo,
    )
    .hosts(&kito)
    .planned(ahead(4))
    .result("2台に定例外の更新プログラムを適用しました。")
    .fate(Fate::Returned("jk-dbk-kito01 が再起動待ちのままで、適用が完了していません。再起動後に適用状況を確認してください。"));
    let items = kito
        .iter()
        .map(|h| {
            let site = TERMINALS
                .iter()
                .find(|t| t.0 == *h)
                .map_or("KENCHO", |t| t.1);
            Work::new(
                back(3),
                45,
                unyo,
                Category::RemoteUpdate,
                format!(
                    "{} 業務端末（{h}）への定例外更新プログラムのリモート適用",
                    site_name(site)
                ),
                "適用を実行。",
            )
            .at(site, &[h])
            .after(13, 0)
        })
        .collect();
    p.request(req, items);

    // 完了, awaiting the prefecture's confirmation (two of them).
    let filed = back(7);
    let req = Req::new(
        filed,
        Category::AppInstall,
        "業務アプリ更新版のインストール（業務端末・県庁）",
        "県庁の業務端末2台に業務アプリケーションの更新版をインストールしてください。",
        hoshu,
    )
    .hosts(&["jk-kencho-biz01", "jk-kencho-biz02"])
    .result("県庁の業務端末2台に更新版をインストールし、業務画面の表示を確認しました。")
    .fate(Fate::Completed);
    p.request(
        req,
        vec![
            Work::new(
                back(3),
                90,
                hoshu,
                Category::AppInstall,
                "県庁の業務端末2台への業務アプリケーション更新版のインストールと動作確認",
                "インストール正常終了。業務画面の表示を確認。",
            )
            .at("KENCHO", &["jk-kencho-biz01", "jk-kencho-biz02"])
            .onsite()
            .after(9, 30),
        ],
    );
    let filed = back(6);
    let req = Req::new(
        filed,
        Category::TechnicalSupport,
        "端末の時刻同期設定の見直し（全端末）",
        "時刻のずれの再発防止のため、全端末の時刻同期の設定を見直してください。",
        unyo,
    )
    .result("全17台の時刻同期の設定を統一し、同期の成功を確認しました。")
    .fate(Fate::Completed);
    p.request(
        req,
        vec![
            Work::new(
                back(2),
                90,
                unyo,
                Category::TechnicalSupport,
                "全17台の時刻同期設定の確認と統一（同期先・同期間隔）",
                "全台で同期の成功を確認。",
            )
            .after(9, 0),
        ],
    );

    // 対応中: part of the work done, the rest planned.
    let filed = back(6);
    let req = Req::new(
        filed,
        Category::TechnicalSupport,
        "業務端末のディスク容量不足の解消（佐賀中部保健福祉事務所）",
        "佐賀中部保健福祉事務所の業務端末でディスクの空き容量不足の警告が続いています。原因の調査と解消をお願いします。",
        hoshu,
    )
    .hosts(&["jk-hfk-chubu01"])
    .planned(ahead(3))
    .fate(Fate::InProgress);
    p.request(
        req,
        vec![
            Work::new(back(4), 60, hoshu, Category::TechnicalSupport, "ディスクの使用状況の調査（リモート）。業務アプリケーションのログが約20GBに増加していることを確認。", "ログの保存設定の見直しが必要と判断。").at_all("HOFUKU-CHUBU").after(10, 0),
            Work::new(ahead(2), 90, hoshu, Category::TechnicalSupport, "ログの保存設定の変更と古いログの退避（現地）", "（予定）").at_all("HOFUKU-CHUBU").onsite(),
        ],
    );

    // 受付: accepted, planned a few days ahead.
    let filed = back(2);
    let req = Req::new(
        filed,
        Category::ConnectivityCheck,
        "集約ネットワーク疎通確認の支援（伊万里土木事務所 回線工事後）",
        "伊万里土木事務所の回線工事の完了後、端末から住基ネットへの疎通確認を支援してください。",
        unyo,
    )
    .sites(&["DOBOKU-IMARI"])
    .planned(ahead(2))
    .wished(ahead(2))
    .fate(Fate::Accepted);
    p.request(req, Vec::new());

    // 受付, overdue: the planned day has passed (the site could not receive the SE yet).
    let filed = back(10);
    let req = Req::new(
        filed,
        Category::TechnicalSupport,
        "カードリーダー交換後の動作確認（有明海沿岸道路整備事務所）",
        "カードリーダーを新しい機器に交換しました。端末での動作確認をお願いします。",
        hoshu,
    )
    .hosts(&["jk-ariake01"])
    .planned(back(3))
    .wished(back(4))
    .fate(Fate::Accepted);
    p.request(req, Vec::new());

    // 要請: filed today, not accepted yet.
    let req = Req::new(
        clamp(on_or_before(today)).min(today),
        Category::TechnicalSupport,
        "操作者カードリーダーの認識不良の調査（佐賀土木事務所）",
        "佐賀土木事務所の業務端末で操作者カードを読み取れないことがあります。調査をお願いします。",
        hoshu,
    )
    .hosts(&["jk-dbk-saga01"])
    .wished(ahead(5))
    .fate(Fate::Requested);
    p.request(req, Vec::new());

    p
}

// ------------------------------------------------------------------------------------------------ diary

/// Who is busy when (travel included), per worker and day.
#[derive(Default)]
struct Diary {
    busy: HashMap<(Se, NaiveDate), Vec<(Min, Min)>>,
}

impl Diary {
    fn free(&self, who: &[Se], date: NaiveDate, from: Min, to: Min) -> bool {
        who.iter().all(|w| {
            self.busy
                .get(&(*w, date))
                .is_none_or(|v| v.iter().all(|(s, e)| to <= *s || *e <= from))
        })
    }

    fn book(&mut self, who: &[Se], date: NaiveDate, from: Min, to: Min) {
        for w in who {
            self.busy.entry((*w, date)).or_default().push((from, to));
        }
    }

    /// Places `w` on its fixed appointment, or on the first free slot from its earliest day (at most
    /// `last` — the contract's last day); `None` if nothing fits.
    fn place(&mut self, w: &Work, last: NaiveDate) -> Option<(NaiveDate, Min)> {
        let travel = w.travel();
        let fits = |s: Min| {
            let e = s + w.minutes;
            (s >= MORNING.0 && e <= MORNING.1) || (s >= AFTERNOON.0 && e <= AFTERNOON.1)
        };
        if let Some(s) = w.fixed
            && w.earliest <= last
            && fits(s)
            && self.free(&w.workers, w.earliest, s - travel, s + w.minutes + travel)
        {
            self.book(&w.workers, w.earliest, s - travel, s + w.minutes + travel);
            return Some((w.earliest, s));
        }
        let not_before = w.not_before.clamp(MORNING.0, AFTERNOON.1 - w.minutes);
        let mut date = on_or_after(w.earliest);
        for _ in 0..40 {
            if date > last {
                return None;
            }
            let mut s = not_before;
            while s + w.minutes <= AFTERNOON.1 {
                if fits(s) && self.free(&w.workers, date, s - travel, s + w.minutes + travel) {
                    self.book(&w.workers, date, s - travel, s + w.minutes + travel);
                    return Some((date, s));
                }
                s += 15;
            }
            date = add_office_days(date, 1);
        }
        None
    }
}

// ------------------------------------------------------------------------------------------------ replay

/// One step of the year, replayed in date order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    File(usize),
    Accept(usize),
    Start(usize),
    Work(usize),
    Complete(usize),
    Return(usize),
    Confirm(usize),
    Withdraw(usize),
    Talk(usize),
}

impl Step {
    fn rank(self) -> u8 {
        match self {
            Step::File(_) => 0,
            Step::Accept(_) => 1,
            Step::Start(_) => 2,
            Step::Work(_) => 3,
            Step::Complete(_) => 4,
            Step::Return(_) => 5,
            Step::Confirm(_) => 6,
            Step::Withdraw(_) => 7,
            Step::Talk(_) => 8,
        }
    }
}

fn hhmm(m: Min) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// The steps up to `today`, in the order they happened. Work is recorded only before `today`, and work
/// of a request only once the request has been started.
fn steps(p: &Plan, today: NaiveDate) -> Vec<(NaiveDate, Step)> {
    let mut out: Vec<(NaiveDate, Min, Step)> = Vec::new();
    let mut started = vec![false; p.reqs.len()];
    for (i, r) in p.reqs.iter().enumerate() {
        if r.filed_on > today {
            continue;
        }
        out.push((r.filed_on, 0, Step::File(i)));
        let mut done: Vec<NaiveDate> = p
            .work
            .iter()
            .filter(|w| w.request == Some(i))
            .filter_map(|w| w.slot.map(|s| s.0))
            .filter(|d| *d < today)
            .collect();
        done.sort();
        let planned = p
            .work
            .iter()
            .filter(|w| w.request == Some(i) && w.slot.is_some())
            .count();
        let accepted = r.accept_on <= today;
        match &r.fate {
            Fate::Requested => {}
            Fate::Withdrawn(on, _) => {
                if accepted && r.accept_on < *on {
                    out.push((r.accept_on, 0, Step::Accept(i)));
                }
                if *on <= today {
                    out.push(((*on).max(r.filed_on), 0, Step::Withdraw(i)));
                }
            }
            _ if !accepted => {}
            Fate::Accepted => out.push((r.accept_on, 0, Step::Accept(i))),
            fate @ (Fate::Natural | Fate::InProgress | Fate::Completed | Fate::Returned(_)) => {
                out.push((r.accept_on, 0, Step::Accept(i)));
                let (Some(first), Some(last)) = (done.first(), done.last()) else {
                    continue;
                };
                started[i] = true;
                out.push((*first, 0, Step::Start(i)));
                match fate {
                    Fate::Natural if done.len() == planned => {
                        out.push((*last, 0, Step::Complete(i)));
                        let confirm = add_office_days(*last, 2);
                        if confirm <= today {
                            out.push((confirm, 0, Step::Confirm(i)));
                        }
                    }
                    Fate::Completed => out.push((*last, 0, Step::Complete(i))),
                    Fate::Returned(_) => {
                        out.push((*last, 0, Step::Complete(i)));
                        out.push((add_office_days(*last, 1).min(today), 0, Step::Return(i)));
                    }
                    _ => {}
                }
            }
        }
    }
    for (i, w) in p.work.iter().enumerate() {
        if let Some((d, s)) = w.slot
            && d < today
            && w.request.is_none_or(|r| started[r])
        {
            out.push((d, s, Step::Work(i)));
        }
    }
    for (i, t) in p.talks.iter().enumerate() {
        if t.held_on <= today && t.requests.iter().all(|r| p.reqs[*r].filed_on <= t.held_on) {
            out.push((t.held_on, 0, Step::Talk(i)));
        }
    }
    out.sort_by_key(|(d, s, step)| (*d, step.rank(), *s, *step));
    out.into_iter().map(|(d, _, s)| (d, s)).collect()
}

/// Loads the fiscal year containing `today` (see the module documentation); the fleet and the demo
/// accounts (`admin`, `staff`, `se`, `se2`) must exist.
pub(crate) async fn load(store: &Store, today: NaiveDate) -> Result<YearSummary> {
    let fy = FiscalYear::containing(today);
    let user = |name: &'static str| async move {
        store
            .user_by_name(name)
            .await?
            .ok_or_else(|| StoreError::Internal(format!("demo account {name} is missing")))
    };
    let admin = user("admin").await?;
    let staff = user("staff").await?.actor("demo");
    let se = user("se").await?;
    let se2 = user("se2").await?;
    let actor_of = |who: Se| match who {
        Se::Hoshu => se.actor("demo"),
        Se::Unyo => se2.actor("demo"),
    };
    let all = ListQuery {
        per_page: Some(500),
        ..Default::default()
    };
    let site_ids: HashMap<String, i64> = store
        .sites(&all)
        .await?
        .items
        .into_iter()
        .map(|s| (s.code, s.id))
        .collect();
    let terminal_ids: HashMap<String, i64> = store
        .terminals(&all)
        .await?
        .items
        .into_iter()
        .map(|t| (t.hostname, t.id))
        .collect();
    let site_id = |code: &str| {
        site_ids
            .get(code)
            .copied()
            .ok_or_else(|| StoreError::Internal(format!("demo site {code} is missing")))
    };
    let terminal_id = |host: &str| {
        terminal_ids
            .get(host)
            .copied()
            .ok_or_else(|| StoreError::Internal(format!("demo terminal {host} is missing")))
    };

    let contract = store
        .create_contract(
            &admin.actor("demo"),
            &ContractInput {
                name: CONTRACT_NAME.into(),
                number: format!("佐情第{}-0123号", era_tag(fy)),
                term_start: fy.start().to_string(),
                term_end: fy.end().to_string(),
                contractor: CONTRACTOR.into(),
                manager: MANAGER.into(),
                // The staff roster below puts `se` and `se2` on the contract's staff once their
                // pledges are on file.
                staff_ids: Vec::new(),
            },
        )
        .await?;

    // The contract's registers: the roster keeps `se` and `se2` assigned with their pledges on file.
    let staff_user = user("staff").await?;
    crate::registers::load(store, contract.id, &admin, &staff_user, &se, &se2, today).await?;

    // Plan, place, replay.
    let mut p = plan(fy, today);
    let mut order: Vec<usize> = (0..p.work.len()).collect();
    order.sort_by_key(|i| (p.work[*i].fixed.is_none(), p.work[*i].earliest, *i));
    let mut diary = Diary::default();
    for i in order {
        p.work[i].slot = diary.place(&p.work[i], fy.end());
    }

    let mut ids: Vec<Option<i64>> = vec![None; p.reqs.len()];
    let mut summary = YearSummary {
        fiscal_year: fy,
        contract_id: contract.id,
        requests: 0,
        work_entries: 0,
        consultations: 0,
    };
    for (date, step) in steps(&p, today) {
        match step {
            Step::File(i) => {
                let r = &p.reqs[i];
                let input = RequestInput {
                    title: r.title.clone(),
                    category: r.category.code().into(),
                    site_ids: r.sites.iter().map(|s| site_id(s)).collect::<Result<_>>()?,
                    terminal_ids: r
                        .terminals
                        .iter()
                        .map(|h| terminal_id(h))
                        .collect::<Result<_>>()?,
                    wished_date: r.wished.map(|d| d.to_string()).unwrap_or_default(),
                    description: r.description.clone(),
                };
                let row = store.create_request_on(&staff, &input, date).await?;
                ids[i] = Some(row.id);
                summary.requests += 1;
            }
            Step::Work(i) => {
                let w = &p.work[i];
                let Some((day, start)) = w.slot else { continue };
                let request_id = match w.request {
                    Some(r) => ids[r],
                    None => None,
                };
                let input = WorkInput {
                    contract_id: Some(contract.id),
                    work_date: day.to_string(),
                    start_time: hhmm(start),
                    end_time: hhmm(start + w.minutes),
                    worker_ids: w
                        .workers
                        .iter()
                        .map(|s| match s {
                            Se::Hoshu => se.id,
                            Se::Unyo => se2.id,
                        })
                        .collect(),
                    mode: if w.onsite { "onsite" } else { "remote" }.into(),
                    site_id: w.site.map(site_id).transpose()?,
                    terminal_ids: w
                        .terminals
                        .iter()
                        .map(|h| terminal_id(h))
                        .collect::<Result<_>>()?,
                    category: w.category.code().into(),
                    // Suggested from the category and terminals, as the SE leaves it.
                    clause: String::new(),
                    description: w.description.clone(),
                    result: w.result.clone(),
                    follow_up: w.follow_up.clone(),
                    request_id,
                };
                store
                    .create_work_entry(&actor_of(w.workers[0]), &input)
                    .await?;
                summary.work_entries += 1;
            }
            Step::Talk(i) => {
                let t = &p.talks[i];
                let by = match t.by {
                    "se" => se.actor("demo"),
                    _ => staff.clone(),
                };
                store
                    .create_consultation(
                        &by,
                        &ConsultationInput {
                            contract_id: Some(contract.id),
                            held_on: t.held_on.to_string(),
                            participants: t.participants.clone(),
                            topic: t.topic.clone(),
                            agreed: t.agreed.clone(),
                            request_ids: t.requests.iter().filter_map(|r| ids[*r]).collect(),
                        },
                    )
                    .await?;
                summary.consultations += 1;
            }
            Step::Accept(i)
            | Step::Start(i)
            | Step::Complete(i)
            | Step::Return(i)
            | Step::Confirm(i)
            | Step::Withdraw(i) => {
                let r = &p.reqs[i];
                let Some(id) = ids[i] else { continue };
                let last_planned = p
                    .work
                    .iter()
                    .filter(|w| w.request == Some(i))
                    .filter_map(|w| w.slot.map(|s| s.0))
                    .max();
                let (actor, input) = match step {
                    Step::Accept(_) => {
                        let planned = r.planned.or(last_planned).unwrap_or(r.accept_on);
                        (
                            actor_of(r.assignee),
                            TransitionInput {
                                action: "accept".into(),
                                comment: format!("{}に対応します。", format_long(planned)),
                                planned_date: planned.to_string(),
                            },
                        )
                    }
                    Step::Start(_) => (actor_of(r.assignee), transition("start", "")),
                    Step::Complete(_) => (actor_of(r.assignee), transition("complete", &r.result)),
                    Step::Confirm(_) => (staff.clone(), transition("confirm", r.confirm)),
                    Step::Return(_) => {
                        let reason = match r.fate {
                            Fate::Returned(reason) => reason,
                            _ => "内容を確認のうえ、再対応をお願いします。",
                        };
                        (staff.clone(), transition("return", reason))
                    }
                    _ => {
                        let reason = match r.fate {
                            Fate::Withdrawn(_, reason) => reason,
                            _ => "不要となったため取り下げます。",
                        };
                        (staff.clone(), transition("withdraw", reason))
                    }
                };
                store.transition_request(&actor, id, &input).await?;
            }
        }
    }
    Ok(summary)
}

fn transition(action: &str, comment: &str) -> TransitionInput {
    TransitionInput {
        action: action.into(),
        comment: comment.into(),
        planned_date: String::new(),
    }
}
