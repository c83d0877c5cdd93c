//! The year's inventories and rollouts (issue 14): every terminal reports to unyo through a GLPI Agent,
//! and each month's two pieces of routine work — the antivirus definitions and the Windows cumulative
//! update — are run as rollout campaigns that the inventories prove.
//!
//! The story follows the work log of [`crate::year`] to the day:
//! - On the first office day of the fiscal year every agent sends its first inventory (the build and the
//!   definitions of March).
//! - Each month, when the ウイルス定義ファイルの更新 is requested (second office day), the SE opens a
//!   campaign for that month's definitions on all 17 terminals; the agents report the new definitions
//!   on the day of the work (the 代表端末, updated on site, also reports the previous month's Windows
//!   build applied during that visit), and the campaign is closed the next office day.
//! - When the Windows月例更新 is requested after the patch Tuesday, the SE opens one campaign per OS
//!   family (Windows 11 and Windows 10 LTSC 2021) on the business terminals; the agents report the
//!   builds the work log names (県庁 first, the offices a day later), and the campaigns are closed the
//!   next office day.
//!
//! Every write goes through the ordinary store calls, replayed in time order with [`Store::as_of`] so
//! that received, started, verified and closed times are the story's. Only events before `now` happen:
//! this month's campaigns may still be open. The same `today` and `now` give the same data.

use crate::TERMINALS;
use crate::calendar::{add_office_days, nth_weekday, office_day_of_month, on_or_after};
use crate::year::{definition_version, os_build};
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc, Weekday};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use unyo_domain::campaign::CampaignInput;
use unyo_domain::wareki::FiscalYear;
use unyo_store::inventory::{
    AgentContact, AgentIdentity, InventorySource, PROTOCOL_GLPI_JSON, Submitter,
};
use unyo_store::registry::ListQuery;
use unyo_store::{Result, Store, StoreError};

/// The antivirus product on every terminal, as Windows Security Center names it.
pub const ANTIVIRUS: &str = "Trend Micro Apex One Antivirus";
/// The GLPI Agent version the terminals run.
const AGENT_VERSION: &str = "1.11";

/// What [`crate::load_rollouts`] created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolloutSummary {
    /// Inventories received.
    pub inventories: usize,
    /// Campaigns opened.
    pub campaigns: usize,
    /// Campaigns closed.
    pub closed: usize,
}

/// Software installed on every terminal besides the antivirus (name, version, publisher). The versions
/// are those of the prefecture's standard image; some have known vulnerabilities, which is what the
/// vulnerability monitoring is for.
const SOFTWARE: &[(&str, &str, &str)] = &[
    (
        "住民基本台帳ネットワークシステム 業務アプリケーション",
        "8.4.0",
        "地方公共団体情報システム機構",
    ),
    ("7-Zip 19.00 (x64)", "19.00", "Igor Pavlov"),
    ("Adobe Acrobat Reader DC MUI", "23.003.20284", "Adobe Inc."),
    ("Java 8 Update 391", "8.0.3910.13", "Oracle Corporation"),
    (
        "Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.38.33135",
        "14.38.33135.0",
        "Microsoft Corporation",
    ),
    (
        "Trend Micro Apex One Security Agent",
        "14.0.12932",
        "Trend Micro Inc.",
    ),
];

/// One terminal as its agent sees it.
#[derive(Debug, Clone)]
struct Machine {
    host: &'static str,
    kind: &'static str,
    ip: &'static str,
    serial: &'static str,
    win10: bool,
    /// The fiscal month of the build it runs (`-1`: the year's starting build).
    build_month: i64,
    /// The definitions it has.
    definitions: String,
}

impl Machine {
    fn build(&self) -> String {
        format!("10.0.{}", os_build(self.host, self.build_month))
    }

    fn device_id(&self, fy: FiscalYear) -> String {
        format!("{}-{}-03-25-10-00-00", self.host, fy.0)
    }

