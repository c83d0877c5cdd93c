//! The demo data set: the fleet named in clause 1(3) of the specification (R1) — 15 sites and 17
//! terminals, three of them at the prefectural office, one the representative terminal — the
//! 集約ネットワーク they connect through, one account per role (and a second SE), and the current
//! fiscal year so far ([`load_year`]): the SE contract, support requests with their timelines, the
//! work log of both SEs and consultations — and the year's incidents with a small known-error library
//! ([`load_incidents`]).
//!
//! Names, numbers and addresses are plausible, not real: hostnames follow a made-up plan, the contractor and
//! the contract number are fictional. Every address is on the loopback range (127.41.x.y, the plan's shape),
//! so the demo's connectivity checks ([`load_connectivity`]) get real answers on any machine and never send
//! a packet beyond it. The 鳥栖 branch's line is down: its two addresses are [`SILENT_ADDRESSES`], which the
//! demo's probes treat as silent (see `unyo_probe::Blackhole`).
//!
//! [`load`] is what `unyo demo` runs: the fleet, then the fiscal year up to today's date in JST. The
//! year depends only on that date — the same day gives the same data.

mod calendar;
mod connectivity;
mod incidents;
mod records;
mod registers;
mod rollouts;
#[cfg(test)]
mod rollouts_tests;
mod vulns;
mod year;
#[cfg(test)]
mod year_tests;

use chrono::NaiveDate;
use unyo_domain::Role;
use unyo_domain::registry::{NodeInput, SiteInput, TerminalInput};
use unyo_store::{Actor, Result, Store};

pub use connectivity::ConnectivitySummary;
pub use incidents::{AUGUST_REQUEST_TITLE, IncidentSummary};
pub use records::{NoRecords, ROUTE, RecordDesk, RecordSummary};
pub use registers::{RegistersSummary, SUBCONTRACTOR};
pub use rollouts::RolloutSummary;
pub use vulns::VulnSummary;
pub use year::{CONTRACT_NAME, CONTRACTOR, MANAGER, YearSummary};

/// The 鳥栖 branch's loopback addresses (RT-鳥栖 and the terminal behind it): `unyo demo` runs its probes
/// through a blackhole over these, so the line is down without the demo sending anything off the machine.
pub const SILENT_ADDRESSES: &[&str] = &["127.41.50.1", "127.41.51.21"];

/// [`SILENT_ADDRESSES`] as addresses.
pub fn silent_addresses() -> Vec<std::net::IpAddr> {
    SILENT_ADDRESSES
        .iter()
        .filter_map(|a| a.parse().ok())
        .collect()
}

/// The `meta` key that marks a database as holding demo data only.
pub const DEMO_MARK: &str = "demo";

/// A demo account: login name, display name, role, password.
pub struct DemoAccount {
    /// Login name.
    pub username: &'static str,
    /// Display name.
    pub display_name: &'static str,
    /// Role.
    pub role: Role,
    /// Password (demo only; printed at start).
    pub password: &'static str,
}

/// One account per role, a second SE, and a second prefecture staff member (係長, the middle step of the
/// 業務実績簿's route).
pub const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        username: "admin",
        display_name: "佐賀 県子",
        role: Role::Admin,
        password: "admin-demo-2026",
    },
    DemoAccount {
        username: "staff",
        display_name: "市民 課男",
        role: Role::Staff,
        password: "staff-demo-2026",
    },
    DemoAccount {
        username: "chief",
        display_name: "住基 守",
        role: Role::Staff,
        password: "chief-demo-2026",
    },
    DemoAccount {
        username: "se",
        display_name: "保守 技郎",
        role: Role::Se,
        password: "se-demo-2026",
    },
    DemoAccount {
        username: "se2",
        display_name: "運用 花子",
        role: Role::Se,
        password: "se2-demo-2026",
    },
    DemoAccount {
        username: "auditor",
        display_name: "監査 正子",
        role: Role::Auditor,
        password: "auditor-demo-2026",
    },
];