    /// A stable SMBIOS UUID made from the serial number.
    fn uuid(&self) -> String {
        let h = Sha256::digest(self.serial.as_bytes());
        let x: String = h.iter().take(16).map(|b| format!("{b:02X}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &x[0..8],
            &x[8..12],
            &x[12..16],
            &x[16..20],
            &x[20..32]
        )
    }

    fn mac(&self) -> String {
        let h = Sha256::digest(self.host.as_bytes());
        format!("9c:7b:ef:{:02x}:{:02x}:{:02x}", h[0], h[1], h[2])
    }

    /// The body a GLPI Agent sends (`action: inventory`), collected at `at` (JST wall clock).
    fn inventory(&self, fy: FiscalYear, collected: &str) -> Value {
        let (full_name, version) = if self.win10 {
            ("Microsoft Windows 10 Enterprise LTSC 2021", "21H2")
        } else {
            ("Microsoft Windows 11 Enterprise", "23H2")
        };
        let software: Vec<Value> = SOFTWARE
            .iter()
            .map(|(name, version, publisher)| {
                json!({
                    "name": name, "version": version, "publisher": publisher,
                    "arch": "x86_64", "from": "registry", "install_date": "2025-03-18",
                })
            })
            .collect();
        json!({
            "action": "inventory",
            "deviceid": self.device_id(fy),
            "itemtype": "Computer",
            "content": {
                "hardware": {
                    "name": self.host, "uuid": self.uuid(), "workgroup": "JUKINET",
                    "chassis_type": "Desktop", "vmsystem": "Physical",
                },
                "bios": {
                    "ssn": self.serial, "smanufacturer": "HP", "smodel": "HP EliteDesk 800 G6 SFF",
                    "bmanufacturer": "HP", "bversion": "S21 Ver. 02.18.00",
                },
                "operatingsystem": {
                    "name": "Windows", "full_name": full_name, "version": version,
                    "kernel_name": "MSWin32", "kernel_version": self.build(), "arch": "64-bit",
                },
                "softwares": software,
                "antivirus": [{
                    "name": ANTIVIRUS, "company": "Trend Micro Inc.", "version": "14.0.12932",
                    "base_version": self.definitions, "enabled": true, "uptodate": true,
                }],
                "networks": [{
                    "description": "Intel(R) Ethernet Connection (11) I219-LM",
                    "ipaddress": self.ip, "macaddr": self.mac(), "status": "Up", "type": "ethernet",
                }],
                "accesslog": { "logdate": collected },
                "versionclient": format!("GLPI-Agent_v{AGENT_VERSION}"),
            },
            "tag": self.kind,
        })
    }
}

/// What happens at one moment of the story.
#[derive(Debug, Clone)]
enum Event {
    /// The agents of these hosts report (in this order, a minute apart), after the changes are applied.
    Report {
        hosts: Vec<&'static str>,
        definitions: Option<String>,
        build_month: Option<i64>,
    },
    /// A campaign is opened by `se` (`true`: `se`, `false`: `se2`).
    Open {
        key: String,
        by_se: bool,
        input: Box<CampaignInput>,
    },
    /// A campaign is closed.
    Close { key: String, by_se: bool },
    /// `se` sets the compliance view's OS-build baseline (one build per build line).
    Baseline { builds: String },
}

fn jst(day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    let t = NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default();
    let local = day.and_time(t);
    local
        .and_local_timezone(unyo_domain::time::jst())
        .single()
        .map_or_else(|| local.and_utc(), |at| at.with_timezone(&Utc))
}

/// The events of the fiscal year containing `today`, in time order (ties keep their order).
fn story(today: NaiveDate, ids: &HashMap<String, i64>) -> Vec<(DateTime<Utc>, Event)> {
    let fy = FiscalYear::containing(today);
    let current = (today.year(), today.month());
    let mut out: Vec<(DateTime<Utc>, Event)> = Vec::new();
    let hosts: Vec<&'static str> = TERMINALS.iter().map(|t| t.0).collect();
    let business = |win10: bool| -> Vec<&'static str> {
        TERMINALS
            .iter()
            .filter(|t| t.2 == "business" && t.4.starts_with("Windows 10") == win10)
            .map(|t| t.0)
            .collect()
    };
    let ids_of = |hs: &[&'static str]| -> Vec<i64> {
        hs.iter().filter_map(|h| ids.get(*h).copied()).collect()
    };
    let first = on_or_after(fy.start());
    out.push((
        jst(first, 8, 30),
        Event::Report {
            hosts: hosts.clone(),
            definitions: None,
            build_month: None,
        },
    ));
    for (i, (y, m)) in fy.months().enumerate() {
        if (y, m) > current {
            break;
        }
        let i = i as i64;
        // The month's definitions, on all terminals (the work log's ウイルス定義ファイルの更新).
        let av_filed = office_day_of_month(y, m, 2);
        let av_day = add_office_days(av_filed, 2);
        let definitions = definition_version(y, m);
        let av_key = format!("av-{y}-{m}");
        out.push((
            jst(av_filed, 10, 0),
            Event::Open {
                key: av_key.clone(),
                by_se: true,
                input: Box::new(CampaignInput {
                    title: format!("ウイルス定義ファイルの更新（{y}年{m}月）"),
                    goal_type: "antivirus".into(),
                    product_pattern: "Apex One".into(),
                    min_version: definitions.clone(),
                    description: format!(
                        "{m}月の定義ファイル（{definitions}）を全17台に適用する。代表端末は現地で更新し、業務端末は配信状況を管理コンソールで確認する。各端末のGLPI Agentのインベントリで確認する。"
                    ),
                    target: "all".into(),
                    ..Default::default()
                }),
            },
        ));
        // The 代表端末 is updated on site in the morning, also with last month's Windows update.
        out.push((
            jst(av_day, 11, 30),
            Event::Report {
                hosts: vec!["jk-kencho-rep01"],
                definitions: Some(definitions.clone()),
                build_month: Some(i - 1),
            },
        ));
        // Every terminal now has last month's cumulative update: it becomes the baseline of each OS line
        // (this month's is expected by its own campaigns while they are open).
        out.push((
            jst(av_day, 12, 0),
            Event::Baseline {
                builds: line_builds(i - 1),
            },
        ));
        let others: Vec<&'static str> = hosts
            .iter()
            .copied()
            .filter(|h| *h != "jk-kencho-rep01")
            .collect();
        out.push((
            jst(av_day, 17, 30),
            Event::Report {
                hosts: others,
                definitions: Some(definitions.clone()),
                build_month: None,
            },
        ));
        out.push((
            jst(add_office_days(av_day, 1), 9, 30),
            Event::Close {
                key: av_key,
                by_se: true,
            },
        ));

        // The Windows cumulative update (the work log's Windows月例更新), one campaign per OS family.
        let patch_tuesday = nth_weekday(y, m, Weekday::Tue, 2).unwrap_or(av_filed);
        let filed = on_or_after(add_office_days(patch_tuesday, 2));
        let kencho_day = add_office_days(filed, 2);
        let office_day = add_office_days(filed, 3);
        for win10 in [false, true] {
            let targets = business(win10);
            let build = format!("10.0.{}", os_build(targets[0], i));
            let (family, key) = if win10 {
                ("Windows 10 LTSC 2021", format!("w10-{y}-{m}"))
            } else {
                ("Windows 11", format!("w11-{y}-{m}"))
            };
            out.push((
                jst(filed, 10, 30),
                Event::Open {
                    key: key.clone(),
                    by_se: false,
                    input: Box::new(CampaignInput {
                        title: format!("{family} 累積更新プログラム（{y}年{m}月）"),
                        goal_type: "os_build".into(),
                        min_build: build.clone(),
                        description: format!(
                            "{y}年{m}月の月例セキュリティ更新プログラムを業務端末{}台にリモートで適用する（県庁は先行適用）。適用後のOSビルド {build} をGLPI Agentのインベントリで確認する。",
                            targets.len()
                        ),
                        target: "terminals".into(),
                        terminal_ids: ids_of(&targets),
                        ..Default::default()
                    }),
                },
            ));
            out.push((
                jst(add_office_days(office_day, 1), 10, 0),
                Event::Close { key, by_se: false },
            ));
        }
        let (kencho, offices): (Vec<&'static str>, Vec<&'static str>) = TERMINALS
            .iter()
            .filter(|t| t.2 == "business")
            .map(|t| t.0)
            .partition(|h| h.starts_with("jk-kencho-"));
        out.push((
            jst(kencho_day, 17, 40),
            Event::Report {
                hosts: kencho,
                definitions: None,
                build_month: Some(i),
            },
        ));
        out.push((
            jst(office_day, 17, 40),
            Event::Report {
                hosts: offices,
                definitions: None,
                build_month: Some(i),
            },
        ));
    }
    out.sort_by_key(|(t, _)| *t);
    out
}

/// Loads the year's inventories and campaigns (see the module documentation) on top of
/// [`crate::load_year`]'s data: events up to `now` only.
pub(crate) async fn load(
    store: &Store,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<RolloutSummary> {
    let fy = FiscalYear::containing(today);
    let user = |name: &'static str| async move {
        store
            .user_by_name(name)
            .await?
            .ok_or_else(|| StoreError::Internal(format!("demo account {name} is missing")))
    };
    let admin = user("admin").await?.actor("demo");
    let se = user("se").await?.actor("demo");
    let se2 = user("se2").await?.actor("demo");
    let all = ListQuery {
        per_page: Some(500),
        ..Default::default()
    };
    let ids: HashMap<String, i64> = store
        .terminals(&all)
        .await?
        .items
        .into_iter()
        .map(|t| (t.hostname, t.id))
        .collect();
    let mut machines: HashMap<&'static str, Machine> = TERMINALS
        .iter()
        .map(|t| {
            (
                t.0,
                Machine {
                    host: t.0,
                    kind: t.2,
                    ip: t.3,
                    serial: t.6,
                    win10: t.4.starts_with("Windows 10"),
                    build_month: -1,
                    definitions: march_definitions(fy),
                },
            )
        })
        .collect();
    let events = story(today, &ids);
    let mut summary = RolloutSummary::default();
    let Some(start) = events.first().map(|e| e.0).filter(|t| *t < now) else {
        return Ok(summary);
    };
    let at_start = store.as_of(start - chrono::Duration::days(7));
    let credential = at_start
        .create_agent_credential(&admin, "住基ネット端末（全拠点）GLPI Agent")
        .await?;
    let agent = AgentIdentity {
        id: credential.id,
        name: credential.name.clone(),
        username: credential.username.clone(),
    };
    let mut campaigns: HashMap<String, i64> = HashMap::new();
    for (at, event) in events {
        if at >= now {
            break;
        }
        match event {
            Event::Report {
                hosts,
                definitions,
                build_month,
            } => {
                for (k, host) in hosts.into_iter().enumerate() {
                    let Some(m) = machines.get_mut(host) else {
                        continue;
                    };
                    if let Some(d) = &definitions {
                        m.definitions.clone_from(d);
                    }
                    if let Some(b) = build_month {
                        m.build_month = b;
                    }
                    let t = at + chrono::Duration::minutes(i64::try_from(k).unwrap_or(0));
                    if t >= now {
                        continue;
                    }
                    report(store.as_of(t), &agent, m, fy, t).await?;
                    summary.inventories += 1;
                }
            }
            Event::Open { key, by_se, input } => {
                let actor = if by_se { &se } else { &se2 };
                let c = store.as_of(at).create_campaign(actor, &input).await?;
                campaigns.insert(key, c.id);
                summary.campaigns += 1;
            }
            Event::Close { key, by_se } => {
                let actor = if by_se { &se } else { &se2 };
                if let Some(id) = campaigns.get(&key) {
                    store.as_of(at).close_campaign(actor, *id).await?;
                    summary.closed += 1;
                }
            }
            Event::Baseline { builds } => {
                store
                    .as_of(at)
                    .set_compliance_baseline(&se, &builds)
                    .await?;
            }
        }
    }
    Ok(summary)
}