/// (name, kind, site code where installed, address, upstream name)
const NODES: &[(&str, &str, &str, &str, &str)] = &[
    ("都道府県サーバ", "server", "KENCHO", "127.41.0.10", ""),
    (
        "FW-住基ネット",
        "firewall",
        "KENCHO",
        "127.41.0.1",
        "都道府県サーバ",
    ),
    (
        "RT-県庁コア",
        "router",
        "KENCHO",
        "127.41.0.254",
        "FW-住基ネット",
    ),
    (
        "RT-佐賀中部",
        "router",
        "KENCHO",
        "127.41.10.1",
        "RT-県庁コア",
    ),
    (
        "RT-唐津",
        "router",
        "ZEI-KARATSU",
        "127.41.20.1",
        "RT-県庁コア",
    ),
    (
        "RT-伊万里",
        "router",
        "DOBOKU-IMARI",
        "127.41.30.1",
        "RT-県庁コア",
    ),
    (
        "RT-武雄・杵藤",
        "router",
        "ZEI-TAKEO",
        "127.41.40.1",
        "RT-県庁コア",
    ),
    (
        "RT-鳥栖",
        "router",
        "HOFUKU-TOSU",
        "127.41.50.1",
        "RT-県庁コア",
    ),
];

/// (code, name, kind, address, uplink node)
const SITES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "KENCHO",
        "県庁",
        "honcho",
        "佐賀県佐賀市城内一丁目1番59号",
        "RT-県庁コア",
    ),
    (
        "ZEI-SAGA",
        "佐賀県税事務所",
        "kenzei",
        "佐賀県佐賀市",
        "RT-佐賀中部",
    ),
    (
        "ZEI-TAKEO",
        "武雄県税事務所",
        "kenzei",
        "佐賀県武雄市",
        "RT-武雄・杵藤",
    ),
    (
        "ZEI-KARATSU",
        "唐津県税事務所",
        "kenzei",
        "佐賀県唐津市",
        "RT-唐津",
    ),
    (
        "DOBOKU-SAGA",
        "佐賀土木事務所",
        "doboku",
        "佐賀県佐賀市",
        "RT-佐賀中部",
    ),
    (
        "DOBOKU-KARATSU",
        "唐津土木事務所",
        "doboku",
        "佐賀県唐津市",
        "RT-唐津",
    ),
    (
        "DOBOKU-IMARI",
        "伊万里土木事務所",
        "doboku",
        "佐賀県伊万里市",
        "RT-伊万里",
    ),
    (
        "DOBOKU-KITO",
        "杵藤土木事務所",
        "doboku",
        "佐賀県武雄市",
        "RT-武雄・杵藤",
    ),
    (
        "ARIAKE",
        "有明海沿岸道路整備事務所",
        "other",
        "佐賀県佐賀市",
        "RT-佐賀中部",
    ),
    (
        "FUKUSHI-C",
        "総合福祉センター",
        "other",
        "佐賀県佐賀市",
        "RT-佐賀中部",
    ),
    (
        "HOFUKU-CHUBU",
        "佐賀中部保健福祉事務所",
        "hofuku",
        "佐賀県佐賀市",
        "RT-佐賀中部",
    ),
    (
        "HOFUKU-KARATSU",
        "唐津保健福祉事務所",
        "hofuku",
        "佐賀県唐津市",
        "RT-唐津",
    ),
    (
        "HOFUKU-TOSU",
        "鳥栖保健福祉事務所",
        "hofuku",
        "佐賀県鳥栖市",
        "RT-鳥栖",
    ),
    (
        "HOFUKU-IMARI",
        "伊万里保健福祉事務所",
        "hofuku",
        "佐賀県伊万里市",
        "RT-伊万里",
    ),
    (
        "HOFUKU-KITO",
        "杵藤保健福祉事務所",
        "hofuku",
        "佐賀県武雄市",
        "RT-武雄・杵藤",
    ),
];

/// (hostname, site code, kind, ip, os, os version, serial, asset)
type TerminalRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const TERMINALS: &[TerminalRow] = &[
    (
        "jk-kencho-rep01",
        "KENCHO",
        "representative",
        "127.41.1.11",
        "Windows 11 Enterprise",
        "23H2 (22631.4460)",
        "5CD3281K7Q",
        "R8-JK-001",
    ),
    (
        "jk-kencho-biz01",
        "KENCHO",
        "business",
        "127.41.1.21",
        "Windows 11 Enterprise",
        "23H2 (22631.4460)",
        "5CD3281K8B",
        "R8-JK-002",
    ),
    (
        "jk-kencho-biz02",
        "KENCHO",
        "business",
        "127.41.1.22",
        "Windows 11 Enterprise",
        "23H2 (22631.4317)",
        "5CD3281K9M",
        "R8-JK-003",
    ),
    (
        "jk-zei-saga01",
        "ZEI-SAGA",
        "business",
        "127.41.11.21",
        "Windows 11 Enterprise",
        "23H2 (22631.4460)",
        "5CD3302A1C",
        "R8-JK-004",
    ),
    (
        "jk-zei-takeo01",
        "ZEI-TAKEO",
        "business",
        "127.41.41.21",
        "Windows 11 Enterprise",
        "23H2 (22631.4317)",
        "5CD3302A2D",
        "R8-JK-005",
    ),
    (
        "jk-zei-karatsu01",
        "ZEI-KARATSU",
        "business",
        "127.41.21.21",
        "Windows 11 Enterprise",
        "23H2 (22631.4460)",
        "5CD3302A3E",
        "R8-JK-006",
    ),
    (
        "jk-dbk-saga01",
        "DOBOKU-SAGA",
        "business",
        "127.41.12.21",
        "Windows 11 Enterprise",
        "22H2 (22621.4317)",
        "5CD3302A4F",
        "R8-JK-007",
    ),
    (
        "jk-dbk-karatsu01",
        "DOBOKU-KARATSU",
        "business",
        "127.41.22.21",
        "Windows 11 Enterprise",
        "23H2 (22631.4460)",
        "5CD3302A5G",
        "R8-JK-008",
    ),
    (
        "jk-dbk-imari01",
        "DOBOKU-IMARI",
        "business",
        "127.41.31.21",
        "Windows 11 Enterprise",
        "23H2 (22631.4460)",
        "5CD3302A6H",
        "R8-JK-009",
    ),
    (
        "jk-dbk-kito01",
        "DOBOKU-KITO",
        "business",
        "127.41.42.21",
        "Windows 10 Enterprise LTSC 2021",
        "21H2 (19044.5131)",
        "5CD2150B1J",
        "R8-JK-010",
    ),
    (
        "jk-ariake01",
        "ARIAKE",
        "business",
        "127.41.13.21",
        "Windows 11 Enterprise",
        "23H2 (22631.4460)",
        "5CD3302A7K",
        "R8-JK-011",
    ),
    (
        "jk-fukushi01",
        "FUKUSHI-C",
        "business",
        "127.41.14.21",
        "Windows 11 Enterprise",
        "23H2 (22631.4460)",
        "5CD3302A8L",
        "R8-JK-012",
    ),
    (
        "jk-hfk-chubu01",
        "HOFUKU-CHUBU",
        "business",
        "127.41.15.21",
        "Windows 11 Enterprise",
        "23H2 (22631.4460)",
        "5CD3302A9M",
        "R8-JK-013",
    ),
    (
        "jk-hfk-karatsu01",
        "HOFUKU-KARATSU",
        "business",
        "127.41.23.21",
        "Windows 11 Enterprise",
        "23H2 (22631.4317)",
        "5CD3302B0N",
        "R8-JK-014",
    ),
    (
        "jk-hfk-tosu01",
        "HOFUKU-TOSU",
        "business",
        "127.41.51.21",
        "Windows 11 Enterprise",
        "23H2 (22631.4460)",
        "5CD3302B1P",
        "R8-JK-015",
    ),
    (
        "jk-hfk-imari01",
        "HOFUKU-IMARI",
        "business",
        "127.41.32.21",
        "Windows 11 Enterprise",
        "23H2 (22631.4460)",
        "5CD3302B2Q",
        "R8-JK-016",
    ),
    (
        "jk-hfk-kito01",
        "HOFUKU-KITO",
        "business",
        "127.41.43.21",
        "Windows 10 Enterprise LTSC 2021",
        "21H2 (19044.5131)",
        "5CD2150B3R",
        "R8-JK-017",
    ),
];