/// The build of each OS line (Windows 11, Windows 10 LTSC) after fiscal month `i`'s cumulative update
/// (`-1`: the build the year started with), as the compliance baseline writes it.
fn line_builds(i: i64) -> String {
    let mut lines: Vec<String> = Vec::new();
    for t in TERMINALS {
        let build = format!("10.0.{}", os_build(t.0, i));
        if !lines.contains(&build) {
            lines.push(build);
        }
    }
    lines.join(", ")
}

/// The definitions every terminal had when the year started: March's.
fn march_definitions(fy: FiscalYear) -> String {
    definition_version(fy.0, 3)
}

/// One agent's inventory, received at `at` through the same store call as the agent endpoint's, and the
/// open campaigns it proves refreshed as the endpoint does.
async fn report(
    store: Store,
    agent: &AgentIdentity,
    m: &Machine,
    fy: FiscalYear,
    at: DateTime<Utc>,
) -> Result<()> {
    let collected = unyo_domain::time::to_jst(at)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let body = serde_json::to_vec(&m.inventory(fy, &collected))
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    let snapshot = unyo_inventory::parse_glpi_json(&body)
        .map_err(|e| StoreError::Internal(format!("demo inventory of {}: {e}", m.host)))?;
    let sha = format!("{:x}", Sha256::digest(&body));
    let size = i64::try_from(body.len()).unwrap_or(i64::MAX);
    let source = m.ip.to_string();
    let device_id = m.device_id(fy);
    store
        .record_agent_contact(
            agent,
            &AgentContact {
                device_id: &device_id,
                kind: "glpi",
                version: Some(AGENT_VERSION),
                glpi_agent_id: None,
                protocol: PROTOCOL_GLPI_JSON,
                message: "inventory",
            },
            &source,
        )
        .await?;
    let outcome = store
        .store_inventory(
            &Submitter::Agent {
                credential: agent.clone(),
                source,
            },
            &snapshot,
            &sha,
            size,
            InventorySource::Agent,
        )
        .await?;
    if let Some(terminal_id) = outcome.terminal_id {
        store
            .refresh_campaigns_for_terminal(&unyo_store::campaigns::inventory_actor(), terminal_id)
            .await?;
    }
    Ok(())
}