/// Loads the demo data set into an empty store and marks it as demo data: the fleet and accounts
/// ([`load_fleet`]) and the fiscal year up to today in JST ([`load_year`] with
/// [`unyo_store::support::jst_today`]): incidents, connectivity checks, inventories and rollouts, and the
/// monthly records submitted and confirmed through `desk` ([`load_records`]). Every record goes through the
/// same validated, audited store calls as a person's edits, so the demo's audit chain is real.
pub async fn load(store: &Store, desk: &impl RecordDesk) -> Result<()> {
    load_fleet(store).await?;
    let today = unyo_store::support::jst_today();
    let year = load_year(store, today).await?;
    load_incidents(store, today).await?;
    let now = chrono::Utc::now();
    load_connectivity(store, today, now).await?;
    load_rollouts(store, today, now).await?;
    load_vulnerabilities(store).await?;
    load_records(store, today, year.contract_id, desk).await?;
    store.set_meta(DEMO_MARK, "true").await?;
    Ok(())
}

/// Loads the support work of the fiscal year containing `today` (April 1 of that year up to `today`) on
/// top of [`load_fleet`]'s data: the year's contract 「住民基本台帳ネットワークシステム運用支援SE業務委託」
/// (term = the fiscal year, staffed by `se` and `se2`), support requests from April to `today` with their
/// timelines, the work entries before `today` by both SEs, and consultations.
///
/// The data depends only on `today` (no randomness): any day works, and the same day gives the same
/// data. Work is placed on office days (no weekends, holidays or 12/29–1/3) between 09:00–12:00 and
/// 13:00–17:15, never overlapping for a worker, inside the contract term and never on or after `today`.
/// Past months are complete and mostly 確認済; around `today` every status appears — 要請, 受付 (one of
/// them overdue), 対応中, 完了, 差戻し — and a 取下げ from September. On the first days of a fiscal year
/// there is naturally less to show.
pub async fn load_year(store: &Store, today: NaiveDate) -> Result<YearSummary> {
    year::load(store, today).await
}

/// Loads the incidents (障害対応) of the fiscal year containing `today` on top of [`load_year`]'s data,
/// all on days before `today`: one closed with a witness for each of June and August (August's is the
/// year's emergency request at 伊万里保健福祉事務所, linked to its work entries), and, in the last office
/// days, one at 復旧作業, one at 復旧確認 awaiting the witness, an automatic one from the connectivity
/// checks in 原因調査 and one just reported; plus a known-error library of three (one registered from the
/// June incident). The same day gives the same data.
pub async fn load_incidents(store: &Store, today: NaiveDate) -> Result<IncidentSummary> {
    incidents::load(store, today).await
}

/// Loads the connectivity checks (疎通確認) on top of [`load_fleet`]'s registry: an ICMP check on every
/// node and terminal and one TCP check, two maintenance windows (one in force today), the results since
/// the start of the fiscal year up to `now` and the state changes, so the status board shows a believable
/// mixture at once — mostly 正常, RT-鳥栖 停止 with its site 影響 (the automatic incident of
/// [`load_incidents`]), one 停止 service port, one site 保守中 — and availability per month. On a machine
/// where the engine cannot send ICMP (no raw socket, not in `ping_group_range`) the ICMP checks turn 不明
/// once it runs.
pub async fn load_connectivity(
    store: &Store,
    today: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ConnectivitySummary> {
    connectivity::load(store, today, now).await
}

/// Loads the inventories and rollout campaigns of the fiscal year containing `today` up to `now` on top
/// of [`load_year`]'s data: every terminal reports through a GLPI Agent from the
/// first office day, and each month's antivirus definitions and Windows cumulative update are
/// campaigns proven by the inventories the agents send on the days the work log records that work.
pub async fn load_rollouts(
    store: &Store,
    today: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<RolloutSummary> {
    rollouts::load(store, today, now).await
}

/// Submits the 業務実績簿 of every month of the fiscal year containing `today` before `today`'s month and
/// confirms it along the contract's route 担当 (`staff`) → 係長 (`chief`) → 課長 (`admin`), which it sets:
/// submitted by `se` on the third office day of the next month, each step an office day later, only
/// on days before `today` — so earlier months are 確認済, last month is part-way, this month a draft.
/// `desk` renders and freezes each version (the documents crate does, through the binary).
pub async fn load_records(
    store: &Store,
    today: NaiveDate,
    contract_id: i64,
    desk: &impl RecordDesk,
) -> Result<RecordSummary> {
    records::load(store, today, contract_id, desk).await
}

/// Loads the vulnerability monitoring on top of [`load_rollouts`]' inventories: the sample feeds (NVD,
/// OSV for crates.io) imported as the SE would from removable media, the SE's confirmed CPE mappings of
/// the standard image's 7-Zip, Acrobat Reader and Java, and the matching over every terminal and unyo's
/// own SBOM.
pub async fn load_vulnerabilities(store: &Store) -> Result<VulnSummary> {
    vulns::load(store).await
}

/// Loads the accounts, the 集約ネットワーク, the sites and the terminals (no mark, no fiscal year).
pub async fn load_fleet(store: &Store) -> Result<()> {
    let sys = Actor::system("demo");
    for a in ACCOUNTS {
        store
            .create_user(&sys, a.username, a.display_name, a.role, a.password)
            .await?;
    }
    // Nodes are created top-down, each after its upstream; sites need nodes, and nodes' sites are
    // attached once the sites exist.
    let mut node_ids = std::collections::HashMap::new();
    for (name, kind, _site, ip, upstream) in NODES {
        let node = store
            .create_node(
                &sys,
                &NodeInput {
                    name: (*name).into(),
                    kind: (*kind).into(),
                    ip_address: (*ip).into(),
                    upstream_id: node_ids.get(upstream).copied(),
                    ..Default::default()
                },
            )
            .await?;
        node_ids.insert(*name, node.id);
    }
    let mut site_ids = std::collections::HashMap::new();
    for (code, name, kind, address, uplink) in SITES {
        let site = store
            .create_site(
                &sys,
                &SiteInput {
                    code: (*code).into(),
                    name: (*name).into(),
                    kind: (*kind).into(),
                    address: (*address).into(),
                    uplink_node_id: node_ids.get(uplink).copied(),
                    ..Default::default()
                },
            )
            .await?;
        site_ids.insert(*code, site.id);
    }
    for (name, kind, site, ip, upstream) in NODES {
        store
            .update_node(
                &sys,
                node_ids[name],
                &NodeInput {
                    name: (*name).into(),
                    kind: (*kind).into(),
                    site_id: site_ids.get(site).copied(),
                    ip_address: (*ip).into(),
                    upstream_id: node_ids.get(upstream).copied(),
                    ..Default::default()
                },
            )
            .await?;
    }
    for (host, site, kind, ip, os, ver, serial, asset) in TERMINALS {
        store
            .create_terminal(
                &sys,
                &TerminalInput {
                    site_id: site_ids.get(site).copied(),
                    hostname: (*host).into(),
                    kind: (*kind).into(),
                    ip_address: (*ip).into(),
                    os_name: (*os).into(),
                    os_version: (*ver).into(),
                    serial_number: (*serial).into(),
                    asset_number: (*asset).into(),
                    note: if *kind == "representative" {
                        "代表端末（県庁 情報政策課 執務室）".into()
                    } else {
                        String::new()
                    },
                },
            )
            .await?;
    }
    Ok(())
}

/// Whether the store holds the demo data set (and nothing else was marked).
pub async fn is_demo(store: &Store) -> Result<bool> {
    Ok(store.meta(DEMO_MARK).await?.as_deref() == Some("true"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;
    use unyo_domain::connectivity::ChannelConfig;
    use unyo_store::registry::{ListQuery, Status};

    /// Whether `host` (an address, or `host:port`, or a name) can only mean this machine.
    fn on_this_machine(host: &str) -> bool {
        let host = host.trim();
        if host.eq_ignore_ascii_case("localhost") {
            return true;
        }
        let bare = host
            .parse::<std::net::SocketAddr>()
            .map(|a| a.ip())
            .or_else(|_| host.trim_matches(['[', ']']).parse::<IpAddr>());
        bare.is_ok_and(|ip| ip.is_loopback())
    }

    /// The demo is run on machines of the prefecture's own network: every address it holds, every check
    /// target and every notification destination is on this machine, and the line it shows down is down
    /// through the blackhole, not through an address that someone else might answer.
    #[tokio::test]
    async fn the_demo_reaches_nothing_beyond_the_machine() {
        let db = unyo_store::testing::test_store().await.expect("store");
        load(&db.store, &NoRecords).await.expect("load");
        let s = &db.store;
        let q = ListQuery {
            per_page: Some(500),
            status: Some(Status::All),
            ..Default::default()
        };
        let mut addresses: Vec<String> = s
            .terminals(&q)
            .await
            .expect("terminals")
            .items
            .into_iter()
            .filter_map(|t| t.ip_address)
            .collect();
        addresses.extend(
            s.all_nodes()
                .await
                .expect("nodes")
                .into_iter()
                .filter_map(|n| n.ip_address),
        );
        assert_eq!(addresses.len(), 17 + 8, "every terminal and node has one");
        for a in &addresses {
            assert!(on_this_machine(a), "registry address {a} is not loopback");
        }
        let checks = s.checks().await.expect("checks");
        assert!(!checks.is_empty());
        for c in &checks {
            let spec = c.probe_spec().expect("spec");
            assert!(
                spec.addr().is_loopback(),
                "check {} targets {}",
                c.name,
                spec.describe()
            );
        }
        for ch in s
            .notification_channel_records(Status::All)
            .await
            .expect("channels")
        {
            let ok = match &ch.config {
                ChannelConfig::Email { host, .. } => on_this_machine(host),
                ChannelConfig::Syslog { addr } => on_this_machine(addr),
                ChannelConfig::Webhook { url, .. } => url
                    .split_once("://")
                    .and_then(|(_, rest)| rest.split('/').next())
                    .is_some_and(|authority| {
                        on_this_machine(authority)
                            || on_this_machine(
                                authority.rsplit_once(':').map_or(authority, |h| h.0),
                            )
                    }),
            };
            assert!(ok, "channel {} delivers beyond the machine", ch.name);
        }
        // The cut line: both of its addresses are loopback and in the registry, behind RT-鳥栖.
        let silent = silent_addresses();
        assert_eq!(silent.len(), SILENT_ADDRESSES.len());
        for ip in &silent {
            assert!(ip.is_loopback());
            assert!(addresses.contains(&ip.to_string()), "{ip} is a demo target");
        }
    }

    #[tokio::test]
    async fn demo_fleet_matches_the_specification() {
        let db = unyo_store::testing::test_store().await.expect("store");
        load(&db.store, &NoRecords).await.expect("load");
        let q = ListQuery {
            per_page: Some(500),
            ..Default::default()
        };
        let sites = db.store.sites(&q).await.expect("sites");
        let terminals = db.store.terminals(&q).await.expect("terminals");
        assert_eq!(sites.total, 15);
        assert_eq!(terminals.total, 17);
        let kencho: Vec<_> = terminals
            .items
            .iter()
            .filter(|t| t.site_code == "KENCHO")
            .collect();
        assert_eq!(kencho.len(), 3);
        assert_eq!(
            terminals
                .items
                .iter()
                .filter(|t| t.kind == "representative")
                .count(),
            1
        );
        assert!(kencho.iter().any(|t| t.kind == "representative"));
        // Every other site has exactly one terminal.
        for s in sites.items.iter().filter(|s| s.code != "KENCHO") {
            assert_eq!(s.terminal_count, 1, "{}", s.name);
            assert!(s.uplink_node_id.is_some(), "{} connects somewhere", s.name);
        }
        assert_eq!(db.store.users().await.expect("users").len(), ACCOUNTS.len());
        // The incidents of the year so far and the known-error library.
        let known = db
            .store
            .known_errors(&unyo_store::incidents::KnownErrorQuery::default())
            .await
            .expect("known errors");
        assert_eq!(known.total, 3);
        let now = chrono::Utc::now();
        let incidents = db
            .store
            .incidents(&unyo_store::incidents::IncidentQuery::default(), now)
            .await
            .expect("incidents");
        for i in &incidents.items {
            let times = i.times().expect("times");
            assert!(
                times.occurred_at < now && times.noticed_at < now,
                "{}",
                i.number
            );
        }
        assert!(is_demo(&db.store).await.expect("meta"));
        assert!(matches!(
            db.store.verify_audit_chain().await.expect("verify"),
            unyo_store::audit::ChainReport::Intact { .. }
        ));
    }
}
